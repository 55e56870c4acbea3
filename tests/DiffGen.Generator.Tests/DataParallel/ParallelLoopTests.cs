namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>
/// Parallel loops' pullbacks against central finite differences at several thread counts, their forward
/// results against the primal, and bit-for-bit repeatability (the chunking depends only on the thread
/// setting, never on which thread ran a chunk).
/// </summary>
public class ParallelLoopTests
{
    /// <summary>Thread settings to test: one (serial) and several; small chunks so that the test-sized loops split.</summary>
    public static TheoryData<int> Threads => new() { 1, 2, 3, 4 };

    private static IDisposable Use(int threads) => Parallelism.Use(threads, minChunkWork: 1);

    private static double[] Rand(int n, int seed, double lo = -1, double hi = 1)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.NextDouble();
        return a;
    }

    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }

    [Theory]
    [MemberData(nameof(Threads))]
    public void Heat_GatherFormMatchesFiniteDifferences(int threads)
    {
        using var _ = Use(threads);
        int n = 23;
        var u = Rand(n, 1); var seed = Rand(n, 2); double nu = 0.3;
        double Loss(double[] uu, double nn) { var next = new double[n]; ParallelKernels.Heat(uu, next, nn); return Dot(seed, next); }
        var uBar = new double[n]; var next = new double[n]; var nextBar = (double[])seed.Clone(); double nuBar = 0;
        ParallelKernels.HeatPullback(u, next, nu, uBar, nextBar, ref nuBar);
        var expected = new double[n]; ParallelKernels.Heat(u, expected, nu);
        Assert.Equal(expected, next);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, nu), u));
        GradCheck.AssertClose([nuBar], GradCheck.FiniteDifferenceGradient(x => Loss(u, x[0]), [nu]));
        Assert.All(nextBar, v => Assert.Equal(0.0, v));
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void Advect_PerChunkBuffersMatchFiniteDifferences(int threads)
    {
        using var _ = Use(threads);
        int n = 29;
        var q = Rand(n, 3); var vel = Rand(n, 4, -3, 3); var seed = Rand(n, 5); double c = 0.77;
        double Loss(double[] qq, double[] vv, double cc) { var r = new double[n]; ParallelKernels.Advect(qq, vv, r, cc); return Dot(seed, r); }
        var qBar = new double[n]; var velBar = new double[n]; var result = new double[n]; var resultBar = (double[])seed.Clone(); double cBar = 0;
        ParallelKernels.AdvectPullback(q, vel, result, c, qBar, velBar, resultBar, ref cBar);
        GradCheck.AssertClose(qBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, vel, c), q));
        GradCheck.AssertClose(velBar, GradCheck.FiniteDifferenceGradient(x => Loss(q, x, c), vel));
        GradCheck.AssertClose([cBar], GradCheck.FiniteDifferenceGradient(x => Loss(q, vel, x[0]), [c]));
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void Taped_ChunkTapesMatchFiniteDifferences(int threads)
    {
        using var _ = Use(threads);
        int n = 31;
        var u = Rand(n, 6); var seed = Rand(n, 7); double s = 0.9;
        double Loss(double[] uu, double ss) { var next = new double[n]; ParallelKernels.Taped(uu, next, ss); return Dot(seed, next); }
        var uBar = new double[n]; var next = new double[n]; var nextBar = (double[])seed.Clone(); double sBar = 0;
        ParallelKernels.TapedPullback(u, next, s, uBar, nextBar, ref sBar);
        var expected = new double[n]; ParallelKernels.Taped(u, expected, s);
        Assert.Equal(expected, next);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, s), u));
        GradCheck.AssertClose([sBar], GradCheck.FiniteDifferenceGradient(x => Loss(u, x[0]), [s]));
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void Sampled_CallsInTheBodyMatchFiniteDifferences(int threads)
    {
        using var _ = Use(threads);
        int n = 17, m = 25;
        var f = Rand(n, 8); var pos = Rand(m, 9, 0.1, n - 1.2); var seed = Rand(m, 10);
        double Loss(double[] ff, double[] pp) { var r = new double[m]; ParallelKernels.Sampled(ff, pp, r); return Dot(seed, r); }
        var fBar = new double[n]; var posBar = new double[m]; var result = new double[m]; var resultBar = (double[])seed.Clone();
        ParallelKernels.SampledPullback(f, pos, result, fBar, posBar, resultBar);
        GradCheck.AssertClose(fBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, pos), f));
        GradCheck.AssertClose(posBar, GradCheck.FiniteDifferenceGradient(x => Loss(f, x), pos));
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void Rows_2DGatherAcrossRowsMatchesFiniteDifferences(int threads)
    {
        using var _ = Use(threads);
        int w = 9, h = 8;
        var u = Rand(w * h, 11); var seed = Rand(w * h, 12); double a = 0.2;
        double Loss(double[] uu, double aa) { var next = new double[w * h]; ParallelKernels.Rows(uu, next, w, h, aa); return Dot(seed, next); }
        var uBar = new double[w * h]; var next = new double[w * h]; var nextBar = (double[])seed.Clone(); double aBar = 0;
        ParallelKernels.RowsPullback(u, next, w, h, a, uBar, nextBar, ref aBar);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, a), u));
        GradCheck.AssertClose([aBar], GradCheck.FiniteDifferenceGradient(x => Loss(u, x[0]), [a]));
    }

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(2, 1, 2)]
    [InlineData(3, 2, 1)]
    [InlineData(4, 0, 1)]
    public void Diffuse2D_SpanKernelWithBoundaryCodesMatchesFiniteDifferences(int threads, int xCode, int yCode)
    {
        using var _ = Use(threads);
        int w = 7, h = 6;
        var q = Rand(w * h, 13); var seed = Rand(w * h, 14); double nu = 0.15;
        double Loss(double[] qq, double nn) { var r = new double[w * h]; ParallelKernels.Diffuse2D(qq, r, w, h, nn, xCode, yCode); return Dot(seed, r); }
        var qBar = new double[w * h]; var result = new double[w * h]; var resultBar = (double[])seed.Clone(); double nuBar = 0;
        ParallelKernels.Diffuse2DPullback(q, result, w, h, nu, xCode, yCode, qBar, resultBar, ref nuBar);
        GradCheck.AssertClose(qBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, nu), q));
        GradCheck.AssertClose([nuBar], GradCheck.FiniteDifferenceGradient(x => Loss(q, x[0]), [nu]));
        // The parallel primal computes exactly what the method does (each element alone).
        var serial = new double[w * h]; var parallel = new double[w * h];
        ParallelKernels.Diffuse2D(q, serial, w, h, nu, xCode, yCode);
        ParallelKernels.Diffuse2DParallel(q, parallel, w, h, nu, xCode, yCode);
        Assert.Equal(serial, parallel);
        Assert.Equal(serial, result);
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void TwoSteps_CompositeOfParallelKernelsMatchesFiniteDifferences(int threads)
    {
        using var _ = Use(threads);
        int w = 6, h = 7;
        var q = Rand(w * h, 15); var seed = Rand(w * h, 16); double nu = 0.1;
        double Loss(double[] qq, double nn) { var r = new double[w * h]; ParallelKernels.TwoSteps(qq, r, w, h, nn); return Dot(seed, r); }
        var qBar = new double[w * h]; var result = new double[w * h]; var resultBar = (double[])seed.Clone(); double nuBar = 0;
        ParallelKernels.TwoStepsPullback(q, result, w, h, nu, qBar, resultBar, ref nuBar);
        GradCheck.AssertClose(qBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, nu), q));
        GradCheck.AssertClose([nuBar], GradCheck.FiniteDifferenceGradient(x => Loss(q, x[0]), [nu]));
        var serial = new double[w * h]; var parallel = new double[w * h];
        ParallelKernels.TwoSteps(q, serial, w, h, nu);
        ParallelKernels.TwoStepsParallel(q, parallel, w, h, nu);
        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void SmoothEnergy_SerialGatherMatchesFiniteDifferences()
    {
        int n = 19;
        var u = Rand(n, 17); double w = 0.4;
        var uBar = new double[n]; double wBar = 0;
        double e = ParallelKernels.SmoothEnergyPullback(u, w, 1.0, uBar, ref wBar);
        Assert.Equal(ParallelKernels.SmoothEnergy(u, w), e);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => ParallelKernels.SmoothEnergy(x, w), u));
        GradCheck.AssertClose([wBar], GradCheck.FiniteDifferenceGradient(x => ParallelKernels.SmoothEnergy(u, x[0]), [w]));
    }

    /// <summary>
    /// Fifty runs with four chunks on whatever threads the pool hands out give the same bits: every
    /// sum that chunks split is added up in chunk order.
    /// </summary>
    [Fact]
    public void Results_DoNotDependOnScheduling()
    {
        using var _ = Use(4);
        int n = 4001, w = 61, h = 57;
        var q = Rand(n, 18); var vel = Rand(n, 19, -20, 20); var seedA = Rand(n, 20);
        var d = Rand(w * h, 21); var seedD = Rand(w * h, 22);
        (double[], double, double[], double) Once()
        {
            var qBar = new double[n]; var velBar = new double[n]; var r = new double[n]; var rBar = (double[])seedA.Clone(); double cBar = 0;
            ParallelKernels.AdvectPullback(q, vel, r, 0.61, qBar, velBar, rBar, ref cBar);
            var dBar = new double[w * h]; var res = new double[w * h]; var resBar = (double[])seedD.Clone(); double nuBar = 0;
            ParallelKernels.Diffuse2DPullback(d, res, w, h, 0.2, 0, 2, dBar, resBar, ref nuBar);
            return (qBar.Concat(velBar).ToArray(), cBar, dBar, nuBar);
        }
        var first = Once();
        for (int run = 0; run < 50; run++)
        {
            var again = Once();
            Assert.True(first.Item1.AsSpan().SequenceEqual(again.Item1), $"run {run}: advection adjoints differ");
            Assert.Equal(BitConverter.DoubleToInt64Bits(first.Item2), BitConverter.DoubleToInt64Bits(again.Item2));
            Assert.True(first.Item3.AsSpan().SequenceEqual(again.Item3), $"run {run}: diffusion adjoints differ");
            Assert.Equal(BitConverter.DoubleToInt64Bits(first.Item4), BitConverter.DoubleToInt64Bits(again.Item4));
        }
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void Trace_BilinearBacktraceMatchesFiniteDifferences(int threads)
    {
        // The reference for the device kernels' atomic scatters: computed-index reads at floor(x), clamped.
        using var _ = Use(threads);
        int nx = 8, ny = 6;
        var q = Rand(nx * ny, 4); var tu = Rand(nx * ny, 5, -2, 2); var tv = Rand(nx * ny, 6, -2, 2); var seed = Rand(nx * ny, 7); double dt = 0.8;
        double Loss(double[] qq, double[] uu, double[] vv, double d) { var r = new double[nx * ny]; ParallelKernels.Trace(qq, uu, vv, r, nx, ny, d); return Dot(seed, r); }
        var qBar = new double[nx * ny]; var tuBar = new double[nx * ny]; var tvBar = new double[nx * ny]; var result = new double[nx * ny];
        var rBar = (double[])seed.Clone(); double dtBar = 0;
        ParallelKernels.TracePullback(q, tu, tv, result, nx, ny, dt, qBar, tuBar, tvBar, rBar, ref dtBar);
        GradCheck.AssertClose(qBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, tu, tv, dt), q));
        GradCheck.AssertClose(tuBar, GradCheck.FiniteDifferenceGradient(x => Loss(q, x, tv, dt), tu));
        GradCheck.AssertClose(tvBar, GradCheck.FiniteDifferenceGradient(x => Loss(q, tu, x, dt), tv));
        GradCheck.AssertClose([dtBar], GradCheck.FiniteDifferenceGradient(x => Loss(q, tu, tv, x[0]), [dt]));
    }

    [Fact]
    public void Blur_FloatPullbackMatchesFiniteDifferences()
    {
        // float: differences at a 1e-2 relative step (float rounding), checked to 1e-2 relative.
        int n = 37;
        var x = Rand(n, 8); var seed = Rand(n, 9); double a = 0.3;
        double Loss(double[] xx, double aa)
        {
            var y = new float[n];
            ParallelKernels.Blur(xx.Select(v => (float)v).ToArray(), y, (float)aa);
            double s = 0; for (int i = 0; i < n; i++) s += seed[i] * y[i]; return s;
        }
        var xBar = new float[n]; var yBar = seed.Select(v => (float)v).ToArray(); float aBar = 0;
        ParallelKernels.BlurPullback(x.Select(v => (float)v).ToArray(), new float[n], (float)a, xBar, yBar, ref aBar);
        GradCheck.AssertClose(xBar.Select(v => (double)v).ToArray(), GradCheck.FiniteDifferenceGradient(v => Loss(v, a), x, 1e-2), 1e-2);
        GradCheck.AssertClose([aBar], GradCheck.FiniteDifferenceGradient(v => Loss(x, v[0]), [a], 1e-2), 1e-2);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void FaceGradient_BoundaryAfterGatherMatchesFiniteDifferences(int periodic)
    {
        // The boundary columns' reverse must start from a zero private adjoint, whatever the gathers left in it.
        int nx = 5, ny = 4;
        var p = Rand(nx * ny, 21); var u = Rand((nx + 1) * ny, 22); var seed = Rand((nx + 1) * ny, 23);
        double Loss(double[] pp, double[] uu) { var r = new double[(nx + 1) * ny]; ParallelKernels.FaceGradient(pp, uu, r, nx, ny, periodic); return Dot(seed, r); }
        var pBar = new double[nx * ny]; var uBar = new double[u.Length]; var uOut = new double[u.Length]; var uOutBar = (double[])seed.Clone();
        ParallelKernels.FaceGradientPullback(p, u, uOut, nx, ny, periodic, pBar, uBar, uOutBar);
        GradCheck.AssertClose(pBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, u), p));
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(p, x), u));
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void SampleRows_ChunkTapesWithRecomputedLocalsMatchFiniteDifferences(int threads)
    {
        using var _ = Use(threads);
        int w = 7, h = 5; double shift = 0.37;
        var f = Rand(w, 31); var seed = Rand(w * h, 32);
        double Loss(double[] ff, double sh) { var r = new double[w * h]; ParallelKernels.SampleRows(ff, r, w, h, sh); return Dot(seed, r); }
        var fBar = new double[w]; var result = new double[w * h]; var resultBar = (double[])seed.Clone(); double shiftBar = 0;
        ParallelKernels.SampleRowsPullback(f, result, w, h, shift, fBar, resultBar, ref shiftBar);
        GradCheck.AssertClose(fBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, shift), f));
        GradCheck.AssertClose([shiftBar], GradCheck.FiniteDifferenceGradient(x => Loss(f, x[0]), [shift]));
        var parallel = new double[w * h];
        ParallelKernels.SampleRowsParallel(f, parallel, w, h, shift);
        Assert.Equal(result, parallel);
    }
}
