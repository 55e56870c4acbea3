using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Pipeline;

namespace DiffGen.Generator.Analysis
{
    /// <summary>A callee of a summarised method: its table key, its name (for messages) and its hand-written ILGPU forms' class (null without one).</summary>
    internal sealed record CalleeRef(string Signature, string Name, string? HandDevice = null);

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
    /// (no source positions, nothing of its callees): whether it uses float, structs or instance state, multi-dimensional arrays,
    /// or a construct the dual pullback cannot print (<c>ReverseTransformer.UsesUnsupportedDual</c>), whether its pullback has halves, how it uses each span
    /// parameter, which methods it calls, which modes its attribute asks for (null: the project's
    /// default), whether it is [DataParallel] (callers call its <c>{Name}Parallel</c> form) and its ILGPU form (<see cref="Reverse.DeviceShapes"/>: kernel, composite candidate with its calls, or none), whether it returns an array and whether it passes numbers by ref/out to a call (neither has a dual or vector form). <see cref="CapabilityTable"/> combines the summaries of a compilation.
    /// </summary>
    internal sealed record MethodSummary(
        string Signature,
        string Name,
        bool HasErrors,
        bool HasHalves,
        bool UsesFloat,
        bool UsesContainers,
        bool UsesMultiDim,
        bool DualUnprintable,
        EquatableArray<CalleeRef> Callees,
        EquatableArray<SpanUse> Params,
        DerivativeModes? Requested,
        bool DataParallel = false,
        int DeviceForm = 0,
        EquatableArray<Reverse.DeviceCall> DeviceCalls = default,
        string? DeviceClass = null,
        bool ReturnsArray = false,
        bool PassesByRef = false)
    {
        /// <summary>Summarises a lowered method.</summary>
        public static MethodSummary Of(MethodModel model, DerivativeModes? requested)
        {
            var uses = new SpanUseBuilder?[model.ParamCount];
            foreach (var v in model.Vars)
                if (v.Role == VarRole.Param && v.IsWritableSpan && v.ParamIndex >= 0 && v.ParamIndex < uses.Length)
                    uses[v.ParamIndex] = new SpanUseBuilder();
            foreach (var s in Walk.Descendants(model.Body)) Visit(s, model, uses);
            var paramsUse = new List<SpanUse>();
            foreach (var u in uses)
                paramsUse.Add(u == null ? SpanUse.ReadOnly : new SpanUse(u.Reads, u.Writes, u.PassedOn.ToEquatableArray()));
            int deviceForm = Reverse.DeviceShapes.FormOf(model, out var deviceCalls);
            return new MethodSummary(
                model.Signature, model.Name, model.HasErrors, MethodAnalysis.HasHalves(model, model.Vars),
                model.ReturnType == Ty.Float || model.Vars.Any(v => v.Elem == Ty.Float),
                model.Vars.Any(v => v.IsContainer || v.Aggregate),
                model.Vars.Any(v => v.IsMultiDim),
                Reverse.ReverseTransformer.UsesUnsupportedDual(model.Body),
                model.Callees.Select(c => new CalleeRef(c.Signature, c.Name, c.DeviceClass)).ToEquatableArray(),
                paramsUse.ToEquatableArray(), requested, model.DataParallel,
                deviceForm, deviceCalls, deviceForm != Reverse.DeviceShapes.None ? Reverse.DeviceShapes.ClassName(model) : null, model.ReturnsArray,
                // Calls passing numbers by ref/out: the dual and vector forms have no by-reference convention for them.
                model.Callees.Any(c => c.Params.Any(p => p.Modifier != null)));
        }

        private sealed class SpanUseBuilder
        {
            public bool Reads;
            public bool Writes;
            public readonly List<PassedOn> PassedOn = new List<PassedOn>();
        }

        /// <summary>
        /// One statement's element reads and writes of span parameters, and its spans passed to callees. A
        /// span used any other way (as an argument of an inactive helper) is taken to be read and written.
        /// </summary>
        private static void Visit(Stmt s, MethodModel model, SpanUseBuilder?[] uses)
        {
            SpanUseBuilder? Use(int var) =>
                var >= 0 && var < model.Vars.Count && model.Vars[var].Role == VarRole.Param && model.Vars[var].ParamIndex >= 0
                && model.Vars[var].ParamIndex < uses.Length ? uses[model.Vars[var].ParamIndex] : null;

            void Read(Expr e)
            {
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
                case Assign a when a.Target is ElemRef te:
                    {
                        var use = Use(te.Var);
                        if (use != null) use.Writes = true;
                        Read(te.Index);
                        Read(a.Value);
                        return;
                    }
                case Call c:
                    {
                        var callee = model.Callees[c.Callee];
                        for (int k = 0; k < c.Args.Count; k++)
                        {
                            var use = c.Args[k] is VarRef v ? Use(v.Var) : null;
                            if (use != null && k < callee.Params.Count && callee.Params[k].Storage != Storage.Scalar)
                                use.PassedOn.Add(new PassedOn(c.Callee, k, callee.Params[k].Reads, callee.Params[k].Writes));
                            else
                                Read(c.Args[k]);
                        }
                        return;
                    }
            }
            foreach (var e in Walk.Exprs(s)) Read(e);
        }
    }
}
