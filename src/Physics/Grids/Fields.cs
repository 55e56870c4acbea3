namespace DiffGen.Physics;

// Field types: a grid and the data on it, for users: construction, sampling, norms, pictures (DiffGen.Plotting).
// They hold arrays, so they are not [Differentiable] parameter types (objects holding arrays come with the
// generator's issue #11); pass field.Values (and the grid) to the kernels.

/// <summary>Values on the cells of a grid: what the 1D, 2D and 3D cell fields share (norms over the cells).</summary>
public abstract class CellField
{
    private protected CellField(double[] values, double cellVolume)
    {
        Values = values;
        CellVolume = cellVolume;
    }

    /// <summary>The values, one per cell (what the kernels take).</summary>
    public double[] Values { get; }

    /// <summary>The length, area or volume of one cell.</summary>
    public double CellVolume { get; }

    /// <summary>The discrete L2 norm <c>sqrt(Σ f² · cell volume)</c>.</summary>
    public double L2Norm() => Math.Sqrt(SpanSums.SumOfSquares(Values) * CellVolume);

    /// <summary>The largest magnitude.</summary>
    public double MaxAbs() => SpanSums.MaxAbs(Values);

    /// <summary>The mean over the cells.</summary>
    public double Mean() => SpanSums.Sum(Values) / Values.Length;
}

/// <summary>Values on the cells of a <see cref="Grid1D"/>.</summary>
public sealed class CenteredField1D : CellField
{
    /// <summary>A field on <paramref name="grid"/> holding <paramref name="values"/> (one per cell; not copied), or zeros.</summary>
    public CenteredField1D(Grid1D grid, double[]? values = null)
        : base(values ?? new double[grid.Cells], Valid(grid).Dx)
    {
        Check.Length(Values.Length, grid.Cells, nameof(values), "the grid's cells");
        Grid = grid;
    }

    /// <summary><c>f(x)</c> at every cell centre.</summary>
    public static CenteredField1D FromFunction(Grid1D grid, Func<double, double> f) => new(grid, grid.Evaluate(f));

    /// <summary>The grid.</summary>
    public Grid1D Grid { get; }

    /// <summary>The linearly interpolated value at <paramref name="x"/> (outside values by the grid's boundary).</summary>
    public double Sample(double x) => Grid.Sample(Values, x);

    // The grid is checked before the base sizes an array from it (default(Grid) has no cells).
    private static Grid1D Valid(Grid1D grid)
    {
        grid.EnsureValid(nameof(grid));
        return grid;
    }

    /// <summary>A copy with its own values.</summary>
    public CenteredField1D Clone() => new(Grid, (double[])Values.Clone());
}

/// <summary>Values on the cells of a <see cref="Grid2D"/> (row-major, <c>f[j * nx + i]</c>).</summary>
public sealed class CenteredField2D : CellField
{
    /// <summary>A field on <paramref name="grid"/> holding <paramref name="values"/> (one per cell; not copied), or zeros.</summary>
    public CenteredField2D(Grid2D grid, double[]? values = null)
        : base(values ?? new double[grid.Count], Valid(grid).Dx * grid.Dy)
    {
        Check.Length(Values.Length, grid.Count, nameof(values), "the grid's cells");
        Grid = grid;
    }

    /// <summary><c>f(x, y)</c> at every cell centre.</summary>
    public static CenteredField2D FromFunction(Grid2D grid, Func<double, double, double> f) => new(grid, grid.Evaluate(f));

    /// <summary>The grid.</summary>
    public Grid2D Grid { get; }

    /// <summary>The bilinearly interpolated value at physical (x, y) (outside values by the grid's boundary).</summary>
    public double Sample(double x, double y) => Grid.Sample(Values, x, y);

    // The grid is checked before the base sizes an array from it (default(Grid) has no cells).
    private static Grid2D Valid(Grid2D grid)
    {
        grid.EnsureValid(nameof(grid));
        return grid;
    }

    /// <summary>A copy with its own values.</summary>
    public CenteredField2D Clone() => new(Grid, (double[])Values.Clone());
}

/// <summary>Values on the cells of a <see cref="Grid3D"/> (<c>f[(l * ny + j) * nx + i]</c>).</summary>
public sealed class CenteredField3D : CellField
{
    /// <summary>A field on <paramref name="grid"/> holding <paramref name="values"/> (one per cell; not copied), or zeros.</summary>
    public CenteredField3D(Grid3D grid, double[]? values = null)
        : base(values ?? new double[grid.Count], Valid(grid).Dx * grid.Dy * grid.Dz)
    {
        Check.Length(Values.Length, grid.Count, nameof(values), "the grid's cells");
        Grid = grid;
    }

    /// <summary><c>f(x, y, z)</c> at every cell centre.</summary>
    public static CenteredField3D FromFunction(Grid3D grid, Func<double, double, double, double> f) => new(grid, grid.Evaluate(f));

    /// <summary>The grid.</summary>
    public Grid3D Grid { get; }

    /// <summary>The trilinearly interpolated value at physical (x, y, z) (outside values by the grid's boundary).</summary>
    public double Sample(double x, double y, double z) => Grid.Sample(Values, x, y, z);

