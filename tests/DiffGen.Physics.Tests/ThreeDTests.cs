using DiffGen.Physics;
using Xunit.Abstractions;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The 3D solvers: the pressure solve (the 2D solve's operator, multigrid and CG), projection, advection,
/// diffusion, the 3D Taylor-Green vortex against its analytic decay, and gradients against central differences.
/// </summary>
public class ThreeDTests(ITestOutputHelper output)
{
    public static TheoryData<string, int, int, int, Boundary3D, bool> SolverCases => new()
    {
        { "closed box 32³", 32, 32, 32, Boundary3D.Closed, false },
        { "periodic 24x16x20", 24, 16, 20, Boundary3D.Periodic, false },
        { "walls, open top, ball 20x28x20", 20, 28, 20, new Boundary3D(BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.ZeroGradient, BoundaryKind.Zero, BoundaryKind.Zero), true },
        { "periodic x/z, open y, ball 16x24x12", 16, 24, 12, new Boundary3D(BoundaryKind.Periodic, BoundaryKind.Periodic, BoundaryKind.ZeroGradient, BoundaryKind.ZeroGradient, BoundaryKind.Periodic, BoundaryKind.Periodic), true },
    };

    [Theory]
    [MemberData(nameof(SolverCases))]
    public void PressureSolve_ConvergesInFewIterations(string name, int nx, int ny, int nz, Boundary3D b, bool ball)
    {
        var g = new Grid3D(nx, ny, nz, nx, 0.5 * ny, nz, b);
        var solid = ball ? g.BallMask(nx / 2.0, 0.5 * ny / 3.0, nz / 2.0, nx / 5.0) : new int[g.Count];
        var rng = new Random(nx * 31 + ny * 7 + nz);
        var rhs = new double[g.Count];
        for (int k = 0; k < rhs.Length; k++) rhs[k] = solid[k] != 0 ? 0 : rng.NextDouble() - 0.5;
        var p = new double[g.Count];
        var (iterations, residual) = Pressure.SolvePressure3DWithStats(rhs, p, solid, nx, ny, nz, g.Dx, g.Dy, g.Dz,
            b.XLoCode, b.XHiCode, b.YLoCode, b.YHiCode, b.ZLoCode, b.ZHiCode, 1e-8, 200);
        output.WriteLine($"{name}: {iterations} iterations, residual {residual:E2}");
        Assert.True(residual <= 1e-8, $"{name}: residual {residual:E2}");
        Assert.True(iterations <= 40, $"{name}: {iterations} iterations");
    }

    private static double Dot(double[] a, double[] b) => PhysicsTests.Dot(a, b);

    private void AssertGrad(double[] actual, double[] expected, string what, double tol = 1e-6)
    {
        double scale = expected.Max(Math.Abs);
        double err = GradCheck.MaxRelativeError(actual, expected, 1e-6 * scale);
        output.WriteLine($"{what}: max relative error {err:E2} over {actual.Length} entries");
        GradCheck.AssertClose(actual, expected, tol, what, 1e-6 * scale);
    }

    /// <summary>Runs <paramref name="steps"/> 3D incompressible steps on a periodic cube [0, 2 pi)³ and returns the decay rate of the velocity's projection on its start.</summary>
    private static double TaylorGreenRate(int n, double amplitude, double nu, double dt, double T)
    {
        double L = 2 * Math.PI, dx = L / n;
        var g = new StaggeredGrid3D(n, n, n, L, L, L, Boundary3D.Periodic);
        var (u, v, w) = g.Evaluate((x, y, z) => amplitude * Math.Sin(x) * Math.Cos(y) * Math.Cos(z), (x, y, z) => -amplitude * Math.Cos(x) * Math.Sin(y) * Math.Cos(z), (x, y, z) => 0);
        double[] u0 = (double[])u.Clone(), v0 = (double[])v.Clone();
        double[] uo = new double[u.Length], vo = new double[v.Length], wo = new double[w.Length], p = new double[n * n * n];
        int substeps = (int)Math.Ceiling(dt / Diffusion.MaxStableExplicitDt(nu, dx, dx, dx, 1));
        for (int s = 0; s < (int)Math.Round(T / dt); s++)
        {
            Fluid3D.IncompressibleStep(u, v, w, uo, vo, wo, p, [], g, dt, nu, substeps, 1e-10, 1000);
            uo.CopyTo(u, 0); vo.CopyTo(v, 0); wo.CopyTo(w, 0);
        }
        double amp = (Dot(u, u0) + Dot(v, v0)) / (Dot(u0, u0) + Dot(v0, v0));
        return -Math.Log(amp) / T;
    }

    [Fact]
    public void TaylorGreenVortex3D_DecaysAtTheAnalyticRate()
    {
        // u = A sin x cos y cos z, v = -A cos x sin y cos z, w = 0 is an eigenfunction of the Laplacian (k² = 3):
        // viscosity alone decays it as exp(-3 nu t). At small amplitude advection (nonlinear transfer and the
        // semi-Lagrangian numerical diffusion, both O(A)) is negligible, so the measured rate is the viscous one.
        double nu = 0.1;
        double weak = TaylorGreenRate(16, 0.01, nu, 0.1, 1.0);
        output.WriteLine($"3D Taylor-Green 16³, A = 0.01: decay rate {weak:F5}, analytic 3 nu = {3 * nu:F5}, rel err {Math.Abs(weak / (3 * nu) - 1):P2}");
        Assert.True(Math.Abs(weak / (3 * nu) - 1) < 0.01);
        // At A = 1 the semi-Lagrangian numerical diffusion adds to the rate; the excess must shrink under refinement.
        var err = new List<double>();
        foreach (int n in new[] { 16, 32 })
        {
            double rate = TaylorGreenRate(n, 1.0, nu, 0.1, 1.0);
            err.Add(Math.Abs(rate / (3 * nu) - 1));
            output.WriteLine($"3D Taylor-Green {n}³, A = 1: decay rate {rate:F4}, analytic 3 nu = {3 * nu:F4}, rel err {err[^1]:P2}");
        }
        Assert.True(err[1] < 0.6 * err[0]);
    }

    public static TheoryData<string, Boundary3D, bool> ProjectionCases => new()
    {
        { "periodic", Boundary3D.Periodic, false },
        { "closed", Boundary3D.Closed, false },
        { "open top", new Boundary3D(BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.ZeroGradient, BoundaryKind.Zero, BoundaryKind.Zero), false },
        { "closed + ball", Boundary3D.Closed, true },
        { "open all round + ball", Boundary3D.Open, true },
    };

    [Theory]
    [MemberData(nameof(ProjectionCases))]
    public void Projection3D_RemovesTheDivergence(string name, Boundary3D b, bool ball)
    {
        int nx = 12, ny = 16, nz = 10;
        var g = new StaggeredGrid3D(nx, ny, nz, nx, ny, nz, b);
        var rng = new Random(3);
        double R() => rng.NextDouble() - 0.5;
        var (u, v, w) = g.Evaluate((x, y, z) => R(), (x, y, z) => R(), (x, y, z) => R());
        var solid = ball ? g.Cells.BallMask(6, 7, 5, 2.5) : [];
        Fluid3D.ApplyWalls(u, v, w, g);
        Fluid3D.ApplyObstacle(u, v, w, solid, g);
        // On a periodic axis the seam faces must agree (the last face repeats the first).
        if (b.XLo == BoundaryKind.Periodic)
            for (int l = 0; l < nz; l++) for (int j = 0; j < ny; j++) u[(l * ny + j) * (nx + 1) + nx] = u[(l * ny + j) * (nx + 1)];
        if (b.YLo == BoundaryKind.Periodic)
            for (int l = 0; l < nz; l++) for (int i = 0; i < nx; i++) v[(l * (ny + 1) + ny) * nx + i] = v[l * (ny + 1) * nx + i];
        if (b.ZLo == BoundaryKind.Periodic)
            for (int j = 0; j < ny; j++) for (int i = 0; i < nx; i++) w[(nz * ny + j) * nx + i] = w[j * nx + i];
        double before = g.Divergence(u, v, w).Where((_, k) => solid.Length == 0 || solid[k] == 0).Max(Math.Abs);
        g.Project(u, v, w, solid, tolerance: 1e-8);
        double after = g.Divergence(u, v, w).Where((_, k) => solid.Length == 0 || solid[k] == 0).Max(Math.Abs);
        output.WriteLine($"{name}: max |div| {before:E2} -> {after:E2}");
        Assert.True(before > 0.1);
        Assert.True(after <= 1.5e-8, $"{name}: {after:E2}");
    }

    [Fact]
    public void Projection3DAdjointMatchesFiniteDifferences()
    {
        int nx = 5, ny = 6, nz = 4;
        var b = new Boundary3D(BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.Periodic, BoundaryKind.Periodic, BoundaryKind.Zero, BoundaryKind.ZeroGradient);
        var g = new StaggeredGrid3D(nx, ny, nz, nx, ny, nz, b);
        var solid = g.Cells.BallMask(2.5, 3, 2, 1.0);
        var rng = new Random(8);
        double[] Rand(int n) => [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5)];
        double[] u = Rand(g.UCount), v = Rand(g.VCount), w = Rand(g.WCount);
        double[] wu = Rand(g.UCount), wv = Rand(g.VCount), ww = Rand(g.WCount);
        const double tol = 1e-13;
        void Project(double[] ui, double[] wi, double[] uo, double[] vo, double[] wo, double[] p) =>
            Fluid3D.Project(ui, v, wi, uo, vo, wo, p, solid, g, tol, 1000);
        double Loss(double[] ui, double[] wi)
        {
            double[] uo = new double[ui.Length], vo = new double[v.Length], wo = new double[wi.Length], p = new double[g.Cells.Count];
            Project(ui, wi, uo, vo, wo, p);
            return Dot(wu, uo) + vo.Select((x, k) => wv[k] * x * x).Sum() + Dot(ww, wo) + 0.1 * Dot(p, p);
        }
        double[] uOut = new double[u.Length], vOut = new double[v.Length], wOut = new double[w.Length], pr = new double[g.Cells.Count];
        Project(u, w, uOut, vOut, wOut, pr);
        double[] uBar = new double[u.Length], vBar = new double[v.Length], wBar = new double[w.Length];
        Fluid3D.ProjectPullback(u, v, w, uOut, vOut, wOut, pr, solid, g, tol, 1000,
            uBar, vBar, wBar, (double[])wu.Clone(), [.. vOut.Select((x, k) => 2 * wv[k] * x)], (double[])ww.Clone(), [.. pr.Select(x => 0.2 * x)]);
        AssertGrad(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, w), u), "3D projection dL/du (implicit adjoint)");
        AssertGrad(wBar, GradCheck.FiniteDifferenceGradient(x => Loss(u, x), w), "3D projection dL/dw (implicit adjoint)");
    }

    [Fact]
    public void ImplicitDiffusion3DAdjointMatchesFiniteDifferences()
    {
        int nx = 4, ny = 5, nz = 3; double dt = 0.3;
        var grid = new Grid3D(nx, ny, nz, nx * 1.0, ny * 0.8, nz * 1.2, new Boundary3D(BoundaryKind.Zero, BoundaryKind.ZeroGradient, BoundaryKind.Periodic, BoundaryKind.Periodic, BoundaryKind.ZeroGradient, BoundaryKind.Zero));
        var rng = new Random(2);
        var q = Enumerable.Range(0, nx * ny * nz).Select(_ => rng.NextDouble()).ToArray();
        var wt = Enumerable.Range(0, q.Length).Select(_ => rng.NextDouble() - 0.5).ToArray();
        void Solve(double[] qi, double[] r, double nu) =>
            Diffuse3D.Implicit(qi, r, grid, nu, dt, 1e-14, 500);
        double Loss(double[] qi, double nu)
        {
            var r = new double[qi.Length];
            Solve(qi, r, nu);
            return r.Select((x, k) => wt[k] * x * x).Sum();
        }
        double nu0 = 0.7;
        var res = new double[q.Length];
        Solve(q, res, nu0);
        var resBar = res.Select((x, k) => 2 * wt[k] * x).ToArray();
        var qBar = new double[q.Length]; double nuBar = 0, dtBar = 0;
        Diffuse3D.ImplicitPullback(q, res, grid, nu0, dt, 1e-14, 500, qBar, resBar, ref nuBar, ref dtBar);
        AssertGrad(qBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, nu0), q), "3D implicit diffusion dL/dq");
        AssertGrad([nuBar], [(Loss(q, nu0 + 1e-6) - Loss(q, nu0 - 1e-6)) / 2e-6], "3D implicit diffusion dL/dnu");
    }

    [Fact]
    public void ImplicitDiffusion3DDecaysASineModeAtTheAnalyticRate()
    {
        int n = 16; double nu = 0.05, dt = 0.01, L = 2 * Math.PI, dx = L / n;
        var g = new Grid3D(n, n, n, L, L, L);
        var init = g.Evaluate((x, y, z) => Math.Sin(x) * Math.Sin(y) * Math.Sin(z));
        var u = (double[])init.Clone();
        var next = new double[u.Length];
        for (int s = 0; s < 100; s++)
        {
            Diffusion.SolveImplicit3D(u, next, nu, dt, dx, dx, dx, n, n, n, 0, 0, 0, 0, 0, 0, 1e-12, 1000);
            next.CopyTo(u, 0);
        }
        double amp = Dot(u, init) / Dot(init, init), exact = Math.Exp(-nu * 3 * 1.0);
        output.WriteLine($"3D implicit diffusion: amplitude {amp:R}, exact {exact:R}, rel err {Math.Abs(amp / exact - 1):E2}");
        Assert.True(Math.Abs(amp / exact - 1) < 3e-3); // backward Euler: O(nu k^2 dt)
    }

    [Fact]
    public void IncompressibleStep3DGradientMatchesFiniteDifferences()
    {
        int nx = 5, ny = 4, nz = 6, steps = 3;
        double dt = 0.4, nu0 = 0.05;
        var g = new StaggeredGrid3D(nx, ny, nz, nx, ny, nz, Boundary3D.Periodic);
        var solid = g.Cells.BallMask(2.5, 2, 3, 0.8);
        var rng = new Random(4);
        var (u0, v0, w0) = g.Evaluate((x, y, z) => 0.3 * Math.Sin(2 * Math.PI * y / ny + 0.4) + 0.05 * (rng.NextDouble() - 0.5),
            (x, y, z) => 0.3 * Math.Cos(2 * Math.PI * z / nz) + 0.05 * (rng.NextDouble() - 0.5), (x, y, z) => 0.3 * Math.Sin(2 * Math.PI * x / nx) + 0.05 * (rng.NextDouble() - 0.5));
        // Make the seam faces agree.
        for (int l = 0; l < nz; l++) for (int j = 0; j < ny; j++) u0[(l * ny + j) * (nx + 1) + nx] = u0[(l * ny + j) * (nx + 1)];
        for (int l = 0; l < nz; l++) for (int i = 0; i < nx; i++) v0[(l * (ny + 1) + ny) * nx + i] = v0[l * (ny + 1) * nx + i];
        for (int j = 0; j < ny; j++) for (int i = 0; i < nx; i++) w0[(nz * ny + j) * nx + i] = w0[j * nx + i];
        var target = Enumerable.Range(0, g.WCount).Select(k => 0.1 * (k % 5)).ToArray();
        void Step(double[] u, double[] v, double[] w, double[] uo, double[] vo, double[] wo, double[] p, double nu) =>
            Fluid3D.IncompressibleStep(u, v, w, uo, vo, wo, p, solid, g, dt, nu, 1, 1e-13, 1000);
        double Loss(double[] wi, double nu)
        {
            double[] u = (double[])u0.Clone(), v = (double[])v0.Clone(), w = (double[])wi.Clone();
            double[] uo = new double[u.Length], vo = new double[v.Length], wo = new double[w.Length], p = new double[g.Cells.Count];
            for (int t = 0; t < steps; t++) { Step(u, v, w, uo, vo, wo, p, nu); uo.CopyTo(u, 0); vo.CopyTo(v, 0); wo.CopyTo(w, 0); }
            return Dot(u, u) + w.Select((x, k) => (x - target[k]) * (x - target[k])).Sum();
        }
        var U = new List<double[]> { u0 }; var V = new List<double[]> { v0 }; var W = new List<double[]> { w0 };
        for (int t = 0; t < steps; t++)
        {
            double[] uo = new double[u0.Length], vo = new double[v0.Length], wo = new double[w0.Length], p = new double[g.Cells.Count];
            Step(U[^1], V[^1], W[^1], uo, vo, wo, p, nu0); U.Add(uo); V.Add(vo); W.Add(wo);
        }
        double[] uBar = U[^1].Select(x => 2 * x).ToArray(), vBar = new double[v0.Length], wBar = W[^1].Select((x, k) => 2 * (x - target[k])).ToArray();
        double nuBar = 0;
        for (int t = steps - 1; t >= 0; t--)
        {
            double[] pu = new double[u0.Length], pv = new double[v0.Length], pw = new double[w0.Length];
            double[] uo = new double[u0.Length], vo = new double[v0.Length], wo = new double[w0.Length], p = new double[g.Cells.Count];
            double dtBar = 0;
            Fluid3D.IncompressibleStepPullback(U[t], V[t], W[t], uo, vo, wo, p, solid, g, dt, nu0, 1, 1e-13, 1000,
                pu, pv, pw, uBar, vBar, wBar, new double[g.Cells.Count], ref dtBar, ref nuBar);
            (uBar, vBar, wBar) = (pu, pv, pw);
        }
        // Faces the obstacle holds at zero sit on kinks of the scheme; compare on the faces that move.
        var moving = Enumerable.Range(0, w0.Length).Where(k => W[1][k] != 0).ToArray();
        var fdW = GradCheck.FiniteDifferenceGradient(x => Loss(x, nu0), w0);
        AssertGrad([.. moving.Select(k => wBar[k])], [.. moving.Select(k => fdW[k])], "3D incompressible dL/dw0");
        AssertGrad([nuBar], [(Loss(w0, nu0 * (1 + 1e-6)) - Loss(w0, nu0 * (1 - 1e-6))) / (2e-6 * nu0)], "3D incompressible dL/dnu");
    }

    [Fact]
    public void Smoke3DGradientMatchesFiniteDifferences()
    {
        int nx = 6, ny = 7, nz = 5, steps = 4;
        var model = new Smoke3D(new StaggeredGrid3D(nx, ny, nz, nx, ny, nz, Boundary3D.Closed), tolerance: 1e-13);
        var inflow = model.Grid.Cells.Ball(3, 1.5, 2.5, 1.2, 0.5);
        var rng = new Random(6);
        var (u0, v0, w0) = model.Grid.Evaluate((x, y, z) => 0.2 * (rng.NextDouble() - 0.5), (x, y, z) => 0.2 * (rng.NextDouble() - 0.5), (x, y, z) => 0.2 * (rng.NextDouble() - 0.5));
        Fluid3D.ApplyWalls(u0, v0, w0, model.Grid);
        int nc = model.Grid.Cells.Count;
        double[] Final(double[] ui, double buoyancy)
        {
            var m = new Smoke3D(model.Grid, buoyancy: buoyancy, tolerance: 1e-13);
            double[] s = new double[nc], u = (double[])ui.Clone(), v = (double[])v0.Clone(), w = (double[])w0.Clone();
            double[] sn = new double[nc], un = new double[u.Length], vn = new double[v.Length], wn = new double[w.Length], p = new double[nc];
            for (int t = 0; t < steps; t++) { m.Step(s, u, v, w, inflow, sn, un, vn, wn, p); sn.CopyTo(s, 0); un.CopyTo(u, 0); vn.CopyTo(v, 0); wn.CopyTo(w, 0); }
            return s;
        }
        // The target is the plume of other initial velocities: a loss of order one keeps the finite differences'
        // round-off (|L| eps / h) well below the gradient entries.
        var target = Final([.. u0.Select(x => -0.5 * x)], 1.2);
        double Loss(double[] ui, double buoyancy) => Final(ui, buoyancy).Select((x, k) => (x - target[k]) * (x - target[k])).Sum();
        // A recorded rollout, reversed.
        var tape = new Tape();
        var S = new List<double[]> { new double[nc] }; var U = new List<double[]> { u0 }; var V = new List<double[]> { v0 }; var W = new List<double[]> { w0 };
        for (int t = 0; t < steps; t++)
        {
            double[] sn = new double[nc], un = new double[u0.Length], vn = new double[v0.Length], wn = new double[w0.Length], p = new double[nc];
            model.Step(S[^1], U[^1], V[^1], W[^1], inflow, sn, un, vn, wn, p, tape); S.Add(sn); U.Add(un); V.Add(vn); W.Add(wn);
        }
        double[] sBar = S[^1].Select((x, k) => 2 * (x - target[k])).ToArray(), uBar = new double[u0.Length], vBar = new double[v0.Length], wBar = new double[w0.Length];
        double buoyBar = 0;
        for (int t = steps - 1; t >= 0; t--)
        {
            double[] ps = new double[nc], pu = new double[u0.Length], pv = new double[v0.Length], pw = new double[w0.Length];
            model.StepBackward(S[t], U[t], V[t], W[t], inflow, S[t + 1], U[t + 1], V[t + 1], W[t + 1], new double[nc],
                ps, pu, pv, pw, new double[nc], sBar, uBar, vBar, wBar, new double[nc], ref buoyBar, tape);
            (sBar, uBar, vBar, wBar) = (ps, pu, pv, pw);
        }
        Assert.Equal(0, tape.Count);
        var interior = Enumerable.Range(0, u0.Length).Where(k => u0[k] != 0).ToArray(); // wall faces sit on kinks
        var fdU = GradCheck.FiniteDifferenceGradient(x => Loss(x, 1.0), u0);
        AssertGrad([.. interior.Select(k => uBar[k])], [.. interior.Select(k => fdU[k])], "Smoke3D dL/du0 (interior faces)");
        AssertGrad([buoyBar], [(Loss(u0, 1 + 1e-6) - Loss(u0, 1 - 1e-6)) / 2e-6], "Smoke3D dL/dbuoyancy");
    }

    [Fact]
    public void Smoke3D_PlumeRisesStaysDivergenceFreeAndPackedMatchesUnpacked()
    {
        var s = Smoke3D.ClosedBox(10, 14, 10, tolerance: 1e-8);
        var inflow = s.Grid.Cells.Ball(5, 2.5, 5, 2, 0.5);
        int n = s.PackedLength, nc = s.Grid.Cells.Count;
        var state = new double[n];
        var next = new double[n];
        for (int t = 0; t < 12; t++) { s.StepPacked(state, inflow, next); (state, next) = (next, state); }
        var smoke = state.AsSpan(0, nc).ToArray();
        var u = state.AsSpan(nc, s.Grid.UCount).ToArray();
        var v = state.AsSpan(nc + s.Grid.UCount, s.Grid.VCount).ToArray();
        var w = state.AsSpan(nc + s.Grid.UCount + s.Grid.VCount).ToArray();
        double div = s.Grid.Divergence(u, v, w).Max(Math.Abs);
        // Centre of mass of the smoke rises above the inflow.
        double mass = smoke.Sum(), cy = 0;
        for (int k = 0; k < nc; k++) cy += smoke[k] * ((k / 10 % 14) + 0.5);
        cy /= mass;
        output.WriteLine($"3D plume after 12 steps: smoke {mass:F2}, centre height {cy:F2} (inflow at 2.5), max |div| {div:E2}, max v {v.Max():F3}");
        Assert.True(div <= 1.5e-8);
        Assert.True(cy > 3.5);
        Assert.True(v.Max() > 0.5);
        // The unpacked step gives the same numbers.
        double[] sn = new double[nc], un = new double[u.Length], vn = new double[v.Length], wn = new double[w.Length], p = new double[nc];
        s.Step(smoke, u, v, w, inflow, sn, un, vn, wn, p);
        s.StepPacked(state, inflow, next);
        Assert.Equal(sn, next.AsSpan(0, nc).ToArray());
        Assert.Equal(wn, next.AsSpan(nc + u.Length + v.Length).ToArray());
    }
}
