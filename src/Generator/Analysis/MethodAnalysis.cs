using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Analysis
{
    /// <summary>
    /// A method ready to differentiate: its structurized body, variables and analysis, computed once
    /// and shared by every emitter (pullback, pushforward, vector pushforward, dual pullback).
    /// </summary>
    internal sealed class MethodAnalysis
    {
        private MethodAnalysis(Block body, IReadOnlyList<Var> vars, Analyzer analyzer, Analyzer jointAnalyzer, HashSet<int> splitCalls)
        {
            Body = body;
            Vars = vars;
            Analyzer = analyzer;
            JointAnalyzer = jointAnalyzer;
            SplitCalls = splitCalls;
        }

        public Block Body { get; }

        public IReadOnlyList<Var> Vars { get; }

        /// <summary>The analysis for the pullback, which runs <see cref="SplitCalls"/> as two halves.</summary>
        public Analyzer Analyzer { get; }

        /// <summary>The analysis with every call re-run by its pullback (the dual pullback's mode).</summary>
        public Analyzer JointAnalyzer { get; }

        /// <summary>
        /// Calls (outside loops) whose callee's pullback runs as two halves (forward half in the forward sweep, reverse half
        /// in the reverse sweep) instead of being re-run in the reverse sweep: see <see cref="IsSplitCall"/>.
        /// </summary>
        public HashSet<int> SplitCalls { get; }

        /// <summary>
        /// Whether a method's pullback comes in two halves: a void method with a span or array parameter
        /// (the condition the lowerer's <c>Callee.SplitCapable</c> assumes of callees).
        /// </summary>
        public static bool HasHalves(MethodModel model, IReadOnlyList<Var> vars) =>
            model.ReturnType == Ty.Void && vars.Any(v => v.Role == VarRole.Param && (v.Storage == Storage.Span || v.Storage == Storage.ReadOnlySpan || v.Storage == Storage.Array))
            && !vars.Any(v => v.Role == VarRole.Param && v.Modifier != null);

        public static MethodAnalysis Of(MethodModel model, IReadOnlyList<Callee> callees)
        {
            var (body, vars, resultVar) = Structurizer.Run(model);
            var split = new HashSet<int>();
            foreach (var c in CallsOutsideLoops(body))
                if (IsSplitCall(c, callees)) split.Add(c.Id);
            var joint = new Analyzer(vars, callees, body, resultVar, new HashSet<int>());
            var analyzer = split.Count == 0 ? joint : new Analyzer(vars, callees, body, resultVar, split);
            return new MethodAnalysis(body, vars, analyzer, joint, split);
        }

        private static IEnumerable<Call> CallsOutsideLoops(Stmt s)
        {
            switch (s)
            {
                case Call c: yield return c; break;
                case Block b: foreach (var x in b.Stmts) foreach (var c in CallsOutsideLoops(x)) yield return c; break;
                case If i: foreach (var c in CallsOutsideLoops(i.Then).Concat(CallsOutsideLoops(i.Else))) yield return c; break;
            }
        }

        /// <summary>
        /// A call outside loops (run at most once per forward sweep) of a void callee with pullback halves
        /// (generated, or a hand-written reverse half registered with DerivativeKind.PullbackReverse). Not when a
        /// scalar argument reads a span the call writes: the callee's reverse half runs before the caller
        /// restores that span, so the argument would see its value after the call.
        /// </summary>
        private static bool IsSplitCall(Call c, IReadOnlyList<Callee> callees)
        {
            var callee = callees[c.Callee];
            bool halves = callee.SplitCapable || callee.ReverseName != null && callee.Return == Ty.Void;
            if (!halves || callee.PullbackName == null || c.ResultVar >= 0) return false;
            // An instance method that changes its object's state runs joint: the caller tapes the state around it.
            if (c.Receiver >= 0 && callee.UsesThis) return false;
            // So does a call passing numbers by ref or out: the caller tapes them around it the same way.
            if (callee.Params.Any(p => p.Modifier != null)) return false;
            var written = new HashSet<int>();
            for (int k = 0; k < c.Args.Count; k++)
                if (callee.Params[k].Storage != Storage.Scalar && callee.Params[k].Writes && c.Args[k] is VarRef v) written.Add(v.Var);
            for (int k = 0; k < c.Args.Count; k++)
                if (callee.Params[k].Storage == Storage.Scalar && Analyzer.AllVars(c.Args[k]).Any(written.Contains)) return false;
            return true;
        }
    }

    /// <summary>Fresh identifiers that collide neither with the method's names nor with each other.</summary>
    internal sealed class NameSet
    {
        private readonly HashSet<string> _names;

        public NameSet(IEnumerable<string> taken) => _names = new HashSet<string>(taken);

        /// <summary>The names taken so far (to undo an attempt with <see cref="Restore"/>).</summary>
        public HashSet<string> Save() => new HashSet<string>(_names);

        public void Restore(HashSet<string> saved)
        {
            _names.Clear();
            _names.UnionWith(saved);
        }

        public string Fresh(string hint)
        {
            string name = hint;
            for (int i = 2; _names.Contains(name); i++) name = hint + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _names.Add(name);
            return name;
        }
    }
}
