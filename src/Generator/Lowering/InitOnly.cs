using System.Linq;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Init-only properties and readonly fields of struct values other than this (a <c>readonly record struct</c>
    /// parameter): generated code accumulates their adjoints and tangents into structs of the same type, which
    /// C# does not let it assign by name, so those leaves are reached through an UnsafeAccessor on the storage.
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>
        /// Declares the accessor of a top-level leaf's member and returns its name. The leaf of a parameter keeps its
        /// name for reads (an <c>in</c> parameter cannot be passed by ref); a local's leaf is read and written through
        /// the accessor. The leaf keeps its path (struct copies match leaves by path); its counterpart in an adjoint or
        /// a tangent is <c>Accessor(ref containerBar)</c>.
        /// </summary>
        private string InitOnlyAccessor(Var container, ISymbol member, ref string name)
        {
            string accessor = DeclareAccessor(member, qualified: true);
            if (container.Role != VarRole.Param) name = accessor + "(ref " + container.Name + ")";
            return accessor;
        }

        /// <summary>The leaf of a new struct container at a top-level path, reached through an accessor when its member is not assignable.</summary>
        private void UseAccessorIfNeeded(int leafId, ITypeSymbol containerType)
        {
            var leaf = _vars[leafId];
            var container = _vars[leaf.Container];
            if (leaf.Path == null || leaf.Path.IndexOf('.', 1) >= 0 || container.Role == VarRole.This) return;
            foreach (var member in DataMembers(containerType))
            {
                if ("." + member.Name != leaf.Path) continue;
                var type = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
                if (!NeedsAccessor(member, type)) return;
                string name = leaf.Name;
                string accessor = InitOnlyAccessor(container, member, ref name);
                _vars[leafId] = leaf with { Name = name, Accessor = accessor };
                return;
            }
        }
    }
}
