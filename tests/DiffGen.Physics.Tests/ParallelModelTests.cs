using Xunit.Abstractions;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The models' steps and the pressure solve on threads (issue 12 part 2): at 1, 2 and 3 threads, with chunks
/// small enough that test-sized grids split, the primal results are the same bits (every parallel loop is
/// element-wise, and the solve's reductions use a fixed block partition), and the gradients agree within
/// 1e-12 (their scatter loops add per-chunk buffers, so the chunk count may change the rounding). The
/// gradients themselves are checked against finite differences by the models' own tests.
/// </summary>
public class ParallelModelTests(ITestOutputHelper output)
{
    private static readonly int[] ThreadCounts = [1, 2, 3];

    // The solve's reduction block (DiffGen.Physics.Threads.Block, internal): grids above it sum in several blocks.
    private const int ReductionBlock = 8192;

    // Work per chunk small enough that every parallel loop of a test-sized grid runs in several chunks.
    private const int SmallChunks = 64;

    private static double[] Wave(int n, double a, double b) => [.. Enumerable.Range(0, n).Select(k => a * Math.Sin(b * k + 0.3) + 0.1 * Math.Cos(0.7 * k))];

    /// <summary>One step's primal output and gradients, run at a thread count.</summary>
    private delegate (double[] Next, double[] Gradient) StepRun();

    private void AssertSameAtEveryThreadCount(string what, StepRun run)
    {
        (double[] Next, double[] Gradient)? first = null;
        foreach (int threads in ThreadCounts)
        {
            (double[] Next, double[] Gradient) r;
            using (Parallelism.Use(threads, SmallChunks)) r = run();
            Assert.True(r.Gradient.Any(g => g != 0), $"{what}: the gradient is zero");
            if (first is not { } f) { first = r; continue; }
            Assert.Equal(f.Next, r.Next);
            double scale = f.Gradient.Max(Math.Abs);
            double diff = f.Gradient.Zip(r.Gradient, (a, b) => Math.Abs(a - b)).Max();
            output.WriteLine($"{what}: {threads} threads, primal bit-equal, gradient max difference {diff:E2} (scale {scale:E2})");
            Assert.True(diff <= 1e-12 * scale, $"{what} at {threads} threads: gradient differs by {diff:E3} (scale {scale:E3})");
        }
    }

    [Fact]
    public void Burgers2DStep_SameResultsAt1To3Threads()
    {
        var m = new Burgers2D(new Grid2D(40, 36, 40, 36, Boundary2D.Periodic), viscosity: 0.1, dt: 0.2);
        int n = m.PackedLength;
        var state = Wave(n, 0.8, 0.37);
        var force = Wave(n, 0.2, 0.11);
        var seed = Wave(n, 1, 0.29);
        AssertSameAtEveryThreadCount("Burgers2D 40x36", () =>
        {
            var next = new double[n];
            m.StepPacked(state, force, next);
            double[] sb = new double[n], fb = new double[n];
            m.StepPackedBackward(state, force, new double[n], sb, fb, (double[])seed.Clone());
            return (next, [.. sb, .. fb]);
        });
    }

    [Fact]
    public void SmokeStep_SameResultsAt1To3Threads()
    {
        // 96 x 90 cells: more than one reduction block (ReductionBlock), so the CG sums are blocked too.
        var s = Smoke2D.PbdlPlume(96, 90);
        int n = s.PackedLength, nc = s.Nx * s.Ny;
        var state = Wave(n, 0.3, 0.45);
        for (int k = 0; k < nc; k++) state[k] = Math.Abs(state[k]);
        var inflow = s.DiscInflow(40, 8, 5, 0.5);
        var seed = Wave(n, 1, 0.8);
        AssertSameAtEveryThreadCount("Smoke2D 96x90", () =>
        {
            var next = new double[n];
            s.StepPacked(state, inflow, next);
            double[] sb = new double[n], ib = new double[nc];
            s.StepPackedBackward(state, inflow, new double[n], sb, ib, (double[])seed.Clone());
            return (next, [.. sb, .. ib]);
        });
    }

    [Fact]
    public void Smoke3DStep_SameResultsAt1To3Threads()
    {
        var s = Smoke3D.ClosedBox(14, 16, 12);
        int n = s.PackedLength, nc = 14 * 16 * 12;
        var state = Wave(n, 0.3, 0.41);
        for (int k = 0; k < nc; k++) state[k] = Math.Abs(state[k]);
        var inflow = Wave(nc, 0.2, 0.23).Select(Math.Abs).ToArray();
        var seed = Wave(n, 1, 0.7);
        AssertSameAtEveryThreadCount("Smoke3D 14x16x12", () =>
        {
            var next = new double[n];
            s.StepPacked(state, inflow, next);
            double[] sb = new double[n], ib = new double[nc];
            s.StepPackedBackward(state, inflow, new double[n], sb, ib, (double[])seed.Clone());
            return (next, [.. sb, .. ib]);
        });
    }

