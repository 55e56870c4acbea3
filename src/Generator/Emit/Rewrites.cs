using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Emit
{
    /// <summary>A rewrite of the output tree: every node is rebuilt from its rewritten parts (override what changes).</summary>
    internal abstract class CsRewriter
    {
        public virtual CsType Type(CsType t) => t.Element != null ? t with { Element = Type(t.Element) } : t;

        public virtual CsExpr Expr(CsExpr e)
        {
            switch (e)
            {
                case CsMember m: return m with { Target = Expr(m.Target), TypeArgument = m.TypeArgument == null ? null : Type(m.TypeArgument) };
                case CsIndex ix: return new CsIndex(Expr(ix.Target), Expr(ix.Index));
                case CsIndices ixs: return ixs with { Items = ixs.Items.Select(Expr).ToEquatableArray() };
                case CsInvoke inv: return new CsInvoke(Expr(inv.Target), inv.Args.Select(Arg));
                case CsMath m: return m with { Args = m.Args.Select(Expr).ToEquatableArray() };
                case CsUnary u: return u with { Operand = Expr(u.Operand) };
                case CsBinary b: return new CsBinary(b.Op, Expr(b.Left), Expr(b.Right));
                case CsConditional c: return new CsConditional(Expr(c.Condition), Expr(c.WhenTrue), Expr(c.WhenFalse));
                case CsCast c: return new CsCast(Type(c.Type), Expr(c.Operand));
                case CsNewArray na: return new CsNewArray(Type(na.Element), Expr(na.Length));
                case CsNew n: return new CsNew(Type(n.Type), n.Args.Select(Arg).ToEquatableArray());
                case CsTangent t: return t with { Index = t.Index == null ? null : Expr(t.Index) };
                default: return e;
            }
        }

        private CsArg Arg(CsArg a) => a with { Value = Expr(a.Value) };

        /// <summary>The statements a statement becomes (usually one).</summary>
        public virtual IEnumerable<CsStmt> Stmt(CsStmt s)
        {
            switch (s)
            {
                case CsBlock b: yield return Block(b); break;
                case CsScope sc: yield return new CsScope(Block(sc.Body)); break;
                case CsLocal l: yield return new CsLocal(Type(l.Type), l.Name, l.Init == null ? null : Expr(l.Init)); break;
                case CsAssign a: yield return new CsAssign(Expr(a.Target), a.Op, Expr(a.Value)); break;
                case CsExprStmt e: yield return new CsExprStmt(Expr(e.Expr)); break;
                case CsIf i: yield return new CsIf(Expr(i.Condition), Block(i.Then), i.Else == null ? null : Block(i.Else)); break;
                case CsFor f:
                    yield return new CsFor(f.Init == null ? null : Stmt(f.Init).Single(), f.Condition == null ? null : Expr(f.Condition),
                        f.Step == null ? null : Stmt(f.Step).Single(), Block(f.Body));
                    break;
                case CsWhile w: yield return new CsWhile(Expr(w.Condition), Block(w.Body)); break;
                case CsReturn r: yield return new CsReturn(r.Value == null ? null : Expr(r.Value)); break;
                case CsLanes ln: yield return new CsLanes(Block(ln.Body)); break;
                case CsTangentLocal tl: yield return new CsTangentLocal(Type(tl.Type), tl.Name, Expr(tl.Init)); break;
                default: yield return s; break;
            }
        }

        public CsBlock Block(CsBlock b) => new CsBlock(b.Stmts.SelectMany(Stmt));

        public virtual CsMethod Method(CsMethod m) =>
            m with
            {
                ReturnType = Type(m.ReturnType),
                Params = m.Params.Select(p => p with { Type = Type(p.Type) }).ToEquatableArray(),
                Body = Block(m.Body),
            };
    }

    /// <summary>
    /// The pullback on dual numbers: every <c>double</c> of the tree (locals, parameters, spans, arrays,
    /// tape stacks, casts) becomes <c>DiffGen.Dual</c>, and Math calls on doubles go to DualMath, whose
    /// functions carry a tangent through the same rules.
    /// </summary>
    internal sealed class DualRewrite : CsRewriter
    {
        private static readonly CsType DualType = new CsType(Names.Dual);

        public static CsMethod Apply(CsMethod m) => new DualRewrite().Method(m);

        public override CsType Type(CsType t) => t.Scalar == Ty.Double ? DualType : base.Type(t);

        public override CsExpr Expr(CsExpr e)
        {
            if (e is CsMath m && m.Type == Ty.Double && !m.IsMathF)
                return new CsInvoke(new CsMember(new CsName(Names.DualMath), m.Function), m.Args.Select(a => new CsArg(Expr(a))));
            return base.Expr(e);
        }
    }

    /// <summary>
    /// Forward-mode tangent code is written once, for one direction (<see cref="CsTangent"/>,
    /// <see cref="CsLanes"/>). One direction prints it as it is; K directions index every tangent by
    /// the lane <c>_q</c> and run each lane statement over the K lanes.
    /// </summary>
    internal sealed class LaneRewrite : CsRewriter
    {
        private readonly string? _k;
        private readonly string? _q;
        private readonly List<CsStmt> _scratch = new List<CsStmt>();
        private readonly HashSet<string> _scratchNames = new HashSet<string>();

        private LaneRewrite(string? k, string? q)
        {
            _k = k;
            _q = q;
        }

        /// <summary>The one-direction pushforward: tangents are plain names and elements.</summary>
        public static CsMethod OneDirection(CsMethod m) => new LaneRewrite(null, null).Method(m);

        /// <summary>K directions: scalar tangents are spans of K (<c>xDots[_q]</c>), element i's are at <c>i * K + _q</c>.</summary>
        public static CsMethod Directions(CsMethod m, string k, string q)
        {
            var r = new LaneRewrite(k, q);
            var rewritten = r.Method(m);
            if (r._scratch.Count == 0) return rewritten;
            // Tangent temporaries become scratch arrays of K, allocated once before the body.
            var stmts = rewritten.Body.Stmts.ToList();
            int at = stmts.TakeWhile(IsGuard).Count();
            stmts.InsertRange(at, r._scratch);
            return rewritten with { Body = new CsBlock(stmts) };
        }

        /// <summary>An argument check at the top of a method (<c>if (…) throw …;</c>).</summary>
        internal static bool IsGuard(CsStmt s) =>
            s is CsIf i && i.Else == null && i.Then.Stmts.Count == 1 && i.Then.Stmts[0] is CsRawStmt r && r.Text.StartsWith("throw ", System.StringComparison.Ordinal);

        public override CsExpr Expr(CsExpr e)
        {
            if (!(e is CsTangent t)) return base.Expr(e);
            var index = t.Index == null ? null : Expr(t.Index);
            if (_k == null) return IrToCs.WithPath(index == null ? (CsExpr)N(t.Name) : new CsIndex(N(t.Name), index), t.Path);
            var lane = index == null ? (CsExpr)N(_q!) : Simplifier.Simplify(Bin("+", Bin("*", index, N(_k)), N(_q!)));
            return IrToCs.WithPath(new CsIndex(N(t.Name), lane), t.Path);
        }

        public override IEnumerable<CsStmt> Stmt(CsStmt s)
        {
            switch (s)
            {
                case CsLanes lanes when _k == null:
                    return lanes.Body.Stmts.SelectMany(Stmt);
                case CsLanes lanes:
                    {
                        var body = lanes.Body.Stmts.SelectMany(Stmt).ToList();
                        return body.Select(x => (CsStmt)new CsFor(new CsLocal(CsType.Int, _q!, CsLiteral.Int(0)), Bin("<", N(_q!), N(_k)),
                            Do(new CsVerbatim(_q + "++")), Cs.Block(x)));
                    }
                case CsTangentLocal tl when _k == null:
                    return new[] { new CsLocal(Type(tl.Type), tl.Name, Expr(tl.Init)) };
                case CsTangentLocal tl:
                    if (_scratchNames.Add(tl.Name))
                        _scratch.Add(new CsLocal(CsType.ArrayOf(Type(tl.Type)), tl.Name, new CsNewArray(Type(tl.Type), N(_k))));
                    return new[] { Set(new CsIndex(N(tl.Name), N(_q!)), Expr(tl.Init)) };
                default:
                    return base.Stmt(s);
            }
        }
    }
}
