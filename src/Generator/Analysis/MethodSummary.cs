using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Pipeline;

namespace DiffGen.Generator.Analysis
{
    /// <summary>A callee of a summarised method: its table key and its name (for messages).</summary>
    internal sealed record CalleeRef(string Signature, string Name);

    /// <summary>
    /// A span or array parameter passed on, as argument <c>Param</c> of the method's callee number
    /// <c>Callee</c>. Fallback is what lowering assumed about that argument (used when the callee has no
    /// table entry: a hand-written derivative or a method of another assembly).
    /// </summary>
    internal sealed record PassedOn(int Callee, int Param, bool FallbackReads, bool FallbackWrites);

    /// <summary>How a method uses the contents of one parameter, from its own body.</summary>
    internal sealed record SpanUse(bool Reads, bool Writes, EquatableArray<PassedOn> PassedOn)
    {
        /// <summary>A scalar or read-only span: read, never written.</summary>
        public static readonly SpanUse ReadOnly = new SpanUse(true, false, EquatableArray<PassedOn>.Empty);
    }

    /// <summary>
    /// What callers need to know about a [Differentiable] method, computed from its own IR at lowering
    /// (no source positions, nothing of its callees): whether it uses float or a construct the dual
    /// pullback cannot print (<see cref="UsesUnsupportedDual"/>), whether its pullback has halves, how it uses each span
    /// parameter, which methods it calls, and which modes its attribute asks for (null: the project's
    /// default). <see cref="CapabilityTable"/> combines the summaries of a compilation.
    /// </summary>
    internal sealed record MethodSummary(
        string Signature,
        string Name,
        bool HasErrors,
        bool HasHalves,
        bool UsesFloat,
        bool DualUnprintable,
        EquatableArray<CalleeRef> Callees,
        EquatableArray<SpanUse> Params,
        DerivativeModes? Requested)
    {
        /// <summary>Summarises a lowered method.</summary>
        public static MethodSummary Of(MethodModel model, DerivativeModes? requested)
        {
            var uses = new SpanUseBuilder[model.ParamCount];
            foreach (var v in model.Vars)
                if (v.Role == VarRole.Param && v.IsWritableSpan && v.ParamIndex >= 0 && v.ParamIndex < uses.Length)
                    uses[v.ParamIndex] = new SpanUseBuilder();
            Visit(model.Body, model, uses);
            var paramsUse = new List<SpanUse>();
            for (int k = 0; k < uses.Length; k++)
                paramsUse.Add(uses[k] == null ? SpanUse.ReadOnly : new SpanUse(uses[k].Reads, uses[k].Writes, uses[k].PassedOn.ToEquatableArray()));
            return new MethodSummary(
                model.Signature, model.Name, model.HasErrors, MethodAnalysis.HasHalves(model, model.Vars),
                model.ReturnType == Ty.Float || model.Vars.Any(v => v.Elem == Ty.Float),
                UsesUnsupportedDual(model.Body),
                model.Callees.Select(c => new CalleeRef(c.Signature, c.Name)).ToEquatableArray(),
                paramsUse.ToEquatableArray(), requested);
        }

        private sealed class SpanUseBuilder
        {
            public bool Reads;
            public bool Writes;
            public readonly List<PassedOn> PassedOn = new List<PassedOn>();
        }

        /// <summary>
        /// Element reads and writes of span parameters, and spans passed on to callees. A span used any
        /// other way (as an argument of an inactive helper) is taken to be read and written.
        /// </summary>
        private static void Visit(Stmt s, MethodModel model, SpanUseBuilder?[] uses)
        {
            SpanUseBuilder? Use(int var) =>
                var >= 0 && var < model.Vars.Count && model.Vars[var].Role == VarRole.Param && model.Vars[var].ParamIndex >= 0
                && model.Vars[var].ParamIndex < uses.Length ? uses[model.Vars[var].ParamIndex] : null;

            void Read(Expr? e)
            {
                if (e == null) return;
                foreach (var (var, index) in Analyzer.AllReads(e))
                {
                    var use = Use(var);
                    if (use == null || Analyzer.IsLengthRead(index)) continue; // .Length reads no contents
                    use.Reads = true;
                    if (index == null) use.Writes = true; // the span itself, in an unmodelled position
                }
            }

            switch (s)
            {
                case Assign a:
                    if (a.Target is ElemRef te)
                    {
                        var use = Use(te.Var);
                        if (use != null) use.Writes = true;
                        Read(te.Index);
                    }
                    Read(a.Value);
                    break;
                case Alloc al:
                    Read(al.Length);
                    break;
                case If i:
                    Read(i.Condition);
                    break;
                case Loop l:
                    Read(l.Condition);
                    Read(l.Start);
                    break;
                case Return r:
                    Read(r.Value);
                    break;
                case Call c:
                    var callee = model.Callees[c.Callee];
                    for (int k = 0; k < c.Args.Count; k++)
                    {
                        var use = c.Args[k] is VarRef v ? Use(v.Var) : null;
                        if (use != null && k < callee.Params.Count && callee.Params[k].Storage != Storage.Scalar)
                            use.PassedOn.Add(new PassedOn(c.Callee, k, callee.Params[k].Reads, callee.Params[k].Writes));
                        else
                            Read(c.Args[k]);
                    }
                    break;
            }
            foreach (var child in Structurizer.Children(s)) Visit(child, model, uses);
        }

        /// <summary>
        /// Whether a body uses what the dual pullback cannot print on <c>DiffGen.Dual</c> numbers: MathF, a
        /// cast to float, or an inactive helper called with float/double arguments.
        /// </summary>
        internal static bool UsesUnsupportedDual(Stmt s)
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
                case Loop l: return Bad(l.Condition) || UsesUnsupportedDual(l.Init) || UsesUnsupportedDual(l.Body) || UsesUnsupportedDual(l.Step);
                case Block b: return b.Stmts.Any(UsesUnsupportedDual);
                case Call c: return c.Args.Any(Bad);
                case Return r: return r.Value != null && Bad(r.Value);
                default: return false;
            }
        }
    }
}