    [Fact]
    public void WakeStep_SameResultsAt1To3Threads()
    {
        var w = WakeFlow2D.PbdlWake(32, 64);
        int n = w.PackedLength;
        var state = Wave(n, 0.2, 0.33);
        var seed = Wave(n, 1, 0.61);
        AssertSameAtEveryThreadCount("WakeFlow2D 32x64", () =>
        {
            var next = new double[n];
            w.StepPacked(state, next);
            double[] sb = new double[n];
            w.StepPackedBackward(state, new double[n], sb, (double[])seed.Clone());
            return (next, sb);
        });
    }

    [Fact]
    public void ParallelPrimalIsTheKernel()
    {
        // The model's primal runs the generated SmokeStepParallel; the [Differentiable] kernel itself is the
        // serial reference, and they agree to the bit.
        var s = Smoke2D.PbdlPlume(40, 44);
        int nc = 40 * 44, nu = 41 * 44, nv = 40 * 45;
        var smoke = Wave(nc, 0.3, 0.45).Select(Math.Abs).ToArray();
        var u = Wave(nu, 0.4, 0.21);
        var v = Wave(nv, 0.4, 0.17);
        var inflow = s.DiscInflow(20, 5, 4, 0.5);
        double[] sn = new double[nc], un = new double[nu], vn = new double[nv], p = new double[nc];
        using (Parallelism.Use(3, SmallChunks)) s.Step(smoke, u, v, inflow, sn, un, vn, p);
        double[] sn2 = new double[nc], un2 = new double[nu], vn2 = new double[nv], p2 = new double[nc];
        using (Parallelism.Use(1)) ModelKernels.SmokeStep(smoke, u, v, inflow, sn2, un2, vn2, p2, s.Grid, s.Dt, s.Buoyancy, s.Tolerance, s.MaxIterations);
        Assert.Equal(sn2, sn);
        Assert.Equal(un2, un);
        Assert.Equal(vn2, vn);
        Assert.Equal(p2, p);
    }

    public static TheoryData<string, int, int, int, int, int> PressureCases => new()
    {
        // name, nx, ny, nz, closed (1) or open top (0), solid disc (1)
        { "closed 2D 160x120", 160, 120, 1, 1, 0 },
        { "open top 2D 130x90 with a disc", 130, 90, 1, 0, 1 },
        { "closed 3D 24x20x18", 24, 20, 18, 1, 0 },
    };

    private static (double[] P, int Iterations) SolvePressure(int nx, int ny, int nz, bool closed, bool disc)
    {
        int n = nx * ny * nz;
        var rng = new Random(nx * 7 + ny);
        var solid = new int[n];
        if (disc)
            for (int j = 0; j < ny; j++)
                for (int i = 0; i < nx; i++)
                    if ((i - nx / 2.0) * (i - nx / 2.0) + (j - ny / 3.0) * (j - ny / 3.0) < nx * nx / 36.0) solid[j * nx + i] = 1;
        var rhs = new double[n];
        for (int k = 0; k < n; k++) rhs[k] = solid[k] != 0 ? 0 : rng.NextDouble() - 0.5;
        var p = new double[n];
        int top = closed ? Bc.Zero : Bc.ZeroGradient;
        int iterations = nz == 1
            ? Pressure.SolvePressureWithStats(rhs, p, solid, nx, ny, 1, 1, Bc.Zero, Bc.Zero, Bc.Zero, top, 1e-9, 500).Iterations
            : Pressure.SolvePressure3DWithStats(rhs, p, solid, nx, ny, nz, 1, 1, 1, Bc.Zero, Bc.Zero, Bc.Zero, top, Bc.Zero, Bc.Zero, 1e-9, 500).Iterations;
        return (p, iterations);
    }

    [Theory]
    [MemberData(nameof(PressureCases))]
    public void PressureSolve_SameBitsAtEveryThreadCount(string name, int nx, int ny, int nz, int closed, int disc)
    {
        Assert.True(nx * ny * nz > ReductionBlock, "the case must have several reduction blocks");
        (double[] P, int Iterations)? first = null;
        foreach (int threads in ThreadCounts)
        {
            (double[] P, int Iterations) r;
            using (Parallelism.Use(threads, SmallChunks)) r = SolvePressure(nx, ny, nz, closed == 1, disc == 1);
            output.WriteLine($"{name}: {threads} threads, {r.Iterations} iterations");
            if (first is not { } f) { first = r; continue; }
            Assert.Equal(f.Iterations, r.Iterations);
            Assert.Equal(f.P, r.P);
        }
    }

    [Fact]
    public void PressureSolve_SameBitsIn50RunsAt2Threads()
    {
        double[]? first = null;
        for (int run = 0; run < 50; run++)
        {
            double[] p;
            using (Parallelism.Use(2, SmallChunks)) p = SolvePressure(150, 100, 1, closed: true, disc: true).P;
            if (first is null) first = p;
            else Assert.Equal(first, p);
        }
    }
}
