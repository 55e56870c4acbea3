using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Structs, objects and instance state, lowered by scalar replacement: a struct variable becomes a
    /// container and one leaf variable per float/double (or inactive) field, a field of <c>this</c> a
    /// leaf of the This container, an element of an array of structs an element reference with a field
    /// path. Whole-struct values (a Vector3 sum, a constructor, a copy) are lowered leaf by leaf. The
    /// analyses and transformers then see scalars and arrays only, and generated code keeps the user's
    /// names (<c>r.X</c>, <c>this.Temperature</c>, <c>bodies[i].Pos.X</c>; adjoints <c>rBar.X</c>, …).
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>The container of the instance an instance method runs on (-1 for static methods).</summary>
        private int _this = -1;

        /// <summary>Leaf variables by (top container, path).</summary>
        private readonly Dictionary<(int Container, string Path), int> _leaves = new Dictionary<(int, string), int>();

        /// <summary>UnsafeAccessor methods the generated file declares (name → declaration), for members that cannot be written directly.</summary>
        private readonly Dictionary<string, string> _accessors = new Dictionary<string, string>(StringComparer.Ordinal);

        // ------------------------------------------------------------------ types

        /// <summary>A float/double or inactive scalar field reachable inside a struct value (through nested struct fields).</summary>
        internal sealed class Leaf
        {
            public Leaf(string path, ITypeSymbol type, Ty ty, string? typeName)
            {
                Path = path;
                Type = type;
                Ty = ty;
                TypeName = typeName;
            }

            /// <summary>".X", ".Pos.X".</summary>
            public string Path { get; }

            public ITypeSymbol Type { get; }

            public Ty Ty { get; }

            public string? TypeName { get; }
        }

        /// <summary>
        /// A struct the generator differentiates by its fields: not inactive, and every instance field is a
        /// number, a bool, an inactive value or (recursively) such a struct, accessible from generated code.
        /// </summary>
        internal bool IsDifferentiableStruct(ITypeSymbol type) =>
            type.IsValueType && type.TypeKind == TypeKind.Struct && !type.IsRefLikeType && !IsInactiveType(type) && !TryMapScalar(type, out _)
            && !(type is INamedTypeSymbol n && n.IsGenericType && !n.IsTupleType && n.ContainingNamespace?.ToDisplayString() == "System") && Layout(type) != null;

        private readonly Dictionary<ITypeSymbol, List<Leaf>?> _layouts = new Dictionary<ITypeSymbol, List<Leaf>?>(SymbolEqualityComparer.Default);

        /// <summary>The leaves of a struct (null when a field is of a type the generator cannot split).</summary>
        internal List<Leaf>? Layout(ITypeSymbol type)
        {
            if (_layouts.TryGetValue(type, out var cached)) return cached;
            _layouts[type] = null; // a struct cannot contain itself; guards recursion
            var leaves = new List<Leaf>();
            if (type is INamedTypeSymbol tuple && tuple.IsTupleType)
            {
                var tupleLeaves = TupleLayout(tuple);
                _layouts[type] = tupleLeaves;
                return tupleLeaves;
            }
            foreach (var member in DataMembers(type))
            {
                var mtype = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
                string path = "." + member.Name;
                if (member is IFieldSymbol rf && rf.RefKind != RefKind.None) return null; // a ref field (Span's): not data
                if (TryMapScalar(mtype, out var ty)) { leaves.Add(new Leaf(path, mtype, ty, null)); continue; }
                if (IsInactiveType(mtype)) { leaves.Add(new Leaf(path, mtype, Ty.Other, OtherTypeName(mtype))); continue; }
                if (mtype.IsValueType && Layout(mtype) is List<Leaf> inner)
                {
                    foreach (var l in inner) leaves.Add(new Leaf(path + l.Path, l.Type, l.Ty, l.TypeName));
                    continue;
                }
                return null;
            }
            _layouts[type] = leaves;
            return leaves;
        }

        /// <summary>
        /// The instance data members of a struct as generated code reaches them: public/internal fields, and
        /// auto-properties (by name; their backing fields hold the data). Null entries are skipped.
        /// </summary>
        private IEnumerable<ISymbol> DataMembers(ITypeSymbol type)
        {
            foreach (var m in type.GetMembers())
            {
                if (m.IsStatic) continue;
                if (m is IFieldSymbol f)
                {
                    if (f.IsImplicitlyDeclared) continue; // a backing field: its property is listed instead
                    yield return f;
                }
                else if (m is IPropertySymbol p && !p.IsIndexer && IsAutoProperty(p))
                {
                    yield return p;
                }
            }
        }

        private static bool IsAutoProperty(IPropertySymbol p) =>
            p.ContainingType.GetMembers().OfType<IFieldSymbol>().Any(f => SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, p));

        private static IFieldSymbol? BackingField(IPropertySymbol p) =>
            p.ContainingType.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, p));

        // ------------------------------------------------------------------ containers

        /// <summary>Creates a struct container (a parameter, a local, the result) with a leaf per field; returns its id.</summary>
        private int AddStructContainer(string name, ITypeSymbol type, VarRole role, int paramIndex, bool noDiff, ISymbol? symbol, string? modifier = null)
        {
            int c = AddVar(name, Ty.Other, Storage.Struct, role, paramIndex, noDiff, symbol, OtherTypeName(type));
            if (modifier != null) _vars[c] = _vars[c] with { Modifier = modifier };
            foreach (var leaf in Layout(type)!)
            {
                int id = _vars.Count;
                _vars.Add(new Var(id, _vars[c].Name + leaf.Path, leaf.Ty, Storage.Scalar, VarRole.Leaf, -1,
                    noDiff || !(leaf.Ty == Ty.Double || leaf.Ty == Ty.Float), leaf.TypeName, c, leaf.Path));
                _leaves[(c, leaf.Path)] = id;
                UseAccessorIfNeeded(id, type);
            }
            return c;
        }

        private IEnumerable<int> LeavesOf(int container) =>
            _vars.Where(v => v.Container == container).Select(v => v.Id);

        /// <summary>The This container of an instance method.</summary>
        private void AddThis(IMethodSymbol method)
        {
            var type = method.ContainingType!;
            _this = AddVar("this", Ty.Other, type.IsValueType ? Storage.Struct : Storage.Object, VarRole.This, -1, false, null, OtherTypeName(type));
        }

        /// <summary>
        /// Declares a leaf for every field of this an instance call may change (a number, an array, the fields
        /// of a struct field, the fields of an object a field refers to, one level down), so the analysis sees
        /// the call write them and tapes what the reverse sweep needs. Leaves are otherwise created on first use.
        /// </summary>
        private void DeclareAllState(SyntaxNode at)
        {
            if (_this < 0) return;
            foreach (var m in DataMembers(_method.ContainingType!)) DeclareState(_this, "." + m.Name, m, at, 0);
        }

        private void DeclareState(int container, string path, ISymbol member, SyntaxNode at, int depth)
        {
            if (HasNoDiffAttribute(member)) return;
            var type = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
            if (TryMapType(type, out _, out var st, out _, out _) && st != Storage.Span && st != Storage.ReadOnlySpan)
            {
                // Below the first level only assignable fields: generated code restores them by assignment.
                if (depth == 0 || member is IFieldSymbol { IsReadOnly: false }) LeafOf(container, path, type, member, at);
                return;
            }
            if (depth > 0 || !(member is IFieldSymbol { IsReadOnly: false })) return;
            if (IsDifferentiableStruct(type) || type.TypeKind == TypeKind.Class && !IsInactiveType(type) && type.SpecialType == SpecialType.None
                && !(type is IArrayTypeSymbol) && type.ContainingNamespace?.ToDisplayString().StartsWith("System", System.StringComparison.Ordinal) != true)
                foreach (var inner in DataMembers(type)) DeclareState(container, path + "." + inner.Name, inner, at, depth + 1);
        }

        /// <summary>
        /// The leaf variable of a member path below a container (<c>this.Temperature</c>, <c>this.Gravity.Y</c>,
        /// <c>this.Weights</c>), created on first use. Returns -1 (after reporting) for a member it cannot name.
        /// </summary>
        private int LeafOf(int container, string path, ITypeSymbol type, ISymbol member, SyntaxNode at)
        {
            if (_leaves.TryGetValue((container, path), out int existing)) return existing;
            var c = _vars[container];
            Ty ty;
            Storage storage;
            string? typeName = null;
            int rank = 1;
            bool jagged = false;
            bool aggregate = false;
            if (TryMapType(type, out var elem, out var st, out rank, out jagged) && st != Storage.Span && st != Storage.ReadOnlySpan)
            {
                ty = elem;
                storage = st;
            }
            else if (TryMapAggregateArray(type, out var ast, out var aelem) && ast == Storage.Array)
            {
                // Vector3[] Positions, Body[] Bodies: an array variable whose elements are reached by paths.
                ty = Ty.Other;
                storage = Storage.Array;
                typeName = OtherTypeName(aelem);
                aggregate = true;
                _elementTypes[_vars.Count] = aelem;
            }
            else if (IsInactiveType(type))
            {
                ty = Ty.Other;
                storage = Storage.Scalar;
                typeName = OtherTypeName(type);
            }
            else
            {
                Report(Descriptors.UnsupportedExpression, at.GetLocation(), Shorten(at.ToString()),
                    "a member of type '" + type.ToDisplayString() + "' cannot be differentiated here yet (fields of float, double, int, long, bool, inactive types, float/double arrays and structs of those are)");
                return -1;
            }
            // A get-only auto-property or a readonly field cannot be assigned in generated code (the adjoint
            // instance must be): reach its storage through an UnsafeAccessor.
            string name = c.Name + path;
            string? accessor = null;
            string rest = path;
            if (container == _this && path.IndexOf('.', 1) < 0 && NeedsAccessor(member, type))
            {
                accessor = DeclareAccessor(member);
                name = accessor + "(this)";
                rest = "";
            }
            else if (container != _this && c.Storage == Storage.Struct && path.IndexOf('.', 1) < 0 && NeedsAccessor(member, type))
            {
                // A member of a struct value that cannot be assigned by name: see InitOnly.cs.
                accessor = DeclareAccessor(member, qualified: true) + "(ref " + ContainerSlot + ")";
                if (c.Role != VarRole.Param) name = accessor.Replace(ContainerSlot, c.Name);
            }
            int id = _vars.Count;
            bool real = ty == Ty.Double || ty == Ty.Float;
            _vars.Add(new Var(id, name, ty, storage, VarRole.Leaf, -1, !(real || aggregate) || c.NoDiff || HasNoDiffAttribute(member), typeName, container, rest, null, accessor, aggregate, rank, jagged,
                storage == Storage.Array && TryMapList(type, out _), aggregate && _elementTypes[id].TypeKind == TypeKind.Class,
                aggregate ? ObjectFields(_elementTypes[id]) : null));
            _leaves[(container, path)] = id;
            return id;
        }

        private static bool HasNoDiffAttribute(ISymbol member) =>
            member.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == NoDiffAttributeName);

        private static bool NeedsAccessor(ISymbol member, ITypeSymbol type)
        {
            bool scalar = TryMapScalar(type, out _);
            switch (member)
            {
                case IFieldSymbol f: return f.IsReadOnly && scalar;
                case IPropertySymbol p: return scalar && (p.SetMethod == null || p.SetMethod.IsInitOnly);
                default: return false;
            }
        }

        /// <summary>
        /// "" for a method without [Differentiable] overloads; otherwise its parameter types, so the accessors of two
        /// overloads (declared in the same partial type by two generated files) do not collide.
        /// </summary>
        private string OverloadSuffix() =>
            DifferentiableOverloads() > 1 ? "_" + string.Join("_", _method.Parameters.Select(p => Identifier(p.Type.ToDisplayString()))) : "";

        /// <summary>How many [Differentiable] methods of the containing type share this method's name (its file hint and accessor names tell overloads apart).</summary>
        private int DifferentiableOverloads() =>
            _method.ContainingType?.GetMembers(_method.Name).OfType<IMethodSymbol>()
                .Count(m => m.GetAttributes().Any(a => IsAttribute(a, DifferentiableAttributeName))) ?? 1;

        /// <summary>A display name made an identifier fragment (<c>A.Lens</c> becomes <c>A_Lens</c>, <c>double[]</c> <c>double__</c>).</summary>
        private static string Identifier(string s) => new string(s.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray());

        /// <summary>Declares (once) an UnsafeAccessor returning a reference to the member's storage on an instance.</summary>
        private string DeclareAccessor(ISymbol member, bool qualified = false)
        {
            string field = member is IPropertySymbol p ? BackingField(p)?.Name ?? member.Name : member.Name;
            var owner = member.ContainingType!;
            string fieldType = OtherTypeName(member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type);
            // Accessors are members of the user's partial type: overloads of one method (each in its own file) and
            // owners of one short name in different namespaces must get different names.
            string name = "__" + _method.Name + OverloadSuffix() + "_" + (qualified ? Identifier(owner.ToDisplayString()) + "_" : "") + member.Name;
            if (!_accessors.ContainsKey(name))
            {
                string self = owner.IsValueType ? "ref " + OtherTypeName(owner) + " self" : OtherTypeName(owner) + " self";
                _accessors[name] = "[global::System.Runtime.CompilerServices.UnsafeAccessor(global::System.Runtime.CompilerServices.UnsafeAccessorKind.Field, Name = \""
                    + field + "\")] private static extern ref " + fieldType + " " + name + "(" + self + ");";
            }
            return name;
        }

        // ------------------------------------------------------------------ places

        /// <summary>A storage location an expression names: a whole variable, or an element (with a field path below it) of an array variable.</summary>
        private abstract class Place
        {
        }

        private sealed class VarPlace : Place
        {
            public VarPlace(int var) => Var = var;

            public int Var { get; }
        }

        private sealed class ElemPlace : Place
        {
            public ElemPlace(int var, Expr index, string path)
            {
                Var = var;
                Index = index;
                Path = path;
            }

            public int Var { get; }

            public Expr Index { get; }

            public string Path { get; }
        }

        /// <summary>A path below a container that is not a variable itself (a nested struct or object member): <c>this.Gravity</c>.</summary>
        private sealed class PathPlace : Place
        {
            public PathPlace(int container, string path)
            {
                Container = container;
                Path = path;
            }

            public int Container { get; }

            public string Path { get; }
        }

        /// <summary>Aliases: a local of a class type bound to an element (<c>Body b = bodies[i]</c>, <c>foreach (var b in bodies)</c>).</summary>
        private readonly Dictionary<ISymbol, Place> _aliases = new Dictionary<ISymbol, Place>(SymbolEqualityComparer.Default);

        /// <summary>
        /// The place an expression names, or null when it is not a place this lowering knows (a value).
        /// Reports and returns null on a member it cannot reach.
        /// </summary>
        private Place? ResolvePlace(ExpressionSyntax e, List<Stmt> pre, ExprContext ctx)
        {
            switch (e)
            {
                case ParenthesizedExpressionSyntax p:
                    return ResolvePlace(p.Expression, pre, ctx);
                case ThisExpressionSyntax _:
                    return _this >= 0 ? new VarPlace(_this) : null;
                case IdentifierNameSyntax id:
                    {
                        var symbol = _model.GetSymbolInfo(id, _ct).Symbol;
                        if (symbol == null) return null;
                        if (_aliases.TryGetValue(symbol, out var alias)) return alias;
                        if ((symbol is ILocalSymbol || symbol is IParameterSymbol) && _symbolVars.TryGetValue(symbol, out int v)) return new VarPlace(v);
                        if (_this >= 0 && IsInstanceMemberOfThis(symbol)) return Member(new VarPlace(_this), symbol, id);
                        return null;
                    }
                case MemberAccessExpressionSyntax ma when ma.IsKind(SyntaxKind.SimpleMemberAccessExpression):
                    {
                        var symbol = _model.GetSymbolInfo(ma, _ct).Symbol;
                        if (!(symbol is IFieldSymbol || symbol is IPropertySymbol) || symbol.IsStatic) return null;
                        if (symbol is IPropertySymbol prop && (prop.IsIndexer || !IsAutoProperty(prop)) && !IsKnownVectorMember(prop)) return null;
                        var owner = ResolvePlace(ma.Expression, pre, ctx);
                        return owner == null ? null : Member(owner, symbol, ma);
                    }
                case ElementAccessExpressionSyntax ea when ea.ArgumentList.Arguments.Count == 1:
                    {
                        var owner = ResolvePlace(ea.Expression, pre, ctx);
                        if (!(owner is VarPlace vp) || _vars[vp.Var].IsScalar || _vars[vp.Var].IsContainer) return null;
                        var index = LowerExpr(ea.ArgumentList.Arguments[0].Expression, pre, ctx == ExprContext.Target ? ExprContext.Plain : ctx);
                        return new ElemPlace(vp.Var, index, "");
                    }
                default:
                    return null;
            }
        }

        private bool IsInstanceMemberOfThis(ISymbol symbol) =>
            (symbol is IFieldSymbol || symbol is IPropertySymbol p && !p.IsIndexer) && !symbol.IsStatic
            && _method.ContainingType != null && InheritsFrom(_method.ContainingType, symbol.ContainingType);

        private static bool InheritsFrom(ITypeSymbol type, ITypeSymbol? baseType)
        {
            for (var t = type; t != null; t = t.BaseType)
                if (SymbolEqualityComparer.Default.Equals(t, baseType)) return true;
            return false;
        }

        /// <summary>Members of System.Numerics vectors that read like fields (they are fields: X, Y, Z, W).</summary>
        private static bool IsKnownVectorMember(IPropertySymbol p) => false;

        /// <summary>The place of <c>owner.member</c>.</summary>
        private Place? Member(Place owner, ISymbol member, SyntaxNode at)
        {
            if (member is IPropertySymbol prop && !IsAutoProperty(prop))
            {
                Report(Descriptors.UnsupportedExpression, at.GetLocation(), Shorten(at.ToString()),
                    "'" + member.Name + "' is a computed property; read the fields it is computed from, or call a [Differentiable] method instead");
                return null;
            }
            var type = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
            string name = DataMemberName(member);
            switch (owner)
            {
                case VarPlace vp when _vars[vp.Var].IsContainer:
                    return MemberOfContainer(vp.Var, "." + name, type, member, at);
                case PathPlace pp:
                    return MemberOfContainer(pp.Container, pp.Path + "." + name, type, member, at);
                case ElemPlace ep:
                    return new ElemPlace(ep.Var, ep.Index, ep.Path + "." + name);
                default:
                    return null;
            }
        }

        private Place? MemberOfContainer(int container, string path, ITypeSymbol type, ISymbol member, SyntaxNode at)
        {
            if (_leaves.TryGetValue((container, path), out int leaf)) return new VarPlace(leaf);
            // A nested struct or object: not a variable itself; its members are leaves of the same container.
            if (!TryMapType(type, out _, out _) && !IsInactiveType(type) && (IsDifferentiableStruct(type) || type.TypeKind == TypeKind.Class))
            {
                if (IsDifferentiableStruct(type))
                {
                    // A struct-typed property (or readonly field) of this cannot be assigned field by field
                    // (CS1612): its fields are reached through a reference to its storage.
                    string? acc = container == _this && path.IndexOf('.', 1) < 0
                        && _method.ContainingType?.IsValueType == false
                        && (member is IPropertySymbol || member is IFieldSymbol { IsReadOnly: true }) ? DeclareAccessor(member) : null;
                    foreach (var l in Layout(type)!)
                        if (!_leaves.ContainsKey((container, path + l.Path))) CreateLeaf(container, path + l.Path, l, acc, l.Path);
                }
                return new PathPlace(container, path);
            }
            int id = LeafOf(container, path, type, member, at);
            return id < 0 ? null : new VarPlace(id);
        }

        private void CreateLeaf(int container, string path, Leaf l, string? accessor = null, string? accessorPath = null)
        {
            int id = _vars.Count;
            var c = _vars[container];
            _vars.Add(new Var(id, accessor != null ? accessor + "(this)" + accessorPath : c.Name + path, l.Ty, Storage.Scalar, VarRole.Leaf, -1,
                c.NoDiff || !(l.Ty == Ty.Double || l.Ty == Ty.Float), l.TypeName, container, accessor != null ? accessorPath : path, null, accessor));
            _leaves[(container, path)] = id;
        }

        /// <summary>The scalar read of a place (null when the place is not a scalar).</summary>
        private Expr? ReadScalar(Place place)
        {
            switch (place)
            {
                case VarPlace vp when _vars[vp.Var].IsScalar:
                    return new VarRef(vp.Var, _vars[vp.Var].Elem);
                case VarPlace vp when !_vars[vp.Var].IsContainer:
                    return new VarRef(vp.Var, _vars[vp.Var].Elem); // an array variable (this.Weights), used by element access and Length
                case ElemPlace ep:
                    {
                        var elemType = ElementLeafType(ep);
                        return elemType == Ty.Void ? null : new ElemRef(ep.Var, ep.Index, elemType, ep.Path.Length > 0 ? ep.Path : null);
                    }
                default:
                    return null;
            }
        }

        /// <summary>The IR type of an element place's leaf (Void when it is not a scalar leaf).</summary>
        private Ty ElementLeafType(ElemPlace ep)
        {
            var v = _vars[ep.Var];
            if (ep.Path.Length == 0) return v.Elem == Ty.Other && v.TypeName != null && _elementTypes.ContainsKey(ep.Var) ? Ty.Void : v.Elem;
            if (!_elementTypes.TryGetValue(ep.Var, out var elemType)) return Ty.Void;
            var layout = LeafLayoutOfElement(elemType);
            var leaf = layout?.FirstOrDefault(l => l.Path == ep.Path);
            return leaf?.Ty ?? Ty.Void;
        }

        /// <summary>Element types of arrays of structs or objects (by array variable).</summary>
        private readonly Dictionary<int, ITypeSymbol> _elementTypes = new Dictionary<int, ITypeSymbol>();

        /// <summary>The leaves of an element type: a struct's layout, or a class's data members (one level, plus nested structs).</summary>
        private List<Leaf>? LeafLayoutOfElement(ITypeSymbol type)
        {
            if (type.IsValueType) return Layout(type);
            var leaves = new List<Leaf>();
            foreach (var member in DataMembers(type).Concat(BaseDataMembers(type)))
            {
                var mtype = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
                string path = "." + member.Name;
                if (TryMapScalar(mtype, out var ty)) leaves.Add(new Leaf(path, mtype, ty, null));
                else if (IsInactiveType(mtype)) leaves.Add(new Leaf(path, mtype, Ty.Other, OtherTypeName(mtype)));
                else if (mtype.IsValueType && Layout(mtype) is List<Leaf> inner)
                    foreach (var l in inner) leaves.Add(new Leaf(path + l.Path, l.Type, l.Ty, l.TypeName));
            }
            return leaves;
        }

        private IEnumerable<ISymbol> BaseDataMembers(ITypeSymbol type)
        {
            for (var b = type.BaseType; b != null && b.SpecialType != SpecialType.System_Object; b = b.BaseType)
                foreach (var m in DataMembers(b)) yield return m;
        }
    }
}

