using DiffGen.Physics;

namespace DiffGen.Physics.Tests;

/// <summary>
/// <see cref="Pressure.SolvePressureDevice"/> (Jacobi CG on an ILGPU accelerator, here the CPU emulator) against the CPU
/// solve (multigrid CG) and its implicit adjoint, and its adjoint against central differences. Both solve to 1e-12, so
/// they agree far below the 1e-6 relative checked.
/// </summary>
public class PressureDeviceTests(DeviceFixture device) : IClassFixture<DeviceFixture>
{
    private const double Tol = 1e-12;

    public static TheoryData<string, int, int, int, int, int, int, bool> Cases => new()
    {
        { "closed box (smoke scene) 8x6", 8, 6, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, false },
        { "periodic 9x7", 9, 7, Bc.Periodic, Bc.Periodic, Bc.Periodic, Bc.Periodic, false },
        { "walls, open top, obstacle 10x8", 10, 8, Bc.Zero, Bc.Zero, Bc.Zero, Bc.ZeroGradient, true },
        { "closed box, obstacle 12x10", 12, 10, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, true },
        { "periodic x, open y, obstacle 8x6", 8, 6, Bc.Periodic, Bc.Periodic, Bc.ZeroGradient, Bc.ZeroGradient, true },
        // 480 cells: two reduction blocks and a pass over their results.
        { "closed box, obstacle 24x20", 24, 20, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, true },
    };

    private static int[] Solid(int nx, int ny, bool obstacle)
    {
        if (!obstacle) return [];
        var solid = new int[nx * ny];
        // A 2x2 block off the centre and one lone cell next to a wall.
        for (int j = ny / 2 - 1; j <= ny / 2; j++)
            for (int i = nx / 2 - 1; i <= nx / 2; i++)
                solid[j * nx + i] = 1;
        solid[1 * nx + 0] = 1;
        return solid;
    }

    private static double[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new double[n];
        for (int k = 0; k < n; k++) v[k] = rng.NextDouble() - 0.5;
        return v;
    }

