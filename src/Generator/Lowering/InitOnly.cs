using System.Linq;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Init-only properties and readonly fields of struct values other than this (a <c>readonly record struct</c>
    /// parameter, a record struct inside a struct): generated code accumulates their adjoints and tangents into
    /// structs of the same type, which C# does not let it assign by name, so those leaves are reached through
    /// UnsafeAccessors on the storage, one per member of the path that needs one
    /// (<c>__M_Inner_A(ref __M_Outer_In(ref oBar))</c>).
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>The placeholder for the container in a leaf's accessor template (<see cref="Var.Accessor"/>).</summary>
        internal const string ContainerSlot = "{0}";

        /// <summary>
        /// The accessor template of a leaf of a struct container whose path crosses a member generated code cannot
        /// assign by name, or null. The leaf of a parameter keeps its name for reads (an <c>in</c> parameter cannot be
        /// passed by ref); a local's leaf is read and written through the template. The leaf keeps its path (struct
        /// copies match leaves by path); its counterpart in an adjoint or a tangent is the template on that value.
        /// </summary>
        private string? AccessorTemplate(ITypeSymbol containerType, string path)
        {
            string expr = ContainerSlot;
            bool any = false;
            ITypeSymbol type = containerType;
            foreach (var segment in path.Split(new[] { '.' }, System.StringSplitOptions.RemoveEmptyEntries))
            {
                var member = DataMembers(type).FirstOrDefault(m => m.Name == segment);
                if (member == null) return null;
                var mtype = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
                bool assignable = member is IFieldSymbol ff ? !ff.IsReadOnly : ((IPropertySymbol)member).SetMethod is IMethodSymbol set && !set.IsInitOnly;
                if (assignable) expr += "." + segment;
                else
                {
                    expr = DeclareAccessor(member, qualified: true) + "(ref " + expr + ")";
                    any = true;
                }
                type = mtype;
            }
            return any ? expr : null;
        }

        /// <summary>Gives a new leaf of a struct container (not this) its accessor template when its path needs one.</summary>
        private void UseAccessorIfNeeded(int leafId, ITypeSymbol containerType)
        {
            var leaf = _vars[leafId];
            var container = _vars[leaf.Container];
            if (leaf.Path == null || container.Role == VarRole.This) return;
            var template = AccessorTemplate(containerType, leaf.Path);
            if (template == null) return;
            string name = container.Role == VarRole.Param ? leaf.Name : template.Replace(ContainerSlot, container.Name);
            _vars[leafId] = leaf with { Name = name, Accessor = template };
        }

        /// <summary>
        /// The float/double fields of a class that generated code can save and restore by assignment (fields and
        /// settable auto-properties, and the fields of assignable struct members), or null when some of its
        /// float/double data cannot be assigned (or it is not a class).
        /// </summary>
        private EquatableArray<ObjectField>? ObjectFields(ITypeSymbol type)
        {
            if (type.TypeKind != TypeKind.Class) return null;
            var fields = new System.Collections.Generic.List<ObjectField>();
            return Collect(type, "", fields, 0) ? fields.ToEquatableArray() : (EquatableArray<ObjectField>?)null;
        }

        private bool Collect(ITypeSymbol type, string prefix, System.Collections.Generic.List<ObjectField> into, int depth)
        {
            var members = type.TypeKind == TypeKind.Class ? DataMembers(type).Concat(BaseDataMembers(type)) : DataMembers(type);
            foreach (var member in members)
            {
                var mtype = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
                if (IsInactiveType(mtype) || TryMapScalar(mtype, out var t0) && t0 != Ty.Double && t0 != Ty.Float) continue;
                bool assignable = member is IFieldSymbol ff ? !ff.IsReadOnly : ((IPropertySymbol)member).SetMethod is IMethodSymbol set && !set.IsInitOnly;
                if (TryMapScalar(mtype, out var ty))
                {
                    if (!assignable) return false;
                    into.Add(new ObjectField(prefix + "." + member.Name, ty));
                }
                else if (mtype.IsValueType && depth < 4)
                {
                    if (!assignable || !Collect(mtype, prefix + "." + member.Name, into, depth + 1)) return false;
                }
                else if (HoldsRealData(mtype, new System.Collections.Generic.HashSet<ITypeSymbol>(SymbolEqualityComparer.Default))) return false;
            }
            return true;
        }
    }
}
