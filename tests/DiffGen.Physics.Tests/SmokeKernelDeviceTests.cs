using DiffGen.Physics;
using ILGPU;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The generated ILGPU forms (<c>{Name}Device.Run</c>/<c>Pullback</c>) of the smoke step's kernels against their CPU
/// methods and pullbacks, on ILGPU's CPU accelerator (an emulator) and a 9x7 grid: closed box (velocity walls, scalar
/// zero gradient, as in the smoke scene), periodic, and mixed sides; velocities and time steps large enough that
/// departure points leave the grid. Outputs within 1e-12, adjoints within 1e-9 of the largest element (double).
/// </summary>
public class SmokeKernelDeviceTests(DeviceFixture device) : IClassFixture<DeviceFixture>
{
    private const int Nx = 9, Ny = 7, Nc = Nx * Ny, Nu = (Nx + 1) * Ny, Nv = Nx * (Ny + 1);
    private const double Dx = 1.0, Dy = 0.8;

    /// <summary>Velocity codes (xLo, xHi, yLo, yHi), the scalar's codes, time step.</summary>
    public static TheoryData<string, int[], int[], double> Cases => new()
    {
        { "closed box", [Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero], [Bc.ZeroGradient, Bc.ZeroGradient, Bc.ZeroGradient, Bc.ZeroGradient], 1.3 },
        { "periodic", [Bc.Periodic, Bc.Periodic, Bc.Periodic, Bc.Periodic], [Bc.Periodic, Bc.Periodic, Bc.Periodic, Bc.Periodic], 0.9 },
        { "periodic x, wall below, open above", [Bc.Periodic, Bc.Periodic, Bc.Zero, Bc.ZeroGradient], [Bc.Periodic, Bc.Periodic, Bc.Zero, Bc.ZeroGradient], 1.7 },
    };

    private static double[] Random(int n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        var v = new double[n];
        for (int k = 0; k < n; k++) v[k] = scale * (rng.NextDouble() - 0.5);
        return v;
    }

