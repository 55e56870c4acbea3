using DiffGen.Physics;

namespace DiffGen.Physics.Tests;

/// <summary>
/// Models and grids reject bad input with an ArgumentException that names the argument (issue #13): NaN or
/// infinite fields, non-positive or non-finite time steps, domain sizes and coefficients.
/// </summary>
public class InputValidationTests
{
    private static void Rejects(string param, Action a, string? mention = null)
    {
        var ex = Assert.Throws<ArgumentException>(a);
        Assert.Equal(param, ex.ParamName);
        if (mention != null) Assert.Contains(mention, ex.Message);
    }

    [Fact]
    public void NaNInTheStateIsRejectedWithItsIndex()
    {
        var b = new Burgers1D(new Grid1D(16, 0, 1), 0.01, 0.01);
        var u = new double[16];
        u[5] = double.NaN;
        Rejects("u", () => b.Step(u, new double[16]), "index 5");
        Rejects("u", () => b.Step(u, new double[16], new Tape()), "NaN");
        Rejects("state", () => b.StepPacked(u, new double[16]), "index 5");
    }

    [Fact]
    public void InfinityInAForceIsRejected()
    {
        var m = new Burgers2D(new Grid2D(4, 4, 4, 4), 0.1, 0.1);
        var fu = new double[16];
        fu[3] = double.PositiveInfinity;
        Rejects("fu", () => m.Step(new double[16], new double[16], fu, new double[16], new double[16], new double[16]), "Infinity");
        Rejects("force", () => new Burgers1D(new Grid1D(16, 0, 1), 0.01, 0.01).Step(new double[16], Enumerable.Repeat(double.NegativeInfinity, 16).ToArray(), new double[16]));
    }

    [Fact]
    public void NonFiniteSmokeInflowAndPackedStatesAreRejected()
    {
        var s = Smoke2D.PbdlPlume(4, 5);
        var inflow = new double[20];
        inflow[7] = double.NaN;
        int nu = 5 * 5, nv = 4 * 6;
        Rejects("inflow", () => s.Step(new double[20], new double[nu], new double[nv], inflow, new double[20], new double[nu], new double[nv], new double[20]));
        var state = new double[s.PackedLength];
        state[20 + 3] = double.NaN; // in u
        Rejects("state", () => s.StepPacked(state, new double[20], new double[s.PackedLength]), "(u)");
        var w = WakeFlow2D.PbdlWake(8, 16);
        var ws = new double[w.PackedLength];
        ws[^1] = double.NaN;     // in v
        Rejects("state", () => w.StepPacked(ws, new double[w.PackedLength]), "(v)");
    }

    [Fact]
    public void FiniteButHugeValuesAreAccepted()
    {
        // The fast check sums the field; a finite field whose sum overflows must still pass.
        var b = new Burgers1D(new Grid1D(16, 0, 1), 0.0, 0.01);
        var u = Enumerable.Repeat(1e308, 16).ToArray();
        b.Step(u, new double[16]);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NonPositiveOrNonFiniteTimeStepsAreRejected(double dt)
    {
        Rejects("dt", () => new Burgers1D(new Grid1D(16, 0, 1), 0.01, dt));
        Rejects("dt", () => new Burgers2D(new Grid2D(4, 4, 1, 1), 0.01, dt));
        Rejects("dt", () => new Smoke2D(new StaggeredGrid2D(4, 4, 4, 4, Boundary2D.Closed), dt: dt));
        Rejects("dt", () => WakeFlow2D.PbdlWake(8, 16, dt: dt));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NonPositiveOrNonFiniteDomainSizesAreRejected(double size)
    {
        Rejects("width", () => new Grid2D(4, 4, size, 1));
        Rejects("height", () => new Grid2D(4, 4, 1, size));
        Rejects("width", () => new StaggeredGrid2D(4, 4, size, 1));
        Rejects("xMax", () => new Grid1D(8, 0, size));
    }

    [Fact]
    public void NonFiniteIntervalEndsAndCoefficientsAreRejected()
    {
        Rejects("xMin", () => new Grid1D(8, double.NegativeInfinity, 1));
        Rejects("viscosity", () => new Burgers2D(new Grid2D(4, 4, 1, 1), double.NaN, 0.01));
        Rejects("buoyancy", () => new Smoke2D(new StaggeredGrid2D(4, 4, 4, 4), buoyancy: double.NaN));
        Rejects("grid", () => new Burgers2D(default, 0.1, 0.1), "default");
        Rejects("nx * ny", () => new Grid2D(1 << 16, 1 << 16, 1, 1), "coarser");
    }
}
