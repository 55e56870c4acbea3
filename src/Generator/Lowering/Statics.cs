using System.Collections.Generic;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Static fields and properties that a [Differentiable] method reads (configuration, lattice weights,
    /// coefficient tables): inactive inputs, printed as written. A float/double one gets an info diagnostic
    /// (DG0302) saying its gradient is not computed; assigning one is an error.
    /// </summary>
    internal sealed partial class Lowerer
    {
        private readonly HashSet<ISymbol> _staticInputs = new HashSet<ISymbol>(SymbolEqualityComparer.Default);

        /// <summary>The type of a static field or property the method can read (not a constant: those are folded).</summary>
        private static ITypeSymbol? StaticMemberType(ISymbol? symbol)
        {
            if (symbol is IFieldSymbol f && f.IsStatic && !f.IsConst) return f.Type;
            if (symbol is IPropertySymbol p && p.IsStatic && !p.IsIndexer && p.GetMethod != null) return p.Type;
            return null;
        }

        private string StaticName(ISymbol member) => FullName(member.ContainingType) + "." + member.Name;

        /// <summary>Reports DG0302 once per method and member: a float/double static read as a constant.</summary>
        private void NoteStaticInput(ISymbol member, Ty elem, SyntaxNode at)
        {
            if ((elem != Ty.Double && elem != Ty.Float) || !_staticInputs.Add(member)) return;
            Report(Descriptors.StaticInput, at.GetLocation(), member.ContainingType.Name + "." + member.Name);
        }

        /// <summary>A static scalar field or property (<c>Damping</c>, <c>Series.Damping</c>), or the Length of a static array.</summary>
        private bool TryLowerStaticInput(ExpressionSyntax syntax, ISymbol? symbol, ExprContext ctx, out Expr result)
        {
            result = Error();
            // Weights.Length
            if (symbol is IPropertySymbol len && len.Name == "Length" && syntax is MemberAccessExpressionSyntax ma
                && _model.GetSymbolInfo(ma.Expression, _ct).Symbol is ISymbol owner && StaticMemberType(owner) is IArrayTypeSymbol)
            {
                result = new Opaque(StaticName(owner) + ".Length", false, EquatableArray<Expr>.Empty, Ty.Int);
                return true;
            }
            var type = StaticMemberType(symbol);
            if (type == null || !TryMapScalar(type, out var ty)) return false;
            if (ctx == ExprContext.Target)
            {
                result = Unsupported(syntax, "static fields and properties are inputs of [Differentiable] code and cannot be assigned in it; keep the state in a parameter");
                return true;
            }
            NoteStaticInput(symbol!, ty, syntax);
            result = new Opaque(StaticName(symbol!), false, EquatableArray<Expr>.Empty, ty);
            return true;
        }

        /// <summary>
        /// A for-loop counter of a narrow integer type (<c>for (byte k = 0; k &lt; Terms; k++)</c>) is computed as
        /// an int: C# promotes it to int in every comparison and index, so the values agree wherever the
        /// counter stays in its type's range (a byte counter that wrapped around would loop forever in C#).
        /// </summary>
        private bool TryLowerNarrowCounter(VariableDeclarationSyntax declaration, VariableDeclaratorSyntax v, ILocalSymbol symbol, List<Stmt> output)
        {
            if (!(declaration.Parent is ForStatementSyntax)) return false;
            switch (symbol.Type.SpecialType)
            {
                case SpecialType.System_Byte:
                case SpecialType.System_SByte:
                case SpecialType.System_Int16:
                case SpecialType.System_UInt16:
                    break;
                default:
                    return false;
            }
            int id = AddVar(v.Identifier.ValueText, Ty.Int, Storage.Scalar, VarRole.Local, -1, true, symbol);
            if (v.Initializer != null)
                output.Add(new Assign(NextId(), new VarRef(id, Ty.Int), LowerExpr(v.Initializer.Value, output, ExprContext.Plain), Declares: true));
            return true;
        }

        /// <summary>An element of a static array (<c>Weights[i]</c>, <c>Table[i, j]</c>): a constant input.</summary>
        private bool TryLowerStaticArrayElement(ElementAccessExpressionSyntax ea, List<Stmt> pre, ExprContext ctx, out Expr result)
        {
            result = Error();
            var symbol = _model.GetSymbolInfo(ea.Expression, _ct).Symbol;
            var type = StaticMemberType(symbol);
            if (type == null || !TryMapArray(type, out var elem, out int rank, out bool jagged) || jagged) return false;
            if (ctx == ExprContext.Target)
            {
                result = Unsupported(ea, "static arrays are inputs of [Differentiable] code and cannot be written in it; pass the array as a parameter");
                return true;
            }
            var args = ea.ArgumentList.Arguments;
            if (args.Count != rank)
            {
                result = Unsupported(ea, "this array has " + rank + " dimension(s): index it with " + rank + " index(es)");
                return true;
            }
            var indices = new List<Expr>();
            foreach (var a in args)
            {
                var index = LowerIndex(a, pre, ctx);
                if (index == null) return true;
                indices.Add(index);
            }
            NoteStaticInput(symbol!, elem, ea.Expression);
            result = new Opaque(StaticName(symbol!), false, indices.ToEquatableArray(), elem, Indexer: true);
            return true;
        }
    }
}
