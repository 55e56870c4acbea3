using DiffGen.Physics;
using DiffGen.Tensors;

namespace DiffGen.Physics.Tests;

/// <summary>The model steps as tape ops of the runtime (Lift over packed states, batch items in parallel).</summary>
public class LiftTests
{
    [Fact]
    public void WakeStepLiftedAsATapeOpGivesTheDirectPullback()
    {
        var w = WakeFlow2D.PbdlWake(8, 16, reynolds: 50, dt: 2, tolerance: 1e-10);
        var step = Lift.Op(w.StepPacked, w.StepPackedBackward, name: "WakeStep");
        var (u0, v0) = w.InitialState(0.2);
        double[] s0 = [.. u0, .. v0];
        double[] s1 = s0.Select((x, k) => x + 0.01 * Math.Sin(k)).ToArray();
        var x = Tensor.FromArray([.. s0.Select(d => (float)d), .. s1.Select(d => (float)d)], 2, w.PackedLength);
        x.RequiresGrad = true;
        var y = step(x);
        (y * y).Sum().Backward();
        var g = x.Grad!.ToArray();
        // Direct: d/ds sum(step(s)^2) for the second batch item, in double from the float inputs.
        var s = s1.Select(d => (double)(float)d).ToArray();
        var next = new double[w.PackedLength];
        w.StepPacked(s, next);
        var seed = next.Select(d => 2 * (double)(float)d).ToArray();
        var sBar = new double[s.Length];
        w.StepPackedBackward(s, next, sBar, seed);
        var got = g.Skip(w.PackedLength).Select(f => (double)f).ToArray();
        GradCheck.AssertClose(got, sBar, 1e-4, "lifted wake gradient (float32 tape)", floor: 1e-3);
        Assert.Equal(2 * w.PackedLength, y.Length);
    }

    /// <summary>One op applied to a batch: outputs and input gradients of sum(w · y²).</summary>
    private static (float[] Y, float[] GState, float[] GControl) Run(Func<Tensor, Tensor, Tensor> op, float[] state, float[] control, int batch)
    {
        var x = Tensor.FromArray(state, batch, state.Length / batch);
        var c = Tensor.FromArray(control, batch, control.Length / batch);
        x.RequiresGrad = true;
        c.RequiresGrad = true;
        var y = op(x, c);
        var w = Tensor.FromArray([.. Enumerable.Range(0, y.Length).Select(k => (float)Math.Cos(0.1 * k))], y.Shape);
        (w * y * y).Sum().Backward();
        return (y.ToArray(), x.Grad!.ToArray(), c.Grad!.ToArray());
    }

    [Fact]
    public void RecordedOp_GivesTheRerunOpsOutputsAndGradients_Burgers2D()
    {
        var m = new Burgers2D(new Grid2D(8, 8, 8, 8), 0.1, 0.1);
        var rerun = Lift.Op(m.StepPacked, m.StepPackedBackward, name: "Burgers2DStep");
        var recorded = Lift.RecordedOp(m.StepPacked, m.StepPacked, m.StepPackedBackward, name: "Burgers2DStep");
        int batch = 3, n = m.PackedLength;
        float[] state = [.. Enumerable.Range(0, batch * n).Select(k => (float)(Math.Sin(0.37 * k) + 0.2))];
        float[] force = [.. Enumerable.Range(0, batch * n).Select(k => (float)(0.1 * Math.Cos(0.21 * k)))];
        var a = Run(rerun, state, force, batch);
        var b = Run(recorded, state, force, batch);
        // The same arithmetic in the same order: the re-run pullback is the forward half and the reverse half.
        Assert.Equal(a.Y, b.Y);
        Assert.Equal(a.GState, b.GState);
        Assert.Equal(a.GControl, b.GControl);
    }

    [Fact]
    public void RecordedOp_GivesTheRerunOpsOutputsAndGradients_WakeFlow()
    {
        var w = WakeFlow2D.PbdlWake(8, 16, reynolds: 50, dt: 2, tolerance: 1e-10);
        var rerun = Lift.Op((s, c, next) => w.StepPacked(s, next), (s, c, next, sBar, cBar, nextBar) => w.StepPackedBackward(s, next, sBar, nextBar), name: "WakeStep");
        var recorded = Lift.RecordedOp((s, c, next) => w.StepPacked(s, next), (s, c, next, tape) => w.StepPacked(s, next, tape),
            (s, c, next, sBar, cBar, nextBar, tape) => w.StepPackedBackward(s, next, sBar, nextBar, tape), name: "WakeStep");
        var (u0, v0) = w.InitialState(0.2);
        int batch = 2, n = w.PackedLength;
        float[] state = [.. Enumerable.Range(0, batch).SelectMany(b => u0.Concat(v0).Select((x, k) => (float)(x + 0.01 * b * Math.Sin(k))))];
        float[] control = new float[batch];
        var a = Run(rerun, state, control, batch);
        var b = Run(recorded, state, control, batch);
        Assert.Equal(a.Y, b.Y);
        Assert.Equal(a.GState, b.GState);
        Assert.Equal(2 * n, a.GState.Length);
    }

    [Fact]
    public void RecordedOp_WithoutGradients_RunsThePlainStep()
    {
        var m = new Burgers2D(new Grid2D(4, 4, 4, 4), 0.1, 0.1);
        int recordedCalls = 0;
        var op = Lift.RecordedOp(m.StepPacked, (s, f, next, tape) => { Interlocked.Increment(ref recordedCalls); m.StepPacked(s, f, next, tape); }, m.StepPackedBackward);
        var x = Tensor.FromArray(new float[2 * m.PackedLength], 2, m.PackedLength);
        var c = Tensor.FromArray(new float[2 * m.PackedLength], 2, m.PackedLength);
        op(x, c); // no input requires a gradient
        x.RequiresGrad = true;
        using (Autograd.NoGrad()) op(x, c);
        Assert.Equal(0, recordedCalls);
        op(x, c);
        Assert.Equal(2, recordedCalls); // one tape per batch item
    }

    [Fact]
    public void PackedStepsRejectWrongLengths()
    {
        var w = WakeFlow2D.PbdlWake(8, 16);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => w.StepPacked(new double[3], new double[w.PackedLength])).ParamName);
        var s = Smoke2D.PbdlPlume(4, 5);
        Assert.Equal("next", Assert.Throws<ArgumentException>(() => s.StepPacked(new double[s.PackedLength], new double[20], new double[1])).ParamName);
        var b = new Burgers2D(new Grid2D(4, 4, 4, 4), 0.1, 0.1);
        Assert.Equal("force", Assert.Throws<ArgumentException>(() => b.StepPacked(new double[32], new double[31], new double[32])).ParamName);
    }
}
