namespace DiffGen.Physics;

// The field layer: kernels on grid values. Each takes its fields and the grid they live on (resolution, extent
// and the boundary per side) instead of sizes, spacings and four to twelve int boundary codes, and calls the span
// kernels underneath (Advection, Diffusion, Pressure, Fluids, Operators), which stay public for what these do not
// cover. Grids and boundaries are [NoDiff] values: [Differentiable] code reads them and passes them on, and no
// derivative flows into them. A MAC velocity's boundary is its staggered grid's; a scalar carried by it (smoke, a
// dye) names its own, for smoke usually grid.Boundary.Scalar. Grid members are read inline, not kept in locals of
// the grid's types (a split pullback would box such a local on its tape once per call). One class per dimension (the generator reports
// overloaded [Differentiable] methods ambiguously), the same method names in each.

/// <summary>
/// Advection on a <see cref="Grid1D"/>: semi-Lagrangian (Euler backtrace, linear interpolation).
/// </summary>
public static partial class Advect1D
{
    /// <summary>1D semi-Lagrangian advection of <paramref name="q"/> by the cell-centred <paramref name="velocity"/> (Euler backtrace, linear interpolation).</summary>
    [Differentiable]
    public static void SemiLagrangian(ReadOnlySpan<double> q, ReadOnlySpan<double> velocity, Span<double> result, Grid1D grid, double dt)
    {
        Advection.SemiLagrangian1DEuler(q, velocity, result, dt, grid.Dx, grid.Boundary.LoCode, grid.Boundary.HiCode);
    }

    /// <summary>1D semi-Lagrangian self-advection (Burgers): <c>result[i] = velocity(x_i - dt velocity_i)</c>.</summary>
    [Differentiable]
    public static void SelfAdvect(ReadOnlySpan<double> velocity, Span<double> result, Grid1D grid, double dt)
    {
        Advection.SemiLagrangianSelf1D(velocity, result, dt, grid.Dx, grid.Boundary.LoCode, grid.Boundary.HiCode);
    }
}

/// <summary>
/// Advection in 2D: a cell-centred scalar by a MAC velocity on a <see cref="StaggeredGrid2D"/> (semi-Lagrangian,
/// MacCormack), the MAC velocity by itself, and the cell-centred forms on a <see cref="Grid2D"/>.
/// </summary>
public static partial class Advect2D
{
    /// <summary>
    /// Semi-Lagrangian advection of a cell-centred scalar <paramref name="q"/> (boundary <paramref name="qBoundary"/>)
    /// by the MAC velocity (u, v) on <paramref name="grid"/> (Euler backtrace).
    /// </summary>
    [Differentiable, DataParallel]
    public static void SemiLagrangian(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> result, StaggeredGrid2D grid, Boundary2D qBoundary, double dt)
    {
        Advection.SemiLagrangianScalar2D(q, u, v, result, grid.Nx, grid.Ny, grid.Dx, grid.Dy, dt, qBoundary.XLoCode, qBoundary.XHiCode, qBoundary.YLoCode, qBoundary.YHiCode,
            grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, 0);
    }

    /// <summary>Semi-Lagrangian advection of a cell-centred scalar by a cell-centred velocity (cu, cv), all on <paramref name="grid"/> (Euler backtrace).</summary>
    [Differentiable, DataParallel]
    public static void SemiLagrangianCentered(ReadOnlySpan<double> q, ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, Span<double> result, Grid2D grid, double dt)
    {
        Advection.SemiLagrangianCentered2D(q, cu, cv, result, grid.Nx, grid.Ny, grid.Dx, grid.Dy, dt, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, 0);
    }

    /// <summary>Semi-Lagrangian self-advection of a MAC velocity (Euler backtrace from every face); the result goes to (uOut, vOut).</summary>
    [Differentiable, DataParallel]
    public static void SelfAdvect(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, StaggeredGrid2D grid, double dt)
    {
        Advection.SemiLagrangianVelocity2D(u, v, uOut, vOut, grid.Nx, grid.Ny, grid.Dx, grid.Dy, dt, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, 0);
    }

    /// <summary>Semi-Lagrangian self-advection of a cell-centred velocity (2D Burgers); both components along one backtrace.</summary>
    [Differentiable, DataParallel]
    public static void SelfAdvectCentered(ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, Span<double> uOut, Span<double> vOut, Grid2D grid, double dt)
    {
        Advection.SemiLagrangianCenteredSelf2D(cu, cv, uOut, vOut, grid.Nx, grid.Ny, grid.Dx, grid.Dy, dt, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, 0);
    }

    /// <summary>
    /// MacCormack advection of a cell-centred scalar <paramref name="q"/> (boundary <paramref name="qBoundary"/>)
    /// by the MAC velocity (u, v) on <paramref name="grid"/>, clamped (see <see cref="Advection.MacCormackScalar2D"/>).
    /// </summary>
    [Differentiable, DataParallel]
    public static void MacCormack(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> result, StaggeredGrid2D grid, Boundary2D qBoundary, double dt)
    {
        Advection.MacCormackScalar2D(q, u, v, result, grid.Nx, grid.Ny, grid.Dx, grid.Dy, dt, qBoundary.XLoCode, qBoundary.XHiCode, qBoundary.YLoCode, qBoundary.YHiCode,
            grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode);
    }
}