namespace DiffGen.Generator.Lowering
{
    internal sealed partial class Lowerer
    {
        // ------------------------------------------------------------------ arrays of structs and objects

        /// <summary>
        /// An array or span whose elements are differentiable structs (Vector3[], Span&lt;Particle&gt;) or objects
        /// with float/double fields (Body[] of a class): elements are reached by field paths (<c>p[i].X</c>).
        /// </summary>
        internal bool TryMapAggregateArray(ITypeSymbol type, out Storage storage, out ITypeSymbol element)
        {
            storage = Storage.Array;
            element = type;
            if (type is IArrayTypeSymbol arr && arr.Rank == 1) element = arr.ElementType;
            else if (type is INamedTypeSymbol named && named.IsGenericType && named.TypeArguments.Length == 1
                && named.ContainingNamespace?.ToDisplayString() == "System" && (named.Name == "Span" || named.Name == "ReadOnlySpan"))
            {
                element = named.TypeArguments[0];
                storage = named.Name == "Span" ? Storage.Span : Storage.ReadOnlySpan;
            }
            else return false;
            if (IsDifferentiableStruct(element)) return true;
            return element.TypeKind == TypeKind.Class && !IsInactiveType(element) && element.SpecialType == SpecialType.None
                && LeafLayoutOfElement(element) is List<Leaf> l && l.Any(x => x.Ty == Ty.Double || x.Ty == Ty.Float);
        }

