using DiffGen.Physics;
using Xunit.Abstractions;

namespace DiffGen.Physics.Tests;

/// <summary>Gradients through the generated pullbacks of whole rollouts against central finite differences.</summary>
public class GradientTests(ITestOutputHelper output)
{
    private static readonly int[] Probe = [0, 3, 7, 12, 18, 25, 31, 40, 47, 55, 62];

    private void AssertGrad(double[] actual, double[] expected, string what, double tol = 1e-5)
    {
        double scale = expected.Max(Math.Abs);
        double err = GradCheck.MaxRelativeError(actual, expected, 1e-6 * scale);
        output.WriteLine($"{what}: max relative error {err:E2} over {actual.Length} entries");
        GradCheck.AssertClose(actual, expected, tol, what, 1e-6 * scale);
    }

    [Fact]
    public void Burgers1DGradientAfter16StepsMatchesFiniteDifferences()
    {
        int n = 32, steps = 16;
        double nu = 0.01, dt = 1.0 / 32;
        var model = new Burgers1D(new Grid1D(n, -1, 1), nu, dt);
        var u0 = model.Evaluate(x => -Math.Sin(Math.PI * x) + 0.3 * Math.Cos(2 * Math.PI * x));
        var target = model.Evaluate(x => 0.5 * Math.Sin(Math.PI * x));
        double Loss(double[] init, double viscosity)
        {
            var m = new Burgers1D(new Grid1D(n, -1, 1), viscosity, dt);
            var u = (double[])init.Clone(); var next = new double[n];
            for (int s = 0; s < steps; s++) { m.Step(u, next); next.CopyTo(u, 0); }
            double l = 0; for (int i = 0; i < n; i++) l += (u[i] - target[i]) * (u[i] - target[i]);
            return l / n;
        }
        var states = new List<double[]> { (double[])u0.Clone() };
        var tmp = new double[n];
        for (int s = 0; s < steps; s++) { model.Step(states[^1], tmp); states.Add((double[])tmp.Clone()); }
        var bar = new double[n];
        for (int i = 0; i < n; i++) bar[i] = 2 * (states[^1][i] - target[i]) / n;
        double nuBar = 0;
        for (int s = steps - 1; s >= 0; s--)
        {
            var prev = new double[n];
            model.StepBackward(states[s], tmp, prev, bar, ref nuBar);
            Assert.All(bar, b => Assert.Equal(0.0, b)); // the seed of a pure output is consumed
            bar = prev;
        }
        AssertGrad(bar, GradCheck.FiniteDifferenceGradient(x => Loss(x, nu), u0), "Burgers1D dL/du0");
        double fdNu = (Loss(u0, nu * (1 + 1e-5)) - Loss(u0, nu * (1 - 1e-5))) / (2e-5 * nu);
        AssertGrad([nuBar], [fdNu], "Burgers1D dL/dnu");
    }

