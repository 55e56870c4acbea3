namespace DiffGen.Physics;

/// <summary>A cell-centred 1D grid: <see cref="Cells"/> cells on [<see cref="XMin"/>, <see cref="XMax"/>], cell i at <c>XMin + (i + 0.5) dx</c>.</summary>
public sealed class Grid1D
{
    /// <summary>Creates the grid.</summary>
    public Grid1D(int cells, double xMin, double xMax, BoundaryKind lo = BoundaryKind.Periodic, BoundaryKind hi = BoundaryKind.Periodic)
    {
        Check.Positive(cells, nameof(cells));
        if (!(xMax > xMin)) throw new ArgumentException($"xMax ({xMax}) must be greater than xMin ({xMin}).", nameof(xMax));
        if ((lo == BoundaryKind.Periodic) != (hi == BoundaryKind.Periodic)) throw new ArgumentException("Periodic must be set on both sides or on neither.", nameof(hi));
        Cells = cells; XMin = xMin; XMax = xMax; Lo = lo; Hi = hi; Dx = (xMax - xMin) / cells;
    }

    /// <summary>Cells.</summary>
    public int Cells { get; }
    /// <summary>Left end.</summary>
    public double XMin { get; }
    /// <summary>Right end.</summary>
    public double XMax { get; }
    /// <summary>Cell width.</summary>
    public double Dx { get; }
    /// <summary>Left boundary.</summary>
    public BoundaryKind Lo { get; }
    /// <summary>Right boundary.</summary>
    public BoundaryKind Hi { get; }

    /// <summary>The linearly interpolated value of <paramref name="f"/> at physical position <paramref name="x"/>.</summary>
    public double Sample(ReadOnlySpan<double> f, double x)
    {
        Check.Length(f.Length, Cells, nameof(f), "this grid");
        return Interpolation.Sample1D(f, Cells, (x - XMin) / Dx - 0.5, (int)Lo, (int)Hi);
    }

    /// <summary>Resamples <paramref name="f"/> onto <paramref name="target"/> (same interval, other resolution).</summary>
    public double[] ResampleTo(ReadOnlySpan<double> f, Grid1D target)
    {
        ArgumentNullException.ThrowIfNull(target);
        Check.Length(f.Length, Cells, nameof(f), "this grid");
        var r = new double[target.Cells];
        Interpolation.Resample1D(f, r, (int)Lo, (int)Hi);
        return r;
    }
}

/// <summary>
/// A cell-centred 2D grid of nx x ny cells on [0, width] x [0, height]; data row-major, cell (i, j) at
/// index <c>j * nx + i</c> and position <c>((i + 0.5) dx, (j + 0.5) dy)</c>.
/// </summary>
public sealed class Grid2D
{
    /// <summary>Creates the grid.</summary>
    public Grid2D(int nx, int ny, double width, double height, Boundary2D? boundary = null)
    {
        Check.Positive(nx, nameof(nx));
        Check.Positive(ny, nameof(ny));
        Check.Positive(width, nameof(width));
        Check.Positive(height, nameof(height));
        Boundary = boundary ?? Boundary2D.Periodic;
        Boundary.Validate(nameof(boundary));
        Nx = nx; Ny = ny; Width = width; Height = height; Dx = width / nx; Dy = height / ny;
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
        Check.Positive(radius, nameof(radius));
        var m = new int[Count];
        for (int j = 0; j < Ny; j++)
            for (int i = 0; i < Nx; i++)
            {
                double x = (i + 0.5) * Dx - cx, y = (j + 0.5) * Dy - cy;
                if (x * x + y * y <= radius * radius) m[j * Nx + i] = 1;
            }
        return m;
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
        ArgumentNullException.ThrowIfNull(target);
        Check.Length(f.Length, Count, nameof(f), $"a {Nx}x{Ny} grid");
        var r = new double[target.Count];
        Interpolation.Resample2D(f, Nx, Ny, r, target.Nx, target.Ny, Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode);
        return r;
    }
}

/// <summary>
/// A staggered (MAC) 2D velocity grid of nx x ny cells: u on the x-faces ((nx+1) x ny, <c>u[j*(nx+1)+i]</c>
/// at (i dx, (j+0.5) dy)), v on the y-faces (nx x (ny+1), <c>v[j*nx+i]</c> at ((i+0.5) dx, j dy)).
/// On a periodic axis the last face repeats the first.
/// </summary>
public sealed class StaggeredGrid2D
{
    /// <summary>Creates the grid.</summary>
    public StaggeredGrid2D(int nx, int ny, double width, double height, Boundary2D? boundary = null)
    {
        Cells = new Grid2D(nx, ny, width, height, boundary);
    }

    /// <summary>The cell grid (pressure, scalars).</summary>
    public Grid2D Cells { get; }
    /// <summary>Cells in x.</summary>
    public int Nx => Cells.Nx;
    /// <summary>Cells in y.</summary>
    public int Ny => Cells.Ny;
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
                u[j * (Nx + 1) + i] = fu(i * Cells.Dx, (j + 0.5) * Cells.Dy);
        for (int j = 0; j <= Ny; j++)
            for (int i = 0; i < Nx; i++)
                v[j * Nx + i] = fv((i + 0.5) * Cells.Dx, j * Cells.Dy);
        return (u, v);
    }

    /// <summary>The velocity at physical (x, y) (each component bilinearly interpolated on its own faces).</summary>
    public (double U, double V) Sample(ReadOnlySpan<double> u, ReadOnlySpan<double> v, double x, double y)
    {
        CheckUV(u, v);
        var b = Cells.Boundary;
        double gx = x / Cells.Dx, gy = y / Cells.Dy;
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
        var b = Cells.Boundary;
        Interpolation.CenteredToStaggered(cu, cv, u, v, Nx, Ny, b.XLoCode, b.XHiCode, b.YLoCode, b.YHiCode);
        return (u, v);
    }

    /// <summary>The divergence at the cell centres.</summary>
    public double[] Divergence(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        CheckUV(u, v);
        var d = new double[Cells.Count];
        Operators.DivergenceStaggered(u, v, d, Nx, Ny, Cells.Dx, Cells.Dy);
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
        var b = Cells.Boundary;
        var p = new double[Cells.Count];
        var uo = new double[UCount];
        var vo = new double[VCount];
        Pressure.Project(u, v, uo, vo, p, solid, Nx, Ny, Cells.Dx, Cells.Dy, b.XLoCode, b.XHiCode, b.YLoCode, b.YHiCode, tolerance, maxIterations);
        uo.CopyTo(u);
        vo.CopyTo(v);
        return p;
    }

    private void CheckUV(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        Check.Length(u.Length, UCount, nameof(u), $"{Nx + 1}x{Ny} x-faces");
        Check.Length(v.Length, VCount, nameof(v), $"{Nx}x{Ny + 1} y-faces");
    }
}
