using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Pipeline;

namespace DiffGen.Generator.Analysis
{
    /// <summary>How a method uses the contents of one parameter, its callees included.</summary>
    internal sealed record ParamUse(bool Reads, bool Writes);

    /// <summary>
    /// One [Differentiable] method of the compilation as its callers and its emitter see it: whether its
    /// dual pullback and vector pushforward exist (and why not), whether its pullback has halves, how it
    /// uses each parameter (through its callees too), which modes it was asked for (its attribute or the
    /// project's default), which it emits (those it can, plus those its callers need) and whether it has a
    /// <c>{Name}Parallel</c> form ([DataParallel]) and the name of its ILGPU forms' class (null without one), which is a composite's (with Record) when DeviceRecord.
    /// </summary>
    internal sealed record TableEntry(
        string Signature,
        bool DualCapable,
        string? NoDual,
        bool VectorCapable,
        string? NoVector,
        bool SplitCapable,
        EquatableArray<ParamUse> Params,
        DerivativeModes Requested,
        DerivativeModes Emitted,
        bool HasParallel = false,
        string? DeviceClass = null,
        bool DeviceRecord = false);

    /// <summary>
    /// The capabilities of every [Differentiable] method of a compilation, resolved from the methods'
    /// summaries (<see cref="MethodSummary"/>): dual and vector capability need every callee to have the
    /// form too (a cycle of calls has it unless something on it lacks it), span use follows spans passed
    /// on to callees, and a mode a method emits is emitted by its callees too (a pushforward calls its
    /// callees' pushforwards, a dual pullback their dual pullbacks, a vector pushforward theirs). A callee
    /// without an entry (a hand-written derivative, a method of another assembly) has neither form and
    /// keeps the span use lowering assumed. Compared by value: an edit that changes no capability leaves
    /// it equal, and nothing downstream re-runs.
    /// </summary>
    internal sealed class CapabilityTable : IEquatable<CapabilityTable>
    {
        /// <summary>Why a method returning an array has no dual pullback and no vector pushforward (the same text as the transformers').</summary>
        internal const string ReturnsArrayReason = "it returns an array (its dual and vector forms would need an array of dual numbers or of K tangents as the result)";

        /// <summary>Why a method that passes numbers by ref/out to a call has no dual pullback and no vector pushforward.</summary>
        internal const string PassesByRefReason = "it passes a number by ref or out to a call (dual and vector forms have no convention for a by-reference tangent)";

        private Dictionary<string, TableEntry>? _bySignature;

        public CapabilityTable(EquatableArray<TableEntry> entries, string? failure = null)
        {
            Entries = entries;
            Failure = failure;
        }

        /// <summary>The entries, ordered by signature.</summary>
        public EquatableArray<TableEntry> Entries { get; }

        /// <summary>Why building the table failed (an internal error; nothing is rendered), or null.</summary>
        public string? Failure { get; }

        public static CapabilityTable Failed(string failure) => new CapabilityTable(EquatableArray<TableEntry>.Empty, failure);

