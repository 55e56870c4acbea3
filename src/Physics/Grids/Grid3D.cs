namespace DiffGen.Physics;

/// <summary>
/// A cell-centred 3D grid of nx x ny x nz cells on [0, width] x [0, height] x [0, depth] with a boundary per
/// side; data x fastest, cell (i, j, l) at index <c>(l * ny + j) * nx + i</c> and position
/// <c>((i + 0.5) dx, (j + 0.5) dy, (l + 0.5) dz)</c>. +y is up in the plume models. A small immutable value;
/// <c>default(Grid3D)</c> has no cells and is rejected by every model.
/// </summary>
[NoDiff]
public readonly record struct Grid3D
{
    /// <summary>Creates the grid and validates it.</summary>
    /// <param name="nx">Cells in x (positive).</param>
    /// <param name="ny">Cells in y (positive).</param>
    /// <param name="nz">Cells in z (positive).</param>
    /// <param name="width">Extent in x (positive, finite).</param>
    /// <param name="height">Extent in y (positive, finite).</param>
    /// <param name="depth">Extent in z (positive, finite).</param>
    /// <param name="boundary">Boundary per side (default: periodic).</param>
    public Grid3D(int nx, int ny, int nz, double width, double height, double depth, Boundary3D boundary = default)
    {
        Check.Positive(nx, nameof(nx));
        Check.Positive(ny, nameof(ny));
        Check.Positive(nz, nameof(nz));
        Check.CellCount((long)nx * ny * nz, "nx * ny * nz");
        Check.Positive(width, nameof(width));
        Check.Positive(height, nameof(height));
        Check.Positive(depth, nameof(depth));
        boundary.Validate(nameof(boundary));
        Nx = nx; Ny = ny; Nz = nz; Width = width; Height = height; Depth = depth;
        Dx = width / nx; Dy = height / ny; Dz = depth / nz; Boundary = boundary;
    }

    /// <summary>Cells in x.</summary>
    public int Nx { get; }
    /// <summary>Cells in y.</summary>
    public int Ny { get; }
    /// <summary>Cells in z.</summary>
    public int Nz { get; }
    /// <summary>Extent in x.</summary>
    public double Width { get; }
    /// <summary>Extent in y.</summary>
    public double Height { get; }
    /// <summary>Extent in z.</summary>
    public double Depth { get; }
    /// <summary>Cell size in x.</summary>
    public double Dx { get; }
    /// <summary>Cell size in y.</summary>
    public double Dy { get; }
    /// <summary>Cell size in z.</summary>
    public double Dz { get; }
    /// <summary>Boundary per side.</summary>
    public Boundary3D Boundary { get; }
    /// <summary>Number of cells.</summary>
    public int Count => Nx * Ny * Nz;

    /// <summary>The same grid with another boundary.</summary>
    public Grid3D WithBoundary(Boundary3D boundary) => new(Nx, Ny, Nz, Width, Height, Depth, boundary);

    /// <summary>A field with <c>f(x, y, z)</c> at every cell centre.</summary>
    public double[] Evaluate(Func<double, double, double, double> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var r = new double[Count];
        for (int l = 0; l < Nz; l++)
            for (int j = 0; j < Ny; j++)
                for (int i = 0; i < Nx; i++)
                    r[(l * Ny + j) * Nx + i] = f((i + 0.5) * Dx, (j + 0.5) * Dy, (l + 0.5) * Dz);
        return r;
    }

    /// <summary>A source field: <paramref name="value"/> in the cells whose centre lies within <paramref name="radius"/> of (cx, cy, cz), 0 elsewhere.</summary>
    public double[] Ball(double cx, double cy, double cz, double radius, double value = 1)
    {
        Check.Finite(value, nameof(value));
        var f = new double[Count];
        foreach (int k in BallCells(cx, cy, cz, radius)) f[k] = value;
        return f;
    }

    /// <summary>An obstacle mask (1 = solid) of the cells whose centre lies within <paramref name="radius"/> of (cx, cy, cz).</summary>
    public int[] BallMask(double cx, double cy, double cz, double radius)
    {
        var m = new int[Count];
        foreach (int k in BallCells(cx, cy, cz, radius)) m[k] = 1;
        return m;
    }

    /// <summary>The trilinearly interpolated value at physical (x, y, z).</summary>
    public double Sample(ReadOnlySpan<double> f, double x, double y, double z)
    {
        Check.Length(f.Length, Count, nameof(f), FormattableString.Invariant($"a {Nx}x{Ny}x{Nz} grid"));
        var b = Boundary;
        return Interpolation.Sample3D(f, Nx, Ny, Nz, Nx, Ny, Nz, x / Dx - 0.5, y / Dy - 0.5, z / Dz - 0.5,
            b.XLoCode, b.XHiCode, b.YLoCode, b.YHiCode, b.ZLoCode, b.ZHiCode);
    }

    /// <summary>Throws when this is <c>default(Grid3D)</c> (no cells).</summary>
    internal void EnsureValid(string paramName)
    {
        if (Nx <= 0) throw new ArgumentException("The grid is empty (default(Grid3D)); create it with new Grid3D(nx, ny, nz, width, height, depth).", paramName);
    }

    private List<int> BallCells(double cx, double cy, double cz, double radius)
    {
        Check.Finite(cx, nameof(cx));
        Check.Finite(cy, nameof(cy));
        Check.Finite(cz, nameof(cz));
        Check.Positive(radius, nameof(radius));
        var cells = new List<int>();
        for (int l = 0; l < Nz; l++)
            for (int j = 0; j < Ny; j++)
                for (int i = 0; i < Nx; i++)
                {
                    double x = (i + 0.5) * Dx - cx, y = (j + 0.5) * Dy - cy, z = (l + 0.5) * Dz - cz;
                    if (x * x + y * y + z * z <= radius * radius) cells.Add((l * Ny + j) * Nx + i);
                }
        return cells;
    }
}

