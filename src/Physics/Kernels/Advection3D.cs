namespace DiffGen.Physics;

// 3D semi-Lagrangian and MacCormack advection on a MAC grid (Euler backtrace). Layout: cells (nx, ny, nz) at
// (l * ny + j) * nx + i; u on the x-faces ((nx+1) x ny x nz), v on the y-faces (nx x (ny+1) x nz), w on the
// z-faces (nx x ny x (nz+1)), each stored x fastest. Positions are index coordinates of the cell centres; an
// x-face sits at cell-index x - 0.5 (and likewise in y and z).
public static partial class Advection
{
    /// <summary>
    /// The velocity of a 3D MAC field at the nodes of a target grid (tw x th x td nodes, node (i, j, l) at
    /// cell-index (i + ox, j + oy, l + oz)): each component trilinearly sampled on its own faces.
    /// </summary>
    [Differentiable]
    public static void TraceVelocityMac3D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> tu, Span<double> tv, Span<double> tw,
        int nx, int ny, int nz, int nodesX, int nodesY, int nodesZ, double ox, double oy, double oz, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        for (int l = 0; l < nodesZ; l++)
        {
            for (int j = 0; j < nodesY; j++)
            {
                for (int i = 0; i < nodesX; i++)
                {
                    int k = (l * nodesY + j) * nodesX + i;
                    double px = i + ox;
                    double py = j + oy;
                    double pz = l + oz;
                    tu[k] = Interpolation.Sample3D(u, nx + 1, ny, nz, nx, ny, nz, px + 0.5, py, pz, xLo, xHi, yLo, yHi, zLo, zHi);
                    tv[k] = Interpolation.Sample3D(v, nx, ny + 1, nz, nx, ny, nz, px, py + 0.5, pz, xLo, xHi, yLo, yHi, zLo, zHi);
                    tw[k] = Interpolation.Sample3D(w, nx, ny, nz + 1, nx, ny, nz, px, py, pz + 0.5, xLo, xHi, yLo, yHi, zLo, zHi);
                }
            }
        }
    }

    /// <summary>
    /// One backtrace on a 3D node array f (nodesX x nodesY x nodesZ, periods px, py, pz):
    /// <c>result[k] = f(x_k - dt * (tu[k], tv[k], tw[k]))</c> with the velocity in physical units per time.
    /// </summary>
    [Differentiable]
    public static void TraceNodes3D(ReadOnlySpan<double> f, ReadOnlySpan<double> tu, ReadOnlySpan<double> tv, ReadOnlySpan<double> tw, Span<double> result,
        int nodesX, int nodesY, int nodesZ, int px, int py, int pz, double dx, double dy, double dz, double dt, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        double cx = dt / dx;
        double cy = dt / dy;
        double cz = dt / dz;
        for (int l = 0; l < nodesZ; l++)
        {
            for (int j = 0; j < nodesY; j++)
            {
                for (int i = 0; i < nodesX; i++)
                {
                    int k = (l * nodesY + j) * nodesX + i;
                    result[k] = Interpolation.Sample3D(f, nodesX, nodesY, nodesZ, px, py, pz, i - cx * tu[k], j - cy * tv[k], l - cz * tw[k], xLo, xHi, yLo, yHi, zLo, zHi);
                }
            }
        }
    }

    /// <summary>
    /// Semi-Lagrangian advection of a 3D cell-centred scalar <paramref name="q"/> (codes q*) by a MAC velocity
    /// (u, v, w; codes v*), Euler backtrace.
    /// </summary>
    [Differentiable]
    public static void SemiLagrangianScalar3D(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> result,
        int nx, int ny, int nz, double dx, double dy, double dz, double dt,
        int qxLo, int qxHi, int qyLo, int qyHi, int qzLo, int qzHi, int vxLo, int vxHi, int vyLo, int vyHi, int vzLo, int vzHi)
    {
        double[] tu = new double[nx * ny * nz];
        double[] tv = new double[nx * ny * nz];
        double[] tw = new double[nx * ny * nz];
        TraceVelocityMac3D(u, v, w, tu, tv, tw, nx, ny, nz, nx, ny, nz, 0.0, 0.0, 0.0, vxLo, vxHi, vyLo, vyHi, vzLo, vzHi);
        TraceNodes3D(q, tu, tv, tw, result, nx, ny, nz, nx, ny, nz, dx, dy, dz, dt, qxLo, qxHi, qyLo, qyHi, qzLo, qzHi);
    }

    /// <summary>
    /// Semi-Lagrangian self-advection of a 3D MAC velocity (Euler backtrace from every face, each component
    /// sampled on its own faces); the result goes to (uOut, vOut, wOut).
    /// </summary>
    [Differentiable]
    public static void SemiLagrangianVelocity3D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> uOut, Span<double> vOut, Span<double> wOut,
        int nx, int ny, int nz, double dx, double dy, double dz, double dt, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        // x-face (i, j, l) sits at cell-index (i - 0.5, j, l), and likewise for the y- and z-faces.
        int fu = (nx + 1) * ny * nz;
        int fv = nx * (ny + 1) * nz;
        int fw = nx * ny * (nz + 1);
        double[] uu = new double[fu];
        double[] vu = new double[fu];
        double[] wu = new double[fu];
        double[] uv = new double[fv];
        double[] vv = new double[fv];
        double[] wv = new double[fv];
        double[] uw = new double[fw];
        double[] vw = new double[fw];
        double[] ww = new double[fw];
        TraceVelocityMac3D(u, v, w, uu, vu, wu, nx, ny, nz, nx + 1, ny, nz, -0.5, 0.0, 0.0, xLo, xHi, yLo, yHi, zLo, zHi);
        TraceVelocityMac3D(u, v, w, uv, vv, wv, nx, ny, nz, nx, ny + 1, nz, 0.0, -0.5, 0.0, xLo, xHi, yLo, yHi, zLo, zHi);
        TraceVelocityMac3D(u, v, w, uw, vw, ww, nx, ny, nz, nx, ny, nz + 1, 0.0, 0.0, -0.5, xLo, xHi, yLo, yHi, zLo, zHi);
        TraceNodes3D(u, uu, vu, wu, uOut, nx + 1, ny, nz, nx, ny, nz, dx, dy, dz, dt, xLo, xHi, yLo, yHi, zLo, zHi);
        TraceNodes3D(v, uv, vv, wv, vOut, nx, ny + 1, nz, nx, ny, nz, dx, dy, dz, dt, xLo, xHi, yLo, yHi, zLo, zHi);
        TraceNodes3D(w, uw, vw, ww, wOut, nx, ny, nz + 1, nx, ny, nz, dx, dy, dz, dt, xLo, xHi, yLo, yHi, zLo, zHi);
    }

    /// <summary>
    /// MacCormack advection of a 3D cell-centred scalar by a MAC velocity: forward and backward semi-Lagrangian
    /// steps, the corrected value <c>fwd + (q - bwd) / 2</c> clamped to the range of the eight values the
    /// forward step interpolated (as <see cref="MacCormackScalar2D"/>).
    /// </summary>
    [Differentiable]
    public static void MacCormackScalar3D(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> result,
        int nx, int ny, int nz, double dx, double dy, double dz, double dt,
        int qxLo, int qxHi, int qyLo, int qyHi, int qzLo, int qzHi, int vxLo, int vxHi, int vyLo, int vyHi, int vzLo, int vzHi)
    {
        double[] fwd = new double[nx * ny * nz];
        double[] bwd = new double[nx * ny * nz];
        SemiLagrangianScalar3D(q, u, v, w, fwd, nx, ny, nz, dx, dy, dz, dt, qxLo, qxHi, qyLo, qyHi, qzLo, qzHi, vxLo, vxHi, vyLo, vyHi, vzLo, vzHi);
        SemiLagrangianScalar3D(fwd, u, v, w, bwd, nx, ny, nz, dx, dy, dz, -dt, qxLo, qxHi, qyLo, qyHi, qzLo, qzHi, vxLo, vxHi, vyLo, vyHi, vzLo, vzHi);
        double cx = dt / dx;
        double cy = dt / dy;
        double cz = dt / dz;
        for (int l = 0; l < nz; l++)
        {
            for (int j = 0; j < ny; j++)
            {
                for (int i = 0; i < nx; i++)
                {
                    int k = (l * ny + j) * nx + i;
                    double ui = 0.5 * (u[(l * ny + j) * (nx + 1) + i] + u[(l * ny + j) * (nx + 1) + i + 1]);
                    double vi = 0.5 * (v[(l * (ny + 1) + j) * nx + i] + v[(l * (ny + 1) + j + 1) * nx + i]);
                    double wi = 0.5 * (w[k] + w[k + nx * ny]);
                    double bx = i - cx * ui;
                    double by = j - cy * vi;
                    double bz = l - cz * wi;
                    double lo = Interpolation.CornerExtreme3D(q, nx, ny, nz, nx, ny, nz, bx, by, bz, qxLo, qxHi, qyLo, qyHi, qzLo, qzHi, false);
                    double hi = Interpolation.CornerExtreme3D(q, nx, ny, nz, nx, ny, nz, bx, by, bz, qxLo, qxHi, qyLo, qyHi, qzLo, qzHi, true);
                    double corrected = fwd[k] + 0.5 * (q[k] - bwd[k]);
                    result[k] = Math.Clamp(corrected, lo, hi);
                }
            }
        }
    }
}
