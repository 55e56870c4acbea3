namespace DiffGen.Generator.Tests.Objects;

/// <summary>Calls passing numbers by ref and out to [Differentiable] callees, against finite differences.</summary>
public class RefCallTests
{
    private static readonly double[] At = [0.6, -0.3, 3.0, 0.05];

    [Fact]
    public void LocalsByRefInALoop_AndOutDeclarations()
    {
        double L(double[] p) => RefCallKernels.Simulate(p[0], p[1], p[2], p[3], 7);
        var fd = GradCheck.FiniteDifferenceGradient(L, At);
        double x0Bar = 0, v0Bar = 0, kBar = 0, dtBar = 0;
        double y = RefCallKernels.SimulatePullback(At[0], At[1], At[2], At[3], 7, 1.0, ref x0Bar, ref v0Bar, ref kBar, ref dtBar);
        Assert.Equal(L(At), y);
        GradCheck.AssertClose([x0Bar, v0Bar, kBar, dtBar], fd);

        double[] dir = [1.0, 0.5, -0.2, 0.01];
        var (value, tangent) = RefCallKernels.SimulatePushforward(At[0], dir[0], At[1], dir[1], At[2], dir[2], At[3], dir[3], 7);
        Assert.Equal(y, value);
        GradCheck.AssertClose([tangent], [fd.Zip(dir, (g, u) => g * u).Sum()], 1e-6, "tangent");

        float fx = 0, fv = 0, fk = 0, fdt = 0;
        RefCallKernels.SimulateFPullback((float)At[0], (float)At[1], (float)At[2], (float)At[3], 7, 1f, ref fx, ref fv, ref fk, ref fdt);
        double Twin(double[] p)
        {
            double x = p[0], v = p[1];
            for (int s = 0; s < 7; s++) RefCallKernels.Kick(ref x, ref v, p[2], p[3]);
            return x * x + v;
        }
        GradCheck.AssertClose([fx, fv, fk, fdt], GradCheck.FiniteDifferenceGradient(Twin, At), 1e-3, "float gradient");
    }

    [Fact]
    public void RefParameterPassedOn()
    {
        // L = Drive(ref x, v, k) + 0.4 * x_after, in (x, v, k).
        double L(double[] p) { double x = p[0]; double r = RefCallKernels.Drive(ref x, p[1], p[2]); return r + 0.4 * x; }
        double[] at = [0.6, -0.3, 3.0];
        var fd = GradCheck.FiniteDifferenceGradient(L, at);
        double xs = at[0], xBar = 0.4, vBar = 0, kBar = 0;
        double y = RefCallKernels.DrivePullback(ref xs, at[1], at[2], 1.0, ref xBar, ref vBar, ref kBar);
        double xp = at[0];
        Assert.Equal(RefCallKernels.Drive(ref xp, at[1], at[2]), y);
        Assert.Equal(xp, xs);
        GradCheck.AssertClose([xBar, vBar, kBar], fd);
    }

    [Fact]
    public void FieldsOfThisByRef()
    {
        double L(double[] p)
        {
            var o = new Oscillator { Position = p[0], Velocity = p[1], Stiffness = p[2] };
            o.Advance(p[3], 5);
            return 1.5 * o.Position - o.Velocity;
        }
        var fd = GradCheck.FiniteDifferenceGradient(L, At);
        var osc = new Oscillator { Position = At[0], Velocity = At[1], Stiffness = At[2] };
        var bar = osc.CreateShadow();
        bar.Position = 1.5;
        bar.Velocity = -1;
        double dtBar = 0;
        osc.AdvancePullback(At[3], 5, bar, ref dtBar);
        GradCheck.AssertClose([bar.Position, bar.Velocity, bar.Stiffness, dtBar], fd);
    }
}