        /// <summary>Adds an array-of-structs/objects variable (parameter, local or field leaf).</summary>
        private int AddAggregateArray(string name, Storage storage, ITypeSymbol element, VarRole role, int paramIndex, bool noDiff, ISymbol? symbol)
        {
            int id = AddVar(name, Ty.Other, storage, role, paramIndex, noDiff, symbol, OtherTypeName(element));
            _vars[id] = _vars[id] with { Aggregate = true, ObjectElements = element.TypeKind == TypeKind.Class, ElementFields = ObjectFields(element) };
            _elementTypes[id] = element;
            return id;
        }

        // ------------------------------------------------------------------ struct values

        /// <summary>A struct value as its leaves (path → IR value), in the order of its type's layout.</summary>
        private sealed class StructValue
        {
            public StructValue(ITypeSymbol type, List<(string Path, Expr Value)> leaves)
            {
                Type = type;
                Leaves = leaves;
            }

            public ITypeSymbol Type { get; }

            public List<(string Path, Expr Value)> Leaves { get; }

            public Expr this[string path] => Leaves.First(l => l.Path == path).Value;
        }

        private static bool IsNumericsVector(ITypeSymbol? t) =>
            t != null && t.ContainingNamespace?.ToDisplayString() == "System.Numerics" && (t.Name == "Vector2" || t.Name == "Vector3" || t.Name == "Vector4");

