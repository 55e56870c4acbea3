using DiffGen.Physics;
using Xunit.Abstractions;

namespace DiffGen.Physics.Tests;

public class PhysicsTests(ITestOutputHelper output)
{
    [Fact]
    public void ExplicitDiffusionOfASineModeDecaysAtTheAnalyticRate()
    {
        // u = sin(k x) on [0, 2 pi) with k = 2: u(t) = exp(-nu k^2 t) sin(k x).
        int n = 64; double nu = 0.1, T = 1.0, dt = 0.01, dx = 2 * Math.PI / n; int k = 2;
        var u = new double[n];
        for (int i = 0; i < n; i++) u[i] = Math.Sin(k * (i + 0.5) * dx);
        var next = new double[n];
        for (int s = 0; s < (int)Math.Round(T / dt); s++)
        {
            Diffusion.Explicit1D(u, next, nu, dt, dx, 1, Bc.Periodic, Bc.Periodic);
            next.CopyTo(u, 0);
        }
        double amp = Amplitude(u, k, dx);
        double exact = Math.Exp(-nu * k * k * T);
        output.WriteLine($"explicit: amplitude {amp:R}, exact {exact:R}, rel err {Math.Abs(amp / exact - 1):E2}");
        Assert.True(Math.Abs(amp / exact - 1) < 2e-3);
    }

    [Fact]
    public void ImplicitDiffusionOfASineModeDecaysAtTheAnalyticRate()
    {
        int nx = 32, ny = 32; double nu = 0.05, T = 1.0, dt = 0.01, L = 2 * Math.PI, dx = L / nx;
        var grid = new Grid2D(nx, ny, L, L);
        var u = grid.Evaluate((x, y) => Math.Sin(x) * Math.Sin(y));
        var next = new double[u.Length];
        for (int s = 0; s < 100; s++)
        {
            Diffusion.SolveImplicit(u, next, nu, dt, dx, dx, nx, ny, Bc.Periodic, Bc.Periodic, Bc.Periodic, Bc.Periodic, 1e-12, 1000);
            next.CopyTo(u, 0);
        }
        var init = grid.Evaluate((x, y) => Math.Sin(x) * Math.Sin(y));
        double amp = Dot(u, init) / Dot(init, init);
        double exact = Math.Exp(-nu * 2 * T);
        output.WriteLine($"implicit: amplitude {amp:R}, exact {exact:R}, rel err {Math.Abs(amp / exact - 1):E2}");
        Assert.True(Math.Abs(amp / exact - 1) < 2e-3); // backward Euler: O(nu k^2 dt) = O(1e-3)
    }

    [Fact]
    public void SemiLagrangianAdvectionReturnsAfterOnePeriodAndConvergesAtFirstOrder()
    {
        // Constant velocity 1 on [0, 1), fixed CFL 0.4: linear-interpolation SL is first order in dx.
        var errors = new List<double>();
        int[] sizes = [32, 64, 128, 256];
        foreach (int n in sizes)
        {
            double dx = 1.0 / n, dt = 0.4 * dx;
            int steps = (int)Math.Round(1.0 / dt);
            var q = new double[n];
            for (int i = 0; i < n; i++) q[i] = Math.Sin(2 * Math.PI * (i + 0.5) * dx);
            var q0 = (double[])q.Clone();
            var vel = Enumerable.Repeat(1.0, n).ToArray();
            var next = new double[n];
            for (int s = 0; s < steps; s++) { Advection.SemiLagrangian1D(q, vel, next, dt, dx, Bc.Periodic, Bc.Periodic, 0); next.CopyTo(q, 0); }
            errors.Add(MaxDiff(q, q0));
        }
        for (int m = 1; m < sizes.Length; m++)
        {
            double order = Math.Log2(errors[m - 1] / errors[m]);
            output.WriteLine($"SL n={sizes[m]}: error {errors[m]:E3}, observed order {order:F3}");
            Assert.InRange(order, 0.85, 1.2);
        }
        Assert.True(errors[^1] < 0.05);
    }

