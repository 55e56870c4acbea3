namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// A call that changes this's state between a read of it and the end: the reverse sweep must see the state from
/// before the call when it reaches the read (the callee's pullback re-runs the callee and leaves the state after it).
/// </summary>
public class CallStateTests
{
    [Fact]
    public void FieldReadBeforeACallThatChangesIt()
    {
        double L(double[] p) { var o = new Accumulator { X = p[0], Y = p[1] }; double r = o.Run(p[2]); return r + 0.3 * o.X - 0.7 * o.Y; }
        double[] at = [0.7, 0.2, 0.4];
        var fd = GradCheck.FiniteDifferenceGradient(L, at);
        var obj = new Accumulator { X = at[0], Y = at[1] };
        var bar = obj.CreateShadow();
        bar.X = 0.3;
        bar.Y = -0.7;
        double aBar = 0;
        obj.RunPullback(at[2], 1.0, bar, ref aBar);
        GradCheck.AssertClose([bar.X, bar.Y, aBar], fd);
        var expected = new Accumulator { X = at[0], Y = at[1] };
        expected.Run(at[2]);
        Assert.Equal(expected.X, obj.X);
        Assert.Equal(expected.Y, obj.Y);
    }

    [Fact]
    public void ArrayFieldReadBeforeACallThatChangesIt_Float()
    {
        double[] at = [0.3, -0.5, 0.9, 1.3];
        double[] w = [0.3, 0.0, -0.7];
        double L(double[] p)
        {
            var o = new AccumulatorF { U = [(float)p[0], (float)p[1], (float)p[2]], Gain = (float)p[3] };
            double r = o.Run();
            return r + w[0] * o.U[0] + w[2] * o.U[2] + 0.25 * o.Gain;
        }
        // The same computation in double for the finite differences.
        double Twin(double[] p)
        {
            double s = Math.Sin(p[0]) + Math.Sin(p[1]) + Math.Sin(p[2]);
            double u0 = p[0] * p[0] * p[3], u1 = p[1] * p[1] * p[3], u2 = p[2] * p[2] * p[3];
            return s * u1 + w[0] * u0 + w[2] * u2 + 0.25 * 0.5 * p[3];
        }
        Assert.Equal(Twin(at), L(at), 1e-5);
        var fd = GradCheck.FiniteDifferenceGradient(Twin, at);
        var obj = new AccumulatorF { U = [(float)at[0], (float)at[1], (float)at[2]], Gain = (float)at[3] };
        var bar = obj.CreateShadow();
        bar.U[0] = (float)w[0];
        bar.U[2] = (float)w[2];
        bar.Gain = 0.25f;
        obj.RunPullback(1f, bar);
        GradCheck.AssertClose([bar.U[0], bar.U[1], bar.U[2], bar.Gain], fd, 1e-3, "float gradient");
    }
}