        private static readonly string[] VectorAxes = { ".X", ".Y", ".Z", ".W" };

        private static int VectorSize(ITypeSymbol t) => t.Name == "Vector2" ? 2 : t.Name == "Vector3" ? 3 : 4;

        /// <summary>The leaves of a place holding a struct (a container, a path below one, an element).</summary>
        private StructValue? StructOfPlace(Place place, ITypeSymbol type)
        {
            var layout = Layout(type);
            if (layout == null) return null;
            var leaves = new List<(string, Expr)>();
            foreach (var l in layout)
            {
                Expr? e = null;
                switch (place)
                {
                    case VarPlace vp when _vars[vp.Var].IsContainer:
                        if (!_leaves.TryGetValue((vp.Var, l.Path), out int v)) { CreateLeaf(vp.Var, l.Path, l); v = _leaves[(vp.Var, l.Path)]; }
                        e = new VarRef(v, l.Ty);
                        break;
                    case PathPlace pp:
                        if (!_leaves.TryGetValue((pp.Container, pp.Path + l.Path), out int pv)) { CreateLeaf(pp.Container, pp.Path + l.Path, l); pv = _leaves[(pp.Container, pp.Path + l.Path)]; }
                        e = new VarRef(pv, l.Ty);
                        break;
                    case ElemPlace ep:
                        e = new ElemRef(ep.Var, ep.Index, l.Ty, ep.Path + l.Path);
                        break;
                }
                if (e == null) return null;
                leaves.Add((l.Path, e));
            }
            return new StructValue(type, leaves);
        }

        /// <summary>Lowers an expression of a differentiable struct type to its leaves (reports and returns null when it cannot).</summary>
        private StructValue? LowerStruct(ExpressionSyntax e, List<Stmt> pre, ExprContext ctx)
        {
            var info = _model.GetTypeInfo(e, _ct);
            // A tuple literal takes the tuple type it is converted to ((1, x) assigned to a (double, double)).
            var type = e is TupleExpressionSyntax ? info.ConvertedType ?? info.Type : info.Type;
            if (type == null || Layout(type) == null) { Unsupported(e, "a value of type '" + (type?.ToDisplayString() ?? "?") + "' cannot be split into fields"); return null; }
            switch (e)
            {
                case TupleExpressionSyntax te:
                    return LowerTupleLiteral(te, type, pre, ctx);
                case ParenthesizedExpressionSyntax p:
                    return LowerStruct(p.Expression, pre, ctx);
                case IdentifierNameSyntax _:
                case MemberAccessExpressionSyntax ma when !(_model.GetSymbolInfo(ma, _ct).Symbol is IPropertySymbol sp && sp.IsStatic):
                case ElementAccessExpressionSyntax _:
                case ThisExpressionSyntax _:
                    {
                        var place = ResolvePlace(e, pre, ctx);
                        if (place != null)
                        {
                            var value = StructOfPlace(place, type);
                            if (value == null) Unsupported(e, "this value of type '" + type.ToDisplayString() + "' cannot be split into fields here");
                            return value;
                        }
                        if (e is MemberAccessExpressionSyntax) break;
                        Unsupported(e, "this struct value cannot be differentiated here");
                        return null;
                    }
                case DefaultExpressionSyntax _:
                case LiteralExpressionSyntax lit when lit.IsKind(SyntaxKind.DefaultLiteralExpression):
                    return Constant(type, _ => "0");
                case ConditionalExpressionSyntax ce:
                    {
                        var cond = LowerExpr(ce.Condition, pre, ctx);
                        var t = LowerStruct(ce.WhenTrue, pre, ExprContext.ConditionalBranch);
                        var f = LowerStruct(ce.WhenFalse, pre, ExprContext.ConditionalBranch);
                        if (t == null || f == null) return null;
                        return Map(type, path => new Conditional(cond, t[path], f[path], t[path].Type));
                    }
                case PrefixUnaryExpressionSyntax pu when pu.IsKind(SyntaxKind.UnaryMinusExpression) && IsNumericsVector(type):
                    {
                        var x = LowerStruct(pu.Operand, pre, ctx);
                        return x == null ? null : Map(type, path => new Unary(UnOp.Neg, x[path], x[path].Type));
                    }
                case PrefixUnaryExpressionSyntax pu when pu.IsKind(SyntaxKind.UnaryPlusExpression):
                    return LowerStruct(pu.Operand, pre, ctx);
                case BinaryExpressionSyntax be when IsNumericsVector(type):
                    return LowerVectorBinary(be, type, pre, ctx);
                case ObjectCreationExpressionSyntax oc:
                    return LowerConstruction(oc, oc.ArgumentList, oc.Initializer, type, pre, ctx);
                case ImplicitObjectCreationExpressionSyntax ioc:
                    return LowerConstruction(ioc, ioc.ArgumentList, ioc.Initializer, type, pre, ctx);
                case InvocationExpressionSyntax inv when IsNumericsVector(type) && _model.GetSymbolInfo(inv, _ct).Symbol is IMethodSymbol vm && IsNumericsVector(vm.ContainingType):
                    return LowerVectorFunction(inv, vm, type, pre, ctx);
            }
            // A static Zero/One/UnitX of a vector type.
            if (e is MemberAccessExpressionSyntax sm && IsNumericsVector(type) && _model.GetSymbolInfo(sm, _ct).Symbol is IPropertySymbol stat && stat.IsStatic)
            {
                int n = VectorSize(type);
                switch (stat.Name)
                {
                    case "Zero": return Constant(type, _ => "0");
                    case "One": return Constant(type, _ => "1");
                    case "UnitX": return Constant(type, p => p == ".X" ? "1" : "0");
                    case "UnitY": return Constant(type, p => p == ".Y" ? "1" : "0");
                    case "UnitZ" when n >= 3: return Constant(type, p => p == ".Z" ? "1" : "0");
                    case "UnitW" when n == 4: return Constant(type, p => p == ".W" ? "1" : "0");
                }
            }
            // Anything else producing a struct (a call of a [Differentiable] method or operator): a call into a temporary.
            if (TryLowerStructCall(e, type, pre, ctx, out var called)) return called;
            Unsupported(e, "this expression of type '" + type.ToDisplayString() + "' is not supported here (struct values come from variables, fields, constructors, System.Numerics vector operators and functions, and [Differentiable] methods and operators)");
            return null;
        }

