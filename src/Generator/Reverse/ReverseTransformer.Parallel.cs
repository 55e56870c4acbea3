using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Reverse
{
    // Parallel loops and gather-form reverses (docs/generated-code.md, "Parallel loops").
    //
    // A pass of a loop over [from, to) runs either inline or, for a parallel loop, as a ref struct that holds
    // the spans and values the pass reads (generated code cannot capture a span in a lambda) and runs one
    // chunk of iterations; DiffGen.CompilerServices.ParallelLoops cuts the range into chunks and runs them
    // on threads. Names keep their meaning inside the struct: what the pass reads from outside becomes a
    // field of the same name, what it writes for itself a local of the same name. Per chunk there are
    // partial sums of scalar adjoints (added up in chunk order afterwards), adjoint buffers for arrays that
    // iterations scatter into (chunk 0 writes the adjoint itself; the others are added in chunk order), and
    // a tape when the loop body records values. Nothing depends on which thread ran a chunk.
    internal sealed partial class ReverseTransformer
    {
        private int _parallelDepth;
        private int _gatherDepth;

        /// <summary>A parallel loop's buffers or chunk tapes use the tape: single pullbacks must rent one.</summary>
        private bool _needsTape;

        private bool _inReverseSweep;
        private readonly List<CsNestedType> _forwardTypes = new List<CsNestedType>();
        private readonly List<CsNestedType> _reverseTypes = new List<CsNestedType>();
        private readonly Dictionary<int, string> _chunkTapes = new Dictionary<int, string>();
        private readonly Dictionary<string, CsType> _extraTypes = new Dictionary<string, CsType>(StringComparer.Ordinal);
        private int _typeCount;

        /// <summary>Parallel loops that run serially in generated code, and why (listed in the file's summary comment).</summary>
        private readonly List<string> _serialNotes = new List<string>();

        /// <summary>The summary lines for parallel loops that run serially in generated code.</summary>
        internal IEnumerable<string> ParallelNotes() =>
            _serialNotes.Distinct().Select(n => "  runs serially:  " + n).Concat(_deviceNote != null ? new[] { "  no ILGPU kernels: " + _deviceNote } : new string[0])
                .Concat(_deviceCaveat != null ? new[] { "  ILGPU kernels:  " + _deviceCaveat } : new string[0]);

        /// <summary>What a method's ILGPU forms cannot do although they exist (a branch whose callee has none).</summary>
        private string? _deviceCaveat;

        /// <summary>Why a [DataParallel] method got no ILGPU kernels although ILGPU is referenced.</summary>
        private string? _deviceNote;

        private const string ParallelLoopsType = "global::DiffGen.CompilerServices.ParallelLoops";

        // ------------------------------------------------------------------ hooks

        /// <summary>The forward sweep of a parallel loop: its iterations in chunks on threads.</summary>
        private bool TryForwardParallel(ForLoop l, List<CsStmt> w)
        {
            if (_dual || !l.Parallel || _parallelDepth > 0) return TryForwardRows(l, w);
            if (!(Range(l) is var (from, to)))
            {
                _serialNotes.Add(Describe(l) + " (its bounds change in the loop or are not int)");
                return false;
            }
            var savedTapes = _tapes;
            var savedRefTapes = _refTapes;
            _tapes = new SortedSet<Ty>();
            _refTapes = new SortedSet<Ty>();
            var body = new List<CsStmt>();
            _parallelDepth++;
            try { Forward(l.Body, body); }
            finally { _parallelDepth--; }
            var bodyTapes = _tapes.ToList();
            var bodyRefTapes = _refTapes.ToList();
            _tapes = savedTapes;
            _refTapes = savedRefTapes;

            var names = new NameUse();
            foreach (var s in body) names.Stmt(s);
            bool records = bodyTapes.Count > 0 || bodyRefTapes.Count > 0 || names.Uses(_tape);
            var scope = new List<CsStmt>();
            string? tapes = null;
            CsExpr chunks;
            if (records)
            {
                // Each chunk records on a tape of its own; the reverse pops them chunk by chunk.
                tapes = Fresh("_chunkTapes");
                scope.Add(new CsLocal(CsType.Var, tapes, Call(Member(ParallelLoopsType, "RentTapes"), ChunkCount(l, from, to))));
                chunks = Member(tapes, "Length");
                _chunkTapes[l.Id] = tapes;
                _needsTape = true;
            }
            else
            {
                string c = Fresh("_chunks");
                scope.Add(new CsLocal(CsType.Int, c, ChunkCount(l, from, to)));
                chunks = N(c);
            }
            var core = Counted(l, body, reverse: false);
            if (tapes != null)
            {
                // A chunk's reverse starts from the state its last iteration left: its locals go on its tape.
                var loop = core;
                core = (f, t) => loop(f, t).Concat(ChunkState(l).Select(v => Do(Push(StackOf(v), N(_vars[v].Name))))).ToList();
            }
            if (!Pass(scope, "the iterations of " + Describe(l), from, to, chunks, core, Privates(l), new HashSet<int>(), tapes))
            {
                if (tapes != null) _chunkTapes.Remove(l.Id);
                _serialNotes.Add(Describe(l) + " (its body uses a value the chunks cannot carry)");
                return false;
            }
            if (tapes != null) scope.Add(Do(Push(Member(_tape, "Objects"), N(tapes))));
            if (_source.TryGetValue(l.Id, out var text)) w.Add(new CsComment("in parallel: " + text));
            w.Add(new CsScope(Block(scope)));
            return true;
        }

        /// <summary>The reverse of a loop in gather form and/or in parallel (false: the serial scatter reverse).</summary>
        private bool TryReverseParallel(ForLoop l, List<CsStmt> w)
        {
            if (_dual || l.Init.Stmts.Count > 0) return false;
            bool parallel = l.Parallel && _parallelDepth == 0 && Range(l) != null;
            GatherPlan? plan = _gatherDepth == 0 && !_chunkTapes.ContainsKey(l.Id) ? Gather.Plan(l, _vars, _callees, _a) : null;
            if (plan != null && plan.Inner != null && plan.Inner.Init.Stmts.Count > 0) plan = null;
            if (plan == null && !parallel) return false;
            _inReverseSweep = true;
            var scope = new List<CsStmt>();
            int types = _reverseTypes.Count;
            var names = _names.Save();
            int temp = _temp;
            if (plan != null && GatherReverse(l, plan, parallel, scope))
            {
                AddComment(l, w);
                w.Add(new CsScope(Block(scope)));
                return true;
            }
            // Nothing of a failed attempt stays (its nested types, names and temporaries).
            _reverseTypes.RemoveRange(types, _reverseTypes.Count - types);
            _names.Restore(names);
            _temp = temp;
            if (!parallel) return false;
            scope.Clear();
            if (!ParallelReverse(l, scope))
            {
                _reverseTypes.RemoveRange(types, _reverseTypes.Count - types);
                _names.Restore(names);
                _temp = temp;
                _serialNotes.Add("the reverse of " + Describe(l) + " (it writes a value from outside the loop other than by a sum)");
                return false;
            }
            AddComment(l, w);
            w.Add(new CsScope(Block(scope)));
            return true;
        }

        /// <summary>The reverse of a parallel loop in one pass, each chunk scattering into buffers of its own.</summary>
        private bool ParallelReverse(ForLoop l, List<CsStmt> scope)
        {
            var (from, to) = Range(l)!.Value;
            var body = new List<CsStmt>();
            _parallelDepth++;
            try { Reverse(l.Body, body); }
            finally { _parallelDepth--; }
            string? tapes = null;
            CsExpr chunks;
            if (_chunkTapes.TryGetValue(l.Id, out var forwardTapes))
            {
                tapes = forwardTapes;
                scope.Add(new CsLocal(CsType.Var, tapes, new CsCast(CsType.ArrayOf(CsType.Tape), Pop(Member(_tape, "Objects")))));
                chunks = Member(tapes, "Length");
            }
            else
            {
                string c = Fresh("_chunks");
                scope.Add(new CsLocal(CsType.Int, c, ChunkCount(l, from, to)));
                chunks = N(c);
            }
            var core = Counted(l, body, reverse: true);
            if (tapes != null)
            {
                var loop = core;
                core = (f, t) => ChunkState(l).Reverse().Select(v => (CsStmt)Set(N(_vars[v].Name), _vars[v].Elem == Ty.Other
                    ? new CsCast(VarType(_vars[v]), Pop(StackOf(v))) : Pop(StackOf(v)))).Concat(loop(f, t)).ToList();
            }
            if (!Pass(scope, "the reverse of " + Describe(l), from, to, chunks, core, Privates(l), Scattered(l), tapes))
            {
                if (tapes != null) throw new InvalidOperationException("the reverse of a parallel loop that records values could not run in chunks");
                return false;
            }
            if (tapes != null) scope.Add(Do(Call(Member(ParallelLoopsType, "ReturnTapes"), N(tapes))));
            return true;
        }

        // ------------------------------------------------------------------ gather form

        /// <summary>What every form of a gather-form reverse (on threads or as ILGPU kernels) is built from.</summary>
        private sealed class GatherParts
        {
            public GatherParts(GatherPlan plan) => Plan = plan;

            public GatherPlan Plan { get; }

            public (CsExpr From, CsExpr To) OuterRange;
            public (CsExpr From, CsExpr To)? InnerRange;

            /// <summary>The reverse of one interior iteration (of the inner body in 2D), and of one iteration as written.</summary>
            public List<CsStmt> Interior = new List<CsStmt>(), Original = new List<CsStmt>();

            /// <summary>The outer loop's recomputed locals the inner body reads (2D), decided and as written.</summary>
            public List<CsStmt> OuterDecls = new List<CsStmt>(), OriginalOuterDecls = new List<CsStmt>();

            /// <summary>Which accumulations are gathered: target element -> (array, row offset, column offset).</summary>
            public Dictionary<CsExpr, (int Array, int Dj, int Di)> Offsets = new Dictionary<CsExpr, (int, int, int)>();

            public HashSet<string> Privates = new HashSet<string>(), PrivateBars = new HashSet<string>(), PrivatePrimals = new HashSet<string>();

            public string PName = "";
            public string? QName;

            /// <summary>Per array and offset: the contributions of that offset's source to one element, and what they read first.</summary>
            public Dictionary<(int Array, int Dj, int Di), (List<CsStmt> Slice, HashSet<string> Needed)> SliceOf = new Dictionary<(int, int, int), (List<CsStmt>, HashSet<string>)>();

            public HashSet<string> SliceReads = new HashSet<string>(StringComparer.Ordinal);

            public bool IsGathered(CsStmt s) => s is CsAssign a && a.Target is CsIndex ix && Offsets.ContainsKey(ix);

            /// <summary>The outer loop's locals that <see cref="OuterDecls"/> recompute before every use of a slice.</summary>
            public HashSet<string> OuterNames = new HashSet<string>(StringComparer.Ordinal);

            /// <summary>Whether a slice reads a private name it does not compute (its value would be stale).</summary>
            public bool ReadsStale(HashSet<string> needed) => needed.Any(n => PrivatePrimals.Contains(n) && n != PName && n != QName && !OuterNames.Contains(n));
        }

        /// <summary>The pieces of a gather-form reverse of <paramref name="l"/>, or null when the reverse body does not allow it.</summary>
        private GatherParts? PrepareGather(ForLoop l, GatherPlan plan)
        {
            var outerRange = Range(l);
            if (outerRange == null) return null;
            var gp = new GatherParts(plan) { OuterRange = outerRange.Value };
            var inner = plan.Inner;
            if (inner != null)
            {
                var lo = IndexForms.ToExpr(plan.InnerFacts!.Lower[0], plan.Symbols);
                var hi = IndexForms.ToExpr(plan.InnerFacts.Upper[0], plan.Symbols);
                if (lo == null || hi == null) return null;
                gp.InnerRange = (Simplifier.Simplify(P(lo)), Simplifier.Simplify(P(hi)));
            }
            _gatherDepth++;
            _parallelDepth++;
            try
            {
                Reverse(plan.InnerBody ?? plan.OuterBody, gp.Interior);
                Reverse(inner != null ? inner.Body : l.Body, gp.Original);
            }
            finally
            {
                _parallelDepth--;
                _gatherDepth--;
            }
            if (inner != null)
            {
                gp.OuterDecls = OuterDeclarations(plan.OuterBody, inner);
                gp.OriginalOuterDecls = OuterDeclarations(l.Body, inner);
                gp.OuterNames = new HashSet<string>(gp.OuterDecls.OfType<CsLocal>().Select(d => d.Name), StringComparer.Ordinal);
            }
            foreach (var g in plan.Arrays)
                foreach (var r in g.Reads)
                    gp.Offsets[new CsIndex(N(_bar[g.Var]), P(r.Index))] = (g.Var, r.Dj, r.Di);
            var gatheredBars = new HashSet<string>(plan.Arrays.Select(g => _bar[g.Var]));
            if (!GatherableBody(gp.Interior, gp.Offsets, gatheredBars, PrivateNames(l))) return null;
            gp.Privates = Privates(l);
            gp.PrivateBars = new HashSet<string>(DeclaredInside(l).Where(v => _bar.ContainsKey(v) && _vars[v].IsScalar).Select(v => _bar[v]));
            gp.PrivatePrimals = new HashSet<string>(DeclaredInside(l).Select(v => _vars[v].Name));
            gp.PName = _vars[l.Counter].Name;
            gp.QName = inner != null ? _vars[inner.Counter].Name : null;
            foreach (var g in plan.Arrays)
                foreach (var (dj, di) in g.Reads.Select(r => (r.Dj, r.Di)).Distinct())
                {
                    var needed = new HashSet<string>(StringComparer.Ordinal);
                    var slice = Slice(gp.Interior, s => s is CsAssign a && a.Target is CsIndex ix && gp.Offsets.TryGetValue(ix, out var o) && o.Array == g.Var && o.Dj == dj && o.Di == di
                        ? new CsAssign(N("_acc"), a.Op, a.Value) : null, gp.PrivateBars.Contains, needed);
                    if (slice == null || slice.Count == 0 || gp.ReadsStale(needed)) return null;
                    gp.SliceOf[(g.Var, dj, di)] = (slice, needed);
                    var use = new NameUse();
                    foreach (var x in slice) use.Stmt(x);
                    gp.SliceReads.UnionWith(use.Reads);
                }
            return gp;
        }

        /// <summary>
        /// One element of a gather pass: its contributions from the sources at each offset, into <paramref name="acc"/>,
        /// added to the adjoint at the end. Guarded at the rim of the gather box (a source may lie outside the
        /// interior there), unguarded in its core.
        /// </summary>
        private List<CsStmt> GatherElement(GatherParts gp, GatheredArray g, bool guarded, string acc, string hit, string jj, string ii,
            string loP, string hiP, string? loQ, string? hiQ)
        {
            var distinct = g.Reads.Select(r => (r.Dj, r.Di)).Distinct().OrderBy(o => o.Dj).ThenBy(o => o.Di).ToList();
            var element = new List<CsStmt> { new CsLocal(T(_vars[g.Var].Elem), acc, Zero(_vars[g.Var].Elem)) };
            if (guarded) element.Add(new CsLocal(CsType.Bool, hit, CsLiteral.False));
            foreach (var (dj, di) in distinct)
            {
                var (slice, needed) = gp.SliceOf[(g.Var, dj, di)];
                var source = new List<CsStmt> { new CsLocal(CsType.Int, gp.PName, Shift(N(jj), -dj)) };
                CsExpr inRange = Bin("&&", Bin(">=", N(gp.PName), N(loP)), Bin("<", N(gp.PName), N(hiP)));
                if (gp.QName != null)
                {
                    source.Add(new CsLocal(CsType.Int, gp.QName, Shift(N(ii), -di)));
                    inRange = Bin("&&", inRange, Bin("&&", Bin(">=", N(gp.QName), N(loQ!)), Bin("<", N(gp.QName), N(hiQ!))));
                }
                var then = new List<CsStmt>();
                if (guarded) then.Add(Set(N(hit), CsLiteral.True));
                foreach (var b in gp.PrivateBars.OrderBy(x => x, StringComparer.Ordinal))
                    if (needed.Contains(b)) then.Add(Set(N(b), Zero(TypeOfBar(b).Scalar)));
                then.AddRange(gp.OuterDecls);
                then.AddRange(slice.Select(x => RenameAcc(x, acc)));
                if (guarded) source.Add(new CsIf(inRange, Block(then), null));
                else source.AddRange(then);
                element.Add(new CsScope(Block(source)));
            }
            CsExpr Plus(CsExpr x, Expr term) => term is Lit lit && int.TryParse(lit.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) ? Shift(x, k) : Bin("+", x, P(term));
            CsExpr index = Simplifier.Simplify(gp.QName != null ? Plus(Bin("+", Bin("*", N(jj), P(g.Stride!)), N(ii)), g.Base) : Plus(N(jj), g.Base));
            var target = new CsIndex(N(_bar[g.Var]), index);
            element.Add(guarded ? new CsIf(N(hit), Block(new CsAssign(target, "+=", N(acc))), null) : new CsAssign(target, "+=", N(acc)));
            return FlattenScopes(element);
        }

        /// <summary>
        /// The reverse of a loop whose interior reads some arrays at fixed offsets: per gathered array a pass
        /// over its elements adding up the neighbouring iterations' contributions, then a pass over the
        /// interior for what is left, then the boundary iterations with the original body, serially.
        /// </summary>
        private bool GatherReverse(ForLoop l, GatherPlan plan, bool parallel, List<CsStmt> scope)
        {
            var gp = PrepareGather(l, plan);
            if (gp == null) return false;
            var (from, to) = gp.OuterRange;
            var inner = plan.Inner;
            var innerRange = gp.InnerRange;
            var interior = gp.Interior;
            var original = gp.Original;
            var outerDecls = gp.OuterDecls;
            var originalOuterDecls = gp.OriginalOuterDecls;
            bool IsGathered(CsStmt s) => gp.IsGathered(s);
            var privates = gp.Privates;
            var privateBars = gp.PrivateBars;
            string pName = gp.PName;
            string? qName = gp.QName;

            // Interior bounds, clamped into the loop (the boundary ranges and the interior cover it once).
            string loP = Fresh("_lo"), hiP = Fresh("_hi");
            scope.Add(Interior(from, to, plan.OuterFacts, loP, hiP));
            string? loQ = null, hiQ = null;
            if (inner != null)
            {
                loQ = Fresh("_lo");
                hiQ = Fresh("_hi");
                scope.Add(Interior(innerRange!.Value.From, innerRange.Value.To, plan.InnerFacts!, loQ, hiQ));
            }
            foreach (var n in new[] { loP, hiP, loQ, hiQ }) if (n != null) _extraTypes[n] = CsType.Int;

            var passes = new List<CsStmt>();
            // 1. One gather pass per array: its rows, each a row loop over the core of the gather box (every
            //    offset's source in the interior, no tests) and one guarded loop over the rim on both sides.
            foreach (var g in plan.Arrays)
            {
                var distinct = g.Reads.Select(r => (r.Dj, r.Di)).Distinct().OrderBy(o => o.Dj).ThenBy(o => o.Di).ToList();
                int minJ = distinct.Min(o => o.Dj), maxJ = distinct.Max(o => o.Dj), minI = distinct.Min(o => o.Di), maxI = distinct.Max(o => o.Di);
                string acc = Fresh("_acc"), hit = Fresh("_hit"), jj = Fresh("_e"), ii = inner != null ? Fresh("_e") : "";
                _extraTypes[jj] = CsType.Int;
                var guardedElement = GatherElement(gp, g, guarded: true, acc, hit, jj, ii, loP, hiP, loQ, hiQ);
                var coreElement = GatherElement(gp, g, guarded: false, acc, hit, jj, ii, loP, hiP, loQ, hiQ);
                // The core [cLo, cHi) clamped into the box; the rim loop steps over it.
                List<CsStmt> Segments(string e, CsExpr boxLo, CsExpr boxHi, CsExpr coreLo, CsExpr coreHi)
                {
                    string cLo = Fresh("_core"), cHi = Fresh("_core");
                    var segments = new List<CsStmt>
                    {
                        new CsLocal(CsType.Int, cLo, Call(Member(Names.Math, "Clamp"), coreLo, boxLo, Call(Member(Names.Math, "Max"), boxLo, boxHi))),
                        new CsLocal(CsType.Int, cHi, Call(Member(Names.Math, "Clamp"), coreHi, N(cLo), Call(Member(Names.Math, "Max"), N(cLo), boxHi))),
                    };
                    segments.AddRange(RowLoop(e, N(cLo), N(cHi), coreElement, descending: false));
                    var next = Bin("+", N(e), CsLiteral.Int(1));
                    segments.Add(new CsFor(new CsLocal(CsType.Int, e, new CsConditional(Bin("==", N(cLo), boxLo), N(cHi), boxLo)), Bin("<", N(e), boxHi),
                        Set(N(e), new CsConditional(Bin("==", next, N(cLo)), N(cHi), next)), Block(guardedElement)));
                    return segments;
                }
                Func<CsExpr, CsExpr, List<CsStmt>> core;
                if (inner != null)
                {
                    // A row in the core of the outer coordinate has a core of columns; other rows are all rim.
                    CsExpr iHi = Shift(N(hiQ!), maxI);
                    string rowCore = Fresh("_inCore");
                    var row = new List<CsStmt> { new CsLocal(CsType.Bool, rowCore, Bin("&&", Bin(">=", N(jj), Shift(N(loP), maxJ)), Bin("<", N(jj), Shift(N(hiP), minJ)))) };
                    row.AddRange(Segments(ii, Shift(N(loQ!), minI), iHi, new CsConditional(N(rowCore), Shift(N(loQ!), maxI), iHi), new CsConditional(N(rowCore), Shift(N(hiQ!), minI), iHi)));
                    core = (f, t) => new List<CsStmt> { Ascending(jj, f, t, row) };
                }
                else
                {
                    core = (f, t) => Segments(jj, f, t, Shift(N(loP), maxJ), Shift(N(hiP), minJ));
                }
                CsExpr jFrom = Shift(N(loP), minJ), jTo = Shift(N(hiP), maxJ);
                var pass = new List<CsStmt> { new CsComment("gather: " + _bar[g.Var] + " from the neighbouring iterations' contributions") };
                if (!RunPass(pass, parallel, l, "the gather of " + _bar[g.Var] + " in the reverse of " + Describe(l), jFrom, jTo, core, privates, new HashSet<int>(), WorkOf(l), null)) return false;
                passes.AddRange(pass);
            }

            // 2. The interior iterations: everything not gathered (the seeds the gathers read are consumed here,
            //    after them). A pass of its own rather than riding along with a gather: the gather's row loop
            //    then holds fewer spans (with the seed's and the local derivatives' spans in it the JIT spilled,
            //    and the 5-point stencil's pullback was 20 % slower).
            {
                var ownNeeded = new HashSet<string>(StringComparer.Ordinal);
                var own = Slice(interior, s => IsGathered(s) ? null : s, n => privates.Contains(n), ownNeeded);
                if (own == null || gp.ReadsStale(ownNeeded)) return false;
                // Dropping the gathered contributions may drop the clearing of a private adjoint: reset them per iteration.
                var ownBody = new List<CsStmt>();
                foreach (var b in privateBars.OrderBy(x => x, StringComparer.Ordinal))
                    if (ownNeeded.Contains(b)) ownBody.Add(Set(N(b), Zero(TypeOfBar(b).Scalar)));
                ownBody.AddRange(own);
                if (own.Count > 0)
                {
                    Func<CsExpr, CsExpr, List<CsStmt>> core;
                    if (inner != null)
                    {
                        var decls = outerDecls;
                        var iLoop = RowLoop(qName!, N(loQ!), N(hiQ!), ownBody, descending: true);
                        core = (f, t) => new List<CsStmt> { Descending(pName, f, t, decls.Concat(iLoop).ToList()) };
                    }
                    else
                    {
                        core = (f, t) => RowLoop(pName, f, t, ownBody, descending: true);
                    }
                    var pass = new List<CsStmt> { new CsComment("the interior iterations: own elements and everything not gathered") };
                    var scatteredHere = parallel ? Scattered(l, plan.Arrays.Select(g => g.Var)) : new HashSet<int>();
                    if (!RunPass(pass, parallel, l, "the interior of the reverse of " + Describe(l), N(loP), N(hiP), core, privates, scatteredHere, WorkOf(l), null)) return false;
                    passes.AddRange(pass);
                }
            }

            // 3. The boundary iterations, serially, as the loop's own reverse.
            bool boundary = plan.OuterFacts.HasInterior || plan.InnerFacts?.HasInterior == true;
            if (boundary)
            {
                passes.Add(new CsComment("the boundary iterations (their tests are not decided), serially"));
                // The gather passes leave private adjoints as their last slice left them (slices do not clear
                // what they consume); an iteration's reverse starts from zero ones.
                var boundaryUse = new NameUse();
                foreach (var x in originalOuterDecls.Concat(original)) boundaryUse.Stmt(x);
                foreach (var b in privateBars.OrderBy(x => x, StringComparer.Ordinal))
                    if ((boundaryUse.Reads.Contains(b) || boundaryUse.Writes.Contains(b)) && !boundaryUse.Declared.Contains(b))
                        passes.Add(Set(N(b), Zero(TypeOfBar(b).Scalar)));
                if (inner == null)
                {
                    passes.Add(DescendingAround(pName, from, to, N(loP), N(hiP), original));
                }
                else
                {
                    // Whole boundary rows, then the boundary columns of the interior rows.
                    var row = new List<CsStmt>(originalOuterDecls) { Descending(qName!, innerRange!.Value.From, innerRange.Value.To, original) };
                    passes.Add(DescendingAround(pName, from, to, N(loP), N(hiP), row));
                    if (plan.InnerFacts!.HasInterior)
                    {
                        var cols = new List<CsStmt>(originalOuterDecls) { DescendingAround(qName!, innerRange.Value.From, innerRange.Value.To, N(loQ!), N(hiQ!), original) };
                        passes.Add(Descending(pName, N(loP), N(hiP), cols));
                    }
                }
            }
            scope.AddRange(passes);
            return true;
        }

        /// <summary>The declarations of the outer loop's recomputed locals that the inner body's reverse reads.</summary>
        private List<CsStmt> OuterDeclarations(Block outerBody, ForLoop inner)
        {
            var decls = new List<CsStmt>();
            foreach (var s in outerBody.Stmts)
                if (s.Id != inner.Id && s is Assign a && a.Declares && a.Target is VarRef t && _a.Recomputed.Contains(t.Var) && _a.ReverseReadVars.Contains(t.Var))
                    decls.Add(new CsLocal(VarType(_vars[t.Var]), _vars[t.Var].Name, P(a.Value)));
            return decls;
        }

        /// <summary>
        /// Whether the interior reverse may be re-run per neighbour: every use of a gathered adjoint is an
        /// accumulation at a known offset, and no value from outside the loop that it reads is also written by it.
        /// </summary>
        private static bool GatherableBody(List<CsStmt> body, Dictionary<CsExpr, (int Array, int Dj, int Di)> offsets, HashSet<string> gatheredBars, HashSet<string> privates)
        {
            var use = new NameUse();
            bool ok = true;
            void Visit(CsStmt s)
            {
                switch (s)
                {
                    case CsAssign a when a.Target is CsIndex ix && ix.Target is CsName n && gatheredBars.Contains(n.Name):
                        if (!offsets.ContainsKey(ix) || a.Op == "=") ok = false;
                        use.Expr(ix.Index);
                        use.Expr(a.Value);
                        return;
                    case CsFor _:
                    case CsWhile _:
                    case CsRawStmt _:
                        ok = false;
                        return;
                    case CsBlock b: foreach (var x in b.Stmts) Visit(x); return;
                    case CsScope sc: foreach (var x in sc.Body.Stmts) Visit(x); return;
                    case CsIf i:
                        use.Expr(i.Condition);
                        foreach (var x in i.Then.Stmts) Visit(x);
                        if (i.Else != null) foreach (var x in i.Else.Stmts) Visit(x);
                        return;
                    default:
                        use.Stmt(s);
                        return;
                }
            }
            foreach (var s in body) Visit(s);
            if (!ok || use.Reads.Overlaps(gatheredBars)) return false;
            // A value from outside read while the loop's reverse also writes it would differ per neighbour.
            return !use.Reads.Any(r => use.Writes.Contains(r) && !privates.Contains(r) && !use.Declared.Contains(r) && !use.CompoundOnly(r));
        }

        private CsStmt Interior(CsExpr from, CsExpr to, LoopFacts facts, string lo, string hi)
        {
            if (!facts.HasInterior)
                return new CsBlock(new CsStmt[] { new CsLocal(CsType.Int, lo, from), new CsLocal(CsType.Int, hi, to) });
            CsExpr l = facts.LowerExprs.Count > 0 ? P(facts.LowerExprs[0]) : from;
            CsExpr h = facts.UpperExprs.Count > 0 ? P(facts.UpperExprs[0]) : to;
            return new CsBlock(new CsStmt[]
            {
                new CsLocal(CsType.Int, lo, CsLiteral.Int(0)),
                new CsLocal(CsType.Int, hi, CsLiteral.Int(0)),
                Do(Call(Member(ParallelLoopsType, "Interior"), from, to, Simplifier.Simplify(l), Simplifier.Simplify(h), new CsArg(N(lo), "out"), new CsArg(N(hi), "out"))),
            });
        }

        // ------------------------------------------------------------------ slicing one iteration's reverse

        /// <summary>
        /// The statements of one iteration's reverse that an effect needs. <paramref name="effect"/> says, for
        /// each statement with an effect outside the iteration (an adjoint element, an adjoint from outside, a
        /// call), whether it stays (returning it, possibly rewritten) or goes (null); the definitions the kept
        /// effects read stay too. Null when a needed value comes from a statement whose other effects must go.
        /// <paramref name="needed"/> holds, on return, the names read before the first kept statement.
        /// </summary>
        private static List<CsStmt>? Slice(IReadOnlyList<CsStmt> stmts, Func<CsStmt, CsStmt?> effect, Func<string, bool> isPrivate, HashSet<string> needed)
        {
            var result = new List<CsStmt>();
            for (int k = stmts.Count - 1; k >= 0; k--)
            {
                var s = stmts[k];
                switch (s)
                {
                    case CsComment _:
                        continue;
                    case CsLocal l:
                        if (!needed.Contains(l.Name)) continue;
                        result.Add(l);
                        needed.Remove(l.Name); // declared here: not needed before
                        if (l.Init != null) NameUse.Into(needed, l.Init);
                        continue;
                    case CsAssign a when a.Target is CsName n && isPrivate(n.Name):
                        if (!needed.Contains(n.Name)) continue;
                        result.Add(a);
                        NameUse.Into(needed, a.Value);
                        continue;
                    case CsExprStmt e when e.Expr is CsVerbatim v && (v.Text.EndsWith("++", StringComparison.Ordinal) || v.Text.EndsWith("--", StringComparison.Ordinal)):
                        {
                            string name = v.Text.Substring(0, v.Text.Length - 2);
                            if (isPrivate(name) ? needed.Contains(name) : effect(s) != null) result.Add(s);
                            continue;
                        }
                    case CsIf i:
                        {
                            var nt = new HashSet<string>(needed, StringComparer.Ordinal);
                            var ne = new HashSet<string>(needed, StringComparer.Ordinal);
                            var then = Slice(i.Then.Stmts, effect, isPrivate, nt);
                            var els = i.Else != null ? Slice(i.Else.Stmts, effect, isPrivate, ne) : new List<CsStmt>();
                            if (then == null || els == null) return null;
                            if (then.Count == 0 && els.Count == 0) continue;
                            needed.UnionWith(nt);
                            needed.UnionWith(ne);
                            NameUse.Into(needed, i.Condition);
                            result.Add(then.Count == 0 ? new CsIf(Not(i.Condition), Block(els), null) : new CsIf(i.Condition, Block(then), els.Count > 0 ? Block(els) : null));
                            continue;
                        }
                    case CsScope sc:
                        {
                            var inner = Slice(sc.Body.Stmts, effect, isPrivate, needed);
                            if (inner == null) return null;
                            if (inner.Count > 0) result.Add(new CsScope(Block(inner)));
                            continue;
                        }
                    case CsBlock b:
                        {
                            var inner = Slice(b.Stmts, effect, isPrivate, needed);
                            if (inner == null) return null;
                            for (int x = inner.Count - 1; x >= 0; x--) result.Add(inner[x]);
                            continue;
                        }
                    case CsFor f:
                        {
                            // Loops inside the iteration (the 2D own pass): filter the effects, then keep what the
                            // loop reads anywhere in its body (conservative: a definition used by a later iteration).
                            var filtered = Filter(f.Body.Stmts, effect);
                            if (filtered == null) return null;
                            var use = new NameUse();
                            foreach (var x in filtered) use.Stmt(x);
                            if (!use.HasEffect) continue;
                            var loopNeeded = new HashSet<string>(needed, StringComparer.Ordinal);
                            loopNeeded.UnionWith(use.Reads);
                            var body = Slice(filtered, x => x, isPrivate, loopNeeded);
                            if (body == null) return null;
                            needed.UnionWith(loopNeeded);
                            if (f.Init is CsLocal fl && fl.Init != null) NameUse.Into(needed, fl.Init);
                            if (f.Condition != null) NameUse.Into(needed, f.Condition);
                            result.Add(f with { Body = Block(body) });
                            continue;
                        }
                    default:
                        {
                            var kept = effect(s);
                            if (kept == null)
                            {
                                var defs = new NameUse();
                                defs.Stmt(s);
                                if (defs.Writes.Overlaps(needed)) return null;
                                continue;
                            }
                            result.Add(kept);
                            var use = new NameUse();
                            use.Stmt(kept);
                            needed.UnionWith(use.Reads);
                            continue;
                        }
                }
            }
            result.Reverse();
            return result;
        }

        /// <summary>The statements with every effect <paramref name="effect"/> drops removed (no liveness).</summary>
        private static List<CsStmt>? Filter(IReadOnlyList<CsStmt> stmts, Func<CsStmt, CsStmt?> effect)
        {
            var result = new List<CsStmt>();
            foreach (var s in stmts)
            {
                switch (s)
                {
                    case CsLocal _:
                    case CsComment _:
                        result.Add(s);
                        break;
                    case CsAssign a when a.Target is CsName:
                        result.Add(s);
                        break;
                    case CsExprStmt e when e.Expr is CsVerbatim:
                        result.Add(s);
                        break;
                    case CsIf i:
                        {
                            var then = Filter(i.Then.Stmts, effect);
                            var els = i.Else != null ? Filter(i.Else.Stmts, effect) : new List<CsStmt>();
                            if (then == null || els == null) return null;
                            result.Add(new CsIf(i.Condition, Block(then), els.Count > 0 ? Block(els) : null));
                            break;
                        }
                    case CsScope sc:
                        {
                            var inner = Filter(sc.Body.Stmts, effect);
                            if (inner == null) return null;
                            result.Add(new CsScope(Block(inner)));
                            break;
                        }
                    case CsFor f:
                        {
                            var inner = Filter(f.Body.Stmts, effect);
                            if (inner == null) return null;
                            result.Add(f with { Body = Block(inner) });
                            break;
                        }
                    default:
                        {
                            var kept = effect(s);
                            if (kept != null) result.Add(kept);
                            break;
                        }
                }
            }
            return result;
        }

        // ------------------------------------------------------------------ passes

        /// <summary>Emits a pass inline (serial) or in chunks (parallel).</summary>
        private bool RunPass(List<CsStmt> w, bool parallel, ForLoop l, string what, CsExpr from, CsExpr to, Func<CsExpr, CsExpr, List<CsStmt>> core,
            HashSet<string> privates, HashSet<int> scattered, CsExpr work, string? tapes)
        {
            if (!parallel)
            {
                w.AddRange(core(from, to));
                return true;
            }
            string c = Fresh("_chunks");
            w.Add(new CsLocal(CsType.Int, c, Call(Member(ParallelLoopsType, "Chunks"), Iterations(from, to), work, Threads(l))));
            return Pass(w, what, from, to, N(c), core, privates, scattered, tapes);
        }

        /// <summary>
        /// A pass over [<paramref name="from"/>, <paramref name="to"/>) in <paramref name="chunks"/> chunks: a ref
        /// struct whose Run runs <paramref name="core"/> on one chunk. False when the core uses a name the struct
        /// cannot carry (a value from outside that it writes other than by accumulation, verbatim text).
        /// </summary>
        private bool Pass(List<CsStmt> w, string what, CsExpr from, CsExpr to, CsExpr chunks, Func<CsExpr, CsExpr, List<CsStmt>> core,
            HashSet<string> privates, HashSet<int> scattered, string? tapes)
        {
            string chunk = Fresh("_chunk"), lo = Fresh("_from"), hi = Fresh("_to");
            var stmts = core(N(lo), N(hi));
            var use = new NameUse();
            foreach (var s in stmts) use.Stmt(s);
            if (use.Raw) return false;
            var types = NameTypes();
            var scatteredBars = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var v in scattered) if (_bar.TryGetValue(v, out var b)) scatteredBars[b] = v;

            var fields = new List<CsField>();
            var init = new List<(string Field, CsExpr Value)>();
            var locals = new List<CsStmt>();
            var after = new List<CsStmt>();
            var stores = new List<CsStmt>();
            string loop = Fresh("_loop");
            var tapeLocals = new List<CsStmt>();
            foreach (var name in use.Reads.Concat(use.Writes).Distinct().OrderBy(x => x, StringComparer.Ordinal))
            {
                if (use.Declared.Contains(name) || name == lo || name == hi || name == chunk) continue;
                if (name.IndexOf('.') >= 0 || name.IndexOf(':') >= 0) continue; // a qualified type or method
                if (scatteredBars.TryGetValue(name, out var arrayVar))
                {
                    // Chunk 0 adds into the adjoint itself, the others into buffers added in chunk order afterwards.
                    var elem = T(_vars[arrayVar].Elem);
                    string buffer = Fresh(name.TrimStart('_') + "Chunks");
                    fields.Add(new CsField(types[name], name));
                    fields.Add(new CsField(CsType.ArrayOf(elem), buffer));
                    init.Add((name, N(name)));
                    string bufferLocal = Fresh("_buffers");
                    w.Add(new CsLocal(CsType.Var, bufferLocal, Call(new CsMember(N(_tape), "NewArray", elem), Bin("*", Bin("-", chunks, CsLiteral.Int(1)), Member(name, "Length")))));
                    init.Add((buffer, N(bufferLocal)));
                    locals.Add(new CsLocal(CsType.SpanOf(elem), name, new CsConditional(Bin("==", N(chunk), CsLiteral.Int(0)), Member(N("this"), name),
                        new CsNew(CsType.SpanOf(elem), new CsArg[] { N(buffer), Bin("*", Bin("-", N(chunk), CsLiteral.Int(1)), Member(Member(N("this"), name), "Length")), Member(Member(N("this"), name), "Length") }.ToEquatableArray()))));
                    after.Add(Do(Call(new CsMember(N(ParallelLoopsType), "AddBuffers", elem), N(name), N(bufferLocal), Bin("-", chunks, CsLiteral.Int(1)), chunks)));
                    after.Add(Do(Call(Member(_tape, "Recycle"), N(bufferLocal))));
                    _needsTape = true;
                    continue;
                }
                if (IsTapeName(name))
                {
                    if (tapes == null) return false;
                    continue;
                }
                if (!types.TryGetValue(name, out var type)) return false;
                if (privates.Contains(name))
                {
                    locals.Add(new CsLocal(type, name, type.Scalar != Ty.Void || type == CsType.Int || type == CsType.Long || type == CsType.Bool ? DefaultOf(type) : new CsVerbatim("default!")));
                    continue;
                }
                if (use.Writes.Contains(name))
                {
                    // A scalar from outside written in the chunk: only a sum (an adjoint) can be split by chunks.
                    if (!use.CompoundOnly(name) || !type.IsReal) return false;
                    string partials = Fresh(name.TrimStart('_') + "Chunks");
                    fields.Add(new CsField(CsType.ArrayOf(type), partials));
                    init.Add((partials, new CsNewArray(type, chunks)));
                    locals.Add(new CsLocal(type, name, DefaultOf(type)));
                    stores.Add(Set(new CsIndex(N(partials), N(chunk)), N(name)));
                    string c = Fresh("_c");
                    after.Insert(0, new CsFor(new CsLocal(CsType.Int, c, CsLiteral.Int(0)), Bin("<", N(c), chunks), Do(new CsVerbatim(c + "++")),
                        Block(Add(N(name), new CsIndex(Member(loop, partials), N(c))))));
                    continue;
                }
                fields.Add(new CsField(type, name));
                init.Add((name, N(name)));
            }
            if (tapes != null)
            {
                fields.Add(new CsField(CsType.ArrayOf(CsType.Tape), tapes));
                init.Add((tapes, N(tapes)));
                tapeLocals.Add(new CsLocal(CsType.Var, _tape, new CsIndex(N(tapes), N(chunk))));
                foreach (var t in Enum.GetValues(typeof(Ty)).Cast<Ty>().Where(t => t != Ty.Void && t != Ty.Other))
                {
                    if (use.Uses(TapeName(t))) tapeLocals.Add(new CsLocal(CsType.Var, TapeName(t), Member(_tape, StackProperty(t, false))));
                    if (use.Uses(RefTapeName(t))) tapeLocals.Add(new CsLocal(CsType.Var, RefTapeName(t), Member(_tape, StackProperty(t, true))));
                }
            }

            string typeName = NestedTypeName();
            var run = new List<CsStmt>();
            run.AddRange(tapeLocals);
            run.AddRange(locals);
            run.AddRange(stmts);
            run.AddRange(stores);
            var runMethod = new CsMethod(null, EquatableArray<string>.Empty, "public", CsType.Void, "Run",
                new[] { new CsParam(CsType.Int, chunk), new CsParam(CsType.Int, lo), new CsParam(CsType.Int, hi) }.ToEquatableArray(), Block(run));
            var nested = new CsNestedType("One chunk of " + what + " (see <see cref=\"global::DiffGen.CompilerServices.ParallelLoops\"/>).",
                "private ref struct " + typeName + " : global::DiffGen.CompilerServices.IParallelBody", fields.ToEquatableArray(), new[] { runMethod }.ToEquatableArray());
            (_inReverseSweep ? _reverseTypes : _forwardTypes).Add(nested);

            var initializer = string.Join(", ", init.Select(x => x.Field + " = " + CsPrinter.Expr(x.Value)));
            w.Add(new CsLocal(CsType.Var, loop, new CsVerbatim("new " + typeName + " { " + initializer + " }")));
            w.Add(Do(Call(Member(ParallelLoopsType, "For"), from, to, chunks, Ref(N(loop)))));
            w.AddRange(after);
            return true;
        }

        /// <summary>
        /// The counter over [from, to) without [lo, hi), descending (from &lt;= lo &lt;= hi &lt;= to): one loop that
        /// jumps from hi to lo - 1, so the body is written once.
        /// </summary>
        private static CsFor DescendingAround(string counter, CsExpr from, CsExpr to, CsExpr lo, CsExpr hi, List<CsStmt> body)
        {
            var below = Simplifier.Simplify(Bin("-", lo, CsLiteral.Int(1)));
            return new CsFor(new CsLocal(CsType.Int, counter, new CsConditional(Bin("==", hi, to), below, Simplifier.Simplify(Bin("-", to, CsLiteral.Int(1))))),
                Bin(">=", N(counter), from), Set(N(counter), new CsConditional(Bin("==", N(counter), hi), below, Bin("-", N(counter), CsLiteral.Int(1)))), Block(body));
        }

        private static CsFor Ascending(string counter, CsExpr from, CsExpr to, List<CsStmt> body) =>
            new CsFor(new CsLocal(CsType.Int, counter, from), Bin("<", N(counter), to), Do(new CsVerbatim(counter + "++")), Block(body));

        /// <summary>The slices accumulate into "_acc"; each pass has its own name for it.</summary>
        private static CsStmt RenameAcc(CsStmt s, string acc)
        {
            switch (s)
            {
                case CsAssign a when a.Target is CsName n && n.Name == "_acc": return a with { Target = N(acc) };
                case CsScope sc: return new CsScope(Block(sc.Body.Stmts.Select(x => RenameAcc(x, acc))));
                case CsBlock b: return Block(b.Stmts.Select(x => RenameAcc(x, acc)));
                case CsIf i: return new CsIf(i.Condition, Block(i.Then.Stmts.Select(x => RenameAcc(x, acc))), i.Else == null ? null : Block(i.Else.Stmts.Select(x => RenameAcc(x, acc))));
                default: return s;
            }
        }

        /// <summary>x + k, written x - |k| for negative k.</summary>
        private static CsExpr Shift(CsExpr x, int k) => k == 0 ? x : k > 0 ? Bin("+", x, CsLiteral.Int(k)) : Bin("-", x, CsLiteral.Int(-k));

        private static CsExpr DefaultOf(CsType t) =>
            t.Scalar != Ty.Void ? Zero(t.Scalar) : t == CsType.Int ? CsLiteral.Int(0) : t == CsType.Long ? Zero(Ty.Long) : t == CsType.Bool ? CsLiteral.False : new CsVerbatim("default");

        private bool IsTapeName(string name) =>
            name == _tape || Enum.GetValues(typeof(Ty)).Cast<Ty>().Where(t => t != Ty.Void && t != Ty.Other).Any(t => name == TapeName(t) || name == RefTapeName(t));

        /// <summary>The nested type's name: the generated method's, a loop number, and a hash for overloads.</summary>
        private string NestedTypeName()
        {
            string method = _m.Name + (_primalMode ? "Parallel" : _split ? (_inReverseSweep ? "PullbackReverse" : "PullbackForward") : "Pullback");
            return method + "Loop" + (_typeCount++).ToString(CultureInfo.InvariantCulture) + OverloadSuffix();
        }

        /// <summary>"" for a method without [Differentiable] overloads, otherwise a hash of its file name (its parameter types).</summary>
        private string OverloadSuffix() => OverloadSuffixOf(_m);

        internal static string OverloadSuffixOf(MethodModel m)
        {
            string hint = m.HintName.EndsWith(".g.cs", StringComparison.Ordinal) ? m.HintName.Substring(0, m.HintName.Length - 5) : m.HintName;
            return hint.EndsWith("." + m.Name, StringComparison.Ordinal) ? "" : "_" + StableHash(hint);
        }

        private static string StableHash(string s)
        {
            uint h = 2166136261;
            foreach (char ch in s) { h ^= ch; h *= 16777619; }
            return h.ToString("x8", CultureInfo.InvariantCulture);
        }

        /// <summary>The type of every name a pass may read from outside.</summary>
        private Dictionary<string, CsType> NameTypes()
        {
            var d = new Dictionary<string, CsType>(StringComparer.Ordinal);
            foreach (var v in _vars) d[v.Name] = v.Role == VarRole.Param ? CsType.Param(v) : VarType(v);
            foreach (var kv in _bar)
            {
                var v = _vars[kv.Key];
                d[kv.Value] = v.IsScalar ? T(v.Elem) : v.Role == VarRole.Param ? CsType.SpanOf(T(v.Elem)) : CsType.ArrayOf(T(v.Elem));
            }
            foreach (var (name, type) in _slots) d[name] = T(type);
            foreach (var kv in _extraTypes) d[kv.Key] = kv.Value;
            return d;
        }

        private CsType TypeOfBar(string bar) => T(_vars[_bar.First(kv => kv.Value == bar).Key].Elem);

        // ------------------------------------------------------------------ loop facts

        /// <summary>The iterations [from, to) of a counted loop with a computed trip count (int bounds), or null.</summary>
        private (CsExpr From, CsExpr To)? Range(ForLoop l)
        {
            if (!_a.ComputedTrips.TryGetValue(l.Id, out var trip) || _vars[l.Counter].Elem != Ty.Int || trip.Bound.Type != Ty.Int || l.Start.Type != Ty.Int) return null;
            CsExpr start = P(l.Start), bound = P(trip.Bound);
            CsExpr S(CsExpr x) => Simplifier.Simplify(x);
            if (l.Step == 1 && trip.Op == BinOp.Lt) return (start, bound);
            if (l.Step == 1 && trip.Op == BinOp.Le) return (start, S(Bin("+", bound, CsLiteral.Int(1))));
            if (l.Step == -1 && trip.Op == BinOp.Gt) return (S(Bin("+", bound, CsLiteral.Int(1))), S(Bin("+", start, CsLiteral.Int(1))));
            if (l.Step == -1 && trip.Op == BinOp.Ge) return (bound, S(Bin("+", start, CsLiteral.Int(1))));
            return null;
        }

        /// <summary>The chunk count of a loop: its iterations, the work of the loops inside, and its thread cap.</summary>
        private CsExpr ChunkCount(ForLoop l, CsExpr from, CsExpr to) =>
            Call(Member(ParallelLoopsType, "Chunks"), Iterations(from, to), WorkOf(l), Threads(l));

        /// <summary>to - from as a long (no overflow for any int bounds).</summary>
        private static CsExpr Iterations(CsExpr from, CsExpr to) =>
            Simplifier.Simplify(from is CsLiteral z && z.Text == "0" ? new CsCast(CsType.Long, to) : Bin("-", new CsCast(CsType.Long, to), from));

        private CsExpr Threads(ForLoop l) => l.Threads != null ? P(l.Threads) : CsLiteral.Int(0);

        /// <summary>Iterations times the trip count of the first inner loop with bounds known before the loop (an estimate of the elements touched).</summary>
        private CsExpr WorkOf(ForLoop l)
        {
            var (from, to) = Range(l)!.Value;
            CsExpr work = Iterations(from, to);
            var declared = new HashSet<int>(DeclaredInside(l)) { l.Counter };
            foreach (var inner in l.Body.Stmts.OfType<ForLoop>())
            {
                var r = Range(inner);
                if (r == null || Analyzer.AllVars(inner.Start).Concat(Analyzer.AllVars(_a.ComputedTrips[inner.Id].Bound)).Any(declared.Contains)) continue;
                return Bin("*", work, Call(Member(Names.Math, "Max"), Iterations(r.Value.From, r.Value.To), Zero(Ty.Long)));
            }
            return work;
        }

        /// <summary>A loop over the counter: ascending for the forward sweep, descending for the reverse (the reverse of its order).</summary>
        private Func<CsExpr, CsExpr, List<CsStmt>> Counted(ForLoop l, List<CsStmt> body, bool reverse)
        {
            string i = _vars[l.Counter].Name;
            bool descending = reverse == (l.Step > 0);
            return (f, t) => new List<CsStmt> { descending ? Descending(i, f, t, body) : new CsFor(new CsLocal(CsType.Int, i, f), Bin("<", N(i), t), Do(new CsVerbatim(i + "++")), Block(body)) };
        }

        private static CsFor Descending(string counter, CsExpr from, CsExpr to, List<CsStmt> body) =>
            new CsFor(new CsLocal(CsType.Int, counter, Simplifier.Simplify(Bin("-", to, CsLiteral.Int(1)))), Bin(">=", N(counter), from), Do(new CsVerbatim(counter + "--")), Block(body));

        /// <summary>The loop's source line for a doc comment (XML-escaped).</summary>
        private string Describe(ForLoop l) => _source.TryGetValue(l.Id, out var text)
            ? "'" + text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;") + "'"
            : "a loop";

        /// <summary>The variables a loop's body declares (locals, temporaries, flags, inner counters, arrays it allocates).</summary>
        private IEnumerable<int> DeclaredInside(ForLoop l)
        {
            var d = new HashSet<int>();
            foreach (var s in Walk.Descendants(l.Body))
            {
                switch (s)
                {
                    case Assign a when a.Target is VarRef t && (a.Declares || _vars[t.Var].Role == VarRole.Temp || _vars[t.Var].Role == VarRole.Flag): d.Add(t.Var); break;
                    case Alloc al: d.Add(al.Var); break;
                    case ForLoop f: d.Add(f.Counter); break;
                    case Call c when c.ResultVar >= 0: d.Add(c.ResultVar); break;
                }
            }
            return d;
        }

        /// <summary>The scalars a chunk's last iteration leaves for its reverse (saved on the chunk's tape).</summary>
        private IEnumerable<int> ChunkState(ForLoop l)
        {
            var counters = new HashSet<int>(Walk.Descendants(l.Body).OfType<ForLoop>().Select(f => f.Counter));
            // Recomputed locals are declared where they are defined (out of scope after the loop) and redefined by
            // the reverse of each iteration: they need no saving.
            return DeclaredInside(l).Where(v => _vars[v].IsScalar && !counters.Contains(v) && !_a.Recomputed.Contains(v)).OrderBy(v => v);
        }

        /// <summary>The chunk tape's stack for a variable (not registered as one of the method's own stacks).</summary>
        private CsExpr StackOf(int v) => _vars[v].Elem == Ty.Other ? Member(_tape, "Objects") : N(TapeName(_vars[v].Elem));

        /// <summary>Names private to an iteration: the body's own variables and their adjoints, and its loops' slots.</summary>
        private HashSet<string> PrivateNames(ForLoop l)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var v in DeclaredInside(l))
            {
                names.Add(_vars[v].Name);
                if (_bar.TryGetValue(v, out var b)) names.Add(b);
            }
            foreach (var s in Walk.Descendants(l.Body))
            {
                if (_loopCount.TryGetValue(s.Id, out var n)) names.Add(n);
                if (_loopStart.TryGetValue(s.Id, out var st)) names.Add(st);
            }
            return names;
        }

        private HashSet<string> Privates(ForLoop l) => PrivateNames(l);

        /// <summary>
        /// Arrays whose adjoints iterations of a parallel loop may add to at the same element: read in the loop
        /// (not written, which makes their elements the iteration's own) at more than one index or at an index
        /// that is not one-to-one in the counter, or passed to a call.
        /// </summary>
        private HashSet<int> Scattered(ForLoop l, IEnumerable<int>? exclude = null)
        {
            var result = new HashSet<int>();
            var skip = new HashSet<int>(exclude ?? Enumerable.Empty<int>());
            var written = Gather.WrittenIn(l, _callees);
            var forms = ParallelLoops.Forms.Of(l, _vars, _callees);
            var reads = new Dictionary<int, List<Expr>>();
            var passed = new HashSet<int>();
            foreach (var s in Walk.Descendants(l.Body))
            {
                if (s is Call c)
                    for (int k = 0; k < c.Args.Count; k++)
                        if (_callees[c.Callee].Params[k].Storage != Storage.Scalar && c.Args[k] is VarRef v) passed.Add(v.Var);
                foreach (var e in Walk.Exprs(s))
                    foreach (var x in Walk.Descendants(e))
                        if (x is ElemRef el)
                        {
                            if (!reads.TryGetValue(el.Var, out var list)) reads[el.Var] = list = new List<Expr>();
                            list.Add(el.Index);
                        }
            }
            foreach (var v in reads.Keys.Concat(passed).Distinct())
            {
                if (skip.Contains(v) || written.Contains(v) || !_a.Active[v] || !_bar.ContainsKey(v)) continue;
                if (passed.Contains(v)) { result.Add(v); continue; }
                var polys = reads[v].Select(forms.Of).ToList();
                if (polys.Any(p => p == null) || polys.Distinct().Count() != 1 || forms.Disjoint(new List<Poly> { polys[0]! }) != null) result.Add(v);
            }
            return result;
        }

        // ------------------------------------------------------------------ the parallel primal

        /// <summary>Set while building {Name}Parallel: no tape, calls of data-parallel callees go to their parallel forms.</summary>
        private bool _primalMode;

        /// <summary>
        /// <c>{Name}Parallel</c> of a [DataParallel] method: the method's own statements, its parallel loops in
        /// chunks on threads, its calls of other data-parallel methods to their parallel forms.
        /// </summary>
        private CsMethod BuildParallelPrimal()
        {
            _primalMode = true;
            _inReverseSweep = false;
            var body = new List<CsStmt>();
            var parms = _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex).ToList();
            var stmts = new List<CsStmt>();
            Primal(_body, stmts);
            foreach (var v in _vars.Where(v => v.Role != VarRole.Param && !_counters.Contains(v.Id)))
                body.Add(Declaration(v, null));
            body.AddRange(stmts);
            if (_a.ResultVar >= 0) body.Add(new CsReturn(N(_vars[_a.ResultVar].Name)));
            var types = _forwardTypes.ToList();
            _forwardTypes.Clear();
            return new CsMethod("<see cref=\"" + _m.Name + "\"/> with its data-parallel loops on several threads (<see cref=\"global::DiffGen.Parallelism\"/>); the same results as the method itself.",
                EquatableArray<string>.Empty, _m.Accessibility + " static", T(_m.ReturnType), _m.Name + "Parallel",
                parms.Select(v => new CsParam(CsType.Param(v), v.Name)).ToEquatableArray(), Block(body), types.ToEquatableArray());
        }

        private void Primal(Stmt s, List<CsStmt> w)
        {
            switch (s)
            {
                case Block b:
                    foreach (var c in b.Stmts) Primal(c, w);
                    break;
                case Assign a:
                    w.Add(Set(P(a.Target), P(a.Value)));
                    break;
                case Alloc al:
                    w.Add(Set(N(_vars[al.Var].Name), new CsNewArray(T(_vars[al.Var].Elem), P(al.Length))));
                    break;
                case If i:
                    {
                        var then = new List<CsStmt>();
                        Primal(i.Then, then);
                        var els = new List<CsStmt>();
                        Primal(i.Else, els);
                        w.Add(new CsIf(P(i.Condition), Block(then), els.Count > 0 ? Block(els) : null));
                        break;
                    }
                case ForLoop l:
                    {
                        foreach (var c in l.Init.Stmts) Primal(c, w);
                        var body = new List<CsStmt>();
                        if (l.Parallel && _parallelDepth == 0 && Range(l) is var (from, to))
                        {
                            _parallelDepth++;
                            try { Primal(l.Body, body); }
                            finally { _parallelDepth--; }
                            var scope = new List<CsStmt>();
                            string c = Fresh("_chunks");
                            scope.Add(new CsLocal(CsType.Int, c, ChunkCount(l, from, to)));
                            if (Pass(scope, "the iterations of " + Describe(l), from, to, N(c), Counted(l, body, reverse: false), Privates(l), new HashSet<int>(), null))
                            {
                                w.Add(new CsScope(Block(scope)));
                                break;
                            }
                            body.Clear();
                        }
                        Primal(l.Body, body);
                        w.Add(CountedLoop(l, P(l.Start), Block(body)));
                        break;
                    }
                case WhileLoop l:
                    {
                        Primal(l.Init, w);
                        var body = new List<CsStmt>();
                        Primal(l.Body, body);
                        Primal(l.Step, body);
                        w.Add(new CsWhile(P(l.Condition), Block(body)));
                        break;
                    }
                case Call c:
                    {
                        var callee = _callees[c.Callee];
                        var call = Call(Member(callee.TypeName, callee.Name + (callee.HasParallel ? "Parallel" : "")), c.Args.Select(x => (CsArg)P(x)).ToArray());
                        w.Add(c.ResultVar >= 0 ? Set(N(_vars[c.ResultVar].Name), call) : Do(call));
                        break;
                    }
                case ForwardOnly t:
                    w.Add(new CsRawStmt(t.Text));
                    break;
            }
        }

        /// <summary>Attaches the chunk structs to the methods that use them and adds {Name}Parallel for a [DataParallel] method.</summary>
        private List<CsMethod> AttachParallel(List<CsMethod> methods, MethodAnalysis analysis)
        {
            string forwardHost = _split ? _m.Name + "PullbackForward" : _m.Name + "Pullback";
            string reverseHost = _split ? _m.Name + "PullbackReverse" : _m.Name + "Pullback";
            var result = methods.Select(m =>
            {
                var extra = new List<CsNestedType>();
                if (m.Name == forwardHost) extra.AddRange(_forwardTypes);
                if (m.Name == reverseHost) extra.AddRange(_reverseTypes);
                return extra.Count == 0 ? m : m with { Companions = m.Companions.Concat(extra).ToEquatableArray() };
            }).ToList();
            _forwardTypes.Clear();
            _reverseTypes.Clear();
            if (_m.DataParallel)
            {
                var primal = BuildParallelPrimal();
                var device = BuildDevice(_m, _callees, analysis, out var whyNot);
                if (device != null) { primal = primal with { Companions = primal.Companions.Concat(new[] { device }).ToEquatableArray() }; _deviceCaveat = whyNot; }
                else if (_m.Ilgpu) _deviceNote = whyNot;
                result.Add(primal);
            }
            return result;
        }

        // ------------------------------------------------------------------ names in output trees

        /// <summary>The names a piece of output code reads, writes and declares.</summary>
        private sealed class NameUse
        {
            public readonly HashSet<string> Reads = new HashSet<string>(StringComparer.Ordinal);
            public readonly HashSet<string> Writes = new HashSet<string>(StringComparer.Ordinal);
            public readonly HashSet<string> Declared = new HashSet<string>(StringComparer.Ordinal);
            private readonly HashSet<string> _plainWrites = new HashSet<string>(StringComparer.Ordinal);

            /// <summary>Verbatim statement text other than ++/-- (a user's throw) that may name anything.</summary>
            public bool Raw { get; private set; }

            /// <summary>Whether the code writes an element or a name (not only declares locals).</summary>
            public bool HasEffect { get; private set; }

            public bool Uses(string name) => Reads.Contains(name) || Writes.Contains(name);

            /// <summary>Whether every write of the name is += or -= (a sum that chunks can split).</summary>
            public bool CompoundOnly(string name) => !_plainWrites.Contains(name);

            public static void Into(HashSet<string> names, CsExpr e)
            {
                var u = new NameUse();
                u.Expr(e);
                names.UnionWith(u.Reads);
            }

            public void Stmt(CsStmt s)
            {
                switch (s)
                {
                    case CsBlock b: foreach (var x in b.Stmts) Stmt(x); break;
                    case CsScope sc: foreach (var x in sc.Body.Stmts) Stmt(x); break;
                    case CsLocal l: Declared.Add(l.Name); if (l.Init != null) Expr(l.Init); break;
                    case CsAssign a:
                        HasEffect = true;
                        if (a.Target is CsName n)
                        {
                            Writes.Add(n.Name);
                            if (a.Op == "=") _plainWrites.Add(n.Name);
                            else Reads.Add(n.Name);
                        }
                        else Expr(a.Target);
                        Expr(a.Value);
                        break;
                    case CsExprStmt e:
                        HasEffect = true;
                        if (e.Expr is CsVerbatim v && (v.Text.EndsWith("++", StringComparison.Ordinal) || v.Text.EndsWith("--", StringComparison.Ordinal)))
                        {
                            string name = v.Text.Substring(0, v.Text.Length - 2);
                            Writes.Add(name);
                            Reads.Add(name);
                            _plainWrites.Add(name);
                        }
                        else Expr(e.Expr);
                        break;
                    case CsIf i:
                        Expr(i.Condition);
                        Stmt(i.Then);
                        if (i.Else != null) Stmt(i.Else);
                        break;
                    case CsFor f:
                        if (f.Init != null) Stmt(f.Init);
                        if (f.Condition != null) Expr(f.Condition);
                        if (f.Step != null) Stmt(f.Step);
                        Stmt(f.Body);
                        break;
                    case CsWhile wl:
                        Expr(wl.Condition);
                        Stmt(wl.Body);
                        break;
                    case CsReturn r:
                        HasEffect = true;
                        if (r.Value != null) Expr(r.Value);
                        break;
                    case CsRawStmt _:
                        HasEffect = true;
                        Raw = true;
                        break;
                    case CsComment _:
                        break;
                    default:
                        Raw = true;
                        break;
                }
            }

            public void Expr(CsExpr e)
            {
                switch (e)
                {
                    case CsName n: Reads.Add(n.Name); break;
                    case CsMember m: Expr(m.Target); break;
                    case CsNew nw: foreach (var a in nw.Args) Arg(a); break;
                    case CsIndex ix: Expr(ix.Target); Expr(ix.Index); break;
                    case CsInvoke inv:
                        Expr(inv.Target);
                        HasEffect = true;
                        foreach (var a in inv.Args) Arg(a);
                        break;
                    case CsMath m: foreach (var a in m.Args) Expr(a); break;
                    case CsUnary u: Expr(u.Operand); break;
                    case CsBinary b: Expr(b.Left); Expr(b.Right); break;
                    case CsConditional c: Expr(c.Condition); Expr(c.WhenTrue); Expr(c.WhenFalse); break;
                    case CsCast c: Expr(c.Operand); break;
                    case CsNewArray na: Expr(na.Length); break;
                    case CsLiteral _: break;
                    case CsVerbatim v:
                        if (v.Text != "default" && v.Text != "default!") Raw = true;
                        break;
                    default: Raw = true; break;
                }
            }

            private void Arg(CsArg a)
            {
                Expr(a.Value);
                if ((a.Modifier == "ref" || a.Modifier == "out") && a.Value is CsName n)
                {
                    Writes.Add(n.Name);
                    _plainWrites.Add(n.Name);
                }
            }
        }
    }
}
