using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Rules;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Reverse
{
    /// <summary>
    /// Builds <c>{Name}Pullback</c> as an output tree: a forward sweep (the primal code, with the tape
    /// pushes the analysis asked for) and a reverse sweep (the statements in reverse order, each restoring
    /// what it overwrote and propagating adjoints to its operands by the rule table). A void method with a
    /// span parameter gets its pullback in two halves behind the public one (Tapenade's split mode). The
    /// dual pullback (<c>{Name}PullbackDual</c>) is the same tree built without halves or tape pools and
    /// rewritten onto dual numbers (<see cref="DualRewrite"/>).
    /// </summary>
    internal sealed partial class ReverseTransformer
    {
        private readonly MethodModel _m;
        private readonly IReadOnlyList<Var> _vars;
        private readonly IReadOnlyList<Callee> _callees;
        private readonly Block _body;
        private readonly Analyzer _a;
        private readonly IrToCs _ir;
        private readonly Dictionary<int, string> _bar = new Dictionary<int, string>();
        private readonly Dictionary<int, string> _paramAccumulator = new Dictionary<int, string>();
        private readonly NameSet _names;
        private readonly IReadOnlyDictionary<int, string> _source;
        // Reassigned per half of a split pullback, so each half declares only the stacks it uses.
        private SortedSet<Ty> _tapes = new SortedSet<Ty>();
        private SortedSet<Ty> _refTapes = new SortedSet<Ty>();
        private readonly Dictionary<int, string> _loopCount = new Dictionary<int, string>();
        private readonly Dictionary<int, string> _loopStart = new Dictionary<int, string>();
        private readonly List<(string Name, Ty Type)> _slots = new List<(string, Ty)>();
        private readonly HashSet<int> _counters = new HashSet<int>();
        private readonly HashSet<int> _singleAssignment;

        /// <summary>Whether the pullback comes in two halves (see MethodAnalysis.HasHalves).</summary>
        private readonly bool _split;

        /// <summary>The tape: parameter of the halves, pool of scratch arrays (not on dual numbers).</summary>
        private readonly string _tape = "";

        private readonly HashSet<int> _splitCalls;
        private readonly bool _callsHalves;
        private readonly bool _dual;
        private int _temp;

        /// <summary>The adjoint of this (a shadow instance), when this has active fields.</summary>
        private string? _thisBar;

        /// <summary>Adjoint structs of struct containers (locals: rBar; parameters: an accumulator pAdj).</summary>
        private readonly Dictionary<int, string> _containerBar = new Dictionary<int, string>();

        /// <summary>ref/out parameters (scalars and struct containers): their adjoints are seeded from and stored back to the caller's.</summary>
        private readonly HashSet<int> _inOut = new HashSet<int>();

        /// <summary>Containers whose adjoint is a parameter of the pullback (the struct result's resultBar): not declared.</summary>
        private readonly HashSet<int> _paramContainerBars = new HashSet<int>();

        /// <summary>Struct parameters: container id → the ref adjoint parameter the accumulator is added to at the end.</summary>
        private readonly Dictionary<int, string> _structAccumulator = new Dictionary<int, string>();

        /// <summary>Adjoints known to be zero at the current point of the reverse sweep (see <see cref="BlockLocalBars"/>).</summary>
        private readonly HashSet<string> _zeroBars = new HashSet<string>();

        private ReverseTransformer(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, bool dual)
        {
            _dual = dual;
            _m = m;
            _callees = callees;
            _body = analysis.Body;
            _vars = analysis.Vars;
            // The dual pullback re-runs every callee (no halves on dual numbers).
            _a = dual ? analysis.JointAnalyzer : analysis.Analyzer;
            _ir = new IrToCs(_vars);
            _names = new NameSet(_vars.Select(v => v.Name));
            _source = m.SourceText.ToDictionary(x => x.Id, x => x.Text);
            foreach (var f in Walk.Descendants(_body).OfType<ForLoop>()) _counters.Add(f.Counter);
            var assignments = new Dictionary<int, int>();
            foreach (var s in Walk.Descendants(_body))
            {
                switch (s)
                {
                    case Assign a when a.Target is VarRef t: assignments[t.Var] = assignments.TryGetValue(t.Var, out var n1) ? n1 + 1 : 1; break;
                    case Call c when c.ResultVar >= 0: assignments[c.ResultVar] = 2; break;
                    case ForLoop f: assignments[f.Counter] = 2; break;
                }
            }
            _singleAssignment = new HashSet<int>(assignments.Where(kv => kv.Value == 1).Select(kv => kv.Key));
            _split = !dual && MethodAnalysis.HasHalves(m, _vars);
            _splitCalls = dual ? new HashSet<int>() : analysis.SplitCalls;
            _callsHalves = Walk.Descendants(_body).OfType<Call>().Any(c => _splitCalls.Contains(c.Id) && callees[c.Callee].SplitCapable);
            // The tape also pools the large scratch arrays (array locals, their adjoints, saved outputs), so
            // every non-dual pullback reserves the name; single-method pullbacks rent it only when they use it.
            if (!dual) _tape = Fresh("_tape");
        }

        /// <summary>The pullback's methods and the summary comment lines (active inputs, taped values, …).</summary>
        public static (List<CsMethod> Methods, List<string> Summary) Build(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis)
        {
            var t = new ReverseTransformer(m, callees, analysis, dual: false);
            var methods = t.AttachParallel(t.BuildMethods(out var summary), analysis);
            summary.AddRange(t.ParallelNotes());
            return (methods, summary);
        }

        /// <summary>
        /// <c>{Name}PullbackDual</c> (forward over reverse: Hessian-vector products), or null with the
        /// reason when the method uses float, MathF, or calls a method without a dual pullback.
        /// </summary>
        public static CsMethod? BuildDual(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, out string? whyNot)
        {
            whyNot = null;
            if (m.ReturnType == Ty.Float || analysis.Vars.Any(v => v.Elem == Ty.Float))
                whyNot = "it uses float (dual numbers are double)";
            else if (callees.FirstOrDefault(c => !c.DualCapable) is Callee c)
                whyNot = "it calls '" + c.Name + "', which has no dual pullback (a hand-written derivative, float code, or another assembly)";
            else if (analysis.Vars.Any(v => v.IsContainer || v.Aggregate))
                whyNot = "it uses structs or instance state (dual numbers replace double values, not fields)";
            else if (m.ReturnsArray)
                whyNot = CapabilityTable.ReturnsArrayReason;
            else if (UsesUnsupportedDual(analysis.Body))
                whyNot = "it uses MathF, a cast to float, or a helper called with double arguments (also in a guard or a log call)";
            if (whyNot != null) return null;
            var t = new ReverseTransformer(m, callees, analysis, dual: true);
            return DualRewrite.Apply(t.BuildMethods(out _).Single());
        }

        /// <summary>MathF, a cast to float, an inactive helper called with float/double arguments, or a forward-only statement without a dual form: what dual numbers cannot replace (the capability table asks too).</summary>
        internal static bool UsesUnsupportedDual(Stmt body) =>
            Walk.Descendants(body).Any(s => s is ForwardOnly f && f.DualText == null) ||
            Walk.Descendants(body).SelectMany(Walk.Exprs).SelectMany(Walk.Descendants).Any(x =>
                x is MathCall mc && mc.IsMathF
                || x is Opaque o && o.Args.Any(a => a.Type == Ty.Double || a.Type == Ty.Float)
                || x is Cast c && c.Type == Ty.Float);

        // ------------------------------------------------------------------ names and helpers

        /// <summary>A fresh identifier from a hint that may be a field path (this.T → thisT, r.X → rX).</summary>
        private string Fresh(string hint) => _names.Fresh(Identifier(hint));

        internal static string Identifier(string hint)
        {
            var sb = new System.Text.StringBuilder();
            foreach (char ch in hint)
                if (char.IsLetterOrDigit(ch) || ch == '_') sb.Append(ch);
            return sb.Length == 0 || char.IsDigit(sb[0]) ? "_" + sb : sb.ToString();
        }

        private string Temp() => Fresh("_t" + (_temp++).ToString(CultureInfo.InvariantCulture));

        private CsExpr P(Expr e) => _ir.Convert(e);

        private static CsType T(Ty t) => CsType.Of(t);

        private CsExpr Tape(Ty t)
        {
            if (t == Ty.Other)
                throw new System.NotSupportedException("a value of an inactive type would have to be recorded (a local of such a type assigned in a loop from values the loop changes); compute it from the loop's inputs or hoist it out of the loop");
            _tapes.Add(t);
            return N(TapeName(t));
        }

        private static string TapeName(Ty t) => "_tape" + Capital(t);

        private CsExpr RefTape(Ty t)
        {
            _refTapes.Add(t);
            return N(RefTapeName(t));
        }

        private static string RefTapeName(Ty t) => "_arrays" + Capital(t);

        private static string Capital(Ty t)
        {
            string s = CsType.Of(t).Name;
            return char.ToUpperInvariant(s[0]) + s.Substring(1);
        }

        /// <summary>The DiffGen.Tape property holding the stack of a value type (or of arrays of it).</summary>
        private static string StackProperty(Ty t, bool arrays) => Capital(t) + (arrays ? "Arrays" : "s");

        private static CsExpr Push(CsExpr stack, CsExpr value) => Call(Member(stack, "Push"), value);

        private static CsExpr Pop(CsExpr stack) => Call(Member(stack, "Pop"));

        /// <summary>A zeroed T[length]: from the tape's pool (not on dual numbers, which have no tape).</summary>
        private CsExpr NewArray(Ty elem, CsExpr length) => NewArray(T(elem), length);

        private CsExpr NewArray(CsType elem, CsExpr length) =>
            _dual ? new CsNewArray(elem, length) : Call(new CsMember(N(_tape), "NewArray", elem), length);

        /// <summary>Saves a span's contents on the tape (arrays of structs or objects as a copy on the object stack).</summary>
        private CsStmt SaveSpan(Var v) => v.ObjectElements ? PushObjectFields(v) : v.Aggregate
            ? Do(Push(Member(_tape, "Objects"), Call(Member(ReadOnly(CsType.ElementOf(v), N(v.Name)), "ToArray"))))
            : ArrayShapes.Push(v, Tape(v.Elem), N(v.Name));

        private CsStmt RestoreSpan(Var v) => v.ObjectElements ? PopObjectFields(v) : v.Aggregate
            ? Do(Call(Member(ReadOnly(CsType.ElementOf(v), new CsCast(CsType.ArrayOf(CsType.ElementOf(v)), Pop(Member(_tape, "Objects")))), "CopyTo"), N(v.Name)))
            : ArrayShapes.Pop(v, Tape(v.Elem), N(v.Name));

        /// <summary>How generated code calls a callee or one of its derivatives: on this, as an operator, or on its type.</summary>
        private static CsExpr Target(Callee callee, string? type, string name) =>
            callee.IsInstance ? Member(N("this"), name) : Member(type!, name);

        private CsExpr PrimalCall(Callee callee, List<CsArg> args)
        {
            if (callee.Operator != null)
                return args.Count == 2 ? Bin(callee.Operator, args[0].Value, args[1].Value) : callee.Operator == "-" ? Neg(args[0].Value) : args[0].Value;
            return Call(Target(callee, callee.TypeName, callee.Name), args.ToArray());
        }

        private CsType ReturnType() => _m.ReturnType == Ty.Other ? new CsType(_m.ReturnTypeName!) : T(_m.ReturnType);

        private static CsExpr Zero(Ty t) => CsLiteral.Zero(t);

        private CsType VarType(Var v) => CsType.OfVar(v);

        private CsStmt Declaration(Var v, CsExpr? value)
        {
            if (v.Storage == Storage.Struct) return new CsLocal(VarType(v), v.Name, value ?? new CsVerbatim("default"));
            if (v.Elem == Ty.Other) return new CsLocal(VarType(v), v.Name, value ?? new CsVerbatim("default!"));
            if (v.Storage == Storage.Scalar) return new CsLocal(T(v.Elem), v.Name, value ?? Zero(v.Elem));
            return new CsLocal(VarType(v), v.Name, value ?? ArrayShapes.Empty(v));
        }

        private static CsExpr ReadOnly(CsType elem, CsExpr span) => new CsCast(CsType.ReadOnlySpanOf(elem), span);

        private bool Pushed(int stmt, int var) => _a.Pushes.Contains((stmt, var));

        private bool Nested(Loop l) => _a.LoopDepth(l.Id) > 0;

        private CsStmt? SourceComment(Stmt s) =>
            _source.TryGetValue(s.Id, out var text) ? new CsComment("reverse of: " + text) : null;

        // ------------------------------------------------------------------ methods

        private List<CsMethod> BuildMethods(out List<string> summary)
        {
            var parms = _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex).ToList();
            var sig = new List<CsParam>();
            var adjointArgs = new List<CsArg>();
            foreach (var v in parms) sig.Add(new CsParam(CsType.Param(v), v.Name, v.Modifier));
            bool realResult = _m.ReturnType == Ty.Double || _m.ReturnType == Ty.Float;
            string? resultBarParam = null;
            if (realResult || _m.ReturnType == Ty.Other)
            {
                // A struct result's adjoint is a struct of its type; its fields are the result fields' adjoints.
                resultBarParam = Fresh("resultBar");
                sig.Add(new CsParam(ReturnType(), resultBarParam));
                adjointArgs.Add(N(resultBarParam));
            }
            // The adjoint of this: a shadow instance (the contract's first adjoint parameter).
            var self = _vars.FirstOrDefault(v => v.Role == VarRole.This);
            if (self != null && _vars.Any(v => v.Container == self.Id && v.IsReal && _a.Active[v.Id]))
            {
                _thisBar = Fresh("thisBar");
                sig.Add(new CsParam(CsType.OfVar(self), _thisBar, self.Storage == Storage.Struct ? "ref" : null));
                adjointArgs.Add(self.Storage == Storage.Struct ? Ref(N(_thisBar)) : N(_thisBar));
            }
            foreach (var v in parms)
            {
                if (v.Storage == Storage.Struct)
                {
                    // A struct parameter: its adjoint is a struct of its type, accumulated (ref S pBar); for a
                    // ref/out struct it is in-out (seeded on entry, the adjoint of the entry value on exit).
                    if (!_vars.Any(l => l.Container == v.Id && l.IsReal && !l.NoDiff)) continue;
                    string sbar = Fresh(v.Name + "Bar");
                    sig.Add(new CsParam(CsType.OfVar(v), sbar, "ref"));
                    adjointArgs.Add(Ref(N(sbar)));
                    _containerBar[v.Id] = Fresh(v.Name + "Adj");
                    _structAccumulator[v.Id] = sbar;
                    if (Analyzer.IsInOut(v)) _inOut.Add(v.Id);
                    continue;
                }
                if (!v.IsReal || v.NoDiff) continue;
                string bar = Fresh(v.Name + "Bar");
                if (v.IsScalar)
                {
                    // The adjoint is built in a local and added to the ref parameter at the end: a local stays
                    // in a register in hot loops, and a body that reassigns the parameter may clear it.
                    sig.Add(new CsParam(T(v.Elem), bar, "ref"));
                    adjointArgs.Add(Ref(N(bar)));
                    _paramAccumulator[v.Id] = bar;
                    _bar[v.Id] = Fresh(v.Name + "Adj");
                    if (Analyzer.IsInOut(v)) _inOut.Add(v.Id);
                }
                else
                {
                    // A multi-dimensional or jagged array's adjoint is an array of the same shape; a flat one's a span.
                    sig.Add(new CsParam(v.IsMultiDim || v.IsList ? CsType.Param(v) : CsType.SpanOf(CsType.ElementOf(v)), bar));
                    adjointArgs.Add(N(bar));
                    _bar[v.Id] = bar;
                }
            }
            foreach (var v in _vars)
            {
                // Local struct containers get an adjoint struct when a field of theirs is active.
                if (v.Storage == Storage.Struct && v.Role == VarRole.Result && resultBarParam != null) { _containerBar[v.Id] = resultBarParam; _paramContainerBars.Add(v.Id); }
                else if (v.Storage == Storage.Struct && v.Role != VarRole.Param && v.Role != VarRole.This && _vars.Any(l => l.Container == v.Id && _a.Active[l.Id]))
                    _containerBar[v.Id] = Fresh(v.Name.TrimStart('_') + "Bar");
            }
            foreach (var v in _vars)
            {
                if (v.Role == VarRole.Param || !_a.Active[v.Id]) continue;
                if (v.Id == _a.ResultVar && resultBarParam != null) { _bar[v.Id] = resultBarParam; continue; }
                if (v.IsLeaf)
                {
                    // A field's adjoint is the same field of the container's adjoint (thisBar.T, rBar.X).
                    var c = _vars[v.Container];
                    string? cbar = c.Role == VarRole.This ? _thisBar : _containerBar.TryGetValue(c.Id, out var cb) ? cb : null;
                    if (cbar != null) _bar[v.Id] = LeafOf(v, cbar);
                    continue;
                }
                _bar[v.Id] = Fresh(v.Name.TrimStart('_') + "Bar");
            }

            // Sweeps first: they decide which tapes and slots are needed.
            var fwdTapes = _tapes;
            var fwdRefTapes = _refTapes;
            var fwd = new List<CsStmt>();
            Forward(_body, fwd);
            var restored = _a.RestoredParams.OrderBy(x => x).ToList();
            if (_splitCalls.Count > 0)
            {
                // A callee's reverse half leaves the spans it wrote as its own restores left them.
                foreach (var c in Walk.Descendants(_body).OfType<Call>().Where(c => _splitCalls.Contains(c.Id)))
                    for (int k = 0; k < c.Args.Count; k++)
                        if (c.Args[k] is VarRef r && (_vars[r.Var].Role == VarRole.Param && _vars[r.Var].IsWritableSpan || r.Var == _a.ResultVar && _vars[r.Var].Storage == Storage.Array)
                            && _callees[c.Callee].Params[k].Writes && !restored.Contains(r.Var))
                            restored.Add(r.Var);
                restored.Sort();
            }
            var finals = new Dictionary<int, string>();
            foreach (var r in restored) finals[r] = Fresh(_vars[r].Name + "Final");
            var revTapes = _tapes = new SortedSet<Ty>();
            var revRefTapes = _refTapes = new SortedSet<Ty>();
            var rev = new List<CsStmt>();
            rev.AddRange(SwapShadowFields());
            Reverse(_body, rev);
            // Adjoints go back to the caller: added for inputs, stored for ref/out (shadow semantics).
            foreach (var kv in _paramAccumulator) rev.Add(_inOut.Contains(kv.Key) ? Set(N(kv.Value), N(_bar[kv.Key])) : Add(N(kv.Value), N(_bar[kv.Key])));
            foreach (var kv in _structAccumulator)
            {
                if (_inOut.Contains(kv.Key)) { rev.Add(Set(N(kv.Value), N(_containerBar[kv.Key]))); continue; }
                foreach (var leaf in _vars.Where(l => l.Container == kv.Key && l.IsReal && _a.Active[l.Id]))
                    rev.Add(Add(N(LeafOf(leaf, kv.Value)), N(_bar[leaf.Id])));
            }

            // Locals the sweeps share, declared at the top (counters and recomputed locals are declared where
            // the source declares them).
            var locals = _vars.Where(v => v.Role != VarRole.Param && v.Role != VarRole.This && !v.IsLeaf && !_counters.Contains(v.Id) && !_a.Recomputed.Contains(v.Id)).ToList();
            var adjointDeclarations = new List<CsStmt>();
            foreach (var kv in _containerBar)
                if (!_paramContainerBars.Contains(kv.Key))
                    adjointDeclarations.Add(new CsLocal(CsType.OfVar(_vars[kv.Key]), kv.Value,
                        _inOut.Contains(kv.Key) ? N(_structAccumulator[kv.Key]) : new CsVerbatim("default")));
            foreach (var v in _vars)
            {
                if (!_bar.TryGetValue(v.Id, out var bar) || v.IsLeaf) continue;
                if (v.Role == VarRole.Param && !_paramAccumulator.ContainsKey(v.Id)) continue;
                if (v.Id == _a.ResultVar && bar == resultBarParam) continue;
                if (v.Storage == Storage.Scalar)
                    adjointDeclarations.Add(new CsLocal(T(v.Elem), bar, _inOut.Contains(v.Id) ? N(_paramAccumulator[v.Id]) : Zero(v.Elem)));
                else adjointDeclarations.Add(new CsLocal(CsType.OfVar(v), bar, ArrayShapes.Empty(v)));
            }
            // Span and array parameters that the method writes must not share memory with another one: the
            // derivative assumes they do not (Scale(x, s, x) would give a wrong gradient), so say so instead.
            var checks = ArrayShapes.OverlapChecks(parms, v => WritesVar(_body, v.Id), _m.Name);
            if (_thisBar != null && self!.Storage == Storage.Object)
                checks.Add(new CsRawStmt("global::System.ArgumentNullException.ThrowIfNull(" + _thisBar + ");"));
            foreach (var v in parms.Concat(_vars.Where(l => l.IsLeaf && _vars[l.Container].Role == VarRole.This && l.IsWritableSpan)))
            {
                // A short adjoint span would make the reverse sweep fail half-way: check up front.
                if (v.IsScalar || v.IsContainer || !_bar.TryGetValue(v.Id, out var sb)) continue;
                if (v.IsMultiDim) { checks.Add(ArrayShapes.RequireSameShape(v, sb)); continue; }
                // A null array is the method's own business (its guard, or the exception it would throw).
                if (v.Storage == Storage.Array)
                {
                    checks.Add(Do(Call(Member(N(Names.ArrayHelpers), v.IsList ? "RequireSameCount" : "RequireSameLength"), N(v.Name), ArrayShapes.Length(v, N(sb)), new CsVerbatim("nameof(" + v.Name + ")"), new CsVerbatim("nameof(" + sb + ")"))));
                    continue;
                }
                checks.Add(new CsIf(Bin("!=", Member(sb, "Length"), Member(v.Name, "Length")),
                    Block(new CsRawStmt("throw new " + Names.ArgumentException + "(\"" + sb + " must have the length of " + v.Name + " (\" + " + v.Name + ".Length + \").\", nameof(" + sb + "));")), null));
            }

            // The scratch arrays go back to the tape's pool when the reverse sweep is done with them: the array
            // locals (an array re-allocated in a loop leaves only its first instance here; the others are the
            // garbage collector's) and their adjoints.
            var recycle = new List<CsStmt>();
            if (!_dual)
                foreach (var v in _vars.Where(v => v.Role != VarRole.Param && v.Role != VarRole.Result && !v.IsLeaf && v.Storage == Storage.Array && !v.IsMultiDim))
                {
                    recycle.Add(Do(Call(Member(_tape, "Recycle"), N(v.Name))));
                    if (_bar.TryGetValue(v.Id, out var vb) && _a.Active[v.Id]) recycle.Add(Do(Call(Member(_tape, "Recycle"), N(vb))));
                }
            bool rentsTape = _callsHalves || !_dual && (recycle.Count > 0 || restored.Count > 0 || _needsTape);

            var methods = new List<CsMethod>();
            string summaryText = _dual
                ? "The pullback of <see cref=\"" + _m.Name + "\"/> on dual numbers: seed the inputs' tangents with v and read H·v from the adjoints' tangents (see docs/generated-code.md)."
                : "Reverse-mode derivative of <see cref=\"" + _m.Name + "\"/>: re-runs it, returns its result, and propagates adjoints (see docs/generated-code.md).";
            var returnType = ReturnType();
            if (!_split)
            {
                _tapes = new SortedSet<Ty>(fwdTapes.Concat(revTapes));
                _refTapes = new SortedSet<Ty>(fwdRefTapes.Concat(revRefTapes));
                var body = new List<CsStmt>();
                // No 'using': a try/finally around the sweeps would keep the JIT from enregistering their locals.
                // The buffers go back to the pool at the end; if the method throws, the GC reclaims them.
                foreach (var t in _tapes) body.Add(new CsLocal(CsType.Var, TapeName(t), new CsNew(CsType.GenericOf(Names.ValueStack, T(t)), EquatableArray<CsArg>.Empty)));
                foreach (var t in _refTapes) body.Add(new CsLocal(CsType.Var, RefTapeName(t), new CsNew(CsType.GenericOf(Names.RefStack, CsType.ArrayOf(T(t))), EquatableArray<CsArg>.Empty)));
                if (rentsTape) body.Add(new CsLocal(CsType.Var, _tape, Call(Member(Names.Tape, "Rent"))));
                foreach (var v in locals) body.Add(Declaration(v, null));
                body.AddRange(adjointDeclarations);
                body.AddRange(checks);
                foreach (var (name, type) in _slots) body.Add(new CsLocal(T(type), name, Zero(type)));
                // An out value is unassigned on entry; it starts at zero so the sweeps may tape it like any state.
                foreach (var v in parms.Where(p => p.Modifier == "out")) body.Add(Set(N(v.Name), new CsVerbatim("default")));
                body.Add(new CsComment("Forward sweep"));
                body.AddRange(fwd);
                body.AddRange(ResultBarCheck(resultBarParam));
                foreach (var r in restored) body.AddRange(SaveFinal(r, finals[r]));
                body.Add(new CsComment("Reverse sweep"));
                body.AddRange(rev);
                foreach (var r in restored) body.AddRange(RestoreFinal(r, finals[r]));
                // The method's last statement swapped two array fields: the pullback leaves them as it does.
                foreach (var sw in _m.FinalSwaps) body.Add(SwapStmt(N(_vars[sw.A].Name), N(_vars[sw.B].Name)));
                body.AddRange(recycle);
                foreach (var t in _tapes) body.Add(Do(Call(Member(TapeName(t), "Dispose"))));
                if (rentsTape) body.Add(Do(Call(Member(_tape, "Return"))));
                // A method returning its input array: the pullback returns that array too (its derivative used a copy).
                if (_a.ResultVar >= 0) body.Add(new CsReturn(N(_m.ResultAlias ?? _vars[_a.ResultVar].Name)));
                // A scalar function the user asked to inline (an interpolation called per cell) gets the same
                // request on its pullback, which the reverse sweeps of its callers call per cell.
                var attrs = _m.AggressiveInlining ? new[] { Names.AggressiveInlining } : new string[0];
                methods.Add(new CsMethod(summaryText, attrs.ToEquatableArray(), Modifiers(_m.Accessibility), returnType,
                    _m.Name + (_dual ? "PullbackDual" : "Pullback"), sig.ToEquatableArray(), Block(body)));
            }
            else
            {
                // The public pullback runs the two halves back to back on a tape of its own.
                var paramArgs = parms.Select(v => (CsArg)N(v.Name)).ToList();
                var pub = new List<CsStmt>(checks);
                pub.Add(new CsLocal(CsType.Var, _tape, Call(Member(Names.Tape, "Rent"))));
                string? result = _m.ReturnType == Ty.Void ? null : Fresh("_primal");
                var fcall = Call(N(_m.Name + "PullbackForward"), paramArgs.Concat(new CsArg[] { N(_tape) }).ToArray());
                pub.Add(result != null ? new CsLocal(CsType.Var, result, fcall) : Do(fcall));
                foreach (var r in restored) pub.AddRange(SaveFinal(r, finals[r]));
                pub.Add(Do(Call(N(_m.Name + "PullbackReverse"), paramArgs.Concat(adjointArgs).Concat(new CsArg[] { N(_tape) }).ToArray())));
                foreach (var r in restored) pub.AddRange(RestoreFinal(r, finals[r]));
                pub.Add(Do(Call(Member(_tape, "Return"))));
                if (result != null) pub.Add(new CsReturn(N(result)));
                methods.Add(new CsMethod(summaryText, EquatableArray<string>.Empty, Modifiers(_m.Accessibility), returnType, _m.Name + "Pullback", sig.ToEquatableArray(), Block(pub)));

                // What the reverse half needs from the forward half goes on the tape: the shared locals and
                // loop slots, and the final contents of written span parameters that the reverse sweep reads
                // (the caller may overwrite them between the halves).
                var savedSpans = parms.Where(v => v.IsWritableSpan && _a.ReverseReadVars.Contains(v.Id) && WritesVar(_body, v.Id)).ToList();
                _tapes = fwdTapes;
                _refTapes = fwdRefTapes;
                var save = new List<CsStmt>();
                foreach (var v in savedSpans) save.Add(SaveSpan(v));
                foreach (var v in locals)
                    save.Add(Do(Push(v.Elem == Ty.Other || v.IsMultiDim ? Member(_tape, "Objects") : v.IsScalar ? Tape(v.Elem) : RefTape(v.Elem), N(v.Name))));
                foreach (var (name, type) in _slots) save.Add(Do(Push(Tape(type), N(name))));
                _tapes = revTapes;
                _refTapes = revRefTapes;
                var load = new List<CsStmt>();
                for (int k = _slots.Count - 1; k >= 0; k--) load.Add(new CsLocal(T(_slots[k].Type), _slots[k].Name, Pop(Tape(_slots[k].Type))));
                for (int k = locals.Count - 1; k >= 0; k--)
                    load.Add(Declaration(locals[k], locals[k].Elem == Ty.Other || locals[k].IsMultiDim ? new CsCast(VarType(locals[k]), Pop(Member(_tape, "Objects")))
                        : Pop(locals[k].IsScalar ? Tape(locals[k].Elem) : RefTape(locals[k].Elem))));
                for (int k = savedSpans.Count - 1; k >= 0; k--) load.Add(RestoreSpan(savedSpans[k]));

                var fsig = parms.Select(v => new CsParam(CsType.Param(v), v.Name)).Concat(new[] { new CsParam(CsType.Tape, _tape) }).ToEquatableArray();
                var fbody = new List<CsStmt>();
                foreach (var t in fwdTapes) fbody.Add(new CsLocal(CsType.Var, TapeName(t), Member(_tape, StackProperty(t, false))));
                foreach (var t in fwdRefTapes) fbody.Add(new CsLocal(CsType.Var, RefTapeName(t), Member(_tape, StackProperty(t, true))));
                foreach (var v in locals) fbody.Add(Declaration(v, null));
                foreach (var (name, type) in _slots) fbody.Add(new CsLocal(T(type), name, Zero(type)));
                fbody.AddRange(fwd);
                fbody.AddRange(save);
                if (_a.ResultVar >= 0) fbody.Add(new CsReturn(N(_vars[_a.ResultVar].Name)));
                methods.Add(new CsMethod("The forward half of <see cref=\"" + _m.Name + "Pullback\"/>: runs <see cref=\"" + _m.Name + "\"/> and records on the tape what the reverse half needs.",
                    EquatableArray<string>.Empty, Modifiers("internal"), returnType, _m.Name + "PullbackForward", fsig, Block(fbody)));

                var rbody = new List<CsStmt>();
                foreach (var t in revTapes) rbody.Add(new CsLocal(CsType.Var, TapeName(t), Member(_tape, StackProperty(t, false))));
                foreach (var t in revRefTapes) rbody.Add(new CsLocal(CsType.Var, RefTapeName(t), Member(_tape, StackProperty(t, true))));
                rbody.AddRange(load);
                rbody.AddRange(adjointDeclarations);
                rbody.AddRange(rev);
                rbody.AddRange(recycle);
                methods.Add(new CsMethod("The reverse half of <see cref=\"" + _m.Name + "Pullback\"/>: propagates adjoints from the state and tape the forward half left.",
                    EquatableArray<string>.Empty, Modifiers("internal"), CsType.Void, _m.Name + "PullbackReverse",
                    sig.Concat(new[] { new CsParam(CsType.Tape, _tape) }).ToEquatableArray(), Block(rbody)));
            }

            bool Differentiated(Var v) => !v.NoDiff && (v.IsReal || v.Storage == Storage.Struct && _containerBar.ContainsKey(v.Id));
            var activeIn = parms.Where(v => Differentiated(v) && v.Modifier != "out").Select(v => v.Name).ToList();
            var activeOut = parms.Where(v => Differentiated(v) && (v.IsWritableSpan && WritesVar(_body, v.Id) || Analyzer.IsInOut(v))).Select(v => v.Name).ToList();
            if (realResult || _m.ReturnType == Ty.Other && _a.ResultVar >= 0 && _vars.Any(v => (v.Id == _a.ResultVar || v.Container == _a.ResultVar) && v.IsReal && _a.Active[v.Id]))
                activeOut.Insert(0, "return value");
            var taped = _a.Pushes.Select(p => _vars[p.Var].Name).Distinct().OrderBy(x => x, System.StringComparer.Ordinal).ToList();
            var recomputed = _a.Recomputed.Select(v => _vars[v].Name).OrderBy(x => x, System.StringComparer.Ordinal).ToList();
            summary = new List<string>
            {
                "  active inputs:  " + (activeIn.Count > 0 ? string.Join(", ", activeIn) : "(none)"),
                "  active outputs: " + (activeOut.Count > 0 ? string.Join(", ", activeOut) : "(none)"),
                "  taped values:   " + (taped.Count > 0 ? string.Join(", ", taped) : "(none)")
                    + (_a.TapedConditions.Count > 0 ? "; " + _a.TapedConditions.Count.ToString(CultureInfo.InvariantCulture) + " branch decision(s)" : ""),
                "  recomputed:     " + (recomputed.Count > 0 ? string.Join(", ", recomputed) : "(none)"),
            };
            return methods;
        }

        private string Modifiers(string access) => _m.IsInstance ? access : access + " static";

        internal static CsStmt SwapStmt(CsExpr a, CsExpr b) =>
            new CsRawStmt("(" + CsPrinter.Expr(a) + ", " + CsPrinter.Expr(b) + ") = (" + CsPrinter.Expr(b) + ", " + CsPrinter.Expr(a) + ");");

        /// <summary>
        /// The shadow's fields follow the primal's swap: the seed names the arrays as the method leaves them,
        /// the reverse sweep as they were before the swap (the body is analysed without it).
        /// </summary>
        private IEnumerable<CsStmt> SwapShadowFields()
        {
            if (_thisBar == null) yield break;
            foreach (var sw in _m.FinalSwaps)
                yield return SwapStmt(N(_thisBar + _vars[sw.A].Path), N(_thisBar + _vars[sw.B].Path));
        }

        /// <summary>
        /// The check of an array result's adjoint against the result, once the forward sweep has made the
        /// result (its shape is known only then): a short resultBar would fail half-way through the reverse sweep.
        /// </summary>
        private IEnumerable<CsStmt> ResultBarCheck(string? resultBar)
        {
            if (resultBar == null || _a.ResultVar < 0) yield break;
            var v = _vars[_a.ResultVar];
            if (v.Storage != Storage.Array || !_bar.ContainsKey(v.Id)) yield break;
            if (v.IsMultiDim) { yield return ArrayShapes.RequireSameShape(v, resultBar); yield break; }
            yield return Do(Call(Member(N(Names.ArrayHelpers), "RequireSameLength"), N(v.Name), Member(resultBar, "Length"),
                new CsVerbatim("nameof(" + v.Name + ")"), new CsVerbatim("nameof(" + resultBar + ")")));
        }

        private IEnumerable<CsStmt> SaveFinal(int r, string final)
        {
            var v = _vars[r];
            if (v.ObjectElements) return SaveObjectFields(v, final);
            return new[] { SaveFinalValue(v, final) };
        }

        private CsStmt SaveFinalValue(Var v, string final)
        {
            if (v.IsScalar) return new CsLocal(CsType.Var, final, N(v.Name));
            if (v.Jagged) return new CsLocal(CsType.Var, final, ArrayShapes.Copy(v, N(v.Name)));
            var contents = ArrayShapes.Contents(v, N(v.Name));
            return new CsLocal(CsType.Var, final, _dual
                ? Call(Member(ReadOnly(CsType.ElementOf(v), contents), "ToArray"))
                : Call(new CsMember(N(_tape), "CopyOf", CsType.ElementOf(v)), contents));
        }

        private IEnumerable<CsStmt> RestoreFinal(int r, string final)
        {
            var v = _vars[r];
            if (v.IsScalar)
            {
                yield return Set(N(v.Name), N(final));
                yield break;
            }
            if (v.Jagged)
            {
                yield return Do(Call(Member(N(Names.ArrayHelpers), "CopyInto"), N(final), N(v.Name)));
                yield break;
            }
            if (v.ObjectElements)
            {
                foreach (var st in RestoreObjectFields(v, final)) yield return st;
                yield break;
            }
            yield return Do(Call(Member(ReadOnly(CsType.ElementOf(v), N(final)), "CopyTo"), ArrayShapes.Contents(v, N(v.Name))));
            if (!_dual) yield return Do(Call(Member(_tape, "Recycle"), N(final)));
        }

        private bool WritesVar(Stmt s, int var) => ArrayShapes.Writes(s, var, _callees);

        // ------------------------------------------------------------------ forward sweep

        private string CountSlot(Loop l)
        {
            if (!_loopCount.TryGetValue(l.Id, out var n))
            {
                n = Fresh("_n" + _loopCount.Count.ToString(CultureInfo.InvariantCulture));
                _loopCount[l.Id] = n;
                _slots.Add((n, Ty.Int));
            }
            return n;
        }

        private string? StartSlot(ForLoop l)
        {
            if (l.Start is Lit) return null;
            if (!_loopStart.TryGetValue(l.Id, out var s))
            {
                s = Fresh("_s" + _loopStart.Count.ToString(CultureInfo.InvariantCulture));
                _loopStart[l.Id] = s;
                _slots.Add((s, _vars[l.Counter].Elem));
            }
            return s;
        }

        private CsStmt StepStmt(ForLoop l)
        {
            var i = N(_vars[l.Counter].Name);
            if (l.Step == 1) return Do(new CsVerbatim(i.Name + "++"));
            if (l.Step == -1) return Do(new CsVerbatim(i.Name + "--"));
            return new CsAssign(i, l.Step > 0 ? "+=" : "-=", CsLiteral.Int(System.Math.Abs(l.Step)));
        }

        private CsFor CountedLoop(ForLoop l, CsExpr start, CsBlock body) =>
            new CsFor(new CsLocal(T(_vars[l.Counter].Elem), _vars[l.Counter].Name, start), P(l.Condition), StepStmt(l), body);

        private void Forward(Stmt s, List<CsStmt> w)
        {
            switch (s)
            {
                case Block b:
                    foreach (var c in b.Stmts) Forward(c, w);
                    break;
                case Assign a:
                    {
                        int tv = Analyzer.TargetVar(a.Target);
                        if (Pushed(a.Id, tv)) w.Add(Do(Push(Tape(a.Target.Type), P(a.Target))));
                        if (a.Declares && _a.Recomputed.Contains(tv)) w.Add(new CsLocal(VarType(_vars[tv]), _vars[tv].Name, P(a.Value)));
                        else w.Add(Set(P(a.Target), P(a.Value)));
                        break;
                    }
                case Alloc al:
                    {
                        var v = _vars[al.Var];
                        if (v.IsMultiDim)
                        {
                            // Created once, outside loops (lowering checks): never re-allocated, never taped.
                            if (Pushed(al.Id, al.Var) && al.Var != _a.ResultVar) throw new System.NotSupportedException("a multi-dimensional or jagged array would have to be taped");
                            w.Add(Set(N(v.Name), new CsNewArray(v.Jagged ? CsType.ArrayOf(T(v.Elem)) : T(v.Elem), P(al.Length))));
                            break;
                        }
                        // The result array is created once per run (lowering checks: outside loops, one per return), so the
                        // reference it replaces is never needed again: not taped, and the pullback returns the new one.
                        if (Pushed(al.Id, al.Var) && al.Var != _a.ResultVar) w.Add(Do(Push(v.Aggregate ? Member(_tape, "Objects") : RefTape(v.Elem), N(v.Name))));
                        // The returned array is the caller's to keep: not from the tape's pool.
                        w.Add(Set(N(v.Name), al.Var == _a.ResultVar ? new CsNewArray(CsType.ElementOf(v), P(al.Length)) : NewArray(CsType.ElementOf(v), P(al.Length))));
                        break;
                    }
                case RowAlloc ra:
                    w.Add(Set(new CsIndex(N(_vars[ra.Var].Name), P(ra.Row)), new CsNewArray(T(_vars[ra.Var].Elem), P(ra.Length))));
                    break;
                case If i:
                    {
                        bool taped = _a.TapedConditions.Contains(i.Id);
                        // The decision is pushed after the branch's own pushes, so the reverse sweep pops it first.
                        var then = new List<CsStmt>();
                        Forward(i.Then, then);
                        if (taped) then.Add(Do(Push(Tape(Ty.Bool), CsLiteral.True)));
                        var els = new List<CsStmt>();
                        Forward(i.Else, els);
                        if (taped) els.Add(Do(Push(Tape(Ty.Bool), CsLiteral.False)));
                        w.Add(new CsIf(P(i.Condition), Block(then), els.Count > 0 ? Block(els) : null));
                        break;
                    }
                case ForLoop l:
                    {
                        if (TryForwardParallel(l, w)) break;
                        foreach (var c in l.Init.Stmts) Forward(c, w);
                        var body = new List<CsStmt>();
                        if (_a.ComputedTrips.ContainsKey(l.Id))
                        {
                            // The reverse sweep recomputes the trip count: nothing to record.
                            Forward(l.Body, body);
                            w.Add(CountedLoop(l, P(l.Start), Block(body)));
                            break;
                        }
                        string n = CountSlot(l);
                        string? slot = StartSlot(l);
                        var start = P(l.Start);
                        if (slot != null) { w.Add(Set(N(slot), start)); start = N(slot); }
                        w.Add(Set(N(n), CsLiteral.Int(0)));
                        body.Add(Do(new CsVerbatim(n + "++")));
                        Forward(l.Body, body);
                        w.Add(CountedLoop(l, start, Block(body)));
                        if (Nested(l))
                        {
                            if (slot != null) w.Add(Do(Push(Tape(Ty.Int), _vars[l.Counter].Elem == Ty.Long ? new CsCast(CsType.Int, N(slot)) : N(slot))));
                            w.Add(Do(Push(Tape(Ty.Int), N(n))));
                        }
                        break;
                    }
                case WhileLoop l:
                    {
                        string n = CountSlot(l);
                        Forward(l.Init, w);
                        w.Add(Set(N(n), CsLiteral.Int(0)));
                        var body = new List<CsStmt> { Do(new CsVerbatim(n + "++")) };
                        Forward(l.Body, body);
                        Forward(l.Step, body);
                        w.Add(new CsWhile(P(l.Condition), Block(body)));
                        if (Nested(l)) w.Add(Do(Push(Tape(Ty.Int), N(n))));
                        break;
                    }
                case Call c:
                    {
                        var callee = _callees[c.Callee];
                        for (int k = 0; k < c.Args.Count; k++)
                            if (c.Args[k] is VarRef v && callee.Params[k].Storage != Storage.Scalar && Pushed(c.Id, v.Var))
                                w.Add(SaveSpan(_vars[v.Var]));
                        if (c.ResultVar >= 0 && Pushed(c.Id, c.ResultVar))
                        {
                            // Lowering admits calls returning arrays outside loops only, where nothing overwrites their result.
                            if (_vars[c.ResultVar].Storage == Storage.Array) throw new System.NotSupportedException("the array returned by a call to '" + callee.Name + "' would have to be taped");
                            w.Add(Do(Push(Tape(_vars[c.ResultVar].Elem), N(_vars[c.ResultVar].Name))));
                        }
                        // The object's state before an instance call that changes it, for the call's pullback to re-run from.
                        foreach (var leaf in _a.CallState(c).Where(l => Pushed(c.Id, l)))
                            w.Add(_vars[leaf].IsScalar ? Do(Push(Tape(_vars[leaf].Elem), N(_vars[leaf].Name))) : SaveSpan(_vars[leaf]));
                        var args = c.Args.Select((x, k) => new CsArg(P(x), callee.Params[k].Modifier)).ToList();
                        CsExpr call = _dual ? DualPrimalCall(c, callee, w)
                            : _splitCalls.Contains(c.Id) && callee.SplitCapable ? Call(Target(callee, callee.PullbackType, callee.PullbackName + "Forward"), args.Concat(new CsArg[] { N(_tape) }).ToArray())
                            : PrimalCall(callee, args);
                        w.Add(c.ResultVar >= 0 ? Set(N(_vars[c.ResultVar].Name), call) : Do(call));
                        break;
                    }
                case ForwardOnly t:
                    w.Add(new CsRawStmt(ForwardOnlyText(t)));
                    break;
            }
        }

        /// <summary>A forward-only statement as this pullback prints it (on dual numbers, with doubles cast out of them).</summary>
        private string ForwardOnlyText(ForwardOnly f) => _dual ? f.DualText! : f.Text;

        /// <summary>
        /// On dual numbers there is no primal callee to call: its dual pullback with zero seeds computes
        /// the same outputs (and returns the result).
        /// </summary>
        private CsExpr DualPrimalCall(Call c, Callee callee, List<CsStmt> w)
        {
            var args = c.Args.Select(x => (CsArg)P(x)).ToList();
            if (callee.Return == Ty.Double) args.Add(Zero(Ty.Double));
            for (int k = 0; k < c.Args.Count; k++)
            {
                var p = callee.Params[k];
                if (!p.HasAdjoint) continue;
                if (p.Storage == Storage.Scalar)
                {
                    string t = Temp();
                    w.Add(new CsLocal(T(p.Elem), t, Zero(p.Elem)));
                    args.Add(Ref(N(t)));
                }
                else
                {
                    var sv = _vars[((VarRef)c.Args[k]).Var];
                    args.Add(ArrayShapes.ZerosLike(sv, N(sv.Name)));
                }
            }
            return Call(Member(callee.PullbackType!, callee.PullbackName + "Dual"), args.ToArray());
        }

        // ------------------------------------------------------------------ reverse sweep

        private CsExpr BarOf(Expr target) =>
            target is VarRef v ? N(_bar[v.Var]) : IrToCs.WithPath(new CsIndex(N(_bar[((ElemRef)target).Var]), P(((ElemRef)target).Index)), ((ElemRef)target).Path);

        private void Reverse(Stmt s, List<CsStmt> w)
        {
            switch (s)
            {
                case Block b:
                    foreach (var c in b.Stmts)
                        if (c is Assign a && a.Declares && a.Target is VarRef t && _a.Recomputed.Contains(t.Var) && _a.ReverseReadVars.Contains(t.Var))
                            w.Add(new CsLocal(VarType(_vars[t.Var]), _vars[t.Var].Name, P(a.Value)));
                    foreach (var c in b.Stmts)
                    {
                        // The adjoint of an array created in the block (by new, or returned by a call) starts at zero,
                        // with the array's shape; the result's adjoint is the caller's resultBar.
                        int created = c is Alloc al ? al.Var : c is Call cc && cc.ResultVar >= 0 && _vars[cc.ResultVar].Storage == Storage.Array ? cc.ResultVar : -1;
                        if (created >= 0 && _a.Active[created] && created != _a.ResultVar)
                            w.Add(Set(N(_bar[created]), _vars[created].IsMultiDim ? ArrayShapes.ZerosLike(_vars[created], N(_vars[created].Name))
                                : NewArray(CsType.ElementOf(_vars[created]), Member(_vars[created].Name, "Length"))));
                    }
                    var fresh = BlockLocalBars(b);
                    _zeroBars.UnionWith(fresh);
                    for (int k = b.Stmts.Count - 1; k >= 0; k--)
                    {
                        // A nested loop may contribute several times, so its contributions must add; after a
                        // nested loop or branch the block's adjoints are no longer known to be zero.
                        if (!(b.Stmts[k] is Assign || b.Stmts[k] is Call || b.Stmts[k] is Alloc)) _zeroBars.ExceptWith(fresh);
                        Reverse(b.Stmts[k], w);
                    }
                    _zeroBars.ExceptWith(fresh);
                    break;
                case Assign a:
                    ReverseAssign(a, w);
                    break;
                case Alloc al:
                    if (Pushed(al.Id, al.Var) && al.Var != _a.ResultVar)
                        w.Add(Set(N(_vars[al.Var].Name), _vars[al.Var].Aggregate ? new CsCast(VarType(_vars[al.Var]), Pop(Member(_tape, "Objects"))) : Pop(RefTape(_vars[al.Var].Elem))));
                    break;
                case If i:
                    {
                        bool taped = _a.TapedConditions.Contains(i.Id);
                        var then = new List<CsStmt>();
                        Reverse(i.Then, then);
                        var els = new List<CsStmt>();
                        Reverse(i.Else, els);
                        CsExpr cond = taped ? Pop(Tape(Ty.Bool)) : P(i.Condition);
                        if (then.Count == 0 && els.Count == 0)
                        {
                            if (taped) w.Add(Do(cond));
                            break;
                        }
                        AddComment(i, w);
                        if (then.Count == 0) w.Add(new CsIf(Not(cond), Block(els), null));
                        else w.Add(new CsIf(cond, Block(then), els.Count > 0 ? Block(els) : null));
                        break;
                    }
                case ForLoop l:
                    ReverseFor(l, w);
                    break;
                case WhileLoop l:
                    ReverseWhile(l, w);
                    break;
                case Call c:
                    ReverseCall(c, w);
                    break;
            }
        }

        private void AddComment(Stmt s, List<CsStmt> w)
        {
            var c = SourceComment(s);
            if (c != null) w.Add(c);
        }

        private void ReverseFor(ForLoop l, List<CsStmt> w)
        {
            if (TryReverseParallel(l, w)) return;
            var header = new List<CsStmt>();
            string n;
            string? slot;
            if (_a.ComputedTrips.TryGetValue(l.Id, out var trip))
            {
                // Start and bound have their loop-entry values here (the analysis keeps them restored).
                slot = null;
                n = Fresh("_trips");
                CsExpr start = P(l.Start), bound = P(trip.Bound);
                int a = System.Math.Abs(l.Step);
                CsExpr Div(CsExpr x) => a == 1 ? x : Bin("/", x, CsLiteral.Int(a));
                CsExpr S(CsExpr x) => Simplifier.Simplify(x);
                CsExpr count;
                switch (trip.Op)
                {
                    case BinOp.Lt: count = new CsConditional(Bin(">", bound, start), S(Div(a > 1 ? Bin("+", Bin("-", bound, start), CsLiteral.Int(a - 1)) : Bin("-", bound, start))), CsLiteral.Int(0)); break;
                    case BinOp.Le: count = new CsConditional(Bin(">=", bound, start), S(Bin("+", Div(Bin("-", bound, start)), CsLiteral.Int(1))), CsLiteral.Int(0)); break;
                    case BinOp.Gt: count = new CsConditional(Bin(">", start, bound), S(Div(a > 1 ? Bin("+", Bin("-", start, bound), CsLiteral.Int(a - 1)) : Bin("-", start, bound))), CsLiteral.Int(0)); break;
                    default: count = new CsConditional(Bin(">=", start, bound), S(Bin("+", Div(Bin("-", start, bound)), CsLiteral.Int(1))), CsLiteral.Int(0)); break;
                }
                // A long counter, bound or start makes the count long (a loop over i < n with long n).
                bool wide = _vars[l.Counter].Elem == Ty.Long || trip.Bound.Type == Ty.Long || l.Start.Type == Ty.Long;
                header.Add(new CsLocal(CsType.Int, n, wide ? new CsCast(CsType.Int, count) : count));
            }
            else
            {
                n = CountSlot(l);
                slot = StartSlot(l);
                if (Nested(l))
                {
                    header.Add(Set(N(n), Pop(Tape(Ty.Int))));
                    if (slot != null) header.Add(Set(N(slot), Pop(Tape(Ty.Int))));
                }
            }
            var body = new List<CsStmt>();
            Reverse(l.Body, body);
            var loop = new List<CsStmt>();
            if (body.Count > 0)
            {
                string k = Fresh("_k");
                CsExpr start = slot != null ? N(slot) : P(l.Start);
                CsExpr offset = System.Math.Abs(l.Step) == 1 ? N(k) : Bin("*", N(k), CsLiteral.Int(System.Math.Abs(l.Step)));
                CsExpr counter = Simplifier.Simplify(Bin(l.Step > 0 ? "+" : "-", start, offset));
                body.Insert(0, new CsLocal(T(_vars[l.Counter].Elem), _vars[l.Counter].Name, counter));
                loop.Add(new CsFor(new CsLocal(CsType.Int, k, Bin("-", N(n), CsLiteral.Int(1))), Bin(">=", N(k), CsLiteral.Int(0)), Do(new CsVerbatim(k + "--")), Block(body)));
            }
            var init = new List<CsStmt>();
            for (int j = l.Init.Stmts.Count - 1; j >= 0; j--) Reverse(l.Init.Stmts[j], init);
            if (loop.Count == 0 && init.Count == 0 && header.All(h => h is CsLocal)) return;
            if (loop.Count > 0) AddComment(l, w);
            w.AddRange(header);
            w.AddRange(loop);
            w.AddRange(init);
        }

        private void ReverseWhile(WhileLoop l, List<CsStmt> w)
        {
            string n = CountSlot(l);
            if (Nested(l)) w.Add(Set(N(n), Pop(Tape(Ty.Int))));
            var body = new List<CsStmt>();
            Reverse(l.Step, body);
            Reverse(l.Body, body);
            if (body.Count > 0)
            {
                string k = Fresh("_k");
                AddComment(l, w);
                w.Add(new CsFor(new CsLocal(CsType.Int, k, N(n)), Bin(">", N(k), CsLiteral.Int(0)), Do(new CsVerbatim(k + "--")), Block(body)));
            }
            Reverse(l.Init, w);
        }

        private void ReverseAssign(Assign a, List<CsStmt> w)
        {
            int tv = Analyzer.TargetVar(a.Target);
            bool active = _a.Active[tv];
            bool pushed = Pushed(a.Id, tv);
            if (!active)
            {
                if (pushed) w.Add(Set(P(a.Target), Pop(Tape(a.Target.Type))));
                return;
            }
            var scope = new List<CsStmt>();
            // x = x + e (an accumulation) leaves x's adjoint unchanged and passes it on to e.
            if (!pushed && a.Value is Binary acc && (acc.Op == BinOp.Add || acc.Op == BinOp.Sub) && StripImplicit(acc.Left).Equals(a.Target))
            {
                if (!_a.IsActiveExpr(acc.Right)) return;
                string b = Temp();
                scope.Add(new CsLocal(T(a.Target.Type), b, BarOf(a.Target)));
                var contribs = new Contribs();
                Propagate(acc.Right, acc.Op == BinOp.Sub ? Neg(N(b)) : N(b), contribs);
                scope.AddRange(Flush(contribs, deferred: true));
            }
            else if (!_a.IsActiveExpr(a.Value))
            {
                // A constant overwrites the target: its adjoint ends here.
                w.Add(Set(BarOf(a.Target), Zero(a.Target.Type)));
                if (pushed) w.Add(Set(P(a.Target), Pop(Tape(a.Target.Type))));
                return;
            }
            else
            {
                string bar = Temp();
                scope.Add(new CsLocal(T(a.Target.Type), bar, BarOf(a.Target)));
                scope.Add(Set(BarOf(a.Target), Zero(a.Target.Type)));
                if (pushed) scope.Add(Set(P(a.Target), Pop(Tape(a.Target.Type))));
                var contribs = new Contribs();
                Propagate(a.Value, N(bar), contribs);
                scope.AddRange(Flush(contribs, deferred: true));
            }
            AddComment(a, w);
            w.Add(new CsScope(Block(Simplifier.HoistCommon(scope, Fresh))));
        }

        private static Expr StripImplicit(Expr e) => e is Cast c && c.Implicit ? StripImplicit(c.Operand) : e;

        private void ReverseCall(Call c, List<CsStmt> w)
        {
            if (_splitCalls.Contains(c.Id)) { ReverseSplitCall(c, w); return; }
            var callee = _callees[c.Callee];
            var inner = new List<CsStmt>();
            // The state the call changes, back to what it was before the call: the callee's pullback re-runs from it.
            var restoredState = new List<int>();
            foreach (var leaf in _a.CallState(c).Where(l => Pushed(c.Id, l)).Reverse())
            {
                inner.Add(_vars[leaf].IsScalar ? Set(N(_vars[leaf].Name), Pop(Tape(_vars[leaf].Elem))) : RestoreSpan(_vars[leaf]));
                restoredState.Add(leaf);
            }
            string? rb = null;
            CsExpr? arrayResultZeros = null;
            if (c.ResultVar >= 0 && _vars[c.ResultVar].IsContainer)
            {
                // A struct result: its adjoint struct goes to the callee and is consumed.
                var rv = _vars[c.ResultVar];
                if (_containerBar.TryGetValue(rv.Id, out var rcb))
                {
                    rb = Temp();
                    inner.Add(new CsLocal(CsType.OfVar(rv), rb, N(rcb)));
                    inner.Add(Set(N(rcb), new CsVerbatim("default")));
                }
            }
            else if (c.ResultVar >= 0 && _vars[c.ResultVar].Storage == Storage.Array)
            {
                // An array result: its adjoint array goes to the callee, which reads and clears what it wrote.
                var rv = _vars[c.ResultVar];
                if (_a.Active[c.ResultVar]) rb = _bar[c.ResultVar];
                else arrayResultZeros = ArrayShapes.ZerosLike(rv, N(rv.Name));
            }
            else if (c.ResultVar >= 0)
            {
                var rv = _vars[c.ResultVar];
                if (_a.Active[c.ResultVar])
                {
                    rb = Temp();
                    inner.Add(new CsLocal(T(rv.Elem), rb, N(_bar[c.ResultVar])));
                    inner.Add(Set(N(_bar[c.ResultVar]), Zero(rv.Elem)));
                }
                if (Pushed(c.Id, c.ResultVar)) inner.Add(Set(N(rv.Name), Pop(Tape(rv.Elem))));
            }
            for (int k = c.Args.Count - 1; k >= 0; k--)
                if (c.Args[k] is VarRef v && callee.Params[k].Storage != Storage.Scalar && Pushed(c.Id, v.Var))
                    inner.Add(RestoreSpan(_vars[v.Var]));

            // The pullback re-runs the callee and rewrites its outputs; a restored output gets a copy so the
            // restored values stay.
            var (args, adjArgs, after, anyActive) = CallArguments(c, callee, inner, copyRestoredOutputs: true);
            anyActive |= rb != null;
            if (callee.Return == Ty.Double || callee.Return == Ty.Float)
                args.Add(rb != null ? N(rb) : Zero(callee.Return));
            else if (callee.Return == Ty.Other)
                args.Add(rb != null ? N(rb) : arrayResultZeros ?? new CsVerbatim("default"));
            if (callee.IsInstance && callee.UsesThis)
            {
                args.Add(ThisAdjointArgument(inner));
                anyActive |= _thisBar != null;
            }
            args.AddRange(adjArgs);
            if (anyActive)
            {
                // The pullback leaves the state as the callee leaves it; the reverse sweep goes on with the state
                // before the call (the statements before it may read it), so the restored values are put back.
                var before = restoredState.Select(l => (Leaf: l, Copy: Fresh(_vars[l].Name + "Before"))).ToList();
                foreach (var (leaf, copy) in before) inner.AddRange(SaveFinal(leaf, copy));
                _needsTape |= before.Any(b => !_vars[b.Leaf].IsScalar);
                inner.Add(Do(Call(Target(callee, callee.PullbackType, callee.PullbackName + (_dual ? "Dual" : "")), args.ToArray())));
                foreach (var (leaf, copy) in before) inner.AddRange(RestoreFinal(leaf, copy));
                var contribs = new Contribs();
                foreach (var (arg, t) in after) Propagate(arg, N(t), contribs);
                inner.AddRange(Flush(contribs, deferred: false));
            }
            if (inner.Count == 0) return;
            AddComment(c, w);
            w.Add(new CsScope(Block(inner)));
        }

        /// <summary>
        /// A leaf's counterpart in another value of its container's type (thisBar.T, rBar.X): through the leaf's
        /// UnsafeAccessor when it has one: of this, the accessor's path below it (<c>__M_Gravity(thisBar).Y</c>); of a
        /// struct value, by ref (its accessors name top-level members, whose leaves keep their paths for matching).
        /// </summary>
        private string LeafOf(Var leaf, string container) =>
            leaf.Accessor == null ? container + leaf.Path
            : _vars[leaf.Container].Role == VarRole.This ? leaf.Accessor + "(" + container + ")" + leaf.Path
            : leaf.Accessor.Replace(Lowering.Lowerer.ContainerSlot, container);

        /// <summary>
        /// The adjoint of this for a call of another instance method on this: thisBar (by ref for a struct, whose
        /// pullbacks take <c>ref S thisBar</c>), or, when no field of this is active here, a throwaway shadow.
        /// </summary>
        private CsArg ThisAdjointArgument(List<CsStmt> into)
        {
            var self = _vars.First(v => v.Role == VarRole.This);
            if (self.Storage != Storage.Struct)
                return _thisBar != null ? N(_thisBar) : (CsExpr)Call(Member(N("this"), "CreateShadow"));
            if (_thisBar != null) return Ref(N(_thisBar));
            string t = Temp();
            into.Add(new CsLocal(CsType.OfVar(self), t, new CsVerbatim("default")));
            return Ref(N(t));
        }

        /// <summary>
        /// The reverse of a call run as two halves: the callee's reverse half (which expects the state its
        /// forward half left and restores what it recorded), then the caller's own restores for the call.
        /// It runs even when nothing is active, because it pops what the forward half pushed.
        /// </summary>
        private void ReverseSplitCall(Call c, List<CsStmt> w)
        {
            var callee = _callees[c.Callee];
            var inner = new List<CsStmt>();
            var (args, adjArgs, after, _) = CallArguments(c, callee, inner, copyRestoredOutputs: false);
            if (callee.IsInstance && callee.UsesThis)
                args.Add(ThisAdjointArgument(inner));
            args.AddRange(adjArgs);
            if (callee.SplitCapable)
            {
                args.Add(N(_tape));
                inner.Add(Do(Call(Target(callee, callee.PullbackType, callee.PullbackName + "Reverse"), args.ToArray())));
            }
            else
            {
                // A hand-written reverse half: the forward sweep ran the callee itself and recorded nothing.
                inner.Add(Do(Call(Member(callee.ReverseType!, callee.ReverseName!), args.ToArray())));
            }
            var contribs = new Contribs();
            foreach (var (arg, t) in after) Propagate(arg, N(t), contribs);
            inner.AddRange(Flush(contribs, deferred: false));
            for (int k = c.Args.Count - 1; k >= 0; k--)
                if (c.Args[k] is VarRef v && callee.Params[k].Storage != Storage.Scalar && Pushed(c.Id, v.Var))
                    inner.Add(RestoreSpan(_vars[v.Var]));
            AddComment(c, w);
            w.Add(new CsScope(Block(inner)));
        }

        /// <summary>
        /// The arguments of a callee's pullback (or reverse half) for one call: the primal arguments, and the
        /// adjoints of the active parameters (the caller's adjoint variables, or zeroed temporaries declared
        /// in <paramref name="inner"/> whose values <c>After</c> propagates to the argument expressions).
        /// </summary>
        private (List<CsArg> Args, List<CsArg> AdjArgs, List<(Expr Arg, string Temp)> After, bool AnyActive) CallArguments(Call c, Callee callee, List<CsStmt> inner, bool copyRestoredOutputs)
        {
            var args = new List<CsArg>();
            var adjArgs = new List<CsArg>();
            var after = new List<(Expr Arg, string Temp)>();
            bool anyActive = false;
            for (int k = 0; k < c.Args.Count; k++)
            {
                var p = callee.Params[k];
                var arg = c.Args[k];
                if (p.Storage == Storage.Struct)
                {
                    // The callee accumulates into the adjoint struct of the argument's container.
                    var container = ((VarRef)arg).Var;
                    args.Add(P(arg));
                    if (_containerBar.TryGetValue(container, out var cb))
                    {
                        adjArgs.Add(Ref(N(cb)));
                        foreach (var leaf in _vars.Where(l => l.Container == container)) if (_bar.TryGetValue(leaf.Id, out var lb)) _zeroBars.Remove(lb);
                        anyActive = true;
                    }
                    else
                    {
                        string t = Temp();
                        inner.Add(new CsLocal(CsType.OfVar(_vars[container]), t, new CsVerbatim("default")));
                        adjArgs.Add(Ref(N(t)));
                    }
                    continue;
                }
                if (p.Modifier != null)
                {
                    // By ref or out: the variable, and its adjoint by ref with shadow semantics (on entry the adjoint
                    // of the value the call leaves, on exit of the value it found): exactly the caller's adjoint.
                    args.Add(new CsArg(P(arg), p.Modifier));
                    if (!p.HasAdjoint) continue;
                    var rv = ((VarRef)arg).Var;
                    if (_a.Active[rv] && _bar.TryGetValue(rv, out var rb))
                    {
                        adjArgs.Add(Ref(N(rb)));
                        _zeroBars.Remove(rb);
                        anyActive = true;
                        continue;
                    }
                    string z = Temp();
                    inner.Add(new CsLocal(T(p.Elem), z, Zero(p.Elem)));
                    adjArgs.Add(Ref(N(z)));
                    continue;
                }
                if (p.Storage == Storage.Scalar)
                {
                    args.Add(P(arg));
                    if (!p.HasAdjoint) continue;
                    if (arg is VarRef v && _a.Active[v.Var] && v.Type == p.Elem && _vars[v.Var].IsScalar)
                    {
                        adjArgs.Add(Ref(N(_bar[v.Var])));
                        _zeroBars.Remove(_bar[v.Var]); // the callee adds to it
                        anyActive = true;
                        continue;
                    }
                    string t = Temp();
                    inner.Add(new CsLocal(T(p.Elem), t, Zero(p.Elem)));
                    adjArgs.Add(Ref(N(t)));
                    if (_a.IsActiveExpr(arg)) { after.Add((arg, t)); anyActive = true; }
                    continue;
                }
                var sv = _vars[((VarRef)arg).Var];
                if (copyRestoredOutputs && p.Writes && Pushed(c.Id, sv.Id))
                {
                    string copy = Temp();
                    inner.Add(new CsLocal(CsType.Var, copy, ArrayShapes.Copy(sv, N(sv.Name))));
                    args.Add(N(copy));
                }
                else
                {
                    args.Add(N(sv.Name));
                }
                if (!p.HasAdjoint) continue;
                if (_a.Active[sv.Id]) { adjArgs.Add(N(_bar[sv.Id])); anyActive = true; }
                else adjArgs.Add(ArrayShapes.ZerosLike(sv, N(sv.Name)));
            }
            return (args, adjArgs, after, anyActive);
        }

        // ------------------------------------------------------------------ adjoint propagation

        /// <summary>
        /// What one statement's reverse contributes, in execution order: temporaries, branches (selections
        /// of the rule table) and accumulations into adjoints. Accumulations of one level are merged per
        /// target when flushed (<c>u[i] * u[i]</c> and stencil centres become one read-modify-write).
        /// </summary>
        private sealed class Contribs
        {
            public readonly List<object> Items = new List<object>();
        }

        private sealed record Accumulation(CsExpr Target, CsExpr Value);

        private sealed record Branch(CsExpr Condition, Contribs Then, Contribs Else);

        /// <summary>Adds adj · ∂e/∂x to the adjoint of every active x in e.</summary>
        private void Propagate(Expr e, CsExpr adj, Contribs into)
        {
            if (!_a.IsActiveExpr(e)) return;
            adj = Simplifier.Simplify(adj);
            switch (e)
            {
                case VarRef v:
                    into.Items.Add(new Accumulation(N(_bar[v.Var]), adj));
                    return;
                case ElemRef el:
                    into.Items.Add(new Accumulation(IrToCs.WithPath(new CsIndex(N(_bar[el.Var]), P(el.Index)), el.Path), adj));
                    return;
            }
            if (!IsSimple(adj))
            {
                // An adjoint used by several operands is computed once.
                string t = Temp();
                into.Items.Add(new CsLocal(T(e.Type), t, adj));
                adj = N(t);
            }
            switch (e)
            {
                case Unary u when u.Op == UnOp.Neg:
                    Propagate(u.Operand, Neg(adj), into);
                    return;
                case Binary b:
                    {
                        var partials = DerivativeRules.Partials(b);
                        Contribute(b.Left, adj, partials[0], into);
                        Contribute(b.Right, adj, partials[1], into);
                        return;
                    }
                case Conditional c:
                    {
                        var partials = DerivativeRules.Partials(c);
                        Contribute(c.WhenTrue, adj, partials[0], into);
                        Contribute(c.WhenFalse, adj, partials[1], into);
                        return;
                    }
                case Cast c:
                    Propagate(c.Operand, c.Operand.Type == c.Type ? adj : new CsCast(T(c.Operand.Type), adj), into);
                    return;
                case MathCall m:
                    {
                        var partials = DerivativeRules.Partials(m);
                        for (int i = 0; i < m.Args.Count; i++) Contribute(m.Args[i], adj, partials[i], into);
                        return;
                    }
            }
        }

        /// <summary>Propagates adj · partial into arg; a conditional partial (a selection) becomes a branch.</summary>
        private void Contribute(Expr arg, CsExpr adj, Expr? partial, Contribs into)
        {
            if (partial == null || !_a.IsActiveExpr(arg) || DerivativeRules.IsZero(partial)) return;
            if (partial is Conditional c)
            {
                var condition = Simplifier.Simplify(P(c.Condition));
                if (Simplifier.Truth(condition) is bool known)
                {
                    Contribute(arg, adj, known ? c.WhenTrue : c.WhenFalse, into);
                    return;
                }
                var then = new Contribs();
                Contribute(arg, adj, c.WhenTrue, then);
                var els = new Contribs();
                Contribute(arg, adj, c.WhenFalse, els);
                if (then.Items.Count == 0 && els.Items.Count == 0) return;
                into.Items.Add(new Branch(condition, then, els));
                return;
            }
            Propagate(arg, Bin("*", adj, P(partial)), into);
        }

        private static bool IsSimple(CsExpr e) =>
            e is CsName || e is CsLiteral || e is CsUnary u && u.Op == CsUnaryOp.Neg && (u.Operand is CsName || u.Operand is CsLiteral);

        /// <summary>
        /// The statements of collected contributions. With <paramref name="deferred"/>, the accumulations of
        /// this level are merged per target and written after the temporaries and branches (as one
        /// read-modify-write per target); branches always merge within themselves. Branches on the same
        /// condition in a row become one if/else.
        /// </summary>
        private List<CsStmt> Flush(Contribs c, bool deferred)
        {
            var result = new List<CsStmt>();
            var accs = new List<Accumulation>();
            foreach (var item in c.Items)
            {
                switch (item)
                {
                    case CsStmt s:
                        result.Add(s);
                        break;
                    case Branch b:
                        {
                            var then = Flush(b.Then, deferred: true);
                            var els = Flush(b.Else, deferred: true);
                            if (result.Count > 0 && result[result.Count - 1] is CsIf prev && prev.Condition.Equals(b.Condition))
                            {
                                result[result.Count - 1] = new CsIf(prev.Condition, Block(prev.Then.Stmts.Concat(then)),
                                    prev.Else == null && els.Count == 0 ? null : Block((prev.Else?.Stmts ?? EquatableArray<CsStmt>.Empty).Concat(els)));
                            }
                            else if (then.Count == 0) result.Add(new CsIf(Not(b.Condition), Block(els), null));
                            else result.Add(new CsIf(b.Condition, Block(then), els.Count > 0 ? Block(els) : null));
                            break;
                        }
                    case Accumulation a:
                        if (deferred) accs.Add(a);
                        else result.Add(WriteAccumulate(a.Target, new[] { a.Value }));
                        break;
                }
            }
            foreach (var group in accs.GroupBy(a => CsPrinter.Expr(a.Target)))
                result.Add(WriteAccumulate(group.First().Target, group.Select(a => a.Value).ToList()));
            return result;
        }

        /// <summary>
        /// target += v1 + v2 + …; the first contribution to an adjoint known to be zero is an assignment: the
        /// JIT keeps x += e on a zero it cannot see as an add, which was 15 % of a bilinear sample's reverse.
        /// Emission order is execution order within a block's reverse (a conditional contribution that did not
        /// run left the adjoint zero, one that ran was itself first), and loops inside the block end the knowledge.
        /// </summary>
        private CsStmt WriteAccumulate(CsExpr target, IReadOnlyList<CsExpr> values)
        {
            bool first = _zeroBars.Remove(CsPrinter.Expr(target));
            CsExpr sum = values[0];
            for (int i = 1; i < values.Count; i++) sum = Bin("+", sum, values[i]);
            sum = Simplifier.Simplify(sum);
            if (!first && sum is CsUnary neg && neg.Op == CsUnaryOp.Neg) return new CsAssign(target, "-=", neg.Operand);
            return new CsAssign(target, first ? "=" : "+=", sum);
        }

        /// <summary>
        /// Adjoints of the block's single-assignment locals, which are zero when the reverse of the block
        /// starts: every earlier run of it ended with the reverse of the local's one assignment, which reads
        /// and clears the adjoint. Their first contribution is an assignment, not an addition.
        /// </summary>
        private List<string> BlockLocalBars(Block b)
        {
            var bars = new List<string>();
            foreach (var c in b.Stmts)
                if (c is Assign a && a.Declares && a.Target is VarRef t && _vars[t.Var].Storage == Storage.Scalar && _a.Active[t.Var]
                    && _singleAssignment.Contains(t.Var) && _bar.TryGetValue(t.Var, out var bar) && !_paramAccumulator.ContainsKey(t.Var))
                    bars.Add(bar);
            return bars;
        }
    }
}
