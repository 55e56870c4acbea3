namespace DiffGen.Generator.Tests.Objects;

/// <summary>A struct method calling another [Differentiable] method on this: ref thisBar and ref thisDot flow through the call.</summary>
public class StructCallTests
{
    // (stiffness, damping, rest, x, v, dt)
    private static readonly double[] At = [30.0, 1.5, 0.4, 0.9, -0.2, 0.02];

    private static Damper Make(double[] p) => new() { Stiffness = p[0], Damping = p[1], Rest = p[2] };

    [Fact]
    public void Settle_CallsForceOnThis()
    {
        double L(double[] p) => Make(p).Settle(p[3], p[4], p[5], 6);
        var fd = GradCheck.FiniteDifferenceGradient(L, At);
        var d = Make(At);
        var bar = default(Damper);
        double xBar = 0, vBar = 0, dtBar = 0;
        double y = d.SettlePullback(At[3], At[4], At[5], 6, 1.0, ref bar, ref xBar, ref vBar, ref dtBar);
        Assert.Equal(d.Settle(At[3], At[4], At[5], 6), y);
        GradCheck.AssertClose([bar.Stiffness, bar.Damping, bar.Rest, xBar, vBar, dtBar], fd);

        double[] dir = [1.0, -0.5, 0.25, 0.3, 1.0, 0.01];
        var dot = new Damper { Stiffness = dir[0], Damping = dir[1], Rest = dir[2] };
        var (value, tangent) = d.SettlePushforward(ref dot, At[3], dir[3], At[4], dir[4], At[5], dir[5], 6);
        Assert.Equal(y, value);
        GradCheck.AssertClose([tangent], [fd.Zip(dir, (g, u) => g * u).Sum()], 1e-6, "tangent");

        var f = new DamperF { Stiffness = (float)At[0], Damping = (float)At[1], Rest = (float)At[2] };
        var fBar = default(DamperF);
        float fx = 0, fv = 0, fdt = 0;
        f.SettlePullback((float)At[3], (float)At[4], (float)At[5], 6, 1f, ref fBar, ref fx, ref fv, ref fdt);
        GradCheck.AssertClose([fBar.Stiffness, fBar.Damping, fBar.Rest, fx, fv, fdt], fd, 1e-3, "float gradient");
    }

    [Fact]
    public void Stiffen_ChangesThisFromACallOnThis()
    {
        // L = 2 * stiffness - rest + 0.5 * damping after Stiffen(x), in (stiffness, damping, rest, x).
        double L(double[] p) { var d = Make(p); d.Stiffen(p[3]); return 2 * d.Stiffness - d.Rest + 0.5 * d.Damping; }
        var fd = GradCheck.FiniteDifferenceGradient(L, At[..4]);
        var s = Make(At);
        var bar = new Damper { Stiffness = 2, Damping = 0.5, Rest = -1 };
        double xBar = 0;
        s.StiffenPullback(At[3], ref bar, ref xBar);
        var expected = Make(At);
        expected.Stiffen(At[3]);
        Assert.Equal(expected, s);
        GradCheck.AssertClose([bar.Stiffness, bar.Damping, bar.Rest, xBar], fd);
    }
}