    private static void AssertClose(double[] expected, double[] actual, double rel, string what)
    {
        double scale = expected.Max(Math.Abs);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= rel * scale,
                $"{what}[{k}]: CPU {expected[k]:R}, device {actual[k]:R} (scale {scale:E3})");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Run_MatchesCpuSolve(string name, int nx, int ny, int xLo, int xHi, int yLo, int yHi, bool obstacle)
    {
        int n = nx * ny;
        var solid = Solid(nx, ny, obstacle);
        var rhs = Random(n, nx * 17 + ny);
        var pCpu = new double[n];
        Pressure.SolvePressure(rhs, pCpu, solid, nx, ny, 1.0, 0.5, xLo, xHi, yLo, yHi, Tol, 500);

        var rhsD = device.Upload(rhs);
        var pD = device.Upload(new double[n]);
        var solidD = device.Upload(solid);
        var (iterations, residual) = Pressure.SolvePressureDevice.RunWithStats(device.Accelerator, rhsD, pD, solidD, nx, ny, 1.0, 0.5, xLo, xHi, yLo, yHi, Tol, 500);
        Assert.True(residual <= Tol, $"{name}: residual {residual:E3}");
        Assert.True(iterations > 0, name);
        AssertClose(pCpu, device.Download(pD), 1e-8, name + " p");
        Assert.Equal(rhs, device.Download(rhsD)); // rhs is read only
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pullback_MatchesCpuImplicitAdjoint(string name, int nx, int ny, int xLo, int xHi, int yLo, int yHi, bool obstacle)
    {
        int n = nx * ny;
        var solid = Solid(nx, ny, obstacle);
        var rhs = Random(n, nx * 7 + ny);
        var pBar = Random(n, nx * 5 + ny + 1);
        var rhsBar0 = Random(n, 3); // the pullback adds into rhsBar
        var pCpu = new double[n];
        var rhsBarCpu = (double[])rhsBar0.Clone();
        var pBarCpu = (double[])pBar.Clone();
        Pressure.SolvePressurePullback(rhs, pCpu, solid, nx, ny, 1.0, 0.5, xLo, xHi, yLo, yHi, Tol, 500, rhsBarCpu, pBarCpu);

        var pD = device.Upload(new double[n]);
        var rhsBarD = device.Upload((double[])rhsBar0.Clone());
        var pBarD = device.Upload((double[])pBar.Clone());
        Pressure.SolvePressureDevice.Pullback(device.Accelerator, device.Upload(rhs), pD, device.Upload(solid), nx, ny, 1.0, 0.5, xLo, xHi, yLo, yHi, Tol, 500, rhsBarD, pBarD);
        AssertClose(pCpu, device.Download(pD), 1e-8, name + " p");
        var lambdaCpu = rhsBarCpu.Zip(rhsBar0, (a, b) => a - b).ToArray();
        var lambdaDev = device.Download(rhsBarD).Zip(rhsBar0, (a, b) => a - b).ToArray();
        AssertClose(lambdaCpu, lambdaDev, 1e-8, name + " rhsBar - rhsBar0");
        Assert.All(device.Download(pBarD), v => Assert.Equal(0.0, v));
        Assert.All(pBarCpu, v => Assert.Equal(0.0, v));
    }

    [Theory]
    [InlineData(Bc.Zero, Bc.Zero, true)]
    [InlineData(Bc.Periodic, Bc.ZeroGradient, false)]
    public void Pullback_MatchesCentralDifferences(int xCode, int yHi, bool obstacle)
    {
        int nx = 7, ny = 5, n = nx * ny;
        int yLo = yHi == Bc.ZeroGradient ? Bc.Zero : yHi;
        var solid = Solid(nx, ny, obstacle);
        var rhs = Random(n, 11);
        var w = Random(n, 12);
        var solidD = device.Upload(solid);
        double Loss(double[] r)
        {
            var pD = device.Upload(new double[n]);
            Pressure.SolvePressureDevice.Run(device.Accelerator, device.Upload(r), pD, solidD, nx, ny, 1.0, 1.0, xCode, xCode, yLo, yHi, Tol, 500);
            var p = device.Download(pD);
            double s = 0;
            for (int k = 0; k < n; k++) s += w[k] * p[k];
            return s;
        }
        var rhsBarD = device.Upload(new double[n]);
        Pressure.SolvePressureDevice.Pullback(device.Accelerator, device.Upload(rhs), device.Upload(new double[n]), solidD, nx, ny, 1.0, 1.0, xCode, xCode, yLo, yHi, Tol, 500,
            rhsBarD, device.Upload((double[])w.Clone()));
        var grad = device.Download(rhsBarD);
        const double h = 1e-4;
        foreach (int k in new[] { 0, 3, nx + 2, n / 2 + 1, n - 1 })
        {
            var plus = (double[])rhs.Clone();
            var minus = (double[])rhs.Clone();
            plus[k] += h;
            minus[k] -= h;
            double fd = (Loss(plus) - Loss(minus)) / (2 * h);
            // A solid cell's rhs is ignored (p = 0 there): both sides 0.
            Assert.True(Math.Abs(fd - grad[k]) <= 1e-6 * Math.Max(1, Math.Abs(fd)), $"cell {k}: central difference {fd:R}, pullback {grad[k]:R}");
        }
    }

    [Fact]
    public void Run_IsDeterministic()
    {
        int nx = 12, ny = 10, n = nx * ny;
        var rhs = Random(n, 5);
        double[] Solve()
        {
            var pD = device.Upload(new double[n]);
            Pressure.SolvePressureDevice.Run(device.Accelerator, device.Upload(rhs), pD, device.Empty<int>(), nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, Tol, 500);
            return device.Download(pD);
        }
        var a = Solve();
        var b = Solve();
        for (int k = 0; k < n; k++) Assert.Equal(BitConverter.DoubleToInt64Bits(a[k]), BitConverter.DoubleToInt64Bits(b[k]));
    }

    [Fact]
    public void TooFewIterations_Throws()
    {
        int nx = 12, ny = 10, n = nx * ny;
        var e = Assert.ThrowsAny<InvalidOperationException>(() => Pressure.SolvePressureDevice.Run(device.Accelerator, device.Upload(Random(n, 9)), device.Upload(new double[n]),
            device.Empty<int>(), nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, Tol, 3));
        Assert.Contains("did not converge in 3 iterations", e.Message);
    }

    [Fact]
    public void NonFiniteRightHandSide_Throws()
    {
        int nx = 8, ny = 6, n = nx * ny;
        var rhs = Random(n, 9);
        rhs[17] = double.NaN;
        var e = Assert.Throws<SolverException>(() => Pressure.SolvePressureDevice.Run(device.Accelerator, device.Upload(rhs), device.Upload(new double[n]),
            device.Empty<int>(), nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, Tol, 100));
        Assert.True(e.NonFiniteInput);
    }

    [Fact]
    public void Reductions_OverTwoPasses_AreTheFixedBlockOrder()
    {
        // 300x230 = 69000 cells: blocks of 256 give 270 block results, a pass gives 2, a second pass 1. A loose tolerance
        // stops the solve before its first iteration, so the reported residual is max |b - mean(b)| from the count, sum
        // and max reductions; computed here in the same order, it must match bit for bit (a dropped or reordered block
        // would not).
        int nx = 300, ny = 230, n = nx * ny;
        var rhs = new double[n];
        for (int k = 0; k < n; k++) rhs[k] = Math.Sin(0.37 * k) + 1e-3 * k;
        static double Reduce(double[] v, bool max)
        {
            while (v.Length > 1)
            {
                var next = new double[(v.Length + 255) / 256];
                for (int b = 0; b < next.Length; b++)
                {
                    double s = 0;
                    for (int k = b * 256; k < Math.Min(v.Length, b * 256 + 256); k++) s = max ? Math.Max(s, v[k]) : s + v[k];
                    next[b] = s;
                }
                v = next;
            }
            return v[0];
        }
        var b0 = rhs.Select(x => -x).ToArray();
        double mean = Reduce(b0, false) / n;
        double expected = Reduce(b0.Select(x => Math.Abs(x - mean)).ToArray(), true);
        var (iterations, residual) = Pressure.SolvePressureDevice.RunWithStats(device.Accelerator, device.Upload(rhs), device.Upload(new double[n]), device.Empty<int>(),
            nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, 1e6, 10);
        Assert.Equal(0, iterations);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(residual));
    }

    [Fact]
    public void Overflow_Throws_LikeTheCpu()
    {
        // Values near the largest double overflow CG's dot products (infinite, then NaN): the CPU solve throws, and so
        // must the device one, rather than return NaN or a partial iterate.
        int nx = 8, ny = 6, n = nx * ny;
        var rhs = Random(n, 21).Select(x => x * 1e308).ToArray();
        Assert.ThrowsAny<InvalidOperationException>(() => Pressure.SolvePressure(rhs, new double[n], [], nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.ZeroGradient, Tol, 100));
        var e = Assert.Throws<SolverException>(() => Pressure.SolvePressureDevice.Run(device.Accelerator, device.Upload(rhs), device.Upload(new double[n]),
            device.Empty<int>(), nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.ZeroGradient, Tol, 100));
        Assert.Equal("pressure", e.Solve);
        Assert.True(e.Message.Contains("broke down") || e.Message.Contains("non-finite"), e.Message);
    }
}
