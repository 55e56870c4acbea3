namespace DiffGen.Physics;

// 3D diffusion. The node-array kernels (cell centres or one MAC component, stored x fastest:
// f[(l * h + j) * w + i]) are the building blocks of Diffuse3D's grid kernels; the implicit solve (SolveImplicit3D) shares the 2D solve's operator and CG.
public static partial class Diffusion
{
    /// <summary>
    /// One forward-Euler diffusion step of a 3D node array (w x h x d nodes, periods px, py, pz; see
    /// <see cref="EulerStep2D"/>): <c>result = q + nu dt Laplacian(q)</c> with the 7-point stencil, fused.
    /// </summary>
    [Differentiable, DataParallel]
    public static void EulerStep3D(ReadOnlySpan<double> q, Span<double> result, int w, int h, int d, int px, int py, int pz, double nu, double dt, double dx, double dy, double dz,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        double ax = nu * dt / (dx * dx);
        double ay = nu * dt / (dy * dy);
        double az = nu * dt / (dz * dz);
        int plane = w * h;
        // Rows (l, j) in one loop: the generator proves two-level nests independent (out[r * w + i]), not three-level ones.
        int rows = d * h;
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < w; i++)
            {
                int j = r % h;
                int l = r / h;
                // Neighbour index and weight by the boundary codes, all single-assignment (the pullback
                // recomputes them instead of taping).
                int il = i > 0 ? i - 1 : (xLo == Bc.Periodic ? px - 1 : 0);
                int ir = i < w - 1 ? i + 1 : (xHi == Bc.Periodic ? (i + 1) % px : w - 1);
                int jb = j > 0 ? j - 1 : (yLo == Bc.Periodic ? py - 1 : 0);
                int jt = j < h - 1 ? j + 1 : (yHi == Bc.Periodic ? (j + 1) % py : h - 1);
                int ld = l > 0 ? l - 1 : (zLo == Bc.Periodic ? pz - 1 : 0);
                int lu = l < d - 1 ? l + 1 : (zHi == Bc.Periodic ? (l + 1) % pz : d - 1);
                double wl = (i > 0 || xLo != Bc.Zero) ? 1.0 : 0.0;
                double wr = (i < w - 1 || xHi != Bc.Zero) ? 1.0 : 0.0;
                double wb = (j > 0 || yLo != Bc.Zero) ? 1.0 : 0.0;
                double wt = (j < h - 1 || yHi != Bc.Zero) ? 1.0 : 0.0;
                double wd = (l > 0 || zLo != Bc.Zero) ? 1.0 : 0.0;
                double wu = (l < d - 1 || zHi != Bc.Zero) ? 1.0 : 0.0;
                int row = r * w;
                double c = q[row + i];
                result[row + i] = c + ax * (wl * q[row + il] - 2 * c + wr * q[row + ir])
                    + ay * (wb * q[l * plane + jb * w + i] - 2 * c + wt * q[l * plane + jt * w + i])
                    + az * (wd * q[ld * plane + j * w + i] - 2 * c + wu * q[lu * plane + j * w + i]);
            }
        }
    }

    /// <summary>Explicit 3D diffusion of a node array in <paramref name="substeps"/> equal substeps (see <see cref="Explicit2D"/>).</summary>
    [Differentiable, DataParallel]
    public static void ExplicitNodes3D(ReadOnlySpan<double> q, Span<double> result, int w, int h, int d, int px, int py, int pz, double nu, double dt, double dx, double dy, double dz, int substeps,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        if (substeps == 1)
        {
            EulerStep3D(q, result, w, h, d, px, py, pz, nu, dt, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi);
        }
        else
        {
            ExplicitSubsteps3D(q, result, w, h, d, px, py, pz, nu, dt, dx, dy, dz, substeps, xLo, xHi, yLo, yHi, zLo, zHi);
        }
    }

    /// <summary><see cref="ExplicitNodes3D"/> with two or more substeps, through a scratch array.</summary>
    [Differentiable, DataParallel]
    public static void ExplicitSubsteps3D(ReadOnlySpan<double> q, Span<double> result, int w, int h, int d, int px, int py, int pz, double nu, double dt, double dx, double dy, double dz, int substeps,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        double hs = dt / substeps;
        double[] cur = new double[w * h * d];
        Operators.Copy(q, cur);
        for (int s = 0; s < substeps - 1; s++)
        {
            EulerStep3D(cur, result, w, h, d, px, py, pz, nu, hs, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi);
            Operators.Copy(result, cur);
        }
        EulerStep3D(cur, result, w, h, d, px, py, pz, nu, hs, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi);
    }
}
