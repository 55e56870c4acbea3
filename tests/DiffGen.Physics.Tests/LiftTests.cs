using DiffGen.Physics;
using DiffGen.Tensors;

namespace DiffGen.Physics.Tests;

/// <summary>The model steps as tape ops of the runtime (Lift over packed states, batch items in parallel).</summary>
public class LiftTests
{
    [Fact]
    public void WakeStepLiftedAsATapeOpGivesTheDirectPullback()
    {
        var w = new WakeFlow2D(8, 16, reynolds: 50, dt: 2, tolerance: 1e-10);
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

    [Fact]
    public void PackedStepsRejectWrongLengths()
    {
        var w = new WakeFlow2D(8, 16);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => w.StepPacked(new double[3], new double[w.PackedLength])).ParamName);
        var s = new Smoke2D(4, 5);
        Assert.Equal("next", Assert.Throws<ArgumentException>(() => s.StepPacked(new double[s.PackedLength], new double[20], new double[1])).ParamName);
        var b = new Burgers2D(4, 4, 4, 4, 0.1, 0.1);
        Assert.Equal("force", Assert.Throws<ArgumentException>(() => b.StepPacked(new double[32], new double[31], new double[32])).ParamName);
    }
}