        private StructValue Constant(ITypeSymbol type, Func<string, string> value) =>
            new StructValue(type, Layout(type)!.Select(l => (l.Path, (Expr)ConstantOf(l, value(l.Path)))).ToList());

        private static Expr ConstantOf(Leaf l, string value)
        {
            if (l.Ty == Ty.Double || l.Ty == Ty.Float) return Rules.DerivativeRules.Num(l.Ty, value);
            if (l.Ty == Ty.Bool) return new Lit(value == "0" ? "false" : "true", Ty.Bool);
            if (l.Ty == Ty.Other) return new Opaque("default!", false, EquatableArray<Expr>.Empty, Ty.Other, null, l.TypeName);
            return new Lit(value, l.Ty);
        }

        private StructValue Map(ITypeSymbol type, Func<string, Expr> leaf) =>
            new StructValue(type, Layout(type)!.Select(l => (l.Path, leaf(l.Path))).ToList());

        private StructValue? LowerVectorBinary(BinaryExpressionSyntax be, ITypeSymbol type, List<Stmt> pre, ExprContext ctx)
        {
            var lt = _model.GetTypeInfo(be.Left, _ct).ConvertedType;
            var rt = _model.GetTypeInfo(be.Right, _ct).ConvertedType;
            bool lv = IsNumericsVector(lt), rv = IsNumericsVector(rt);
            BinOp op;
            switch (be.Kind())
            {
                case SyntaxKind.AddExpression: op = BinOp.Add; break;
                case SyntaxKind.SubtractExpression: op = BinOp.Sub; break;
                case SyntaxKind.MultiplyExpression: op = BinOp.Mul; break;
                case SyntaxKind.DivideExpression: op = BinOp.Div; break;
                default: Unsupported(be, "operator '" + be.OperatorToken.Text + "' on vectors"); return null;
            }
            StructValue? l = lv ? LowerStruct(be.Left, pre, ctx) : null, r = rv ? LowerStruct(be.Right, pre, ctx) : null;
            Expr? ls = lv ? null : ToFloat(LowerExpr(be.Left, pre, ctx)), rs = rv ? null : ToFloat(LowerExpr(be.Right, pre, ctx));
            if (lv && l == null || rv && r == null) return null;
            // A scalar used for every component is evaluated once.
            if (ls != null) ls = Once(ls, pre);
            if (rs != null) rs = Once(rs, pre);
            return Map(type, path => new Binary(op, lv ? l![path] : ls!, rv ? r![path] : rs!, Ty.Float));
        }

        private Expr ToFloat(Expr e) => Convert(e, Ty.Float, e.Type != Ty.Double);

        /// <summary>An expression used several times: a literal or variable as it is, anything else in a temporary.</summary>
        private Expr Once(Expr e, List<Stmt> pre)
        {
            if (e is Lit || e is VarRef || e is Cast c && c.Operand is Lit) return e;
            int t = Temp("s", e.Type);
            pre.Add(new Assign(NextId(), new VarRef(t, e.Type), e, Declares: true));
            return new VarRef(t, e.Type);
        }

