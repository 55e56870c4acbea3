using DiffGen.Physics;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The multigrid-preconditioned pressure CG: converges to the tolerance in a few iterations that barely
/// grow with the grid, for every boundary kind and with obstacles (a broken or non-symmetric V-cycle
/// shows up as slow or failed convergence).
/// </summary>
public class PressureSolverTests
{
    public static TheoryData<string, int, int, int, int, int, int, bool> Cases => new()
    {
        { "closed box 64²", 64, 64, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, false },
        { "closed box 256²", 256, 256, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, false },
        { "periodic 96x40", 96, 40, Bc.Periodic, Bc.Periodic, Bc.Periodic, Bc.Periodic, false },
        { "open top, walls, disc 33x65", 33, 65, Bc.Zero, Bc.Zero, Bc.Zero, Bc.ZeroGradient, true },
        { "periodic x, open y, disc 128x64", 128, 64, Bc.Periodic, Bc.Periodic, Bc.ZeroGradient, Bc.ZeroGradient, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Converges_InFewIterations(string name, int nx, int ny, int xLo, int xHi, int yLo, int yHi, bool disc)
    {
        var solid = new int[nx * ny];
        if (disc)
            for (int j = 0; j < ny; j++)
                for (int i = 0; i < nx; i++)
                    if (Math.Pow(i - nx / 2.0, 2) + Math.Pow(j - ny / 4.0, 2) < Math.Pow(nx / 6.0, 2)) solid[j * nx + i] = 1;
        var rng = new Random(nx * 31 + ny);
        var rhs = new double[nx * ny];
        for (int k = 0; k < rhs.Length; k++) rhs[k] = solid[k] != 0 ? 0 : rng.NextDouble() - 0.5;
        var p = new double[nx * ny];
        var (iterations, residual) = Pressure.SolvePressureWithStats(rhs, p, solid, nx, ny, 1.0, 0.5, xLo, xHi, yLo, yHi, 1e-8, 200);
        Assert.True(residual <= 1e-8, $"{name}: residual {residual:E2}");
        // 20-29 iterations to 1e-8 here; incomplete Cholesky needed hundreds (92 at 128² even for 1e-3).
        Assert.True(iterations <= 40, $"{name}: {iterations} iterations");
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NonFiniteRightHandSide_Throws_InsteadOfReturningAFinitePressure(double bad)
    {
        // Before: NaN made CG's curvature test fail, and it returned p = 0 as if converged.
        int nx = 16, ny = 12;
        var rhs = new double[nx * ny];
        for (int k = 0; k < rhs.Length; k++) rhs[k] = Math.Sin(k);
        rhs[37] = bad;
        var p = new double[nx * ny];
        var e = Assert.Throws<SolverException>(() => Pressure.SolvePressureWithStats(rhs, p, [], nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, 1e-8, 200));
        Assert.True(e.NonFiniteInput);
        Assert.Equal("pressure", e.Solve);
        Assert.Contains("non-finite", e.Message);
        Assert.IsAssignableFrom<InvalidOperationException>(e); // what the Physics README promises
    }

    [Fact]
    public void TooFewIterations_Throws_NamingTheSolve()
    {
        int nx = 64, ny = 64;
        var rng = new Random(3);
        var rhs = new double[nx * ny];
        for (int k = 0; k < rhs.Length; k++) rhs[k] = rng.NextDouble() - 0.5;
        var e = Assert.Throws<SolverException>(() => Pressure.SolvePressureWithStats(rhs, new double[nx * ny], [], nx, ny, 1.0, 1.0, Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero, 1e-12, 2));
        Assert.False(e.NonFiniteInput);
        Assert.Contains("did not converge in 2 iterations", e.Message);
    }
}
