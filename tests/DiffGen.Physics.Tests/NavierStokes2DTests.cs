using DiffGen.Physics;
using Xunit.Abstractions;

namespace DiffGen.Physics.Tests;

/// <summary>Mosaic's 2D Navier–Stokes task: Taylor–Green decay, projection, gradients of rollouts and of the drag.</summary>
public class NavierStokes2DTests(ITestOutputHelper output)
{
    [Fact]
    public void TaylorGreen_DecaysAtTheAnalyticRate_UpToNumericalDiffusionThatShrinksWithRefinement()
    {
        // nu 0.05 to t = 1 (20 steps of 0.05): the amplitude decays as exp(-2 nu t). Semi-Lagrangian advection adds
        // numerical diffusion of order dx; on 32² it must be about half that on 16², and the shape must stay TGV.
        double Excess(int n, out double err)
        {
            var ns = new NavierStokes2D(n, viscosity: 0.05, dt: 0.05);
            var (u0, v0) = ns.TaylorGreen();
            var (u, v) = ns.Run(u0, v0, 20);
            double rate = -Math.Log(ns.KineticEnergy(u, v) / ns.KineticEnergy(u0, v0)) / 2; // energy decays at twice the amplitude's rate
            // The error left after the best amplitude fit is the shape error (the field must stay a TGV).
            var (ue, ve) = ns.TaylorGreen();
            double a = Math.Exp(-rate), shape = 0, norm = 0;
            for (int k = 0; k < u.Length; k++) { shape += Math.Pow(u[k] - a * ue[k], 2); norm += Math.Pow(a * ue[k], 2); }
            for (int k = 0; k < v.Length; k++) { shape += Math.Pow(v[k] - a * ve[k], 2); norm += Math.Pow(a * ve[k], 2); }
            var (ut, vt) = ns.TaylorGreen(1.0);
            err = NavierStokes2D.RelativeL2(u, v, ut, vt);
            output.WriteLine($"{n}²: decay rate {rate:F4} vs 2 nu = 0.1, relative L2 error {err:E3}, shape error {Math.Sqrt(shape / norm):E2}");
            Assert.True(Math.Sqrt(shape / norm) < 2e-2, $"{n}²: the field left the Taylor-Green shape");
            return rate - 0.1;
        }
        double e16 = Excess(16, out double err16), e32 = Excess(32, out double err32);
        Assert.True(e32 > 0 && e32 < 0.6 * e16, $"excess decay {e16} (16²) -> {e32} (32²)");
        Assert.True(err32 < 0.6 * err16);
    }

    [Fact]
    public void TaylorGreen_MacCormack_IsFarMoreAccurateThanSemiLagrangian_AndConvergesWithDtAndDx()
    {
        double Error(int n, double dt, bool macCormack)
        {
            var ns = new NavierStokes2D(n, viscosity: 0.05, dt: dt, macCormack: macCormack);
            var (u0, v0) = ns.TaylorGreen();
            var (u, v) = ns.Run(u0, v0, (int)Math.Round(1 / dt));
            var (ue, ve) = ns.TaylorGreen(1.0);
            return NavierStokes2D.RelativeL2(u, v, ue, ve);
        }
        double s32 = Error(32, 0.05, false), m32 = Error(32, 0.05, true), m32h = Error(32, 0.025, true), m64q = Error(64, 0.0125, true);
        output.WriteLine($"t = 1: semi-Lagrangian 32² dt 0.05 {s32:E3}; MacCormack 32² dt 0.05 {m32:E3}, 32² dt 0.025 {m32h:E3}, 64² dt 0.0125 {m64q:E3}");
        Assert.True(m32 < s32 / 5, $"MacCormack {m32} vs semi-Lagrangian {s32}");
        Assert.True(m64q < m32 / 3, "refining space and time together must shrink the error");
    }