        /// <summary>Vector2/3/4 functions producing vectors: Normalize, Lerp, Min, Max, Clamp, Abs, SquareRoot, Cross, Negate, Add, Subtract, Multiply, Divide.</summary>
        private StructValue? LowerVectorFunction(InvocationExpressionSyntax inv, IMethodSymbol m, ITypeSymbol type, List<Stmt> pre, ExprContext ctx)
        {
            var args = inv.ArgumentList.Arguments.Select(a => a.Expression).ToList();
            StructValue? V(int i) => LowerStruct(args[i], pre, ctx);
            Expr S(int i) => Once(ToFloat(LowerExpr(args[i], pre, ctx)), pre);
            Expr F(MathFn fn, params Expr[] xs) => new MathCall(fn, true, xs.ToEquatableArray(), Ty.Float);
            switch (m.Name)
            {
                case "Normalize" when m.IsStatic && args.Count == 1:
                    {
                        var v = V(0);
                        if (v == null) return null;
                        var v2 = Materialize(v, pre);
                        var len = Once(F(MathFn.Sqrt, Dot(v2, v2)), pre);
                        return Map(type, p => new Binary(BinOp.Div, v2[p], len, Ty.Float));
                    }
                case "Lerp" when args.Count == 3:
                    {
                        var a = V(0); var b = V(1);
                        if (a == null || b == null) return null;
                        var t = IsNumericsVector(_model.GetTypeInfo(args[2], _ct).Type) ? null : S(2);
                        var tv = t == null ? V(2) : null;
                        return Map(type, p => new Binary(BinOp.Add, a[p], new Binary(BinOp.Mul, new Binary(BinOp.Sub, b[p], a[p], Ty.Float), t ?? tv![p], Ty.Float), Ty.Float));
                    }
                case "Min":
                case "Max":
                    {
                        var a = V(0); var b = V(1);
                        if (a == null || b == null) return null;
                        var fn = m.Name == "Min" ? MathFn.Min : MathFn.Max;
                        return Map(type, p => F(fn, a[p], b[p]));
                    }
                case "Clamp":
                    {
                        var x = V(0); var lo = V(1); var hi = V(2);
                        if (x == null || lo == null || hi == null) return null;
                        // Vector.Clamp is Min(Max(x, lo), hi).
                        return Map(type, p => F(MathFn.Min, F(MathFn.Max, x[p], lo[p]), hi[p]));
                    }
                case "Abs":
                    {
                        var x = V(0);
                        return x == null ? null : Map(type, p => F(MathFn.Abs, x[p]));
                    }
                case "SquareRoot":
                    {
                        var x = V(0);
                        return x == null ? null : Map(type, p => F(MathFn.Sqrt, x[p]));
                    }
                case "Negate":
                    {
                        var x = V(0);
                        return x == null ? null : Map(type, p => new Unary(UnOp.Neg, x[p], Ty.Float));
                    }
                case "Cross" when VectorSize(type) == 3:
                    {
                        var a = V(0); var b = V(1);
                        if (a == null || b == null) return null;
                        a = Materialize(a, pre); b = Materialize(b, pre);
                        Expr Mul(Expr x, Expr y) => new Binary(BinOp.Mul, x, y, Ty.Float);
                        Expr Sub(Expr x, Expr y) => new Binary(BinOp.Sub, x, y, Ty.Float);
                        return new StructValue(type, new List<(string, Expr)>
                        {
                            (".X", Sub(Mul(a[".Y"], b[".Z"]), Mul(a[".Z"], b[".Y"]))),
                            (".Y", Sub(Mul(a[".Z"], b[".X"]), Mul(a[".X"], b[".Z"]))),
                            (".Z", Sub(Mul(a[".X"], b[".Y"]), Mul(a[".Y"], b[".X"]))),
                        });
                    }
                case "Add":
                case "Subtract":
                case "Multiply":
                case "Divide":
                    {
                        var op = m.Name == "Add" ? BinOp.Add : m.Name == "Subtract" ? BinOp.Sub : m.Name == "Multiply" ? BinOp.Mul : BinOp.Div;
                        bool av = IsNumericsVector(_model.GetTypeInfo(args[0], _ct).Type), bv = IsNumericsVector(_model.GetTypeInfo(args[1], _ct).Type);
                        var a = av ? V(0) : null; var b = bv ? V(1) : null;
                        var sa = av ? null : S(0); var sb = bv ? null : S(1);
                        if (av && a == null || bv && b == null) return null;
                        return Map(type, p => new Binary(op, av ? a![p] : sa!, bv ? b![p] : sb!, Ty.Float));
                    }
            }
            Unsupported(inv, "System.Numerics." + m.ContainingType.Name + "." + m.Name + " is not supported in [Differentiable] code (supported: operators, Dot, Cross, Length, LengthSquared, Distance, DistanceSquared, Normalize, Lerp, Min, Max, Clamp, Abs, SquareRoot)");
            return null;
        }

        /// <summary>Σ a_k b_k over the components of two vectors.</summary>
        private static Expr Dot(StructValue a, StructValue b)
        {
            Expr? sum = null;
            foreach (var (path, x) in a.Leaves)
            {
                var term = new Binary(BinOp.Mul, x, b[path], Ty.Float);
                sum = sum == null ? term : new Binary(BinOp.Add, sum, term, Ty.Float);
            }
            return sum!;
        }

        /// <summary>Scalar functions of vectors: Dot, Length, LengthSquared, Distance, DistanceSquared (null when m is not one).</summary>
        private Expr? TryLowerVectorScalar(InvocationExpressionSyntax inv, IMethodSymbol m, List<Stmt> pre, ExprContext ctx)
        {
            if (!IsNumericsVector(m.ContainingType)) return null;
            Expr F(MathFn fn, Expr x) => new MathCall(fn, true, new[] { x }.ToEquatableArray(), Ty.Float);
            StructValue? Receiver() => inv.Expression is MemberAccessExpressionSyntax ma ? LowerStruct(ma.Expression, pre, ctx) : null;
            var args = inv.ArgumentList.Arguments.Select(a => a.Expression).ToList();
            switch (m.Name)
            {
                case "Dot" when m.IsStatic && args.Count == 2:
                    {
                        var a = LowerStruct(args[0], pre, ctx); var b = LowerStruct(args[1], pre, ctx);
                        return a == null || b == null ? Error() : Dot(a, b);
                    }
                case "LengthSquared" when !m.IsStatic:
                case "Length" when !m.IsStatic:
                    {
                        var v = Receiver();
                        if (v == null) return Error();
                        v = Materialize(v, pre);
                        var sq = Dot(v, v);
                        return m.Name == "Length" ? F(MathFn.Sqrt, sq) : sq;
                    }
                case "Distance" when m.IsStatic:
                case "DistanceSquared" when m.IsStatic:
                    {
                        var a = LowerStruct(args[0], pre, ctx); var b = LowerStruct(args[1], pre, ctx);
                        if (a == null || b == null) return Error();
                        var d = Materialize(Map(a.Type, p => new Binary(BinOp.Sub, a[p], b[p], Ty.Float)), pre);
                        var sq = Dot(d, d);
                        return m.Name == "Distance" ? F(MathFn.Sqrt, sq) : sq;
                    }
            }
            return null;
        }

        /// <summary>A struct value whose leaves are plain reads (so using them twice costs nothing): compound leaves go to a temporary container.</summary>
        private StructValue Materialize(StructValue v, List<Stmt> pre)
        {
            if (v.Leaves.All(l => l.Value is VarRef || l.Value is Lit || l.Value is ElemRef er && (er.Index is VarRef || er.Index is Lit))) return v;
            int c = AddStructContainer(FreshStructName(), v.Type, VarRole.Temp, -1, false, null);
            AssignStruct(new VarPlace(c), v, pre);
            return StructOfPlace(new VarPlace(c), v.Type)!;
        }

        private string FreshStructName()
        {
            for (int i = 0; ; i++)
            {
                string name = "_v" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (!_names.Contains(name)) { _names.Add(name); return name; }
            }
        }

        /// <summary>
        /// Assigns a struct value to a place leaf by leaf. When the value reads the place itself (a swap,
        /// <c>v = new Vector3(v.Y, v.X, 0)</c>), the leaves are computed into temporaries first.
        /// </summary>
        private void AssignStruct(Place target, StructValue value, List<Stmt> output, BinOp? compound = null)
        {
            var targets = StructOfPlace(target, value.Type);
            if (targets == null) return;
            var targetVars = new HashSet<int>(targets.Leaves.Select(t => t.Value).SelectMany(Analysis.Analyzer.AllVars));
            bool readsTarget = value.Leaves.Count > 1 && value.Leaves.Any(l => Analysis.Analyzer.AllVars(l.Value).Any(targetVars.Contains));
            var values = new List<Expr>();
            foreach (var (path, v) in value.Leaves)
            {
                var t = targets[path];
                Expr rhs = compound is BinOp op ? new Binary(op, t, Convert(v, t.Type, true), t.Type) : Convert(v, t.Type, true);
                if (readsTarget && !(rhs is Lit))
                {
                    int tmp = Temp("f", t.Type, typeName: (t as VarRef) != null ? _vars[((VarRef)t).Var].TypeName : null);
                    output.Add(new Assign(NextId(), new VarRef(tmp, t.Type), rhs, Declares: true));
                    rhs = new VarRef(tmp, t.Type);
                }
                values.Add(rhs);
            }
            for (int i = 0; i < values.Count; i++)
                output.Add(new Assign(NextId(), targets.Leaves[i].Value, values[i]));
        }
    }
}

