using ScottPlot;

namespace DiffGen.Physics;

/// <summary>
/// Writes fields as PNG pictures (ScottPlot 5, rendered headless): a scalar field as a heatmap with a
/// colour bar, a vector field as a magnitude heatmap with arrows on top. Fields are row-major
/// (<c>f[j * nx + i]</c>, row j = 0 at the bottom, as in the solvers).
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
        Check.Length(field.Length, nx * ny, nameof(field), $"a {nx}x{ny} field");
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
        Check.Length(cu.Length, nx * ny, nameof(cu), $"a {nx}x{ny} field");
        Check.Length(cv.Length, nx * ny, nameof(cv), $"a {nx}x{ny} field");
        Check.Positive(arrowsPerSide, nameof(arrowsPerSide));
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
        Check.Positive(nx, nameof(nx));
        Check.Positive(ny, nameof(ny));
        Check.Length(u.Length, (nx + 1) * ny, nameof(u), $"{nx + 1}x{ny} x-faces");
        Check.Length(v.Length, nx * (ny + 1), nameof(v), $"{nx}x{ny + 1} y-faces");
        var cu = new double[nx * ny];
        var cv = new double[nx * ny];
        Interpolation.StaggeredToCentered(u, v, cu, cv, nx, ny);
        WriteVector(path, cu, cv, nx, ny, title, width, height);
    }

    private static void Validate(string path, int nx, int ny, int width, int height)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("An output path is required.", nameof(path));
        Check.Positive(nx, nameof(nx));
        Check.Positive(ny, nameof(ny));
        Check.Positive(width, nameof(width));
        Check.Positive(height, nameof(height));
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
