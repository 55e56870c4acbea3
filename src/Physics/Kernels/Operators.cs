namespace DiffGen.Physics;

/// <summary>
/// Finite-difference operators on row-major grids (<c>f[j * w + i]</c>). A "grid" here is any node
/// array with <c>w</c> columns and <c>h</c> rows: cell centres (w = nx, h = ny), x-faces of a MAC grid
/// (w = nx + 1, h = ny, periodic wrap length nx) or y-faces (w = nx, h = ny + 1, wrap length ny).
/// Out-of-range neighbours follow the per-side <see cref="Bc"/> codes.
/// </summary>
public static partial class Operators
{
    /// <summary>The value at integer node (i, j), which may lie one or more nodes outside the grid.</summary>
    [Differentiable]
    public static double Value2D(ReadOnlySpan<double> f, int w, int h, int px, int py, int i, int j, int xLo, int xHi, int yLo, int yHi)
    {
        // A double weight rather than a bool flag (the generator mis-tapes bool locals overwritten in
        // branches), and resolved indices in new locals so the branches need no tape.
        double keep = 1.0;
        int ki = i;
        if (i < 0)
        {
            if (xLo == Bc.Periodic) { ki = ((i % px) + px) % px; }
            else if (xLo == Bc.ZeroGradient) { ki = 0; }
            else { ki = 0; keep = 0; }
        }
        else if (i > w - 1)
        {
            if (xHi == Bc.Periodic) { ki = i % px; }
            else if (xHi == Bc.ZeroGradient) { ki = w - 1; }
            else { ki = 0; keep = 0; }
        }
        int kj = j;
        if (j < 0)
        {
            if (yLo == Bc.Periodic) { kj = ((j % py) + py) % py; }
            else if (yLo == Bc.ZeroGradient) { kj = 0; }
            else { kj = 0; keep = 0; }
        }
        else if (j > h - 1)
        {
            if (yHi == Bc.Periodic) { kj = j % py; }
            else if (yHi == Bc.ZeroGradient) { kj = h - 1; }
            else { kj = 0; keep = 0; }
        }
        return keep * f[kj * w + ki];
    }

