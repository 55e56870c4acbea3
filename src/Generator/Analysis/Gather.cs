using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Analysis
{
    /// <summary>An array whose adjoint the reverse of a loop gathers instead of scattering (see <see cref="Gather"/>).</summary>
    /// <param name="Var">The array (read-only in the loop).</param>
    /// <param name="Stride">Its row stride S in 2D (element (jj, ii) at jj * S + ii + Base); null in 1D (element jj + Base).</param>
    /// <param name="Base">The loop-invariant part of the first read's index.</param>
    /// <param name="Reads">Each read's index (as the simplified body writes it) and its offset (rows, columns) from the iteration's element.</param>
    internal sealed record GatheredArray(int Var, Expr? Stride, Expr Base, List<(Expr Index, int Dj, int Di)> Reads);

    /// <summary>
    /// How the reverse of a counted loop (1D, or a 2D nest of one inner loop) is written in gather form.
    /// The interior iterations — those where every boundary test in the body is decided — read the arrays
    /// below at fixed offsets from the iteration's own element; the adjoint of such an array is computed per
    /// element from the neighbouring iterations' contributions (a gather) instead of being added to by each
    /// iteration (a scatter), so iterations never write the same adjoint element and a serial reverse has no
    /// chain of read-modify-writes. The boundary iterations keep the original body and scatter, serially.
    /// </summary>
    internal sealed class GatherPlan
    {
        public GatherPlan(ForLoop outer, ForLoop? inner, Block outerBody, Block? innerBody, LoopFacts outerFacts, LoopFacts? innerFacts, List<GatheredArray> arrays, Dictionary<string, Expr> symbols)
        {
            Symbols = symbols;
            Outer = outer;
            Inner = inner;
            OuterBody = outerBody;
            InnerBody = innerBody;
            OuterFacts = outerFacts;
            InnerFacts = innerFacts;
            Arrays = arrays;
        }

        public ForLoop Outer { get; }

        public ForLoop? Inner { get; }

        /// <summary>The outer loop's body with the interior's boundary tests decided.</summary>
        public Block OuterBody { get; }

        /// <summary>The inner loop's body with the interior's boundary tests decided (2D).</summary>
        public Block? InnerBody { get; }

        public LoopFacts OuterFacts { get; }

        public LoopFacts? InnerFacts { get; }

        public List<GatheredArray> Arrays { get; }

        /// <summary>The expressions the polynomials' symbols stand for (loop-invariant: valid before the loop).</summary>
        public Dictionary<string, Expr> Symbols { get; }
    }

    /// <summary>
    /// The interior of one counter: lower bounds (the loop's start and thresholds near it) and upper bounds
    /// (the loop's end and thresholds near it) as loop-invariant expressions; the interior is
    /// [max(Lower), min(Upper)).
    /// </summary>
    internal sealed class LoopFacts
    {
        public LoopFacts(int counter, List<Poly> lower, List<Poly> upper, List<Expr> lowerExprs, List<Expr> upperExprs)
        {
            Counter = counter;
            Lower = lower;
            Upper = upper;
            LowerExprs = lowerExprs;
            UpperExprs = upperExprs;
        }

        public int Counter { get; }

        public List<Poly> Lower { get; }

        public List<Poly> Upper { get; }

        /// <summary>The interior's first iteration when it differs from the loop's (at most one expression).</summary>
        public List<Expr> LowerExprs { get; }

        /// <summary>The interior's end when it differs from the loop's (at most one expression).</summary>
        public List<Expr> UpperExprs { get; }

        public bool HasInterior => Lower.Count > 1 || Upper.Count > 1;
    }

    /// <summary>Finds <see cref="GatherPlan"/>s (see there).</summary>
    internal static class Gather
    {
        /// <summary>How far from a loop's ends (in iterations) a boundary test may peel iterations off.</summary>
        private const int MaxPeel = 4;

        public static GatherPlan? Plan(ForLoop outer, IReadOnlyList<Var> vars, IReadOnlyList<Callee> callees, Analyzer a)
        {
            if (!Counted(outer, vars, a)) return null;
            var inside = new HashSet<int>(Walk.Descendants(outer.Body).Select(s => s.Id)) { outer.Id };
            if (a.Pushes.Any(p => inside.Contains(p.Stmt)) || a.TapedConditions.Any(inside.Contains)) return null;
            var loops = outer.Body.Stmts.OfType<Loop>().ToList();
            ForLoop? inner = null;
            if (Walk.Descendants(outer.Body).Skip(1).Any(s => s is Loop))
            {
                // 2D: one inner counted loop, loop-free, and otherwise only inactive recomputed locals.
                if (loops.Count != 1 || !(loops[0] is ForLoop m) || !Counted(m, vars, a) || Walk.Descendants(m.Body).Skip(1).Any(s => s is Loop)) return null;
                foreach (var s in outer.Body.Stmts)
                    if (s != m && !(s is Assign d && d.Declares && d.Target is VarRef dv && a.Recomputed.Contains(dv.Var) && !a.Active[dv.Var])) return null;
                inner = m;
            }

            var written = WrittenIn(outer, callees);
            var symbols = new Dictionary<string, Expr>();
            var defs = new Dictionary<int, Expr>();
            var forms = new FormsOf(outer, inner, written, defs, symbols);

            // Definitions as written first (a test may compare against a local); decided ones after simplifying.
            foreach (var s in Walk.Descendants(outer.Body))
                if (s is Assign d && d.Declares && d.Target is VarRef dv && a.Recomputed.Contains(dv.Var)) defs[dv.Var] = d.Value;
            var outerFacts = Facts(outer, outer, vars, a, forms);
            var innerFacts = inner != null ? Facts(inner, outer, vars, a, forms) : null;
            if (outerFacts == null || inner != null && innerFacts == null) return null;
            var facts = new List<LoopFacts> { outerFacts };
            if (innerFacts != null) facts.Add(innerFacts);

            // Decide the boundary tests; then the locals' definitions give the index polynomials.
            var outerBody = (Block)Simplify(outer.Body, facts, forms);
            var innerBody = inner != null ? (Block)Simplify(inner.Body, facts, forms) : null;
            foreach (var s in Walk.Descendants(outerBody))
                if (s is Assign d && d.Declares && d.Target is VarRef dv && a.Recomputed.Contains(dv.Var)) defs[dv.Var] = d.Value;

            var readBody = innerBody ?? outerBody;
            var reads = new Dictionary<int, List<Expr>>();
            foreach (var s in Walk.Descendants(readBody))
                foreach (var e in Walk.Exprs(s))
                    foreach (var x in Walk.Descendants(e))
                        if (x is ElemRef el && a.Active[el.Var] && Analyzer.IsReal(el.Type))
                        {
                            if (!reads.TryGetValue(el.Var, out var list)) reads[el.Var] = list = new List<Expr>();
                            list.Add(el.Index);
                        }
            var passed = new HashSet<int>(Walk.Descendants(outer.Body).OfType<Call>().SelectMany(c => c.Args).OfType<VarRef>().Select(v => v.Var));
            var outside = inner == null ? new HashSet<int>()
                : new HashSet<int>(outerBody.Stmts.Where(s => s != inner).SelectMany(Walk.Exprs).SelectMany(Walk.Descendants).OfType<ElemRef>().Select(el => el.Var));

            var arrays = new List<GatheredArray>();
            foreach (var kv in reads.OrderBy(k => k.Key))
            {
                if (written.Contains(kv.Key) || passed.Contains(kv.Key) || outside.Contains(kv.Key) || vars[kv.Key].Storage == Storage.Scalar) continue;
                var g = Offsets(kv.Key, kv.Value, outer, inner, innerFacts, forms, symbols);
                if (g != null && g.Reads.Select(r => (r.Dj, r.Di)).Distinct().Count() > 1) arrays.Add(g);
            }
            if (arrays.Count == 0) return null;
            return new GatherPlan(outer, inner, outerBody, innerBody, outerFacts, innerFacts, arrays, symbols);
        }

        /// <summary>A loop stepping by one whose trip count the reverse sweep computes (invariant bounds).</summary>
        private static bool Counted(ForLoop f, IReadOnlyList<Var> vars, Analyzer a) =>
            (f.Step == 1 || f.Step == -1) && vars[f.Counter].Elem == Ty.Int && a.ComputedTrips.ContainsKey(f.Id);

        /// <summary>Variables and arrays a loop writes (its body's assignments, allocations, counters, call outputs).</summary>
        internal static HashSet<int> WrittenIn(Stmt loop, IReadOnlyList<Callee> callees)
        {
            var written = new HashSet<int>();
            foreach (var s in Walk.Descendants(loop))
            {
                switch (s)
                {
                    case Assign asg: written.Add(Analyzer.TargetVar(asg.Target)); break;
                    case Alloc al: written.Add(al.Var); break;
                    case ForLoop f: written.Add(f.Counter); break;
                    case Call c:
                        if (c.ResultVar >= 0) written.Add(c.ResultVar);
                        for (int k = 0; k < c.Args.Count; k++)
                            if (callees[c.Callee].Params[k].Writes && c.Args[k] is VarRef v && callees[c.Callee].Params[k].Storage != Storage.Scalar) written.Add(v.Var);
                        break;
                }
            }
            return written;
        }

        /// <summary>Polynomials of the loop nest: counters and invariants as symbols, recomputed locals by their definitions.</summary>
        internal sealed class FormsOf
        {
            private readonly ForLoop _outer;
            private readonly ForLoop? _inner;
            private readonly HashSet<int> _written;
            private readonly Dictionary<int, Expr> _defs;
            private readonly Dictionary<string, Expr> _symbols;
            private readonly HashSet<int> _expanding = new HashSet<int>();

            public FormsOf(ForLoop outer, ForLoop? inner, HashSet<int> written, Dictionary<int, Expr> defs, Dictionary<string, Expr> symbols)
            {
                _outer = outer;
                _inner = inner;
                _written = written;
                _defs = defs;
                _symbols = symbols;
            }

            public Poly? Of(Expr e) => IndexForms.Of(e, VarPoly, _symbols);

            public Dictionary<string, Expr> Symbols => _symbols;

            private Poly? VarPoly(int v)
            {
                if (v == _outer.Counter || _inner != null && v == _inner.Counter) return Poly.Sym(IndexForms.CounterSymbol(v));
                if (_defs.TryGetValue(v, out var def))
                {
                    if (!_expanding.Add(v)) return null;
                    var p = Of(def);
                    _expanding.Remove(v);
                    return p;
                }
                return _written.Contains(v) ? null : Poly.Sym(IndexForms.VarSymbol(v));
            }
        }

        private static bool IsCounter(string symbol) => symbol.StartsWith("c", System.StringComparison.Ordinal);

        /// <summary>The loop's range [Lower[0], Upper[0]) and the interior thresholds its body's tests and remainders imply.</summary>
        private static LoopFacts? Facts(ForLoop loop, ForLoop outer, IReadOnlyList<Var> vars, Analyzer a, FormsOf forms)
        {
            var (op, bound) = a.ComputedTrips[loop.Id];
            var start = forms.Of(loop.Start);
            var end = forms.Of(bound);
            if (start == null || end == null || start.Contains(IsCounter) || end.Contains(IsCounter)) return null;
            Poly lo, hi;
            switch (op)
            {
                case BinOp.Lt when loop.Step == 1: lo = start; hi = end; break;
                case BinOp.Le when loop.Step == 1: lo = start; hi = end + Poly.One; break;
                case BinOp.Gt when loop.Step == -1: lo = end + Poly.One; hi = start + Poly.One; break;
                case BinOp.Ge when loop.Step == -1: lo = end; hi = start + Poly.One; break;
                default: return null;
            }
            var facts = new LoopFacts(loop.Counter, new List<Poly> { lo }, new List<Poly> { hi }, new List<Expr>(), new List<Expr>());
            string c = IndexForms.CounterSymbol(loop.Counter);
            void Threshold(Poly t)
            {
                if (IndexForms.ConstDifference(t, lo, out var fromStart) && fromStart > 0 && fromStart <= MaxPeel && !facts.Lower.Contains(t)) facts.Lower.Add(t);
                if (IndexForms.ConstDifference(hi, t, out var fromEnd) && fromEnd > 0 && fromEnd <= MaxPeel && !facts.Upper.Contains(t)) facts.Upper.Add(t);
            }
            foreach (var s in Walk.Descendants(outer.Body))
                foreach (var e in Walk.Exprs(s))
                    foreach (var x in Walk.Descendants(e))
                    {
                        if (x is Binary b && Ops.IsComparison(b.Op) && CounterThreshold(b, c, forms) is Poly t) Threshold(t);
                        if (x is Binary m && m.Op == BinOp.Mod && Remainder(m, c, forms) is var (k0, period))
                        {
                            Threshold(Poly.Const(-k0));
                            Threshold(period - Poly.Const(k0));
                        }
                    }
            // Lower[0] and Upper[0] are the loop's own bounds, emitted from the loop itself; the thresholds differ
            // from them by constants, so the interior starts at the largest lower one and ends at the smallest upper one.
            if (facts.Lower.Count > 1)
            {
                var x = IndexForms.ToExpr(facts.Lower.Skip(1).OrderByDescending(t => IndexForms.ConstDifference(t, lo, out var d) ? d : 0).First(), forms.Symbols);
                if (x == null) return null;
                facts.LowerExprs.Add(x);
            }
            if (facts.Upper.Count > 1)
            {
                var x = IndexForms.ToExpr(facts.Upper.Skip(1).OrderByDescending(t => IndexForms.ConstDifference(hi, t, out var d) ? d : 0).First(), forms.Symbols);
                if (x == null) return null;
                facts.UpperExprs.Add(x);
            }
            return facts;
        }

        /// <summary>For <c>c op e</c> (c a counter with coefficient 1, e invariant): the value T where the test flips (it is c &gt;= T or c &lt; T).</summary>
        private static Poly? CounterThreshold(Binary b, string counter, FormsOf forms)
        {
            var l = forms.Of(b.Left);
            var r = forms.Of(b.Right);
            if (l == null || r == null) return null;
            var d = l - r; // c op e  <=>  d op 0
            if (!d.Split(counter, out var coef, out var rest) || !coef.IsConst(out var k) || rest.Contains(IsCounter)) return null;
            var op = b.Op;
            if (k == -1) { rest = -rest; op = Mirror(op); }  // -c + rest op 0  <=>  c - rest (mirrored op) 0
            else if (k != 1) return null;
            // c + rest op 0: c < -rest, c <= -rest, c > -rest, c >= -rest.
            var t = -rest;
            switch (op)
            {
                case BinOp.Lt: case BinOp.Ge: return t;                       // c < t / c >= t flip at t
                case BinOp.Le: case BinOp.Gt: return t + Poly.One;            // c <= t / c > t flip at t + 1
                default: return null;
            }
        }

        /// <summary>
        /// For <c>(c + k) % m</c> (k, m invariant): k0 with k - q m = k0 for q in {0, 1}, so that the remainder is
        /// c + k0 for c in [-k0, m - k0).
        /// </summary>
        private static (long K0, Poly Period)? Remainder(Binary mod, string counter, FormsOf forms)
        {
            var x = forms.Of(mod.Left);
            var m = forms.Of(mod.Right);
            if (x == null || m == null || m.Contains(IsCounter)) return null;
            if (!x.Split(counter, out var coef, out var k) || !coef.IsConst(out var one) || one != 1 || k.Contains(IsCounter)) return null;
            if (k.IsConst(out var k0)) return (k0, m);
            if ((k - m).IsConst(out var k1)) return (k1, m);
            return null;
        }

        // ------------------------------------------------------------------ deciding the interior's tests

        /// <summary>The statement with every test the interior decides replaced by its value (statement ids kept).</summary>
        private static Stmt Simplify(Stmt s, List<LoopFacts> facts, FormsOf forms)
        {
            Expr E(Expr e) => Walk.Map(e, x => Decide(x, facts, forms));
            switch (s)
            {
                case Block b: return b with { Stmts = b.Stmts.Select(x => Simplify(x, facts, forms)).ToEquatableArray() };
                case Assign asg: return asg with { Target = asg.Target is ElemRef t ? t with { Index = E(t.Index) } : asg.Target, Value = E(asg.Value) };
                case If i:
                    {
                        var cond = E(i.Condition);
                        var then = (Block)Simplify(i.Then, facts, forms);
                        var els = (Block)Simplify(i.Else, facts, forms);
                        if (cond is Lit l && l.Type == Ty.Bool) return l.Text == "true" ? then : els;
                        return i with { Condition = cond, Then = then, Else = els };
                    }
                case ForLoop f: return f with { Body = (Block)Simplify(f.Body, facts, forms) };
                case Call c: return c with { Args = c.Args.Select(E).ToEquatableArray() };
                case Alloc al: return al with { Length = E(al.Length) };
                default: return s;
            }
        }

        private static Expr? Decide(Expr x, List<LoopFacts> facts, FormsOf forms)
        {
            switch (x)
            {
                case Binary b when Ops.IsComparison(b.Op):
                    foreach (var f in facts)
                    {
                        var t = CounterThreshold(b, IndexForms.CounterSymbol(f.Counter), forms);
                        if (t == null) continue;
                        bool? geT = AtLeast(f, t);
                        if (geT == null) return null;
                        // Which side of T is "true" for this test: compare at the interior, c >= T is geT.
                        return Truth(b, f, forms, geT.Value) is bool v ? Bool(v) : null;
                    }
                    return null;
                case Binary b when b.Op == BinOp.LogicalAnd || b.Op == BinOp.LogicalOr:
                    {
                        bool? l = Known(b.Left), r = Known(b.Right);
                        if (b.Op == BinOp.LogicalAnd) { if (l == false || r == false) return Bool(false); if (l == true && r == true) return Bool(true); if (l == true) return b.Right; if (r == true) return b.Left; }
                        else { if (l == true || r == true) return Bool(true); if (l == false && r == false) return Bool(false); if (l == false) return b.Right; if (r == false) return b.Left; }
                        return null;
                    }
                case Unary u when u.Op == UnOp.Not && Known(u.Operand) is bool nv:
                    return Bool(!nv);
                case Conditional c when Known(c.Condition) is bool cv:
                    return cv ? c.WhenTrue : c.WhenFalse;
                case Binary m when m.Op == BinOp.Mod:
                    foreach (var f in facts)
                    {
                        string sym = IndexForms.CounterSymbol(f.Counter);
                        if (!(Remainder(m, sym, forms) is var (k0, period))) continue;
                        // Valid when the whole interior lies in [-k0, period - k0).
                        if (AtLeast(f, Poly.Const(-k0)) == true && Below(f, period - Poly.Const(k0)))
                            return new Binary(k0 < 0 ? BinOp.Sub : BinOp.Add, new VarRef(f.Counter, Ty.Int),
                                new Lit(System.Math.Abs(k0).ToString(System.Globalization.CultureInfo.InvariantCulture), Ty.Int), m.Type);
                    }
                    return null;
                default:
                    return null;
            }
        }

        private static Expr Bool(bool v) => new Lit(v ? "true" : "false", Ty.Bool);

        private static bool? Known(Expr e) => e is Lit l && l.Type == Ty.Bool ? l.Text == "true" : (bool?)null;

        /// <summary>Whether every interior value of the counter is &gt;= t (true), every one &lt; t (false), or unknown.</summary>
        private static bool? AtLeast(LoopFacts f, Poly t)
        {
            if (f.Lower.Any(l => IndexForms.ConstDifference(l, t, out var d) && d >= 0)) return true;
            if (f.Upper.Any(u => IndexForms.ConstDifference(t, u, out var d) && d >= 0)) return false;
            return null;
        }

        /// <summary>Whether every interior value of the counter is &lt; t.</summary>
        private static bool Below(LoopFacts f, Poly t) => f.Upper.Any(u => IndexForms.ConstDifference(t, u, out var d) && d >= 0);

        /// <summary>The value of the test in the interior, given whether the counter is at least its threshold there.</summary>
        private static bool? Truth(Binary b, LoopFacts f, FormsOf forms, bool atLeast)
        {
            var l = forms.Of(b.Left);
            var r = forms.Of(b.Right);
            if (l == null || r == null) return null;
            var d = l - r;
            if (!d.Split(IndexForms.CounterSymbol(f.Counter), out var coef, out _) || !coef.IsConst(out var k)) return null;
            // With k = -1 the test is mirrored: e op c.
            var op = k == 1 ? b.Op : Mirror(b.Op);
            switch (op)
            {
                case BinOp.Lt: case BinOp.Le: return !atLeast;   // c < T (c <= T-1): true below the threshold
                case BinOp.Gt: case BinOp.Ge: return atLeast;
                default: return null;
            }
        }

        private static BinOp Mirror(BinOp op) => op == BinOp.Lt ? BinOp.Gt : op == BinOp.Gt ? BinOp.Lt : op == BinOp.Le ? BinOp.Ge : op == BinOp.Ge ? BinOp.Le : op;

        // ------------------------------------------------------------------ offsets

        /// <summary>The reads of one array as offsets from the iteration's element, or null when they are not such.</summary>
        private static GatheredArray? Offsets(int array, List<Expr> indices, ForLoop outer, ForLoop? inner, LoopFacts? innerFacts, FormsOf forms, Dictionary<string, Expr> symbols)
        {
            string p = IndexForms.CounterSymbol(outer.Counter);
            string? q = inner != null ? IndexForms.CounterSymbol(inner.Counter) : null;
            Poly? stride = null;
            var rests = new List<Poly>();
            foreach (var index in indices)
            {
                var poly = forms.Of(index);
                if (poly == null || !poly.Split(p, out var s, out var rest) || s.Contains(IsCounter)) return null;
                if (q != null)
                {
                    if (!rest.Split(q, out var qc, out var rest2) || !qc.IsConst(out var one) || one != 1 || rest2.Contains(IsCounter)) return null;
                    if (stride == null) stride = s;
                    else if (!stride.Equals(s)) return null;
                    rests.Add(rest2);
                }
                else
                {
                    if (!s.IsConst(out var one) || one != 1 || rest.Contains(IsCounter)) return null;
                    rests.Add(rest);
                }
            }
            var reads = new List<(Expr Index, int Dj, int Di)>();
            for (int r = 0; r < indices.Count; r++)
            {
                var d = rests[r] - rests[0];
                if (stride == null)
                {
                    if (!d.IsConst(out var dj) || System.Math.Abs(dj) > 1 << 20) return null;
                    reads.Add((indices[r], (int)dj, 0));
                    continue;
                }
                // d = dj * S + di with the smallest |di|.
                int? bestJ = null;
                long bestI = 0;
                for (int dj = -MaxPeel; dj <= MaxPeel; dj++)
                {
                    if ((d - Poly.Const(dj) * stride).IsConst(out var di) && (bestJ == null || System.Math.Abs(di) < System.Math.Abs(bestI)))
                    {
                        bestJ = dj;
                        bestI = di;
                    }
                }
                if (bestJ == null || System.Math.Abs(bestI) > MaxPeel) return null;
                reads.Add((indices[r], bestJ.Value, (int)bestI));
            }
            if (stride != null)
            {
                // (jj, ii) -> jj * S + ii is one-to-one over the gather box when the box is no wider than a row.
                int spread = reads.Max(r => r.Di) - reads.Min(r => r.Di);
                bool fits = innerFacts!.Upper.Any(u => innerFacts.Lower.Any(l => (stride - (u - l) - Poly.Const(spread)).IsConst(out var slack) && slack >= 0));
                if (!fits) return null;
            }
            var baseExpr = IndexForms.ToExpr(rests[0], symbols);
            var strideExpr = stride != null ? IndexForms.ToExpr(stride, symbols) : null;
            if (baseExpr == null || stride != null && strideExpr == null) return null;
            return new GatheredArray(array, strideExpr, baseExpr, reads);
        }
    }
}
