namespace DiffGen.Physics.Tests;

/// <summary>
/// The [DataParallel] physics kernels' pullbacks on several threads (small chunks, so test-sized grids
/// split) against central finite differences, and their parallel primals against the kernels.
/// </summary>
public class ParallelKernelTests
{
    private static double[] Rand(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => r.NextDouble() - 0.5).ToArray();
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();

    [Theory]
    [InlineData(1, Bc.Periodic, Bc.Periodic, Bc.Zero, Bc.ZeroGradient)]
    [InlineData(2, Bc.Periodic, Bc.Periodic, Bc.Zero, Bc.ZeroGradient)]
    [InlineData(3, Bc.Zero, Bc.ZeroGradient, Bc.Periodic, Bc.Periodic)]
    public void EulerStep2D_ParallelPullbackMatchesFiniteDifferences(int threads, int xLo, int xHi, int yLo, int yHi)
    {
        using var _ = Parallelism.Use(threads, minChunkWork: 1);
        int w = 7, h = 6; double nu = 0.3, dt = 0.1, dx = 0.5, dy = 0.4;
        var q = Rand(w * h, 1); var seed = Rand(w * h, 2);
        double Loss(double[] qq, double n) { var r = new double[w * h]; Diffusion.EulerStep2D(qq, r, w, h, w, h, n, dt, dx, dy, xLo, xHi, yLo, yHi); return Dot(seed, r); }
        var qBar = new double[w * h]; var result = new double[w * h]; var resultBar = (double[])seed.Clone(); double nuBar = 0, dtBar = 0, dxBar = 0, dyBar = 0;
        Diffusion.EulerStep2DPullback(q, result, w, h, w, h, nu, dt, dx, dy, xLo, xHi, yLo, yHi, qBar, resultBar, ref nuBar, ref dtBar, ref dxBar, ref dyBar);
        GradCheck.AssertClose(qBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, nu), q));
        GradCheck.AssertClose([nuBar], GradCheck.FiniteDifferenceGradient(x => Loss(q, x[0]), [nu]));
        var parallel = new double[w * h];
        Diffusion.EulerStep2DParallel(q, parallel, w, h, w, h, nu, dt, dx, dy, xLo, xHi, yLo, yHi);
        Assert.Equal(result, parallel);
    }
}
