using DiffGen.Physics;
using ILGPU;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The obstacle (<c>Fluids.ApplyObstacle</c>, in its gather form: one loop per face kind) and the whole wake step
/// (<c>ModelKernels.WakeStepDevice</c>: self-advection, diffusion, walls, inflow, obstacle, projection with the
/// device pressure solve) on ILGPU's CPU accelerator, against their CPU forms.
/// </summary>
public class WakeStepDeviceTests(DeviceFixture device) : IClassFixture<DeviceFixture>
{
    private static double[] Random(int n, int seed, double scale)
    {
        var rng = new Random(seed);
        var v = new double[n];
        for (int k = 0; k < n; k++) v[k] = scale * (rng.NextDouble() - 0.5);
        return v;
    }

    private static int[] Solid(int nx, int ny, int seed)
    {
        var rng = new Random(seed);
        var s = new int[nx * ny];
        for (int k = 0; k < s.Length; k++) s[k] = rng.NextDouble() < 0.3 ? 1 : 0;
        s[0] = s[nx - 1] = s[(ny - 1) * nx] = s[^1] = 1; // the corners: faces on every side of the box
        return s;
    }

    private static void Close(double[] expected, double[] actual, double rel, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(expected.Max(Math.Abs), 1e-300);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= rel * scale, $"{what}[{k}]: CPU {expected[k]:R}, device {actual[k]:R} (scale {scale:E3})");
    }

    private ArrayView<T> Up<T>(T[] a) where T : unmanaged => device.Upload((T[])a.Clone());

    [Theory]
    [InlineData(8, 6, true)]
    [InlineData(5, 7, true)]
    [InlineData(8, 6, false)]
    public void ApplyObstacle_RunAndPullback_BitIdenticalToCpu(int nx, int ny, bool withSolid)
    {
        int nu = (nx + 1) * ny, nv = nx * (ny + 1);
        var solid = withSolid ? Solid(nx, ny, nx * 31 + ny) : [];
        var grid = new StaggeredGrid2D(nx, ny, nx, ny, Boundary2D.Closed);
        var (u, v) = (Random(nu, 1, 1), Random(nv, 2, 1));
        var (uBar, vBar) = (Random(nu, 3, 1), Random(nv, 4, 1));

        var (uc, vc) = ((double[])u.Clone(), (double[])v.Clone());
        Fluids.ApplyObstacle(uc, vc, solid, nx, ny);
        var (ud, vd) = (Up(u), Up(v));
        Fluids.ApplyObstacleDevice.Run(device.Accelerator, ud, vd, Up(solid), nx, ny);
        Assert.Equal(uc, device.Download(ud));
        Assert.Equal(vc, device.Download(vd));
        if (withSolid) Assert.Contains(uc.Zip(u), t => t.First != t.Second);
        else Assert.Equal(u, uc);

        var (ubc, vbc) = ((double[])uBar.Clone(), (double[])vBar.Clone());
        Fluid2D.ApplyObstaclePullback((double[])u.Clone(), (double[])v.Clone(), solid, grid, ubc, vbc);
        var (ubd, vbd) = (Up(uBar), Up(vBar));
        Fluid2D.ApplyObstacleDevice.Pullback(device.Accelerator, Up(u), Up(v), Up(solid), grid, ubd, vbd);
        Assert.Equal(ubc, device.Download(ubd));
        Assert.Equal(vbc, device.Download(vbd));
    }

    [Fact]
    public void WakeStep_RunAndPullback_MatchCpu()
    {
        const int nx = 8, ny = 12;
        var grid = new StaggeredGrid2D(nx, ny, nx, ny, WakeFlow2D.DefaultBoundary);
        int nc = nx * ny, nu = (nx + 1) * ny, nv = nx * (ny + 1);
        // A disc obstacle and inflow masks in [0, 1] on the two lowest rows of faces.
        var solid = grid.Cells.Disc(4, 6, 1.6, 1).Select(x => x != 0 ? 1 : 0).ToArray();
        Assert.Contains(1, solid);
        var uMask = Enumerable.Range(0, nu).Select(k => k / (nx + 1) < 2 ? 0.5 + 0.25 * Math.Sin(k) : 0).ToArray();
        var vMask = Enumerable.Range(0, nv).Select(k => k / nx < 2 ? 0.5 + 0.25 * Math.Cos(k) : 0).ToArray();
        const double dt = 0.5, nu_ = 0.05, inflow = 1.0, tol = 1e-12;
        const int substeps = 2, maxIt = 4000;
        var (u, v) = (Random(nu, 1, 1), Random(nv, 2, 1));
        var (uo, vo, p) = (new double[nu], new double[nv], new double[nc]);
        ModelKernels.WakeStep(u, v, uo, vo, p, solid, uMask, vMask, grid, dt, nu_, inflow, substeps, tol, maxIt);

        var acc = device.Accelerator;
        var (uD, vD, solidD, umD, vmD) = (Up(u), Up(v), Up(solid), Up(uMask), Up(vMask));
        var (uoD, voD, pD) = (Up(new double[nu]), Up(new double[nv]), Up(new double[nc]));
        ModelKernels.WakeStepDevice.Run(acc, uD, vD, uoD, voD, pD, solidD, umD, vmD, grid, dt, nu_, inflow, substeps, tol, maxIt);
        Close(uo, device.Download(uoD), 1e-8, "uOut");
        Close(vo, device.Download(voD), 1e-8, "vOut");
        Close(p, device.Download(pD), 1e-8, "p");

        var (uoBar, voBar, pBar) = (Random(nu, 6, 1), Random(nv, 7, 1), Random(nc, 8, 1));
        var (uBar, vBar) = (new double[nu], new double[nv]);
        double dtBar = 0, nuBar = 0, inBar = 0;
        ModelKernels.WakeStepPullback(u, v, new double[nu], new double[nv], new double[nc], solid, uMask, vMask, grid, dt, nu_, inflow, substeps, tol, maxIt,
            uBar, vBar, (double[])uoBar.Clone(), (double[])voBar.Clone(), (double[])pBar.Clone(), ref dtBar, ref nuBar, ref inBar);
        var (uBarD, vBarD, dtBarD, nuBarD, inBarD) = (Up(new double[nu]), Up(new double[nv]), Up([0.0]), Up([0.0]), Up([0.0]));
        var (uo2, vo2, p2) = (Up(new double[nu]), Up(new double[nv]), Up(new double[nc]));
        ModelKernels.WakeStepDevice.Pullback(acc, uD, vD, uo2, vo2, p2, solidD, umD, vmD, grid, dt, nu_, inflow, substeps, tol, maxIt,
            uBarD, vBarD, Up(uoBar), Up(voBar), Up(pBar), dtBarD, nuBarD, inBarD);
        // The pullback leaves the step's outputs, as the CPU pullback does (the walls' and obstacle's snapshots start from the velocity).
        Close(uo, device.Download(uo2), 1e-8, "uOut (Pullback)");
        Close(vo, device.Download(vo2), 1e-8, "vOut (Pullback)");
        Close(p, device.Download(p2), 1e-8, "p (Pullback)");
        Close(uBar, device.Download(uBarD), 1e-7, "uBar");
        Close(vBar, device.Download(vBarD), 1e-7, "vBar");
        Close([dtBar], device.Download(dtBarD), 1e-7, "dtBar");
        Close([nuBar], device.Download(nuBarD), 1e-7, "nuBar");
        Close([inBar], device.Download(inBarD), 1e-7, "inflowVelocityBar");
        Assert.NotEqual(0.0, nuBar);
        Assert.NotEqual(0.0, inBar);
    }
}
