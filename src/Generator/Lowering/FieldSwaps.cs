using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// The double buffer of a simulator object: <c>(_t, _scratch) = (_scratch, _t);</c> swaps two array fields
    /// of <c>this</c> as the method's last statement. The body is lowered without it (the analysis sees each
    /// field as one array throughout); the model records the pair, the pullback swaps the shadow's two fields
    /// before its reverse sweep (the seed names the arrays as the method leaves them) and the primal fields
    /// at its end, the pushforward swaps the primal and tangent fields at its end.
    /// </summary>
    internal sealed partial class Lowerer
    {
        private readonly List<FieldSwap> _finalSwaps = new List<FieldSwap>();

        /// <summary>A swap of two array fields of this by a deconstruction (true after reporting when it is not the method's last statement).</summary>
        private bool TryLowerFieldSwap(AssignmentExpressionSyntax assign)
        {
            if (_this < 0 || !(assign.Left is TupleExpressionSyntax left) || !(assign.Right is TupleExpressionSyntax right)
                || left.Arguments.Count != 2 || right.Arguments.Count != 2) return false;
            int a = ArrayFieldOfThis(left.Arguments[0].Expression), b = ArrayFieldOfThis(left.Arguments[1].Expression);
            if (a < 0 || b < 0 || a == b) return false;
            if (ArrayFieldOfThis(right.Arguments[0].Expression) != b || ArrayFieldOfThis(right.Arguments[1].Expression) != a) return false;
            var va = _vars[a];
            var vb = _vars[b];
            if (va.Elem != vb.Elem || va.Rank != vb.Rank || va.Jagged != vb.Jagged || va.Aggregate || vb.Aggregate || va.Accessor != null || vb.Accessor != null)
            {
                Unsupported(assign, "the two fields of a swap are arrays of one type, assignable by name");
                return true;
            }
            if (!IsLastStatement(assign) || _inlining.Count > 0 || _method.Parameters.Any(p => TryMapType(p.Type, out _, out var st, out _, out _) && st != Storage.Scalar))
            {
                Unsupported(assign, "a swap of array fields is supported as the last statement of a method without array or span parameters (the double buffer at the end of a step)");
                return true;
            }
            _finalSwaps.Add(new FieldSwap(a, b));
            return true;
        }

        /// <summary>The leaf of an array field of this an expression names (<c>_t</c>, <c>this._t</c>), or -1.</summary>
        private int ArrayFieldOfThis(ExpressionSyntax e)
        {
            if (!(e is IdentifierNameSyntax || e is MemberAccessExpressionSyntax ma && ma.Expression is ThisExpressionSyntax)) return -1;
            if (!(_model.GetSymbolInfo(e, _ct).Symbol is IFieldSymbol f) || f.IsStatic || f.IsReadOnly || !IsInstanceMemberOfThis(f)) return -1;
            if (!TryMapArray(f.Type, out _, out _, out _)) return -1;
            return ResolvePlace(e, new List<Stmt>(), ExprContext.Plain) is VarPlace vp && _vars[vp.Var].IsLeaf && _vars[vp.Var].Storage == Storage.Array ? vp.Var : -1;
        }

        /// <summary>Whether an assignment is the last statement of the method's body (a bare return may follow).</summary>
        private static bool IsLastStatement(AssignmentExpressionSyntax assign)
        {
            if (!(assign.Parent is ExpressionStatementSyntax es) || !(es.Parent is BlockSyntax body) || !(body.Parent is BaseMethodDeclarationSyntax)) return false;
            // An earlier return would skip the swap, which the derivatives make at the end in every run.
            if (body.DescendantNodes(n => !(n is LocalFunctionStatementSyntax || n is AnonymousFunctionExpressionSyntax)).OfType<ReturnStatementSyntax>().Any(r => r.Parent != body))
                return false;
            int k = body.Statements.IndexOf(es);
            for (int i = k + 1; i < body.Statements.Count; i++)
                if (!(body.Statements[i] is ReturnStatementSyntax r && r.Expression == null)) return false;
            return true;
        }
    }
}
