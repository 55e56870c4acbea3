using DiffGen.Physics;
using Xunit.Abstractions;

namespace DiffGen.Physics.Tests;

public class ApiTests(ITestOutputHelper output)
{
    [Fact]
    public void MismatchedSizesNameTheArgument()
    {
        var b = new Burgers1D(new Grid1D(16, 0, 1), 0.01, 0.01);
        var ex = Assert.Throws<ArgumentException>(() => b.Step(new double[15], new double[16]));
        Assert.Equal("u", ex.ParamName);
        Assert.Contains("15", ex.Message);
        var s = Smoke2D.PbdlPlume(8, 10);
        var ex2 = Assert.Throws<ArgumentException>(() => s.Step(new double[80], new double[90], new double[80], new double[80], new double[80], new double[90], new double[88], new double[80]));
        Assert.Equal("v", ex2.ParamName);
        var g = new StaggeredGrid2D(4, 4, 1, 1);
        Assert.Equal("u", Assert.Throws<ArgumentException>(() => g.Divergence(new double[16], new double[20])).ParamName);
        Assert.Equal("f", Assert.Throws<ArgumentException>(() => new Grid2D(4, 4, 1, 1).Sample(new double[15], 0.5, 0.5)).ParamName);
    }

    [Fact]
    public void NonPositiveResolutionsAreRejected()
    {
        Assert.Equal("cells", Assert.Throws<ArgumentException>(() => new Burgers1D(new Grid1D(0, 0, 1), 0.01, 0.01)).ParamName);
        Assert.Equal("ny", Assert.Throws<ArgumentException>(() => new Burgers2D(new Grid2D(8, -2, 1, 1), 0.01, 0.01)).ParamName);
        Assert.Equal("nx", Assert.Throws<ArgumentException>(() => new Grid2D(0, 4, 1, 1)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentException>(() => new Grid2D(4, 4, 0, 1)).ParamName);
        Assert.Equal("nx", Assert.Throws<ArgumentException>(() => WakeFlow2D.PbdlWake(nx: 0)).ParamName);
        Assert.Equal("xMax", Assert.Throws<ArgumentException>(() => new Grid1D(8, 1, 1)).ParamName);
    }

    [Fact]
    public void UnstableExplicitDiffusionReportsTheLargestStableStep()
    {
        // dx = 1/16, nu = 1: the largest stable step is 0.5 dx^2 / nu = 1/512.
        var ex = Assert.Throws<ArgumentException>(() => new Burgers1D(new Grid1D(16, 0, 1), 1.0, 0.01));
        Assert.Equal("dt", ex.ParamName);
        Assert.Contains(Diffusion.MaxStableExplicitDt(1.0, 1.0 / 16, double.PositiveInfinity, 1).ToString("G6"), ex.Message);
        output.WriteLine(ex.Message);
        _ = new Burgers1D(new Grid1D(16, 0, 1), 1.0, 0.01, substeps: 6); // more substeps make it stable
        var ex2 = Assert.Throws<ArgumentException>(() => new Burgers2D(new Grid2D(16, 16, 1, 1), 1.0, 0.01));
        Assert.Equal("dt", ex2.ParamName);
        Assert.Contains(Diffusion.MaxStableExplicitDt(1.0, 1.0 / 16, 1.0 / 16, 1).ToString("G6"), ex2.Message);
    }

    [Fact]
    public void OneSidedPeriodicityIsRejected()
    {
        var bad = new Boundary2D(BoundaryKind.Periodic, BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.Zero);
        Assert.Equal("boundary", Assert.Throws<ArgumentException>(() => new Grid2D(4, 4, 1, 1, bad)).ParamName);
    }

    [Fact]
    public void SamplingIsExactForLinearFieldsAndResamplingPreservesSmoothFields()
    {
        var g = new Grid2D(16, 12, 2, 3, Boundary2D.Open);
        var f = g.Evaluate((x, y) => 1 + 2 * x - 3 * y);
        Assert.Equal(1 + 2 * 0.7 - 3 * 1.3, g.Sample(f, 0.7, 1.3), 12);
        var fine = new Grid2D(32, 32, 1, 1);
        var coarse = new Grid2D(16, 16, 1, 1);
        var ff = fine.Evaluate((x, y) => Math.Sin(2 * Math.PI * x) * Math.Cos(2 * Math.PI * y));
        var r = fine.ResampleTo(ff, coarse);
        var exact = coarse.Evaluate((x, y) => Math.Sin(2 * Math.PI * x) * Math.Cos(2 * Math.PI * y));
        double err = r.Zip(exact, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"resample 32->16 max error {err:E2}");
        Assert.True(err < 0.02);
        var g1 = new Grid1D(64, -1, 1);
        var u = Enumerable.Range(0, 64).Select(i => Math.Sin(Math.PI * (-1 + (i + 0.5) / 32.0))).ToArray();
        Assert.Equal(Math.Sin(Math.PI * 0.3), g1.Sample(u, 0.3), 2);
        Assert.Equal(128, g1.ResampleTo(u, new Grid1D(128, -1, 1)).Length);
    }

    [Fact]
    public void CenteredAndStaggeredConversionsRoundTripForLinearFields()
    {
        var g = new StaggeredGrid2D(8, 6, 8, 6, Boundary2D.Open);
        var (u, v) = g.Evaluate((x, y) => 0.5 + 0.1 * x, (x, y) => 0.2 * y - 0.3);
        var (cu, cv) = g.ToCentered(u, v);
        Assert.Equal(0.5 + 0.1 * 2.5, cu[1 * 8 + 2], 12);
        Assert.Equal(0.2 * 1.5 - 0.3, cv[1 * 8 + 2], 12);
        var (u2, v2) = g.FromCentered(cu, cv);
        for (int j = 0; j < 6; j++) for (int i = 1; i < 8; i++) Assert.Equal(u[j * 9 + i], u2[j * 9 + i], 12);
        for (int j = 1; j < 6; j++) for (int i = 0; i < 8; i++) Assert.Equal(v[j * 8 + i], v2[j * 8 + i], 12);
        var (su, sv) = g.Sample(u, v, 3.3, 2.2);
        Assert.Equal(0.5 + 0.33, su, 12);
        Assert.Equal(0.44 - 0.3, sv, 12);
    }

    [Fact]
    public void Rk2BacktraceIsExactForARigidRotationStep()
    {
        // In a linear shear u = y, v = 0 the Euler and RK2 departure points agree; in a rotation RK2 is closer.
        int n = 32;
        var g = new Grid2D(n, n, 1, 1, Boundary2D.Open);
        var q = g.Evaluate((x, y) => x);
        var cu = g.Evaluate((x, y) => -(y - 0.5));
        var cv = g.Evaluate((x, y) => x - 0.5);
        var euler = new double[n * n]; var rk2 = new double[n * n];
        double dt = 0.2, dx = 1.0 / n;
        Advection.SemiLagrangianCentered2D(q, cu, cv, euler, n, n, dx, dx, dt, 2, 2, 2, 2, 0);
        Advection.SemiLagrangianCentered2D(q, cu, cv, rk2, n, n, dx, dx, dt, 2, 2, 2, 2, 1);
        // Exact: rotate the cell centre back by angle dt about (0.5, 0.5); q = x of that point.
        double eE = 0, eR = 0;
        for (int j = 8; j < 24; j++)
            for (int i = 8; i < 24; i++)
            {
                double x = (i + 0.5) * dx - 0.5, y = (j + 0.5) * dx - 0.5;
                double exact = 0.5 + Math.Cos(-dt) * x - Math.Sin(-dt) * y;
                eE = Math.Max(eE, Math.Abs(euler[j * n + i] - exact));
                eR = Math.Max(eR, Math.Abs(rk2[j * n + i] - exact));
            }
        output.WriteLine($"rotation backtrace error: Euler {eE:E2}, RK2 {eR:E2}");
        Assert.True(eR < 0.25 * eE);
    }

    [Fact]
    public void ImplicitDiffusionAdjointMatchesFiniteDifferences()
    {
        int nx = 6, ny = 5; double dt = 0.3, dx = 1;
        var rng = new Random(2);
        var q = Enumerable.Range(0, nx * ny).Select(_ => rng.NextDouble()).ToArray();
        var w = Enumerable.Range(0, nx * ny).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double Loss(double[] qi, double nu)
        {
            var r = new double[qi.Length];
            Diffusion.Implicit2D(qi, r, nu, dt, dx, dx, nx, ny, Bc.Zero, Bc.ZeroGradient, Bc.Periodic, Bc.Periodic, 1e-14, 500);
            return r.Select((x, k) => w[k] * x * x).Sum();
        }
        double nu0 = 0.7;
        var res = new double[q.Length];
        Diffusion.Implicit2D(q, res, nu0, dt, dx, dx, nx, ny, Bc.Zero, Bc.ZeroGradient, Bc.Periodic, Bc.Periodic, 1e-14, 500);
        var resBar = res.Select((x, k) => 2 * w[k] * x).ToArray();
        var qBar = new double[q.Length]; double nuBar = 0, dtBar = 0;
        Diffusion.Implicit2DPullback(q, res, nu0, dt, dx, dx, nx, ny, Bc.Zero, Bc.ZeroGradient, Bc.Periodic, Bc.Periodic, 1e-14, 500, qBar, resBar, ref nuBar, ref dtBar);
        GradCheck.AssertClose(qBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, nu0), q), 1e-6, "implicit diffusion dL/dq");
        double fd = (Loss(q, nu0 + 1e-6) - Loss(q, nu0 - 1e-6)) / 2e-6;
        GradCheck.AssertClose([nuBar], [fd], 1e-6, "implicit diffusion dL/dnu");
        Assert.All(resBar, b => Assert.Equal(0.0, b));
    }

    [Fact]
    public void StaggeredDownsamplingPreservesTheBlockAveragedDivergence()
    {
        int nx = 5, ny = 4, f = 4, fnx = nx * f, fny = ny * f;
        var rng = new Random(9);
        var uf = Enumerable.Range(0, (fnx + 1) * fny).Select(_ => rng.NextDouble()).ToArray();
        var vf = Enumerable.Range(0, fnx * (fny + 1)).Select(_ => rng.NextDouble()).ToArray();
        var u = new double[(nx + 1) * ny]; var v = new double[nx * (ny + 1)];
        Interpolation.DownsampleStaggered(uf, vf, u, v, nx, ny, f);
        var divFine = new double[fnx * fny]; var divCoarse = new double[nx * ny]; var divAvg = new double[nx * ny];
        Operators.DivergenceStaggered(uf, vf, divFine, fnx, fny, 1.0, 1.0);
        Operators.DivergenceStaggered(u, v, divCoarse, nx, ny, f, f);
        Interpolation.Downsample2D(divFine, divAvg, nx, ny, f);
        for (int k = 0; k < divAvg.Length; k++) Assert.Equal(divAvg[k], divCoarse[k], 12);
    }

    [Fact]
    public void MasksCoverTheRightCells()
    {
        var g = new Grid2D(32, 64, 100, 200);
        var disc = g.DiscMask(50, 50, 10);
        double area = disc.Sum() * g.Dx * g.Dy;
        Assert.InRange(area, 0.8 * Math.PI * 100, 1.2 * Math.PI * 100);
        Assert.Equal(1, disc[(int)(50 / g.Dy) * 32 + (int)(50 / g.Dx)]);
        Assert.Equal(0, disc[0]);
        var box = g.BoxField(25, 75, 5, 10, 2);
        Assert.All(box, b => Assert.True(b == 0 || b == 2));
        Assert.True(box.Count(b => b == 2) > 0);
        Assert.Equal("radius", Assert.Throws<ArgumentException>(() => g.DiscMask(1, 1, 0)).ParamName);
        Assert.Equal("x1", Assert.Throws<ArgumentException>(() => g.BoxField(5, 5, 0, 1)).ParamName);
    }

    [Fact]
    public void GridAndBoundaryValuesPrintTheirSides()
    {
        // Records print their properties; a boundary's Scalar is a boundary again and must not recurse.
        Assert.Equal("Boundary2D { XLo = Zero, XHi = Zero, YLo = Zero, YHi = ZeroGradient }", WakeFlow2D.DefaultBoundary.ToString());
        Assert.Contains("ZHi = Periodic", Boundary3D.Periodic.ToString());
        Assert.Contains("Lo = Periodic", new Grid1D(4, 0, 1).ToString());
        Assert.Contains("Nx = 4", new StaggeredGrid2D(4, 3, 1, 1).ToString());
        Assert.Equal(new Grid2D(4, 3, 1, 1, Boundary2D.Closed), new Grid2D(4, 3, 1, 1, Boundary2D.Closed));
        Assert.Equal(Boundary3D.Closed.Scalar, Boundary3D.Open);
    }
}