/// <summary>
/// A staggered (MAC) 3D velocity grid of nx x ny x nz cells: u on the x-faces ((nx+1) x ny x nz,
/// <c>u[(l*ny + j)*(nx+1) + i]</c> at (i dx, (j+0.5) dy, (l+0.5) dz)), v on the y-faces (nx x (ny+1) x nz,
/// <c>v[(l*(ny+1) + j)*nx + i]</c>), w on the z-faces (nx x ny x (nz+1), <c>w[(l*ny + j)*nx + i]</c>).
/// On a periodic axis the last face repeats the first. The boundary is the velocity's.
/// </summary>
[NoDiff]
public readonly record struct StaggeredGrid3D
{
    /// <summary>Creates the grid and validates it.</summary>
    public StaggeredGrid3D(int nx, int ny, int nz, double width, double height, double depth, Boundary3D boundary = default)
        : this(new Grid3D(nx, ny, nz, width, height, depth, boundary))
    {
    }

    /// <summary>The MAC grid on the cells of <paramref name="cells"/> (its boundary is the velocity's).</summary>
    public StaggeredGrid3D(Grid3D cells)
    {
        cells.EnsureValid(nameof(cells));
        Check.CellCount((long)(cells.Nx + 1) * (cells.Ny + 1) * (cells.Nz + 1), "the faces of the grid");
        Cells = cells;
    }

    /// <summary>The cell grid (pressure, scalars), with the velocity's boundary.</summary>
    public Grid3D Cells { get; }
    /// <summary>Cells in x.</summary>
    public int Nx => Cells.Nx;
    /// <summary>Cells in y.</summary>
    public int Ny => Cells.Ny;
    /// <summary>Cells in z.</summary>
    public int Nz => Cells.Nz;
    /// <summary>Cell size in x.</summary>
    public double Dx => Cells.Dx;
    /// <summary>Cell size in y.</summary>
    public double Dy => Cells.Dy;
    /// <summary>Cell size in z.</summary>
    public double Dz => Cells.Dz;
    /// <summary>The velocity boundary per side.</summary>
    public Boundary3D Boundary => Cells.Boundary;
    /// <summary>Number of x-faces.</summary>
    public int UCount => (Nx + 1) * Ny * Nz;
    /// <summary>Number of y-faces.</summary>
    public int VCount => Nx * (Ny + 1) * Nz;
    /// <summary>Number of z-faces.</summary>
    public int WCount => Nx * Ny * (Nz + 1);

    /// <summary>A MAC velocity sampled from <c>fu, fv, fw</c> (functions of x, y, z) at the face centres.</summary>
    public (double[] U, double[] V, double[] W) Evaluate(Func<double, double, double, double> fu, Func<double, double, double, double> fv, Func<double, double, double, double> fw)
    {
        ArgumentNullException.ThrowIfNull(fu);
        ArgumentNullException.ThrowIfNull(fv);
        ArgumentNullException.ThrowIfNull(fw);
        var u = new double[UCount];
        var v = new double[VCount];
        var w = new double[WCount];
        for (int l = 0; l < Nz; l++)
            for (int j = 0; j < Ny; j++)
                for (int i = 0; i <= Nx; i++)
                    u[(l * Ny + j) * (Nx + 1) + i] = fu(i * Dx, (j + 0.5) * Dy, (l + 0.5) * Dz);
        for (int l = 0; l < Nz; l++)
            for (int j = 0; j <= Ny; j++)
                for (int i = 0; i < Nx; i++)
                    v[(l * (Ny + 1) + j) * Nx + i] = fv((i + 0.5) * Dx, j * Dy, (l + 0.5) * Dz);
        for (int l = 0; l <= Nz; l++)
            for (int j = 0; j < Ny; j++)
                for (int i = 0; i < Nx; i++)
                    w[(l * Ny + j) * Nx + i] = fw((i + 0.5) * Dx, (j + 0.5) * Dy, l * Dz);
        return (u, v, w);
    }

    /// <summary>The cell-centred velocity (mean of the two faces of each cell per component).</summary>
    public (double[] U, double[] V, double[] W) ToCentered(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w)
    {
        CheckUVW(u, v, w);
        var cu = new double[Cells.Count];
        var cv = new double[Cells.Count];
        var cw = new double[Cells.Count];
        Interpolation.StaggeredToCentered3D(u, v, w, cu, cv, cw, this);
        return (cu, cv, cw);
    }

    /// <summary>The divergence at the cell centres.</summary>
    public double[] Divergence(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w)
    {
        CheckUVW(u, v, w);
        var d = new double[Cells.Count];
        Fluid3D.Divergence(u, v, w, d, this);
        return d;
    }

    /// <summary>Projects (u, v, w) in place onto divergence-free fields (see <see cref="Fluid3D.Project"/>); returns the pressure.</summary>
    public double[] Project(Span<double> u, Span<double> v, Span<double> w, ReadOnlySpan<int> solid = default, double tolerance = 1e-6, int maxIterations = 10000)
    {
        CheckUVW(u, v, w);
        if (!solid.IsEmpty) Check.Length(solid.Length, Cells.Count, nameof(solid), FormattableString.Invariant($"a {Nx}x{Ny}x{Nz} grid"));
        Check.Positive(tolerance, nameof(tolerance));
        var p = new double[Cells.Count];
        var uo = new double[UCount];
        var vo = new double[VCount];
        var wo = new double[WCount];
        Fluid3D.Project(u, v, w, uo, vo, wo, p, solid, this, tolerance, maxIterations);
        uo.CopyTo(u);
        vo.CopyTo(v);
        wo.CopyTo(w);
        return p;
    }

    private void CheckUVW(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w)
    {
        Cells.EnsureValid("grid");
        Check.Length(u.Length, UCount, nameof(u), FormattableString.Invariant($"{Nx + 1}x{Ny}x{Nz} x-faces"));
        Check.Length(v.Length, VCount, nameof(v), FormattableString.Invariant($"{Nx}x{Ny + 1}x{Nz} y-faces"));
        Check.Length(w.Length, WCount, nameof(w), FormattableString.Invariant($"{Nx}x{Ny}x{Nz + 1} z-faces"));
    }
}
