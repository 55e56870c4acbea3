using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Value tuples of numbers (<c>(double Mean, double Variance)</c>) are structs whose fields are
    /// <c>Item1</c> … <c>Item7</c>: results, locals, parameters and call results are containers like any
    /// other struct's, with leaves <c>.Item1</c>, <c>.Item2</c> (element names are C# sugar for those
    /// fields, so <c>t.Mean</c> is the leaf <c>.Item1</c>). Tuple literals (<c>return (a, b);</c>) are
    /// struct values and deconstructions (<c>var (m, v) = Moments(xs);</c>, <c>(a, b) = (b, a);</c>)
    /// assign the leaves one by one.
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>The most elements a tuple may have here: an eighth would live in the nested <c>Rest</c> tuple.</summary>
        private const int MaxTupleElements = 7;

        /// <summary>The leaves of a value tuple (null when an element cannot be split, or it has more than seven elements).</summary>
        private List<Leaf>? TupleLayout(INamedTypeSymbol tuple)
        {
            var elements = tuple.TupleElements;
            if (elements.Length > MaxTupleElements) return null;
            var leaves = new List<Leaf>();
            foreach (var e in elements)
            {
                string path = "." + (e.CorrespondingTupleField ?? e).Name;
                var type = e.Type;
                if (TryMapScalar(type, out var ty)) { leaves.Add(new Leaf(path, type, ty, null)); continue; }
                if (IsInactiveType(type)) { leaves.Add(new Leaf(path, type, Ty.Other, OtherTypeName(type))); continue; }
                if (type.IsValueType && !type.IsRefLikeType && Layout(type) is List<Leaf> inner)
                {
                    foreach (var l in inner) leaves.Add(new Leaf(path + l.Path, l.Type, l.Ty, l.TypeName));
                    continue;
                }
                return null;
            }
            return leaves;
        }

        /// <summary>The field a member names in generated code: a tuple element's underlying <c>ItemN</c> (its name is C# sugar), else the member itself.</summary>
        private static string DataMemberName(ISymbol member) =>
            member is IFieldSymbol f && f.ContainingType?.IsTupleType == true && f.CorrespondingTupleField != null ? f.CorrespondingTupleField.Name : member.Name;

        /// <summary>A tuple literal <c>(a, b)</c> of the tuple type it is converted to: each element lowered into its leaves.</summary>
        private StructValue? LowerTupleLiteral(TupleExpressionSyntax te, ITypeSymbol type, List<Stmt> pre, ExprContext ctx)
        {
            if (!(type is INamedTypeSymbol tuple) || !tuple.IsTupleType || tuple.TupleElements.Length != te.Arguments.Count)
            {
                Unsupported(te, "a tuple literal is used as a value tuple of numbers");
                return null;
            }
            var values = new Dictionary<string, Expr>(System.StringComparer.Ordinal);
            for (int i = 0; i < te.Arguments.Count; i++)
            {
                var element = tuple.TupleElements[i];
                string path = "." + (element.CorrespondingTupleField ?? element).Name;
                var arg = te.Arguments[i].Expression;
                if (te.Arguments[i].NameColon == null && arg is DeclarationExpressionSyntax)
                {
                    Unsupported(arg, "declarations inside a tuple literal");
                    return null;
                }
                if (IsDifferentiableStruct(element.Type))
                {
                    var inner = LowerStruct(arg, pre, ctx);
                    if (inner == null) return null;
                    foreach (var (p, x) in inner.Leaves) values[path + p] = x;
                    continue;
                }
                values[path] = LowerExpr(arg, pre, ctx);
            }
            var layout = Layout(type)!;
            if (layout.Any(l => !values.ContainsKey(l.Path))) { Unsupported(te, "this tuple literal"); return null; }
            return new StructValue(type, layout.Select(l => (l.Path, Convert(values[l.Path], l.Ty, true))).ToList());
        }

        /// <summary>
        /// A deconstruction of a value tuple: <c>var (m, v) = Moments(xs);</c>, <c>(double a, double b) = (x, y);</c>,
        /// <c>(a, b) = (b, a);</c> (discards skipped). The value is lowered once into its leaves, then each target
        /// gets its element; when the value reads a target (a swap), the elements go through temporaries first.
        /// </summary>
        private bool TryLowerDeconstruction(AssignmentExpressionSyntax assign, List<Stmt> output)
        {
            if (!(assign.Left is DeclarationExpressionSyntax || assign.Left is TupleExpressionSyntax)) return false;
            if (!assign.IsKind(SyntaxKind.SimpleAssignmentExpression)) return false;
            if (TryLowerFieldSwap(assign)) return true;
            var info = _model.GetTypeInfo(assign.Right, _ct);
            var rightType = info.Type ?? info.ConvertedType;
            if (assign.Right is TupleExpressionSyntax && _model.GetTypeInfo(assign.Left, _ct).Type is ITypeSymbol leftType) rightType = leftType;
            if (!(rightType is INamedTypeSymbol rt) || !rt.IsTupleType || !IsDifferentiableStruct(rt))
            {
                Unsupported(assign.Right, "deconstruction takes a value tuple of numbers (a tuple literal, or the result of a [Differentiable] method returning one)");
                return true;
            }
            var targets = new List<(string Path, SyntaxNode Target)>();
            if (!CollectDeconstructionTargets(assign.Left, "", targets)) return true;
            var value = assign.Right is TupleExpressionSyntax literal ? LowerTupleLiteral(literal, rt, output, ExprContext.Plain) : LowerStruct(assign.Right, output, ExprContext.Plain);
            if (value == null) return true;

            // The targets' places: existing variables and elements first (their index expressions are evaluated
            // before the value is stored, as C# does), declared locals created here.
            var stores = new List<(Place Place, ITypeSymbol Type, string Path, bool Declares)>();
            foreach (var (path, target) in targets)
            {
                ITypeSymbol? type;
                if (target is SingleVariableDesignationSyntax designation)
                {
                    if (!(_model.GetDeclaredSymbol(designation, _ct) is ILocalSymbol local)) { Unsupported(assign.Left, "this deconstruction"); return true; }
                    type = local.Type;
                    if (IsDifferentiableStruct(type))
                        stores.Add((new VarPlace(AddStructContainer(designation.Identifier.ValueText, type, VarRole.Local, -1, false, local)), type, path, true));
                    else if (TryMapScalar(type, out var ty))
                        stores.Add((new ScalarPlace(new VarRef(AddVar(designation.Identifier.ValueText, ty, Storage.Scalar, VarRole.Local, -1, ty != Ty.Double && ty != Ty.Float, local), ty)), type, path, true));
                    else
                    {
                        Report(Diagnostics.Descriptors.UnsupportedLocal, designation.GetLocation(), designation.Identifier.ValueText, TypeText(type), " (deconstruct into numbers or structs of numbers)");
                        return true;
                    }
                    continue;
                }
                var expr = (ExpressionSyntax)target;
                type = _model.GetTypeInfo(expr, _ct).Type;
                if (type == null) { Unsupported(expr, "this deconstruction target"); return true; }
                if (IsDifferentiableStruct(type))
                {
                    var place = ResolvePlace(expr, output, ExprContext.Target);
                    if (place == null) { Unsupported(expr, "assign to a struct variable, a struct field or an element of an array of structs"); return true; }
                    stores.Add((place, type, path, false));
                    continue;
                }
                var scalar = LowerTarget(expr, output);
                if (scalar == null) return true;
                if (scalar is VarRef vr && _vars[vr.Var].Storage != Storage.Scalar)
                {
                    Unsupported(expr, "a deconstruction assigns numbers and structs; arrays are not reassigned (swap their contents in a loop, or keep two arrays and index the current one)");
                    return true;
                }
                stores.Add((new ScalarPlace(scalar), type, path, false));
            }

            // The value's leaves, in temporaries when a store could change what a later leaf reads.
            var written = new HashSet<int>();
            foreach (var s in stores)
            {
                if (s.Place is ScalarPlace sp) written.Add(Analysis.Analyzer.TargetVar(sp.Target));
                else if (StructOfPlace(s.Place, s.Type) is StructValue sv) foreach (var (_, x) in sv.Leaves) written.Add(Analysis.Analyzer.TargetVar(x));
            }
            bool readsTargets = value.Leaves.Any(l => Analysis.Analyzer.AllVars(l.Value).Any(written.Contains));
            var leaves = new Dictionary<string, Expr>(System.StringComparer.Ordinal);
            foreach (var (path, x) in value.Leaves)
            {
                Expr e = x;
                if (readsTargets && !(x is Lit))
                {
                    int t = Temp("d", x.Type, typeName: x is VarRef xr ? _vars[xr.Var].TypeName : null);
                    output.Add(new Assign(NextId(), new VarRef(t, x.Type), x, Declares: true));
                    e = new VarRef(t, x.Type);
                }
                leaves[path] = e;
            }
            foreach (var s in stores)
            {
                if (s.Place is ScalarPlace sp)
                {
                    output.Add(new Assign(NextId(), sp.Target, Convert(leaves[s.Path], sp.Target.Type, true), Declares: s.Declares));
                    continue;
                }
                var layout = Layout(s.Type)!;
                var part = new StructValue(s.Type, layout.Select(l => (l.Path, leaves[s.Path + l.Path])).ToList());
                AssignStruct(s.Place, part, output);
            }
            return true;
        }

        /// <summary>A scalar target already lowered (a variable or an element), for deconstruction.</summary>
        private sealed class ScalarPlace : Place
        {
            public ScalarPlace(Expr target) => Target = target;

            public Expr Target { get; }
        }

        /// <summary>The targets of a deconstruction by element path (<c>.Item1</c>, <c>.Item2.Item1</c>); discards are left out.</summary>
        private bool CollectDeconstructionTargets(SyntaxNode left, string prefix, List<(string Path, SyntaxNode Target)> targets)
        {
            switch (left)
            {
                case DeclarationExpressionSyntax d:
                    return CollectDesignation(d.Designation, prefix, targets);
                case TupleExpressionSyntax t:
                    for (int i = 0; i < t.Arguments.Count; i++)
                    {
                        string path = prefix + ".Item" + (i + 1).ToString(CultureInfo.InvariantCulture);
                        var e = t.Arguments[i].Expression;
                        if (e is DeclarationExpressionSyntax de) { if (!CollectDesignation(de.Designation, path, targets)) return false; continue; }
                        if (e is TupleExpressionSyntax inner) { if (!CollectDeconstructionTargets(inner, path, targets)) return false; continue; }
                        if (e is IdentifierNameSyntax id && _model.GetSymbolInfo(id, _ct).Symbol is IDiscardSymbol) continue;
                        targets.Add((path, e));
                    }
                    return true;
                default:
                    Unsupported((ExpressionSyntax)left, "this deconstruction");
                    return false;
            }
        }

        private bool CollectDesignation(VariableDesignationSyntax designation, string path, List<(string Path, SyntaxNode Target)> targets)
        {
            switch (designation)
            {
                case DiscardDesignationSyntax _:
                    return true;
                case SingleVariableDesignationSyntax single:
                    targets.Add((path, single));
                    return true;
                case ParenthesizedVariableDesignationSyntax p:
                    for (int i = 0; i < p.Variables.Count; i++)
                        if (!CollectDesignation(p.Variables[i], path + ".Item" + (i + 1).ToString(CultureInfo.InvariantCulture), targets)) return false;
                    return true;
                default:
                    return false;
            }
        }
    }
}