    [Fact]
    public void Burgers2DGradientAfter10StepsMatchesFiniteDifferences()
    {
        int n = 8, steps = 10;
        double nu = 0.1, dt = 0.1;
        var model = new Burgers2D(new Grid2D(n, n, 8, 8), nu, dt);
        var grid = model.Grid;
        var u0 = grid.Evaluate((x, y) => Math.Sin(2 * Math.PI * x / 8) + 0.2 * Math.Cos(2 * Math.PI * y / 8));
        // An offset keeps every departure point off the grid nodes, where linear interpolation has kinks.
        var v0 = grid.Evaluate((x, y) => 0.5 * Math.Cos(2 * Math.PI * (x + y) / 8) + 0.137);
        var fu = grid.Evaluate((x, y) => 0.1 * Math.Sin(2 * Math.PI * y / 8));
        var fv = new double[n * n];
        double Loss(double[] ui, double[] vi, double viscosity)
        {
            var m = new Burgers2D(new Grid2D(n, n, 8, 8), viscosity, dt);
            var u = (double[])ui.Clone(); var v = (double[])vi.Clone(); var un = new double[n * n]; var vn = new double[n * n];
            for (int s = 0; s < steps; s++) { m.Step(u, v, fu, fv, un, vn); un.CopyTo(u, 0); vn.CopyTo(v, 0); }
            return PhysicsTests.Dot(u, u) + 0.5 * v.Sum();
        }
        var us = new List<double[]> { u0 }; var vs = new List<double[]> { v0 };
        for (int s = 0; s < steps; s++) { var un = new double[n * n]; var vn = new double[n * n]; model.Step(us[^1], vs[^1], fu, fv, un, vn); us.Add(un); vs.Add(vn); }
        var uBar = us[^1].Select(x => 2 * x).ToArray(); var vBar = Enumerable.Repeat(0.5, n * n).ToArray();
        double nuBar = 0; var fuBar = new double[n * n]; var fvBar = new double[n * n];
        for (int s = steps - 1; s >= 0; s--)
        {
            var pu = new double[n * n]; var pv = new double[n * n]; var un = new double[n * n]; var vn = new double[n * n];
            model.StepBackward(us[s], vs[s], fu, fv, un, vn, pu, pv, fuBar, fvBar, uBar, vBar, ref nuBar);
            uBar = pu; vBar = pv;
        }
        var fdU = GradCheck.FiniteDifferenceGradient(x => Loss(x, v0, nu), u0);
        var fdV = GradCheck.FiniteDifferenceGradient(x => Loss(u0, x, nu), v0);
        AssertGrad(uBar, fdU, "Burgers2D dL/du0");
        AssertGrad(vBar, fdV, "Burgers2D dL/dv0");
        double fdNu = (Loss(u0, v0, nu * (1 + 1e-5)) - Loss(u0, v0, nu * (1 - 1e-5))) / (2e-5 * nu);
        AssertGrad([nuBar], [fdNu], "Burgers2D dL/dnu");
    }

    [Fact]
    public void ProjectionAdjointMatchesFiniteDifferencesOfTheFullProjection()
    {
        int nx = 8, ny = 8; double tol = 1e-13;
        var solid = new int[nx * ny]; solid[3 * nx + 4] = 1; solid[4 * nx + 4] = 1;
        var rng = new Random(3);
        var u = Enumerable.Range(0, (nx + 1) * ny).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var v = Enumerable.Range(0, nx * (ny + 1)).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var wu = Enumerable.Range(0, u.Length).Select(_ => rng.NextDouble()).ToArray();
        var wv = Enumerable.Range(0, v.Length).Select(_ => rng.NextDouble()).ToArray();
        double Loss(double[] ui)
        {
            var uo = new double[ui.Length]; var vo = new double[v.Length]; var p = new double[nx * ny];
            Pressure.Project(ui, v, uo, vo, p, solid, nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, tol, 1000);
            double l = 0; for (int k = 0; k < uo.Length; k++) l += wu[k] * uo[k];
            for (int k = 0; k < vo.Length; k++) l += wv[k] * vo[k] * vo[k];
            for (int k = 0; k < p.Length; k++) l += 0.1 * p[k] * p[k];
            return l;
        }
        var uOut = new double[u.Length]; var vOut = new double[v.Length]; var pr = new double[nx * ny];
        Pressure.Project(u, v, uOut, vOut, pr, solid, nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, tol, 1000);
        var uOutBar = (double[])wu.Clone();
        var vOutBar = vOut.Select((x, k) => 2 * wv[k] * x).ToArray();
        var pBar = pr.Select(x => 0.2 * x).ToArray();
        var uBar = new double[u.Length]; var vBar = new double[v.Length];
        Pressure.ProjectPullback(u, v, uOut, vOut, pr, solid, nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, tol, 1000, uBar, vBar, uOutBar, vOutBar, pBar);
        AssertGrad(uBar, GradCheck.FiniteDifferenceGradient(Loss, u), "projection dL/du (implicit adjoint)");
    }

