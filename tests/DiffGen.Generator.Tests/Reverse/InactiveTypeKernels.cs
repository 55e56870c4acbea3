namespace DiffGen.Generator.Tests.Reverse;

/// <summary>How a side of a grid treats values outside it.</summary>
public enum Edge
{
    Periodic,
    Zero,
    Clamp,
}

/// <summary>The boundary of a 1D grid, a value that nested member accesses reach.</summary>
[NoDiff]
public readonly record struct Sides(Edge Lo, Edge Hi)
{
    public bool IsPeriodic => Lo == Edge.Periodic;
}

/// <summary>A 1D grid as a physics library would pass it: resolution, spacing, boundary. Never differentiated.</summary>
[NoDiff]
public readonly struct Grid1
{
    public Grid1(int n, double dx, Sides sides)
    {
        N = n;
        Dx = dx;
        Sides = sides;
    }

    public int N { get; }
    public double Dx { get; }
    public readonly Sides Sides;

    public static Grid1 Unit => new Grid1(4, 0.25, new Sides(Edge.Periodic, Edge.Periodic));

    /// <summary>The index node i reads, or -1 for a zero outside value.</summary>
    public int Read(int i)
    {
        if (i >= 0 && i < N) return i;
        var e = i < 0 ? Sides.Lo : Sides.Hi;
        return e == Edge.Periodic ? ((i % N) + N) % N : e == Edge.Clamp ? (i < 0 ? 0 : N - 1) : -1;
    }

    public double CellCentre(int i) => (i + 0.5) * Dx;
}

/// <summary>A class the library passes by reference, marked on the parameter instead of the type.</summary>
public sealed class SolverOptions
{
    public int Substeps { get; init; } = 2;
    public string Name { get; init; } = "default";
}

public static partial class InactiveTypeKernels
{
    /// <summary>Diffusion on a grid value: members, nested members, instance methods, properties of the boundary.</summary>
    [Differentiable]
    public static void Diffuse(ReadOnlySpan<double> u, Span<double> result, Grid1 grid, double nu)
    {
        double c = nu / (grid.Dx * grid.Dx);
        for (int i = 0; i < grid.N; i++)
        {
            int l = grid.Read(i - 1), r = grid.Read(i + 1);
            double ul = l >= 0 ? u[l] : 0.0;
            double ur = r >= 0 ? u[r] : 0.0;
            result[i] = u[i] + c * (ul - 2 * u[i] + ur);
        }
        if (!grid.Sides.IsPeriodic && grid.Sides.Lo == Edge.Zero) result[0] *= 0.5;
    }

    /// <summary>An enum and a string parameter are inactive without annotation; a switch over the enum.</summary>
    [Differentiable]
    public static double Weighted(ReadOnlySpan<double> u, Edge mode, string label, double scale)
    {
        double s = 0;
        for (int i = 0; i < u.Length; i++)
        {
            switch (mode)
            {
                case Edge.Periodic: s += scale * u[i] * u[i]; break;
                case Edge.Zero: s += scale * u[i]; break;
                default: s += scale * scale * u[i]; break;
            }
        }
        return label.Length > 100 ? 0.0 : s;
    }

    /// <summary>Passes the grid on to another [Differentiable] method (a split call) and uses a local of the grid's type.</summary>
    [Differentiable]
    public static void TwoSteps(ReadOnlySpan<double> u, Span<double> tmp, Span<double> result, Grid1 grid, double nu)
    {
        Grid1 g = grid;
        Diffuse(u, tmp, g, nu);
        Diffuse(tmp, result, grid, nu * 0.5);
    }

    /// <summary>A scalar function of a grid value, called per cell from a loop (a joint call).</summary>
    [Differentiable]
    public static double Sample(ReadOnlySpan<double> u, Grid1 grid, double x)
    {
        double s = (x - grid.CellCentre(0)) / grid.Dx;
        int i0 = (int)Math.Floor(s);
        double w = s - i0;
        int a = grid.Read(i0), b = grid.Read(i0 + 1);
        double ua = a >= 0 ? u[a] : 0.0, ub = b >= 0 ? u[b] : 0.0;
        return (1 - w) * ua + w * ub;
    }

    [Differentiable]
    public static double SampleAll(ReadOnlySpan<double> u, Grid1 grid, double shift)
    {
        double total = 0;
        for (int i = 0; i < grid.N; i++)
            total += Sample(u, grid, grid.CellCentre(i) + shift);
        return total;
    }

    /// <summary>[NoDiff] on a class-typed parameter; a static property of an inactive type.</summary>
    [Differentiable]
    public static double Repeat(double x, [NoDiff] SolverOptions options)
    {
        double y = x;
        for (int k = 0; k < options.Substeps; k++) y = y * Grid1.Unit.Dx + Math.Sin(y);
        return y;
    }
}