    [Fact]
    public void AStep_LeavesNoDivergence_AndTheCylinderFacesClosed()
    {
        var ns = new NavierStokes2D(16, viscosity: 0.01, dt: 0.05, cylinder: new Cylinder(0.5, 0.5, 0.15), tolerance: 1e-10);
        var (_, _, cu, cv) = ns.MultiMode(3);
        var (u, v) = ns.Grid.FromCentered(cu, cv); // averaging faces from cells: not divergence-free
        double before = ns.MacDivergenceMax(u, v);
        var un = new double[ns.UCount]; var vn = new double[ns.VCount]; var p = new double[16 * 16];
        ns.Step(u, v, default, un, vn, p);
        double after = ns.MacDivergenceMax(un, vn);
        output.WriteLine($"max |div| {before:E2} -> {after:E2}");
        Assert.True(before > 1e-3);
        Assert.True(after <= 1e-10, $"divergence {after}");
        for (int j = 0; j < 16; j++)
            for (int i = 0; i < 16; i++)
                if (ns.Solid[j * 16 + i] != 0) { Assert.Equal(0.0, un[j * 17 + i]); Assert.Equal(0.0, vn[j * 16 + i]); }
    }

    [Fact]
    public void MultiMode_IsDivergenceFree_WithMaxSpeed03()
    {
        var ns = new NavierStokes2D(16, 0.001, 0.05);
        var (u, v, cu, cv) = ns.MultiMode(42);
        Assert.True(ns.MacDivergenceMax(u, v) < 1e-12);
        double vmax = 0;
        for (int k = 0; k < cu.Length; k++) vmax = Math.Max(vmax, Math.Sqrt(cu[k] * cu[k] + cv[k] * cv[k]));
        Assert.Equal(0.3, vmax, 12);
        Assert.NotEqual(ns.MultiMode(43).U, u); // seeded
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SumOfSquaresGradient_MatchesFiniteDifferences_StoredAndCheckpointed(bool macCormack)
    {
        // Mosaic's gradient loss at a small size: N 8, 6 steps of its fd_check setting (nu 0.001, dt 0.05).
        var ns = new NavierStokes2D(8, viscosity: 0.001, dt: 0.05, tolerance: 1e-13, macCormack: macCormack);
        var (_, _, cu, cv) = ns.MultiMode(42);
        int steps = 6, n = cu.Length;
        var g = new double[2 * n];
        ns.SumOfSquaresGradient(cu, cv, steps, g.AsSpan(0, n), g.AsSpan(n));
        var x0 = cu.Concat(cv).ToArray();
        var fd = GradCheck.FiniteDifferenceGradient(x => ns.SumOfSquares(x.AsSpan(0, n), x.AsSpan(n), steps), x0);
        double scale = fd.Max(Math.Abs);
        double err = GradCheck.MaxRelativeError(g, fd, 1e-6 * scale);
        output.WriteLine($"dL/dv0 vs central differences: max relative error {err:E2} (|g|max {scale:E3})");
        GradCheck.AssertClose(g, fd, 1e-6, "dL/dv0", 1e-6 * scale);

        var gc = new double[2 * n];
        ns.SumOfSquaresGradient(cu, cv, steps, gc.AsSpan(0, n), gc.AsSpan(n), checkpointEvery: 4);
        Assert.Equal(g, gc); // checkpointing recomputes the same steps: the same numbers
    }

    [Fact]
    public void Backward_ReportsWhatItHeld()
    {
        var ns = new NavierStokes2D(8, 0.01, 0.05);
        var (u, v, _, _) = ns.MultiMode(1);
        var ub = new double[ns.UCount]; var vb = new double[ns.VCount];
        var all = ns.Backward(u, v, 16, default, u, v, null, ub, vb, default);
        var cp = ns.Backward(u, v, 16, default, u, v, null, ub, vb, default, checkpointEvery: 4);
        Assert.Equal(new RolloutStats(17, 16, 16), all);
        Assert.Equal(new RolloutStats(8, 4, 28), cp); // 4 checkpoints + a 4-step segment; 12 steps to place them, 16 re-run
    }

    [Fact]
    public void Drag_IsFiniteAndPositive_ForTheDefaultCylinder_AndItsGradientMatchesFiniteDifferences()
    {
        // Mosaic's drag task at a small size: unit square, cylinder (0.5, 0.5) r 0.1, U 0.5, 16², 12 steps.
        var ch = NavierStokes2D.Channel(16, viscosity: 0.0025 * 4, dt: 0.02, new Cylinder(0.5, 0.5, 0.1), tolerance: 1e-13);
        var profile = ch.InflowProfile(0.5);
        for (int j = 0; j < profile.Length; j++) profile[j] += 0.05 * Math.Sin(0.7 * j);
        int steps = 12;
        double drag = ch.MeanDrag(profile, steps, 0.5);
        output.WriteLine($"drag {drag:E4}");
        Assert.True(double.IsFinite(drag) && drag > 0, $"drag {drag}");

        var g = new double[16];
        double d2 = ch.MeanDragGradient(profile, steps, 0.5, g, checkpointEvery: 5);
        Assert.True(Math.Abs(drag - d2) <= 1e-12 * Math.Abs(drag), $"drag {drag} from the forward run, {d2} from the gradient's sweep");
        var fd = GradCheck.FiniteDifferenceGradient(p => ch.MeanDrag(p, steps, 0.5), profile);
        double scale = fd.Max(Math.Abs);
        output.WriteLine($"dDrag/dprofile: max relative error {GradCheck.MaxRelativeError(g, fd, 1e-6 * scale):E2} (|g|max {scale:E3})");
        GradCheck.AssertClose(g, fd, 1e-6, "dDrag/dprofile", 1e-6 * scale);

        var open = NavierStokes2D.Channel(16, 0.01, 0.02, new Cylinder(), periodicX: false, tolerance: 1e-13);
        var go = new double[16];
        double dOpen = open.MeanDragGradient(profile, steps, 0.5, go);
        Assert.True(Math.Abs(dOpen - open.MeanDrag(profile, steps, 0.5)) <= 1e-12 * Math.Abs(dOpen));
        var fdo = GradCheck.FiniteDifferenceGradient(p => open.MeanDrag(p, steps, 0.5), profile);
        GradCheck.AssertClose(go, fdo, 1e-6, "dDrag/dprofile (open right side)", 1e-6 * fdo.Max(Math.Abs));
    }

    [Fact]
    public void BadArguments_NameTheArgument()
    {
        Assert.Equal("n", Assert.Throws<ArgumentException>(() => new NavierStokes2D(2, 0.01, 0.05)).ParamName);
        Assert.Equal("dt", Assert.Throws<ArgumentException>(() => new NavierStokes2D(16, 0.01, -1)).ParamName);
        Assert.Equal("dt", Assert.Throws<ArgumentException>(() => new NavierStokes2D(16, 0.1, 1, substeps: 1)).ParamName);
        Assert.Equal("cylinder", Assert.Throws<ArgumentException>(() => new NavierStokes2D(8, 0.01, 0.05, cylinder: new Cylinder(0.5, 0.5, 0.01))).ParamName);
        Assert.Equal("boundary", Assert.Throws<ArgumentException>(() => new NavierStokes2D(8, 0.01, 0.05, Math.Tau, Boundary2D.Open, inflow: true)).ParamName);
        var ch = NavierStokes2D.Channel(16, 0.01, 0.02, new Cylinder());
        Assert.Equal("profile", Assert.Throws<ArgumentException>(() => ch.MeanDrag(new double[5], 4, 0.5)).ParamName);
        Assert.Throws<InvalidOperationException>(() => new NavierStokes2D(8, 0.01, 0.05).MeanDrag([], 4, 0.5));

        // NaN or infinite inputs are named (as the other models do), not left to fail as a pressure solve.
        var ns = new NavierStokes2D(8, 0.01, 0.05);
        var (u, v) = ns.TaylorGreen();
        v[3] = double.NaN;
        Assert.Equal("v", Assert.Throws<ArgumentException>(() => ns.Step(u, v, default, new double[ns.UCount], new double[ns.VCount], new double[64])).ParamName);
        Assert.Equal("v0", Assert.Throws<ArgumentException>(() => ns.Backward(u, v, 2, default, default, default, null, new double[ns.UCount], new double[ns.VCount], default)).ParamName);
        var profile = ch.InflowProfile(0.5);
        profile[2] = double.PositiveInfinity;
        var (cu, cv) = ch.Uniform(0.5);
        Assert.Equal("profile", Assert.Throws<ArgumentException>(() => ch.Step(cu, cv, profile, new double[ch.UCount], new double[ch.VCount], new double[256])).ParamName);
    }
}
