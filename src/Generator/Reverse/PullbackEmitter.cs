using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Reverse
{
    /// <summary>
    /// Builds <c>{Name}Pullback</c>: a forward sweep (the primal code, with the tape pushes the
    /// analysis asked for) followed by a reverse sweep (the statements in reverse order, each
    /// restoring what it overwrote and propagating adjoints to its operands).
    /// </summary>
    internal sealed class PullbackEmitter
    {
        private readonly MethodModel _m;
        private readonly IReadOnlyList<Var> _vars;
        private readonly IReadOnlyList<Callee> _callees;
        private readonly Block _body;
        private readonly Analyzer _a;
        private readonly ExprPrinter _p;
        private readonly Dictionary<int, string> _bar = new Dictionary<int, string>();
        private readonly Dictionary<int, string> _paramAccumulator = new Dictionary<int, string>();
        private readonly NameSet _names;
        // Reassigned per half of a split pullback, so each half declares only the stacks it uses.
        private SortedSet<Ty> _tapes = new SortedSet<Ty>();
        private SortedSet<Ty> _refTapes = new SortedSet<Ty>();
        private readonly Dictionary<int, string> _loopCount = new Dictionary<int, string>();
        private readonly Dictionary<int, string> _loopStart = new Dictionary<int, string>();
        private readonly List<(string Name, Ty Type)> _slots = new List<(string, Ty)>();

        /// <summary>
        /// Whether the pullback is emitted in two halves ({Name}PullbackForward/{Name}PullbackReverse,
        /// sharing a DiffGen.Tape) behind the public {Name}Pullback (MethodAnalysis.HasHalves). Scalar
        /// functions such as an interpolation called once per cell keep the single-method form.
        /// </summary>
        private readonly bool _split;

        /// <summary>The tape parameter of the halves (split pullbacks only).</summary>
        private readonly string _tape = "";

        /// <summary>Calls run as the callee's two halves (see MethodAnalysis.SplitCalls).</summary>
        private readonly HashSet<int> _splitCalls;

        /// <summary>Whether some split call goes to generated halves, which share the caller's tape.</summary>
        private readonly bool _callsHalves;
        private int _temp;

        private readonly bool _dual;

        private PullbackEmitter(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, bool dual = false)
        {
            _dual = dual;
            _m = m;
            _callees = callees;
            _body = analysis.Body;
            _vars = analysis.Vars;
            // The dual pullback re-runs every callee (no halves on dual numbers).
            _a = dual ? analysis.JointAnalyzer : analysis.Analyzer;
            _p = new ExprPrinter(_vars, dual);
            _names = new NameSet(_vars.Select(v => v.Name));
            CollectCounters(_body, _counters);
            var assignments = new Dictionary<int, int>();
            CountAssignments(_body, assignments);
            _singleAssignment = new HashSet<int>(assignments.Where(kv => kv.Value == 1).Select(kv => kv.Key));
            _split = !dual && MethodAnalysis.HasHalves(m, _vars);
            _splitCalls = dual ? new HashSet<int>() : analysis.SplitCalls;
            // A tape is needed for the halves and for generated callees' halves (a hand-written reverse half takes none).
            _callsHalves = AllCalls(_body).Any(c => _splitCalls.Contains(c.Id) && callees[c.Callee].SplitCapable);
            // The tape also pools the large scratch arrays (array locals, their adjoints, saved outputs), so
            // every non-dual pullback reserves the name; single-method pullbacks rent it only when they use it.
            if (!dual) _tape = Fresh("_tape");
        }

        /// <summary>An expression for a zeroed T[length]: from the tape's pool (not on dual numbers, which have no tape).</summary>
        private string NewArray(Ty elem, string length) =>
            _dual ? "new " + T(elem) + "[" + length + "]" : _tape + ".NewArray<" + T(elem) + ">(" + length + ")";

        /// <summary>Counters of counted loops: declared in the loops themselves, as in the source.</summary>
        private readonly HashSet<int> _counters = new HashSet<int>();

        internal static void CollectCounters(Stmt s, HashSet<int> counters)
        {
            if (s is Loop l && l.IsCanonical()) counters.Add(l.Counter());
            foreach (var c in Structurizer.Children(s)) CollectCounters(c, counters);
        }

        public Analyzer Analysis => _a;

        /// <summary>
        /// Emits <c>{Name}PullbackDual</c>, the pullback over <c>DiffGen.Dual</c> numbers (forward over
        /// reverse: Hessian-vector products), or null when the method uses float, MathF, or calls a
        /// method without a dual pullback.
        /// </summary>
        public static string? EmitDual(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, out string? whyNot)
        {
            whyNot = null;
            var e = new PullbackEmitter(m, callees, analysis, dual: true);
            if (m.ReturnType == Ty.Float || e._vars.Any(v => v.Elem == Ty.Float))
                whyNot = "it uses float (dual numbers are double)";
            else if (callees.FirstOrDefault(c => !c.DualCapable) is Callee c)
                whyNot = "it calls '" + c.Name + "', which has no dual pullback (a hand-written derivative, float code, or another assembly)";
            else if (UsesUnsupportedDual(e._body))
                whyNot = "it uses MathF, a cast to float, or a helper called with double arguments";
            return whyNot == null ? e.EmitMethod(out _) : null;
        }

        private static bool UsesUnsupportedDual(Stmt s)
        {
            bool Bad(Expr x)
            {
                switch (x)
                {
                    case MathCall mc: return mc.IsMathF || mc.Args.Any(Bad);
                    case Opaque o: return o.Args.Any(a => a.Type == Ty.Double || a.Type == Ty.Float) || o.Args.Any(Bad);
                    case Unary u: return Bad(u.Operand);
                    case Binary b: return Bad(b.Left) || Bad(b.Right);
                    case Conditional c: return Bad(c.Condition) || Bad(c.WhenTrue) || Bad(c.WhenFalse);
                    case Cast c: return c.Type == Ty.Float || Bad(c.Operand);
                    case ElemRef el: return Bad(el.Index);
                    default: return false;
                }
            }
            switch (s)
            {
                case Assign a: return Bad(a.Target) || Bad(a.Value);
                case Alloc al: return Bad(al.Length);
                case If i: return Bad(i.Condition) || UsesUnsupportedDual(i.Then) || UsesUnsupportedDual(i.Else);
                case Loop l: return Bad(l.Condition) || UsesUnsupportedDual(l.Init) || UsesUnsupportedDual(l.Body) || UsesUnsupportedDual(l.Step());
                case Block b: return b.Stmts.Any(UsesUnsupportedDual);
                case Call c: return c.Args.Any(Bad);
                default: return false;
            }
        }

        /// <summary>Emits the pullback method (without the surrounding type declarations).</summary>
        public static string Emit(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, out string summary)
        {
            var e = new PullbackEmitter(m, callees, analysis);
            return e.EmitMethod(out summary);
        }

        private string Fresh(string hint) => _names.Fresh(hint);

        private string Temp() => Fresh("_t" + (_temp++).ToString(CultureInfo.InvariantCulture));

        private string T(Ty t) => _dual && t == Ty.Double ? "global::DiffGen.Dual" : ExprPrinter.TypeName(t);

        private string Tape(Ty t)
        {
            if (t == Ty.Other)
                throw new System.NotSupportedException("a value of an inactive type would have to be recorded (a local of such a type assigned in a loop from values the loop changes); compute it from the loop's inputs or hoist it out of the loop");
            _tapes.Add(t);
            return TapeName(t);
        }

        private static string TapeName(Ty t) => "_tape" + char.ToUpperInvariant(ExprPrinter.TypeName(t)[0]) + ExprPrinter.TypeName(t).Substring(1);

        private string RefTape(Ty t)
        {
            _refTapes.Add(t);
            return RefTapeName(t);
        }

        private static string RefTapeName(Ty t) => "_arrays" + char.ToUpperInvariant(ExprPrinter.TypeName(t)[0]) + ExprPrinter.TypeName(t).Substring(1);

        private static string Zero(Ty t)
        {
            switch (t)
            {
                case Ty.Double: return "0.0";
                case Ty.Float: return "0f";
                case Ty.Bool: return "false";
                case Ty.Long: return "0L";
                default: return "0";
            }
        }

        private string ParamType(Var v)
        {
            switch (v.Storage)
            {
                case Storage.Span: return "global::System.Span<" + T(v.Elem) + ">";
                case Storage.ReadOnlySpan: return "global::System.ReadOnlySpan<" + T(v.Elem) + ">";
                case Storage.Array: return T(v.Elem) + "[]";
                default: return v.Elem == Ty.Other ? v.TypeName! : T(v.Elem);
            }
        }

        private string P(Expr e) => _p.Print(e);

        private string P(Expr e, int prec, bool right = true) => _p.Print(e, prec, right);

        // ------------------------------------------------------------------ method

        private string EmitMethod(out string summary)
        {
            var parms = _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex).ToList();
            var sig = new List<string>();
            // The arguments that pass the adjoint parameters on (the public pullback calls its reverse half).
            var adjointArgs = new List<string>();
            foreach (var v in parms) sig.Add(ParamType(v) + " " + v.Name);
            bool realResult = _m.ReturnType == Ty.Double || _m.ReturnType == Ty.Float;
            string? resultBarParam = null;
            if (realResult)
            {
                resultBarParam = Fresh("resultBar");
                sig.Add(T(_m.ReturnType) + " " + resultBarParam);
                adjointArgs.Add(resultBarParam);
            }
            var assignedParams = new HashSet<int>();
            CollectAssigned(_body, assignedParams);
            foreach (var v in parms)
            {
                if (!v.IsReal || v.NoDiff) continue;
                string bar = Fresh(v.Name + "Bar");
                if (v.IsScalar)
                {
                    // The adjoint is built in a local and added to the ref parameter at the end: a local stays
                    // in a register in hot loops, and a body that reassigns the parameter may clear it.
                    sig.Add("ref " + T(v.Elem) + " " + bar);
                    adjointArgs.Add("ref " + bar);
                    var local = Fresh(v.Name + "Adj");
                    _paramAccumulator[v.Id] = bar;
                    _bar[v.Id] = local;
                }
                else
                {
                    sig.Add("global::System.Span<" + T(v.Elem) + "> " + bar);
                    adjointArgs.Add(bar);
                    _bar[v.Id] = bar;
                }
            }
            foreach (var v in _vars)
            {
                if (v.Role == VarRole.Param || !_a.Active[v.Id]) continue;
                if (v.Id == _a.ResultVar && resultBarParam != null) { _bar[v.Id] = resultBarParam; continue; }
                _bar[v.Id] = Fresh(v.Name.TrimStart('_') + "Bar");
            }

            // Sweeps first: they decide which tapes and slots are needed.
            var fwdTapes = _tapes;
            var fwdRefTapes = _refTapes;
            var fwd = new CodeWriter();
            EmitForward(_body, fwd);
            var restored = _a.RestoredParams.OrderBy(x => x).ToList();
            if (_splitCalls.Count > 0)
            {
                // A callee's reverse half leaves the spans it wrote as its own restores left them.
                foreach (var c in AllCalls(_body).Where(c => _splitCalls.Contains(c.Id)))
                    for (int k = 0; k < c.Args.Count; k++)
                        if (c.Args[k] is VarRef r && _vars[r.Var].Role == VarRole.Param && _vars[r.Var].IsWritableSpan && _callees[c.Callee].Params[k].Writes && !restored.Contains(r.Var))
                            restored.Add(r.Var);
                restored.Sort();
            }
            var finals = new Dictionary<int, string>();
            foreach (var r in restored) finals[r] = Fresh(_vars[r].Name + "Final");
            var revTapes = _tapes = new SortedSet<Ty>();
            var revRefTapes = _refTapes = new SortedSet<Ty>();
            var rev = new CodeWriter();
            EmitReverse(_body, rev);
            foreach (var kv in _paramAccumulator) rev.Line(kv.Value + " += " + _bar[kv.Key] + ";");

            // Locals the sweeps share, declared at the top (counters and recomputed locals are declared where
            // the source declares them).
            var locals = _vars.Where(v => v.Role != VarRole.Param && !_counters.Contains(v.Id) && !_a.Recomputed.Contains(v.Id)).ToList();
            var adjointDeclarations = new CodeWriter();
            foreach (var v in _vars)
            {
                if (!_bar.TryGetValue(v.Id, out var bar)) continue;
                if (v.Role == VarRole.Param && !_paramAccumulator.ContainsKey(v.Id)) continue;
                if (v.Id == _a.ResultVar && bar == resultBarParam) continue;
                if (v.Storage == Storage.Scalar) adjointDeclarations.Line(T(v.Elem) + " " + bar + " = " + Zero(v.Elem) + ";");
                else adjointDeclarations.Line(T(v.Elem) + "[] " + bar + " = global::System.Array.Empty<" + T(v.Elem) + ">();");
            }
            var checks = new CodeWriter();
            foreach (var v in parms)
            {
                // A short adjoint span would make the reverse sweep fail half-way: check up front.
                if (v.IsScalar || !_bar.TryGetValue(v.Id, out var sb)) continue;
                checks.Line("if (" + sb + ".Length != " + v.Name + ".Length) throw new global::System.ArgumentException(\"" + sb + " must have the length of " + v.Name + " (\" + " + v.Name + ".Length + \").\", nameof(" + sb + "));");
            }

            // The scratch arrays go back to the tape's pool when the reverse sweep is done with them: the array
            // locals (an array re-allocated in a loop leaves only its first instance here; the others are the
            // garbage collector's) and their adjoints.
            var recycle = new CodeWriter();
            if (!_dual)
                foreach (var v in _vars.Where(v => v.Role != VarRole.Param && v.Storage == Storage.Array))
                {
                    recycle.Line(_tape + ".Recycle(" + v.Name + ");");
                    if (_bar.TryGetValue(v.Id, out var vb) && _a.Active[v.Id]) recycle.Line(_tape + ".Recycle(" + vb + ");");
                }
            bool rentsTape = _callsHalves || !_dual && (recycle.ToString().Length > 0 || restored.Count > 0);

            var w = new CodeWriter();
            string access = _m.Accessibility;
            string returnType = T(_m.ReturnType);
            if (_dual)
                w.Line("/// <summary>The pullback of <see cref=\"" + _m.Name + "\"/> on dual numbers: seed the inputs' tangents with v and read H·v from the adjoints' tangents (see docs/generated-code.md).</summary>");
            else
                w.Line("/// <summary>Reverse-mode derivative of <see cref=\"" + _m.Name + "\"/>: re-runs it, returns its result, and propagates adjoints (see docs/generated-code.md).</summary>");
            // A scalar function the user asked to inline (an interpolation called per cell) gets the same
            // request on its pullback, which the reverse sweeps of its callers call per cell.
            if (!_split && _m.InliningAttribute != null) w.Line(_m.InliningAttribute);
            w.Open(access + " static " + returnType + " " + _m.Name + (_dual ? "PullbackDual(" : "Pullback(") + string.Join(", ", sig) + ")");
            if (!_split)
            {
                _tapes = new SortedSet<Ty>(fwdTapes.Concat(revTapes));
                _refTapes = new SortedSet<Ty>(fwdRefTapes.Concat(revRefTapes));
                // No 'using': a try/finally around the sweeps would keep the JIT from enregistering their locals.
                // The buffers go back to the pool at the end; if the method throws, the GC reclaims them.
                foreach (var t in _tapes) w.Line("var " + TapeName(t) + " = new global::DiffGen.CompilerServices.ValueStack<" + T(t) + ">();");
                foreach (var t in _refTapes) w.Line("var " + RefTapeName(t) + " = new global::DiffGen.CompilerServices.RefStack<" + T(t) + "[]>();");
                if (rentsTape) w.Line("var " + _tape + " = global::DiffGen.Tape.Rent();");
                foreach (var v in locals) w.Line(Declaration(v, null));
                w.Append(adjointDeclarations);
                w.Append(checks);
                foreach (var (name, type) in _slots) w.Line(T(type) + " " + name + " = 0;");
                w.Line("// Forward sweep");
                w.Append(fwd);
                foreach (var r in restored) w.Line(SaveFinal(r, finals[r]));
                w.Line("// Reverse sweep");
                w.Append(rev);
                foreach (var r in restored) RestoreFinal(w, r, finals[r]);
                w.Append(recycle);
                foreach (var t in _tapes) w.Line(TapeName(t) + ".Dispose();");
                if (rentsTape) w.Line(_tape + ".Return();");
                if (_a.ResultVar >= 0) w.Line("return " + _vars[_a.ResultVar].Name + ";");
                w.Close();
            }
            else
            {
                // The public pullback runs the two halves back to back on a tape of its own.
                var paramNames = parms.Select(v => v.Name).ToList();
                w.Append(checks);
                string tape = _tape;
                w.Line("var " + tape + " = global::DiffGen.Tape.Rent();");
                string? result = _m.ReturnType == Ty.Void ? null : Fresh("_primal");
                w.Line((result != null ? "var " + result + " = " : "") + _m.Name + "PullbackForward(" + string.Join(", ", paramNames.Concat(new[] { tape })) + ");");
                foreach (var r in restored) w.Line(SaveFinal(r, finals[r]));
                w.Line(_m.Name + "PullbackReverse(" + string.Join(", ", paramNames.Concat(adjointArgs).Concat(new[] { tape })) + ");");
                foreach (var r in restored) RestoreFinal(w, r, finals[r]);
                w.Line(tape + ".Return();");
                if (result != null) w.Line("return " + result + ";");
                w.Close();

                // What the reverse half needs from the forward half goes on the tape: the shared locals and
                // loop slots, and the final contents of written span parameters that the reverse sweep reads
                // (the caller may overwrite them between the halves).
                var savedSpans = parms.Where(v => v.IsWritableSpan && _a.ReverseReadVars.Contains(v.Id) && WritesVar(_body, v.Id)).ToList();
                _tapes = fwdTapes;
                _refTapes = fwdRefTapes;
                var save = new CodeWriter();
                foreach (var v in savedSpans) save.Line(Tape(v.Elem) + ".PushSpan(" + v.Name + ");");
                foreach (var v in locals) save.Line((v.Elem == Ty.Other ? tape + ".Objects" : v.IsScalar ? Tape(v.Elem) : RefTape(v.Elem)) + ".Push(" + v.Name + ");");
                foreach (var (name, type) in _slots) save.Line(Tape(type) + ".Push(" + name + ");");
                _tapes = revTapes;
                _refTapes = revRefTapes;
                var load = new CodeWriter();
                for (int k = _slots.Count - 1; k >= 0; k--) load.Line(T(_slots[k].Type) + " " + _slots[k].Name + " = " + Tape(_slots[k].Type) + ".Pop();");
                for (int k = locals.Count - 1; k >= 0; k--)
                    load.Line(Declaration(locals[k], locals[k].Elem == Ty.Other ? "(" + locals[k].TypeName + ")" + tape + ".Objects.Pop()"
                        : (locals[k].IsScalar ? Tape(locals[k].Elem) : RefTape(locals[k].Elem)) + ".Pop()"));
                for (int k = savedSpans.Count - 1; k >= 0; k--) load.Line(Tape(savedSpans[k].Elem) + ".PopSpan(" + savedSpans[k].Name + ");");

                var fsig = parms.Select(v => ParamType(v) + " " + v.Name).Concat(new[] { "global::DiffGen.Tape " + tape });
                w.Line();
                w.Line("/// <summary>The forward half of <see cref=\"" + _m.Name + "Pullback\"/>: runs <see cref=\"" + _m.Name + "\"/> and records on the tape what the reverse half needs.</summary>");
                w.Open("internal static " + returnType + " " + _m.Name + "PullbackForward(" + string.Join(", ", fsig) + ")");
                foreach (var t in fwdTapes) w.Line("var " + TapeName(t) + " = " + tape + "." + StackProperty(t, false) + ";");
                foreach (var t in fwdRefTapes) w.Line("var " + RefTapeName(t) + " = " + tape + "." + StackProperty(t, true) + ";");
                foreach (var v in locals) w.Line(Declaration(v, null));
                foreach (var (name, type) in _slots) w.Line(T(type) + " " + name + " = 0;");
                w.Append(fwd);
                w.Append(save);
                if (_a.ResultVar >= 0) w.Line("return " + _vars[_a.ResultVar].Name + ";");
                w.Close();

                w.Line();
                w.Line("/// <summary>The reverse half of <see cref=\"" + _m.Name + "Pullback\"/>: propagates adjoints from the state and tape the forward half left.</summary>");
                w.Open("internal static void " + _m.Name + "PullbackReverse(" + string.Join(", ", sig.Concat(new[] { "global::DiffGen.Tape " + tape })) + ")");
                foreach (var t in revTapes) w.Line("var " + TapeName(t) + " = " + tape + "." + StackProperty(t, false) + ";");
                foreach (var t in revRefTapes) w.Line("var " + RefTapeName(t) + " = " + tape + "." + StackProperty(t, true) + ";");
                w.Append(load);
                w.Append(adjointDeclarations);
                w.Append(rev);
                w.Append(recycle);
                w.Close();
            }

            var activeIn = parms.Where(v => v.IsReal && !v.NoDiff).Select(v => v.Name).ToList();
            var activeOut = parms.Where(v => v.IsReal && !v.NoDiff && v.IsWritableSpan && WritesVar(_body, v.Id)).Select(v => v.Name).ToList();
            if (realResult) activeOut.Insert(0, "return value");
            var taped = _a.Pushes.Select(p => _vars[p.Var].Name).Distinct().OrderBy(x => x, System.StringComparer.Ordinal).ToList();
            var recomputed = _a.Recomputed.Select(v => _vars[v].Name).OrderBy(x => x, System.StringComparer.Ordinal).ToList();
            summary =
                "//   active inputs:  " + (activeIn.Count > 0 ? string.Join(", ", activeIn) : "(none)") + "\n" +
                "//   active outputs: " + (activeOut.Count > 0 ? string.Join(", ", activeOut) : "(none)") + "\n" +
                "//   taped values:   " + (taped.Count > 0 ? string.Join(", ", taped) : "(none)") +
                (_a.TapedConditions.Count > 0 ? "; " + _a.TapedConditions.Count.ToString(CultureInfo.InvariantCulture) + " branch decision(s)" : "") + "\n" +
                "//   recomputed:     " + (recomputed.Count > 0 ? string.Join(", ", recomputed) : "(none)") + "\n";
            return w.ToString();
        }

        private static IEnumerable<Call> AllCalls(Stmt s) =>
            s is Call c ? new[] { c } : Structurizer.Children(s).SelectMany(AllCalls);

        private string Declaration(Var v, string? value)
        {
            if (v.Elem == Ty.Other) return v.TypeName + " " + v.Name + " = " + (value ?? "default!") + ";";
            if (v.Storage == Storage.Scalar) return T(v.Elem) + " " + v.Name + " = " + (value ?? Zero(v.Elem)) + ";";
            return T(v.Elem) + "[] " + v.Name + " = " + (value ?? "global::System.Array.Empty<" + T(v.Elem) + ">()") + ";";
        }

        private string SaveFinal(int r, string final) =>
            _dual ? "var " + final + " = ((global::System.ReadOnlySpan<" + T(_vars[r].Elem) + ">)" + _vars[r].Name + ").ToArray();"
                  : "var " + final + " = " + _tape + ".CopyOf<" + T(_vars[r].Elem) + ">(" + _vars[r].Name + ");";

        private void RestoreFinal(CodeWriter w, int r, string final)
        {
            w.Line("((global::System.ReadOnlySpan<" + T(_vars[r].Elem) + ">)" + final + ").CopyTo(" + _vars[r].Name + ");");
            if (!_dual) w.Line(_tape + ".Recycle(" + final + ");");
        }

        /// <summary>The DiffGen.Tape property holding the stack of a value type (or of arrays of it).</summary>
        private static string StackProperty(Ty t, bool arrays)
        {
            string name = t == Ty.Double ? "Double" : t == Ty.Float ? "Float" : t == Ty.Int ? "Int" : t == Ty.Long ? "Long" : "Bool";
            return arrays ? name + "Arrays" : name + "s";
        }

        private static void CollectAssigned(Stmt s, HashSet<int> set)
        {
            switch (s)
            {
                case Assign a when a.Target is VarRef v: set.Add(v.Var); break;
                case Call c when c.ResultVar >= 0: set.Add(c.ResultVar); break;
            }
            foreach (var c in Structurizer.Children(s)) CollectAssigned(c, set);
        }

        private bool WritesVar(Stmt s, int var)
        {
            switch (s)
            {
                case Assign a when Analyzer.TargetVar(a.Target) == var: return true;
                case Call c:
                    var callee = _callees[c.Callee];
                    for (int k = 0; k < c.Args.Count; k++)
                        if (c.Args[k] is VarRef v && v.Var == var && callee.Params[k].Writes && callee.Params[k].Storage != Storage.Scalar) return true;
                    return false;
            }
            return Structurizer.Children(s).Any(c => WritesVar(c, var));
        }

        // ------------------------------------------------------------------ forward sweep

        private bool Pushed(int stmt, int var) => _a.Pushes.Contains((stmt, var));

        private bool Nested(Loop l) => _a.LoopDepth(l.Id) > 0;

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

        private string? StartSlot(Loop l)
        {
            if (!l.IsCanonical() || l.Start() is Lit) return null;
            if (!_loopStart.TryGetValue(l.Id, out var s))
            {
                s = Fresh("_s" + _loopStart.Count.ToString(CultureInfo.InvariantCulture));
                _loopStart[l.Id] = s;
                _slots.Add((s, _vars[l.Counter()].Elem));
            }
            return s;
        }

        private string StepText(Loop l)
        {
            string i = _vars[l.Counter()].Name;
            if (l.StepValue() == 1) return i + "++";
            if (l.StepValue() == -1) return i + "--";
            return l.StepValue() > 0 ? i + " += " + l.StepValue().ToString(CultureInfo.InvariantCulture) : i + " -= " + (-l.StepValue()).ToString(CultureInfo.InvariantCulture);
        }

        private void EmitForward(Stmt s, CodeWriter w)
        {
            switch (s)
            {
                case Block b:
                    foreach (var c in b.Stmts) EmitForward(c, w);
                    break;
                case Assign a:
                    {
                        int tv = Analyzer.TargetVar(a.Target);
                        if (Pushed(a.Id, tv)) w.Line(Tape(a.Target.Type) + ".Push(" + P(a.Target) + ");");
                        string declare = a.Declares && _a.Recomputed.Contains(tv) ? T(a.Target.Type) + " " : "";
                        w.Line(declare + P(a.Target) + " = " + P(a.Value) + ";");
                        break;
                    }
                case Alloc al:
                    {
                        var v = _vars[al.Var];
                        if (Pushed(al.Id, al.Var)) w.Line(RefTape(v.Elem) + ".Push(" + v.Name + ");");
                        w.Line(v.Name + " = " + NewArray(v.Elem, P(al.Length)) + ";");
                        break;
                    }
                case If i:
                    {
                        bool taped = _a.TapedConditions.Contains(i.Id);
                        // The decision is pushed after the branch's own pushes, so the reverse sweep pops it first.
                        w.Open("if (" + P(i.Condition) + ")");
                        EmitForward(i.Then, w);
                        if (taped) w.Line(Tape(Ty.Bool) + ".Push(true);");
                        w.Close();
                        if (taped || i.Else.Stmts.Count > 0)
                        {
                            w.Open("else");
                            EmitForward(i.Else, w);
                            if (taped) w.Line(Tape(Ty.Bool) + ".Push(false);");
                            w.Close();
                        }
                        break;
                    }
                case Loop l:
                    {
                        if (_a.ComputedTrips.ContainsKey(l.Id))
                        {
                            // The reverse sweep recomputes the trip count: nothing to record.
                            foreach (var c in l.Init.Stmts) EmitForward(c, w);
                            string ci = _vars[l.Counter()].Name;
                            w.Open("for (" + T(_vars[l.Counter()].Elem) + " " + ci + " = " + P(l.Start()!) + "; " + P(l.Condition) + "; " + StepText(l) + ")");
                            EmitForward(l.Body, w);
                            w.Close();
                            break;
                        }
                        string n = CountSlot(l);
                        if (l.IsCanonical())
                        {
                            foreach (var c in l.Init.Stmts) EmitForward(c, w);
                            string? slot = StartSlot(l);
                            string start = P(l.Start()!);
                            if (slot != null) { w.Line(slot + " = " + start + ";"); start = slot; }
                            w.Line(n + " = 0;");
                            string i = _vars[l.Counter()].Name;
                            w.Open("for (" + T(_vars[l.Counter()].Elem) + " " + i + " = " + start + "; " + P(l.Condition) + "; " + StepText(l) + ")");
                            w.Line(n + "++;");
                            EmitForward(l.Body, w);
                            w.Close();
                            if (Nested(l))
                            {
                                if (slot != null) w.Line(Tape(Ty.Int) + ".Push(" + CastToInt(slot, _vars[l.Counter()].Elem) + ");");
                                w.Line(Tape(Ty.Int) + ".Push(" + n + ");");
                            }
                        }
                        else
                        {
                            EmitForward(l.Init, w);
                            w.Line(n + " = 0;");
                            w.Open("while (" + P(l.Condition) + ")");
                            w.Line(n + "++;");
                            EmitForward(l.Body, w);
                            EmitForward(l.Step(), w);
                            w.Close();
                            if (Nested(l)) w.Line(Tape(Ty.Int) + ".Push(" + n + ");");
                        }
                        break;
                    }
                case Call c:
                    {
                        var callee = _callees[c.Callee];
                        for (int k = 0; k < c.Args.Count; k++)
                            if (c.Args[k] is VarRef v && callee.Params[k].Storage != Storage.Scalar && Pushed(c.Id, v.Var))
                                w.Line(Tape(_vars[v.Var].Elem) + ".PushSpan(" + _vars[v.Var].Name + ");");
                        if (c.ResultVar >= 0 && Pushed(c.Id, c.ResultVar))
                            w.Line(Tape(_vars[c.ResultVar].Elem) + ".Push(" + _vars[c.ResultVar].Name + ");");
                        string call = _dual ? DualPrimalCall(c, callee, w)
                            : _splitCalls.Contains(c.Id) && callee.SplitCapable ? callee.PullbackType + "." + callee.PullbackName + "Forward(" + string.Join(", ", c.Args.Select(x => P(x)).Concat(new[] { _tape })) + ")"
                            : callee.TypeName + "." + callee.Name + "(" + string.Join(", ", c.Args.Select(x => P(x))) + ")";
                        w.Line((c.ResultVar >= 0 ? _vars[c.ResultVar].Name + " = " : "") + call + ";");
                        break;
                    }
                case Throw t:
                    w.Line(t.Text);
                    break;
            }
        }

        /// <summary>
        /// On dual numbers there is no primal callee to call: its dual pullback with zero seeds computes
        /// the same outputs (and returns the result).
        /// </summary>
        private string DualPrimalCall(Call c, Callee callee, CodeWriter w)
        {
            var args = c.Args.Select(x => P(x)).ToList();
            if (callee.Return == Ty.Double) args.Add(Zero(Ty.Double));
            for (int k = 0; k < c.Args.Count; k++)
            {
                var p = callee.Params[k];
                if (!p.HasAdjoint) continue;
                if (p.Storage == Storage.Scalar)
                {
                    string t = Temp();
                    w.Line(T(p.Elem) + " " + t + " = " + Zero(p.Elem) + ";");
                    args.Add("ref " + t);
                }
                else
                {
                    args.Add("new " + T(p.Elem) + "[" + _vars[((VarRef)c.Args[k]).Var].Name + ".Length]");
                }
            }
            return callee.PullbackType + "." + callee.PullbackName + "Dual(" + string.Join(", ", args) + ")";
        }

        private static string CastToInt(string text, Ty t) => t == Ty.Long ? "(int)" + text : text;

        // ------------------------------------------------------------------ reverse sweep

        private string BarOf(Expr target) =>
            target is VarRef v ? _bar[v.Var] : _bar[((ElemRef)target).Var] + "[" + P(((ElemRef)target).Index) + "]";

        private void EmitReverse(Stmt s, CodeWriter w)
        {
            switch (s)
            {
                case Block b:
                    foreach (var c in b.Stmts)
                        if (c is Assign a && a.Declares && a.Target is VarRef t && _a.Recomputed.Contains(t.Var) && _a.ReverseReadVars.Contains(t.Var))
                            w.Line(T(t.Type) + " " + _vars[t.Var].Name + " = " + P(a.Value) + ";");
                    foreach (var c in b.Stmts)
                        if (c is Alloc al && _a.Active[al.Var])
                            w.Line(_bar[al.Var] + " = " + NewArray(_vars[al.Var].Elem, _vars[al.Var].Name + ".Length") + ";");
                    var fresh = BlockLocalBars(b);
                    _zeroBars.UnionWith(fresh);
                    for (int k = b.Stmts.Count - 1; k >= 0; k--)
                    {
                        // A nested loop may contribute several times, so its contributions must add; after a
                        // nested loop or branch the block's adjoints are no longer known to be zero.
                        if (!(b.Stmts[k] is Assign || b.Stmts[k] is Call || b.Stmts[k] is Alloc)) _zeroBars.ExceptWith(fresh);
                        EmitReverse(b.Stmts[k], w);
                    }
                    _zeroBars.ExceptWith(fresh);
                    break;
                case Assign a:
                    EmitReverseAssign(a, w);
                    break;
                case Alloc al:
                    if (Pushed(al.Id, al.Var)) w.Line(_vars[al.Var].Name + " = " + RefTape(_vars[al.Var].Elem) + ".Pop();");
                    break;
                case If i:
                    {
                        bool taped = _a.TapedConditions.Contains(i.Id);
                        var then = new CodeWriter();
                        EmitReverse(i.Then, then);
                        var els = new CodeWriter();
                        EmitReverse(i.Else, els);
                        bool thenEmpty = then.ToString().Length == 0, elseEmpty = els.ToString().Length == 0;
                        string cond = taped ? Tape(Ty.Bool) + ".Pop()" : P(i.Condition);
                        if (thenEmpty && elseEmpty)
                        {
                            if (taped) w.Line(cond + ";");
                            break;
                        }
                        if (thenEmpty)
                        {
                            w.Open("if (!" + (taped ? cond : "(" + cond + ")") + ")");
                            w.Append(els);
                            w.Close();
                            break;
                        }
                        w.Open("if (" + cond + ")");
                        w.Append(then);
                        w.Close();
                        if (!elseEmpty)
                        {
                            w.Open("else");
                            w.Append(els);
                            w.Close();
                        }
                        break;
                    }
                case Loop l:
                    EmitReverseLoop(l, w);
                    break;
                case Call c:
                    EmitReverseCall(c, w);
                    break;
            }
        }

        private void EmitReverseLoop(Loop l, CodeWriter w)
        {
            string n;
            string? slot;
            if (_a.ComputedTrips.TryGetValue(l.Id, out var trip))
            {
                // Start and bound have their loop-entry values here (the analysis keeps them restored).
                slot = null;
                n = Fresh("_trips");
                string start = P(l.Start()!, ExprPrinter.Additive, true), bound = P(trip.Bound, ExprPrinter.Additive, true);
                int a = System.Math.Abs(l.StepValue());
                string count;
                // bound - start, or just the bound when counting from 0.
                string span = start == "0" ? bound : "(" + bound + " - " + start + ")";
                switch (trip.Op)
                {
                    case BinOp.Lt: count = bound + " > " + start + " ? " + Div(a > 1 ? "(" + bound + " - " + start + " + " + (a - 1) + ")" : span, a) + " : 0"; break;
                    case BinOp.Le: count = bound + " >= " + start + " ? " + Div(span, a) + " + 1 : 0"; break;
                    case BinOp.Gt: count = start + " > " + bound + " ? " + Div("(" + start + " - " + bound + (a > 1 ? " + " + (a - 1) : "") + ")", a) + " : 0"; break;
                    default: count = start + " >= " + bound + " ? " + Div("(" + start + " - " + bound + ")", a) + " + 1 : 0"; break;
                }
                string cast = _vars[l.Counter()].Elem == Ty.Long ? "(int)(" : "(";
                w.Line("int " + n + " = " + cast + count + ");");
            }
            else
            {
                n = CountSlot(l);
                slot = StartSlot(l);
                if (Nested(l))
                {
                    w.Line(n + " = " + Tape(Ty.Int) + ".Pop();");
                    if (slot != null) w.Line(slot + " = " + Tape(Ty.Int) + ".Pop();");
                }
            }
            var body = new CodeWriter();
            if (l.IsCanonical())
            {
                EmitReverse(l.Body, body);
                if (body.ToString().Length > 0)
                {
                    string k = Fresh("_k");
                    string i = _vars[l.Counter()].Name;
                    string start = slot ?? P(l.Start()!, ExprPrinter.Additive, false);
                    string offset = l.StepValue() == 1 ? k : l.StepValue() == -1 ? k : k + " * " + System.Math.Abs(l.StepValue()).ToString(CultureInfo.InvariantCulture);
                    w.Open("for (int " + k + " = " + n + " - 1; " + k + " >= 0; " + k + "--)");
                    w.Line(T(_vars[l.Counter()].Elem) + " " + i + " = " + (start == "0" && l.StepValue() > 0 ? offset : start + (l.StepValue() > 0 ? " + " : " - ") + offset) + ";");
                    w.Append(body);
                    w.Close();
                }
                var init = l.Init.Stmts.ToList();
                for (int j = init.Count - 1; j >= 0; j--) EmitReverse(init[j], w);
            }
            else
            {
                EmitReverse(l.Step(), body);
                EmitReverse(l.Body, body);
                if (body.ToString().Length > 0)
                {
                    string k = Fresh("_k");
                    w.Open("for (int " + k + " = " + n + "; " + k + " > 0; " + k + "--)");
                    w.Append(body);
                    w.Close();
                }
                EmitReverse(l.Init, w);
            }
        }

        private static string Div(string numerator, int step) => step == 1 ? numerator : numerator + " / " + step.ToString(CultureInfo.InvariantCulture);

        private static bool SameExpr(Expr a, Expr b) => a.Equals(b);

        private void EmitReverseAssign(Assign a, CodeWriter w)
        {
            int tv = Analyzer.TargetVar(a.Target);
            bool active = _a.Active[tv];
            bool pushed = Pushed(a.Id, tv);
            if (!active)
            {
                if (pushed) w.Line(P(a.Target) + " = " + Tape(a.Target.Type) + ".Pop();");
                return;
            }
            // x = x + e (an accumulation) leaves x's adjoint unchanged and passes it on to e.
            if (!pushed && a.Value is Binary acc && (acc.Op == BinOp.Add || acc.Op == BinOp.Sub) && SameExpr(StripImplicit(acc.Left), a.Target))
            {
                if (_a.IsActiveExpr(acc.Right))
                {
                    string b = Temp();
                    w.Open();
                    w.Line(T(a.Target.Type) + " " + b + " = " + BarOf(a.Target) + ";");
                    Deferred(w, () => Propagate(acc.Right, acc.Op == BinOp.Sub ? "-" + b : b, w));
                    w.Close();
                }
                return;
            }
            if (!_a.IsActiveExpr(a.Value))
            {
                // A constant overwrites the target: its adjoint ends here.
                w.Line(BarOf(a.Target) + " = " + Zero(a.Target.Type) + ";");
                if (pushed) w.Line(P(a.Target) + " = " + Tape(a.Target.Type) + ".Pop();");
                return;
            }
            string bar = Temp();
            w.Open();
            w.Line(T(a.Target.Type) + " " + bar + " = " + BarOf(a.Target) + ";");
            w.Line(BarOf(a.Target) + " = " + Zero(a.Target.Type) + ";");
            if (pushed) w.Line(P(a.Target) + " = " + Tape(a.Target.Type) + ".Pop();");
            Deferred(w, () => Propagate(a.Value, bar, w));
            w.Close();
        }

        private static Expr StripImplicit(Expr e) => e is Cast c && c.Implicit ? StripImplicit(c.Operand) : e;

        private void EmitReverseCall(Call c, CodeWriter w)
        {
            if (_splitCalls.Contains(c.Id)) { EmitReverseSplitCall(c, w); return; }
            var callee = _callees[c.Callee];
            var inner = new CodeWriter();
            string? rb = null;
            if (c.ResultVar >= 0)
            {
                var rv = _vars[c.ResultVar];
                if (_a.Active[c.ResultVar])
                {
                    rb = Temp();
                    inner.Line(T(rv.Elem) + " " + rb + " = " + _bar[c.ResultVar] + ";");
                    inner.Line(_bar[c.ResultVar] + " = " + Zero(rv.Elem) + ";");
                }
                if (Pushed(c.Id, c.ResultVar)) inner.Line(rv.Name + " = " + Tape(rv.Elem) + ".Pop();");
            }
            for (int k = c.Args.Count - 1; k >= 0; k--)
                if (c.Args[k] is VarRef v && callee.Params[k].Storage != Storage.Scalar && Pushed(c.Id, v.Var))
                    inner.Line(Tape(_vars[v.Var].Elem) + ".PopSpan(" + _vars[v.Var].Name + ");");

            // The pullback re-runs the callee and rewrites its outputs; a restored output gets a copy so the
            // restored values stay.
            var (args, adjArgs, after, anyActive) = CallArguments(c, callee, inner, copyRestoredOutputs: true);
            anyActive |= rb != null;
            if (callee.Return == Ty.Double || callee.Return == Ty.Float)
                args.Add(rb ?? Zero(callee.Return));
            args.AddRange(adjArgs);
            if (anyActive)
            {
                inner.Line(callee.PullbackType + "." + callee.PullbackName + (_dual ? "Dual(" : "(") + string.Join(", ", args) + ");");
                foreach (var (arg, t) in after) Propagate(arg, t, inner);
            }
            if (inner.ToString().Length == 0) return;
            w.Open();
            w.Append(inner);
            w.Close();
        }

        /// <summary>
        /// The reverse of a call run as two halves: the callee's reverse half (which expects the state its
        /// forward half left and restores what it recorded), then the caller's own restores for the call.
        /// It runs even when nothing is active, because it pops what the forward half pushed.
        /// </summary>
        private void EmitReverseSplitCall(Call c, CodeWriter w)
        {
            var callee = _callees[c.Callee];
            var inner = new CodeWriter();
            var (args, adjArgs, after, _) = CallArguments(c, callee, inner, copyRestoredOutputs: false);
            args.AddRange(adjArgs);
            if (callee.SplitCapable)
            {
                args.Add(_tape);
                inner.Line(callee.PullbackType + "." + callee.PullbackName + "Reverse(" + string.Join(", ", args) + ");");
            }
            else
            {
                // A hand-written reverse half: the forward sweep ran the callee itself and recorded nothing.
                inner.Line(callee.ReverseType + "." + callee.ReverseName + "(" + string.Join(", ", args) + ");");
            }
            foreach (var (arg, t) in after) Propagate(arg, t, inner);
            for (int k = c.Args.Count - 1; k >= 0; k--)
                if (c.Args[k] is VarRef v && callee.Params[k].Storage != Storage.Scalar && Pushed(c.Id, v.Var))
                    inner.Line(Tape(_vars[v.Var].Elem) + ".PopSpan(" + _vars[v.Var].Name + ");");
            w.Open();
            w.Append(inner);
            w.Close();
        }

        /// <summary>
        /// The arguments of a callee's pullback (or reverse half) for one call: the primal arguments, and the
        /// adjoints of the active parameters (the caller's adjoint variables, or zeroed temporaries declared
        /// in <paramref name="inner"/> whose values <c>After</c> propagates to the argument expressions).
        /// </summary>
        private (List<string> Args, List<string> AdjArgs, List<(Expr Arg, string Temp)> After, bool AnyActive) CallArguments(Call c, Callee callee, CodeWriter inner, bool copyRestoredOutputs)
        {
            var args = new List<string>();
            var adjArgs = new List<string>();
            var after = new List<(Expr Arg, string Temp)>();
            bool anyActive = false;
            for (int k = 0; k < c.Args.Count; k++)
            {
                var p = callee.Params[k];
                var arg = c.Args[k];
                if (p.Storage == Storage.Scalar)
                {
                    args.Add(P(arg));
                    if (!p.HasAdjoint) continue;
                    if (arg is VarRef v && _a.Active[v.Var] && v.Type == p.Elem && _vars[v.Var].IsScalar)
                    {
                        adjArgs.Add("ref " + _bar[v.Var]);
                        _zeroBars.Remove(_bar[v.Var]); // the callee adds to it
                        anyActive = true;
                        continue;
                    }
                    string t = Temp();
                    inner.Line(T(p.Elem) + " " + t + " = " + Zero(p.Elem) + ";");
                    adjArgs.Add("ref " + t);
                    if (_a.IsActiveExpr(arg)) { after.Add((arg, t)); anyActive = true; }
                    continue;
                }
                var sv = _vars[((VarRef)arg).Var];
                if (copyRestoredOutputs && p.Writes && Pushed(c.Id, sv.Id))
                {
                    string copy = Temp();
                    inner.Line("var " + copy + " = ((global::System.ReadOnlySpan<" + T(sv.Elem) + ">)" + sv.Name + ").ToArray();");
                    args.Add(copy);
                }
                else
                {
                    args.Add(sv.Name);
                }
                if (!p.HasAdjoint) continue;
                if (_a.Active[sv.Id]) { adjArgs.Add(_bar[sv.Id]); anyActive = true; }
                else adjArgs.Add("new " + T(p.Elem) + "[" + sv.Name + ".Length]");
            }
            return (args, adjArgs, after, anyActive);
        }

        // ------------------------------------------------------------------ adjoint propagation

        private static bool IsSimple(string adj)
        {
            var s = adj.StartsWith("-") ? adj.Substring(1) : adj;
            return s.Length > 0 && s.All(ch => char.IsLetterOrDigit(ch) || ch == '_');
        }

        private static string Negate(string adj) => adj.StartsWith("-") ? adj.Substring(1) : "-" + adj;

        private static string Paren(string adj) => IsSimple(adj) && !adj.StartsWith("-") ? adj : "(" + adj + ")";

        /// <summary>Emits statements that add adj * d(e)/d(x) to the adjoint of every active x in e.</summary>
        private void Propagate(Expr e, string adj, CodeWriter w)
        {
            if (!_a.IsActiveExpr(e)) return;
            switch (e)
            {
                case VarRef v:
                    Accumulate(_bar[v.Var], adj, w);
                    return;
                case ElemRef el:
                    Accumulate(_bar[el.Var] + "[" + P(el.Index) + "]", adj, w);
                    return;
            }
            if (!IsSimple(adj))
            {
                string t = Temp();
                w.Line(T(e.Type) + " " + t + " = " + adj + ";");
                adj = t;
            }
            var ty = e.Type;
            switch (e)
            {
                case Unary u when u.Op == UnOp.Neg:
                    Propagate(u.Operand, Negate(adj), w);
                    return;
                case Binary b:
                    PropagateBinary(b, adj, w);
                    return;
                case Conditional c:
                    {
                        var t = new CodeWriter();
                        Propagate(c.WhenTrue, adj, t);
                        var f = new CodeWriter();
                        Propagate(c.WhenFalse, adj, f);
                        EmitIf(P(c.Condition), t, f, w);
                        return;
                    }
                case Cast c:
                    Propagate(c.Operand, "(" + T(c.Operand.Type) + ")" + Paren(adj), w);
                    return;
                case MathCall m:
                    PropagateMath(m, adj, w);
                    return;
            }
        }

        /// <summary>
        /// Contributions to the same adjoint within one statement's reverse are summed into one
        /// read-modify-write (u[i] * u[i], stencil centres): collected here, flushed at the end.
        /// </summary>
        private List<(string Target, string Adj)>? _deferred;

        private void Accumulate(string target, string adj, CodeWriter w)
        {
            if (_deferred != null && _deferredWriter == w)
            {
                _deferred.Add((target, adj));
                return;
            }
            WriteAccumulate(target, new[] { adj }, w);
        }

        private CodeWriter? _deferredWriter;

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

        /// <summary>Adjoints known to be zero at the current point of the reverse sweep (see <see cref="BlockLocalBars"/>).</summary>
        private readonly HashSet<string> _zeroBars = new HashSet<string>();

        /// <summary>Scalar locals assigned by exactly one statement (and never by a call or a loop header).</summary>
        private readonly HashSet<int> _singleAssignment;

        private static void CountAssignments(Stmt s, Dictionary<int, int> counts)
        {
            switch (s)
            {
                case Assign a when a.Target is VarRef t: counts[t.Var] = counts.TryGetValue(t.Var, out var n1) ? n1 + 1 : 1; break;
                case Call c when c.ResultVar >= 0: counts[c.ResultVar] = 2; break;
                case Loop l: counts[l.Counter()] = 2; break;
            }
            foreach (var c in Structurizer.Children(s)) CountAssignments(c, counts);
        }

        private void WriteAccumulate(string target, IReadOnlyList<string> adjs, CodeWriter w)
        {
            // The first contribution to an adjoint known to be zero is an assignment: the JIT keeps x += e on
            // a zero it cannot see as an add, which was 15 % of a bilinear sample's reverse. Emission order is
            // execution order within a block's reverse (a conditional contribution that did not run left the
            // adjoint zero, one that ran was itself first), and loops inside the block end the knowledge.
            bool first = _zeroBars.Remove(target);
            if (adjs.Count == 1 && adjs[0].StartsWith("-") && IsSimple(adjs[0])) { w.Line(target + (first ? " = " : " -= ") + (first ? adjs[0] : adjs[0].Substring(1)) + ";"); return; }
            var sb = new System.Text.StringBuilder();
            for (int i = 0; i < adjs.Count; i++)
            {
                var a = adjs[i];
                if (i == 0) sb.Append(a);
                else if (a.StartsWith("-") && IsSimple(a)) sb.Append(" - ").Append(a.Substring(1));
                else sb.Append(" + ").Append(a.StartsWith("-") ? "(" + a + ")" : a);
            }
            w.Line(target + (first ? " = " : " += ") + sb + ";");
        }

        /// <summary>Runs <paramref name="emit"/> with accumulations into <paramref name="w"/> merged per target.</summary>
        private void Deferred(CodeWriter w, System.Action emit)
        {
            var saved = _deferred;
            var savedWriter = _deferredWriter;
            _deferred = new List<(string, string)>();
            _deferredWriter = w;
            emit();
            var list = _deferred;
            _deferred = saved;
            _deferredWriter = savedWriter;
            foreach (var group in list.GroupBy(x => x.Target))
                WriteAccumulate(group.Key, group.Select(x => x.Adj).ToList(), w);
        }

        private static void EmitIf(string cond, CodeWriter then, CodeWriter els, CodeWriter w)
        {
            bool te = then.ToString().Length == 0, ee = els.ToString().Length == 0;
            if (te && ee) return;
            if (te)
            {
                w.Open("if (!(" + cond + "))");
                w.Append(els);
                w.Close();
                return;
            }
            w.Open("if (" + cond + ")");
            w.Append(then);
            w.Close();
            if (!ee)
            {
                w.Open("else");
                w.Append(els);
                w.Close();
            }
        }

        private void PropagateBinary(Binary b, string adj, CodeWriter w)
        {
            bool la = _a.IsActiveExpr(b.Left), ra = _a.IsActiveExpr(b.Right);
            string L(int prec) => P(b.Left, prec, true);
            string R(int prec) => P(b.Right, prec, true);
            switch (b.Op)
            {
                case BinOp.Add:
                    Propagate(b.Left, adj, w);
                    Propagate(b.Right, adj, w);
                    break;
                case BinOp.Sub:
                    Propagate(b.Left, adj, w);
                    Propagate(b.Right, Negate(adj), w);
                    break;
                case BinOp.Mul:
                    if (la) Propagate(b.Left, adj + " * " + R(ExprPrinter.Multiplicative), w);
                    if (ra) Propagate(b.Right, adj + " * " + L(ExprPrinter.Multiplicative), w);
                    break;
                case BinOp.Div:
                    if (la) Propagate(b.Left, adj + " / " + R(ExprPrinter.Multiplicative), w);
                    if (ra)
                    {
                        string r = R(ExprPrinter.Multiplicative);
                        Propagate(b.Right, "-(" + adj + " * " + L(ExprPrinter.Multiplicative) + " / (" + r + " * " + r + "))", w);
                    }
                    break;
                case BinOp.Mod:
                    if (la) Propagate(b.Left, adj, w);
                    if (ra) Propagate(b.Right, "-(" + adj + " * " + _p.MathOf(b.Type) + ".Truncate(" + P(b.Left) + " / " + R(ExprPrinter.Multiplicative) + "))", w);
                    break;
            }
        }

        private void PropagateMath(MathCall m, string adj, CodeWriter w)
        {
            var ty = m.Type;
            string M = _p.MathOf(ty);
            string C(string v) => ExprPrinter.Const(ty, v);
            string A(int i) => P(m.Args[i]);
            string Ap(int i) => P(m.Args[i], ExprPrinter.Multiplicative, true);
            var x = m.Args[0];
            switch (m.Function)
            {
                case MathFn.Sin: Propagate(x, adj + " * " + M + ".Cos(" + A(0) + ")", w); break;
                case MathFn.Cos: Propagate(x, "-(" + adj + " * " + M + ".Sin(" + A(0) + "))", w); break;
                case MathFn.Tan:
                    {
                        string c = Temp();
                        w.Line(T(ty) + " " + c + " = " + M + ".Cos(" + A(0) + ");");
                        Propagate(x, adj + " / (" + c + " * " + c + ")", w);
                        break;
                    }
                case MathFn.Exp: Propagate(x, adj + " * " + M + ".Exp(" + A(0) + ")", w); break;
                case MathFn.Log: Propagate(x, adj + " / " + Ap(0), w); break;
                case MathFn.Log10: Propagate(x, adj + " / (" + Ap(0) + " * " + C("2.302585092994046") + ")", w); break;
                case MathFn.Log2: Propagate(x, adj + " / (" + Ap(0) + " * " + C("0.6931471805599453") + ")", w); break;
                case MathFn.Sqrt: Propagate(x, adj + " / (" + C("2") + " * " + M + ".Sqrt(" + A(0) + "))", w); break;
                case MathFn.Cbrt:
                    {
                        string c = Temp();
                        w.Line(T(ty) + " " + c + " = " + M + ".Cbrt(" + A(0) + ");");
                        Propagate(x, adj + " / (" + C("3") + " * " + c + " * " + c + ")", w);
                        break;
                    }
                case MathFn.Tanh:
                    {
                        string t = Temp();
                        w.Line(T(ty) + " " + t + " = " + M + ".Tanh(" + A(0) + ");");
                        Propagate(x, adj + " * (" + C("1") + " - " + t + " * " + t + ")", w);
                        break;
                    }
                case MathFn.Sinh: Propagate(x, adj + " * " + M + ".Cosh(" + A(0) + ")", w); break;
                case MathFn.Cosh: Propagate(x, adj + " * " + M + ".Sinh(" + A(0) + ")", w); break;
                case MathFn.Atan: Propagate(x, adj + " / (" + C("1") + " + " + Ap(0) + " * " + Ap(0) + ")", w); break;
                case MathFn.Asin: Propagate(x, adj + " / " + M + ".Sqrt(" + C("1") + " - " + Ap(0) + " * " + Ap(0) + ")", w); break;
                case MathFn.Acos: Propagate(x, "-(" + adj + " / " + M + ".Sqrt(" + C("1") + " - " + Ap(0) + " * " + Ap(0) + "))", w); break;
                case MathFn.Abs: Propagate(x, adj + " * " + M + ".Sign(" + A(0) + ")", w); break;
                case MathFn.Min:
                case MathFn.Max:
                    {
                        var t = new CodeWriter();
                        Propagate(m.Args[0], adj, t);
                        var f = new CodeWriter();
                        Propagate(m.Args[1], adj, f);
                        EmitIf(P(m.Args[0], ExprPrinter.Relational - 1, false) + (m.Function == MathFn.Min ? " <= " : " >= ") + P(m.Args[1], ExprPrinter.Relational - 1, false), t, f, w);
                        break;
                    }
                case MathFn.Clamp:
                    {
                        // Math.Clamp(x, lo, hi) returns lo below the range, hi above it.
                        var lo = new CodeWriter();
                        Propagate(m.Args[1], adj, lo);
                        var hi = new CodeWriter();
                        Propagate(m.Args[2], adj, hi);
                        var mid = new CodeWriter();
                        Propagate(m.Args[0], adj, mid);
                        var inner = new CodeWriter();
                        EmitIf(Ap(0) + " > " + Ap(2), hi, mid, inner);
                        EmitIf(Ap(0) + " < " + Ap(1), lo, inner, w);
                        break;
                    }
                case MathFn.Atan2:
                    {
                        string r = Temp();
                        w.Line(T(ty) + " " + r + " = " + Ap(0) + " * " + Ap(0) + " + " + Ap(1) + " * " + Ap(1) + ";");
                        Propagate(m.Args[0], adj + " * " + Ap(1) + " / " + r, w);
                        Propagate(m.Args[1], "-(" + adj + " * " + Ap(0) + " / " + r + ")", w);
                        break;
                    }
                case MathFn.Pow:
                    {
                        if (_a.IsActiveExpr(m.Args[0]))
                            Propagate(m.Args[0], adj + " * " + Ap(1) + " * " + M + ".Pow(" + A(0) + ", " + P(m.Args[1], ExprPrinter.Additive, false) + " - " + C("1") + ")", w);
                        if (_a.IsActiveExpr(m.Args[1]))
                            Propagate(m.Args[1], "(" + Ap(0) + " > " + C("0") + " ? " + adj + " * " + M + ".Pow(" + A(0) + ", " + A(1) + ") * " + M + ".Log(" + A(0) + ") : " + C("0") + ")", w);
                        break;
                    }
                case MathFn.FusedMultiplyAdd:
                    Propagate(m.Args[0], adj + " * " + Ap(1), w);
                    Propagate(m.Args[1], adj + " * " + Ap(0), w);
                    Propagate(m.Args[2], adj, w);
                    break;
            }
        }
    }
}
