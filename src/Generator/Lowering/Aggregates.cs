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
            type.IsValueType && type.TypeKind == TypeKind.Struct && !IsInactiveType(type) && !TryMapScalar(type, out _) && Layout(type) != null;

        private readonly Dictionary<ITypeSymbol, List<Leaf>?> _layouts = new Dictionary<ITypeSymbol, List<Leaf>?>(SymbolEqualityComparer.Default);

        /// <summary>The leaves of a struct (null when a field is of a type the generator cannot split).</summary>
        internal List<Leaf>? Layout(ITypeSymbol type)
        {
            if (_layouts.TryGetValue(type, out var cached)) return cached;
            _layouts[type] = null; // a struct cannot contain itself; guards recursion
            var leaves = new List<Leaf>();
            foreach (var member in DataMembers(type))
            {
                var mtype = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
                string path = "." + member.Name;
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
            if (TryMapType(type, out var elem, out var st) && st != Storage.Span && st != Storage.ReadOnlySpan)
            {
                ty = elem;
                storage = st;
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
            int id = _vars.Count;
            bool real = ty == Ty.Double || ty == Ty.Float;
            _vars.Add(new Var(id, name, ty, storage, VarRole.Leaf, -1, !real || c.NoDiff || HasNoDiffAttribute(member), typeName, container, rest, null, accessor));
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

        /// <summary>Declares (once) an UnsafeAccessor returning a reference to the member's storage on an instance.</summary>
        private string DeclareAccessor(ISymbol member)
        {
            string field = member is IPropertySymbol p ? BackingField(p)?.Name ?? member.Name : member.Name;
            var owner = member.ContainingType!;
            string fieldType = OtherTypeName(member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type);
            string name = "__" + _method.Name + "_" + member.Name;
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
            switch (owner)
            {
                case VarPlace vp when _vars[vp.Var].IsContainer:
                    return MemberOfContainer(vp.Var, "." + member.Name, type, member, at);
                case PathPlace pp:
                    return MemberOfContainer(pp.Container, pp.Path + "." + member.Name, type, member, at);
                case ElemPlace ep:
                    return new ElemPlace(ep.Var, ep.Index, ep.Path + "." + member.Name);
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
                    foreach (var l in Layout(type)!)
                        if (!_leaves.ContainsKey((container, path + l.Path))) CreateLeaf(container, path + l.Path, l);
                return new PathPlace(container, path);
            }
            int id = LeafOf(container, path, type, member, at);
            return id < 0 ? null : new VarPlace(id);
        }

        private void CreateLeaf(int container, string path, Leaf l)
        {
            int id = _vars.Count;
            var c = _vars[container];
            _vars.Add(new Var(id, c.Name + path, l.Ty, Storage.Scalar, VarRole.Leaf, -1, c.NoDiff || !(l.Ty == Ty.Double || l.Ty == Ty.Float), l.TypeName, container, path));
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