    [Fact]
    public void SmokeGradientAfter10StepsMatchesFiniteDifferences()
    {
        int nx = 8, ny = 10, steps = 10;
        var model = Smoke2D.PbdlPlume(nx, ny, tolerance: 1e-13);
        var inflow = model.DiscInflow(4, 2, 1.5, 1.0 / 3);
        var rng = new Random(5);
        var u0 = Enumerable.Range(0, (nx + 1) * ny).Select(_ => 0.2 * (rng.NextDouble() - 0.5)).ToArray();
        var v0 = Enumerable.Range(0, nx * (ny + 1)).Select(_ => 0.2 * (rng.NextDouble() - 0.5)).ToArray();
        Fluids.ApplyWalls(u0, v0, nx, ny, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero);
        var target = Enumerable.Range(0, nx * ny).Select(k => (k % 7) / 7.0).ToArray();
        double Loss(double[] ui, double buoy)
        {
            var m = new Smoke2D(new StaggeredGrid2D(nx, ny, nx, ny, Boundary2D.Closed), buoyancy: buoy, tolerance: 1e-13);
            var s = new double[nx * ny]; var u = (double[])ui.Clone(); var v = (double[])v0.Clone();
            var sn = new double[s.Length]; var un = new double[u.Length]; var vn = new double[v.Length]; var p = new double[s.Length];
            for (int t = 0; t < steps; t++) { m.Step(s, u, v, inflow, sn, un, vn, p); sn.CopyTo(s, 0); un.CopyTo(u, 0); vn.CopyTo(v, 0); }
            double l = 0; for (int k = 0; k < s.Length; k++) l += (s[k] - target[k]) * (s[k] - target[k]);
            return l;
        }
        var S = new List<double[]> { new double[nx * ny] }; var U = new List<double[]> { u0 }; var V = new List<double[]> { v0 };
        for (int t = 0; t < steps; t++)
        {
            var sn = new double[nx * ny]; var un = new double[u0.Length]; var vn = new double[v0.Length]; var p = new double[nx * ny];
            model.Step(S[^1], U[^1], V[^1], inflow, sn, un, vn, p); S.Add(sn); U.Add(un); V.Add(vn);
        }
        var sBar = S[^1].Select((x, k) => 2 * (x - target[k])).ToArray(); var uBar = new double[u0.Length]; var vBar = new double[v0.Length];
        double buoyBar = 0; var inflowBar = new double[nx * ny];
        for (int t = steps - 1; t >= 0; t--)
        {
            var ps = new double[nx * ny]; var pu = new double[u0.Length]; var pv = new double[v0.Length];
            var sn = new double[nx * ny]; var un = new double[u0.Length]; var vn = new double[v0.Length]; var p = new double[nx * ny]; var pBar = new double[nx * ny];
            model.StepBackward(S[t], U[t], V[t], inflow, sn, un, vn, p, ps, pu, pv, inflowBar, sBar, uBar, vBar, pBar, ref buoyBar);
            sBar = ps; uBar = pu; vBar = pv;
        }
        var smooth = Enumerable.Range(0, u0.Length).Where(k => u0[k] != 0).ToArray(); // wall faces sit on kinks
        var fdU = GradCheck.FiniteDifferenceGradient(x => Loss(x, 1.0), u0);
        AssertGrad(smooth.Select(k => uBar[k]).ToArray(), smooth.Select(k => fdU[k]).ToArray(), "Smoke dL/du0 (interior faces)");
        double fdB = (Loss(u0, 1 + 1e-5) - Loss(u0, 1 - 1e-5)) / 2e-5;
        AssertGrad([buoyBar], [fdB], "Smoke dL/dbuoyancy");
    }

