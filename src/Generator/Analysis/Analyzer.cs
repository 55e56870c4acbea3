using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Analysis
{
    /// <summary>
    /// Activity (which variables carry a derivative) and to-be-recorded analysis (which writes must
    /// save the value they overwrite, which locals are recomputed in the reverse sweep instead, and
    /// which branch decisions are taped). Flow-insensitive and conservative, never unsound.
    /// </summary>
    internal sealed class Analyzer
    {
        private readonly IReadOnlyList<Var> _vars;
        private readonly IReadOnlyList<Callee> _callees;
        private readonly Dictionary<int, int> _pos = new Dictionary<int, int>();
        private readonly Dictionary<int, int[]> _loopsOf = new Dictionary<int, int[]>();
        private readonly Dictionary<int, Block> _parentBlock = new Dictionary<int, Block>();
        private readonly Dictionary<int, Stmt> _byId = new Dictionary<int, Stmt>();
        private readonly HashSet<int> _counterWrites = new HashSet<int>();
        private readonly Dictionary<int, int> _allocOf = new Dictionary<int, int>(); // array var -> Alloc stmt id
        private readonly List<(int Stmt, int Var)> _writes = new List<(int, int)>();
        private readonly Dictionary<(int Stmt, int Var), Expr?> _writeIndex = new Dictionary<(int, int), Expr?>();

        /// <summary>The index recorded for a read of a span's length: only re-allocation can change it.</summary>
        private sealed record LengthReadMarker() : Expr(Ty.Int);

        private static readonly Expr LengthRead = new LengthReadMarker();

        public bool[] Active { get; }
        public HashSet<(int Stmt, int Var)> Pushes { get; } = new HashSet<(int, int)>();
        public HashSet<int> Recomputed { get; } = new HashSet<int>();
        public HashSet<int> TapedConditions { get; } = new HashSet<int>();
        public HashSet<int> RestoredParams { get; } = new HashSet<int>();

        /// <summary>
        /// Counted loops whose trip count the reverse sweep recomputes from the start and bound (no
        /// break, bound and start unchanged by the loop), so the forward sweep records nothing for them.
        /// </summary>
        public Dictionary<int, (BinOp Op, Expr Bound)> ComputedTrips { get; } = new Dictionary<int, (BinOp, Expr)>();
        public HashSet<int> ReverseReadVars { get; } = new HashSet<int>();
        public int ResultVar { get; }

        /// <summary>Calls run as the callee's two pullback halves (see MethodAnalysis.SplitCalls).</summary>
        private readonly HashSet<int> _splitCalls;

        public Analyzer(IReadOnlyList<Var> vars, IReadOnlyList<Callee> callees, Block body, int resultVar, HashSet<int> splitCalls)
        {
            _splitCalls = splitCalls;
            _vars = vars;
            _callees = callees;
            ResultVar = resultVar;
            Active = new bool[vars.Count];
            int counter = 0;
            Number(body, null, new int[0], ref counter);
            ComputeActivity(body);
            ComputeRecompute();
            ComputeTbr(body);
        }

        public bool IsActiveExpr(Expr e) => DiffVars(e).Any(v => Active[v]);

        /// <summary>The leaf variables of a container (struct or object).</summary>
        private IEnumerable<int> Leaves(int container) => _vars.Where(v => v.Container == container).Select(v => v.Id);

        /// <summary>The fields of this an instance call may write (every scalar and array field, when the callee uses the object's state).</summary>
        public IEnumerable<int> ReceiverState(Call c) =>
            c.Receiver >= 0 && _callees[c.Callee].UsesThis
                ? Leaves(c.Receiver).Where(l => _vars[l].IsScalar && !_vars[l].IsContainer || _vars[l].IsWritableSpan)
                : Enumerable.Empty<int>();

        /// <summary>The variables a call passes by ref or out: it reads (ref) and writes them, like the state of this.</summary>
        public IEnumerable<int> RefArguments(Call c)
        {
            var callee = _callees[c.Callee];
            for (int k = 0; k < c.Args.Count; k++)
                if (callee.Params[k].Modifier != null && c.Args[k] is VarRef v) yield return v.Var;
        }

        /// <summary>What a call changes besides its result and the spans it writes: this's state and its ref/out arguments.</summary>
        public IEnumerable<int> CallState(Call c) => ReceiverState(c).Concat(RefArguments(c));

        /// <summary>A variable whose value comes from the caller: a parameter, or a field of a parameter or of this.</summary>
        public bool IsInterface(Var v) =>
            v.Role == VarRole.Param || v.IsLeaf && (_vars[v.Container].Role == VarRole.Param || _vars[v.Container].Role == VarRole.This);

        /// <summary>
        /// State that outlives the call (written state is an output): a field of this, a ref/out parameter,
        /// a field of a ref/out struct parameter.
        /// </summary>
        public bool IsState(Var v) =>
            v.IsLeaf && (_vars[v.Container].Role == VarRole.This || IsInOut(_vars[v.Container])) || v.Role == VarRole.Param && IsInOut(v);

        public static bool IsInOut(Var v) => v.Modifier == "ref" || v.Modifier == "out";

        public int LoopDepth(int stmtId) => _loopsOf.TryGetValue(stmtId, out var l) ? l.Length : 0;

        // ------------------------------------------------------------------ numbering

        private void Number(Stmt s, Block? parent, int[] loops, ref int counter)
        {
            _pos[s.Id] = counter++;
            _loopsOf[s.Id] = loops;
            _byId[s.Id] = s;
            if (parent != null) _parentBlock[s.Id] = parent;
            switch (s)
            {
                case Block b:
                    foreach (var c in b.Stmts) Number(c, b, loops, ref counter);
                    break;
                case If i:
                    Number(i.Then, null, loops, ref counter);
                    Number(i.Else, null, loops, ref counter);
                    break;
                case ForLoop f:
                    Number(f.Init, null, loops, ref counter);
                    // The loop header writes its counter; the reverse sweep reconstructs it (never taped).
                    _writes.Add((f.Id, f.Counter));
                    _counterWrites.Add(f.Id);
                    Number(f.Body, null, loops.Concat(new[] { f.Id }).ToArray(), ref counter);
                    break;
                case WhileLoop w:
                    Number(w.Init, null, loops, ref counter);
                    var inner = loops.Concat(new[] { w.Id }).ToArray();
                    Number(w.Body, null, inner, ref counter);
                    Number(w.Step, null, inner, ref counter);
                    break;
                case Assign a:
                    _writes.Add((a.Id, TargetVar(a.Target)));
                    _writeIndex[(a.Id, TargetVar(a.Target))] = a.Target is ElemRef te ? te.Index : null;
                    break;
                case Alloc al:
                    _writes.Add((al.Id, al.Var));
                    _allocOf[al.Var] = al.Id;
                    break;
                case Call c:
                    if (c.ResultVar >= 0) _writes.Add((c.Id, c.ResultVar));
                    if (c.ResultVar >= 0 && _vars[c.ResultVar].IsContainer)
                        foreach (var leaf in Leaves(c.ResultVar)) _writes.Add((c.Id, leaf));
                    var callee = _callees[c.Callee];
                    for (int k = 0; k < c.Args.Count; k++)
                        if (callee.Params[k].Storage != Storage.Scalar && callee.Params[k].Writes && c.Args[k] is VarRef v)
                            _writes.Add((c.Id, v.Var));
                    // An instance method may change any field of its object (scalars, array contents).
                    foreach (var leaf in CallState(c)) _writes.Add((c.Id, leaf));
                    break;
            }
        }

        internal static int TargetVar(Expr target) => target is VarRef v ? v.Var : ((ElemRef)target).Var;

        // ------------------------------------------------------------------ activity

        /// <summary>Variables whose value flows differentiably into e (not through indices, conditions or Floor).</summary>
        internal static IEnumerable<int> DiffVars(Expr e)
        {
            switch (e)
            {
                case VarRef v when IsReal(v.Type): return new[] { v.Var };
                case ElemRef el when IsReal(el.Type): return new[] { el.Var };
                case Unary u when u.Op == UnOp.Neg: return DiffVars(u.Operand);
                case Binary b when IsReal(b.Type): return DiffVars(b.Left).Concat(DiffVars(b.Right));
                case Conditional c when IsReal(c.Type): return DiffVars(c.WhenTrue).Concat(DiffVars(c.WhenFalse));
                case Cast c when IsReal(c.Type): return DiffVars(c.Operand);
                case MathCall m when IsReal(m.Type) && !IsPiecewiseConstant(m.Function): return m.Args.SelectMany(DiffVars);
                default: return Enumerable.Empty<int>();
            }
        }

        internal static bool IsPiecewiseConstant(MathFn fn) =>
            fn == MathFn.Floor || fn == MathFn.Ceiling || fn == MathFn.Round || fn == MathFn.Truncate || fn == MathFn.Sign;

        internal static bool IsReal(Ty t) => t == Ty.Double || t == Ty.Float;

        /// <summary>Every variable read by e (values, indices, lengths).</summary>
        internal static IEnumerable<int> AllVars(Expr e) => AllReads(e).Select(r => r.Var);

        /// <summary>Whether an index from <see cref="AllReads"/> stands for a <c>.Length</c> read.</summary>
        internal static bool IsLengthRead(Expr? index) => ReferenceEquals(index, LengthRead);

        /// <summary>Every read of e, with the element index for span reads (LengthRead for .Length).</summary>
        internal static IEnumerable<(int Var, Expr? Index)> AllReads(Expr e)
        {
            foreach (var x in Walk.Descendants(e))
            {
                switch (x)
                {
                    case VarRef v: yield return (v.Var, null); break;
                    case ElemRef el: yield return (el.Var, el.Index); break;
                    case LenRef l: yield return (l.Var, LengthRead); break;
                }
            }
        }

        private void ComputeActivity(Block body)
        {
            // Dependencies: (targets) <- (sources), from assignments and calls.
            var edges = new List<(int[] Targets, int[] Sources)>();
            foreach (var s in _byId.Values)
            {
                switch (s)
                {
                    case Assign a when IsReal(a.Target.Type):
                        edges.Add((new[] { TargetVar(a.Target) }, DiffVars(a.Value).ToArray()));
                        break;
                    case Call c:
                        {
                            var callee = _callees[c.Callee];
                            var targets = new List<int>();
                            var sources = new List<int>();
                            if (c.ResultVar >= 0 && IsReal(_vars[c.ResultVar].Elem)) targets.Add(c.ResultVar);
                            if (c.ResultVar >= 0 && _vars[c.ResultVar].IsContainer) targets.AddRange(Leaves(c.ResultVar).Where(l => _vars[l].IsReal));
                            if (c.Receiver >= 0) sources.AddRange(Leaves(c.Receiver).Where(l => _vars[l].IsReal));
                            targets.AddRange(CallState(c).Where(l => _vars[l].IsReal));
                            for (int k = 0; k < c.Args.Count; k++)
                            {
                                var p = callee.Params[k];
                                if (!p.HasAdjoint) continue;
                                if (p.Storage == Storage.Struct && c.Args[k] is VarRef sc) sources.AddRange(Leaves(sc.Var).Where(l => _vars[l].IsReal));
                                else if (p.Storage == Storage.Scalar) sources.AddRange(DiffVars(c.Args[k]));
                                else if (c.Args[k] is VarRef v)
                                {
                                    if (p.Reads) sources.Add(v.Var);
                                    if (p.Writes) targets.Add(v.Var);
                                }
                            }
                            edges.Add((targets.ToArray(), sources.ToArray()));
                            break;
                        }
                }
            }

            var varied = new bool[_vars.Count];
            var useful = new bool[_vars.Count];
            foreach (var v in _vars)
            {
                if (IsInterface(v) && v.IsReal && !v.NoDiff)
                {
                    varied[v.Id] = true;
                    // Outputs: spans, and state that outlives the call (fields of this).
                    if (v.IsWritableSpan || IsState(v)) useful[v.Id] = true;
                }
            }
            if (ResultVar >= 0 && IsReal(_vars[ResultVar].Elem)) useful[ResultVar] = true;
            if (ResultVar >= 0 && _vars[ResultVar].IsContainer)
                foreach (var leaf in Leaves(ResultVar)) useful[leaf] = _vars[leaf].IsReal;

            for (bool changed = true; changed;)
            {
                changed = false;
                foreach (var (targets, sources) in edges)
                {
                    if (sources.Any(x => varied[x]))
                        foreach (var t in targets)
                            if (!varied[t] && _vars[t].IsReal) { varied[t] = true; changed = true; }
                    if (targets.Any(t => useful[t]))
                        foreach (var x in sources)
                            if (!useful[x]) { useful[x] = true; changed = true; }
                }
            }
            foreach (var v in _vars)
            {
                if (IsInterface(v)) Active[v.Id] = v.IsReal && !v.NoDiff;
                else Active[v.Id] = v.IsReal && varied[v.Id] && useful[v.Id];
            }
        }

        // ------------------------------------------------------------------ recomputation

        /// <summary>
        /// A local defined once, by its declaration, inside a loop, from values that the enclosing loop
        /// never writes, is recomputed at the start of its block's reverse instead of being taped.
        /// </summary>
        private void ComputeRecompute()
        {
            var writeCount = new Dictionary<int, int>();
            foreach (var (_, v) in _writes) writeCount[v] = writeCount.TryGetValue(v, out int n) ? n + 1 : 1;

            // Candidates in program order so that a candidate may use earlier ones.
            foreach (var s in _byId.Values.OrderBy(x => _pos[x.Id]))
            {
                if (!(s is Assign a) || !a.Declares || !(a.Target is VarRef t)) continue;
                if (writeCount.TryGetValue(t.Var, out int count) && count != 1) continue;
                if (_counterWrites.Contains(a.Id)) continue;
                var loops = _loopsOf[a.Id];
                if (loops.Length == 0 || !_parentBlock.ContainsKey(a.Id)) continue;
                var loop = (Loop)_byId[loops[loops.Length - 1]];
                bool stable = true;
                foreach (var r in AllVars(a.Value))
                {
                    if (Recomputed.Contains(r) && _parentBlock.TryGetValue(a.Id, out var pb) && IsDeclaredBefore(r, pb, a)) continue;
                    if (IsCounterOf(r, loops)) continue;
                    if (WrittenInside(r, loop)) { stable = false; break; }
                }
                if (stable) Recomputed.Add(t.Var);
            }
        }

        private bool IsDeclaredBefore(int var, Block block, Stmt stmt)
        {
            foreach (var s in block.Stmts)
            {
                if (s.Id == stmt.Id) return false;
                if (s is Assign a && a.Declares && a.Target is VarRef v && v.Var == var) return true;
            }
            return false;
        }

        private bool IsCounterOf(int var, int[] loops) =>
            loops.Any(l => _byId[l] is ForLoop loop && loop.Counter == var);

        private bool WrittenInside(int var, Loop loop)
        {
            int lo = _pos[loop.Body.Id];
            int hi = MaxPos(loop);
            foreach (var (stmt, v) in _writes)
                if (v == var && _pos[stmt] >= lo && _pos[stmt] <= hi) return true;
            return false;
        }

        /// <summary>
        /// Whether a variable the loop's bounds read may change inside the loop. An array or span read only
        /// through its length (<c>i &lt; f.Length</c>, <c>GetLength(0)</c>) changes only when the loop re-binds it,
        /// not when it writes its elements, as a data-parallel loop over <c>f</c> does.
        /// </summary>
        private bool BoundChangesInside(int var, Loop loop, params Expr[] bounds)
        {
            bool lengthOnly = bounds.SelectMany(Walk.Descendants).All(x =>
                !(x is VarRef r && r.Var == var || x is ElemRef e && e.Var == var || x is LenRef l && l.Var == var && l.Row != null));
            if (!lengthOnly || _vars[var].Storage == Storage.Scalar) return WrittenInside(var, loop);
            return Walk.Descendants(loop.Body).Any(s =>
                s is Alloc a && a.Var == var
                || s is RowAlloc ra && ra.Var == var
                || s is Assign asg && asg.Target is VarRef t && t.Var == var
                || s is Call call && (call.ResultVar == var || CallState(call).Contains(var)));
        }

        private int MaxPos(Stmt s)
        {
            int max = _pos[s.Id];
            foreach (var c in Structurizer.Children(s)) max = System.Math.Max(max, MaxPos(c));
            return max;
        }

        // ------------------------------------------------------------------ to-be-recorded

        private void ComputeTbr(Block body)
        {
            var reads = new List<(int Var, int Stmt, Expr? Index)>();
            void Add(IEnumerable<(int Var, Expr? Index)> rs, int stmt)
            {
                foreach (var (v, idx) in rs) reads.Add((v, stmt, idx));
            }
            foreach (var loop in _byId.Values.OfType<ForLoop>())
            {
                if (!(loop.Condition is Binary c) || !(StripCast(c.Left) is VarRef cv) || cv.Var != loop.Counter) continue;
                bool up = loop.Step > 0;
                if (!(up && (c.Op == BinOp.Lt || c.Op == BinOp.Le) || !up && (c.Op == BinOp.Gt || c.Op == BinOp.Ge))) continue;
                var inputs = AllVars(c.Right).Concat(AllVars(loop.Start)).ToList();
                if (inputs.Contains(loop.Counter) || inputs.Any(v => BoundChangesInside(v, loop, c.Right, loop.Start))) continue;
                ComputedTrips[loop.Id] = (c.Op, c.Right);
                Add(AllReads(c.Right).Concat(AllReads(loop.Start)), loop.Id);
            }
            foreach (var s in _byId.Values)
            {
                switch (s)
                {
                    case Assign a:
                        {
                            bool targetActive = Active[TargetVar(a.Target)];
                            if (Recomputed.Contains(TargetVar(a.Target))) Add(AllReads(a.Value), a.Id);
                            if (!targetActive) break;
                            if (a.Target is ElemRef te) Add(AllReads(te.Index), a.Id);
                            Add(PartialReads(a.Value), a.Id);
                            break;
                        }
                    case Alloc al when Active[al.Var]:
                        reads.Add((al.Var, al.Id, LengthRead));
                        break;
                    case If i:
                        {
                            var condVars = AllVars(i.Condition).ToList();
                            bool branchesWrite = _writes.Any(w => condVars.Contains(w.Var) && Within(w.Stmt, i));
                            if (branchesWrite) TapedConditions.Add(i.Id);
                            else Add(AllReads(i.Condition), i.Id);
                            break;
                        }
                    case Call c:
                        {
                            var callee = _callees[c.Callee];
                            // The callee's pullback re-runs it from the values it read: a struct argument's fields,
                            // and for an instance method every field of this.
                            if (c.Receiver >= 0) Add(Leaves(c.Receiver).Select(l => (l, (Expr?)null)), c.Id);
                            for (int k = 0; k < c.Args.Count; k++)
                            {
                                var p = callee.Params[k];
                                if (p.Storage == Storage.Struct && c.Args[k] is VarRef sa) { Add(Leaves(sa.Var).Select(l => (l, (Expr?)null)), c.Id); continue; }
                                if (p.Storage != Storage.Scalar && !p.Reads || p.Modifier == "out") continue;
                                // A call run as two halves needs nothing of a span it writes: its reverse half
                                // starts from the state its forward half left (saving a written span that it
                                // reads again at the end of the forward half) and restores the rest itself.
                                if (p.Storage != Storage.Scalar && p.Writes && _splitCalls.Contains(c.Id) && callee.SplitCapable) continue;
                                Add(AllReads(c.Args[k]), c.Id);
                            }
                            break;
                        }
                }
            }
            foreach (var r in reads) ReverseReadVars.Add(r.Var);

            for (bool changed = true; changed;)
            {
                changed = false;
                foreach (var (stmt, v) in _writes)
                {
                    if (Pushes.Contains((stmt, v)) || _counterWrites.Contains(stmt)) continue;
                    if (Recomputed.Contains(v) && _byId[stmt] is Assign) continue;
                    if (!reads.Any(r => r.Var == v && Conflicts(r.Stmt, r.Index, stmt, v))) continue;
                    Pushes.Add((stmt, v));
                    changed = true;
                    // Restoring an element needs its index in the reverse sweep.
                    if (_byId[stmt] is Assign a && a.Target is ElemRef e)
                        foreach (var (iv, idx) in AllReads(e.Index)) { reads.Add((iv, stmt, idx)); ReverseReadVars.Add(iv); }
                }
            }

            foreach (var v in _vars)
            {
                // State the caller sees after the call: written span parameters, fields of this. The reverse
                // sweep's restores leave it as it was on entry; the pullback puts the final values back.
                // The returned array too: the pullback returns it as the method leaves it.
                if (!(v.Role == VarRole.Param && v.IsWritableSpan || IsState(v) && (v.IsWritableSpan || v.IsScalar)
                    || v.Id == ResultVar && v.Storage == Storage.Array)) continue;
                if (Pushes.Any(p => p.Var == v.Id)) RestoredParams.Add(v.Id);
                // A callee's pullback re-runs the callee and rewrites its outputs: the same values, unless
                // something later overwrote them in the forward sweep.
                foreach (var s in _byId.Values.OfType<Call>())
                {
                    var callee = _callees[s.Callee];
                    for (int k = 0; k < s.Args.Count; k++)
                        if (s.Args[k] is VarRef r && r.Var == v.Id && callee.Params[k].Writes && callee.Params[k].Storage != Storage.Scalar
                            && (_loopsOf[s.Id].Length > 0
                                || _writes.Any(w => w.Var == v.Id && w.Stmt != s.Id && (_pos[w.Stmt] > _pos[s.Id] || _loopsOf[w.Stmt].Intersect(_loopsOf[s.Id]).Any()))))
                            RestoredParams.Add(v.Id);
                }
            }
        }

        /// <summary>
        /// Whether write w can overwrite a value that the reverse sweep reads at statement r: r may run
        /// before w (earlier in program order, or in a loop they share), unless every shared loop only
        /// touches the element its own counter indexes (iteration-private), or re-allocates the array.
        /// </summary>
        private bool Conflicts(int r, Expr? readIndex, int w, int var)
        {
            bool isAlloc = _byId[w] is Alloc;
            if (ReferenceEquals(readIndex, LengthRead) && !isAlloc) return false;
            if (r == w && isAlloc) return false; // the allocation's own length read sees the new array
            // A hand-written reverse half reads the state the call left, never the values the call overwrote.
            if (r == w && _splitCalls.Contains(r)) return false;
            // A statement that reads what it overwrites (x = x * y, u[i] = u[i] * c) tapes that value
            // itself and pops it before using it, so no later write has to preserve it.
            if (r != w && _byId[r] is Assign ra && TargetVar(ra.Target) == var
                && (ra.Target is VarRef || ra.Target is ElemRef re && readIndex != null && re.Index.Equals(readIndex)))
                return false;
            // At the same statement, a write to another element (b[i, 1] = b[i, 0] * b[i, 0]) leaves the read one alone.
            bool otherElement = r == w && readIndex != null && _writeIndex.TryGetValue((w, var), out var wi) && wi != null && DistinctElements(readIndex, wi);
            if (_pos[r] <= _pos[w] && !otherElement) return true;
            IEnumerable<int> shared = _loopsOf[r].Intersect(_loopsOf[w]);
            if (_allocOf.TryGetValue(var, out int alloc))
                shared = shared.Except(_loopsOf[alloc]);
            _writeIndex.TryGetValue((w, var), out var writeIndex);
            foreach (var l in shared)
            {
                if (_byId[l] is ForLoop loop && IsPrivate(readIndex, writeIndex, var, loop))
                    continue;
                return true;
            }
            return false;
        }

        /// <summary>
        /// Whether the loop's iterations touch disjoint elements of var and the read and the write are at
        /// the element of their own iteration: both indices hold the loop's counter at the same position
        /// (<c>u[i]</c>; <c>a[i, j]</c> for the loop over i at position 0, for the loop over j at position 1),
        /// and so does every write of var in the loop.
        /// </summary>
        private bool IsPrivate(Expr? readIndex, Expr? writeIndex, int var, ForLoop loop)
        {
            foreach (int p in CounterPositions(readIndex, loop))
                if (CounterPositions(writeIndex, loop).Contains(p) && AllWritesPrivate(var, loop, p)) return true;
            return false;
        }

        /// <summary>The positions at which an element index is exactly the loop's counter (0 for a one-dimensional index).</summary>
        private static IEnumerable<int> CounterPositions(Expr? index, ForLoop loop)
        {
            if (index is Indices ix)
            {
                for (int k = 0; k < ix.Items.Count; k++)
                    if (IsCounter(ix.Items[k], loop)) yield return k;
            }
            else if (IsCounter(index, loop)) yield return 0;
        }

        /// <summary>Whether two indices name different elements: they differ in a constant at some position.</summary>
        private static bool DistinctElements(Expr a, Expr b)
        {
            if (a is Indices ia && b is Indices ib && ia.Items.Count == ib.Items.Count)
            {
                for (int k = 0; k < ia.Items.Count; k++)
                    if (DistinctElements(ia.Items[k], ib.Items[k])) return true;
                return false;
            }
            return StripCast(a) is Lit la && StripCast(b) is Lit lb
                && long.TryParse(la.Text.TrimEnd('L', 'l'), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long x)
                && long.TryParse(lb.Text.TrimEnd('L', 'l'), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long y)
                && x != y;
        }

        private static Expr StripCast(Expr e) => e is Cast c && c.Implicit ? StripCast(c.Operand) : e;

        private static bool IsCounter(Expr? index, ForLoop loop) =>
            index is VarRef v && v.Var == loop.Counter || index is Cast c && c.Implicit && c.Operand is VarRef cv && cv.Var == loop.Counter;

        private bool AllWritesPrivate(int var, ForLoop loop, int position)
        {
            int lo = _pos[loop.Body.Id], hi = MaxPos(loop);
            foreach (var (stmt, v) in _writes)
            {
                if (v != var || _pos[stmt] < lo || _pos[stmt] > hi) continue;
                if (!_writeIndex.TryGetValue((stmt, v), out var idx) || !CounterPositions(idx, loop).Contains(position)) return false;
            }
            return true;
        }

        private bool Within(int stmt, Stmt container) =>
            _pos[stmt] > _pos[container.Id] && _pos[stmt] <= MaxPos(container);

        /// <summary>Variables whose values the partial derivatives of e's active parts read.</summary>
        private IEnumerable<(int Var, Expr? Index)> PartialReads(Expr e)
        {
            switch (e)
            {
                case ElemRef el:
                    return Active[el.Var] ? AllReads(el.Index) : Enumerable.Empty<(int, Expr?)>();
                case Unary u:
                    return PartialReads(u.Operand);
                case Binary b when IsReal(b.Type):
                    {
                        var result = PartialReads(b.Left).Concat(PartialReads(b.Right));
                        bool la = IsActiveExpr(b.Left), ra = IsActiveExpr(b.Right);
                        if (b.Op == BinOp.Mul)
                        {
                            if (la) result = result.Concat(AllReads(b.Right));
                            if (ra) result = result.Concat(AllReads(b.Left));
                        }
                        else if (b.Op == BinOp.Div)
                        {
                            if (la || ra) result = result.Concat(AllReads(b.Right));
                            if (ra) result = result.Concat(AllReads(b.Left));
                        }
                        else if (b.Op == BinOp.Mod && (la || ra))
                        {
                            result = result.Concat(AllReads(b.Left)).Concat(AllReads(b.Right));
                        }
                        return result;
                    }
                case Conditional c when IsActiveExpr(c):
                    return AllReads(c.Condition).Concat(PartialReads(c.WhenTrue)).Concat(PartialReads(c.WhenFalse));
                case Cast c:
                    return PartialReads(c.Operand);
                case MathCall m when IsActiveExpr(m):
                    return m.Args.SelectMany(AllReads).Concat(m.Args.SelectMany(PartialReads));
                default:
                    return Enumerable.Empty<(int, Expr?)>();
            }
        }
    }
}