    private static void Close(double[] expected, double[] actual, double rel, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(expected.Max(Math.Abs), 1e-300);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= rel * scale, $"{what}[{k}]: CPU {expected[k]:R}, device {actual[k]:R} (scale {scale:E3})");
    }

    private static void Close(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"{what}: CPU {expected:R}, device {actual:R}");

    private ArrayView<double> Up(double[] a) => device.Upload((double[])a.Clone());

    private double[] Down(ArrayView<double> v) => device.Download(v);

    private double Scalar(ArrayView<double> v) => device.Download(v)[0];

    [Theory]
    [MemberData(nameof(Cases))]
    public void TraceVelocityMac_EulerAndRk2(string name, int[] c, int[] qc, double dt)
    {
        _ = qc;
        var u = Random(Nu, 1, 4);
        var v = Random(Nv, 2, 4);
        foreach (int rk2 in new[] { 0, 1 })
            foreach (var (w, h, ox, oy) in new[] { (Nx + 1, Ny, -0.5, 0.0), (Nx, Ny + 1, 0.0, -0.5), (Nx, Ny, 0.0, 0.0) })
            {
                string tag = $"{name}, rk2 {rk2}, {w}x{h}";
                int n = w * h;
                var tu = new double[n];
                var tv = new double[n];
                Advection.TraceVelocityMac(u, v, tu, tv, Nx, Ny, w, h, ox, oy, Dx, Dy, dt, c[0], c[1], c[2], c[3], rk2);
                var tuD = Up(new double[n]);
                var tvD = Up(new double[n]);
                Advection.TraceVelocityMacDevice.Run(device.Accelerator, Up(u), Up(v), tuD, tvD, Nx, Ny, w, h, ox, oy, Dx, Dy, dt, c[0], c[1], c[2], c[3], rk2);
                Close(tu, Down(tuD), 1e-12, tag + " tu");
                Close(tv, Down(tvD), 1e-12, tag + " tv");

                var uBar = Random(Nu, 3);
                var vBar = Random(Nv, 4);
                var tuBar = Random(n, 5);
                var tvBar = Random(n, 6);
                var (uBarD, vBarD, tuBarD, tvBarD) = (Up(uBar), Up(vBar), Up(tuBar), Up(tvBar));
                double oxBar = 0, oyBar = 0, dxBar = 0, dyBar = 0, dtBar = 0;
                var s = Enumerable.Range(0, 5).Select(_ => Up([0.0])).ToArray();
                Advection.TraceVelocityMacPullback(u, v, tu, tv, Nx, Ny, w, h, ox, oy, Dx, Dy, dt, c[0], c[1], c[2], c[3], rk2, uBar, vBar, tuBar, tvBar,
                    ref oxBar, ref oyBar, ref dxBar, ref dyBar, ref dtBar);
                Advection.TraceVelocityMacDevice.Pullback(device.Accelerator, Up(u), Up(v), tuD, tvD, Nx, Ny, w, h, ox, oy, Dx, Dy, dt, c[0], c[1], c[2], c[3], rk2,
                    uBarD, vBarD, tuBarD, tvBarD, s[0], s[1], s[2], s[3], s[4]);
                Close(uBar, Down(uBarD), 1e-9, tag + " uBar");
                Close(vBar, Down(vBarD), 1e-9, tag + " vBar");
                Close(tuBar, Down(tuBarD), 1e-9, tag + " tuBar");
                Close(tvBar, Down(tvBarD), 1e-9, tag + " tvBar");
                double[] cpuScalars = [oxBar, oyBar, dxBar, dyBar, dtBar];
                for (int k = 0; k < 5; k++) Close(cpuScalars[k], Scalar(s[k]), $"{tag} scalar adjoint {k}");
            }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TraceNodes2D_XFaces(string name, int[] c, int[] qc, double dt)
    {
        _ = qc;
        int w = Nx + 1, h = Ny, n = w * h;
        var f = Random(n, 7, 2);
        var tu = Random(n, 8, 4);
        var tv = Random(n, 9, 4);
        var r = new double[n];
        Advection.TraceNodes2D(f, tu, tv, r, w, h, -0.5, 0.0, w, h, Nx, Ny, -0.5, 0.0, Dx, Dy, dt, c[0], c[1], c[2], c[3]);
        var rD = Up(new double[n]);
        Advection.TraceNodes2DDevice.Run(device.Accelerator, Up(f), Up(tu), Up(tv), rD, w, h, -0.5, 0.0, w, h, Nx, Ny, -0.5, 0.0, Dx, Dy, dt, c[0], c[1], c[2], c[3]);
        Close(r, Down(rD), 1e-12, name + " result");

        var fBar = Random(n, 10);
        var tuBar = Random(n, 11);
        var tvBar = Random(n, 12);
        var rBar = Random(n, 13);
        var (fBarD, tuBarD, tvBarD, rBarD) = (Up(fBar), Up(tuBar), Up(tvBar), Up(rBar));
        var cpu = new double[7];
        Advection.TraceNodes2DPullback(f, tu, tv, r, w, h, -0.5, 0.0, w, h, Nx, Ny, -0.5, 0.0, Dx, Dy, dt, c[0], c[1], c[2], c[3], fBar, tuBar, tvBar, rBar,
            ref cpu[0], ref cpu[1], ref cpu[2], ref cpu[3], ref cpu[4], ref cpu[5], ref cpu[6]);
        var s = Enumerable.Range(0, 7).Select(_ => Up([0.0])).ToArray();
        Advection.TraceNodes2DDevice.Pullback(device.Accelerator, Up(f), Up(tu), Up(tv), rD, w, h, -0.5, 0.0, w, h, Nx, Ny, -0.5, 0.0, Dx, Dy, dt, c[0], c[1], c[2], c[3],
            fBarD, tuBarD, tvBarD, rBarD, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
        Close(fBar, Down(fBarD), 1e-9, name + " fBar");
        Close(tuBar, Down(tuBarD), 1e-9, name + " tuBar");
        Close(tvBar, Down(tvBarD), 1e-9, name + " tvBar");
        Assert.All(Down(rBarD), x => Assert.Equal(0.0, x)); // the seed is consumed
        for (int k = 0; k < 7; k++) Close(cpu[k], Scalar(s[k]), $"{name} scalar adjoint {k}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SemiLagrangianScalar2D_Composite(string name, int[] c, int[] qc, double dt)
    {
        var q = Random(Nc, 14, 2);
        var u = Random(Nu, 15, 4);
        var v = Random(Nv, 16, 4);
        foreach (int rk2 in new[] { 0, 1 })
        {
            string tag = $"{name}, rk2 {rk2}";
            var r = new double[Nc];
            Advection.SemiLagrangianScalar2D(q, u, v, r, Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3], rk2);
            var rD = Up(new double[Nc]);
            Advection.SemiLagrangianScalar2DDevice.Run(device.Accelerator, Up(q), Up(u), Up(v), rD, Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3], rk2);
            Close(r, Down(rD), 1e-12, tag + " result");

            var (qBar, uBar, vBar, rBar) = (Random(Nc, 17), Random(Nu, 18), Random(Nv, 19), Random(Nc, 20));
            var (qBarD, uBarD, vBarD, rBarD) = (Up(qBar), Up(uBar), Up(vBar), Up(rBar));
            double dxBar = 0, dyBar = 0, dtBar = 0;
            Advection.SemiLagrangianScalar2DPullback(q, u, v, r, Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3], rk2, qBar, uBar, vBar, rBar,
                ref dxBar, ref dyBar, ref dtBar);
            var s = Enumerable.Range(0, 3).Select(_ => Up([0.0])).ToArray();
            Advection.SemiLagrangianScalar2DDevice.Pullback(device.Accelerator, Up(q), Up(u), Up(v), rD, Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3], rk2,
                qBarD, uBarD, vBarD, rBarD, s[0], s[1], s[2]);
            Close(qBar, Down(qBarD), 1e-9, tag + " qBar");
            Close(uBar, Down(uBarD), 1e-9, tag + " uBar");
            Close(vBar, Down(vBarD), 1e-9, tag + " vBar");
            Close(dxBar, Scalar(s[0]), tag + " dxBar");
            Close(dyBar, Scalar(s[1]), tag + " dyBar");
            Close(dtBar, Scalar(s[2]), tag + " dtBar");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SemiLagrangianVelocity2D_Composite(string name, int[] c, int[] qc, double dt)
    {
        _ = qc;
        var u = Random(Nu, 21, 4);
        var v = Random(Nv, 22, 4);
        foreach (int rk2 in new[] { 0, 1 })
        {
            string tag = $"{name}, rk2 {rk2}";
            var (uo, vo) = (new double[Nu], new double[Nv]);
            Advection.SemiLagrangianVelocity2D(u, v, uo, vo, Nx, Ny, Dx, Dy, dt, c[0], c[1], c[2], c[3], rk2);
            var (uoD, voD) = (Up(new double[Nu]), Up(new double[Nv]));
            Advection.SemiLagrangianVelocity2DDevice.Run(device.Accelerator, Up(u), Up(v), uoD, voD, Nx, Ny, Dx, Dy, dt, c[0], c[1], c[2], c[3], rk2);
            Close(uo, Down(uoD), 1e-12, tag + " uOut");
            Close(vo, Down(voD), 1e-12, tag + " vOut");

            var (uBar, vBar, uoBar, voBar) = (Random(Nu, 23), Random(Nv, 24), Random(Nu, 25), Random(Nv, 26));
            var (uBarD, vBarD, uoBarD, voBarD) = (Up(uBar), Up(vBar), Up(uoBar), Up(voBar));
            double dxBar = 0, dyBar = 0, dtBar = 0;
            Advection.SemiLagrangianVelocity2DPullback(u, v, uo, vo, Nx, Ny, Dx, Dy, dt, c[0], c[1], c[2], c[3], rk2, uBar, vBar, uoBar, voBar, ref dxBar, ref dyBar, ref dtBar);
            var s = Enumerable.Range(0, 3).Select(_ => Up([0.0])).ToArray();
            Advection.SemiLagrangianVelocity2DDevice.Pullback(device.Accelerator, Up(u), Up(v), uoD, voD, Nx, Ny, Dx, Dy, dt, c[0], c[1], c[2], c[3], rk2,
                uBarD, vBarD, uoBarD, voBarD, s[0], s[1], s[2]);
            Close(uBar, Down(uBarD), 1e-9, tag + " uBar");
            Close(vBar, Down(vBarD), 1e-9, tag + " vBar");
            Close(dxBar, Scalar(s[0]), tag + " dxBar");
            Close(dyBar, Scalar(s[1]), tag + " dyBar");
            Close(dtBar, Scalar(s[2]), tag + " dtBar");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MacCormackScalar2D_Composite(string name, int[] c, int[] qc, double dt)
    {
        var q = Random(Nc, 27, 2);
        var u = Random(Nu, 28, 4);
        var v = Random(Nv, 29, 4);
        var r = new double[Nc];
        Advection.MacCormackScalar2D(q, u, v, r, Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3]);
        var rD = Up(new double[Nc]);
        Advection.MacCormackScalar2DDevice.Run(device.Accelerator, Up(q), Up(u), Up(v), rD, Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3]);
        Close(r, Down(rD), 1e-12, name + " result");

        var (qBar, uBar, vBar, rBar) = (Random(Nc, 30), Random(Nu, 31), Random(Nv, 32), Random(Nc, 33));
        var (qBarD, uBarD, vBarD, rBarD) = (Up(qBar), Up(uBar), Up(vBar), Up(rBar));
        double dxBar = 0, dyBar = 0, dtBar = 0;
        Advection.MacCormackScalar2DPullback(q, u, v, r, Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3], qBar, uBar, vBar, rBar, ref dxBar, ref dyBar, ref dtBar);
        var s = Enumerable.Range(0, 3).Select(_ => Up([0.0])).ToArray();
        Advection.MacCormackScalar2DDevice.Pullback(device.Accelerator, Up(q), Up(u), Up(v), rD, Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3],
            qBarD, uBarD, vBarD, rBarD, s[0], s[1], s[2]);
        Close(qBar, Down(qBarD), 1e-9, name + " qBar");
        Close(uBar, Down(uBarD), 1e-9, name + " uBar");
        Close(vBar, Down(vBarD), 1e-9, name + " vBar");
        Close(dxBar, Scalar(s[0]), name + " dxBar");
        Close(dyBar, Scalar(s[1]), name + " dyBar");
        Close(dtBar, Scalar(s[2]), name + " dtBar");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MacCormackScalar2D_PullbackMatchesCentralDifferences(string name, int[] c, int[] qc, double dt)
    {
        // The CPU pullback that the device is checked against, itself against central differences (a loss away from
        // the clamp's and floor's kinks for these seeds: a kink inside ±h would show as a mismatch).
        var q = Random(Nc, 34, 2);
        var u = Random(Nu, 35, 1.5);
        var v = Random(Nv, 36, 1.5);
        var wgt = Random(Nc, 37);
        double Loss(double[] qq, double[] uu, double[] vv)
        {
            var r = new double[Nc];
            Advection.MacCormackScalar2D(qq, uu, vv, r, Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3]);
            double s = 0;
            for (int k = 0; k < Nc; k++) s += wgt[k] * r[k];
            return s;
        }
        var (qBarD, uBarD, vBarD) = (Up(new double[Nc]), Up(new double[Nu]), Up(new double[Nv]));
        var s3 = Enumerable.Range(0, 3).Select(_ => Up([0.0])).ToArray();
        Advection.MacCormackScalar2DDevice.Pullback(device.Accelerator, Up(q), Up(u), Up(v), Up(new double[Nc]), Nx, Ny, Dx, Dy, dt, qc[0], qc[1], qc[2], qc[3], c[0], c[1], c[2], c[3],
            qBarD, uBarD, vBarD, Up(wgt), s3[0], s3[1], s3[2]);
        var (qBar, uBar) = (Down(qBarD), Down(uBarD));
        const double h = 1e-6;
        foreach (int k in new[] { 0, 10, 31, Nc - 1 })
        {
            var (qp, qm) = ((double[])q.Clone(), (double[])q.Clone());
            qp[k] += h;
            qm[k] -= h;
            double fd = (Loss(qp, u, v) - Loss(qm, u, v)) / (2 * h);
            Assert.True(Math.Abs(fd - qBar[k]) <= 1e-6 * Math.Max(1, Math.Abs(fd)), $"{name} q[{k}]: central difference {fd:R}, device {qBar[k]:R}");
        }
        foreach (int k in new[] { 3, 25, 44, Nu - 2 })
        {
            var (up, um) = ((double[])u.Clone(), (double[])u.Clone());
            up[k] += h;
            um[k] -= h;
            double fd = (Loss(q, up, v) - Loss(q, um, v)) / (2 * h);
            Assert.True(Math.Abs(fd - uBar[k]) <= 1e-6 * Math.Max(1, Math.Abs(fd)), $"{name} u[{k}]: central difference {fd:R}, device {uBar[k]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AddBuoyancy_InPlace(string name, int[] c, int[] qc, double dt)
    {
        _ = c;
        var density = Random(Nc, 38, 2);
        var v0 = Random(Nv, 39, 2);
        double scale = 0.7 * dt;
        var v = (double[])v0.Clone();
        Fluids.AddBuoyancy(density, v, Nx, Ny, scale, qc[0], qc[1], qc[2], qc[3]);
        var vD = Up(v0);
        Fluids.AddBuoyancyDevice.Run(device.Accelerator, Up(density), vD, Nx, Ny, scale, qc[0], qc[1], qc[2], qc[3]);
        Close(v, Down(vD), 1e-12, name + " v");

        var (dBar, vBar) = (Random(Nc, 40), Random(Nv, 41));
        var (dBarD, vBarD) = (Up(dBar), Up(vBar));
        var vCpu = (double[])v0.Clone();
        double scaleBar = 0.25;
        Fluids.AddBuoyancyPullback(density, vCpu, Nx, Ny, scale, qc[0], qc[1], qc[2], qc[3], dBar, vBar, ref scaleBar);
        var vDev = Up(v0);
        var sD = Up([0.25]);
        Fluids.AddBuoyancyDevice.Pullback(device.Accelerator, Up(density), vDev, Nx, Ny, scale, qc[0], qc[1], qc[2], qc[3], dBarD, vBarD, sD);
        Close(vCpu, Down(vDev), 1e-12, name + " v (pullback's forward)");
        Close(dBar, Down(dBarD), 1e-9, name + " densityBar");
        Close(vBar, Down(vBarD), 1e-9, name + " vBar");
        Close(scaleBar, Scalar(sD), name + " scaleBar");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ApplyWalls_InPlace(string name, int[] c, int[] qc, double dt)
    {
        _ = (name, qc, dt);
        var u0 = Random(Nu, 42, 2);
        var v0 = Random(Nv, 43, 2);
        var (u, v) = ((double[])u0.Clone(), (double[])v0.Clone());
        Fluids.ApplyWalls(u, v, Nx, Ny, c[0], c[1], c[2], c[3]);
        var (uD, vD) = (Up(u0), Up(v0));
        Fluids.ApplyWallsDevice.Run(device.Accelerator, uD, vD, Nx, Ny, c[0], c[1], c[2], c[3]);
        Assert.Equal(u, Down(uD));
        Assert.Equal(v, Down(vD));

        var (uBar, vBar) = (Random(Nu, 44), Random(Nv, 45));
        var (uBarD, vBarD) = (Up(uBar), Up(vBar));
        var (u2, v2) = ((double[])u0.Clone(), (double[])v0.Clone());
        Fluids.ApplyWallsPullback(u2, v2, Nx, Ny, c[0], c[1], c[2], c[3], uBar, vBar);
        var (u2D, v2D) = (Up(u0), Up(v0));
        Fluids.ApplyWallsDevice.Pullback(device.Accelerator, u2D, v2D, Nx, Ny, c[0], c[1], c[2], c[3], uBarD, vBarD);
        Assert.Equal(uBar, Down(uBarD));
        Assert.Equal(vBar, Down(vBarD));
        Assert.Equal(u2, Down(u2D));
    }
}
