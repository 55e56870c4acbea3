using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Emit
{
    /// <summary>Turns IR expressions (primal values, the rule table's partials) into output-tree expressions.</summary>
    internal sealed class IrToCs
    {
        private readonly IReadOnlyList<Var> _vars;

        public IrToCs(IReadOnlyList<Var> vars) => _vars = vars;

        public CsName Name(int var) => new CsName(_vars[var].Name);

        /// <summary><c>e.Pos.X</c> for the field path ".Pos.X" (none: e itself).</summary>
        public static CsExpr WithPath(CsExpr e, string? path)
        {
            if (string.IsNullOrEmpty(path)) return e;
            foreach (var member in path!.Split(new[] { '.' }, System.StringSplitOptions.RemoveEmptyEntries)) e = new CsMember(e, member);
            return e;
        }

        public CsExpr Convert(Expr e)
        {
            switch (e)
            {
                case Lit l: return new CsLiteral(l.Text, l.Type);
                case VarRef v: return Name(v.Var);
                case ElemRef el: return WithPath(new CsIndex(Name(el.Var), Convert(el.Index)), el.Path);
                case LenRef len when len.Row != null: return new CsMember(new CsIndex(Name(len.Var), Convert(len.Row)), "Length");
                case LenRef len when len.Dim >= 0: return new CsInvoke(new CsMember(Name(len.Var), "GetLength"), new[] { new CsArg(CsLiteral.Int(len.Dim)) });
                case LenRef len: return new CsMember(Name(len.Var), _vars[len.Var].IsList ? "Count" : "Length");
                case Indices ix: return new CsIndices(ix.Items.Select(Convert).ToEquatableArray(), ix.Jagged);
                case Unary u: return new CsUnary(u.Op == UnOp.Neg ? CsUnaryOp.Neg : CsUnaryOp.Not, Convert(u.Operand));
                case Binary b: return new CsBinary(Ops.Text(b.Op), Convert(b.Left), Convert(b.Right));
                case Conditional c: return new CsConditional(Convert(c.Condition), Convert(c.WhenTrue), Convert(c.WhenFalse));
                // C# converts implicitly where the source did: printing the operand keeps the source's code.
                case Cast c when c.Implicit: return Convert(c.Operand);
                case Cast c: return new CsCast(CsType.Of(c.Type), Convert(c.Operand));
                // Type is the real type the call computes on (Math.Sign(double) returns int but runs on double).
                case MathCall m:
                    return new CsMath(m.Function.ToString(), m.Type == Ty.Double || m.Args.Any(a => a.Type == Ty.Double) ? Ty.Double : m.Type, m.IsMathF,
                        m.Args.Select(Convert).ToEquatableArray());
                case Opaque o:
                    {
                        CsExpr head = o.Receiver != null ? new CsMember(Convert(o.Receiver), o.Callee) : new CsName(o.Callee);
                        if (o.Indexer) return new CsIndex(head, o.Args.Count == 1 ? Convert(o.Args[0]) : new CsIndices(o.Args.Select(Convert).ToEquatableArray(), false));
                        return o.IsCall ? new CsInvoke(head, o.Args.Select(a => new CsArg(Convert(a)))) : head;
                    }
                default:
                    throw new System.InvalidOperationException("no C# form for IR node " + e.GetType().Name + " (lowering should have reported it)");
            }
        }
    }
}
