using DiffGen.Physics;
using ILGPU;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The pressure projection's pieces on an ILGPU accelerator (the CPU emulator): the generated
/// <c>SubtractGradientDevice</c>, and the whole of <see cref="Pressure.Project"/> chained by hand the way a generated
/// composite would (divergence, <see cref="Pressure.SolvePressureDevice"/>, gradient subtraction; pullbacks in reverse
/// order, each re-running its forward) against the CPU <c>Project</c>/<c>ProjectPullback</c>.
/// </summary>
public class ProjectDeviceTests(DeviceFixture device) : IClassFixture<DeviceFixture>
{
    private const double Tol = 1e-12;

    public static TheoryData<string, int, int, int, int, int, int, bool> Cases => new()
    {
        { "closed box (smoke scene) 8x6", 8, 6, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, false },
        { "walls, open top, obstacle 10x8", 10, 8, Bc.Zero, Bc.Zero, Bc.Zero, Bc.ZeroGradient, true },
        { "periodic, obstacle 9x7", 9, 7, Bc.Periodic, Bc.Periodic, Bc.Periodic, Bc.Periodic, true },
    };

    private static int[] Solid(int nx, int ny, bool obstacle)
    {
        if (!obstacle) return [];
        var solid = new int[nx * ny];
        solid[(ny / 2) * nx + nx / 2] = 1;
        solid[(ny / 2) * nx + nx / 2 - 1] = 1;
        solid[1 * nx] = 1;
        return solid;
    }

    private static double[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new double[n];
        for (int k = 0; k < n; k++) v[k] = rng.NextDouble() - 0.5;
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
    [MemberData(nameof(Cases))]
    public void SubtractGradient_MatchesCpu(string name, int nx, int ny, int xLo, int xHi, int yLo, int yHi, bool obstacle)
    {
        int nu = (nx + 1) * ny, nv = nx * (ny + 1), nc = nx * ny;
        var solid = Solid(nx, ny, obstacle);
        var (u, v, p) = (Random(nu, 1), Random(nv, 2), Random(nc, 3));
        var (uo, vo) = (new double[nu], new double[nv]);
        Pressure.SubtractGradient(u, v, p, uo, vo, solid, nx, ny, 1.0, 0.5, xLo, xHi, yLo, yHi);
        var (uoD, voD) = (Up(new double[nu]), Up(new double[nv]));
        Pressure.SubtractGradientDevice.Run(device.Accelerator, Up(u), Up(v), Up(p), uoD, voD, device.Upload(solid), nx, ny, 1.0, 0.5, xLo, xHi, yLo, yHi);
        Close(uo, device.Download(uoD), 1e-12, name + " uOut");
        Close(vo, device.Download(voD), 1e-12, name + " vOut");

        var (uBar, vBar, pBar, uoBar, voBar) = (Random(nu, 4), Random(nv, 5), Random(nc, 6), Random(nu, 7), Random(nv, 8));
        var (uBarD, vBarD, pBarD) = (Up(uBar), Up(vBar), Up(pBar));
        // The CPU pullback consumes the seeds: it gets copies.
        Pressure.SubtractGradientPullback(u, v, p, uo, vo, solid, nx, ny, 1.0, 0.5, xLo, xHi, yLo, yHi, uBar, vBar, pBar, (double[])uoBar.Clone(), (double[])voBar.Clone());
        Pressure.SubtractGradientDevice.Pullback(device.Accelerator, Up(u), Up(v), Up(p), uoD, voD, device.Upload(solid), nx, ny, 1.0, 0.5, xLo, xHi, yLo, yHi,
            uBarD, vBarD, pBarD, Up(uoBar), Up(voBar));
        Close(uBar, device.Download(uBarD), 1e-12, name + " uBar");
        Close(vBar, device.Download(vBarD), 1e-12, name + " vBar");
        Close(pBar, device.Download(pBarD), 1e-12, name + " pBar");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ProjectChain_OnDevice_MatchesCpuProject(string name, int nx, int ny, int xLo, int xHi, int yLo, int yHi, bool obstacle)
    {
        int nu = (nx + 1) * ny, nv = nx * (ny + 1), nc = nx * ny;
        double dx = 1.0, dy = 0.5;
        var solid = Solid(nx, ny, obstacle);
        var (u, v) = (Random(nu, 11), Random(nv, 12));
        var (uo, vo, p) = (new double[nu], new double[nv], new double[nc]);
        var (uBar, vBar) = (new double[nu], new double[nv]);
        var (uoBar, voBar, pBar) = (Random(nu, 13), Random(nv, 14), Random(nc, 15));
        Pressure.ProjectPullback(u, v, uo, vo, p, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, Tol, 500, uBar, vBar,
            (double[])uoBar.Clone(), (double[])voBar.Clone(), (double[])pBar.Clone());

        var acc = device.Accelerator;
        var (uD, vD, solidD) = (Up(u), Up(v), device.Upload(solid));
        var (divD, pD, uoD, voD) = (Up(new double[nc]), Up(new double[nc]), Up(new double[nu]), Up(new double[nv]));
        // Forward, as Project: div = D u, L p = div, uOut = u - G p.
        Operators.DivergenceStaggeredDevice.Run(acc, uD, vD, divD, nx, ny, dx, dy);
        Pressure.SolvePressureDevice.Run(acc, divD, pD, solidD, nx, ny, dx, dy, xLo, xHi, yLo, yHi, Tol, 500);
        Pressure.SubtractGradientDevice.Run(acc, uD, vD, pD, uoD, voD, solidD, nx, ny, dx, dy, xLo, xHi, yLo, yHi);
        Close(p, device.Download(pD), 1e-8, name + " p");
        Close(uo, device.Download(uoD), 1e-8, name + " uOut");
        Close(vo, device.Download(voD), 1e-8, name + " vOut");

        // Reverse: the callees' pullbacks in reverse order with zeroed adjoints for the local div.
        var (uBarD, vBarD, divBarD, pBarD) = (Up(new double[nu]), Up(new double[nv]), Up(new double[nc]), Up(pBar));
        Pressure.SubtractGradientDevice.Pullback(acc, uD, vD, pD, uoD, voD, solidD, nx, ny, dx, dy, xLo, xHi, yLo, yHi, uBarD, vBarD, pBarD, Up(uoBar), Up(voBar));
        Pressure.SolvePressureDevice.Pullback(acc, divD, pD, solidD, nx, ny, dx, dy, xLo, xHi, yLo, yHi, Tol, 500, divBarD, pBarD);
        Operators.DivergenceStaggeredDevice.Pullback(acc, uD, vD, divD, nx, ny, dx, dy, uBarD, vBarD, divBarD, Up([0.0]), Up([0.0]));
        Close(uBar, device.Download(uBarD), 1e-7, name + " uBar");
        Close(vBar, device.Download(vBarD), 1e-7, name + " vBar");
        Assert.All(device.Download(pBarD), x => Assert.Equal(0.0, x));
    }
}
