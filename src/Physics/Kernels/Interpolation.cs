namespace DiffGen.Physics;

/// <summary>
/// Linear interpolation of grid data at arbitrary points, and resampling between grids.
/// All 2D data is row-major: the value at column i (x) and row j (y) of a field with w columns is
/// <c>f[j * w + i]</c>. Sample points are given in <em>index coordinates</em>: x = 2.5 lies halfway
/// between columns 2 and 3. Outside the grid the per-side <see cref="Bc"/> codes decide the value.
/// </summary>
public static partial class Interpolation
{
    /// <summary>
    /// The linearly interpolated value of a 1D array at index coordinate <paramref name="g"/>.
    /// </summary>
    /// <param name="f">Node values, <c>n = f.Length</c>.</param>
    /// <param name="period">Wrap length for periodic sides (n for cell data, n - 1 for face data whose last node repeats the first).</param>
    /// <param name="g">Index coordinate of the sample point.</param>
    /// <param name="lo">Boundary code below index 0.</param>
    /// <param name="hi">Boundary code above index n - 1.</param>
    [Differentiable]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static double Sample1D(ReadOnlySpan<double> f, int period, double g, int lo, int hi)
    {
        // Branch-free: the boundary codes resolve indices and weights in integer helpers (no derivative).
        int n = f.Length;
        double fl = Math.Floor(g);
        double t = g - fl;
        int i0 = (int)fl;
        int k0 = Bc.Resolve(i0, n, period, lo, hi);
        int k1 = Bc.Resolve(i0 + 1, n, period, lo, hi);
        double w0 = (1 - t) * Bc.Keep(i0, n, lo, hi);
        double w1 = t * Bc.Keep(i0 + 1, n, lo, hi);
        return w0 * f[k0] + w1 * f[k1];
    }

    /// <summary>
    /// The bilinearly interpolated value of a row-major 2D array with <paramref name="w"/> columns and
    /// <paramref name="h"/> rows at index coordinates (<paramref name="gx"/>, <paramref name="gy"/>).
    /// </summary>
    /// <param name="f">Values, <c>f[j * w + i]</c>.</param>
    /// <param name="w">Columns (x).</param>
    /// <param name="h">Rows (y).</param>
    /// <param name="px">Periodic wrap length in x (w for cell data, w - 1 for x-face data).</param>
    /// <param name="py">Periodic wrap length in y (h for cell data, h - 1 for y-face data).</param>
    /// <param name="gx">Index coordinate in x.</param>
    /// <param name="gy">Index coordinate in y.</param>
    /// <param name="xLo">Boundary code left.</param>
    /// <param name="xHi">Boundary code right.</param>
    /// <param name="yLo">Boundary code bottom.</param>
    /// <param name="yHi">Boundary code top.</param>
    [Differentiable]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static double Sample2D(ReadOnlySpan<double> f, int w, int h, int px, int py, double gx, double gy, int xLo, int xHi, int yLo, int yHi)
    {
        // Branch-free: the boundary codes resolve indices and weights in integer helpers (no derivative).
        double flx = Math.Floor(gx);
        double fly = Math.Floor(gy);
        double tx = gx - flx;
        double ty = gy - fly;
        int i0 = (int)flx;
        int j0 = (int)fly;
        int ki0 = Bc.Resolve(i0, w, px, xLo, xHi);
        int ki1 = Bc.Resolve(i0 + 1, w, px, xLo, xHi);
        int kj0 = Bc.Resolve(j0, h, py, yLo, yHi);
        int kj1 = Bc.Resolve(j0 + 1, h, py, yLo, yHi);
        double wx0 = (1 - tx) * Bc.Keep(i0, w, xLo, xHi);
        double wx1 = tx * Bc.Keep(i0 + 1, w, xLo, xHi);
        double wy0 = (1 - ty) * Bc.Keep(j0, h, yLo, yHi);
        double wy1 = ty * Bc.Keep(j0 + 1, h, yLo, yHi);
        return wy0 * (wx0 * f[kj0 * w + ki0] + wx1 * f[kj0 * w + ki1]) + wy1 * (wx0 * f[kj1 * w + ki0] + wx1 * f[kj1 * w + ki1]);
    }

    /// <summary>
    /// The smallest (<paramref name="wantMax"/> = false) or largest of the up to four grid values that
    /// <see cref="Sample2D"/> interpolates between at the same point (zero-padded values count as 0).
    /// MacCormack advection clamps its corrected value to this range.
    /// </summary>
    [Differentiable]
    public static double CornerExtreme2D(ReadOnlySpan<double> f, int w, int h, int px, int py, double gx, double gy, int xLo, int xHi, int yLo, int yHi, bool wantMax)
    {
        int i0 = (int)Math.Floor(gx);
        int j0 = (int)Math.Floor(gy);
        double best = 0;
        for (int c = 0; c < 4; c++)
        {
            // Operators.Value2D resolves the boundary codes (zero pad counts as 0).
            double val = Operators.Value2D(f, w, h, px, py, i0 + (c % 2), j0 + (c / 2), xLo, xHi, yLo, yHi);
            if (c == 0) { best = val; }
            else if (wantMax) { best = Math.Max(best, val); }
            else { best = Math.Min(best, val); }
        }
        return best;
    }

