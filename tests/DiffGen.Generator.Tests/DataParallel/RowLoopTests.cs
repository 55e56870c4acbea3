namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>
/// Gather-form reverses written as row loops (RowLoopKernels): forward results equal to the primal,
/// adjoints against central finite differences, seeds consumed, at 1 to 4 threads where the loop runs on threads.
/// </summary>
public class RowLoopTests
{
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
    [InlineData(13, 9)]
    [InlineData(3, 7)]
    [InlineData(4, 4)]
    [InlineData(6, 2)]
    public void Stencil_RowLoopsMatchFiniteDifferences(int nx, int ny)
    {
        var u = Rand(nx * ny, 1); var seed = Rand(nx * ny, 2); double alpha = 0.15;
        double Loss(double[] uu, double aa) { var next = new double[nx * ny]; RowLoopKernels.Stencil(uu, next, nx, ny, aa); return Dot(seed, next); }
        var uBar = new double[nx * ny]; var next = new double[nx * ny]; var nextBar = (double[])seed.Clone(); double alphaBar = 0;
        RowLoopKernels.StencilPullback(u, next, nx, ny, alpha, uBar, nextBar, ref alphaBar);
        var expected = new double[nx * ny]; RowLoopKernels.Stencil(u, expected, nx, ny, alpha);
        Assert.Equal(expected, next);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, alpha), u));
        GradCheck.AssertClose([alphaBar], GradCheck.FiniteDifferenceGradient(x => Loss(u, x[0]), [alpha]));
        // The interior's seeds are consumed; the rim's (never written) stay.
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++)
                Assert.Equal(j > 0 && j < ny - 1 && i > 0 && i < nx - 1 ? 0.0 : seed[j * nx + i], nextBar[j * nx + i]);
    }

    [Theory]
    [MemberData(nameof(ParallelLoopTests.Threads), MemberType = typeof(ParallelLoopTests))]
    public void StencilRows_FloatOnThreadsMatchesFiniteDifferences(int threads)
    {
        // float: differences at a 1e-2 relative step, checked to 1e-2 relative (as the other float kernels).
        using var _ = Use(threads);
        int nx = 11, ny = 10;
        var u = Rand(nx * ny, 3); var seed = Rand(nx * ny, 4); double alpha = 0.2;
        float[] F(double[] x) => x.Select(v => (float)v).ToArray();
        double Loss(double[] uu, double aa) { var next = new float[nx * ny]; RowLoopKernels.StencilRows(F(uu), next, nx, ny, (float)aa); double s = 0; for (int i = 0; i < next.Length; i++) s += seed[i] * next[i]; return s; }
        var uBar = new float[nx * ny]; var next = new float[nx * ny]; var nextBar = F(seed); float alphaBar = 0;
        RowLoopKernels.StencilRowsPullback(F(u), next, nx, ny, (float)alpha, uBar, nextBar, ref alphaBar);
        var expected = new float[nx * ny]; RowLoopKernels.StencilRows(F(u), expected, nx, ny, (float)alpha);
        Assert.Equal(expected, next);
        GradCheck.AssertClose(uBar.Select(v => (double)v).ToArray(), GradCheck.FiniteDifferenceGradient(x => Loss(x, alpha), u, 1e-2), 1e-2);
        GradCheck.AssertClose([alphaBar], GradCheck.FiniteDifferenceGradient(x => Loss(u, x[0]), [alpha], 1e-2), 1e-2);
    }

    [Theory]
    [InlineData(23)]
    [InlineData(5)]
    [InlineData(4)]
    public void Sweep_DescendingWithGuardedReadsMatchesFiniteDifferences(int n)
    {
        var u = Rand(n, 5); var seed = Rand(n, 6); double a = 0.7;
        double Loss(double[] uu, double aa) { var next = new double[n]; RowLoopKernels.Sweep(uu, next, aa); return Dot(seed, next); }
        var uBar = new double[n]; var next = new double[n]; var nextBar = (double[])seed.Clone(); double aBar = 0;
        RowLoopKernels.SweepPullback(u, next, a, uBar, nextBar, ref aBar);
        var expected = new double[n]; RowLoopKernels.Sweep(u, expected, a);
        Assert.Equal(expected, next);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, a), u));
        GradCheck.AssertClose([aBar], GradCheck.FiniteDifferenceGradient(x => Loss(u, x[0]), [a]));
    }

    [Fact]
    public void Stencil_RunsTwiceToTheSameBits()
    {
        // The reverse of a serial loop is one fixed order of additions: the same bits every run.
        int nx = 37, ny = 29;
        var u = Rand(nx * ny, 7); var seed = Rand(nx * ny, 8);
        (double[], double) Once()
        {
            var uBar = new double[nx * ny]; var nextBar = (double[])seed.Clone(); double aBar = 0;
            RowLoopKernels.StencilPullback(u, new double[nx * ny], nx, ny, 0.1, uBar, nextBar, ref aBar);
            return (uBar, aBar);
        }
        var first = Once();
        for (int run = 0; run < 50; run++)
        {
            var again = Once();
            Assert.True(first.Item1.AsSpan().SequenceEqual(again.Item1), $"run {run}: adjoints differ");
            Assert.Equal(BitConverter.DoubleToInt64Bits(first.Item2), BitConverter.DoubleToInt64Bits(again.Item2));
        }
    }
}
