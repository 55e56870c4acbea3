using System.Buffers;
using System.Runtime.ExceptionServices;

namespace DiffGen.Tensors;

/// <summary>A solver step with a state and a control input (e.g. a network's correction or forcing).</summary>
public delegate void SpanStep2(ReadOnlySpan<double> state, ReadOnlySpan<double> control, Span<double> output);

/// <summary>The pullback of a <see cref="SpanStep2"/> (generated-code contract: adjoints in parameter order).</summary>
public delegate void SpanStep2Pullback(ReadOnlySpan<double> state, ReadOnlySpan<double> control, Span<double> output, Span<double> stateBar, Span<double> controlBar, Span<double> outputBar);

/// <summary>
/// A solver step that also records on <paramref name="tape"/> what its reverse needs (a generated
/// pullback's forward half, e.g. a model's <c>StepPacked(state, control, next, tape)</c>).
/// </summary>
public delegate void SpanStep2Recorded(ReadOnlySpan<double> state, ReadOnlySpan<double> control, Span<double> output, Tape tape);

/// <summary>
/// The reverse of a <see cref="SpanStep2Recorded"/> step (a generated pullback's reverse half): the same
/// inputs, the tape the step recorded on; the output span is scratch, its seed in <paramref name="outputBar"/>
/// is consumed and the input adjoints accumulate.
/// </summary>
public delegate void SpanStep2Reverse(ReadOnlySpan<double> state, ReadOnlySpan<double> control, Span<double> output, Span<double> stateBar, Span<double> controlBar, Span<double> outputBar, Tape tape);