    [Fact]
    public void WakeFlowGradientAfter10StepsMatchesFiniteDifferences()
    {
        int nx = 8, ny = 16, steps = 10;
        var model = WakeFlow2D.PbdlWake(nx, ny, reynolds: 50, tolerance: 1e-13, dt: 2);
        var (u0, v0) = model.InitialState(0.2);
        double Loss(double[] vi, WakeFlow2D m)
        {
            var u = (double[])u0.Clone(); var v = (double[])vi.Clone();
            var un = new double[u.Length]; var vn = new double[v.Length]; var p = new double[nx * ny];
            for (int t = 0; t < steps; t++) { m.Step(u, v, un, vn, p); un.CopyTo(u, 0); vn.CopyTo(v, 0); }
            return PhysicsTests.Dot(u, u) + 0.3 * v.Select((x, k) => x * (k % 5)).Sum();
        }
        var U = new List<double[]> { u0 }; var V = new List<double[]> { v0 };
        for (int t = 0; t < steps; t++)
        {
            var un = new double[u0.Length]; var vn = new double[v0.Length]; var p = new double[nx * ny];
            model.Step(U[^1], V[^1], un, vn, p); U.Add(un); V.Add(vn);
        }
        var uBar = U[^1].Select(x => 2 * x).ToArray(); var vBar = V[^1].Select((_, k) => 0.3 * (k % 5)).ToArray();
        double nuBar = 0;
        for (int t = steps - 1; t >= 0; t--)
        {
            var pu = new double[u0.Length]; var pv = new double[v0.Length];
            var un = new double[u0.Length]; var vn = new double[v0.Length]; var p = new double[nx * ny]; var pBar = new double[nx * ny];
            model.StepBackward(U[t], V[t], un, vn, p, pu, pv, uBar, vBar, pBar, ref nuBar);
            uBar = pu; vBar = pv;
        }
        // Faces that the walls/obstacle hold at exactly zero backtrace onto a grid node, a kink of linear
        // interpolation; compare on the faces where the scheme is smooth.
        var smooth = Enumerable.Range(0, v0.Length).Where(k => v0[k] != 0).ToArray();
        var fdV = GradCheck.FiniteDifferenceGradient(x => Loss(x, model), v0);
        AssertGrad(smooth.Select(k => vBar[k]).ToArray(), smooth.Select(k => fdV[k]).ToArray(), "Wake dL/dv0 (smooth faces)");
        // nu enters through the Reynolds number: nu = U * 2R / Re.
        double nu = model.Viscosity, re = 50, h = 1e-5;
        double fdNu = (Loss(v0, WakeFlow2D.PbdlWake(nx, ny, reynolds: re / (1 + h), tolerance: 1e-13, dt: 2)) - Loss(v0, WakeFlow2D.PbdlWake(nx, ny, reynolds: re / (1 - h), tolerance: 1e-13, dt: 2))) / (2 * h * nu);
        AssertGrad([nuBar], [fdNu], "Wake dL/dnu");
    }