    // The grid is checked before the base sizes an array from it (default(Grid) has no cells).
    private static Grid3D Valid(Grid3D grid)
    {
        grid.EnsureValid(nameof(grid));
        return grid;
    }

    /// <summary>A copy with its own values.</summary>
    public CenteredField3D Clone() => new(Grid, (double[])Values.Clone());
}

/// <summary>A MAC velocity on a <see cref="StaggeredGrid2D"/>: u on the x-faces, v on the y-faces.</summary>
public sealed class StaggeredField2D
{
    /// <summary>A velocity on <paramref name="grid"/> holding <paramref name="u"/> and <paramref name="v"/> (not copied), or zeros.</summary>
    public StaggeredField2D(StaggeredGrid2D grid, double[]? u = null, double[]? v = null)
    {
        grid.Cells.EnsureValid(nameof(grid));
        U = u ?? new double[grid.UCount];
        V = v ?? new double[grid.VCount];
        Check.Length(U.Length, grid.UCount, nameof(u), "the grid's x-faces");
        Check.Length(V.Length, grid.VCount, nameof(v), "the grid's y-faces");
        Grid = grid;
    }

    /// <summary>The velocity (fu(x, y), fv(x, y)) at the face centres.</summary>
    public static StaggeredField2D FromFunction(StaggeredGrid2D grid, Func<double, double, double> fu, Func<double, double, double> fv)
    {
        var (u, v) = grid.Evaluate(fu, fv);
        return new(grid, u, v);
    }

    /// <summary>The grid.</summary>
    public StaggeredGrid2D Grid { get; }
    /// <summary>x-face values.</summary>
    public double[] U { get; }
    /// <summary>y-face values.</summary>
    public double[] V { get; }

    /// <summary>The velocity at physical (x, y).</summary>
    public (double U, double V) Sample(double x, double y) => Grid.Sample(U, V, x, y);

    /// <summary>The divergence at the cell centres.</summary>
    public CenteredField2D Divergence() => new(Grid.Cells, Grid.Divergence(U, V));

    /// <summary>The kinetic energy <c>Σ (u² + v²) / 2 dx dy</c> over the faces (each face's share of a cell).</summary>
    public double KineticEnergy() => 0.5 * (SpanSums.SumOfSquares(U) + SpanSums.SumOfSquares(V)) * Grid.Dx * Grid.Dy;

    /// <summary>The largest face speed (for a CFL number: <c>MaxAbs() * dt / dx</c>).</summary>
    public double MaxAbs() => Math.Max(SpanSums.MaxAbs(U), SpanSums.MaxAbs(V));

    /// <summary>A copy with its own values.</summary>
    public StaggeredField2D Clone() => new(Grid, (double[])U.Clone(), (double[])V.Clone());
}

/// <summary>A MAC velocity on a <see cref="StaggeredGrid3D"/>: u, v, w on the x-, y- and z-faces.</summary>
public sealed class StaggeredField3D
{
    /// <summary>A velocity on <paramref name="grid"/> holding the given components (not copied), or zeros.</summary>
    public StaggeredField3D(StaggeredGrid3D grid, double[]? u = null, double[]? v = null, double[]? w = null)
    {
        grid.Cells.EnsureValid(nameof(grid));
        U = u ?? new double[grid.UCount];
        V = v ?? new double[grid.VCount];
        W = w ?? new double[grid.WCount];
        Check.Length(U.Length, grid.UCount, nameof(u), "the grid's x-faces");
        Check.Length(V.Length, grid.VCount, nameof(v), "the grid's y-faces");
        Check.Length(W.Length, grid.WCount, nameof(w), "the grid's z-faces");
        Grid = grid;
    }

    /// <summary>The velocity (fu, fv, fw) (functions of x, y, z) at the face centres.</summary>
    public static StaggeredField3D FromFunction(StaggeredGrid3D grid, Func<double, double, double, double> fu, Func<double, double, double, double> fv, Func<double, double, double, double> fw)
    {
        var (u, v, w) = grid.Evaluate(fu, fv, fw);
        return new(grid, u, v, w);
    }

    /// <summary>The grid.</summary>
    public StaggeredGrid3D Grid { get; }
    /// <summary>x-face values.</summary>
    public double[] U { get; }
    /// <summary>y-face values.</summary>
    public double[] V { get; }
    /// <summary>z-face values.</summary>
    public double[] W { get; }

    /// <summary>The divergence at the cell centres.</summary>
    public CenteredField3D Divergence() => new(Grid.Cells, Grid.Divergence(U, V, W));

    /// <summary>The kinetic energy <c>Σ (u² + v² + w²) / 2 dx dy dz</c> over the faces.</summary>
    public double KineticEnergy() =>
        0.5 * (SpanSums.SumOfSquares(U) + SpanSums.SumOfSquares(V) + SpanSums.SumOfSquares(W)) * Grid.Dx * Grid.Dy * Grid.Dz;

    /// <summary>The largest face speed.</summary>
    public double MaxAbs() => Math.Max(SpanSums.MaxAbs(U), Math.Max(SpanSums.MaxAbs(V), SpanSums.MaxAbs(W)));

    /// <summary>A copy with its own values.</summary>
    public StaggeredField3D Clone() => new(Grid, (double[])U.Clone(), (double[])V.Clone(), (double[])W.Clone());
}