namespace DiffGen.Generator.Lowering
{
    internal sealed partial class Lowerer
    {
        /// <summary>
        /// <c>new Vector3(x, y, z)</c>, <c>new Vector3(s)</c>, <c>new Vector3(v2, z)</c>, a user struct's constructor
        /// whose body assigns its parameters to fields (or a record struct's primary constructor), and
        /// object initialisers.
        /// </summary>
        private StructValue? LowerConstruction(ExpressionSyntax e, ArgumentListSyntax? argList, InitializerExpressionSyntax? init, ITypeSymbol type, List<Stmt> pre, ExprContext ctx)
        {
            var args = argList?.Arguments.Select(a => a.Expression).ToList() ?? new List<ExpressionSyntax>();
            var ctor = _model.GetSymbolInfo(e, _ct).Symbol as IMethodSymbol;
            var values = new Dictionary<string, Expr>(StringComparer.Ordinal);
            var layout = Layout(type)!;
            if (IsNumericsVector(type))
            {
                int n = VectorSize(type);
                var parts = new List<Expr>();
                foreach (var a in args)
                {
                    var at = _model.GetTypeInfo(a, _ct).Type;
                    if (IsNumericsVector(at))
                    {
                        var v = LowerStruct(a, pre, ctx);
                        if (v == null) return null;
                        parts.AddRange(v.Leaves.Select(l => l.Value));
                    }
                    else parts.Add(ToFloat(LowerExpr(a, pre, ctx)));
                }
                if (parts.Count == 1 && n > 1) { var s = Once(parts[0], pre); parts = Enumerable.Repeat(s, n).ToList(); }
                if (parts.Count == 0) parts = Enumerable.Repeat((Expr)Rules.DerivativeRules.Num(Ty.Float, "0"), n).ToList();
                if (parts.Count != n) { Unsupported(e, "this vector constructor"); return null; }
                for (int i = 0; i < n; i++) values[VectorAxes[i]] = parts[i];
            }
            else if (ctor != null && args.Count > 0)
            {
                var map = ConstructorMap(ctor);
                if (map == null)
                {
                    Unsupported(e, "the constructor of '" + type.Name + "' does not only assign its parameters to fields (write an object initialiser, or assign the fields)");
                    return null;
                }
                for (int i = 0; i < args.Count && i < ctor.Parameters.Length; i++)
                {
                    if (!map.TryGetValue(ctor.Parameters[i].Name, out var member)) continue;
                    var mtype = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
                    if (Layout(mtype) is List<Leaf> inner && !TryMapScalar(mtype, out _) && !IsInactiveType(mtype))
                    {
                        var v = LowerStruct(args[i], pre, ctx);
                        if (v == null) return null;
                        foreach (var (p, x) in v.Leaves) values["." + member.Name + p] = x;
                    }
                    else values["." + member.Name] = LowerExpr(args[i], pre, ctx);
                }
            }
            if (init != null)
            {
                foreach (var x in init.Expressions)
                {
                    if (!(x is AssignmentExpressionSyntax asg) || !(asg.Left is IdentifierNameSyntax name)) { Unsupported(x, "object initialisers assign fields by name"); return null; }
                    var mtype = _model.GetTypeInfo(asg.Left, _ct).Type!;
                    if (IsDifferentiableStruct(mtype))
                    {
                        var v = LowerStruct(asg.Right, pre, ctx);
                        if (v == null) return null;
                        foreach (var (p, xv) in v.Leaves) values["." + name.Identifier.ValueText + p] = xv;
                    }
                    else values["." + name.Identifier.ValueText] = LowerExpr(asg.Right, pre, ctx);
                }
            }
            return new StructValue(type, layout.Select(l => (l.Path, values.TryGetValue(l.Path, out var v) ? Convert(v, l.Ty, true) : ConstantOf(l, "0"))).ToList());
        }

        /// <summary>
        /// Which field (or property) each constructor parameter sets: from a body of <c>Field = param;</c>
        /// statements, or a record's primary constructor. Null when the constructor does anything else.
        /// </summary>
        private Dictionary<string, ISymbol>? ConstructorMap(IMethodSymbol ctor)
        {
            var map = new Dictionary<string, ISymbol>(StringComparer.Ordinal);
            var syntax = ctor.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_ct);
            var type = ctor.ContainingType;
            if (syntax is TypeDeclarationSyntax primary) // a record struct's positional parameters
            {
                foreach (var p in ctor.Parameters)
                {
                    var member = type.GetMembers(p.Name).FirstOrDefault(m => m is IPropertySymbol || m is IFieldSymbol);
                    if (member == null) return null;
                    map[p.Name] = member;
                }
                return map;
            }
            if (!(syntax is ConstructorDeclarationSyntax cd)) return null;
            var model = _model.Compilation.GetSemanticModel(cd.SyntaxTree);
            var statements = cd.Body?.Statements.ToList() ?? new List<StatementSyntax>();
            if (cd.ExpressionBody != null) statements.Add(SyntaxFactory.ExpressionStatement(cd.ExpressionBody.Expression));
            foreach (var s in statements)
            {
                if (!(s is ExpressionStatementSyntax es) || !(es.Expression is AssignmentExpressionSyntax asg) || !asg.IsKind(SyntaxKind.SimpleAssignmentExpression)) return null;
                var left = model.GetSymbolInfo(asg.Left, _ct).Symbol;
                var right = asg.Right is IdentifierNameSyntax rid ? model.GetSymbolInfo(rid, _ct).Symbol as IParameterSymbol : null;
                if (left == null || right == null || !SymbolEqualityComparer.Default.Equals(left.ContainingType, type)) return null;
                map[right.Name] = left;
            }
            return map;
        }
    }
}

namespace DiffGen.Generator.Lowering
{
    internal sealed partial class Lowerer
    {
        /// <summary>
        /// A struct produced by a differentiable call: a [Differentiable] method returning a struct, or a user
        /// operator (<c>a + b</c>, <c>k * s</c>) marked [Differentiable]; the result goes to a temporary container.
        /// </summary>
        private bool TryLowerStructCall(ExpressionSyntax e, ITypeSymbol type, List<Stmt> pre, ExprContext ctx, out StructValue? value)
        {
            value = null;
            int result = -1;
            switch (e)
            {
                case InvocationExpressionSyntax inv when _model.GetSymbolInfo(inv, _ct).Symbol is IMethodSymbol m && IsUserCallCandidate(m):
                    if (!CallAllowedHere(inv, m, ctx)) return true;
                    result = LowerUserCall(inv, m, pre, ctx, discardResult: false);
                    break;
                case BinaryExpressionSyntax be when _model.GetSymbolInfo(be, _ct).Symbol is IMethodSymbol op && op.MethodKind == MethodKind.UserDefinedOperator:
                    if (!HasDifferentiable(op) && FindDerivativeOnTypes(op, 0) == null)
                    {
                        Report(Descriptors.NoDerivative, be.GetLocation(), op.ContainingType.Name + "." + op.Name, op.ContainingType.Name, op.Name, "mark the operator [Differentiable]");
                        return true;
                    }
                    if (!CallAllowedHere(be, op, ctx)) return true;
                    result = LowerCallCore(be, op, new List<ExpressionSyntax> { be.Left, be.Right }, null, -1, pre, ctx, discardResult: false);
                    break;
                case PrefixUnaryExpressionSyntax pu when _model.GetSymbolInfo(pu, _ct).Symbol is IMethodSymbol uop && uop.MethodKind == MethodKind.UserDefinedOperator && HasDifferentiable(uop):
                    if (!CallAllowedHere(pu, uop, ctx)) return true;
                    result = LowerCallCore(pu, uop, new List<ExpressionSyntax> { pu.Operand }, null, -1, pre, ctx, discardResult: false);
                    break;
                default:
                    return false;
            }
            if (result >= 0) value = StructOfPlace(new VarPlace(result), type);
            return true;
        }

