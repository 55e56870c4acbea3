using DiffGen.Physics;
using ScottPlot;

namespace DiffGen.Plotting;

/// <summary>
/// Writes fields as PNG pictures (ScottPlot 5, rendered headless): a scalar field as a heatmap with a
/// colour bar, a vector field as a magnitude heatmap with arrows on top. Fields are row-major
/// (<c>f[j * nx + i]</c>, row j = 0 at the bottom, as in the solvers); 3D fields are pictured as a
/// slice or a maximum projection along one axis (<c>WriteSlice</c>, <c>WriteMaxProjection</c>).
/// </summary>
public static class FieldImage
{
    /// <summary>Writes a scalar field (nx x ny) as a heatmap PNG.</summary>
    /// <param name="path">Output file (directories are created).</param>
    /// <param name="field">Values, row-major.</param>
    /// <param name="nx">Columns.</param>
    /// <param name="ny">Rows.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="colormap">"viridis" (default), "turbo" or "balance" (diverging, for signed data).</param>
    public static void WriteScalar(string path, ReadOnlySpan<double> field, int nx, int ny, string title = "", int width = 600, int height = 500, string colormap = "viridis")
    {
        Validate(path, nx, ny, width, height);
        Args.Length(field.Length, nx * ny, nameof(field), $"a {nx}x{ny} field");
        var plt = new Plot();
        var hm = plt.Add.Heatmap(ToRows(field, nx, ny));
        hm.Colormap = ColormapByName(colormap);
        hm.Rectangle = new CoordinateRect(0, nx, 0, ny);
        plt.Add.ColorBar(hm);
        Finish(plt, path, title, width, height);
    }

    /// <summary>
    /// Writes a cell-centred vector field (cu, cv; nx x ny each) as a magnitude heatmap with arrows
    /// (about <paramref name="arrowsPerSide"/> arrows along the longer side).
    /// </summary>
    public static void WriteVector(string path, ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, int nx, int ny, string title = "", int width = 600, int height = 500, int arrowsPerSide = 16)
    {
        Validate(path, nx, ny, width, height);
        Args.Length(cu.Length, nx * ny, nameof(cu), $"a {nx}x{ny} field");
        Args.Length(cv.Length, nx * ny, nameof(cv), $"a {nx}x{ny} field");
        Args.Positive(arrowsPerSide, nameof(arrowsPerSide));
        var mag = new double[nx * ny];
        double maxMag = 0;
        for (int k = 0; k < mag.Length; k++) { mag[k] = Math.Sqrt(cu[k] * cu[k] + cv[k] * cv[k]); maxMag = Math.Max(maxMag, mag[k]); }
        var plt = new Plot();
        var hm = plt.Add.Heatmap(ToRows(mag, nx, ny));
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        hm.Rectangle = new CoordinateRect(0, nx, 0, ny);
        plt.Add.ColorBar(hm);
        int stride = Math.Max(1, Math.Max(nx, ny) / arrowsPerSide);
        double scale = maxMag > 0 ? 0.9 * stride / maxMag : 0;
        var vectors = new List<RootedCoordinateVector>();
        for (int j = stride / 2; j < ny; j += stride)
            for (int i = stride / 2; i < nx; i += stride)
            {
                int k = j * nx + i;
                vectors.Add(new RootedCoordinateVector(new Coordinates(i + 0.5, j + 0.5), new System.Numerics.Vector2((float)(cu[k] * scale), (float)(cv[k] * scale))));
            }
        var vf = plt.Add.VectorField(vectors);
        vf.ArrowStyle.LineWidth = 1.5f;
        vf.ArrowStyle.LineColor = Colors.White;
        Finish(plt, path, title, width, height);
    }

    /// <summary>Writes a MAC velocity (u: (nx+1) x ny, v: nx x (ny+1)) as a vector picture (averaged to the cell centres).</summary>
    public static void WriteStaggered(string path, ReadOnlySpan<double> u, ReadOnlySpan<double> v, int nx, int ny, string title = "", int width = 600, int height = 500)
    {
        Args.Positive(nx, nameof(nx));
        Args.Positive(ny, nameof(ny));
        Args.Length(u.Length, (nx + 1) * ny, nameof(u), $"{nx + 1}x{ny} x-faces");
        Args.Length(v.Length, nx * (ny + 1), nameof(v), $"{nx}x{ny + 1} y-faces");
        var cu = new double[nx * ny];
        var cv = new double[nx * ny];
        Interpolation.StaggeredToCentered(u, v, cu, cv, nx, ny);
        WriteVector(path, cu, cv, nx, ny, title, width, height);
    }

