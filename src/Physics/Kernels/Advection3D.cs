namespace DiffGen.Physics;

// The 3D backtrace building blocks of Advect3D (semi-Lagrangian and MacCormack on a StaggeredGrid3D). Layout: cells (nx, ny, nz) at
// (l * ny + j) * nx + i; u on the x-faces ((nx+1) x ny x nz), v on the y-faces (nx x (ny+1) x nz), w on the
// z-faces (nx x ny x (nz+1)), each stored x fastest. Positions are index coordinates of the cell centres; an
// x-face sits at cell-index x - 0.5 (and likewise in y and z).
public static partial class Advection
{
    /// <summary>
    /// The velocity of a 3D MAC field at the nodes of a target grid (tw x th x td nodes, node (i, j, l) at
    /// cell-index (i + ox, j + oy, l + oz)): each component trilinearly sampled on its own faces.
    /// </summary>
    [Differentiable, DataParallel]
    public static void TraceVelocityMac3D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> tu, Span<double> tv, Span<double> tw,
        int nx, int ny, int nz, int nodesX, int nodesY, int nodesZ, double ox, double oy, double oz, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        // Rows (l, j) in one loop: the generator proves two-level nests independent (out[r * w + i]), not three-level ones.
        int rows = nodesZ * nodesY;
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < nodesX; i++)
            {
                int j = r % nodesY;
                int l = r / nodesY;
                int k = r * nodesX + i;
                double px = i + ox;
                double py = j + oy;
                double pz = l + oz;
                tu[k] = Interpolation.Sample3D(u, nx + 1, ny, nz, nx, ny, nz, px + 0.5, py, pz, xLo, xHi, yLo, yHi, zLo, zHi);
                tv[k] = Interpolation.Sample3D(v, nx, ny + 1, nz, nx, ny, nz, px, py + 0.5, pz, xLo, xHi, yLo, yHi, zLo, zHi);
                tw[k] = Interpolation.Sample3D(w, nx, ny, nz + 1, nx, ny, nz, px, py, pz + 0.5, xLo, xHi, yLo, yHi, zLo, zHi);
            }
        }
    }

    /// <summary>
    /// One backtrace on a 3D node array f (nodesX x nodesY x nodesZ, periods px, py, pz):
    /// <c>result[k] = f(x_k - dt * (tu[k], tv[k], tw[k]))</c> with the velocity in physical units per time.
    /// </summary>
    [Differentiable, DataParallel]
    public static void TraceNodes3D(ReadOnlySpan<double> f, ReadOnlySpan<double> tu, ReadOnlySpan<double> tv, ReadOnlySpan<double> tw, Span<double> result,
        int nodesX, int nodesY, int nodesZ, int px, int py, int pz, double dx, double dy, double dz, double dt, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        double cx = dt / dx;
        double cy = dt / dy;
        double cz = dt / dz;
        // Rows (l, j) in one loop: the generator proves two-level nests independent (out[r * w + i]), not three-level ones.
        int rows = nodesZ * nodesY;
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < nodesX; i++)
            {
                int j = r % nodesY;
                int l = r / nodesY;
                int k = r * nodesX + i;
                result[k] = Interpolation.Sample3D(f, nodesX, nodesY, nodesZ, px, py, pz, i - cx * tu[k], j - cy * tv[k], l - cz * tw[k], xLo, xHi, yLo, yHi, zLo, zHi);
            }
        }
    }
}