        /// <summary>The entry of a method, or null for a method without one.</summary>
        public TableEntry? this[string signature]
        {
            get
            {
                _bySignature ??= Entries.GroupBy(e => e.Signature, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
                return _bySignature.TryGetValue(signature, out var e) ? e : null;
            }
        }

        public bool Equals(CapabilityTable? other) => other != null && Entries.Equals(other.Entries) && Failure == other.Failure;

        public override bool Equals(object? obj) => Equals(obj as CapabilityTable);

        public override int GetHashCode() => Entries.GetHashCode() * 31 + (Failure?.GetHashCode() ?? 0);

        /// <summary>Resolves a compilation's summaries, with the project's default modes for methods whose attribute names none.</summary>
        public static CapabilityTable Build(IEnumerable<MethodSummary> summaries, DerivativeModes projectDefault)
        {
            var list = summaries.GroupBy(s => s.Signature, StringComparer.Ordinal).Select(g => g.First())
                .OrderBy(s => s.Signature, StringComparer.Ordinal).ToList();
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < list.Count; i++) index[list[i].Signature] = i;
            int Find(CalleeRef c) => index.TryGetValue(c.Signature, out int k) ? k : -1;

            // Dual and vector forms: assume them wherever the body allows, then drop callers of methods without them until nothing changes.
            // (The same conditions, in the same order, as ReverseTransformer.BuildDual and ForwardTransformer.BuildVector.)
            var dual = list.Select(s => !s.UsesFloat && !s.UsesContainers && !s.PassesByRef && !s.DualUnprintable && !s.ReturnsArray).ToArray();
            var vector = list.Select(s => !s.UsesContainers && !s.PassesByRef && !s.UsesMultiDim && !s.ReturnsArray).ToArray();
            for (bool changed = true; changed;)
            {
                changed = false;
                for (int i = 0; i < list.Count; i++)
                {
                    foreach (var c in list[i].Callees)
                    {
                        int k = Find(c);
                        if (dual[i] && (k < 0 || !dual[k])) { dual[i] = false; changed = true; }
                        if (vector[i] && (k < 0 || !vector[k])) { vector[i] = false; changed = true; }
                    }
                }
            }

            // Span use: a method's own reads and writes, and those of the callees it passes its spans to (least fixpoint).
            var use = list.Select(s => s.Params.Select(p => new ParamUse(p.Reads, p.Writes)).ToArray()).ToArray();
            for (bool changed = true; changed;)
            {
                changed = false;
                for (int i = 0; i < list.Count; i++)
                {
                    for (int p = 0; p < list[i].Params.Count; p++)
                    {
                        bool reads = use[i][p].Reads, writes = use[i][p].Writes;
                        foreach (var on in list[i].Params[p].PassedOn)
                        {
                            int k = Find(list[i].Callees[on.Callee]);
                            bool r = k >= 0 && on.Param < use[k].Length ? use[k][on.Param].Reads : on.FallbackReads;
                            bool w = k >= 0 && on.Param < use[k].Length ? use[k][on.Param].Writes : on.FallbackWrites;
                            reads |= r;
                            writes |= w;
                        }
                        if (reads != use[i][p].Reads || writes != use[i][p].Writes)
                        {
                            use[i][p] = new ParamUse(reads, writes);
                            changed = true;
                        }
                    }
                }
            }

            // Modes: those asked for that the method can have, then what callers need, down the call graph.
            var requested = list.Select(s => (s.Requested ?? projectDefault) | DerivativeModes.Reverse).ToArray();
            DerivativeModes Capable(int i) =>
                DerivativeModes.Reverse | DerivativeModes.Forward | (vector[i] ? DerivativeModes.Vector : 0) | (dual[i] ? DerivativeModes.Dual : 0);
            var emitted = requested.Select((r, i) => r & Capable(i)).ToArray();
            var work = new Stack<int>(Enumerable.Range(0, list.Count));
            while (work.Count > 0)
            {
                int i = work.Pop();
                var needed = emitted[i] & (DerivativeModes.Forward | DerivativeModes.Vector | DerivativeModes.Dual);
                foreach (var c in list[i].Callees)
                {
                    int k = Find(c);
                    if (k < 0) continue;
                    var more = needed & Capable(k) & ~emitted[k];
                    if (more == 0) continue;
                    emitted[k] |= more;
                    work.Push(k);
                }
            }

            // ILGPU forms: kernel-form methods have them; a composite has them when every callee it calls outside if/else
            // branches has them (generated, or hand-written: CalleeRef.HandDevice) and at least one callee has them (a
            // branch calling one without throws NotSupportedException on the device). A composite whose callee lacks
            // them loses them, until nothing changes.
            bool CalleeDevice(CalleeRef c, bool[] dev) => Find(c) is int k && (k >= 0 ? dev[k] : c.HandDevice != null);
            var device = list.Select(s => s.DeviceForm == Reverse.DeviceShapes.Kernel || s.DeviceForm == Reverse.DeviceShapes.Composite && s.Callees.Count > 0).ToArray();
            for (bool changed = true; changed;)
            {
                changed = false;
                for (int i = 0; i < list.Count; i++)
                    if (device[i] && list[i].DeviceForm == Reverse.DeviceShapes.Composite
                        && !(list[i].DeviceCalls.All(c => c.InBranch || CalleeDevice(list[i].Callees[c.Callee], device)) && list[i].DeviceCalls.Any(c => CalleeDevice(list[i].Callees[c.Callee], device))))
                    {
                        device[i] = false;
                        changed = true;
                    }
            }

            var entries = new List<TableEntry>();
            for (int i = 0; i < list.Count; i++)
            {
                var s = list[i];
                string? noDual = null, noVector = null;
                if (!dual[i])
                {
                    var blocker = s.Callees.FirstOrDefault(c => Find(c) is int k && (k < 0 || !dual[k]));
                    noDual = s.UsesFloat ? "it uses float (dual numbers are double)"
                        : blocker != null ? "it calls '" + blocker.Name + "', which has no dual pullback (a hand-written derivative, float code, or another assembly)"
                        : s.UsesContainers ? "it uses structs or instance state (dual numbers replace double values, not fields)"
                        : s.PassesByRef ? PassesByRefReason
                        : s.ReturnsArray ? ReturnsArrayReason
                        : "it uses MathF, a cast to float, or a helper called with double arguments";
                }
                if (!vector[i])
                {
                    var blocker = s.Callees.FirstOrDefault(c => Find(c) is int k && (k < 0 || !vector[k]));
                    noVector = blocker != null ? "it calls '" + blocker.Name + "', which has no vector pushforward (a hand-written derivative or a method of another assembly)"
                        : s.UsesContainers ? "it uses structs or instance state (K tangents per field are not a value of the field's type)"
                        : s.PassesByRef ? PassesByRefReason
                        : s.ReturnsArray ? ReturnsArrayReason
                        : "it uses multi-dimensional or jagged arrays (K directions are laid out along flat spans only)";
                }
                entries.Add(new TableEntry(s.Signature, dual[i], noDual, vector[i], noVector, s.HasHalves,
                    use[i].ToEquatableArray(), requested[i], emitted[i], s.DataParallel, device[i] ? s.DeviceClass : null,
                    device[i] && s.DeviceForm == Reverse.DeviceShapes.Composite));
            }
            return new CapabilityTable(entries.ToEquatableArray());
        }
    }
}