    [Fact]
    public void MacCormackAdvectionConvergesFasterThanSemiLagrangian()
    {
        // 2D diagonal advection of a smooth periodic bump by a constant MAC velocity (1, 0.5), one period in x.
        var errSl = new List<double>();
        var errMc = new List<double>();
        int[] sizes = [32, 64, 128];
        foreach (int n in sizes)
        {
            double dx = 1.0 / n, dt = 0.4 * dx;
            int steps = (int)Math.Round(1.0 / dt);
            var grid = new Grid2D(n, n, 1, 1);
            var q0 = grid.Evaluate((x, y) => Math.Sin(2 * Math.PI * x) * Math.Cos(2 * Math.PI * y) * 0.5 + 0.5);
            var u = Enumerable.Repeat(1.0, (n + 1) * n).ToArray();
            var v = Enumerable.Repeat(1.0, n * (n + 1)).ToArray();
            var a = (double[])q0.Clone(); var b = (double[])q0.Clone(); var t = new double[q0.Length];
            for (int s = 0; s < steps; s++)
            {
                Advection.SemiLagrangianScalar2D(a, u, v, t, n, n, dx, dx, dt, 0, 0, 0, 0, 0, 0, 0, 0, 0); t.CopyTo(a, 0);
                Advection.MacCormackScalar2D(b, u, v, t, n, n, dx, dx, dt, 0, 0, 0, 0, 0, 0, 0, 0); t.CopyTo(b, 0);
            }
            errSl.Add(MaxDiff(a, q0)); errMc.Add(MaxDiff(b, q0));
        }
        for (int m = 1; m < sizes.Length; m++)
        {
            double oSl = Math.Log2(errSl[m - 1] / errSl[m]), oMc = Math.Log2(errMc[m - 1] / errMc[m]);
            output.WriteLine($"2D n={sizes[m]}: SL error {errSl[m]:E3} (order {oSl:F2}), MacCormack error {errMc[m]:E3} (order {oMc:F2})");
            Assert.True(errMc[m] < errSl[m]);
            Assert.InRange(oSl, 0.6, 1.3);
            Assert.True(oMc > 1.5, $"MacCormack order {oMc:F2}");
        }
    }

    [Theory]
    [InlineData("periodic")]
    [InlineData("closed")]
    [InlineData("closed+disc")]
    [InlineData("open")]
    public void ProjectionLeavesDivergenceBelowTheSolverTolerance(string setup)
    {
        int nx = 24, ny = 20; double tol = 1e-8;
        var boundary = setup switch
        {
            "periodic" => Boundary2D.Periodic,
            "open" => new Boundary2D(BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.ZeroGradient),
            _ => Boundary2D.Closed,
        };
        var g = new StaggeredGrid2D(nx, ny, nx, ny, boundary);
        var (u, v) = g.Evaluate((x, y) => Math.Sin(0.3 * x + 0.1 * y) + 0.2 * Math.Cos(0.7 * y), (x, y) => Math.Cos(0.2 * x * y / 10) + 0.3);
        int[] solid = [];
        if (setup == "closed+disc")
        {
            solid = new int[nx * ny];
            for (int j = 0; j < ny; j++) for (int i = 0; i < nx; i++) if (Sq(i + 0.5 - 12) + Sq(j + 0.5 - 10) < 16) solid[j * nx + i] = 1;
            Fluids.ApplyObstacle(u, v, solid, nx, ny);
        }
        Fluids.ApplyWalls(u, v, nx, ny, boundary.XLoCode, boundary.XHiCode, boundary.YLoCode, boundary.YHiCode);
        if (setup == "periodic") { for (int j = 0; j < ny; j++) u[j * (nx + 1) + nx] = u[j * (nx + 1)]; for (int i = 0; i < nx; i++) v[ny * nx + i] = v[i]; }
        double before = MaxAbs(g.Divergence(u, v), solid);
        g.Project(u, v, solid, tol);
        double after = MaxAbs(g.Divergence(u, v), solid);
        output.WriteLine($"{setup}: max |div| before {before:E3}, after {after:E3} (tolerance {tol:E0})");
        Assert.True(before > 1e-2);
        Assert.True(after <= tol * 1.0001, $"after = {after}");
    }

    [Fact]
    public void TaylorGreenVortexDecaysAtTheAnalyticRate()
    {
        // u = sin x cos y, v = -cos x sin y on [0, 2 pi)^2: amplitude exp(-2 nu t). Semi-Lagrangian
        // advection adds numerical diffusion O(dx^2 / dt), so the rate error must shrink under refinement.
        var err = new List<double>();
        foreach (int n in new[] { 32, 64 })
        {
            double L = 2 * Math.PI, dx = L / n, nu = 0.2, dt = 0.05, T = 1.0;
            var g = new StaggeredGrid2D(n, n, L, L, Boundary2D.Periodic);
            var (u, v) = g.Evaluate((x, y) => Math.Sin(x) * Math.Cos(y), (x, y) => -Math.Cos(x) * Math.Sin(y));
            var u0 = (double[])u.Clone(); var v0 = (double[])v.Clone();
            var uo = new double[u.Length]; var vo = new double[v.Length]; var p = new double[n * n];
            int substeps = (int)Math.Ceiling(dt / Diffusion.MaxStableExplicitDt(nu, dx, dx, 1));
            for (int s = 0; s < (int)Math.Round(T / dt); s++)
            {
                Fluids.IncompressibleStep(u, v, uo, vo, p, [], n, n, dx, dx, dt, nu, substeps, 0, 0, 0, 0, 1, 1e-10, 1000);
                uo.CopyTo(u, 0); vo.CopyTo(v, 0);
            }
            double amp = (Dot(u, u0) + Dot(v, v0)) / (Dot(u0, u0) + Dot(v0, v0));
            double rate = -Math.Log(amp) / T;
            err.Add(Math.Abs(rate / (2 * nu) - 1));
            output.WriteLine($"Taylor-Green {n}x{n}: measured decay rate {rate:F4}, analytic 2 nu = {2 * nu:F4}, rel err {err[^1]:P2}");
        }
        Assert.True(err[1] < 0.6 * err[0]);
        Assert.True(err[1] < 0.10);
    }

