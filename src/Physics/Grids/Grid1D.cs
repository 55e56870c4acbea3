namespace DiffGen.Physics;

/// <summary>
/// A cell-centred 1D grid: <see cref="Cells"/> cells on [<see cref="XMin"/>, <see cref="XMax"/>], cell i at
/// <c>XMin + (i + 0.5) dx</c>, with a boundary per side. A small immutable value: models take it, and
/// <c>[Differentiable]</c> kernels may take it as an inactive parameter. <c>default(Grid1D)</c> has no cells
/// and is rejected by every model; build grids with the constructor.
/// </summary>
[NoDiff]
public readonly record struct Grid1D
{
    /// <summary>Creates the grid and validates it.</summary>
    /// <param name="cells">Number of cells (positive).</param>
    /// <param name="xMin">Left end (finite).</param>
    /// <param name="xMax">Right end (finite, greater than xMin).</param>
    /// <param name="boundary">Boundary per side (default: periodic).</param>
    public Grid1D(int cells, double xMin, double xMax, Boundary1D boundary = default)
    {
        Check.Positive(cells, nameof(cells));
        Check.Finite(xMin, nameof(xMin));
        Check.Finite(xMax, nameof(xMax));
        if (!(xMax > xMin)) throw new ArgumentException($"xMax ({xMax}) must be greater than xMin ({xMin}).", nameof(xMax));
        boundary.Validate(nameof(boundary));
        Cells = cells; XMin = xMin; XMax = xMax; Boundary = boundary; Dx = (xMax - xMin) / cells;
    }

    /// <summary>Cells.</summary>
    public int Cells { get; }
    /// <summary>Left end.</summary>
    public double XMin { get; }
    /// <summary>Right end.</summary>
    public double XMax { get; }
    /// <summary>Cell width.</summary>
    public double Dx { get; }
    /// <summary>Boundary per side.</summary>
    public Boundary1D Boundary { get; }

    /// <summary>Cell-centre coordinates.</summary>
    public double[] CellCenters()
    {
        var x = new double[Cells];
        for (int i = 0; i < Cells; i++) x[i] = XMin + (i + 0.5) * Dx;
        return x;
    }

    /// <summary>A field with <c>f(x)</c> at every cell centre.</summary>
    public double[] Evaluate(Func<double, double> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return Array.ConvertAll(CellCenters(), x => f(x));
    }

    /// <summary>The linearly interpolated value of <paramref name="f"/> at physical position <paramref name="x"/>.</summary>
    public double Sample(ReadOnlySpan<double> f, double x)
    {
        Check.Length(f.Length, Cells, nameof(f), "this grid");
        return Interpolation.Sample1D(f, Cells, (x - XMin) / Dx - 0.5, Boundary.LoCode, Boundary.HiCode);
    }

    /// <summary>Resamples <paramref name="f"/> onto <paramref name="target"/> (same interval, other resolution).</summary>
    public double[] ResampleTo(ReadOnlySpan<double> f, Grid1D target)
    {
        target.EnsureValid(nameof(target));
        Check.Length(f.Length, Cells, nameof(f), "this grid");
        var r = new double[target.Cells];
        Interpolation.Resample1D(f, r, Boundary.LoCode, Boundary.HiCode);
        return r;
    }

    /// <summary>Throws when this is <c>default(Grid1D)</c> (no cells).</summary>
    internal void EnsureValid(string paramName)
    {
        if (Cells <= 0) throw new ArgumentException("The grid is empty (default(Grid1D)); create it with new Grid1D(cells, xMin, xMax).", paramName);
    }
}
