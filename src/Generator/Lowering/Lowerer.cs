using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Pipeline;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Lowers a [Differentiable] method (syntax + semantic model) into the IR. Every local is hoisted to
    /// a uniquely named method-level variable; user calls inside expressions become separate Call
    /// statements writing temporaries. Anything unsupported becomes a DG diagnostic on its syntax.
    /// </summary>
    internal sealed partial class Lowerer
    {
        public const string DifferentiableAttributeName = "DiffGen.DifferentiableAttribute";
        public const string NoDiffAttributeName = "DiffGen.NoDiffAttribute";
        public const string DerivativeOfAttributeName = "DiffGen.DerivativeOfAttribute";

        private static bool TryMathFunction(string name, out MathFn fn) =>
            Enum.TryParse(name, ignoreCase: false, out fn) && Enum.IsDefined(typeof(MathFn), fn) && !int.TryParse(name, out _);

        private readonly SemanticModel _model;
        private readonly IMethodSymbol _method;
        private readonly CancellationToken _ct;
        private readonly List<Var> _vars = new List<Var>();
        private readonly Dictionary<ISymbol, int> _symbolVars = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        private readonly HashSet<string> _names = new HashSet<string>(StringComparer.Ordinal);
        private readonly List<DiagnosticInfo> _diagnostics = new List<DiagnosticInfo>();
        private readonly List<Callee> _callees = new List<Callee>();
        private readonly List<PendingCallee> _pending = new List<PendingCallee>();
        private readonly List<PendingAlias> _aliasedCalls = new List<PendingAlias>();
        private readonly Dictionary<IMethodSymbol, Callee> _calleeCache = new Dictionary<IMethodSymbol, Callee>(SymbolEqualityComparer.Default);
        private readonly Dictionary<string, int> _calleeIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        private int _nextId;
        private readonly HashSet<SyntaxNode> _sectionBreaks = new HashSet<SyntaxNode>();
        private readonly Dictionary<int, string> _sourceText = new Dictionary<int, string>();

        private Lowerer(SemanticModel model, IMethodSymbol method, CancellationToken ct)
        {
            _model = model;
            _method = method;
            _ct = ct;
        }

        /// <summary>
        /// Lowers one method: its location-free model, its summary for the capability table, and its
        /// diagnostics with their locations. <paramref name="attribute"/> is its [Differentiable] attribute
        /// (its Modes, if given, are the modes asked for). Never throws: an unexpected failure becomes a diagnostic.
        /// </summary>
        public static LoweredMethod Lower(BaseMethodDeclarationSyntax syntax, IMethodSymbol method, SemanticModel model, AttributeData? attribute, CancellationToken ct)
        {
            // Lowering reads no flow nullability. A model with nullable analysis on runs it over the whole
            // body the first time a local's symbol is asked for: half of lowering's time, on every edit
            // (the driver re-runs every transform on each new compilation).
            var lowerer = new Lowerer(WithoutNullableAnalysis(model, syntax.SyntaxTree), method, ct);
            var requested = lowerer.RequestedModes(attribute, syntax);
            Block body;
            try
            {
                body = lowerer.LowerMethod(syntax);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception ex)
            {
                lowerer.ReportInternalError(syntax, ex);
                body = new Block(0, EquatableArray<Stmt>.Empty);
            }
            var built = lowerer.BuildModel(syntax, body);
            MethodSummary summary;
            try
            {
                summary = MethodSummary.Of(built, requested);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                lowerer.ReportInternalError(syntax, ex);
                built = built with { HasErrors = true };
                summary = new MethodSummary(built.Signature, built.Name, true, false, false, false, false, false,
                    EquatableArray<CalleeRef>.Empty, EquatableArray<SpanUse>.Empty, requested);
            }
            var attributeLocation = attribute?.ApplicationSyntaxReference?.GetSyntax(ct).GetLocation() ?? NameLocation(syntax);
            var diagnostics = new MethodDiagnostics(built.HintName, built.Signature, built.Name, lowerer._diagnostics.ToEquatableArray(),
                lowerer._pending.ToEquatableArray(), Locations.From(attributeLocation), Locations.From(NameLocation(syntax)), lowerer._aliasedCalls.ToEquatableArray());
            ShadowModel? shadow = null;
            try { shadow = built.HasErrors ? null : lowerer.BuildShadow(built.Namespace, built.ContainingTypes); }
            catch (Exception ex) when (!(ex is OperationCanceledException)) { shadow = null; }
            return new LoweredMethod(built, summary, diagnostics, shadow);
        }

        /// <summary>A model of the tree that skips nullable analysis, or the given one where the host compiler lacks the (experimental) option.</summary>
        private static SemanticModel WithoutNullableAnalysis(SemanticModel model, SyntaxTree tree)
        {
            try
            {
                return CreateWithoutNullableAnalysis(model.Compilation, tree);
            }
            catch (MissingMethodException)
            {
                return model;
            }
            catch (TypeLoadException)
            {
                return model;
            }
        }

        // Its own method, not inlined: a host compiler without the API fails when this is compiled, inside the try above.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static SemanticModel CreateWithoutNullableAnalysis(Compilation compilation, SyntaxTree tree)
        {
#pragma warning disable RSEXPERIMENTAL001 // Roslyn's own classification uses it (dotnet/roslyn#70609); guarded above
            return compilation.GetSemanticModel(tree, SemanticModelOptions.DisableNullableAnalysis);
#pragma warning restore RSEXPERIMENTAL001
        }

        private void ReportInternalError(BaseMethodDeclarationSyntax syntax, Exception ex) =>
            Report(Descriptors.UnsupportedStatement, NameLocation(syntax), "internal error",
                "the generator failed on this method (" + ex.GetType().Name + ": " + ex.Message + "); please report it with the method's source");

        /// <summary>The attribute's Modes (null when it names none: the project's default applies); DG0007 for a value with unknown bits.</summary>
        private DerivativeModes? RequestedModes(AttributeData? attribute, BaseMethodDeclarationSyntax syntax)
        {
            if (attribute == null) return null;
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key != "Modes" || !(named.Value.Value is int value)) continue;
                if ((value & ~(int)DerivativeModes.All) != 0)
                {
                    var where = attribute.ApplicationSyntaxReference?.GetSyntax(_ct).GetLocation() ?? NameLocation(syntax);
                    Report(Descriptors.UnknownMode, where, value.ToString(CultureInfo.InvariantCulture), " in [Differentiable(Modes = ...)]");
                }
                return (DerivativeModes)value & DerivativeModes.All;
            }
            return null;
        }

        // ------------------------------------------------------------------ method level

        /// <summary>Where diagnostics about the whole method go: its name (an operator's token).</summary>
        private static Location NameLocation(BaseMethodDeclarationSyntax syntax) =>
            syntax is MethodDeclarationSyntax m ? m.Identifier.GetLocation() : syntax is OperatorDeclarationSyntax o ? o.OperatorToken.GetLocation() : syntax.GetLocation();

        private Block LowerMethod(BaseMethodDeclarationSyntax syntax)
        {
            var name = _method.Name;
            if (!_method.IsStatic)
            {
                var owner = _method.ContainingType;
                string? where = owner == null ? "no type" : owner.IsStatic ? "a static class" : owner.TypeKind == TypeKind.Interface ? "an interface"
                    : owner.IsRefLikeType ? "a ref struct" : null;
                if (where != null) Report(Descriptors.NotStatic, NameLocation(syntax), name, where);
                else AddThis(_method);
            }
            if (_method.IsGenericMethod)
                Report(Descriptors.GenericMethod, (syntax as MethodDeclarationSyntax)?.TypeParameterList?.GetLocation() ?? NameLocation(syntax), name);
            for (var type = syntax.Parent as TypeDeclarationSyntax; type != null; type = type.Parent as TypeDeclarationSyntax)
            {
                if (!type.Modifiers.Any(SyntaxKind.PartialKeyword))
                    Report(Descriptors.NotPartial, type.Identifier.GetLocation(), type.Identifier.ValueText, name + "Pullback");
            }

            // Parameters first: their ids are 0..n-1, in order.
            bool anyActive = false;
            foreach (var p in _method.Parameters)
            {
                var pSyntax = p.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_ct) as ParameterSyntax;
                var loc = pSyntax?.GetLocation() ?? NameLocation(syntax);
                bool noDiff = p.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == NoDiffAttributeName);
                string? modifier = p.RefKind == RefKind.Ref ? "ref" : p.RefKind == RefKind.Out ? "out" : p.RefKind == RefKind.In ? "in" : null;
                if (p.RefKind != RefKind.None)
                {
                    // ref/out numbers and structs: in-out values with shadow-semantics adjoints; in: by value.
                    if (!noDiff && IsDifferentiableStruct(p.Type))
                    {
                        AddStructContainer(p.Name, p.Type, VarRole.Param, p.Ordinal, false, p, modifier);
                        anyActive = true;
                        continue;
                    }
                    if (TryMapScalar(p.Type, out var rty) && !p.IsParams)
                    {
                        bool rreal = rty == Ty.Double || rty == Ty.Float;
                        anyActive |= rreal && !noDiff;
                        int id = AddVar(p.Name, rty, Storage.Scalar, VarRole.Param, p.Ordinal, noDiff || !rreal, p);
                        _vars[id] = _vars[id] with { Modifier = modifier };
                        continue;
                    }
                    if (p.RefKind == RefKind.In && (noDiff || IsInactiveType(p.Type)))
                    {
                        int id = AddVar(p.Name, Ty.Other, Storage.Scalar, VarRole.Param, p.Ordinal, true, p, OtherTypeName(p.Type));
                        _vars[id] = _vars[id] with { Modifier = modifier };
                        continue;
                    }
                    Report(Descriptors.UnsupportedParameter, loc, p.Name, TypeText(p.Type),
                        " (ref and out are supported for numbers and structs; pass arrays and spans by value — their contents are already in-out)");
                    AddReportedParameter(p);
                    continue;
                }
                if (p.IsParams)
                {
                    Report(Descriptors.UnsupportedParameter, loc, p.Name, TypeText(p.Type), " (params arrays are not supported: take the array)");
                    AddReportedParameter(p);
                    continue;
                }
                if (!noDiff && TryMapAggregateArray(p.Type, out var astorage, out var aelem))
                {
                    // An array or span of structs or objects: elements reached by field paths.
                    AddAggregateArray(p.Name, astorage, aelem, VarRole.Param, p.Ordinal, false, p);
                    anyActive = true;
                    continue;
                }
                if (!TryMapType(p.Type, out var elem, out var storage, out int rank, out bool jagged))
                {
                    if (!noDiff && IsDifferentiableStruct(p.Type))
                    {
                        // A struct (Vector3, a user's struct): a container whose fields are leaves.
                        AddStructContainer(p.Name, p.Type, VarRole.Param, p.Ordinal, false, p);
                        anyActive |= Layout(p.Type)!.Any(l => l.Ty == Ty.Double || l.Ty == Ty.Float);
                        continue;
                    }
                    if (noDiff || IsInactiveType(p.Type))
                    {
                        // Carries no derivative: printed by its type, read through its members.
                        AddVar(p.Name, Ty.Other, Storage.Scalar, VarRole.Param, p.Ordinal, true, p, OtherTypeName(p.Type));
                        continue;
                    }
                    Report(Descriptors.UnsupportedParameter, loc, p.Name, TypeText(p.Type),
                        " (a value that carries no derivative, such as a grid or an options object, is accepted when its type or the parameter is marked [NoDiff])");
                    AddReportedParameter(p);
                    continue;
                }
                bool real = elem == Ty.Double || elem == Ty.Float;
                if (noDiff && !real)
                    Report(Descriptors.IgnoredNoDiff, loc, p.Name, TypeText(p.Type));
                if (real && !noDiff) anyActive = true;
                AddVar(p.Name, elem, storage, VarRole.Param, p.Ordinal, noDiff || !real, p, null, rank, jagged);
            }

            if (!TryMapReturn(_method.ReturnType, out _)) DeclareResult(syntax);

            if (!anyActive && _this < 0 && _method.Parameters.Length > 0 && _diagnostics.Count == 0)
                Report(Descriptors.NoActiveInputs, NameLocation(syntax), name);

            // Reserve every identifier used in the body so generated names never collide.
            foreach (var token in syntax.DescendantTokens())
                if (token.IsKind(SyntaxKind.IdentifierToken)) _names.Add(token.ValueText);

            if (syntax.Body != null)
            {
                var block = LowerBlock(syntax.Body);
                FinishArrayResult();
                CheckArrayAllocations(block, new List<Loop>());
                CheckArrayResult(block, new List<Loop>());
                return MarkDataParallel(block);
            }
            if (syntax.ExpressionBody != null)
            {
                var stmts = new List<Stmt>();
                var expr = syntax.ExpressionBody.Expression;
                if (_method.ReturnsVoid)
                    LowerExpressionStatement(expr, stmts);
                else if (_result >= 0)
                    LowerResultValue(expr, stmts);
                else
                    stmts.Add(new Return(NextId(), LowerExpr(expr, stmts, ExprContext.Plain)));
                var block = new Block(NextId(), stmts.ToEquatableArray());
                CheckArrayAllocations(block, new List<Loop>());
                CheckArrayResult(block, new List<Loop>());
                return MarkDataParallel(block);
            }
            Report(Descriptors.NoBody, NameLocation(syntax), name);
            return new Block(NextId(), EquatableArray<Stmt>.Empty);
        }

        private MethodModel BuildModel(BaseMethodDeclarationSyntax syntax, Block body)
        {
            var types = new List<TypeDecl>();
            for (var t = _method.ContainingType; t != null; t = t.ContainingType)
            {
                string keyword = t.IsRecord ? (t.TypeKind == TypeKind.Struct ? "record struct" : "record")
                    : t.TypeKind == TypeKind.Struct ? "struct"
                    : t.TypeKind == TypeKind.Interface ? "interface" : "class";
                string tname = t.Name;
                if (t.TypeParameters.Length > 0) tname += "<" + string.Join(", ", t.TypeParameters.Select(tp => tp.Name)) + ">";
                types.Insert(0, new TypeDecl(keyword, tname));
            }
            string? ns = _method.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;

            var usings = new List<string>();
            foreach (var u in syntax.SyntaxTree.GetCompilationUnitRoot(_ct).Usings)
                if (u.GlobalKeyword.IsKind(SyntaxKind.None)) usings.Add(u.WithoutTrivia().ToString());
            foreach (var nsDecl in syntax.Ancestors().OfType<BaseNamespaceDeclarationSyntax>())
                foreach (var u in nsDecl.Usings) usings.Add(u.WithoutTrivia().ToString());

            string typeFullName = _method.ContainingType?.ToDisplayString() ?? "Global";
            string hint = typeFullName + "." + _method.Name;
            if (DifferentiableOverloads() > 1)
                hint += "_" + string.Join("_", _method.Parameters.Select(p => Sanitize(p.Type.ToDisplayString())));
            hint = Sanitize(hint) + ".g.cs";

            TryMapReturn(_method.ReturnType, out var ret);
            if (_result >= 0) ret = Ty.Other;
            return new MethodModel(
                hint, Signature(_method), ns, types.ToEquatableArray(), usings.Distinct().ToEquatableArray(),
                Accessibility(_method.DeclaredAccessibility), _method.Name, ret,
                _vars.ToEquatableArray(), _method.Parameters.Length, body,
                _callees.ToEquatableArray(), _diagnostics.Any(d => d.IsError),
                (_method.MethodImplementationFlags & System.Reflection.MethodImplAttributes.AggressiveInlining) != 0,
                _sourceText.OrderBy(kv => kv.Key).Select(kv => new StmtText(kv.Key, kv.Value)).ToEquatableArray(),
                _this >= 0,
                _accessors.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value).ToEquatableArray(),
                _result >= 0 ? (_method.ReturnType is IArrayTypeSymbol ? TypeText(_method.ReturnType) : OtherTypeName(_method.ReturnType)) : null,
                IsDataParallel(_method),
                IsDataParallel(_method) && _model.Compilation.GetTypeByMetadataName("ILGPU.ArrayView`1") != null,
                _finalSwaps.ToEquatableArray(),
                _resultAlias);
        }

        /// <summary>
        /// A method's key in the capability table, the same whether the method is lowered or called:
        /// its type's full name, its name and its parameter types.
        /// </summary>
        internal static string Signature(IMethodSymbol method) =>
            (method.ContainingType != null ? FullName(method.ContainingType) : "") + "." + method.Name
            + "(" + string.Join(", ", method.Parameters.Select(p => FullName(p.Type))) + ")";

        private static string Sanitize(string s)
        {
            var chars = s.Select(c => char.IsLetterOrDigit(c) || c == '.' || c == '_' ? c : '_').ToArray();
            return new string(chars);
        }

        private static string Accessibility(Accessibility a)
        {
            switch (a)
            {
                case Microsoft.CodeAnalysis.Accessibility.Public: return "public";
                case Microsoft.CodeAnalysis.Accessibility.Internal: return "internal";
                case Microsoft.CodeAnalysis.Accessibility.Protected: return "protected";
                case Microsoft.CodeAnalysis.Accessibility.ProtectedOrInternal: return "protected internal";
                case Microsoft.CodeAnalysis.Accessibility.ProtectedAndInternal: return "private protected";
                default: return "private";
            }
        }

        // ------------------------------------------------------------------ types and variables

        internal static bool TryMapScalar(ITypeSymbol type, out Ty ty)
        {
            switch (type.SpecialType)
            {
                case SpecialType.System_Double: ty = Ty.Double; return true;
                case SpecialType.System_Single: ty = Ty.Float; return true;
                case SpecialType.System_Int32: ty = Ty.Int; return true;
                case SpecialType.System_Int64: ty = Ty.Long; return true;
                case SpecialType.System_Boolean: ty = Ty.Bool; return true;
                default: ty = Ty.Void; return false;
            }
        }

        /// <summary>The IR type of a flat value (a scalar, a span or a one-dimensional array); see the overload with a shape.</summary>
        internal static bool TryMapType(ITypeSymbol type, out Ty elem, out Storage storage) =>
            TryMapType(type, out elem, out storage, out int rank, out _) && rank == 1;

        /// <summary>
        /// The IR type of a scalar, a span, or an array of rank <paramref name="rank"/> (<c>T[]</c>,
        /// <c>T[,]</c>, <c>T[,,]</c>, or jagged <c>T[][]</c>) of a numeric element type.
        /// </summary>
        internal static bool TryMapType(ITypeSymbol type, out Ty elem, out Storage storage, out int rank, out bool jagged)
        {
            storage = Storage.Scalar;
            rank = 1;
            jagged = false;
            if (TryMapScalar(type, out elem)) return true;
            if (TryMapArray(type, out elem, out rank, out jagged) || TryMapList(type, out elem))
            {
                storage = Storage.Array;
                return true;
            }
            if (type is INamedTypeSymbol named && named.IsGenericType && named.TypeArguments.Length == 1
                && named.ContainingNamespace?.ToDisplayString() == "System"
                && (named.Name == "Span" || named.Name == "ReadOnlySpan")
                && TryMapScalar(named.TypeArguments[0], out elem) && elem != Ty.Bool)
            {
                storage = named.Name == "Span" ? Storage.Span : Storage.ReadOnlySpan;
                return true;
            }
            elem = Ty.Void;
            return false;
        }

        /// <summary>
        /// Whether values of a type never carry a derivative: enums, strings and chars, types marked
        /// [NoDiff], and structs and classes that hold no float or double data (DateOnly, a record of
        /// strings and ints, a logger). Interfaces and delegates are not: their calls may compute anything.
        /// </summary>
        internal static bool IsInactiveType(ITypeSymbol type)
        {
            if (type.TypeKind == TypeKind.Enum || type.SpecialType == SpecialType.System_String || type.SpecialType == SpecialType.System_Char)
                return true;
            if (HasNoDiff(type)) return true;
            if (type.SpecialType == SpecialType.System_Object || type.TypeKind == TypeKind.Dynamic) return false; // could hold a boxed double
            if (!(type is INamedTypeSymbol named) || !(named.TypeKind == TypeKind.Struct || named.TypeKind == TypeKind.Class)) return false;
            if (named.SpecialType != SpecialType.None && named.SpecialType != SpecialType.System_Object) return !TryMapScalar(named, out var t) || !(t == Ty.Double || t == Ty.Float);
            return !HoldsRealData(named, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default));
        }

        private static bool HasNoDiff(ITypeSymbol type) =>
            type.OriginalDefinition.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == NoDiffAttributeName);

        /// <summary>Whether an instance field (of the type or of a type it holds) is or contains float or double data.</summary>
        private static bool HoldsRealData(ITypeSymbol type, HashSet<ITypeSymbol> visiting)
        {
            if (TryMapScalar(type, out var t)) return t == Ty.Double || t == Ty.Float;
            if (type.SpecialType == SpecialType.System_Decimal) return true;
            if (type is IArrayTypeSymbol arr) return HoldsRealData(arr.ElementType, visiting);
            if (type is ITypeParameterSymbol) return true;
            if (!(type is INamedTypeSymbol named) || type.TypeKind == TypeKind.Enum || type.SpecialType == SpecialType.System_String) return false;
            if (type.TypeKind == TypeKind.Interface || type.TypeKind == TypeKind.Delegate) return true;
            if (HasNoDiff(type)) return false;
            if (!visiting.Add(named)) return false;
            foreach (var arg in named.TypeArguments)
                if (HoldsRealData(arg, visiting)) return true;
            for (var t2 = named; t2 != null && t2.SpecialType != SpecialType.System_Object; t2 = t2.BaseType)
                foreach (var f in t2.GetMembers().OfType<IFieldSymbol>())
                    if (!f.IsStatic && !f.IsConst && HoldsRealData(f.Type, visiting)) return true;
            return false;
        }

        /// <summary>The full name generated code declares an inactive value with (nullable annotations kept).</summary>
        internal static string OtherTypeName(ITypeSymbol type) =>
            type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier));

        /// <summary>The IR type of a value read from an inactive value's member or an inactive call (Void when unsupported).</summary>
        private static Ty MapInactiveResult(ITypeSymbol type, out string? typeName)
        {
            typeName = null;
            if (TryMapScalar(type, out var t)) return t;
            if (IsInactiveType(type)) { typeName = OtherTypeName(type); return Ty.Other; }
            return Ty.Void;
        }

        private static bool TryMapReturn(ITypeSymbol type, out Ty ty)
        {
            if (type.SpecialType == SpecialType.System_Void) { ty = Ty.Void; return true; }
            return TryMapScalar(type, out ty);
        }

        private int AddVar(string name, Ty elem, Storage storage, VarRole role, int paramIndex, bool noDiff, ISymbol? symbol, string? typeName = null, int rank = 1, bool jagged = false)
        {
            string unique = role == VarRole.Param ? name : FreshName(name);
            _names.Add(unique);
            int id = _vars.Count;
            _vars.Add(new Var(id, unique, elem, storage, role, paramIndex, noDiff, typeName, Rank: rank, Jagged: jagged,
                IsList: storage == Storage.Array && TryMapList(DeclaredType(symbol), out _)));
            if (symbol != null) _symbolVars[symbol] = id;
            return id;
        }

        private string FreshName(string baseName)
        {
            if (!_vars.Any(v => v.Name == baseName)) return baseName;
            for (int i = 2; ; i++)
            {
                var candidate = baseName + "_" + i.ToString(CultureInfo.InvariantCulture);
                if (!_names.Contains(candidate) && !_vars.Any(v => v.Name == candidate)) return candidate;
            }
        }

        private int Temp(string hint, Ty ty, VarRole role = VarRole.Temp, string? typeName = null)
        {
            string name;
            for (int i = 0; ; i++)
            {
                name = "_" + hint + i.ToString(CultureInfo.InvariantCulture);
                if (!_names.Contains(name)) break;
            }
            _names.Add(name);
            int id = _vars.Count;
            _vars.Add(new Var(id, name, ty, Storage.Scalar, role, -1, ty == Ty.Other, typeName));
            return id;
        }

        private int NextId() => ++_nextId;

        private void Report(DiagnosticDescriptor descriptor, Location location, params string[] args) =>
            _diagnostics.Add(DiagnosticInfo.Create(descriptor, location, args));

        // ------------------------------------------------------------------ statements

        private Block LowerBlock(BlockSyntax block)
        {
            var stmts = new List<Stmt>();
            foreach (var s in block.Statements) LowerStatement(s, stmts);
            return new Block(NextId(), stmts.ToEquatableArray());
        }

        private Block LowerEmbedded(StatementSyntax statement)
        {
            if (statement is BlockSyntax b) return LowerBlock(b);
            var stmts = new List<Stmt>();
            LowerStatement(statement, stmts);
            return new Block(NextId(), stmts.ToEquatableArray());
        }

        private void LowerStatement(StatementSyntax statement, List<Stmt> output)
        {
            int before = output.Count;
            LowerStatementCore(statement, output);
            string? text = SourceLine(statement);
            if (text == null) return;
            for (int i = before; i < output.Count; i++)
                if (!(output[i] is Block) && !_sourceText.ContainsKey(output[i].Id)) _sourceText[output[i].Id] = text;
        }

        /// <summary>
        /// The text generated code quotes for a statement: simple statements whole, compound ones by their
        /// header, whitespace collapsed (a re-indented method keeps its model) and long ones shortened.
        /// </summary>
        private static string? SourceLine(StatementSyntax statement)
        {
            // Normalised by Roslyn, so an edit of the statement's whitespace leaves the model (and the cache) as it was.
            string N(SyntaxNode? n) => n == null ? "" : n.NormalizeWhitespace(elasticTrivia: false).ToString();
            string? text;
            switch (statement)
            {
                case BlockSyntax _:
                case EmptyStatementSyntax _:
                    return null;
                case IfStatementSyntax ifs: text = "if (" + N(ifs.Condition) + ")"; break;
                case ForStatementSyntax fs:
                    text = "for (" + N(fs.Declaration) + string.Join(", ", fs.Initializers.Select(N)) + "; " + N(fs.Condition) + "; " + string.Join(", ", fs.Incrementors.Select(N)) + ")";
                    break;
                case ForEachStatementSyntax fe: text = "foreach (" + N(fe.Type) + " " + fe.Identifier.ValueText + " in " + N(fe.Expression) + ")"; break;
                case WhileStatementSyntax ws: text = "while (" + N(ws.Condition) + ")"; break;
                case DoStatementSyntax ds: text = "do ... while (" + N(ds.Condition) + ")"; break;
                case SwitchStatementSyntax ss: text = "switch (" + N(ss.Expression) + ")"; break;
                default: text = N(statement); break;
            }
            var sb = new System.Text.StringBuilder();
            bool space = false;
            foreach (char ch in text)
            {
                if (char.IsWhiteSpace(ch)) { space = sb.Length > 0; continue; }
                if (space) sb.Append(' ');
                space = false;
                sb.Append(ch);
            }
            text = sb.ToString();
            return text.Length > 120 ? text.Substring(0, 117) + "..." : text;
        }

        private void LowerStatementCore(StatementSyntax statement, List<Stmt> output)
        {
            _ct.ThrowIfCancellationRequested();
            switch (statement)
            {
                case BlockSyntax block:
                    output.Add(LowerBlock(block));
                    break;
                case EmptyStatementSyntax:
                    break;
                case LocalDeclarationStatementSyntax local:
                    LowerLocalDeclaration(local, output);
                    break;
                case ExpressionStatementSyntax es:
                    LowerExpressionStatement(es.Expression, output);
                    break;
                case IfStatementSyntax ifs:
                    {
                        var cond = LowerExpr(ifs.Condition, output, ExprContext.Plain);
                        var then = LowerEmbedded(ifs.Statement);
                        var els = ifs.Else != null ? LowerEmbedded(ifs.Else.Statement) : new Block(NextId(), EquatableArray<Stmt>.Empty);
                        output.Add(new If(NextId(), cond, then, els));
                        break;
                    }
                case ForStatementSyntax fs:
                    LowerFor(fs, output);
                    break;
                case WhileStatementSyntax ws:
                    {
                        var cond = LowerExpr(ws.Condition, output, ExprContext.LoopCondition);
                        var body = LowerEmbedded(ws.Statement);
                        output.Add(new WhileLoop(NextId(), Empty(), cond, Empty(), body));
                        break;
                    }
                case DoStatementSyntax ds:
                    {
                        // do { B } while (c)  ==  first = true; while (first || c) { first = false; B }
                        int first = Temp("first", Ty.Bool, VarRole.Flag);
                        var cond = LowerExpr(ds.Condition, output, ExprContext.LoopCondition);
                        var body = LowerEmbedded(ds.Statement);
                        var bodyStmts = new List<Stmt> { new Assign(NextId(), new VarRef(first, Ty.Bool), new Lit("false", Ty.Bool)) };
                        bodyStmts.AddRange(body.Stmts);
                        output.Add(new Assign(NextId(), new VarRef(first, Ty.Bool), new Lit("true", Ty.Bool)));
                        output.Add(new WhileLoop(NextId(), Empty(), new Binary(BinOp.LogicalOr, new VarRef(first, Ty.Bool), cond, Ty.Bool), Empty(),
                            new Block(NextId(), bodyStmts.ToEquatableArray())));
                        break;
                    }
                case ForEachStatementSyntax fe:
                    LowerForEach(fe, output);
                    break;
                case BreakStatementSyntax brk:
                    if (!_sectionBreaks.Contains(brk)) output.Add(new Break(NextId()));
                    break;
                case ContinueStatementSyntax:
                    output.Add(new Continue(NextId()));
                    break;
                case ReturnStatementSyntax rs:
                    {
                        if (TryLowerLambdaReturn(rs, output)) break;
                        if (TryLowerResultReturn(rs, output)) break;
                        Expr? value = null;
                        if (rs.Expression != null) value = LowerExpr(rs.Expression, output, ExprContext.Plain);
                        output.Add(new Return(NextId(), value));
                        break;
                    }
                case SwitchStatementSyntax ss:
                    LowerSwitch(ss, output);
                    break;
                case ThrowStatementSyntax ts:
                    output.Add(ForwardOnlyStatement(ts, ""));
                    break;
                case LocalFunctionStatementSyntax:
                    break; // inlined where it is called
                case CheckedStatementSyntax cs when cs.Keyword.IsKind(SyntaxKind.UncheckedKeyword):
                    output.Add(LowerBlock(cs.Block));
                    break;
                default:
                    Report(Descriptors.UnsupportedStatement, statement.GetLocation(), KindName(statement),
                        UnsupportedStatementHint(statement));
                    break;
            }
        }

        private Block Empty() => new Block(NextId(), EquatableArray<Stmt>.Empty);

        private static string KindName(SyntaxNode node)
        {
            var kind = node.Kind().ToString();
            return kind.EndsWith("Statement", StringComparison.Ordinal) ? kind.Substring(0, kind.Length - "Statement".Length).ToLowerInvariant() + " statement" : kind;
        }

        private static string UnsupportedStatementHint(StatementSyntax s)
        {
            switch (s)
            {
                case GotoStatementSyntax: return "goto is not supported; use loops with break/continue";
                case TryStatementSyntax: return "exception handling is not supported inside [Differentiable] methods; validate inputs in a non-differentiable wrapper";
                case UnsafeStatementSyntax:
                case FixedStatementSyntax: return "unsafe code and pointers are not supported; use spans";
                case UsingStatementSyntax:
                case LockStatementSyntax: return "resource and lock statements are not supported inside [Differentiable] methods";
                case YieldStatementSyntax: return "iterators are not supported";
                default: return "rewrite it with assignments, if/else, for/while loops and calls of [Differentiable] methods";
            }
        }

        private void LowerLocalDeclaration(LocalDeclarationStatementSyntax local, List<Stmt> output)
        {
            if (local.IsConst)
                return; // constants are folded where they are used
            if (local.UsingKeyword != default)
            {
                Report(Descriptors.UnsupportedLocal, local.GetLocation(), local.Declaration.Variables.FirstOrDefault()?.Identifier.ValueText ?? "?",
                    local.Declaration.Type.ToString(), " (using declarations are not supported)");
                return;
            }
            LowerVariableDeclaration(local.Declaration, output);
        }

        private void LowerVariableDeclaration(VariableDeclarationSyntax declaration, List<Stmt> output)
        {
            if (declaration.Type is RefTypeSyntax)
            {
                Report(Descriptors.UnsupportedLocal, declaration.GetLocation(), declaration.Variables.FirstOrDefault()?.Identifier.ValueText ?? "?",
                    declaration.Type.ToString(), " (ref locals are not supported)");
                return;
            }
            foreach (var v in declaration.Variables)
            {
                if (_model.GetDeclaredSymbol(v, _ct) is not ILocalSymbol symbol) continue;
                if (TryDeclareLambda(v, symbol)) continue;
                if (TryLowerAggregateLocal(v, symbol, output)) continue;
                if (TryLowerNarrowCounter(declaration, v, symbol, output)) continue;
                if (!TryMapType(symbol.Type, out _, out _) && IsInactiveType(symbol.Type))
                {
                    if (v.Initializer == null)
                    {
                        Report(Descriptors.UnsupportedLocal, v.GetLocation(), v.Identifier.ValueText, TypeText(symbol.Type),
                            " (a local of an inactive type must be initialised where it is declared)");
                        continue;
                    }
                    int oid = AddVar(v.Identifier.ValueText, Ty.Other, Storage.Scalar, VarRole.Local, -1, true, symbol, OtherTypeName(symbol.Type));
                    var ovalue = LowerExpr(v.Initializer.Value, output, ExprContext.Plain);
                    if (!IsError(ovalue) && ovalue.Type != Ty.Other)
                    {
                        Unsupported(v.Initializer.Value, "a local of type '" + TypeText(symbol.Type) + "' can be initialised from a parameter, a member or a call only");
                        continue;
                    }
                    output.Add(new Assign(NextId(), new VarRef(oid, Ty.Other), ovalue, Declares: true));
                    continue;
                }
                if (TryLowerArrayCallLocal(v, symbol, output)) continue;
                if (TryLowerArrayLocal(v, symbol, output)) continue;
                if (!TryMapType(symbol.Type, out var elem, out var storage) || storage == Storage.ReadOnlySpan
                    || (storage == Storage.Span && !(v.Initializer?.Value is ArrayCreationExpressionSyntax)))
                {
                    Report(Descriptors.UnsupportedLocal, v.GetLocation(), v.Identifier.ValueText, TypeText(symbol.Type),
                        symbol.Type.TypeKind == TypeKind.Struct && storage != Storage.Span ? " (structs and objects are not supported: pass their fields as parameters)" : "");
                    continue;
                }
                if (storage == Storage.Scalar)
                {
                    int id = AddVar(v.Identifier.ValueText, elem, storage, VarRole.Local, -1, elem != Ty.Double && elem != Ty.Float, symbol);
                    if (v.Initializer != null)
                    {
                        var value = LowerExpr(v.Initializer.Value, output, ExprContext.Plain);
                        output.Add(new Assign(NextId(), new VarRef(id, elem), value, Declares: true));
                    }
                }
                else
                {
                    // Array (or Span initialised from a new array): must be allocated here with new T[n].
                    if (v.Initializer?.Value is ArrayCreationExpressionSyntax ac && ac.Initializer == null
                        && ac.Type.RankSpecifiers.Count == 1 && ac.Type.RankSpecifiers[0].Sizes.Count == 1
                        && !(ac.Type.RankSpecifiers[0].Sizes[0] is OmittedArraySizeExpressionSyntax))
                    {
                        int id = AddVar(v.Identifier.ValueText, elem, Storage.Array, VarRole.Local, -1, elem != Ty.Double && elem != Ty.Float, symbol);
                        var len = LowerExpr(ac.Type.RankSpecifiers[0].Sizes[0], output, ExprContext.Plain);
                        output.Add(new Alloc(NextId(), id, len));
                    }
                    else
                    {
                        Report(Descriptors.UnsupportedLocal, v.GetLocation(), v.Identifier.ValueText, TypeText(symbol.Type),
                            " (initialise array locals with 'new T[n]'; aliases of other spans, slices and stackalloc are not supported)");
                    }
                }
            }
        }

        private void LowerExpressionStatement(ExpressionSyntax expr, List<Stmt> output)
        {
            switch (expr)
            {
                case AssignmentExpressionSyntax assign:
                    LowerAssignment(assign, output);
                    return;
                case PostfixUnaryExpressionSyntax post when post.IsKind(SyntaxKind.PostIncrementExpression) || post.IsKind(SyntaxKind.PostDecrementExpression):
                    LowerIncrement(post.Operand, post.IsKind(SyntaxKind.PostIncrementExpression), output);
                    return;
                case PrefixUnaryExpressionSyntax pre when pre.IsKind(SyntaxKind.PreIncrementExpression) || pre.IsKind(SyntaxKind.PreDecrementExpression):
                    LowerIncrement(pre.Operand, pre.IsKind(SyntaxKind.PreIncrementExpression), output);
                    return;
                case InvocationExpressionSyntax inv:
                    if (TryLowerParallelFor(inv, output)) return;
                    var symbol = _model.GetSymbolInfo(inv, _ct).Symbol as IMethodSymbol;
                    if (TryInlineCall(inv, symbol, output, ExprContext.Plain, statement: true, out _)) return;
                    if (TryLowerSpanMethod(inv, output)) return;
                    if (symbol != null && TryLowerForwardOnlyCall(inv, symbol, output)) return;
                    if (symbol != null && IsUserCallCandidate(symbol))
                    {
                        LowerUserCall(inv, symbol, output, ExprContext.Plain, discardResult: true);
                        return;
                    }
                    break;
            }
            Report(Descriptors.UnsupportedStatement, expr.GetLocation(), "expression statement",
                "only assignments, ++/--, calls of [Differentiable] methods, span Clear/Fill/CopyTo, and calls that cannot change an active value (guards, assertions, logging) are supported as statements");
        }

        private bool TryLowerSpanMethod(InvocationExpressionSyntax inv, List<Stmt> output)
        {
            if (!(inv.Expression is MemberAccessExpressionSyntax ma)) return false;
            var symbol = _model.GetSymbolInfo(inv, _ct).Symbol as IMethodSymbol;
            if (symbol == null) return false;
            var container = symbol.ContainingType;
            var containerName = container?.ToDisplayString();
            ExpressionSyntax receiver;
            var arguments = inv.ArgumentList.Arguments.Select(a => a.Expression).ToList();
            if (!symbol.IsStatic && (container?.Name == "Span" || container?.Name == "ReadOnlySpan"))
                receiver = ma.Expression;
            else if (symbol.ReducedFrom != null && containerName == "System.MemoryExtensions" && symbol.Name == "CopyTo")
                receiver = ma.Expression; // array.CopyTo(span)
            else if (symbol.IsStatic && containerName == "System.Array" && (symbol.Name == "Clear" || symbol.Name == "Fill") && arguments.Count >= 1)
            {
                receiver = arguments[0]; // Array.Clear(a), Array.Fill(a, v)
                arguments.RemoveAt(0);
                if (symbol.Name == "Clear" && arguments.Count != 0) return false;
            }
            else return false;
            if (!(_model.GetSymbolInfo(receiver, _ct).Symbol is ISymbol target) || !_symbolVars.TryGetValue(target, out int arr))
                return false;
            var arrVar = _vars[arr];
            switch (symbol.Name)
            {
                case "Clear" when arguments.Count == 0:
                    output.Add(ElementLoop(arrVar, k => new Assign(NextId(), new ElemRef(arr, k, arrVar.Elem), Zero(arrVar.Elem))));
                    return true;
                case "Fill" when arguments.Count == 1:
                    {
                        var value = LowerExpr(arguments[0], output, ExprContext.Plain);
                        int t = Temp("fill", arrVar.Elem);
                        output.Add(new Assign(NextId(), new VarRef(t, arrVar.Elem), value, Declares: true));
                        output.Add(ElementLoop(arrVar, k => new Assign(NextId(), new ElemRef(arr, k, arrVar.Elem), new VarRef(t, arrVar.Elem))));
                        return true;
                    }
                case "CopyTo" when arguments.Count == 1:
                    {
                        if (!(_model.GetSymbolInfo(arguments[0], _ct).Symbol is ISymbol dst) || !_symbolVars.TryGetValue(dst, out int dstId))
                            return false;
                        var dstVar = _vars[dstId];
                        output.Add(ElementLoop(arrVar, k => new Assign(NextId(), new ElemRef(dstId, k, dstVar.Elem), Convert(new ElemRef(arr, k, arrVar.Elem), dstVar.Elem, true))));
                        return true;
                    }
            }
            return false;
        }

        private Loop ElementLoop(Var array, Func<Expr, Stmt> body)
        {
            int k = Temp("k", Ty.Int);
            var kRef = new VarRef(k, Ty.Int);
            var start = new Lit("0", Ty.Int);
            return new ForLoop(NextId(), Empty(), k, start,
                new Binary(BinOp.Lt, kRef, new LenRef(array.Id), Ty.Bool), 1,
                new Block(NextId(), new[] { body(kRef) }.ToEquatableArray()));
        }

        private static Expr Zero(Ty ty) => new Lit(ty == Ty.Float ? "0f" : ty == Ty.Double ? "0.0" : ty == Ty.Bool ? "false" : "0", ty);

        private void LowerAssignment(AssignmentExpressionSyntax assign, List<Stmt> output)
        {
            if (TryLowerRowAlloc(assign, output)) return;
            if (TryLowerDeconstruction(assign, output)) return;
            if (TryLowerStructAssignment(assign, output)) return;
            var target = LowerTarget(assign.Left, output);
            if (target == null) return;
            var targetType = target.Type;
            if (assign.IsKind(SyntaxKind.SimpleAssignmentExpression))
            {
                if (target is VarRef vr && _vars[vr.Var].Storage != Storage.Scalar)
                {
                    Report(Descriptors.ArrayReassignment, assign.GetLocation(), _vars[vr.Var].Name);
                    return;
                }
                var value = LowerExpr(assign.Right, output, ExprContext.Plain);
                output.Add(new Assign(NextId(), target, Convert(value, targetType, true)));
                return;
            }
            BinOp op;
            switch (assign.Kind())
            {
                case SyntaxKind.AddAssignmentExpression: op = BinOp.Add; break;
                case SyntaxKind.SubtractAssignmentExpression: op = BinOp.Sub; break;
                case SyntaxKind.MultiplyAssignmentExpression: op = BinOp.Mul; break;
                case SyntaxKind.DivideAssignmentExpression: op = BinOp.Div; break;
                case SyntaxKind.ModuloAssignmentExpression: op = BinOp.Mod; break;
                default:
                    Report(Descriptors.UnsupportedExpression, assign.GetLocation(), assign.OperatorToken.Text, "only =, +=, -=, *=, /= and %= are supported");
                    return;
            }
            var rhs = LowerExpr(assign.Right, output, ExprContext.Plain);
            var opType = Wider(targetType, rhs.Type);
            var combined = new Binary(op, Convert(target, opType, true), Convert(rhs, opType, true), opType);
            // Compound assignment narrows implicitly (float f += 1.0 is legal C#).
            output.Add(new Assign(NextId(), target, Convert(combined, targetType, implicitConversion: opType == targetType)));
        }

        private void LowerIncrement(ExpressionSyntax operand, bool increment, List<Stmt> output)
        {
            var target = LowerTarget(operand, output);
            if (target == null) return;
            var one = target.Type == Ty.Float ? new Lit("1f", Ty.Float) : target.Type == Ty.Double ? new Lit("1.0", Ty.Double) : new Lit("1", target.Type);
            output.Add(new Assign(NextId(), target, new Binary(increment ? BinOp.Add : BinOp.Sub, target, one, target.Type)));
        }

        private Expr? LowerTarget(ExpressionSyntax left, List<Stmt> output)
        {
            var e = LowerExpr(left, output, ExprContext.Target);
            if (e is VarRef ov && ov.Type == Ty.Other)
            {
                Report(Descriptors.UnsupportedExpression, left.GetLocation(), Shorten(left.ToString()),
                    "a value of an inactive type is assigned only where it is declared (declare a new local instead)");
                return null;
            }
            if (e is VarRef || e is ElemRef)
            {
                if (e is VarRef vr && _vars[vr.Var].Role == VarRole.Param && _vars[vr.Var].Storage != Storage.Scalar)
                {
                    Report(Descriptors.ArrayReassignment, left.GetLocation(), _vars[vr.Var].Name);
                    return null;
                }
                return e;
            }
            if (!IsError(e))
                Report(Descriptors.UnsupportedExpression, left.GetLocation(), "assignment target", "assign to a local, a parameter or a span/array element");
            return null;
        }

        private void LowerFor(ForStatementSyntax fs, List<Stmt> output)
        {
            var init = new List<Stmt>();
            int counter = -1;
            Expr? start = null;
            if (fs.Declaration != null)
            {
                LowerVariableDeclaration(fs.Declaration, init);
                if (fs.Declaration.Variables.Count == 1 && init.Count == 1 && init[0] is Assign a && a.Target is VarRef cv
                    && (cv.Type == Ty.Int || cv.Type == Ty.Long) && !Walk.Uses(a.Value, cv.Var))
                {
                    counter = cv.Var;
                    start = a.Value;
                }
            }
            foreach (var e in fs.Initializers) LowerExpressionStatement(e, init);

            Expr cond = fs.Condition != null ? LowerExpr(fs.Condition, init, ExprContext.LoopCondition) : new Lit("true", Ty.Bool);
            var step = new List<Stmt>();
            foreach (var e in fs.Incrementors) LowerExpressionStatement(e, step);
            var body = LowerEmbedded(fs.Statement);

            int stepValue = 0;
            if (counter >= 0)
            {
                // Counted: the counter changes only by a constant step in the incrementor.
                if (step.Count == 1 && step[0] is Assign s && s.Target is VarRef sv && sv.Var == counter
                    && s.Value is Binary b && b.Left is VarRef bl && bl.Var == counter && b.Right is Lit lit
                    && int.TryParse(lit.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int c) && (b.Op == BinOp.Add || b.Op == BinOp.Sub)
                    && !BlockWritesVar(body, counter))
                {
                    stepValue = b.Op == BinOp.Add ? c : -c;
                }
            }
            if (stepValue != 0)
            {
                // The counter's declaration is the loop's own; the rest of the header's initialisers stay in Init.
                output.Add(new ForLoop(NextId(), new Block(NextId(), init.Skip(1).ToEquatableArray()), counter, start!, cond, stepValue, body));
                return;
            }
            output.Add(new WhileLoop(NextId(), new Block(NextId(), init.ToEquatableArray()), cond, new Block(NextId(), step.ToEquatableArray()), body));
        }

        private void LowerForEach(ForEachStatementSyntax fe, List<Stmt> output)
        {
            if (TryLowerForEachRow(fe, output)) return;
            if (TryLowerAggregateForEach(fe, output)) return;
            var loopVar = _model.GetDeclaredSymbol(fe, _ct);
            if (!ArrayVar(fe.Expression, out int arr) || loopVar == null || !TryMapScalar(loopVar.Type, out var elemTy))
            {
                Report(Descriptors.UnsupportedStatement, fe.GetLocation(), "foreach statement", ForEachHint(fe));
                return;
            }
            int x = AddVar(fe.Identifier.ValueText, elemTy, Storage.Scalar, VarRole.Local, -1, elemTy != Ty.Double && elemTy != Ty.Float, loopVar);
            var body = LowerEmbedded(fe.Statement);
            var arrVar = _vars[arr];
            output.Add(ElementLoop(arrVar, k =>
            {
                var stmts = new List<Stmt> { new Assign(NextId(), new VarRef(x, elemTy), Convert(new ElemRef(arr, k, arrVar.Elem), elemTy, true), Declares: true) };
                stmts.AddRange(body.Stmts);
                return new Block(NextId(), stmts.ToEquatableArray());
            }));
        }

        private void LowerSwitch(SwitchStatementSyntax ss, List<Stmt> output)
        {
            var governing = LowerExpr(ss.Expression, output, ExprContext.Plain);
            var governingType = _model.GetTypeInfo(ss.Expression, _ct).Type;
            bool isEnum = governing.Type == Ty.Other && (governingType?.TypeKind == TypeKind.Enum || governingType?.SpecialType == SpecialType.System_String);
            if (governing.Type != Ty.Int && governing.Type != Ty.Long && governing.Type != Ty.Bool && !isEnum)
            {
                Report(Descriptors.UnsupportedStatement, ss.Expression.GetLocation(), "switch statement", "switch on an int, long, bool, enum or string value only");
                return;
            }
            Expr g = governing;
            if (!(governing is VarRef))
            {
                int t = Temp("switch", governing.Type, typeName: (governing as Opaque)?.TypeName);
                output.Add(new Assign(NextId(), new VarRef(t, governing.Type), governing, Declares: true));
                g = new VarRef(t, governing.Type);
            }
            Block? defaultBlock = null;
            var cases = new List<(Expr cond, Block body)>();
            foreach (var section in ss.Sections)
            {
                var stmts = section.Statements.ToList();
                // The section's final break (possibly the last statement of a trailing block) just ends it.
                StatementSyntax? last = stmts.Count > 0 ? stmts[stmts.Count - 1] : null;
                while (last is BlockSyntax lb && lb.Statements.Count > 0) last = lb.Statements[lb.Statements.Count - 1];
                if (last is BreakStatementSyntax trailing) _sectionBreaks.Add(trailing);
                foreach (var s in stmts)
                {
                    if (s.DescendantNodesAndSelf(n => !(n is ForStatementSyntax || n is WhileStatementSyntax || n is DoStatementSyntax || n is ForEachStatementSyntax || n is SwitchStatementSyntax))
                        .OfType<BreakStatementSyntax>().Any(b => !_sectionBreaks.Contains(b)))
                    {
                        Report(Descriptors.UnsupportedStatement, s.GetLocation(), "break in a switch section",
                            "a switch section may end with break, but may not break out of the middle; use if/else");
                    }
                }
                var body = new List<Stmt>();
                foreach (var s in stmts) LowerStatement(s, body);
                var block = new Block(NextId(), body.ToEquatableArray());
                Expr? cond = null;
                bool isDefault = false;
                foreach (var label in section.Labels)
                {
                    if (label is DefaultSwitchLabelSyntax) { isDefault = true; continue; }
                    if (label is CaseSwitchLabelSyntax cl)
                    {
                        var value = LowerExpr(cl.Value, output, ExprContext.Plain);
                        var test = new Binary(BinOp.Eq, g, value, Ty.Bool);
                        cond = cond == null ? test : new Binary(BinOp.LogicalOr, cond, test, Ty.Bool);
                    }
                    else
                    {
                        Report(Descriptors.UnsupportedStatement, label.GetLocation(), "pattern case label", "use constant case labels");
                    }
                }
                if (isDefault) defaultBlock = block;
                else if (cond != null) cases.Add((cond, block));
            }
            Block chain = defaultBlock ?? Empty();
            for (int i = cases.Count - 1; i >= 0; i--)
            {
                var ifs = new If(NextId(), cases[i].cond, cases[i].body, chain);
                chain = new Block(NextId(), new Stmt[] { ifs }.ToEquatableArray());
            }
            output.AddRange(chain.Stmts);
        }

        private static bool BlockWritesVar(Stmt s, int var) => Walk.Descendants(s).Any(x =>
            x is Assign a && a.Target is VarRef v && v.Var == var || x is Call c && c.ResultVar == var || x is Alloc al && al.Var == var
            || x is ForLoop f && f.Counter == var);

        // ------------------------------------------------------------------ expressions

        private enum ExprContext
        {
            Plain,
            Target,
            LoopCondition,
            ConditionalBranch,
        }

        private static Ty Wider(Ty a, Ty b)
        {
            if (a == Ty.Double || b == Ty.Double) return Ty.Double;
            if (a == Ty.Float || b == Ty.Float) return Ty.Float;
            if (a == Ty.Long || b == Ty.Long) return Ty.Long;
            if (a == Ty.Int || b == Ty.Int) return Ty.Int;
            return a;
        }

        private static Expr Convert(Expr e, Ty to, bool implicitConversion)
        {
            if (e.Type == to || to == Ty.Void || e.Type == Ty.Void) return e;
            if (e is Lit l && implicitConversion) return l; // the literal is converted in place by C#
            return new Cast(e, to, implicitConversion);
        }

        private static Expr Error() => new ErrorExpr();

        private static bool IsError(Expr e) => e is ErrorExpr;

        private Expr LowerExpr(ExpressionSyntax syntax, List<Stmt> pre, ExprContext ctx)
        {
            _ct.ThrowIfCancellationRequested();
            var e = LowerExprCore(syntax, pre, ctx);
            if (e is ErrorExpr) return e;
            var info = _model.GetTypeInfo(syntax, _ct);
            if (info.ConvertedType != null && info.Type != null && !SymbolEqualityComparer.Default.Equals(info.Type, info.ConvertedType)
                && TryMapScalar(info.ConvertedType, out var converted) && e.Type != converted && converted != Ty.Bool)
                return Convert(e, converted, implicitConversion: true);
            return e;
        }

        private Expr LowerExprCore(ExpressionSyntax syntax, List<Stmt> pre, ExprContext ctx)
        {
            var constant = _model.GetConstantValue(syntax, _ct);
            if (constant.HasValue && !(syntax is LiteralExpressionSyntax) && _model.GetTypeInfo(syntax, _ct).Type is { TypeKind: TypeKind.Enum } enumType
                && TryFormatConstant(constant.Value, out var enumText, out _))
            {
                // An enum constant keeps its type (a bare number would not compare with an enum value).
                string name = OtherTypeName(enumType);
                return new Opaque("((" + name + ")(" + enumText + "))", false, EquatableArray<Expr>.Empty, Ty.Other, null, name);
            }
            if (constant.HasValue && !(syntax is LiteralExpressionSyntax) && TryFormatConstant(constant.Value, out var text, out var cty))
                return new Lit(text, cty);
            if (constant.HasValue && constant.Value is string constString)
                return new Opaque(SymbolDisplay.FormatLiteral(constString, quote: true), false, EquatableArray<Expr>.Empty, Ty.Other, null, "string");

            switch (syntax)
            {
                case ParenthesizedExpressionSyntax p:
                    return LowerExpr(p.Expression, pre, ctx);
                case LiteralExpressionSyntax lit:
                    {
                        var type = _model.GetTypeInfo(lit, _ct).Type;
                        if (type != null && TryMapScalar(type, out var ty)) return new Lit(lit.Token.Text, ty);
                        if (type != null && (type.SpecialType == SpecialType.System_String || type.SpecialType == SpecialType.System_Char))
                            return new Opaque(lit.Token.Text, false, EquatableArray<Expr>.Empty, Ty.Other, null, OtherTypeName(type));
                        return Unsupported(syntax, "only numeric and boolean literals are supported");
                    }
                case IdentifierNameSyntax id:
                    {
                        var symbol = _model.GetSymbolInfo(id, _ct).Symbol;
                        // A field of this (implicitly), or a member of an aliased element.
                        if (symbol != null && (_aliases.ContainsKey(symbol) || _this >= 0 && IsInstanceMemberOfThis(symbol)))
                            return LowerPlaceRead(syntax, pre, ctx);
                        return LowerName(id, symbol, ctx);
                    }
                case MemberAccessExpressionSyntax ma:
                    {
                        var symbol = _model.GetSymbolInfo(ma, _ct).Symbol;
                        if (TryLowerArrayLength(ma, symbol, pre, ctx, out var length)) return length;
                        if (TryLowerListCount(ma, symbol, pre, ctx, out var count)) return count;
                        if (TryLowerStaticInput(ma, symbol, ctx, out var staticInput)) return staticInput;
                        if (symbol is IPropertySymbol prop && prop.Name == "Length" && !prop.IsStatic && IsArrayLike(prop.ContainingType))
                        {
                            if (ResolvePlace(ma.Expression, pre, ctx) is VarPlace lp && !_vars[lp.Var].IsScalar && !_vars[lp.Var].IsContainer)
                                return new LenRef(lp.Var);
                        }
                        if ((symbol is IFieldSymbol || symbol is IPropertySymbol) && symbol.IsStatic == false && !(symbol is IPropertySymbol ip && ip.IsIndexer)
                            && IsPlaceSyntax(ma.Expression))
                        {
                            var place = ResolvePlace(ma, pre, ctx);
                            if (place != null) return ReadScalar(place) ?? Unsupported(syntax, "a struct or object used as a number");
                        }
                        if (symbol is IFieldSymbol field && field.IsStatic && field.IsReadOnly && TryMapScalar(field.Type, out var fty))
                            return new Opaque(FullName(field.ContainingType) + "." + field.Name, false, EquatableArray<Expr>.Empty, fty);
                        if (TryLowerInactiveMember(ma, symbol, pre, ctx, out var member)) return member;
                        return Unsupported(syntax, "member access other than span.Length, constants, static readonly fields and members of inactive ([NoDiff]) values");
                    }
                case ElementAccessExpressionSyntax ea:
                    return LowerElementAccess(ea, pre, ctx);
                case PrefixUnaryExpressionSyntax pu:
                    {
                        UnOp op;
                        switch (pu.Kind())
                        {
                            case SyntaxKind.UnaryMinusExpression: op = UnOp.Neg; break;
                            case SyntaxKind.UnaryPlusExpression: return LowerExpr(pu.Operand, pre, ctx);
                            case SyntaxKind.LogicalNotExpression: op = UnOp.Not; break;
                            default: return Unsupported(syntax, "'" + pu.OperatorToken.Text + "' inside an expression; use a separate statement");
                        }
                        var operand = LowerExpr(pu.Operand, pre, ctx);
                        return new Unary(op, operand, TypeOf(syntax, operand.Type));
                    }
                case BinaryExpressionSyntax be:
                    {
                        if (!Ops.TryParse(be.OperatorToken.Text, out var op))
                            return Unsupported(syntax, "operator '" + be.OperatorToken.Text + "' is not supported");
                        var left = LowerExpr(be.Left, pre, ctx);
                        var right = LowerExpr(be.Right, pre, ctx);
                        var ty = TypeOf(syntax, Wider(left.Type, right.Type));
                        if (Ops.IsBitwise(op) && ty != Ty.Bool && ty != Ty.Int && ty != Ty.Long)
                            return Unsupported(syntax, "bitwise operators on floating-point values");
                        return new Binary(op, left, right, ty);
                    }
                case SwitchExpressionSyntax se:
                    return LowerSwitchExpression(se, pre, ctx);
                case ConditionalExpressionSyntax ce:
                    {
                        var cond = LowerExpr(ce.Condition, pre, ctx);
                        var t = LowerExpr(ce.WhenTrue, pre, ExprContext.ConditionalBranch);
                        var f = LowerExpr(ce.WhenFalse, pre, ExprContext.ConditionalBranch);
                        var ty = TypeOf(syntax, Wider(t.Type, f.Type));
                        return new Conditional(cond, Convert(t, ty, true), Convert(f, ty, true), ty);
                    }
                case CastExpressionSyntax cast:
                    {
                        var target = _model.GetTypeInfo(cast.Type, _ct).Type;
                        if (target == null || !TryMapScalar(target, out var to))
                            return Unsupported(syntax, "casts to double, float, int, long or bool only");
                        var operand = LowerExpr(cast.Expression, pre, ctx);
                        if (operand.Type == to) return operand;
                        return new Cast(operand, to, false);
                    }
                case InvocationExpressionSyntax inv:
                    return LowerInvocation(inv, pre, ctx);
                case AssignmentExpressionSyntax:
                    return Unsupported(syntax, "assignments inside expressions; write them as separate statements");
                case PostfixUnaryExpressionSyntax:
                    return Unsupported(syntax, "'++' and '--' inside an expression; write them as separate statements");
                case LambdaExpressionSyntax:
                case AnonymousMethodExpressionSyntax:
                    return Unsupported(syntax, "lambdas and anonymous methods are not supported; write a static [Differentiable] method");
                case ObjectCreationExpressionSyntax:
                case ImplicitObjectCreationExpressionSyntax:
                    return Unsupported(syntax, "objects cannot be created in [Differentiable] code");
                case ArrayCreationExpressionSyntax:
                    return Unsupported(syntax, "arrays can only be created in a local declaration: 'var a = new double[n];'");
                case StackAllocArrayCreationExpressionSyntax:
                    return Unsupported(syntax, "stackalloc is not supported; use 'new double[n]'");
                case InterpolatedStringExpressionSyntax:
                    return Unsupported(syntax, "strings are not supported");
                default:
                    return Unsupported(syntax, "rewrite it with arithmetic, Math functions and calls of [Differentiable] methods");
            }
        }

        /// <summary>
        /// A field or property of an inactive value (<c>grid.Dx</c>, <c>grid.Boundary.Lo</c>), or a static
        /// readonly field or get-only static property of an inactive type: an inactive value itself.
        /// </summary>
        private bool TryLowerInactiveMember(MemberAccessExpressionSyntax ma, ISymbol? symbol, List<Stmt> pre, ExprContext ctx, out Expr result)
        {
            result = Error();
            ITypeSymbol? type = symbol is IFieldSymbol f ? f.Type : symbol is IPropertySymbol p && !p.IsIndexer && p.GetMethod != null ? p.Type : null;
            if (type == null) return false;
            var ty = MapInactiveResult(type, out var typeName);
            if (ty == Ty.Void) return false;
            if (symbol!.IsStatic)
            {
                if (symbol is IFieldSymbol sf && !sf.IsReadOnly && !sf.IsConst) return false;
                if (symbol is IPropertySymbol sp && sp.SetMethod != null) return false;
                if (ty != Ty.Other && !IsInactiveType(symbol.ContainingType)) return false;
                result = new Opaque(FullName(symbol.ContainingType) + "." + symbol.Name, false, EquatableArray<Expr>.Empty, ty, null, typeName);
                return true;
            }
            var receiverType = _model.GetTypeInfo(ma.Expression, _ct).Type;
            if (receiverType == null || TryMapType(receiverType, out _, out _) || !IsInactiveValue(ma.Expression, receiverType)) return false;
            var receiver = LowerExpr(ma.Expression, pre, ctx == ExprContext.Target ? ExprContext.Plain : ctx);
            if (IsError(receiver)) { result = receiver; return true; }
            if (receiver.Type != Ty.Other) return false;
            result = new Opaque(symbol.Name, false, EquatableArray<Expr>.Empty, ty, receiver, typeName);
            return true;
        }

        /// <summary>Whether an expression of a non-numeric type is an inactive value (a [NoDiff] parameter of any type, or a value of an inactive type).</summary>
        private bool IsInactiveValue(ExpressionSyntax e, ITypeSymbol type)
        {
            if (IsInactiveType(type)) return true;
            return _model.GetSymbolInfo(e, _ct).Symbol is ISymbol s && _symbolVars.TryGetValue(s, out int v) && _vars[v].Elem == Ty.Other;
        }

        /// <summary>A read of a field of this, of a struct variable or of an element's member, as a scalar.</summary>
        private Expr LowerPlaceRead(ExpressionSyntax syntax, List<Stmt> pre, ExprContext ctx)
        {
            var place = ResolvePlace(syntax, pre, ctx);
            if (place == null) return _diagnostics.Count > 0 ? Error() : Unsupported(syntax, "this member cannot be differentiated here");
            return ReadScalar(place) ?? Unsupported(syntax, "a struct or object used where a number is expected");
        }

        /// <summary>Whether an expression may name a place (so a member access below it is a field read).</summary>
        private bool IsPlaceSyntax(ExpressionSyntax e)
        {
            switch (e)
            {
                case ParenthesizedExpressionSyntax p: return IsPlaceSyntax(p.Expression);
                case ThisExpressionSyntax _: return _this >= 0;
                case IdentifierNameSyntax id:
                    {
                        var symbol = _model.GetSymbolInfo(id, _ct).Symbol;
                        if (symbol == null) return false;
                        if (_aliases.ContainsKey(symbol)) return true;
                        if (_symbolVars.TryGetValue(symbol, out int v)) return _vars[v].IsContainer;
                        return _this >= 0 && IsInstanceMemberOfThis(symbol);
                    }
                case MemberAccessExpressionSyntax ma:
                    return _model.GetSymbolInfo(ma, _ct).Symbol is ISymbol s && !s.IsStatic && (s is IFieldSymbol || s is IPropertySymbol) && IsPlaceSyntax(ma.Expression);
                case ElementAccessExpressionSyntax ea:
                    return IsPlaceSyntax(ea.Expression) || _model.GetSymbolInfo(ea.Expression, _ct).Symbol is ISymbol o && _symbolVars.ContainsKey(o);
                default: return false;
            }
        }

        private static bool IsArrayLike(ITypeSymbol? t) =>
            t != null && (t.SpecialType == SpecialType.System_Array || t.Name == "Span" || t.Name == "ReadOnlySpan");

        private Ty TypeOf(ExpressionSyntax syntax, Ty fallback)
        {
            var t = _model.GetTypeInfo(syntax, _ct).Type;
            return t != null && TryMapScalar(t, out var ty) ? ty : fallback;
        }

        private Expr Unsupported(ExpressionSyntax syntax, string hint)
        {
            if (UsesReportedParameter(syntax)) return Error();
            Report(Descriptors.UnsupportedExpression, syntax.GetLocation(), Shorten(syntax.ToString()), hint);
            return Error();
        }

        private static string Shorten(string s)
        {
            s = s.Replace("\r", " ").Replace("\n", " ");
            return s.Length > 60 ? s.Substring(0, 57) + "..." : s;
        }

        private Expr LowerName(IdentifierNameSyntax id, ISymbol? symbol, ExprContext ctx)
        {
            if (TryLowerStaticInput(id, symbol, ctx, out var staticInput)) return staticInput;
            if (symbol != null && _rows.ContainsKey(symbol))
                return Unsupported(id, "'" + id.Identifier.ValueText + "' names a row of a jagged array: read its elements (" + id.Identifier.ValueText + "[j]) and its Length; it cannot be passed on or assigned");
            switch (symbol)
            {
                case ILocalSymbol local when local.IsConst && TryFormatConstant(local.ConstantValue, out var t, out var ty):
                    return new Lit(t, ty);
                case ILocalSymbol _:
                case IParameterSymbol _:
                    if (_symbolVars.TryGetValue(symbol, out int v))
                    {
                        var var = _vars[v];
                        return new VarRef(v, var.Elem);
                    }
                    return Unsupported(id, "this variable cannot be used here (its type is not supported)");
                case IFieldSymbol field when field.IsStatic && field.IsReadOnly && TryMapScalar(field.Type, out var fty):
                    return new Opaque(FullName(field.ContainingType) + "." + field.Name, false, EquatableArray<Expr>.Empty, fty);
                case IFieldSymbol field when !field.IsStatic:
                    return Unsupported(id, "instance fields are not supported: pass the value as a parameter");
                default:
                    return Unsupported(id, "only parameters, locals, constants and static readonly fields can be used");
            }
        }

        internal static bool TryFormatConstant(object? value, out string text, out Ty ty)
        {
            switch (value)
            {
                case double d:
                    ty = Ty.Double;
                    if (double.IsNaN(d)) text = "double.NaN";
                    else if (double.IsPositiveInfinity(d)) text = "double.PositiveInfinity";
                    else if (double.IsNegativeInfinity(d)) text = "double.NegativeInfinity";
                    else
                    {
                        text = d.ToString("R", CultureInfo.InvariantCulture);
                        if (text.IndexOfAny(new[] { '.', 'E', 'e' }) < 0) text += ".0";
                    }
                    return true;
                case float f:
                    ty = Ty.Float;
                    if (float.IsNaN(f)) text = "float.NaN";
                    else if (float.IsPositiveInfinity(f)) text = "float.PositiveInfinity";
                    else if (float.IsNegativeInfinity(f)) text = "float.NegativeInfinity";
                    else text = f.ToString("R", CultureInfo.InvariantCulture) + "f";
                    return true;
                case int i:
                    ty = Ty.Int; text = i.ToString(CultureInfo.InvariantCulture); return true;
                // Narrow integer constants (const byte n = 5) promote to int wherever C# uses them in arithmetic.
                case byte _:
                case sbyte _:
                case short _:
                case ushort _:
                    ty = Ty.Int; text = System.Convert.ToInt32(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture); return true;
                case uint ui:
                    ty = Ty.Long; text = ui.ToString(CultureInfo.InvariantCulture) + "L"; return true;
                case ulong ul when ul <= long.MaxValue:
                    ty = Ty.Long; text = ul.ToString(CultureInfo.InvariantCulture) + "L"; return true;
                case long l:
                    ty = Ty.Long; text = l.ToString(CultureInfo.InvariantCulture) + "L"; return true;
                case bool b:
                    ty = Ty.Bool; text = b ? "true" : "false"; return true;
                default:
                    text = ""; ty = Ty.Void; return false;
            }
        }

        internal static string FullName(ITypeSymbol type) =>
            type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

        private Expr LowerInvocation(InvocationExpressionSyntax inv, List<Stmt> pre, ExprContext ctx)
        {
            var symbol = _model.GetSymbolInfo(inv, _ct).Symbol as IMethodSymbol;
            if (TryInlineCall(inv, symbol, pre, ctx, statement: false, out var inlined)) return inlined ?? Error();
            if (symbol == null)
                return Unsupported(inv, "the called method could not be resolved");
            if (TryLowerGetLength(inv, symbol, pre, ctx, out var dimension)) return dimension;
            if (TryLowerVectorScalar(inv, symbol, pre, ctx) is Expr vectorScalar) return vectorScalar;
            var containing = symbol.ContainingType?.ToDisplayString();
            if (containing == "System.Math" || containing == "System.MathF")
            {
                if (!TryMathFunction(symbol.Name, out var fn))
                {
                    Report(Descriptors.UnsupportedMathFunction, inv.GetLocation(), containing + "." + symbol.Name, containing, symbol.Name);
                    return Error();
                }
                if (!TryMapScalar(symbol.ReturnType, out var rty))
                    return Unsupported(inv, "this overload of " + symbol.Name + " is not supported");
                var args = new List<Expr>();
                for (int i = 0; i < inv.ArgumentList.Arguments.Count; i++)
                {
                    var a = LowerExpr(inv.ArgumentList.Arguments[i].Expression, pre, ctx);
                    if (i < symbol.Parameters.Length && TryMapScalar(symbol.Parameters[i].Type, out var pty)) a = Convert(a, pty, true);
                    args.Add(a);
                }
                if (symbol.Name == "Round" && args.Count != 1)
                    return Unsupported(inv, "Math.Round with digits or a rounding mode");
                return new MathCall(fn, containing == "System.MathF", args.ToEquatableArray(), rty);
            }
            if (symbol.IsStatic && TryMapScalar(symbol.ReturnType, out var ity) && (ity == Ty.Int || ity == Ty.Long || ity == Ty.Bool)
                && symbol.Parameters.All(p => p.RefKind == RefKind.None && TryMapScalar(p.Type, out _)))
            {
                // A helper that returns an integer or boolean (an index function, double.IsNaN): inactive, called as is.
                var args = new List<Expr>();
                foreach (var a in inv.ArgumentList.Arguments) args.Add(LowerExpr(a.Expression, pre, ctx));
                return new Opaque(FullName(symbol.ContainingType!) + "." + symbol.Name, true, args.ToEquatableArray(), ity);
            }
            if (TryLowerInactiveCall(inv, symbol, pre, ctx, out var inactive)) return inactive;
            if (IsUserCallCandidate(symbol))
            {
                if (ctx == ExprContext.LoopCondition)
                {
                    Report(Descriptors.CallPlacement, inv.GetLocation(), symbol.Name, "inside a loop condition is not supported");
                    return Error();
                }
                if (ctx == ExprContext.ConditionalBranch)
                {
                    Report(Descriptors.CallPlacement, inv.GetLocation(), symbol.Name, "inside a branch of ?: is not supported (both branches would be evaluated)");
                    return Error();
                }
                int result = LowerUserCall(inv, symbol, pre, ctx, discardResult: false);
                return result < 0 ? Error() : new VarRef(result, _vars[result].Elem);
            }
            if (symbol.IsStatic && !symbol.ReturnsVoid && TryMapScalar(symbol.ReturnType, out _)
                || symbol.IsStatic && symbol.ReturnsVoid)
            {
                // A call the generator could chain if it had a derivative.
                return ReportNoDerivative(inv, symbol);
            }
            return Unsupported(inv, UnsupportedCallHint(symbol));
        }

        /// <summary>
        /// A call whose result carries no derivative: a method of an inactive value (<c>grid.Index(i, j)</c>),
        /// or a static method that takes no float/double parameter and returns a number, a bool or an
        /// inactive value, and is neither [Differentiable] nor given a derivative. It runs as written.
        /// </summary>
        private bool TryLowerInactiveCall(InvocationExpressionSyntax inv, IMethodSymbol symbol, List<Stmt> pre, ExprContext ctx, out Expr result)
        {
            result = Error();
            if (!IsInactiveCallShape(symbol)) return false;
            var ty = MapInactiveResult(symbol.ReturnType, out var typeName);
            if (symbol.Parameters.Length != inv.ArgumentList.Arguments.Count || inv.ArgumentList.Arguments.Any(a => a.NameColon != null)) return false;
            Expr? receiver = null;
            if (!symbol.IsStatic)
            {
                if (!(inv.Expression is MemberAccessExpressionSyntax ma)) return false;
                var receiverType = _model.GetTypeInfo(ma.Expression, _ct).Type;
                if (receiverType == null || TryMapType(receiverType, out _, out _) || !IsInactiveValue(ma.Expression, receiverType)) return false;
                receiver = LowerExpr(ma.Expression, pre, ctx);
                if (IsError(receiver)) { result = receiver; return true; }
                if (receiver.Type != Ty.Other) return false;
            }
            var args = new List<Expr>();
            for (int i = 0; i < symbol.Parameters.Length; i++)
            {
                var a = LowerExpr(inv.ArgumentList.Arguments[i].Expression, pre, ctx);
                if (TryMapScalar(symbol.Parameters[i].Type, out var pty)) a = Convert(a, pty, true);
                args.Add(a);
            }
            string callee = receiver != null ? symbol.Name : FullName(symbol.ContainingType!) + "." + symbol.Name;
            result = new Opaque(callee, true, args.ToEquatableArray(), ty, receiver, typeName);
            return true;
        }

        /// <summary>
        /// A method whose result cannot carry a derivative from its arguments: not [Differentiable], no
        /// registered derivative, no float/double parameter, a numeric, bool or inactive result.
        /// </summary>
        private static bool IsInactiveCallShape(IMethodSymbol symbol)
        {
            if (symbol.ReturnsVoid || symbol.IsGenericMethod || symbol.MethodKind != MethodKind.Ordinary) return false;
            if (HasDifferentiable(symbol) || FindDerivativeOnTypes(symbol, 0) != null) return false;
            if (MapInactiveResult(symbol.ReturnType, out _) == Ty.Void) return false;
            foreach (var p in symbol.Parameters)
            {
                if (p.RefKind != RefKind.None && p.RefKind != RefKind.In) return false;
                if (TryMapScalar(p.Type, out var pt) ? pt == Ty.Double || pt == Ty.Float : !IsInactiveType(p.Type)) return false;
            }
            return true;
        }

        private static bool IsUserCallCandidate(IMethodSymbol symbol)
        {
            if (symbol.IsGenericMethod || symbol.MethodKind != MethodKind.Ordinary) return false;
            if (!symbol.IsStatic) return HasDifferentiable(symbol);
            var containing = symbol.ContainingType?.ToDisplayString();
            if (containing == "System.Math" || containing == "System.MathF") return false;
            if (HasDifferentiable(symbol)) return true;
            return FindDerivativeOnTypes(symbol, 0) != null || symbol.ContainingType?.ContainingNamespace?.ToDisplayString()?.StartsWith("System", StringComparison.Ordinal) != true;
        }

        /// <summary>Whether an attribute is of the named class (its short name is compared first: most attributes are not).</summary>
        internal static bool IsAttribute(AttributeData a, string fullName)
        {
            var c = a.AttributeClass;
            return c != null && fullName.EndsWith("." + c.Name, StringComparison.Ordinal) && c.ToDisplayString() == fullName;
        }

        internal static bool HasDifferentiable(IMethodSymbol symbol) =>
            symbol.GetAttributes().Any(a => IsAttribute(a, DifferentiableAttributeName));

        /// <summary>Looks for [DerivativeOf(typeof(T), "M")] on the callee's own type (works across assemblies).</summary>
        private static IMethodSymbol? FindDerivativeOnTypes(IMethodSymbol target, int kind)
        {
            var type = target.ContainingType;
            if (type == null) return null;
            foreach (var member in type.GetMembers().OfType<IMethodSymbol>())
            {
                foreach (var attr in member.GetAttributes())
                {
                    if (!IsAttribute(attr, DerivativeOfAttributeName) || attr.ConstructorArguments.Length != 2) continue;
                    if (!(attr.ConstructorArguments[0].Value is ITypeSymbol t) || !SymbolEqualityComparer.Default.Equals(t, type)) continue;
                    if (!(attr.ConstructorArguments[1].Value is string name) || name != target.Name) continue;
                    int k = 0;
                    foreach (var named in attr.NamedArguments)
                        if (named.Key == "Kind" && named.Value.Value is int kv) k = kv;
                    if (k == kind) return member;
                }
            }
            return null;
        }

        private Expr ReportNoDerivative(InvocationExpressionSyntax inv, IMethodSymbol symbol)
        {
            var callee = BuildCallee(symbol);
            Report(Descriptors.NoDerivative, inv.GetLocation(), callee.DisplaySignature,
                symbol.ContainingType?.Name ?? "T", symbol.Name, callee.PullbackSignatureHint);
            return Error();
        }

        /// <summary>Lowers a call of a method that may have a derivative into a Call statement. Returns the result var or -1.</summary>
        private int LowerUserCall(InvocationExpressionSyntax inv, IMethodSymbol symbol, List<Stmt> output, ExprContext ctx, bool discardResult)
        {
            if (UsesReportedParameter(inv)) return -1; // its argument was reported already
            int receiver = -1;
            if (!symbol.IsStatic)
            {
                // An instance method of this object (M(x) or this.M(x)): its pullback takes our thisBar.
                bool onThis = inv.Expression is IdentifierNameSyntax || inv.Expression is MemberAccessExpressionSyntax ma && ma.Expression is ThisExpressionSyntax;
                if (_this < 0 || !onThis)
                {
                    Report(Descriptors.UnsupportedExpression, inv.GetLocation(), Shorten(inv.ToString()),
                        "instance methods can be called on this only (call a static [Differentiable] method, or a method of this object)");
                    return -1;
                }
                receiver = _this;
                // The call may change any of the object's state: every field is a variable the caller tapes around it.
                if (BuildCallee(symbol).UsesThis) DeclareAllState(inv);
            }
            int reported = _diagnostics.Count;
            int result = LowerCallCore(inv, symbol, inv.ArgumentList.Arguments.Select(a => a.Expression).ToList(), inv.ArgumentList.Arguments, receiver, output, ctx, discardResult);
            // A call is never dropped silently: a failure without a diagnostic of its own is named here.
            if (result < 0 && _diagnostics.Count == reported && !(discardResult && output.Count > 0 && output[output.Count - 1] is Call))
                Report(Descriptors.UnsupportedExpression, inv.GetLocation(), Shorten(inv.ToString()), "this call cannot be differentiated (its arguments could not be lowered)");
            return result;
        }

        /// <summary>A call of a differentiable method with its arguments (operators too): a Call statement; returns the result variable or -1.</summary>
        private int LowerCallCore(SyntaxNode site, IMethodSymbol symbol, List<ExpressionSyntax> argExprs, SeparatedSyntaxList<ArgumentSyntax>? arguments, int receiver,
            List<Stmt> output, ExprContext ctx, bool discardResult)
        {
            var inv = site;
            var callee = BuildCallee(symbol);
            if (callee.Params.Any(p => p.Elem == Ty.Void))
            {
                Report(Descriptors.UnsupportedExpression, inv.GetLocation(), symbol.Name, "the called method has a parameter type the generator does not support");
                return -1;
            }
            if (symbol.Parameters.Any(p => p.RefKind != RefKind.None && !(p.RefKind == RefKind.In && callee.Params[p.Ordinal].Storage == Storage.Struct)
                && !(callee.Params[p.Ordinal].Modifier != null && callee.PullbackName != null)))
            {
                // Without a derivative, what is missing is the derivative: DG0101 says which signature to write.
                if (callee.PullbackName == null)
                    Report(Descriptors.NoDerivative, inv.GetLocation(), callee.DisplaySignature, symbol.ContainingType?.Name ?? "T", symbol.Name, callee.PullbackSignatureHint);
                else
                    Report(Descriptors.UnsupportedExpression, inv.GetLocation(), symbol.Name,
                    "a call passing a struct or an array by ref or out is not differentiated yet (numbers are; the method itself is): return the updated struct and assign it");
                return -1;
            }
            var args = new List<Expr>();
            if (argExprs.Count != symbol.Parameters.Length || arguments != null && arguments.Value.Any(a => a.NameColon != null))
            {
                Report(Descriptors.UnsupportedExpression, inv.GetLocation(), symbol.Name, "pass every argument, in order, without names");
                return -1;
            }
            for (int i = 0; i < argExprs.Count; i++)
            {
                var p = callee.Params[i];
                if (p.Modifier != null)
                {
                    // ref/out: the variable itself, which the call reads (ref) and writes.
                    int rv = LowerRefArgument(arguments!.Value[i], p, output, ctx);
                    if (rv < 0) return -1;
                    args.Add(new VarRef(rv, p.Elem));
                    continue;
                }
                if (p.Storage == Storage.Struct)
                {
                    // A struct argument: a container the callee's pullback reads (and whose adjoint it accumulates).
                    var sv = LowerStruct(argExprs[i], output, ctx);
                    if (sv == null) return -1;
                    args.Add(new VarRef(ContainerOf(sv, output), Ty.Other));
                    continue;
                }
                var a = LowerExpr(argExprs[i], output, ctx);
                if (p.Storage != Storage.Scalar)
                {
                    if (!(a is VarRef vr) || _vars[vr.Var].Storage == Storage.Scalar)
                    {
                        if (!IsError(a))
                            Report(Descriptors.UnsupportedExpression, argExprs[i].GetLocation(), Shorten(argExprs[i].ToString()),
                                "pass a span or array variable directly (slices and expressions are not supported)");
                        return -1;
                    }
                    if (_vars[vr.Var].Elem != p.Elem || _vars[vr.Var].Aggregate != p.Aggregate)
                    {
                        Report(Descriptors.UnsupportedExpression, argExprs[i].GetLocation(), Shorten(argExprs[i].ToString()), "element types differ");
                        return -1;
                    }
                    if (_vars[vr.Var].Rank != p.Rank || _vars[vr.Var].Jagged != p.Jagged)
                    {
                        Report(Descriptors.UnsupportedExpression, argExprs[i].GetLocation(), Shorten(argExprs[i].ToString()), "the array's shape (rank, jagged or not) differs from the parameter's");
                        return -1;
                    }
                }
                else
                {
                    a = Convert(a, p.Elem, true);
                }
                args.Add(a);
            }
            // Registered once its arguments lowered: a call whose argument was reported gets no DG0101 on top.
            if (!_calleeIndex.TryGetValue(callee.Key + "/" + callee.Params.Count, out int index))
            {
                index = _callees.Count;
                _callees.Add(callee);
                _calleeIndex[callee.Key + "/" + callee.Params.Count] = index;
                if (callee.PullbackName == null)
                {
                    // Only the registry can tell whether it has a derivative: DG0101 goes on this, its first call, if not.
                    string typeShort = callee.TypeName.Substring(callee.TypeName.LastIndexOf('.') + 1);
                    _pending.Add(new PendingCallee(callee.Key, DiagnosticInfo.Create(Descriptors.NoDerivative, inv.GetLocation(),
                        callee.DisplaySignature, typeShort, callee.Name, callee.PullbackSignatureHint)));
                }
            }
            if (!RefArgumentsAreDistinct(callee, args, argExprs)) return -1;
            NoteAliasedArguments(inv, symbol, callee, args, argExprs);
            int resultVar = -1;
            if (callee.ReturnsArray) // kept even when discarded: its shape gives the pullback's zero resultBar
                resultVar = AddVar("_array", callee.ReturnElem, Storage.Array, VarRole.Temp, -1, false, null, null, callee.ReturnRank, callee.ReturnJagged);
            else if (callee.Return == Ty.Other && callee.ReturnTypeName != null && !discardResult)
                resultVar = AddStructContainer(FreshStructName(), symbol.ReturnType, VarRole.Temp, -1, false, null);
            else if (callee.Return != Ty.Void && !discardResult)
                resultVar = Temp("call", callee.Return);
            var call = new Call(NextId(), index, args.ToEquatableArray(), resultVar, receiver);
            if (callee.ReturnsArray) _arrayCallSites[call.Id] = inv.GetLocation();
            output.Add(call);
            return resultVar;
        }

        /// <summary>The container holding a struct value: its own when it is one whole container, else a fresh temporary.</summary>
        private int ContainerOf(StructValue sv, List<Stmt> output)
        {
            if (sv.Leaves.Count > 0 && sv.Leaves[0].Value is VarRef first && _vars[first.Var].IsLeaf)
            {
                int c = _vars[first.Var].Container;
                if (_vars[c].Storage == Storage.Struct && _vars[c].Container < 0
                    && sv.Leaves.All(l => l.Value is VarRef r && _vars[r.Var].Container == c && _vars[r.Var].Path == l.Path)
                    && _vars.Count(v => v.Container == c) == sv.Leaves.Count)
                    return c;
            }
            int t = AddStructContainer(FreshStructName(), sv.Type, VarRole.Temp, -1, false, null);
            AssignStruct(new VarPlace(t), sv, output);
            return t;
        }
        /// <summary>
        /// Describes a called method from its symbol alone (its body is never read here). Span use and
        /// capabilities are the conservative answers; for a [Differentiable] method of this compilation the
        /// capability table replaces them at emit time (<see cref="Pipeline.Stages.WithCapabilities"/>).
        /// </summary>
        private Callee BuildCallee(IMethodSymbol symbol)
        {
            if (_calleeCache.TryGetValue(symbol, out var known)) return known;
            var built = DescribeCallee(symbol);
            _calleeCache[symbol] = built;
            return built;
        }

        private Callee DescribeCallee(IMethodSymbol symbol)
        {
            var ps = new List<CalleeParam>();
            foreach (var p in symbol.Parameters)
            {
                bool noDiff = p.GetAttributes().Any(a => IsAttribute(a, NoDiffAttributeName));
                if (!noDiff && (p.RefKind == RefKind.None || p.RefKind == RefKind.In) && IsDifferentiableStruct(p.Type))
                {
                    ps.Add(new CalleeParam(p.Name, Ty.Other, Storage.Struct, false, true, false, OtherTypeName(p.Type)));
                    continue;
                }
                if (TryMapAggregateArray(p.Type, out var astorage, out var aelem))
                {
                    // Conservative until the capability table says how the callee uses it.
                    ps.Add(new CalleeParam(p.Name, Ty.Other, astorage, noDiff, true, astorage != Storage.ReadOnlySpan, OtherTypeName(aelem), Aggregate: true));
                    continue;
                }
                if (!TryMapType(p.Type, out var elem, out var storage, out int rank, out bool jagged))
                {
                    bool inactive = p.RefKind == RefKind.None && (noDiff || IsInactiveType(p.Type));
                    ps.Add(new CalleeParam(p.Name, inactive ? Ty.Other : Ty.Void, Storage.Scalar, true, false, false));
                    continue;
                }
                string? modifier = storage == Storage.Scalar && (p.RefKind == RefKind.Ref || p.RefKind == RefKind.Out) ? (p.RefKind == RefKind.Ref ? "ref" : "out") : null;
                ps.Add(new CalleeParam(p.Name, elem, storage, noDiff, true, storage == Storage.Span || storage == Storage.Array, Rank: rank, Jagged: jagged, Modifier: modifier));
            }
            TryMapReturn(symbol.ReturnType, out var ret);
            string? retName = null;
            Ty retElem = Ty.Void;
            int retRank = 0;
            bool retJagged = false;
            if (ret == Ty.Void && !symbol.ReturnsVoid && IsDifferentiableStruct(symbol.ReturnType)) { ret = Ty.Other; retName = OtherTypeName(symbol.ReturnType); }
            else if (ret == Ty.Void && !symbol.ReturnsVoid && IsDifferentiableArrayResult(symbol.ReturnType, out retElem, out retRank, out retJagged)) { ret = Ty.Other; retName = TypeText(symbol.ReturnType); }
            string typeName = FullName(symbol.ContainingType!);
            string key = typeName + "." + symbol.Name;
            string? pbType = null, pbName = null, pfType = null, pfName = null, rvType = null, rvName = null;
            if (HasDifferentiable(symbol))
            {
                pbType = typeName; pbName = symbol.Name + "Pullback";
                // A method of this compilation emits its pushforward when a caller's pushforward needs it (the
                // capability table sees to that); one of another assembly has it only if that assembly asked
                // for it, otherwise the caller's pushforward goes through the pullback.
                bool here = SymbolEqualityComparer.Default.Equals(symbol.ContainingAssembly, _method.ContainingAssembly);
                if (here || symbol.ContainingType!.GetMembers(symbol.Name + "Pushforward").Any(m => m is IMethodSymbol))
                {
                    pfType = typeName; pfName = symbol.Name + "Pushforward";
                }
            }
            else
            {
                var pb = FindDerivativeOnTypes(symbol, 0);
                if (pb != null) { pbType = FullName(pb.ContainingType); pbName = pb.Name; }
                var pf = FindDerivativeOnTypes(symbol, 1);
                if (pf != null) { pfType = FullName(pf.ContainingType); pfName = pf.Name; }
                var rv = FindDerivativeOnTypes(symbol, 2);
                if (rv != null) { rvType = FullName(rv.ContainingType); rvName = rv.Name; }
            }
            string display = symbol.ContainingType!.Name + "." + symbol.Name + "(" + string.Join(", ", symbol.Parameters.Select(p => RefKindText(p.RefKind) + TypeText(p.Type))) + ")";
            var hint = new System.Text.StringBuilder();
            hint.Append(TypeText(symbol.ReturnType)).Append(' ').Append(symbol.Name).Append("Pullback(");
            var parts = new List<string>();
            foreach (var p in symbol.Parameters) parts.Add(RefKindText(p.RefKind) + TypeText(p.Type) + " " + p.Name);
            bool realReturn = ret == Ty.Double || ret == Ty.Float || ret == Ty.Other;
            if (realReturn) parts.Add(TypeText(symbol.ReturnType) + " resultBar");
            for (int i = 0; i < ps.Count; i++)
            {
                if (!ps[i].HasAdjoint) continue;
                string t = ps[i].Elem == Ty.Float ? "float" : "double";
                // The adjoint of a multi-dimensional or jagged array is an array of the same shape; of a flat one, a span.
                parts.Add(ps[i].Storage == Storage.Scalar ? "ref " + t + " " + ps[i].Name + "Bar"
                    : ps[i].Rank > 1 ? TypeText(symbol.Parameters[i].Type) + " " + ps[i].Name + "Bar"
                    : "Span<" + t + "> " + ps[i].Name + "Bar");
            }
            hint.Append(string.Join(", ", parts)).Append(')');
            return new Callee(key, Signature(symbol), typeName, symbol.Name, ps.ToEquatableArray(), ret, pbType, pbName, pfType, pfName,
                display, hint.ToString(), ReverseType: rvType, ReverseName: rvName,
                IsInstance: !symbol.IsStatic, ReturnTypeName: retName, Operator: OperatorToken(symbol), UsesThis: !symbol.IsStatic && UsesInstanceState(symbol),
                HasParallel: IsDataParallel(symbol) && HasDifferentiable(symbol),
                DeviceClass: HasDifferentiable(symbol) ? null : HandWrittenDevice(symbol, ps),
                ReturnElem: retElem, ReturnRank: retRank, ReturnJagged: retJagged);
        }

        /// <summary>
        /// The name of a callee's hand-written ILGPU forms (docs/generated-code.md, "Hand-written device forms"): a
        /// static class <c>{Name}Device</c> nested in the callee's declaring type whose public static <c>Run</c> and
        /// <c>Pullback</c> take the parameters generated device classes take (the accelerator; each parameter in order,
        /// a 1D float/double span or array as <c>ArrayView&lt;T&gt;</c>, anything else as its own type; Pullback then
        /// one <c>ArrayView&lt;T&gt;</c> adjoint per differentiable array parameter and one one-element view per
        /// differentiable float/double parameter). Null when there is none or its signatures differ.
        /// </summary>
        private static string? HandWrittenDevice(IMethodSymbol symbol, List<CalleeParam> ps)
        {
            if (!symbol.IsStatic || symbol.ContainingType == null) return null;
            var cls = symbol.ContainingType.GetTypeMembers(symbol.Name + "Device").FirstOrDefault(t => t.IsStatic && t.Arity == 0);
            if (cls == null || cls.DeclaredAccessibility == Microsoft.CodeAnalysis.Accessibility.Private) return null;
            static string ViewOf(Ty t) => "ILGPU.ArrayView<" + (t == Ty.Float ? "float" : "double") + ">";
            var run = new List<System.Func<ITypeSymbol, bool>> { t => t.ToDisplayString() == "ILGPU.Runtime.Accelerator" };
            for (int i = 0; i < ps.Count; i++)
            {
                var p = ps[i];
                var type = symbol.Parameters[i].Type;
                if (p.Modifier != null || symbol.Parameters[i].RefKind != RefKind.None || p.Aggregate || p.Storage == Storage.Struct) return null;
                bool array = p.Storage != Storage.Scalar;
                if (array && (p.Rank != 1 || !(p.Elem == Ty.Float || p.Elem == Ty.Double || p.Elem == Ty.Int))) return null;
                string? view = array ? (p.Elem == Ty.Int ? "ILGPU.ArrayView<int>" : ViewOf(p.Elem)) : null;
                run.Add(view != null ? (t => t.ToDisplayString() == view) : (t => SymbolEqualityComparer.Default.Equals(t, type)));
            }
            var pull = new List<System.Func<ITypeSymbol, bool>>(run);
            foreach (var p in ps) if (p.Storage != Storage.Scalar && p.HasAdjoint) { var v = ViewOf(p.Elem); pull.Add(t => t.ToDisplayString() == v); }
            foreach (var p in ps) if (p.Storage == Storage.Scalar && p.HasAdjoint) { var v = ViewOf(p.Elem); pull.Add(t => t.ToDisplayString() == v); }
            bool Has(string name, List<System.Func<ITypeSymbol, bool>> shape) => cls.GetMembers(name).OfType<IMethodSymbol>().Any(m =>
                m.IsStatic && m.ReturnsVoid && !m.IsGenericMethod && m.DeclaredAccessibility == Microsoft.CodeAnalysis.Accessibility.Public && m.Parameters.Length == shape.Count
                && m.Parameters.Select((q, k) => q.RefKind == RefKind.None && shape[k](q.Type)).All(x => x));
            return Has("Run", run) && Has("Pullback", pull) ? cls.Name : null;
        }

        /// <summary>The C# token of a user-defined operator ("+" for op_Addition), which generated code writes as an operator.</summary>
        private static string? OperatorToken(IMethodSymbol m)
        {
            if (m.MethodKind != MethodKind.UserDefinedOperator) return null;
            switch (m.Name)
            {
                case "op_Addition": return "+";
                case "op_Subtraction": return "-";
                case "op_Multiply": return "*";
                case "op_Division": return "/";
                case "op_UnaryNegation": return "-";
                case "op_UnaryPlus": return "+";
                default: return null;
            }
        }

        /// <summary>
        /// Whether an instance method reads or writes float/double state of its object (then its pullback takes
        /// thisBar): a use of an instance field or auto-property that holds such data.
        /// </summary>
        private bool UsesInstanceState(IMethodSymbol m)
        {
            var syntax = m.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_ct);
            if (syntax == null) return true;
            var model = _model.Compilation.GetSemanticModel(syntax.SyntaxTree);
            foreach (var id in syntax.DescendantNodes().OfType<IdentifierNameSyntax>())
            {
                var s = model.GetSymbolInfo(id, _ct).Symbol;
                if (s == null || s.IsStatic || !(s is IFieldSymbol || s is IPropertySymbol) || !InheritsFrom(m.ContainingType, s.ContainingType)) continue;
                var t = s is IFieldSymbol f ? f.Type : ((IPropertySymbol)s).Type;
                if (!IsInactiveType(t) && !(TryMapScalar(t, out var ty) && ty != Ty.Double && ty != Ty.Float)) return true;
            }
            return false;
        }

    }
}
