using DiffGen.Generator.Tests.Reverse;

namespace DiffGen.Generator.Tests.Forward;

/// <summary>
/// Pushforwards against directional finite differences, and the duality identity
/// &lt;pullback(w), v&gt; == &lt;w, pushforward(v)&gt; that ties forward and reverse mode together.
/// </summary>
public class ForwardModeTests
{
    private static double[] Rand(int n, int seed, double lo = -1, double hi = 1)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.NextDouble();
        return a;
    }

    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }

    [Fact]
    public void HeatStep_TangentMatchesDirectionalDifference_AndDualsReverse()
    {
        int n = 16;
        var u = Rand(n, 1); var du = Rand(n, 2); double nu = 0.3, dnu = -0.4;
        var next = new double[n];
        // dNext is both an input (tangent of next's entry contents, which Step ignores) and the output tangent.
        var dNext = new double[n];
        Kernels.HeatStepPushforward(u, du, next, dNext, nu, dnu);
        var fd = GradCheck.FiniteDifferenceDirectional(x =>
        {
            var o = new double[n];
            Kernels.HeatStep(x.AsSpan(0, n), o, x[n]);
            return o;
        }, [.. u, nu], [.. du, dnu]);
        GradCheck.AssertClose(dNext, fd, 1e-6, "pushforward");

        // <w, J v> == <J^T w, v>
        var w = Rand(n, 3);
        var uBar = new double[n]; double nuBar = 0;
        Kernels.HeatStepPullback(u, new double[n], nu, uBar, (double[])w.Clone(), ref nuBar);
        Assert.Equal(Dot(w, dNext), Dot(uBar, du) + nuBar * dnu, 10);
    }

    [Theory]
    [InlineData(0.3, 0.7)]
    [InlineData(1.5, 1.2)]
    [InlineData(-1.3, 0.9)]
    public void Poly_TangentOfScalarResult(double x, double y)
    {
        var (value, tangent) = Kernels.PolyPushforward(x, 0.6, y, -0.8);
        Assert.Equal(Kernels.Poly(x, y), value);
        var fd = GradCheck.FiniteDifferenceDirectional(v => [Kernels.Poly(v[0], v[1])], [x, y], [0.6, -0.8]);
        GradCheck.AssertClose([tangent], fd, 1e-6, "pushforward");
    }

    [Fact]
    public void BurgersInPlace_TangentOfInPlaceUpdate()
    {
        int n = 12;
        var u0 = Rand(n, 3); var du = Rand(n, 4); double dt = 0.1, ddt = 0.3;
        var u = (double[])u0.Clone(); var uDot = (double[])du.Clone();
        Kernels.BurgersInPlacePushforward(u, uDot, dt, ddt, 5);
        var fd = GradCheck.FiniteDifferenceDirectional(x => { var c = x[..n]; Kernels.BurgersInPlace(c, x[n], 5); return c; }, [.. u0, dt], [.. du, ddt]);
        GradCheck.AssertClose(uDot, fd, 1e-6, "pushforward");
        var expected = (double[])u0.Clone(); Kernels.BurgersInPlace(expected, dt, 5);
        Assert.Equal(expected, u);
    }

    [Fact]
    public void SemiLagrangian_And_Calls_TangentsMatch()
    {
        int n = 16;
        var u = Rand(n, 5, 0.1, 0.9); var du = Rand(n, 6); double dt = 0.7;
        var nextDot = new double[n];
        var (s, ds) = Kernels.SemiLagrangianPushforward(u, du, new double[n], nextDot, dt, 0.25);
        var fd = GradCheck.FiniteDifferenceDirectional(x => { var o = new double[n]; double r = Kernels.SemiLagrangian(x[..n], o, x[n]); return [r, .. o]; }, [.. u, dt], [.. du, 0.25]);
        GradCheck.AssertClose([ds, .. nextDot], fd, 1e-6, "pushforward");

        var tmpDot = new double[n];
        var (c, dc) = Kernels.CallsOthersPushforward(0.2, 0.5, u, du, new double[n], tmpDot);
        var fd2 = GradCheck.FiniteDifferenceDirectional(x => [Kernels.CallsOthers(x[0], x[1..], new double[n])], [0.2, .. u], [0.5, .. du]);
        GradCheck.AssertClose([dc], fd2, 1e-6, "pushforward through calls");
        Assert.Equal(Kernels.CallsOthers(0.2, u, new double[n]), c);
    }

    [Theory]
    [InlineData(0.9, 6)]
    [InlineData(3.0, 10)]
    public void Loops_TangentThroughBreakAndContinue(double x, int n)
    {
        var (v, t) = Kernels.LoopsPushforward(x, 1.0, n);
        Assert.Equal(Kernels.Loops(x, n), v);
        GradCheck.AssertClose([t], GradCheck.FiniteDifferenceGradient(p => Kernels.Loops(p[0], n), [x]), 1e-6);
    }
}

