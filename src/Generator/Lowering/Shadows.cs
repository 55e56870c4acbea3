using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Lowering
{
    /// <summary>What a shadow does with one data member of a type: zero it, give it a zeroed array of the same shape, or a shadow object.</summary>
    internal enum ShadowKind
    {
        /// <summary>A float/double (or a struct holding them): zero.</summary>
        Zero,

        /// <summary>An array of numbers or structs: a new zeroed array of the same shape.</summary>
        Array,

        /// <summary>A jagged array: new rows of the same lengths.</summary>
        Jagged,

        /// <summary>An array of objects: a new array holding a shadow of each element.</summary>
        ObjectArray,

        /// <summary>A List&lt;T&gt;: a new list of the same count (zeros, or shadows of objects).</summary>
        List,

        /// <summary>A reference to an object with float/double data: its shadow.</summary>
        Object,
    }

    /// <summary>
    /// One data member: Name as written in C# (a field or an auto-property), Storage the field that holds it
    /// (an auto-property's backing field), Direct when generated code may assign it by name; TypeName the
    /// member's type, Element the element type of arrays and lists, Rank of multi-dimensional arrays,
    /// Helper the class whose shadow an object member gets.
    /// </summary>
    internal sealed record ShadowMember(string Name, string Storage, bool Direct, ShadowKind Kind, string TypeName, string? Element, int Rank, string? Helper);

    /// <summary>A class reachable from the type whose shadows and zeroing the generated file builds by its fields.</summary>
    internal sealed record ShadowClass(string TypeName, string HelperName, EquatableArray<ShadowMember> Members);

    /// <summary>
    /// The shadow support of a type with differentiated instance state: <c>CreateShadow()</c> and
    /// <c>ZeroAdjoint()</c>, generated once per type into <c>{Type}.Shadow.g.cs</c>.
    /// </summary>
    internal sealed record ShadowModel(string HintName, string? Namespace, EquatableArray<TypeDecl> ContainingTypes, string TypeName, bool IsStruct,
        EquatableArray<ShadowMember> Members, EquatableArray<ShadowClass> Helpers);

    internal sealed partial class Lowerer
    {
        /// <summary>The shadow support of the containing type of an instance method (null for static methods).</summary>
        internal ShadowModel? BuildShadow(string? ns, EquatableArray<TypeDecl> types)
        {
            if (_this < 0 || _method.ContainingType == null) return null;
            var type = _method.ContainingType;
            var helpers = new List<ShadowClass>();
            var visiting = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default) { type };
            var members = ShadowMembers(type, helpers, visiting, top: true);
            return new ShadowModel(Sanitize(type.ToDisplayString()) + ".Shadow.g.cs", ns, types, OtherTypeName(type), type.IsValueType,
                members.ToEquatableArray(), helpers.OrderBy(h => h.HelperName, StringComparer.Ordinal).ToEquatableArray());
        }

        private List<ShadowMember> ShadowMembers(ITypeSymbol type, List<ShadowClass> helpers, HashSet<ITypeSymbol> visiting, bool top)
        {
            var result = new List<ShadowMember>();
            for (var t = type; t != null && t.SpecialType != SpecialType.System_Object; t = t.BaseType)
            {
                foreach (var f in t.GetMembers().OfType<IFieldSymbol>())
                {
                    if (f.IsStatic || f.IsConst || f.RefKind != RefKind.None) continue;
                    var prop = f.AssociatedSymbol as IPropertySymbol;
                    string name = prop?.Name ?? f.Name;
                    // Generated code lives in the type itself (top) or reaches other types through UnsafeAccessors.
                    bool direct = top && SymbolEqualityComparer.Default.Equals(t, type)
                        && (prop != null ? prop.SetMethod != null && !prop.SetMethod.IsInitOnly : !f.IsReadOnly);
                    var member = ShadowMemberOf(name, f.Name, direct, f.Type, helpers, visiting);
                    if (member != null) result.Add(member);
                }
            }
            return result;
        }

        private ShadowMember? ShadowMemberOf(string name, string storage, bool direct, ITypeSymbol mtype, List<ShadowClass> helpers, HashSet<ITypeSymbol> visiting)
        {
            string typeName = OtherTypeName(mtype);
            if (TryMapScalar(mtype, out var ty)) return ty == Ty.Double || ty == Ty.Float ? new ShadowMember(name, storage, direct, ShadowKind.Zero, typeName, null, 0, null) : null;
            if (IsInactiveType(mtype)) return null;
            if (mtype is IArrayTypeSymbol arr)
            {
                var el = arr.ElementType;
                if (el is IArrayTypeSymbol inner && inner.Rank == 1 && HoldsRealData(inner.ElementType, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default)) && inner.ElementType.IsValueType)
                    return new ShadowMember(name, storage, direct, ShadowKind.Jagged, typeName, OtherTypeName(inner.ElementType), 1, null);
                if (el.IsValueType && HoldsRealData(el, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default)))
                    return new ShadowMember(name, storage, direct, ShadowKind.Array, typeName, OtherTypeName(el), arr.Rank, null);
                if (el.TypeKind == TypeKind.Class && arr.Rank == 1 && !IsInactiveType(el))
                {
                    var helper = HelperFor(el, helpers, visiting);
                    return helper == null ? null : new ShadowMember(name, storage, direct, ShadowKind.ObjectArray, typeName, OtherTypeName(el), 1, helper);
                }
                return null;
            }
            if (mtype is INamedTypeSymbol named && named.IsGenericType && named.Name == "List" && named.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic")
            {
                var el = named.TypeArguments[0];
                if (el.IsValueType && HoldsRealData(el, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default)))
                    return new ShadowMember(name, storage, direct, ShadowKind.List, typeName, OtherTypeName(el), 0, null);
                if (el.TypeKind == TypeKind.Class && !IsInactiveType(el))
                {
                    var helper = HelperFor(el, helpers, visiting);
                    return helper == null ? null : new ShadowMember(name, storage, direct, ShadowKind.List, typeName, OtherTypeName(el), 0, helper);
                }
                return null;
            }
            if (mtype.IsValueType) return HoldsRealData(mtype, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default)) ? new ShadowMember(name, storage, direct, ShadowKind.Zero, typeName, null, 0, null) : null;
            if (mtype.TypeKind == TypeKind.Class)
            {
                var helper = HelperFor(mtype, helpers, visiting);
                // A reference back into a type being shadowed (a cycle): the shadow holds null rather than the primal object.
                if (helper == null && HoldsRealData(mtype, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default)))
                    return new ShadowMember(name, storage, direct, ShadowKind.Object, typeName, null, 0, null);
                return helper == null ? null : new ShadowMember(name, storage, direct, ShadowKind.Object, typeName, null, 0, helper);
            }
            return null;
        }

        /// <summary>The helper that shadows objects of a class (null when it holds no float/double data, or on a cycle of types).</summary>
        private string? HelperFor(ITypeSymbol cls, List<ShadowClass> helpers, HashSet<ITypeSymbol> visiting)
        {
            string helperName = "__Shadow_" + Sanitize(cls.ToDisplayString()).Replace('.', '_');
            if (helpers.Any(h => h.HelperName == helperName)) return helperName;
            if (!HoldsRealData(cls, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default))) return null;
            if (!visiting.Add(cls)) return null; // a type that contains itself: its shadow would never end
            var members = ShadowMembers(cls, helpers, visiting, top: false);
            visiting.Remove(cls);
            helpers.Add(new ShadowClass(OtherTypeName(cls), helperName, members.ToEquatableArray()));
            return helperName;
        }
    }
}