/// <summary>
/// Advection in 3D on a <see cref="StaggeredGrid3D"/>: a cell-centred scalar by the MAC velocity (semi-Lagrangian,
/// MacCormack) and the MAC velocity by itself; Euler backtraces.
/// </summary>
public static partial class Advect3D
{
    /// <summary>
    /// Semi-Lagrangian advection of a 3D cell-centred scalar <paramref name="q"/> (boundary <paramref name="qBoundary"/>)
    /// by the MAC velocity (u, v, w) on <paramref name="grid"/>, Euler backtrace.
    /// </summary>
    [Differentiable, DataParallel]
    public static void SemiLagrangian(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> result,
        StaggeredGrid3D grid, Boundary3D qBoundary, double dt)
    {
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        double[] tu = new double[nx * ny * nz];
        double[] tv = new double[nx * ny * nz];
        double[] tw = new double[nx * ny * nz];
        Advection.TraceVelocityMac3D(u, v, w, tu, tv, tw, nx, ny, nz, nx, ny, nz, 0.0, 0.0, 0.0, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, grid.Boundary.ZLoCode, grid.Boundary.ZHiCode);
        Advection.TraceNodes3D(q, tu, tv, tw, result, nx, ny, nz, nx, ny, nz, grid.Dx, grid.Dy, grid.Dz, dt,
            qBoundary.XLoCode, qBoundary.XHiCode, qBoundary.YLoCode, qBoundary.YHiCode, qBoundary.ZLoCode, qBoundary.ZHiCode);
    }

    /// <summary>
    /// Semi-Lagrangian self-advection of a 3D MAC velocity on <paramref name="grid"/> (Euler backtrace from every
    /// face, each component sampled on its own faces); the result goes to (uOut, vOut, wOut).
    /// </summary>
    [Differentiable, DataParallel]
    public static void SelfAdvect(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> uOut, Span<double> vOut, Span<double> wOut,
        StaggeredGrid3D grid, double dt)
    {
        // x-face (i, j, l) sits at cell-index (i - 0.5, j, l), and likewise for the y- and z-faces.
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        double dx = grid.Dx;
        double dy = grid.Dy;
        double dz = grid.Dz;
        int xLo = grid.Boundary.XLoCode;
        int xHi = grid.Boundary.XHiCode;
        int yLo = grid.Boundary.YLoCode;
        int yHi = grid.Boundary.YHiCode;
        int zLo = grid.Boundary.ZLoCode;
        int zHi = grid.Boundary.ZHiCode;
        double[] uu = new double[grid.UCount];
        double[] vu = new double[grid.UCount];
        double[] wu = new double[grid.UCount];
        double[] uv = new double[grid.VCount];
        double[] vv = new double[grid.VCount];
        double[] wv = new double[grid.VCount];
        double[] uw = new double[grid.WCount];
        double[] vw = new double[grid.WCount];
        double[] ww = new double[grid.WCount];
        Advection.TraceVelocityMac3D(u, v, w, uu, vu, wu, nx, ny, nz, nx + 1, ny, nz, -0.5, 0.0, 0.0, xLo, xHi, yLo, yHi, zLo, zHi);
        Advection.TraceVelocityMac3D(u, v, w, uv, vv, wv, nx, ny, nz, nx, ny + 1, nz, 0.0, -0.5, 0.0, xLo, xHi, yLo, yHi, zLo, zHi);
        Advection.TraceVelocityMac3D(u, v, w, uw, vw, ww, nx, ny, nz, nx, ny, nz + 1, 0.0, 0.0, -0.5, xLo, xHi, yLo, yHi, zLo, zHi);
        Advection.TraceNodes3D(u, uu, vu, wu, uOut, nx + 1, ny, nz, nx, ny, nz, dx, dy, dz, dt, xLo, xHi, yLo, yHi, zLo, zHi);
        Advection.TraceNodes3D(v, uv, vv, wv, vOut, nx, ny + 1, nz, nx, ny, nz, dx, dy, dz, dt, xLo, xHi, yLo, yHi, zLo, zHi);
        Advection.TraceNodes3D(w, uw, vw, ww, wOut, nx, ny, nz + 1, nx, ny, nz, dx, dy, dz, dt, xLo, xHi, yLo, yHi, zLo, zHi);
    }

    /// <summary>
    /// MacCormack advection of a 3D cell-centred scalar (boundary <paramref name="qBoundary"/>) by the MAC velocity on
    /// <paramref name="grid"/>: forward and backward semi-Lagrangian steps, the corrected value
    /// <c>fwd + (q - bwd) / 2</c> clamped to the range of the eight values the forward step interpolated (as
    /// <see cref="Advection.MacCormackScalar2D"/>).
    /// </summary>
    [Differentiable, DataParallel]
    public static void MacCormack(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> result,
        StaggeredGrid3D grid, Boundary3D qBoundary, double dt)
    {
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        int qxLo = qBoundary.XLoCode;
        int qxHi = qBoundary.XHiCode;
        int qyLo = qBoundary.YLoCode;
        int qyHi = qBoundary.YHiCode;
        int qzLo = qBoundary.ZLoCode;
        int qzHi = qBoundary.ZHiCode;
        double[] fwd = new double[nx * ny * nz];
        double[] bwd = new double[nx * ny * nz];
        SemiLagrangian(q, u, v, w, fwd, grid, qBoundary, dt);
        SemiLagrangian(fwd, u, v, w, bwd, grid, qBoundary, -dt);
        double cx = dt / grid.Dx;
        double cy = dt / grid.Dy;
        double cz = dt / grid.Dz;
        // Rows (l, j) in one loop: the generator proves two-level nests independent (out[r * w + i]), not three-level ones.
        int rows = nz * ny;
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < nx; i++)
            {
                int j = r % ny;
                int l = r / ny;
                int k = r * nx + i;
                double ui = 0.5 * (u[r * (nx + 1) + i] + u[r * (nx + 1) + i + 1]);
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