        private bool CallAllowedHere(SyntaxNode site, IMethodSymbol m, ExprContext ctx)
        {
            if (ctx == ExprContext.LoopCondition)
            {
                Report(Descriptors.CallPlacement, site.GetLocation(), m.Name, "inside a loop condition is not supported");
                return false;
            }
            if (ctx == ExprContext.ConditionalBranch)
            {
                Report(Descriptors.CallPlacement, site.GetLocation(), m.Name, "inside a branch of ?: is not supported (both branches would be evaluated)");
                return false;
            }
            return true;
        }
    }
}

namespace DiffGen.Generator.Lowering
{
    internal sealed partial class Lowerer
    {
        /// <summary>The container of a struct result (-1 when the method does not return a struct).</summary>
        private int _result = -1;

        /// <summary>
        /// Locals of a struct type (a container, assigned leaf by leaf), arrays of structs or objects
        /// (<c>new Vector3[n]</c>), and aliases of object elements (<c>Body b = bodies[i]</c>).
        /// </summary>
        private bool TryLowerAggregateLocal(VariableDeclaratorSyntax v, ILocalSymbol symbol, List<Stmt> output)
        {
            var type = symbol.Type;
            if (IsDifferentiableStruct(type))
            {
                var init = v.Initializer?.Value;
                StructValue? value = init != null ? LowerStruct(init, output, ExprContext.Plain) : null;
                int c = AddStructContainer(v.Identifier.ValueText, type, VarRole.Local, -1, false, symbol);
                if (value != null) AssignStruct(new VarPlace(c), value, output);
                return true;
            }
            if (TryMapAggregateArray(type, out var storage, out var element) && storage != Storage.ReadOnlySpan)
            {
                if (element.TypeKind == TypeKind.Class)
                {
                    // Its elements could only be null or other arrays' objects: objects are not created or re-seated here.
                    Report(Descriptors.UnsupportedLocal, v.GetLocation(), v.Identifier.ValueText, type.ToDisplayString(),
                        " (a local array of objects: objects cannot be created or stored in [Differentiable] code; index the array parameter or field itself)");
                    return true;
                }
                if (v.Initializer?.Value is ArrayCreationExpressionSyntax ac && ac.Initializer == null && ac.Type.RankSpecifiers.Count == 1
                    && ac.Type.RankSpecifiers[0].Sizes.Count == 1 && !(ac.Type.RankSpecifiers[0].Sizes[0] is OmittedArraySizeExpressionSyntax))
                {
                    int id = AddAggregateArray(v.Identifier.ValueText, Storage.Array, element, VarRole.Local, -1, false, symbol);
                    var len = LowerExpr(ac.Type.RankSpecifiers[0].Sizes[0], output, ExprContext.Plain);
                    output.Add(new Alloc(NextId(), id, len));
                    return true;
                }
                Report(Descriptors.UnsupportedLocal, v.GetLocation(), v.Identifier.ValueText, type.ToDisplayString(),
                    " (initialise an array of structs or objects with 'new T[n]')");
                return true;
            }
            if (type.TypeKind == TypeKind.Class && !IsInactiveType(type) && v.Initializer != null)
            {
                // A reference to an element (or to a member object): every use of the local is a use of that place.
                var place = ResolvePlace(v.Initializer.Value, output, ExprContext.Plain);
                if (place is ElemPlace || place is PathPlace)
                {
                    _aliases[symbol] = place is ElemPlace ep ? new ElemPlace(ep.Var, StableIndex(ep.Index, output), ep.Path) : place;
                    return true;
                }
            }
            return false;
        }

        /// <summary>An alias's index, evaluated once where the alias is declared (later writes to its variables do not move the alias).</summary>
        private Expr StableIndex(Expr index, List<Stmt> output)
        {
            if (index is Lit) return index;
            if (index is VarRef r && !_vars[r.Var].IsLeaf) return index; // a counter or local: the alias is re-declared with it
            int t = Temp("i", index.Type);
            output.Add(new Assign(NextId(), new VarRef(t, index.Type), index, Declares: true));
            return new VarRef(t, index.Type);
        }

        /// <summary>Assignments whose target is a struct (=, +=, -=, *=, /=): leaf by leaf.</summary>
        private bool TryLowerStructAssignment(AssignmentExpressionSyntax assign, List<Stmt> output)
        {
            var type = _model.GetTypeInfo(assign.Left, _ct).Type;
            if (type == null || !IsDifferentiableStruct(type)) return false;
            var target = ResolvePlace(assign.Left, output, ExprContext.Target);
            if (target == null)
            {
                Unsupported(assign.Left, "assign to a struct variable, a struct field or an element of an array of structs");
                return true;
            }
            StructValue? value;
            switch (assign.Kind())
            {
                case SyntaxKind.SimpleAssignmentExpression:
                    value = LowerStruct(assign.Right, output, ExprContext.Plain);
                    if (value != null) AssignStruct(target, value, output);
                    return true;
                case SyntaxKind.AddAssignmentExpression:
                case SyntaxKind.SubtractAssignmentExpression:
                    value = LowerStruct(assign.Right, output, ExprContext.Plain);
                    if (value != null) AssignStruct(target, value, output, assign.IsKind(SyntaxKind.AddAssignmentExpression) ? BinOp.Add : BinOp.Sub);
                    return true;
                case SyntaxKind.MultiplyAssignmentExpression:
                case SyntaxKind.DivideAssignmentExpression:
                    {
                        var op = assign.IsKind(SyntaxKind.MultiplyAssignmentExpression) ? BinOp.Mul : BinOp.Div;
                        var rt = _model.GetTypeInfo(assign.Right, _ct).Type;
                        if (IsNumericsVector(rt))
                        {
                            value = LowerStruct(assign.Right, output, ExprContext.Plain);
                        }
                        else if (IsNumericsVector(type))
                        {
                            var s = Once(ToFloat(LowerExpr(assign.Right, output, ExprContext.Plain)), output);
                            value = Map(type, _ => s);
                        }
                        else
                        {
                            Unsupported(assign, "*= and /= on a struct need its operator: write a = a * b");
                            return true;
                        }
                        if (value != null) AssignStruct(target, value, output, op);
                        return true;
                    }
                default:
                    Unsupported(assign, "operator '" + assign.OperatorToken.Text + "' on a struct");
                    return true;
            }
        }

        /// <summary>foreach over an array of structs (a copy per element) or of objects (an alias per element).</summary>
        private bool TryLowerAggregateForEach(ForEachStatementSyntax fe, List<Stmt> output)
        {
            var place = ResolvePlace(fe.Expression, output, ExprContext.Plain);
            if (!(place is VarPlace vp) || !_vars[vp.Var].Aggregate) return false;
            var loopVar = _model.GetDeclaredSymbol(fe, _ct);
            if (loopVar == null) return false;
            var arrVar = _vars[vp.Var];
            int k = Temp("k", Ty.Int);
            var kRef = new VarRef(k, Ty.Int);
            var body = new List<Stmt>();
            var element = new ElemPlace(vp.Var, kRef, "");
            if (loopVar.Type.IsValueType)
            {
                int c = AddStructContainer(fe.Identifier.ValueText, loopVar.Type, VarRole.Local, -1, false, loopVar);
                var copy = StructOfPlace(element, loopVar.Type);
                if (copy != null) AssignStruct(new VarPlace(c), copy, body);
            }
            else
            {
                _aliases[loopVar] = element;
            }
            body.AddRange(LowerEmbedded(fe.Statement).Stmts);
            output.Add(new ForLoop(NextId(), Empty(), k, new Lit("0", Ty.Int), new Binary(BinOp.Lt, kRef, new LenRef(vp.Var), Ty.Bool), 1,
                new Block(NextId(), body.ToEquatableArray())));
            return true;
        }
    }
}
