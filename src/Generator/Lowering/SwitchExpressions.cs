using System.Collections.Generic;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Switch expressions over an int, long, bool, enum or string value with constant arms and a final
    /// discard arm (<c>kind switch { Kind.Tanh => Math.Tanh(z), _ => z }</c>): a chain of conditional
    /// expressions, so only the selected arm's value is differentiated (its arms may not call methods,
    /// as in <c>?:</c>).
    /// </summary>
    internal sealed partial class Lowerer
    {
        private Expr LowerSwitchExpression(SwitchExpressionSyntax se, List<Stmt> pre, ExprContext ctx)
        {
            var governing = LowerExpr(se.GoverningExpression, pre, ctx);
            if (IsError(governing)) return governing;
            if (governing.Type != Ty.Int && governing.Type != Ty.Long && governing.Type != Ty.Bool && governing.Type != Ty.Other)
                return Unsupported(se.GoverningExpression, "a switch expression switches on an int, long, bool, enum or string value");
            if (se.Arms.Count == 0 || !(se.Arms[se.Arms.Count - 1].Pattern is DiscardPatternSyntax))
                return Unsupported(se, "a switch expression ends with a discard arm ('_ => …'): without one it throws for other values, which the derivative cannot follow");
            // The governing value is read once, as C# evaluates it once.
            Expr g = governing;
            if (!(governing is VarRef || governing is Lit))
            {
                int t = Temp("switch", governing.Type, typeName: (governing as Opaque)?.TypeName);
                pre.Add(new Assign(NextId(), new VarRef(t, governing.Type), governing, Declares: true));
                g = new VarRef(t, governing.Type);
            }
            var ty = TypeOf(se, Ty.Void);
            if (ty == Ty.Void) return Unsupported(se, "a switch expression produces a number or a bool here");
            var conditions = new List<Expr>();
            var values = new List<Expr>();
            for (int i = 0; i < se.Arms.Count; i++)
            {
                var arm = se.Arms[i];
                if (arm.WhenClause != null) return UnsupportedNode(arm.WhenClause, "when clauses in switch expressions; use if/else");
                if (i < se.Arms.Count - 1)
                {
                    if (!(arm.Pattern is ConstantPatternSyntax cp)) return UnsupportedNode(arm.Pattern, "switch expression arms with constant patterns and a final '_' only");
                    var constant = LowerExpr(cp.Expression, pre, ctx);
                    if (IsError(constant)) return constant;
                    conditions.Add(new Binary(BinOp.Eq, g, constant, Ty.Bool));
                }
                var value = LowerExpr(arm.Expression, pre, ExprContext.ConditionalBranch);
                if (IsError(value)) return value;
                values.Add(Convert(value, ty, true));
            }
            var result = values[values.Count - 1];
            for (int i = conditions.Count - 1; i >= 0; i--) result = new Conditional(conditions[i], values[i], result, ty);
            return result;
        }

        private Expr UnsupportedNode(Microsoft.CodeAnalysis.SyntaxNode node, string hint)
        {
            Report(Diagnostics.Descriptors.UnsupportedExpression, node.GetLocation(), Shorten(node.ToString()), hint);
            return Error();
        }
    }
}