    /// <summary>
    /// Writes the slice of a 3D cell field (nx x ny x nz, <c>f[(l * ny + j) * nx + i]</c>) through cell
    /// <paramref name="index"/> across <paramref name="axis"/> as a heatmap (see <see cref="Slice"/> for the
    /// picture's orientation).
    /// </summary>
    public static void WriteSlice(string path, ReadOnlySpan<double> field, int nx, int ny, int nz, Axis axis, int index, string title = "", int width = 600, int height = 500, string colormap = "viridis")
    {
        var (data, w, h) = Slice(field, nx, ny, nz, axis, index);
        WriteScalar(path, data, w, h, title, width, height, colormap);
    }

    /// <summary>
    /// Writes the maximum of a 3D cell field along <paramref name="axis"/> (a "maximum intensity projection":
    /// a plume seen through the box) as a heatmap (orientation as in <see cref="Slice"/>).
    /// </summary>
    public static void WriteMaxProjection(string path, ReadOnlySpan<double> field, int nx, int ny, int nz, Axis axis, string title = "", int width = 600, int height = 500, string colormap = "viridis")
    {
        var (data, w, h) = MaxProjection(field, nx, ny, nz, axis);
        WriteScalar(path, data, w, h, title, width, height, colormap);
    }

    /// <summary>
    /// The 2D slice of a 3D cell field through cell <paramref name="index"/> across <paramref name="axis"/>,
    /// row-major with w columns and h rows: across z the picture's axes are (x, y), across y (x, z), across x (y, z).
    /// </summary>
    public static (double[] Data, int Width, int Height) Slice(ReadOnlySpan<double> field, int nx, int ny, int nz, Axis axis, int index)
    {
        Check3D(field, nx, ny, nz);
        int n = axis switch { Axis.X => nx, Axis.Y => ny, Axis.Z => nz, _ => throw UnknownAxis(axis) };
        if (index < 0 || index >= n) throw new ArgumentOutOfRangeException(nameof(index), index, $"The slice index must lie in [0, {n - 1}] along {axis}.");
        var (w, h) = PlaneSize(nx, ny, nz, axis);
        var d = new double[w * h];
        for (int b = 0; b < h; b++)
            for (int a = 0; a < w; a++)
                d[b * w + a] = field[Index(nx, ny, axis, a, b, index)];
        return (d, w, h);
    }

    /// <summary>The maximum of a 3D cell field along <paramref name="axis"/>, laid out as <see cref="Slice"/>.</summary>
    public static (double[] Data, int Width, int Height) MaxProjection(ReadOnlySpan<double> field, int nx, int ny, int nz, Axis axis)
    {
        Check3D(field, nx, ny, nz);
        int n = axis switch { Axis.X => nx, Axis.Y => ny, Axis.Z => nz, _ => throw UnknownAxis(axis) };
        var (w, h) = PlaneSize(nx, ny, nz, axis);
        var d = new double[w * h];
        for (int b = 0; b < h; b++)
            for (int a = 0; a < w; a++)
            {
                double m = double.NegativeInfinity;
                for (int c = 0; c < n; c++) m = Math.Max(m, field[Index(nx, ny, axis, a, b, c)]);
                d[b * w + a] = m;
            }
        return (d, w, h);
    }

    /// <summary>Writes a cell-centred 2D field as a heatmap PNG (see <see cref="WriteScalar"/>).</summary>
    public static void Write(string path, CenteredField2D field, string title = "", int width = 600, int height = 500, string colormap = "viridis")
    {
        ArgumentNullException.ThrowIfNull(field);
        WriteScalar(path, field.Values, field.Grid.Nx, field.Grid.Ny, title, width, height, colormap);
    }