/// <summary>Vector mode: one pass with K directions equals K scalar pushforwards.</summary>
public class VectorModeTests
{
    private static double[] Rand(int n, int seed) { var r = new Random(seed); var a = new double[n]; for (int i = 0; i < n; i++) a[i] = 2 * r.NextDouble() - 1; return a; }

    [Fact]
    public void HeatStep_ThreeDirectionsInOnePass()
    {
        int n = 10, k = 3;
        var u = Rand(n, 1); var dirs = Rand(n * k, 2); var nuDots = Rand(k, 3);
        var next = new double[n]; var nextDots = new double[n * k];
        Kernels.HeatStepPushforwardVector(k, u, dirs, next, nextDots, 0.3, nuDots);
        for (int q = 0; q < k; q++)
        {
            var du = new double[n];
            for (int i = 0; i < n; i++) du[i] = dirs[i * k + q];
            var expected = new double[n];
            Kernels.HeatStepPushforward(u, du, new double[n], expected, 0.3, nuDots[q]);
            for (int i = 0; i < n; i++) Assert.Equal(expected[i], nextDots[i * k + q], 12);
        }
    }

    [Fact]
    public void ScalarResults_AndCalls_MatchScalarPushforwards()
    {
        int n = 8, k = 4;
        var u = Rand(n, 4); var dirs = Rand(n * k, 5); var xDots = Rand(k, 6);
        var resultDots = new double[k];
        double value = Kernels.CallsOthersPushforwardVector(k, 0.2, xDots, u, dirs, new double[n], new double[n * k], resultDots);
        Assert.Equal(Kernels.CallsOthers(0.2, u, new double[n]), value, 12);
        for (int q = 0; q < k; q++)
        {
            var du = new double[n];
            for (int i = 0; i < n; i++) du[i] = dirs[i * k + q];
            var (_, t) = Kernels.CallsOthersPushforward(0.2, xDots[q], u, du, new double[n], new double[n]);
            Assert.Equal(t, resultDots[q], 10);
        }
        var polyDots = new double[2];
        Kernels.PolyPushforwardVector(2, 0.3, [1, 0], 0.7, [0, 1], polyDots);
        var g = new double[2];
        Kernels.PolyPullback(0.3, 0.7, 1, ref g[0], ref g[1]);
        Assert.Equal(g[0], polyDots[0], 12); // the Jacobian of a scalar map in one pass
        Assert.Equal(g[1], polyDots[1], 12);
    }

    [Fact]
    public void WrongTangentLengths_AreRejectedWithTheParameterName()
    {
        var ex = Assert.Throws<ArgumentException>(() => Kernels.HeatStepPushforwardVector(2, new double[4], new double[7], new double[4], new double[8], 0.1, new double[2]));
        Assert.Equal("uDots", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.HeatStepPushforwardVector(0, new double[4], new double[0], new double[4], new double[0], 0.1, new double[0]));
    }
}