/// <summary>
/// Lifts a <c>[Differentiable]</c> span method and its generated <c>{Name}Pullback</c> into a tape op on
/// tensors, batched over the leading dimension (batch items run in parallel). Tensors are float32; the
/// solver sees double spans, converted at the boundary. Scalar parameters of the method are captured by
/// the lambdas (they get no gradient).
/// </summary>
/// <example>
/// <code>
/// // [Differentiable] static void Step(ReadOnlySpan&lt;double&gt; u, Span&lt;double&gt; next, double nu)
/// var step = Lift.Op((u, next) =&gt; Heat.Step(u, next, nu),
///                    (u, next, uBar, nextBar) =&gt; { double nuBar = 0; Heat.StepPullback(u, next, nu, uBar, nextBar, ref nuBar); });
/// Tensor u1 = step(u0);   // u0: [batch, n]; u1: [batch, n]; gradients flow through StepPullback
/// </code>
/// </example>
public static partial class Lift
{
    /// <summary>
    /// A one-input tape op. The input is [B, …item]; each item is flattened and passed to
    /// <paramref name="forward"/>. The output has shape [B, …<paramref name="outputItemShape"/>]
    /// (default: the input's item shape).
    /// </summary>
    /// <remarks>
    /// <paramref name="forward"/> is a <see cref="SpanMap"/> (reads the item, writes the output) and
    /// <paramref name="pullback"/> its <see cref="SpanMapPullback"/> in the generated-code contract: re-runs
    /// the step, then adds the item's adjoint to <c>xBar</c> given the output's adjoint in <c>yBar</c> (which it may consume).
    /// </remarks>
    public static Func<Tensor, Tensor> Op(SpanMap forward, SpanMapPullback pullback, int[]? outputItemShape = null, string name = "LiftedStep")
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(pullback);
        return x =>
        {
            ArgumentNullException.ThrowIfNull(x);
            var (batch, nIn) = Items(x, nameof(x), name);
            var outShape = OutShape(x, outputItemShape);
            int nOut = Tensor.ShapeLength(outShape) / Math.Max(batch, 1);
            var xh = HostData(x);
            var yh = new float[batch * nOut];
            ForItems(batch, b =>
            {
                using var u = new DoubleBuffer(xh.AsSpan(b * nIn, nIn));
                using var o = new DoubleBuffer(nOut);
                forward(u.Span, o.Span);
                o.CopyTo(yh.AsSpan(b * nOut, nOut));
            });
            var y = Tensor.FromArray(x.Device, yh, outShape);
            return AutogradTape.Record(y, name, [x], g =>
            {
                var gh = HostData(g);
                var gx = new float[batch * nIn];
                ForItems(batch, b =>
                {
                    using var u = new DoubleBuffer(xh.AsSpan(b * nIn, nIn));
                    using var o = new DoubleBuffer(nOut);
                    using var uBar = new DoubleBuffer(nIn);
                    using var oBar = new DoubleBuffer(gh.AsSpan(b * nOut, nOut));
                    pullback(u.Span, o.Span, uBar.Span, oBar.Span);
                    uBar.CopyTo(gx.AsSpan(b * nIn, nIn));
                });
                return [Tensor.FromArray(x.Device, gx, x.ShapeRef)];
            });
        };
    }

    /// <summary>
    /// A two-input tape op: state [B, …] and control [B, …] (item sizes may differ). Both get gradients.
    /// The output has shape [B, …<paramref name="outputItemShape"/>] (default: the state's item shape).
    /// </summary>
    public static Func<Tensor, Tensor, Tensor> Op(SpanStep2 forward, SpanStep2Pullback pullback, int[]? outputItemShape = null, string name = "LiftedStep")
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(pullback);
        return (s, c) => Apply2(s, c, outputItemShape, name,
            (_, u, f, o) => forward(u, f, o),
            (_, u, f, o, uBar, fBar, oBar) => pullback(u, f, o, uBar, fBar, oBar));
    }

    /// <summary>
    /// <see cref="Op(SpanStep2, SpanStep2Pullback, int[], string)"/> with a recorded step: when the op is
    /// recorded for a backward pass, each batch item's step runs as <paramref name="record"/> on a tape of its
    /// own, and the backward runs <paramref name="reverse"/> on that tape instead of re-running the step
    /// (for a step with a pressure solve, the backward then does the adjoint solve only). Without gradient
    /// recording (<see cref="Autograd.NoGrad"/>, or no input requires a gradient) it runs
    /// <paramref name="forward"/>. A recorded op keeps its tapes until its backward runs (or it is dropped).
    /// </summary>
    public static Func<Tensor, Tensor, Tensor> RecordedOp(SpanStep2 forward, SpanStep2Recorded record, SpanStep2Reverse reverse, int[]? outputItemShape = null, string name = "LiftedStep")
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(reverse);
        var plain = Op(forward, (_, _, _, _, _, _) => throw new InvalidOperationException("unreachable: the recorded op has its own backward"), outputItemShape, name);
        return (s, c) =>
        {
            ArgumentNullException.ThrowIfNull(s);
            ArgumentNullException.ThrowIfNull(c);
            if (!Autograd.IsGradEnabled || !(s.RequiresGrad || c.RequiresGrad)) return plain(s, c);
            var tapes = new Tape?[s.Rank < 1 ? 0 : s.ShapeRef[0]];
            return Apply2(s, c, outputItemShape, name,
                (b, u, f, o) => record(u, f, o, tapes[b] = new Tape()),
                (b, u, f, o, uBar, fBar, oBar) =>
                {
                    var tape = tapes[b];
                    tapes[b] = null;
                    if (tape is null)
                    {
                        // A second backward through a retained graph (Backward(retainGraph: true)): the first
                        // consumed the recording, so record the step again (without a retained graph the
                        // autograd refuses a second backward before it gets here).
                        tape = new Tape();
                        record(u, f, o, tape);
                    }
                    reverse(u, f, o, uBar, fBar, oBar, tape);
                    tape.Dispose();
                });
        };
    }

    private delegate void ItemStep(int item, ReadOnlySpan<double> state, ReadOnlySpan<double> control, Span<double> output);

    private delegate void ItemPullback(int item, ReadOnlySpan<double> state, ReadOnlySpan<double> control, Span<double> output, Span<double> stateBar, Span<double> controlBar, Span<double> outputBar);

    /// <summary>The two-input op: items through <paramref name="forward"/>, recorded with <paramref name="pullback"/> as its backward.</summary>
    private static Tensor Apply2(Tensor s, Tensor c, int[]? outputItemShape, string name, ItemStep forward, ItemPullback pullback)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(c);
        var (batch, nS, nC, nOut, outShape) = Shapes(s, c, outputItemShape, name);
        var sh = HostData(s);
        var ch = HostData(c);
        var yh = new float[batch * nOut];
        ForItems(batch, b =>
        {
            using var u = new DoubleBuffer(sh.AsSpan(b * nS, nS));
            using var f = new DoubleBuffer(ch.AsSpan(b * nC, nC));
            using var o = new DoubleBuffer(nOut);
            forward(b, u.Span, f.Span, o.Span);
            o.CopyTo(yh.AsSpan(b * nOut, nOut));
        });
        var y = Tensor.FromArray(s.Device, yh, outShape);
        return AutogradTape.Record(y, name, [s, c], g =>
        {
            var gh = HostData(g);
            var gs = new float[batch * nS];
            var gc = new float[batch * nC];
            ForItems(batch, b =>
            {
                using var u = new DoubleBuffer(sh.AsSpan(b * nS, nS));
                using var f = new DoubleBuffer(ch.AsSpan(b * nC, nC));
                using var o = new DoubleBuffer(nOut);
                using var uBar = new DoubleBuffer(nS);
                using var fBar = new DoubleBuffer(nC);
                using var oBar = new DoubleBuffer(gh.AsSpan(b * nOut, nOut));
                pullback(b, u.Span, f.Span, o.Span, uBar.Span, fBar.Span, oBar.Span);
                uBar.CopyTo(gs.AsSpan(b * nS, nS));
                fBar.CopyTo(gc.AsSpan(b * nC, nC));
            });
            return [s.RequiresGrad ? Tensor.FromArray(s.Device, gs, s.ShapeRef) : null,
                    c.RequiresGrad ? Tensor.FromArray(s.Device, gc, c.ShapeRef) : null];
        });
    }

    private static (int Batch, int NState, int NControl, int NOut, int[] OutShape) Shapes(Tensor s, Tensor c, int[]? outputItemShape, string name)
    {
        var (batch, nS) = Items(s, "state", name);
        var (batchC, nC) = Items(c, "control", name);
        if (batchC != batch)
            throw new ArgumentException($"{name}: the control's batch size {batchC} differs from the state's {batch} (leading dimension).", "control");
        if (c.Device != s.Device)
            throw new ArgumentException($"{name}: state and control are on different devices.", "control");
        var outShape = OutShape(s, outputItemShape);
        return (batch, nS, nC, Tensor.ShapeLength(outShape) / Math.Max(batch, 1), outShape);
    }

    private static (int Batch, int ItemLength) Items(Tensor x, string paramName, string name)
    {
        if (x.Rank < 1)
            throw new ArgumentException($"{name}: a lifted step needs a batched input [B, …]; got a scalar. Use Reshape(1, -1) for a single item.", paramName);
        int batch = x.ShapeRef[0];
        return (batch, batch == 0 ? 0 : x.Length / batch);
    }

    private static int[] OutShape(Tensor x, int[]? itemShape)
    {
        if (itemShape is null) return (int[])x.ShapeRef.Clone();
        return [x.ShapeRef[0], .. itemShape];
    }

    /// <summary>The tensor's elements on the host: the live memory on the CPU device (read-only use), a copy elsewhere.</summary>
    private static float[] HostData(Tensor x) => x.ToArray();

    private static void ForItems(int batch, Action<int> body)
    {
        if (batch <= 1) { if (batch == 1) body(0); return; }
        try
        {
            Parallel.For(0, batch, body);
        }
        catch (AggregateException e)
        {
            // The step's own exception, once: every batch item usually fails the same way, and an
            // AggregateException with one copy per item hides what went wrong.
            ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
    }

    /// <summary>A pooled double buffer, optionally initialised from floats.</summary>
    private readonly struct DoubleBuffer : IDisposable
    {
        private readonly double[] _array;
        private readonly int _length;

        public DoubleBuffer(int length)
        {
            _array = ArrayPool<double>.Shared.Rent(Math.Max(length, 1));
            _length = length;
            Array.Clear(_array, 0, length);
        }

        public DoubleBuffer(ReadOnlySpan<float> from)
        {
            _array = ArrayPool<double>.Shared.Rent(Math.Max(from.Length, 1));
            _length = from.Length;
            for (int i = 0; i < from.Length; i++) _array[i] = from[i];
        }

        public Span<double> Span => _array.AsSpan(0, _length);

        public void CopyTo(Span<float> dst)
        {
            for (int i = 0; i < _length; i++) dst[i] = (float)_array[i];
        }

        public void Dispose() => ArrayPool<double>.Shared.Return(_array);
    }
}