    [Fact]
    public void ForcedBurgersWithImplicitDiffusionGradientMatchesFiniteDifferences()
    {
        // EXPERIMENTS §4 (paper variant): 128 cells on [0, 1], nu 0.003, dt 0.03; explicit diffusion would need
        // 3 substeps here, the implicit variant needs none. 12 steps, gradient w.r.t. u0, the forces and nu.
        int n = 128, steps = 12; double nu = 0.003, dt = 0.03;
        var model = new Burgers1D(new Grid1D(n, 0, 1), nu, dt, implicitDiffusion: true);
        var u0 = model.Evaluate(x => 2 * Math.Exp(-Math.Pow((x - 0.3) / 0.05, 2)) - 1.5 * Math.Exp(-Math.Pow((x - 0.7) / 0.05, 2)) + 0.01);
        var force = model.Evaluate(x => 0.8 * Math.Exp(-Math.Pow((x - 0.5) / 0.1, 2)));
        var target = model.Evaluate(x => Math.Sin(2 * Math.PI * x));
        double Loss(double[] init, double[] f, double viscosity)
        {
            var m = new Burgers1D(new Grid1D(n, 0, 1), viscosity, dt, implicitDiffusion: true);
            var u = (double[])init.Clone(); var next = new double[n];
            for (int s = 0; s < steps; s++) { m.Step(u, f, next); next.CopyTo(u, 0); }
            return u.Select((x, i) => (x - target[i]) * (x - target[i])).Sum();
        }
        var states = new List<double[]> { u0 };
        for (int s = 0; s < steps; s++) { var next = new double[n]; model.Step(states[^1], force, next); states.Add(next); }
        var bar = states[^1].Select((x, i) => 2 * (x - target[i])).ToArray();
        var forceBar = new double[n]; double nuBar = 0; var tmp = new double[n];
        for (int s = steps - 1; s >= 0; s--) { var prev = new double[n]; model.StepBackward(states[s], force, tmp, prev, forceBar, bar, ref nuBar); bar = prev; }
        AssertGrad(bar, GradCheck.FiniteDifferenceGradient(x => Loss(x, force, nu), u0), "implicit Burgers dL/du0");
        AssertGrad(forceBar, GradCheck.FiniteDifferenceGradient(f => Loss(u0, f, nu), force), "implicit Burgers dL/dforce");
        double fdNu = (Loss(u0, force, nu * (1 + 1e-5)) - Loss(u0, force, nu * (1 - 1e-5))) / (2e-5 * nu);
        AssertGrad([nuBar], [fdNu], "implicit Burgers dL/dnu");
    }

    [Fact]
    public void ProjectionTangentMatchesFiniteDifferencesAndTheAdjoint()
    {
        // Forward mode goes through the hand-written SolvePressurePushforward (one extra solve).
        int nx = 7, ny = 6; double tol = 1e-13;
        var rng = new Random(4);
        double[] R(int n) => Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var u = R((nx + 1) * ny); var v = R(nx * (ny + 1)); var du = R(u.Length); var dv = R(v.Length);
        var uo = new double[u.Length]; var vo = new double[v.Length]; var p = new double[nx * ny];
        var uoDot = new double[u.Length]; var voDot = new double[v.Length]; var pDot = new double[nx * ny];
        Pressure.ProjectPushforward(u, du, v, dv, uo, uoDot, vo, voDot, p, pDot, [], nx, ny, 1.0, 1.0, Bc.Periodic, Bc.Periodic, Bc.Zero, Bc.ZeroGradient, tol, 1000);
        double[] Map(double[] x)
        {
            var uu = x[..u.Length]; var vv = x[u.Length..];
            var a = new double[u.Length]; var b = new double[v.Length]; var pp = new double[nx * ny];
            Pressure.Project(uu, vv, a, b, pp, [], nx, ny, 1.0, 1.0, Bc.Periodic, Bc.Periodic, Bc.Zero, Bc.ZeroGradient, tol, 1000);
            return [.. a, .. b, .. pp];
        }
        var fd = GradCheck.FiniteDifferenceDirectional(Map, [.. u, .. v], [.. du, .. dv]);
        double[] jv = [.. uoDot, .. voDot, .. pDot];
        AssertGrad(jv, fd, "projection tangent (forward mode)");
        // Duality: <w, J v> = <J^T w, v>.
        var w = R(jv.Length);
        var uBar = new double[u.Length]; var vBar = new double[v.Length];
        Pressure.ProjectPullback(u, v, uo, vo, p, [], nx, ny, 1.0, 1.0, Bc.Periodic, Bc.Periodic, Bc.Zero, Bc.ZeroGradient, tol, 1000,
            uBar, vBar, w[..u.Length], w[u.Length..(u.Length + v.Length)], w[(u.Length + v.Length)..]);
        double lhs = PhysicsTests.Dot(w, jv), rhs = PhysicsTests.Dot(uBar, du) + PhysicsTests.Dot(vBar, dv);
        output.WriteLine($"duality: <w, Jv> = {lhs:R}, <J^T w, v> = {rhs:R}");
        Assert.True(Math.Abs(lhs - rhs) <= 1e-9 * Math.Max(1, Math.Abs(lhs)));
    }
}
