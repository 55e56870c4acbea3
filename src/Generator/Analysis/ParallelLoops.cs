using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Analysis
{
    /// <summary>
    /// Whether the iterations of a counted loop are independent, so that generated code may run them on
    /// several threads in any order: every scalar the body writes is declared in the body (private to the
    /// iteration), and every array the body writes and did not allocate itself is written at elements no
    /// other iteration writes (the write indices, as polynomials in the counter, lie in a window narrower
    /// than the counter's stride: <c>out[i]</c>, <c>out[j * w + i]</c> with <c>0 &lt;= i &lt; w</c>) and read only
    /// at those elements. Runs on the lowered IR (before the structurizer), so lowering reports the
    /// conflict on the loop's syntax.
    /// </summary>
    internal static class ParallelLoops
    {
        /// <summary>Why the iterations of <paramref name="loop"/> may conflict, or null when they are independent.</summary>
        public static string? Conflict(ForLoop loop, IReadOnlyList<Var> vars, IReadOnlyList<Callee> callees)
        {
            if (loop.Step != 1 && loop.Step != -1) return "its counter steps by " + loop.Step.ToString(System.Globalization.CultureInfo.InvariantCulture) + " (only loops stepping by 1 run in parallel)";
            if (vars[loop.Counter].Elem != Ty.Int) return "its counter is not an int";
            var body = loop.Body;
            var all = Walk.Descendants(body).ToList();
            string? exit = EarlyExit(body, 0);
            if (exit != null) return exit;

            var writeCount = new Dictionary<int, int>();
            var declared = new HashSet<int>();
            var definitions = new Dictionary<int, Expr>();
            var innerCounters = new HashSet<int>();
            var arrayWrites = new List<(int Var, Expr Index)>();
            var arrayReads = new List<(int Var, Expr Index)>();
            void Write(int v) => writeCount[v] = writeCount.TryGetValue(v, out var n) ? n + 1 : 1;
            foreach (var s in all)
            {
                switch (s)
                {
                    case Assign a when a.Target is VarRef t:
                        Write(t.Var);
                        if (a.Declares) { declared.Add(t.Var); definitions[t.Var] = a.Value; }
                        break;
                    case Assign a when a.Target is ElemRef te:
                        arrayWrites.Add((te.Var, te.Index));
                        break;
                    case Alloc al:
                        Write(al.Var);
                        declared.Add(al.Var);
                        break;
                    case Call c:
                        {
                            if (c.ResultVar >= 0) { Write(c.ResultVar); declared.Add(c.ResultVar); }
                            var callee = callees[c.Callee];
                            for (int k = 0; k < c.Args.Count; k++)
                            {
                                if (callee.Params[k].Storage == Storage.Scalar || !(c.Args[k] is VarRef av)) continue;
                                if (callee.Params[k].Writes) arrayWrites.Add((av.Var, new ErrorExpr()));
                                if (callee.Params[k].Reads) arrayReads.Add((av.Var, new ErrorExpr()));
                            }
                            break;
                        }
                    case ForLoop f:
                        Write(f.Counter);
                        declared.Add(f.Counter);
                        innerCounters.Add(f.Counter);
                        break;
                }
                foreach (var e in Walk.Exprs(s))
                {
                    // The target of an element assignment is a write, its index a read.
                    var root = s is Assign asg && ReferenceEquals(e, asg.Target) && asg.Target is ElemRef target ? target.Index : e;
                    foreach (var x in Walk.Descendants(root))
                        if (x is ElemRef el) arrayReads.Add((el.Var, el.Index));
                }
            }

            foreach (var kv in writeCount.OrderBy(k => k.Key))
            {
                var v = vars[kv.Key];
                if (kv.Key == loop.Counter || v.Storage != Storage.Scalar) continue;
                if (declared.Contains(kv.Key) || v.Role == VarRole.Temp || v.Role == VarRole.Flag) continue;
                return "every iteration writes '" + v.Name + "', which is declared outside the loop (a sum over iterations: collect per-iteration values in an array and add them up after the loop)";
            }

            var forms = new Forms(loop, vars, all, writeCount, declared, definitions);
            foreach (var group in arrayWrites.GroupBy(w => w.Var).OrderBy(g => g.Key))
            {
                var a = vars[group.Key];
                if (declared.Contains(group.Key)) continue; // allocated by the iteration itself
                if (group.Any(w => w.Index is ErrorExpr))
                    return "'" + a.Name + "' is passed to a method that may write it (a Span or array parameter; declare it ReadOnlySpan<T> if the method only reads it), so iterations may write the same elements";
                var writes = new List<Poly>();
                foreach (var (_, index) in group)
                {
                    var p = forms.Of(index);
                    if (p == null) return "the index of a write to '" + a.Name + "' is not a polynomial in the loop counter and loop-invariant integers";
                    writes.Add(p);
                }
                string? why = forms.Disjoint(writes);
                if (why != null) return "writes to '" + a.Name + "': " + why;
                foreach (var (_, index) in arrayReads.Where(r => r.Var == group.Key))
                {
                    if (index is ErrorExpr) return "'" + a.Name + "' is written by the iterations and passed to a method that reads it";
                    var p = forms.Of(index);
                    if (p == null || !writes.Contains(p))
                        return "an iteration reads an element of '" + a.Name + "' that another iteration may write";
                }
            }
            return null;
        }

        /// <summary>A break or return that ends the loop early (continue is fine: it ends one iteration).</summary>
        private static string? EarlyExit(Stmt s, int depth)
        {
            switch (s)
            {
                case Break _ when depth == 0: return "it may end early with break";
                case Return _: return "it may end early with return";
                case Loop l:
                    foreach (var c in Walk.Children(l)) { var r = EarlyExit(c, depth + 1); if (r != null) return r; }
                    return null;
                default:
                    foreach (var c in Walk.Children(s)) { var r = EarlyExit(c, depth); if (r != null) return r; }
                    return null;
            }
        }

        /// <summary>Index polynomials of one loop body: counters as symbols, single definitions substituted, invariants as symbols.</summary>
        internal sealed class Forms
        {
            private readonly ForLoop _loop;
            private readonly IReadOnlyList<Var> _vars;
            private readonly Dictionary<int, int> _writeCount;
            private readonly Dictionary<int, Expr> _definitions;
            private readonly Dictionary<int, ForLoop> _inner = new Dictionary<int, ForLoop>();
            private readonly HashSet<int> _expanding = new HashSet<int>();

            public Forms(ForLoop loop, IReadOnlyList<Var> vars, IEnumerable<Stmt> body, Dictionary<int, int> writeCount, HashSet<int> declared, Dictionary<int, Expr> definitions)
            {
                _loop = loop;
                _vars = vars;
                _writeCount = writeCount;
                _definitions = definitions.Where(kv => declared.Contains(kv.Key) && writeCount.TryGetValue(kv.Key, out var n) && n == 1)
                    .ToDictionary(kv => kv.Key, kv => kv.Value);
                foreach (var f in body.OfType<ForLoop>()) _inner[f.Counter] = f;
            }

            /// <summary>The forms of a loop's body (its definitions and writes collected as <see cref="Conflict"/> does).</summary>
            public static Forms Of(ForLoop loop, IReadOnlyList<Var> vars, IReadOnlyList<Callee> callees)
            {
                var all = Walk.Descendants(loop.Body).ToList();
                var writeCount = new Dictionary<int, int>();
                var declared = new HashSet<int>();
                var definitions = new Dictionary<int, Expr>();
                void Write(int v) => writeCount[v] = writeCount.TryGetValue(v, out var n) ? n + 1 : 1;
                foreach (var s in all)
                {
                    switch (s)
                    {
                        case Assign a when a.Target is VarRef t:
                            Write(t.Var);
                            if (a.Declares) { declared.Add(t.Var); definitions[t.Var] = a.Value; }
                            break;
                        case Alloc al: Write(al.Var); declared.Add(al.Var); break;
                        case Call c when c.ResultVar >= 0: Write(c.ResultVar); declared.Add(c.ResultVar); break;
                        case ForLoop f: Write(f.Counter); declared.Add(f.Counter); break;
                    }
                }
                return new Forms(loop, vars, all, writeCount, declared, definitions);
            }

            public string CounterSymbol => IndexForms.CounterSymbol(_loop.Counter);

            public Poly? Of(Expr e) => IndexForms.Of(e, VarPoly);

            private Poly? VarPoly(int v)
            {
                if (v == _loop.Counter || _inner.ContainsKey(v)) return Poly.Sym(IndexForms.CounterSymbol(v));
                if (_definitions.TryGetValue(v, out var def))
                {
                    if (!_expanding.Add(v)) return null;
                    var p = Of(def);
                    _expanding.Remove(v);
                    return p;
                }
                return _writeCount.ContainsKey(v) ? null : Poly.Sym(IndexForms.VarSymbol(v));
            }

            /// <summary>The range [lo, hi) of an inner counter, when its bounds are polynomials free of counters.</summary>
            public bool Range(int counter, out Poly lo, out Poly hi)
            {
                lo = hi = Poly.Zero;
                if (!_inner.TryGetValue(counter, out var f) || !(f.Condition is Binary c) || !(StripCast(c.Left) is VarRef cv) || cv.Var != counter) return false;
                var start = Of(f.Start);
                var bound = Of(c.Right);
                if (start == null || bound == null || start.Contains(IsCounter) || bound.Contains(IsCounter)) return false;
                if (f.Step == 1 && c.Op == BinOp.Lt) { lo = start; hi = bound; return true; }
                if (f.Step == 1 && c.Op == BinOp.Le) { lo = start; hi = bound + Poly.One; return true; }
                if (f.Step == -1 && c.Op == BinOp.Gt) { lo = bound + Poly.One; hi = start + Poly.One; return true; }
                if (f.Step == -1 && c.Op == BinOp.Ge) { lo = bound; hi = start + Poly.One; return true; }
                return false;
            }

            private static bool IsCounter(string symbol) => symbol.StartsWith("c", System.StringComparison.Ordinal);

            private static Expr StripCast(Expr e) => e is Cast c && c.Implicit ? StripCast(c.Operand) : e;

            /// <summary>
            /// Null when iterations write disjoint elements: every write is <c>counter * S + R</c> with one stride
            /// S, and the values R takes in one iteration (over inner counters) span less than |S|.
            /// </summary>
            public string? Disjoint(List<Poly> writes)
            {
                Poly? stride = null;
                var mins = new List<Poly>();
                var maxs = new List<Poly>();
                foreach (var w in writes)
                {
                    if (!w.Split(CounterSymbol, out var s, out var rest) || s.IsZero || s.Contains(IsCounter))
                        return "the index is not the loop counter times a loop-invariant stride plus an offset";
                    if (stride == null) stride = s;
                    else if (!stride.Equals(s)) return "the writes use different strides (" + stride + ", " + s + ")";
                    if (!Extent(rest, out var min, out var max)) return "an offset depends on a counter of an inner loop with bounds that are not loop-invariant";
                    mins.Add(min);
                    maxs.Add(max);
                }
                if (stride == null) return null;
                var lo = Extreme(mins, lowest: true);
                var hi = Extreme(maxs, lowest: false);
                if (lo == null || hi == null) return "the offsets of the writes cannot be ordered";
                var width = stride.IsConst(out var sc) && sc < 0 ? -stride : stride;
                if ((width - Poly.One - (hi - lo)).IsConst(out var slack) && slack >= 0) return null;
                return "the elements one iteration writes (offsets " + lo + " to " + hi + ") may overlap the next iteration's (stride " + stride + ")";
            }

            /// <summary>The least and greatest value of <c>r0 + Σ c_k q_k</c> over the inner counters' ranges.</summary>
            private bool Extent(Poly rest, out Poly min, out Poly max)
            {
                min = max = rest;
                foreach (var counter in _inner.Keys.OrderBy(k => k))
                {
                    string sym = IndexForms.CounterSymbol(counter);
                    if (!min.Contains(sym)) continue;
                    if (!rest.Split(sym, out var coef, out _) || !coef.IsConst(out var c) || !Range(counter, out var lo, out var hi)) return false;
                    var last = hi - Poly.One;
                    min = min.Substitute(sym, c > 0 ? lo : last);
                    max = max.Substitute(sym, c > 0 ? last : lo);
                }
                return !min.Contains(IsCounter) && !max.Contains(IsCounter);
            }

            private static Poly? Extreme(List<Poly> ps, bool lowest)
            {
                foreach (var candidate in ps)
                {
                    bool ok = true;
                    foreach (var other in ps)
                    {
                        if (!IndexForms.ConstDifference(other, candidate, out var d) || (lowest ? d < 0 : d > 0)) { ok = false; break; }
                    }
                    if (ok) return candidate;
                }
                return null;
            }
        }
    }
}
