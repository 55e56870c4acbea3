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
    /// Numbers passed by <c>ref</c> or <c>out</c> to a [Differentiable] callee (<c>Kick(ref x, ref v, k, dt)</c>,
    /// <c>Split(a, out double lo, out var hi)</c>): the argument is a variable the call reads (ref) and writes,
    /// handled like the state of this around an instance call; the callee's pullback takes its adjoint by ref.
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>The variable a ref/out argument names (declaring it for <c>out T x</c>); -1 after a diagnostic.</summary>
        private int LowerRefArgument(ArgumentSyntax argument, CalleeParam p, List<Stmt> output, ExprContext ctx)
        {
            var expected = p.Modifier == "ref" ? SyntaxKind.RefKeyword : SyntaxKind.OutKeyword;
            var e = argument.Expression;
            if (!argument.RefKindKeyword.IsKind(expected))
            {
                Unsupported(e, "pass this argument with '" + p.Modifier + "'");
                return -1;
            }
            if (e is DeclarationExpressionSyntax de)
            {
                if (!(de.Designation is SingleVariableDesignationSyntax sd) || !(_model.GetDeclaredSymbol(sd, _ct) is ILocalSymbol local)
                    || !TryMapScalar(local.Type, out var dty) || dty != p.Elem)
                {
                    Unsupported(e, "declare a number of the parameter's type (out double x, out var x); discards are not supported");
                    return -1;
                }
                return AddVar(sd.Identifier.ValueText, dty, Storage.Scalar, VarRole.Local, -1, dty != Ty.Double && dty != Ty.Float, local);
            }
            var place = ResolvePlace(e, output, ctx == ExprContext.Target ? ExprContext.Plain : ctx);
            if (!(place is VarPlace vp) || !_vars[vp.Var].IsScalar || _vars[vp.Var].Elem != p.Elem
                || _vars[vp.Var].Accessor != null || _vars[vp.Var].Role == VarRole.Param && _vars[vp.Var].Modifier == "in")
            {
                if (!UsesReportedParameter(e))
                    Unsupported(e, "pass a local, a parameter or a field of this of the parameter's number type by " + p.Modifier + " (not an array element, a property or a get-only field)");
                return -1;
            }
            return vp.Var;
        }

        /// <summary>
        /// A variable passed by ref or out must appear in no other argument of the call: its adjoint goes to the callee
        /// once, by ref, and a second use would make the callee see it twice (DG0102 on the other argument).
        /// </summary>
        private bool RefArgumentsAreDistinct(Callee callee, List<Expr> args, List<ExpressionSyntax> argExprs)
        {
            for (int k = 0; k < args.Count; k++)
            {
                if (callee.Params[k].Modifier == null || !(args[k] is VarRef r)) continue;
                for (int j = 0; j < args.Count; j++)
                {
                    if (j == k || !Analysis.Analyzer.AllVars(args[j]).Contains(r.Var)) continue;
                    Unsupported(argExprs[j], "'" + argExprs[k] + "' is passed by " + callee.Params[k].Modifier + " to the same call; pass a copy in a local");
                    return false;
                }
            }
            return true;
        }
    }
}
