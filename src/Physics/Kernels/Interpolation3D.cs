namespace DiffGen.Physics;

// 3D sampling. A 3D node array with w x h x d nodes is stored as f[(l * h + j) * w + i] (x fastest, then y,
// then z); cell data has (nx, ny, nz) nodes, the MAC faces (nx+1, ny, nz), (nx, ny+1, nz), (nx, ny, nz+1).
public static partial class Interpolation
{
    /// <summary>
    /// The trilinearly interpolated value of a 3D node array (w x h x d, <c>f[(l * h + j) * w + i]</c>) at index
    /// coordinates (gx, gy, gz); outside the grid the per-side codes decide (as <see cref="Sample2D"/>).
    /// </summary>
    /// <param name="f">Values.</param>
    /// <param name="w">Nodes in x.</param>
    /// <param name="h">Nodes in y.</param>
    /// <param name="d">Nodes in z.</param>
    /// <param name="px">Periodic wrap length in x (w for cell data, w - 1 for x-face data).</param>
    /// <param name="py">Periodic wrap length in y.</param>
    /// <param name="pz">Periodic wrap length in z.</param>
    /// <param name="gx">Index coordinate in x.</param>
    /// <param name="gy">Index coordinate in y.</param>
    /// <param name="gz">Index coordinate in z.</param>
    /// <param name="xLo">Code below x index 0.</param>
    /// <param name="xHi">Code above x index w - 1.</param>
    /// <param name="yLo">Code below y index 0.</param>
    /// <param name="yHi">Code above y index h - 1.</param>
    /// <param name="zLo">Code below z index 0.</param>
    /// <param name="zHi">Code above z index d - 1.</param>
    [Differentiable]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static double Sample3D(ReadOnlySpan<double> f, int w, int h, int d, int px, int py, int pz, double gx, double gy, double gz,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        // Branch-free like Sample2D: integer helpers resolve the indices and the boundary weights.
        double flx = Math.Floor(gx);
        double fly = Math.Floor(gy);
        double flz = Math.Floor(gz);
        double tx = gx - flx;
        double ty = gy - fly;
        double tz = gz - flz;
        int i0 = (int)flx;
        int j0 = (int)fly;
        int l0 = (int)flz;
        int ki0 = Bc.Resolve(i0, w, px, xLo, xHi);
        int ki1 = Bc.Resolve(i0 + 1, w, px, xLo, xHi);
        int kj0 = Bc.Resolve(j0, h, py, yLo, yHi) * w;
        int kj1 = Bc.Resolve(j0 + 1, h, py, yLo, yHi) * w;
        int kl0 = Bc.Resolve(l0, d, pz, zLo, zHi) * w * h;
        int kl1 = Bc.Resolve(l0 + 1, d, pz, zLo, zHi) * w * h;
        double wx0 = (1 - tx) * Bc.Keep(i0, w, xLo, xHi);
        double wx1 = tx * Bc.Keep(i0 + 1, w, xLo, xHi);
        double wy0 = (1 - ty) * Bc.Keep(j0, h, yLo, yHi);
        double wy1 = ty * Bc.Keep(j0 + 1, h, yLo, yHi);
        double wz0 = (1 - tz) * Bc.Keep(l0, d, zLo, zHi);
        double wz1 = tz * Bc.Keep(l0 + 1, d, zLo, zHi);
        double lower = wy0 * (wx0 * f[kl0 + kj0 + ki0] + wx1 * f[kl0 + kj0 + ki1]) + wy1 * (wx0 * f[kl0 + kj1 + ki0] + wx1 * f[kl0 + kj1 + ki1]);
        double upper = wy0 * (wx0 * f[kl1 + kj0 + ki0] + wx1 * f[kl1 + kj0 + ki1]) + wy1 * (wx0 * f[kl1 + kj1 + ki0] + wx1 * f[kl1 + kj1 + ki1]);
        return wz0 * lower + wz1 * upper;
    }

    /// <summary>
    /// The smallest (<paramref name="wantMax"/> = false) or largest of the eight grid values that
    /// <see cref="Sample3D"/> interpolates between at the same point (zero-padded values count as 0); the
    /// clamp range of 3D MacCormack advection.
    /// </summary>
    [Differentiable]
    public static double CornerExtreme3D(ReadOnlySpan<double> f, int w, int h, int d, int px, int py, int pz, double gx, double gy, double gz,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, bool wantMax)
    {
        int i0 = (int)Math.Floor(gx);
        int j0 = (int)Math.Floor(gy);
        int l0 = (int)Math.Floor(gz);
        double best = 0;
        for (int c = 0; c < 8; c++)
        {
            int i = i0 + (c % 2);
            int j = j0 + (c / 2 % 2);
            int l = l0 + (c / 4);
            double keep = Bc.Keep(i, w, xLo, xHi) * Bc.Keep(j, h, yLo, yHi) * Bc.Keep(l, d, zLo, zHi);
            double val = keep * f[(Bc.Resolve(l, d, pz, zLo, zHi) * h + Bc.Resolve(j, h, py, yLo, yHi)) * w + Bc.Resolve(i, w, px, xLo, xHi)];
            if (c == 0) { best = val; }
            else if (wantMax) { best = Math.Max(best, val); }
            else { best = Math.Min(best, val); }
        }
        return best;
    }

    /// <summary>
    /// A 3D MAC velocity on <paramref name="grid"/> (u: (nx+1) x ny x nz, v: nx x (ny+1) x nz, w: nx x ny x (nz+1))
    /// at the cell centres (the mean of each cell's two faces per component).
    /// </summary>
    [Differentiable]
    public static void StaggeredToCentered3D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> cu, Span<double> cv, Span<double> cw, StaggeredGrid3D grid)
    {
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        for (int l = 0; l < nz; l++)
        {
            for (int j = 0; j < ny; j++)
            {
                for (int i = 0; i < nx; i++)
                {
                    int k = (l * ny + j) * nx + i;
                    cu[k] = 0.5 * (u[(l * ny + j) * (nx + 1) + i] + u[(l * ny + j) * (nx + 1) + i + 1]);
                    cv[k] = 0.5 * (v[(l * (ny + 1) + j) * nx + i] + v[(l * (ny + 1) + j + 1) * nx + i]);
                    cw[k] = 0.5 * (w[k] + w[k + nx * ny]);
                }
            }
        }
    }
}
