namespace DiffGen.Physics;

/// <summary>
/// A cell-centred 2D grid of nx x ny cells on [0, width] x [0, height] with a boundary per side; data
/// row-major, cell (i, j) at index <c>j * nx + i</c> and position <c>((i + 0.5) dx, (j + 0.5) dy)</c>.
/// A small immutable value: models take it, and <c>[Differentiable]</c> kernels may take it as an inactive
/// parameter. <c>default(Grid2D)</c> has no cells and is rejected by every model.
/// </summary>
[NoDiff]
public readonly record struct Grid2D
{
    /// <summary>Creates the grid and validates it.</summary>
    /// <param name="nx">Cells in x (positive).</param>
    /// <param name="ny">Cells in y (positive).</param>
    /// <param name="width">Domain width (positive, finite).</param>
    /// <param name="height">Domain height (positive, finite).</param>
    /// <param name="boundary">Boundary per side (default: periodic).</param>
    public Grid2D(int nx, int ny, double width, double height, Boundary2D boundary = default)
    {
        Check.Positive(nx, nameof(nx));
        Check.Positive(ny, nameof(ny));
        Check.CellCount((long)nx * ny, "nx * ny");
        Check.Positive(width, nameof(width));
        Check.Positive(height, nameof(height));
        boundary.Validate(nameof(boundary));
        Nx = nx; Ny = ny; Width = width; Height = height; Dx = width / nx; Dy = height / ny; Boundary = boundary;
    }

    /// <summary>Cells in x.</summary>
    public int Nx { get; }
    /// <summary>Cells in y.</summary>
    public int Ny { get; }
    /// <summary>Width.</summary>
    public double Width { get; }
    /// <summary>Height.</summary>
    public double Height { get; }
    /// <summary>Cell width.</summary>
    public double Dx { get; }
    /// <summary>Cell height.</summary>
    public double Dy { get; }
    /// <summary>Boundary per side.</summary>
    public Boundary2D Boundary { get; }
    /// <summary>Number of cells.</summary>
    public int Count => Nx * Ny;

    /// <summary>The same grid with another boundary.</summary>
    public Grid2D WithBoundary(Boundary2D boundary) => new(Nx, Ny, Width, Height, boundary);

    /// <summary>A field with <c>f(x, y)</c> at every cell centre.</summary>
    public double[] Evaluate(Func<double, double, double> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var r = new double[Count];
        for (int j = 0; j < Ny; j++)
            for (int i = 0; i < Nx; i++)
                r[j * Nx + i] = f((i + 0.5) * Dx, (j + 0.5) * Dy);
        return r;
    }

    /// <summary>An obstacle mask (1 = solid) of the cells whose centre lies within <paramref name="radius"/> of (cx, cy).</summary>
    public int[] DiscMask(double cx, double cy, double radius)
    {
        var m = new int[Count];
        foreach (int k in DiscCells(cx, cy, radius)) m[k] = 1;
        return m;
    }

    /// <summary>A source field: <paramref name="value"/> in the cells whose centre lies within <paramref name="radius"/> of (cx, cy), 0 elsewhere.</summary>
    public double[] Disc(double cx, double cy, double radius, double value = 1)
    {
        Check.Finite(value, nameof(value));
        var f = new double[Count];
        foreach (int k in DiscCells(cx, cy, radius)) f[k] = value;
        return f;
    }

    /// <summary>A source field: <paramref name="value"/> in the cells whose centre lies in [x0, x1] x [y0, y1], 0 elsewhere.</summary>
    public double[] BoxField(double x0, double x1, double y0, double y1, double value = 1)
    {
        if (!(x1 > x0)) throw new ArgumentException($"x1 ({x1}) must be greater than x0 ({x0}).", nameof(x1));
        if (!(y1 > y0)) throw new ArgumentException($"y1 ({y1}) must be greater than y0 ({y0}).", nameof(y1));
        return Evaluate((x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1 ? value : 0);
    }

    /// <summary>The bilinearly interpolated value at physical (x, y).</summary>
    public double Sample(ReadOnlySpan<double> f, double x, double y)
    {
        Check.Length(f.Length, Count, nameof(f), $"a {Nx}x{Ny} grid");
        return Interpolation.Sample2D(f, Nx, Ny, Nx, Ny, x / Dx - 0.5, y / Dy - 0.5, Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode);
    }

    /// <summary>Resamples <paramref name="f"/> onto <paramref name="target"/> (same domain) by bilinear interpolation.</summary>
    public double[] ResampleTo(ReadOnlySpan<double> f, Grid2D target)
    {
        target.EnsureValid(nameof(target));
        Check.Length(f.Length, Count, nameof(f), $"a {Nx}x{Ny} grid");
        var r = new double[target.Count];
        Interpolation.Resample2D(f, Nx, Ny, r, target.Nx, target.Ny, Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode);
        return r;
    }

    /// <summary>Throws when this is <c>default(Grid2D)</c> (no cells).</summary>
    internal void EnsureValid(string paramName)
    {
        if (Nx <= 0) throw new ArgumentException("The grid is empty (default(Grid2D)); create it with new Grid2D(nx, ny, width, height).", paramName);
    }

    // The one disc rasteriser: cells whose centre lies within the radius (the obstacle masks and the sources use it).
    private List<int> DiscCells(double cx, double cy, double radius)
    {
        Check.Finite(cx, nameof(cx));
        Check.Finite(cy, nameof(cy));
        Check.Positive(radius, nameof(radius));
        var cells = new List<int>();
        for (int j = 0; j < Ny; j++)
            for (int i = 0; i < Nx; i++)
            {
                double x = (i + 0.5) * Dx - cx, y = (j + 0.5) * Dy - cy;
                if (x * x + y * y <= radius * radius) cells.Add(j * Nx + i);
            }
        return cells;
    }
}

/// <summary>
/// A staggered (MAC) 2D velocity grid of nx x ny cells: u on the x-faces ((nx+1) x ny, <c>u[j*(nx+1)+i]</c>
/// at (i dx, (j+0.5) dy)), v on the y-faces (nx x (ny+1), <c>v[j*nx+i]</c> at ((i+0.5) dx, j dy)).
/// On a periodic axis the last face repeats the first. The boundary is the velocity's (walls, open sides,
/// periodic); a scalar carried by it uses <see cref="Boundary2D.Scalar"/> unless told otherwise.
/// </summary>
[NoDiff]
public readonly record struct StaggeredGrid2D
{
    /// <summary>Creates the grid and validates it.</summary>
    public StaggeredGrid2D(int nx, int ny, double width, double height, Boundary2D boundary = default)
        : this(new Grid2D(nx, ny, width, height, boundary))
    {
    }

    /// <summary>The MAC grid on the cells of <paramref name="cells"/> (its boundary is the velocity's).</summary>
    public StaggeredGrid2D(Grid2D cells)
    {
        cells.EnsureValid(nameof(cells));
        Check.CellCount((long)(cells.Nx + 1) * (cells.Ny + 1), "the faces of the grid");
        Cells = cells;
    }

    /// <summary>The cell grid (pressure, scalars), with the velocity's boundary.</summary>
    public Grid2D Cells { get; }
    /// <summary>Cells in x.</summary>
    public int Nx => Cells.Nx;
    /// <summary>Cells in y.</summary>
    public int Ny => Cells.Ny;
    /// <summary>Cell width.</summary>
    public double Dx => Cells.Dx;
    /// <summary>Cell height.</summary>
    public double Dy => Cells.Dy;
    /// <summary>Domain width.</summary>
    public double Width => Cells.Width;
    /// <summary>Domain height.</summary>
    public double Height => Cells.Height;
    /// <summary>The velocity boundary per side.</summary>
    public Boundary2D Boundary => Cells.Boundary;
    /// <summary>Number of x-faces.</summary>
    public int UCount => (Nx + 1) * Ny;
    /// <summary>Number of y-faces.</summary>
    public int VCount => Nx * (Ny + 1);

    /// <summary>A MAC velocity sampled from <c>fu(x, y)</c>, <c>fv(x, y)</c> at the face centres.</summary>
    public (double[] U, double[] V) Evaluate(Func<double, double, double> fu, Func<double, double, double> fv)
    {
        ArgumentNullException.ThrowIfNull(fu);
        ArgumentNullException.ThrowIfNull(fv);
        var u = new double[UCount];
        var v = new double[VCount];
        for (int j = 0; j < Ny; j++)
            for (int i = 0; i <= Nx; i++)
                u[j * (Nx + 1) + i] = fu(i * Dx, (j + 0.5) * Dy);
        for (int j = 0; j <= Ny; j++)
            for (int i = 0; i < Nx; i++)
                v[j * Nx + i] = fv((i + 0.5) * Dx, j * Dy);
        return (u, v);
    }

    /// <summary>The velocity at physical (x, y) (each component bilinearly interpolated on its own faces).</summary>
    public (double U, double V) Sample(ReadOnlySpan<double> u, ReadOnlySpan<double> v, double x, double y)
    {
        CheckUV(u, v);
        var b = Boundary;
        double gx = x / Dx, gy = y / Dy;
        return (Interpolation.Sample2D(u, Nx + 1, Ny, Nx, Ny, gx, gy - 0.5, b.XLoCode, b.XHiCode, b.YLoCode, b.YHiCode),
                Interpolation.Sample2D(v, Nx, Ny + 1, Nx, Ny, gx - 0.5, gy, b.XLoCode, b.XHiCode, b.YLoCode, b.YHiCode));
    }

    /// <summary>The cell-centred velocity (average of the two faces of each cell).</summary>
    public (double[] U, double[] V) ToCentered(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        CheckUV(u, v);
        var cu = new double[Cells.Count];
        var cv = new double[Cells.Count];
        Interpolation.StaggeredToCentered(u, v, cu, cv, Nx, Ny);
        return (cu, cv);
    }

    /// <summary>A MAC velocity from a cell-centred one (average of the two cells next to each face).</summary>
    public (double[] U, double[] V) FromCentered(ReadOnlySpan<double> cu, ReadOnlySpan<double> cv)
    {
        Check.Length(cu.Length, Cells.Count, nameof(cu), $"a {Nx}x{Ny} grid");
        Check.Length(cv.Length, Cells.Count, nameof(cv), $"a {Nx}x{Ny} grid");
        var u = new double[UCount];
        var v = new double[VCount];
        var b = Boundary;
        Interpolation.CenteredToStaggered(cu, cv, u, v, Nx, Ny, b.XLoCode, b.XHiCode, b.YLoCode, b.YHiCode);
        return (u, v);
    }

    /// <summary>The divergence at the cell centres.</summary>
    public double[] Divergence(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        CheckUV(u, v);
        var d = new double[Cells.Count];
        Operators.DivergenceStaggered(u, v, d, Nx, Ny, Dx, Dy);
        return d;
    }

    /// <summary>
    /// Projects (u, v) in place onto divergence-free fields (see <see cref="Pressure.Project"/>); returns the pressure.
    /// </summary>
    public double[] Project(Span<double> u, Span<double> v, ReadOnlySpan<int> solid = default, double tolerance = 1e-6, int maxIterations = 10000)
    {
        CheckUV(u, v);
        if (!solid.IsEmpty) Check.Length(solid.Length, Cells.Count, nameof(solid), $"a {Nx}x{Ny} grid");
        Check.Positive(tolerance, nameof(tolerance));
        var b = Boundary;
        var p = new double[Cells.Count];
        var uo = new double[UCount];
        var vo = new double[VCount];
        Pressure.Project(u, v, uo, vo, p, solid, Nx, Ny, Dx, Dy, b.XLoCode, b.XHiCode, b.YLoCode, b.YHiCode, tolerance, maxIterations);
        uo.CopyTo(u);
        vo.CopyTo(v);
        return p;
    }

    private void CheckUV(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        Cells.EnsureValid("grid");
        Check.Length(u.Length, UCount, nameof(u), $"{Nx + 1}x{Ny} x-faces");
        Check.Length(v.Length, VCount, nameof(v), $"{Nx}x{Ny + 1} y-faces");
    }
}
