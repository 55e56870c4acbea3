namespace DiffGen.Generator.Tests.Reverse;

/// <summary>End-to-end checks of representative kernels against central finite differences.</summary>
public class KernelGradientTests
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
    public void HeatStep_MatchesFiniteDifferences()
    {
        int n = 16;
        var u = Rand(n, 1); var seed = Rand(n, 2); double nu = 0.3;
        double Loss(double[] uu, double nn) { var next = new double[n]; Kernels.HeatStep(uu, next, nn); return Dot(seed, next); }
        var uBar = new double[n]; var next = new double[n]; var nextBar = (double[])seed.Clone(); double nuBar = 0;
        Kernels.HeatStepPullback(u, next, nu, uBar, nextBar, ref nuBar);
        var expectedNext = new double[n]; Kernels.HeatStep(u, expectedNext, nu);
        Assert.Equal(expectedNext, next);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, nu), u));
        GradCheck.AssertClose([nuBar], GradCheck.FiniteDifferenceGradient(x => Loss(u, x[0]), [nu]));
        Assert.All(nextBar, v => Assert.Equal(0.0, v)); // the seed of a fully overwritten output is consumed
    }

    [Fact]
    public void BurgersInPlace_TapesAndRestores()
    {
        int n = 12;
        var u0 = Rand(n, 3); var seed = Rand(n, 4); double dt = 0.1;
        double Loss(double[] uu, double d) { var c = (double[])uu.Clone(); Kernels.BurgersInPlace(c, d, 5); return Dot(seed, c); }
        var u = (double[])u0.Clone(); var uBar = (double[])seed.Clone(); double dtBar = 0;
        Kernels.BurgersInPlacePullback(u, dt, 5, uBar, ref dtBar);
        var expected = (double[])u0.Clone(); Kernels.BurgersInPlace(expected, dt, 5);
        Assert.Equal(expected, u);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, dt), u0));
        GradCheck.AssertClose([dtBar], GradCheck.FiniteDifferenceGradient(x => Loss(u0, x[0]), [dt]));
    }

    [Fact]
    public void Poly_ReturnsFromBranches()
    {
        foreach (var (x, y) in new[] { (0.3, 0.7), (1.5, 1.2) })
        {
            double xBar = 0, yBar = 0;
            double r = Kernels.PolyPullback(x, y, 1.0, ref xBar, ref yBar);
            Assert.Equal(Kernels.Poly(x, y), r);
            var g = GradCheck.FiniteDifferenceGradient(v => Kernels.Poly(v[0], v[1]), [x, y]);
            GradCheck.AssertClose([xBar, yBar], g);
        }
    }

    [Fact]
    public void SemiLagrangian_GathersAtFloorIndices()
    {
        int n = 16;
        var u = Rand(n, 5, 0.1, 0.9); var seed = Rand(n, 6); double dt = 0.7;
        double Loss(double[] uu, double d) { var next = new double[n]; double s = Kernels.SemiLagrangian(uu, next, d); return 0.5 * s + Dot(seed, next); }
        var uBar = new double[n]; var next = new double[n]; var nextBar = (double[])seed.Clone(); double dtBar = 0;
        double r = Kernels.SemiLagrangianPullback(u, next, dt, 0.5, uBar, nextBar, ref dtBar);
        var en = new double[n];
        Assert.Equal(Kernels.SemiLagrangian(u, en, dt), r);
        Assert.Equal(en, next);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, dt), u));
        GradCheck.AssertClose([dtBar], GradCheck.FiniteDifferenceGradient(x => Loss(u, x[0]), [dt]));
    }

    [Fact]
    public void CallsOthers_ChainsThroughPullbacks()
    {
        int n = 10;
        var u = Rand(n, 7); double x = 0.2;
        double Loss(double[] uu, double xx) { var tmp = new double[n]; return Kernels.CallsOthers(xx, uu, tmp); }
        var uBar = new double[n]; var tmp = new double[n]; var tmpBar = new double[n]; double xBar = 0;
        double r = Kernels.CallsOthersPullback(x, u, tmp, 1.0, ref xBar, uBar, tmpBar);
        Assert.Equal(Loss(u, x), r);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(v => Loss(v, x), u));
        GradCheck.AssertClose([xBar], GradCheck.FiniteDifferenceGradient(v => Loss(u, v[0]), [x]));
    }

    [Theory]
    [InlineData(0.9, 6)]
    [InlineData(3.0, 10)]
    public void Loops_BreakAndContinue(double x, int n)
    {
        double xBar = 0;
        double r = Kernels.LoopsPullback(x, n, 1.0, ref xBar);
        Assert.Equal(Kernels.Loops(x, n), r);
        GradCheck.AssertClose([xBar], GradCheck.FiniteDifferenceGradient(v => Kernels.Loops(v[0], n), [x]));
    }
}

public class TimeLoopTests
{
    [Fact]
    public void StepCopyBackLoop_MatchesFiniteDifferences()
    {
        var r = new Random(9);
        var u0 = Enumerable.Range(0, 12).Select(_ => r.NextDouble() - 0.5).ToArray();
        double Loss(double[] x, double nu) => TimeLoops.Run((double[])x.Clone(), nu, 6);
        var u = (double[])u0.Clone(); var uBar = new double[u.Length]; double nuBar = 0;
        double e = TimeLoops.RunPullback(u, 0.2, 6, 1.0, uBar, ref nuBar);
        Assert.Equal(Loss(u0, 0.2), e);
        var expected = (double[])u0.Clone(); TimeLoops.Run(expected, 0.2, 6);
        Assert.Equal(expected, u); // the pullback leaves the primal outputs in place
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, 0.2), u0));
        GradCheck.AssertClose([nuBar], GradCheck.FiniteDifferenceGradient(x => Loss(u0, x[0]), [0.2]));
    }
}

public class PullbackArgumentTests
{
    [Fact]
    public void AdjointSpanOfWrongLength_IsRejectedWithItsName()
    {
        double nuBar = 0;
        var ex = Assert.Throws<ArgumentException>(() => Kernels.HeatStepPullback(new double[8], new double[8], 0.1, new double[7], new double[8], ref nuBar));
        Assert.Equal("uBar", ex.ParamName);
        Assert.Contains("length of u (8)", ex.Message);
    }
}
