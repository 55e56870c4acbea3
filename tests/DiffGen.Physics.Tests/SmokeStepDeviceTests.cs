using DiffGen.Physics;
using ILGPU;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The whole 2D smoke step on an ILGPU accelerator (the CPU emulator): the generated <c>ModelKernels.SmokeStepDevice</c>
/// (MacCormack, inflow, self-advection, buoyancy, walls, projection with the hand-written <c>SolvePressureDevice</c>)
/// against the CPU <c>SmokeStep</c> and its pullback, closed box as in the smoke scene.
/// </summary>
public class SmokeStepDeviceTests(DeviceFixture device) : IClassFixture<DeviceFixture>
{
    private static double[] Random(int n, int seed, double scale)
    {
        var rng = new Random(seed);
        var v = new double[n];
        for (int k = 0; k < n; k++) v[k] = scale * (rng.NextDouble() - 0.5);
        return v;
    }

    private static void Close(double[] expected, double[] actual, double rel, string what)
    {
        double scale = Math.Max(expected.Max(Math.Abs), 1e-300);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= rel * scale, $"{what}[{k}]: CPU {expected[k]:R}, device {actual[k]:R} (scale {scale:E3})");
    }

    private ArrayView<double> Up(double[] a) => device.Upload((double[])a.Clone());

    [Theory]
    [InlineData(8, 6)]
    [InlineData(10, 7)]
    public void SmokeStep_RunAndPullback_MatchCpu(int nx, int ny)
    {
        var grid = new StaggeredGrid2D(nx, ny, nx, ny, Boundary2D.Closed);
        int nc = nx * ny, nu = (nx + 1) * ny, nv = nx * (ny + 1);
        const double tol = 1e-12, dt = 1.0, buoyancy = 1.0;
        const int maxIt = 2000;
        var smoke = Random(nc, 1, 1).Select(x => x + 0.5).ToArray();
        var (u, v, inflow) = (Random(nu, 2, 1), Random(nv, 3, 1), Random(nc, 4, 0.2));
        var (so, uo, vo, p) = (new double[nc], new double[nu], new double[nv], new double[nc]);
        ModelKernels.SmokeStep(smoke, u, v, inflow, so, uo, vo, p, grid, dt, buoyancy, tol, maxIt);

        var acc = device.Accelerator;
        var (smokeD, uD, vD, inflowD) = (Up(smoke), Up(u), Up(v), Up(inflow));
        var (soD, uoD, voD, pD) = (Up(new double[nc]), Up(new double[nu]), Up(new double[nv]), Up(new double[nc]));
        ModelKernels.SmokeStepDevice.Run(acc, smokeD, uD, vD, inflowD, soD, uoD, voD, pD, grid, dt, buoyancy, tol, maxIt);
        Close(so, device.Download(soD), 1e-8, "smokeOut");
        Close(uo, device.Download(uoD), 1e-8, "uOut");
        Close(vo, device.Download(voD), 1e-8, "vOut");
        Close(p, device.Download(pD), 1e-8, "p");

        var (soBar, uoBar, voBar, pBar) = (Random(nc, 5, 1), Random(nu, 6, 1), Random(nv, 7, 1), Random(nc, 8, 1));
        var (sBar, uBar, vBar, iBar) = (new double[nc], new double[nu], new double[nv], new double[nc]);
        double dtBar = 0, bBar = 0;
        ModelKernels.SmokeStepPullback(smoke, u, v, inflow, new double[nc], new double[nu], new double[nv], new double[nc], grid, dt, buoyancy, tol, maxIt,
            sBar, uBar, vBar, iBar, (double[])soBar.Clone(), (double[])uoBar.Clone(), (double[])voBar.Clone(), (double[])pBar.Clone(), ref dtBar, ref bBar);
        var (sBarD, uBarD, vBarD, iBarD) = (Up(new double[nc]), Up(new double[nu]), Up(new double[nv]), Up(new double[nc]));
        var (dtBarD, bBarD) = (Up([0.0]), Up([0.0]));
        ModelKernels.SmokeStepDevice.Pullback(acc, smokeD, uD, vD, inflowD, Up(new double[nc]), Up(new double[nu]), Up(new double[nv]), Up(new double[nc]), grid, dt, buoyancy, tol, maxIt,
            sBarD, uBarD, vBarD, iBarD, Up(soBar), Up(uoBar), Up(voBar), Up(pBar), dtBarD, bBarD);
        Close(sBar, device.Download(sBarD), 1e-7, "smokeBar");
        Close(uBar, device.Download(uBarD), 1e-7, "uBar");
        Close(vBar, device.Download(vBarD), 1e-7, "vBar");
        Close(iBar, device.Download(iBarD), 1e-7, "inflowBar");
        Close([dtBar], device.Download(dtBarD), 1e-7, "dtBar");
        Close([bBar], device.Download(bBarD), 1e-7, "buoyancyBar");
    }
}