    /// <summary>
    /// Resamples a cell-centred 1D field of <c>src.Length</c> cells to <c>dst.Length</c> cells covering the
    /// same interval (linear interpolation at the destination cell centres).
    /// </summary>
    [Differentiable]
    public static void Resample1D(ReadOnlySpan<double> src, Span<double> dst, int lo, int hi)
    {
        int ns = src.Length;
        int nd = dst.Length;
        double ratio = (double)ns / nd;
        for (int i = 0; i < nd; i++)
        {
            double g = (i + 0.5) * ratio - 0.5;
            dst[i] = Sample1D(src, ns, g, lo, hi);
        }
    }

    /// <summary>
    /// Resamples a cell-centred 2D field (<paramref name="sw"/> x <paramref name="sh"/> cells) to
    /// <paramref name="dw"/> x <paramref name="dh"/> cells covering the same rectangle.
    /// </summary>
    [Differentiable]
    public static void Resample2D(ReadOnlySpan<double> src, int sw, int sh, Span<double> dst, int dw, int dh, int xLo, int xHi, int yLo, int yHi)
    {
        double rx = (double)sw / dw;
        double ry = (double)sh / dh;
        for (int j = 0; j < dh; j++)
        {
            for (int i = 0; i < dw; i++)
            {
                double gx = (i + 0.5) * rx - 0.5;
                double gy = (j + 0.5) * ry - 0.5;
                dst[j * dw + i] = Sample2D(src, sw, sh, sw, sh, gx, gy, xLo, xHi, yLo, yHi);
            }
        }
    }

    /// <summary>
    /// Area-average downsampling of a cell-centred 2D field by an integer factor (fine <c>(f*nx) x (f*ny)</c>
    /// to coarse <c>nx x ny</c>): each coarse cell is the mean of the f x f fine cells it covers. This is
    /// the conservative way to bring a reference solution onto a source grid.
    /// </summary>
    [Differentiable]
    public static void Downsample2D(ReadOnlySpan<double> fine, Span<double> coarse, int nx, int ny, int factor)
    {
        int fw = nx * factor;
        double inv = 1.0 / (factor * factor);
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                double s = 0;
                for (int b = 0; b < factor; b++)
                    for (int a = 0; a < factor; a++)
                        s += fine[(j * factor + b) * fw + i * factor + a];
                coarse[j * nx + i] = s * inv;
            }
        }
    }

    /// <summary>
    /// Conservative downsampling of a MAC velocity by an integer factor (fine grid <c>(f*nx) x (f*ny)</c>
    /// cells to <c>nx x ny</c>): a coarse face carries the mean of the f fine faces that tile it, so the
    /// flux through every coarse face (and hence the coarse divergence) is preserved.
    /// </summary>
    [Differentiable]
    public static void DownsampleStaggered(ReadOnlySpan<double> uFine, ReadOnlySpan<double> vFine, Span<double> u, Span<double> v, int nx, int ny, int factor)
    {
        int fnx = nx * factor;
        double inv = 1.0 / factor;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i <= nx; i++)
            {
                double s = 0;
                for (int b = 0; b < factor; b++)
                    s += uFine[(j * factor + b) * (fnx + 1) + i * factor];
                u[j * (nx + 1) + i] = s * inv;
            }
        }
        for (int j = 0; j <= ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                double s = 0;
                for (int a = 0; a < factor; a++)
                    s += vFine[j * factor * fnx + i * factor + a];
                v[j * nx + i] = s * inv;
            }
        }
    }

    /// <summary>
    /// Staggered (MAC) velocity to cell centres: <c>cu[j*nx+i] = (u[j*(nx+1)+i] + u[j*(nx+1)+i+1]) / 2</c>,
    /// <c>cv[j*nx+i] = (v[j*nx+i] + v[(j+1)*nx+i]) / 2</c>.
    /// </summary>
    [Differentiable]
    public static void StaggeredToCentered(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> cu, Span<double> cv, int nx, int ny)
    {
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                cu[j * nx + i] = 0.5 * (u[j * (nx + 1) + i] + u[j * (nx + 1) + i + 1]);
                cv[j * nx + i] = 0.5 * (v[j * nx + i] + v[(j + 1) * nx + i]);
            }
        }
    }

    /// <summary>
    /// Cell-centred velocity to staggered (MAC) faces by averaging the two adjacent cells; on a boundary
    /// face the outside cell follows the side's code (periodic: wrap, zero: 0, zero-gradient: copy).
    /// </summary>
    [Differentiable]
    public static void CenteredToStaggered(ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, Span<double> u, Span<double> v, int nx, int ny, int xLo, int xHi, int yLo, int yHi)
    {
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i <= nx; i++)
            {
                u[j * (nx + 1) + i] = Sample2D(cu, nx, ny, nx, ny, i - 0.5, j, xLo, xHi, yLo, yHi);
            }
        }
        for (int j = 0; j <= ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                v[j * nx + i] = Sample2D(cv, nx, ny, nx, ny, i, j - 0.5, xLo, xHi, yLo, yHi);
            }
        }
    }
}