    /// <summary>Writes a MAC velocity as a magnitude heatmap with arrows (see <see cref="WriteStaggered"/>).</summary>
    public static void Write(string path, StaggeredField2D field, string title = "", int width = 600, int height = 500)
    {
        ArgumentNullException.ThrowIfNull(field);
        WriteStaggered(path, field.U, field.V, field.Grid.Nx, field.Grid.Ny, title, width, height);
    }

    /// <summary>Writes the slice of a 3D field through cell <paramref name="index"/> across <paramref name="axis"/> (see <see cref="Slice"/>).</summary>
    public static void WriteSlice(string path, CenteredField3D field, Axis axis, int index, string title = "", int width = 600, int height = 500, string colormap = "viridis")
    {
        ArgumentNullException.ThrowIfNull(field);
        WriteSlice(path, field.Values, field.Grid.Nx, field.Grid.Ny, field.Grid.Nz, axis, index, title, width, height, colormap);
    }

    /// <summary>Writes the maximum of a 3D field along <paramref name="axis"/> (see <see cref="MaxProjection"/>).</summary>
    public static void WriteMaxProjection(string path, CenteredField3D field, Axis axis, string title = "", int width = 600, int height = 500, string colormap = "viridis")
    {
        ArgumentNullException.ThrowIfNull(field);
        WriteMaxProjection(path, field.Values, field.Grid.Nx, field.Grid.Ny, field.Grid.Nz, axis, title, width, height, colormap);
    }

    private static (int W, int H) PlaneSize(int nx, int ny, int nz, Axis axis) => axis switch
    {
        Axis.X => (ny, nz),
        Axis.Y => (nx, nz),
        _ => (nx, ny),
    };

    // Picture column a, row b, depth c along the axis -> index of the 3D field.
    private static int Index(int nx, int ny, Axis axis, int a, int b, int c) => axis switch
    {
        Axis.X => (b * ny + a) * nx + c,
        Axis.Y => (b * ny + c) * nx + a,
        _ => (c * ny + b) * nx + a,
    };

    private static void Check3D(ReadOnlySpan<double> field, int nx, int ny, int nz)
    {
        Args.Positive(nx, nameof(nx));
        Args.Positive(ny, nameof(ny));
        Args.Positive(nz, nameof(nz));
        Args.Length(field.Length, nx * ny * nz, nameof(field), $"a {nx}x{ny}x{nz} field");
    }

    private static ArgumentException UnknownAxis(Axis axis) => new($"Unknown axis {axis}; use Axis.X, Axis.Y or Axis.Z.", nameof(axis));

    private static void Validate(string path, int nx, int ny, int width, int height)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("An output path is required.", nameof(path));
        Args.Positive(nx, nameof(nx));
        Args.Positive(ny, nameof(ny));
        Args.Positive(width, nameof(width));
        Args.Positive(height, nameof(height));
    }

    private static IColormap ColormapByName(string name) => name.ToLowerInvariant() switch
    {
        "viridis" => new ScottPlot.Colormaps.Viridis(),
        "turbo" => new ScottPlot.Colormaps.Turbo(),
        "balance" => new ScottPlot.Colormaps.Balance(),
        _ => throw new ArgumentException($"Unknown colour map '{name}'; use viridis, turbo or balance.", nameof(name)),
    };

    // ScottPlot's heatmap draws data[0, *] at the top; the solvers keep row 0 at the bottom.
    private static double[,] ToRows(ReadOnlySpan<double> f, int nx, int ny)
    {
        var d = new double[ny, nx];
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++)
                d[ny - 1 - j, i] = f[j * nx + i];
        return d;
    }

    private static void Finish(Plot plt, string path, string title, int width, int height)
    {
        if (title.Length > 0) plt.Title(title);
        plt.Axes.AutoScale();
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        plt.SavePng(path, width, height);
    }
}

/// <summary>An axis of a 3D grid: the direction a slice is taken across or a projection is taken along.</summary>
public enum Axis
{
    /// <summary>x (the first index).</summary>
    X,

    /// <summary>y (the second index; up in the plume models).</summary>
    Y,

    /// <summary>z (the third index).</summary>
    Z,
}

/// <summary>Argument checks of the picture writers.</summary>
internal static class Args
{
    public static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} must be positive (got {value}).", name);
    }

    public static void Length(int actual, int expected, string name, string what)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} entries but {what} needs {expected}.", name);
    }
}
