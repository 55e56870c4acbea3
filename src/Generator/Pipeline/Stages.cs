using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Pipeline
{
    /// <summary>
    /// The pipeline's stages after lowering, as pure functions of equatable values (the generator wires
    /// them; tests call them directly). None throws: an unexpected exception becomes a failure that the
    /// diagnostics stage reports as DG0100 on the method.
    /// </summary>
    internal static class Stages
    {
        /// <summary>The capability table of the compilation's summaries; a failure leaves an empty table that says why.</summary>
        public static CapabilityTable Table(IEnumerable<MethodSummary> summaries, ProjectModes project)
        {
            try
            {
                return CapabilityTable.Build(summaries, project.Modes);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                return CapabilityTable.Failed(Describe(ex));
            }
        }

        /// <summary>
        /// A method's render input: its callees resolved against the registry and the table, and its modes.
        /// Null when nothing is rendered: lowering reported an error, or a callee has no derivative (the
        /// diagnostics stage reports DG0101).
        /// </summary>
        public static RenderInput? Prepare(MethodModel model, CapabilityTable table, EquatableArray<RegisteredDerivative> registry)
        {
            if (model.HasErrors) return null;
            try
            {
                if (table.Failure != null) return new RenderInput(model, EquatableArray<Callee>.Empty, DerivativeModes.Reverse, table.Failure);
                var callees = new List<Callee>();
                foreach (var c in model.Callees)
                {
                    var resolved = Resolve(c, registry);
                    if (resolved == null) return null;
                    callees.Add(WithCapabilities(resolved, table[c.Signature]));
                }
                var modes = table[model.Signature]?.Emitted ?? DerivativeModes.Reverse;
                return new RenderInput(model, callees.ToEquatableArray(), modes);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                return new RenderInput(model, EquatableArray<Callee>.Empty, DerivativeModes.Reverse, Describe(ex));
            }
        }

        /// <summary>A callee with the derivatives the registry supplies, or null when it has no pullback.</summary>
        public static Callee? Resolve(Callee c, EquatableArray<RegisteredDerivative> registry)
        {
            if (c.PullbackName != null) return c;
            RegisteredDerivative? Find(int kind)
            {
                foreach (var r in registry)
                    if (r.TargetKey == c.Key && r.Kind == kind) return r;
                return null;
            }
            var pb = Find(0);
            if (pb == null) return null;
            var pf = Find(1);
            var rv = Find(2);
            return c with
            {
                PullbackType = pb.DerivativeType,
                PullbackName = pb.DerivativeName,
                PushforwardType = pf?.DerivativeType,
                PushforwardName = pf?.DerivativeName,
                ReverseType = rv?.DerivativeType,
                ReverseName = rv?.DerivativeName,
            };
        }

        /// <summary>A callee with its table entry's capabilities and span use (unchanged without an entry).</summary>
        public static Callee WithCapabilities(Callee c, TableEntry? entry)
        {
            if (entry == null) return c;
            var ps = new List<CalleeParam>();
            for (int k = 0; k < c.Params.Count; k++)
            {
                var p = c.Params[k];
                ps.Add(p.Storage == Storage.Scalar || k >= entry.Params.Count ? p : p with { Reads = entry.Params[k].Reads, Writes = entry.Params[k].Writes });
            }
            return c with
            {
                Params = ps.ToEquatableArray(),
                DualCapable = entry.DualCapable,
                VectorCapable = entry.VectorCapable,
                SplitCapable = entry.SplitCapable,
                HasParallel = entry.HasParallel,
                DeviceClass = entry.DeviceClass ?? c.DeviceClass,
                DeviceRecord = entry.DeviceRecord,
            };
        }

        /// <summary>Renders one method; an exception (or a hook's) becomes the result's Failure.</summary>
        public static RenderedMethod Render(RenderInput input, Action<MethodModel>? beforeRender = null)
        {
            if (input.Failure != null) return new RenderedMethod(input.Model.HintName, null, input.Failure);
            try
            {
                beforeRender?.Invoke(input.Model);
                return new RenderedMethod(input.Model.HintName, DifferentiableGenerator.Render(input.Model, input.Callees, input.Modes), null);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                return new RenderedMethod(input.Model.HintName, null, Describe(ex));
            }
        }

        /// <summary>
        /// Every diagnostic of one method, located: lowering's; DG0101 for a callee the registry does not
        /// resolve either; DG0300/DG0301 (on the attribute) for a requested mode the method cannot have;
        /// DG0100 (on the method's name) if rendering failed.
        /// </summary>
        public static EquatableArray<DiagnosticInfo> Diagnose(MethodDiagnostics d, CapabilityTable table, EquatableArray<RegisteredDerivative> registry,
            EquatableArray<RenderFailure> failures)
        {
            var list = new List<DiagnosticInfo>(d.Lowering);
            try
            {
                // Every diagnostic of a method in one build: missing derivatives are reported beside lowering's
                // errors (otherwise a user fixes those first and only then learns of the DG0101s).
                bool missing = false;
                foreach (var u in d.Unresolved)
                {
                    if (registry.Any(r => r.TargetKey == u.Key && r.Kind == 0)) continue;
                    list.Add(u.Missing);
                    missing = true;
                }
                if (missing || d.HasErrors) return list.ToEquatableArray();
                foreach (var a in d.Aliases)
                {
                    var callee = table[a.CalleeSignature];
                    // Without an entry (a hand-written derivative) lowering's assumption stands: it may write.
                    bool writes = callee == null
                        || callee.Params.Count > a.Second && (callee.Params[a.First].Writes || callee.Params[a.Second].Writes);
                    if (writes) list.Add(a.Aliased);
                }
                if (table.Failure != null)
                {
                    list.Add(InternalError(d, table.Failure));
                    return list.ToEquatableArray();
                }
                var entry = table[d.Signature];
                if (entry != null && (entry.Requested & DerivativeModes.Dual) != 0 && entry.NoDual != null)
                    list.Add(DiagnosticInfo.Create(Descriptors.NoDualPullback, null, d.Name, entry.NoDual) with { Location = d.Attribute });
                if (entry != null && (entry.Requested & DerivativeModes.Vector) != 0 && entry.NoVector != null)
                    list.Add(DiagnosticInfo.Create(Descriptors.NoVectorPushforward, null, d.Name, entry.NoVector) with { Location = d.Attribute });
                foreach (var f in failures)
                    if (f.HintName == d.HintName) list.Add(InternalError(d, f.Message));
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                list.Add(InternalError(d, Describe(ex)));
            }
            return list.ToEquatableArray();
        }

        private static DiagnosticInfo InternalError(MethodDiagnostics d, string what) =>
            DiagnosticInfo.Create(Descriptors.UnsupportedStatement, null, "internal error",
                "the generator failed while differentiating '" + d.Name + "' (" + what + "); please report it with the method's source")
            with { Location = d.Identifier };

        private static string Describe(Exception ex) => ex.GetType().Name + ": " + ex.Message;

        /// <summary>The project's default modes from the analyzer config (build_property.DiffGenDerivativeModes).</summary>
        public static ProjectModes ReadProjectModes(string? property) =>
            Modes.TryParse(property, out var modes, out var bad) ? new ProjectModes(modes, null, null) : new ProjectModes(DerivativeModes.Reverse, property, bad);
    }
}