    /// <summary>The 5-point Laplacian of a 2D node array (see the class remarks for w, h, px, py).</summary>
    [Differentiable, DataParallel]
    public static void Laplacian2D(ReadOnlySpan<double> f, Span<double> lap, int w, int h, int px, int py, double dx, double dy, int xLo, int xHi, int yLo, int yHi)
    {
        double ax = 1.0 / (dx * dx);
        double ay = 1.0 / (dy * dy);
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                double c = f[j * w + i];
                // Interior neighbours are read directly; only boundary nodes pay for the code lookup.
                double l = 0;
                if (i > 0) { l = f[j * w + i - 1]; } else { l = Value2D(f, w, h, px, py, i - 1, j, xLo, xHi, yLo, yHi); }
                double r = 0;
                if (i < w - 1) { r = f[j * w + i + 1]; } else { r = Value2D(f, w, h, px, py, i + 1, j, xLo, xHi, yLo, yHi); }
                double b = 0;
                if (j > 0) { b = f[(j - 1) * w + i]; } else { b = Value2D(f, w, h, px, py, i, j - 1, xLo, xHi, yLo, yHi); }
                double t = 0;
                if (j < h - 1) { t = f[(j + 1) * w + i]; } else { t = Value2D(f, w, h, px, py, i, j + 1, xLo, xHi, yLo, yHi); }
                lap[j * w + i] = ax * (l - 2 * c + r) + ay * (b - 2 * c + t);
            }
        }
    }

    /// <summary>The 3-point Laplacian of a 1D array with boundary codes <paramref name="lo"/>/<paramref name="hi"/>.</summary>
    [Differentiable]
    public static void Laplacian1D(ReadOnlySpan<double> f, Span<double> lap, double dx, int lo, int hi)
    {
        int n = f.Length;
        double a = 1.0 / (dx * dx);
        for (int i = 0; i < n; i++)
        {
            double l = i > 0 ? f[i - 1] : (lo == Bc.Periodic ? f[n - 1] : (lo == Bc.ZeroGradient ? f[0] : 0.0));
            double r = i < n - 1 ? f[i + 1] : (hi == Bc.Periodic ? f[0] : (hi == Bc.ZeroGradient ? f[n - 1] : 0.0));
            lap[i] = a * (l - 2 * f[i] + r);
        }
    }

    /// <summary>
    /// The central-difference gradient of a cell-centred field (nx x ny) into two cell-centred fields.
    /// </summary>
    [Differentiable, DataParallel]
    public static void GradientCentered(ReadOnlySpan<double> f, Span<double> gx, Span<double> gy, int nx, int ny, double dx, double dy, int xLo, int xHi, int yLo, int yHi)
    {
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                double l = Value2D(f, nx, ny, nx, ny, i - 1, j, xLo, xHi, yLo, yHi);
                double r = Value2D(f, nx, ny, nx, ny, i + 1, j, xLo, xHi, yLo, yHi);
                double b = Value2D(f, nx, ny, nx, ny, i, j - 1, xLo, xHi, yLo, yHi);
                double t = Value2D(f, nx, ny, nx, ny, i, j + 1, xLo, xHi, yLo, yHi);
                gx[j * nx + i] = (r - l) / (2 * dx);
                gy[j * nx + i] = (t - b) / (2 * dy);
            }
        }
    }

    /// <summary>
    /// The gradient of a cell-centred field at the faces of a MAC grid:
    /// <c>gu[j*(nx+1)+i] = (f[i] - f[i-1]) / dx</c> (outside values by the codes), likewise in y.
    /// </summary>
    [Differentiable, DataParallel]
    public static void GradientStaggered(ReadOnlySpan<double> f, Span<double> gu, Span<double> gv, int nx, int ny, double dx, double dy, int xLo, int xHi, int yLo, int yHi)
    {
        for (int j = 0; j < ny; j++)
            for (int i = 0; i <= nx; i++)
                gu[j * (nx + 1) + i] = (Value2D(f, nx, ny, nx, ny, i, j, xLo, xHi, yLo, yHi) - Value2D(f, nx, ny, nx, ny, i - 1, j, xLo, xHi, yLo, yHi)) / dx;
        for (int j = 0; j <= ny; j++)
            for (int i = 0; i < nx; i++)
                gv[j * nx + i] = (Value2D(f, nx, ny, nx, ny, i, j, xLo, xHi, yLo, yHi) - Value2D(f, nx, ny, nx, ny, i, j - 1, xLo, xHi, yLo, yHi)) / dy;
    }

    /// <summary>
    /// The divergence of a MAC velocity (u: (nx+1) x ny x-faces, v: nx x (ny+1) y-faces) at the cell centres.
    /// </summary>
    [Differentiable, DataParallel]
    public static void DivergenceStaggered(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> div, int nx, int ny, double dx, double dy)
    {
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                div[j * nx + i] = (u[j * (nx + 1) + i + 1] - u[j * (nx + 1) + i]) / dx + (v[(j + 1) * nx + i] - v[j * nx + i]) / dy;
            }
        }
    }

    /// <summary>The central-difference divergence of a cell-centred velocity (cu, cv).</summary>
    [Differentiable, DataParallel]
    public static void DivergenceCentered(ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, Span<double> div, int nx, int ny, double dx, double dy, int xLo, int xHi, int yLo, int yHi)
    {
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                double l = Value2D(cu, nx, ny, nx, ny, i - 1, j, xLo, xHi, yLo, yHi);
                double r = Value2D(cu, nx, ny, nx, ny, i + 1, j, xLo, xHi, yLo, yHi);
                double b = Value2D(cv, nx, ny, nx, ny, i, j - 1, xLo, xHi, yLo, yHi);
                double t = Value2D(cv, nx, ny, nx, ny, i, j + 1, xLo, xHi, yLo, yHi);
                div[j * nx + i] = (r - l) / (2 * dx) + (t - b) / (2 * dy);
            }
        }
    }

    /// <summary><c>f += scale * g</c> elementwise (forcing terms, sources, inflow).</summary>
    [Differentiable, DataParallel]
    public static void AddScaled(Span<double> f, ReadOnlySpan<double> g, double scale)
    {
        // The bound in a local: a span's Length in the loop condition keeps the loop serial (DG0303).
        int n = f.Length;
        for (int k = 0; k < n; k++)
            f[k] += scale * g[k];
    }

    /// <summary><c>dst = src</c> elementwise (a differentiable copy).</summary>
    [Differentiable, DataParallel]
    public static void Copy(ReadOnlySpan<double> src, Span<double> dst)
    {
        int n = dst.Length;
        for (int k = 0; k < n; k++)
            dst[k] = src[k];
    }
}