    [Fact]
    public void WakeFlowAtRe100ShedsVortices()
    {
        var w = WakeFlow2D.PbdlWake(48, 96, reynolds: 100, tolerance: 1e-3);
        var (u, v) = w.InitialState();
        var uo = new double[u.Length]; var vo = new double[v.Length]; var p = new double[w.Nx * w.Ny];
        var probe = new List<double>();
        var grid = new StaggeredGrid2D(w.Nx, w.Ny, w.Width, w.Height, w.Boundary);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        int steps = 600;
        for (int s = 0; s < steps; s++)
        {
            w.Step(u, v, uo, vo, p);
            uo.CopyTo(u, 0); vo.CopyTo(v, 0);
            probe.Add(grid.Sample(u, v, w.DiscX, w.DiscY + 3 * w.DiscRadius).U);
        }
        var tail = probe.Skip(steps / 2).ToArray();
        int crossings = 0;
        double mean = tail.Average();
        for (int k = 1; k < tail.Length; k++) if ((tail[k - 1] - mean) * (tail[k] - mean) < 0) crossings++;
        double amplitude = tail.Max() - tail.Min();
        output.WriteLine($"wake: {steps} steps in {sw.Elapsed.TotalSeconds:F1} s; lateral velocity behind the disc: peak-to-peak {amplitude:F3}, {crossings} mean crossings in the last {tail.Length} steps");
        Assert.True(amplitude > 0.1, $"amplitude {amplitude}");
        Assert.True(crossings >= 4, $"crossings {crossings}");
    }

    [Fact]
    public void WakeFlowWithOpenSidesStaysBoundedAndDivergenceFree()
    {
        // The notebook-style variant: all sides open, v forced to U at the bottom and on both side columns.
        var w = WakeFlow2D.PbdlWake(32, 64, reynolds: 100, boundary: Boundary2D.Open, forceSides: true, tolerance: 1e-6);
        var (u, v) = w.InitialState();
        var uo = new double[u.Length]; var vo = new double[v.Length]; var p = new double[w.Nx * w.Ny];
        for (int s = 0; s < 150; s++) { w.Step(u, v, uo, vo, p); uo.CopyTo(u, 0); vo.CopyTo(v, 0); }
        var grid = new StaggeredGrid2D(w.Nx, w.Ny, w.Width, w.Height, w.Boundary);
        var div = grid.Divergence(u, v);
        double maxDiv = 0;
        for (int k = 0; k < div.Length; k++) if (w.Solid[k] == 0) maxDiv = Math.Max(maxDiv, Math.Abs(div[k]));
        double maxSpeed = v.Concat(u).Max(Math.Abs);
        output.WriteLine($"open wake after 150 steps: max |div| {maxDiv:E2}, max |velocity| {maxSpeed:F3}");
        Assert.True(maxDiv <= 1e-6 * 1.0001);
        Assert.InRange(maxSpeed, 1.0, 3.0);
    }

    private static double Amplitude(double[] u, int k, double dx)
    {
        double s = 0, c = 0;
        for (int i = 0; i < u.Length; i++) { double x = (i + 0.5) * dx; s += u[i] * Math.Sin(k * x); c += Math.Sin(k * x) * Math.Sin(k * x); }
        return s / c;
    }

    internal static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    private static double Sq(double x) => x * x;
    private static double MaxDiff(double[] a, double[] b) { double m = 0; for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i])); return m; }
    private static double MaxAbs(double[] a, int[] solid) { double m = 0; for (int i = 0; i < a.Length; i++) if (solid.Length == 0 || solid[i] == 0) m = Math.Max(m, Math.Abs(a[i])); return m; }
}
