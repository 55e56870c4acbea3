namespace DiffGen.Physics;

/// <summary>
/// Semi-Lagrangian and MacCormack advection. Positions are traced back in index coordinates of the
/// cell centres; the MAC velocity is sampled where it is needed (x-faces sit at cell-index x - 0.5,
/// y-faces at y - 0.5). <c>rk2 = 0</c> is an Euler backtrace, <c>rk2 = 1</c> a midpoint (RK2) backtrace.
/// </summary>
public static partial class Advection
{
    /// <summary>
    /// 1D semi-Lagrangian advection of <paramref name="q"/> by the cell-centred velocity
    /// <paramref name="vel"/>: <c>result[i] = q(x_i - dt * vel)</c> with linear interpolation.
    /// </summary>
    [Differentiable]
    public static void SemiLagrangian1D(ReadOnlySpan<double> q, ReadOnlySpan<double> vel, Span<double> result, double dt, double dx, int lo, int hi, int rk2)
    {
        int n = q.Length;
        for (int i = 0; i < n; i++)
        {
            // Single-assignment locals: nothing is overwritten, so the pullback needs no tape.
            double c = dt / dx;
            double vm = 0;
            if (rk2 != 0) { vm = Interpolation.Sample1D(vel, n, i - 0.5 * c * vel[i], lo, hi); }
            double back = i - c * (rk2 != 0 ? vm : vel[i]);
            result[i] = Interpolation.Sample1D(q, n, back, lo, hi);
        }
    }

    /// <summary>
    /// 1D semi-Lagrangian self-advection (Burgers) with an Euler backtrace: <c>result[i] = vel(x_i - dt * vel_i)</c>.
    /// A separate kernel rather than <see cref="SemiLagrangian1D"/> with q = vel, because span arguments must
    /// not alias; without the RK2 branch every local is assigned once, so the pullback recomputes the
    /// departure points instead of taping them.
    /// </summary>
    [Differentiable]
    public static void SemiLagrangianSelf1D(ReadOnlySpan<double> vel, Span<double> result, double dt, double dx, int lo, int hi)
    {
        int n = vel.Length;
        double c = dt / dx;
        for (int i = 0; i < n; i++)
        {
            double back = i - c * vel[i];
            result[i] = Interpolation.Sample1D(vel, n, back, lo, hi);
        }
    }

    /// <summary>
    /// Semi-Lagrangian self-advection of a cell-centred 2D velocity (cu, cv) into (uOut, vOut) (2D Burgers).
    /// </summary>
    [Differentiable]
    public static void SemiLagrangianCenteredSelf2D(ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, Span<double> uOut, Span<double> vOut, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi, int rk2)
    {
        double cx = dt / dx;
        double cy = dt / dy;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                double bx = i - cx * cu[k];
                double by = j - cy * cv[k];
                if (rk2 != 0)
                {
                    double um = Interpolation.Sample2D(cu, nx, ny, nx, ny, i - 0.5 * cx * cu[k], j - 0.5 * cy * cv[k], xLo, xHi, yLo, yHi);
                    double vm = Interpolation.Sample2D(cv, nx, ny, nx, ny, i - 0.5 * cx * cu[k], j - 0.5 * cy * cv[k], xLo, xHi, yLo, yHi);
                    bx = i - cx * um;
                    by = j - cy * vm;
                }
                uOut[k] = Interpolation.Sample2D(cu, nx, ny, nx, ny, bx, by, xLo, xHi, yLo, yHi);
                vOut[k] = Interpolation.Sample2D(cv, nx, ny, nx, ny, bx, by, xLo, xHi, yLo, yHi);
            }
        }
    }

    /// <summary>
    /// Semi-Lagrangian advection of a cell-centred scalar <paramref name="q"/> (nx x ny, codes q*) by a
    /// MAC velocity (u, v; codes v*).
    /// </summary>
    [Differentiable]
    public static void SemiLagrangianScalar2D(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> result, int nx, int ny, double dx, double dy, double dt,
        int qxLo, int qxHi, int qyLo, int qyHi, int vxLo, int vxHi, int vyLo, int vyHi, int rk2)
    {
        double cx = dt / dx;
        double cy = dt / dy;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                double ui = 0.5 * (u[j * (nx + 1) + i] + u[j * (nx + 1) + i + 1]);
                double vi = 0.5 * (v[j * nx + i] + v[(j + 1) * nx + i]);
                double bx = i - cx * ui;
                double by = j - cy * vi;
                if (rk2 != 0)
                {
                    double mx = i - 0.5 * cx * ui;
                    double my = j - 0.5 * cy * vi;
                    double um = Interpolation.Sample2D(u, nx + 1, ny, nx, ny, mx + 0.5, my, vxLo, vxHi, vyLo, vyHi);
                    double vm = Interpolation.Sample2D(v, nx, ny + 1, nx, ny, mx, my + 0.5, vxLo, vxHi, vyLo, vyHi);
                    bx = i - cx * um;
                    by = j - cy * vm;
                }
                result[j * nx + i] = Interpolation.Sample2D(q, nx, ny, nx, ny, bx, by, qxLo, qxHi, qyLo, qyHi);
            }
        }
    }

    /// <summary>
    /// MacCormack advection of a cell-centred scalar by a MAC velocity: a forward and a backward
    /// semi-Lagrangian step, the error-corrected value <c>fwd + (q - bwd) / 2</c>, clamped to the range
    /// of the four values the forward step interpolated (which keeps it free of new extrema).
    /// </summary>
    [Differentiable]
    public static void MacCormackScalar2D(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> result, int nx, int ny, double dx, double dy, double dt,
        int qxLo, int qxHi, int qyLo, int qyHi, int vxLo, int vxHi, int vyLo, int vyHi)
    {
        double[] fwd = new double[nx * ny];
        double[] bwd = new double[nx * ny];
        SemiLagrangianScalar2D(q, u, v, fwd, nx, ny, dx, dy, dt, qxLo, qxHi, qyLo, qyHi, vxLo, vxHi, vyLo, vyHi, 0);
        SemiLagrangianScalar2D(fwd, u, v, bwd, nx, ny, dx, dy, -dt, qxLo, qxHi, qyLo, qyHi, vxLo, vxHi, vyLo, vyHi, 0);
        double cx = dt / dx;
        double cy = dt / dy;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                double ui = 0.5 * (u[j * (nx + 1) + i] + u[j * (nx + 1) + i + 1]);
                double vi = 0.5 * (v[j * nx + i] + v[(j + 1) * nx + i]);
                double bx = i - cx * ui;
                double by = j - cy * vi;
                double lo = Interpolation.CornerExtreme2D(q, nx, ny, nx, ny, bx, by, qxLo, qxHi, qyLo, qyHi, false);
                double hi = Interpolation.CornerExtreme2D(q, nx, ny, nx, ny, bx, by, qxLo, qxHi, qyLo, qyHi, true);
                double corrected = fwd[k] + 0.5 * (q[k] - bwd[k]);
                result[k] = Math.Clamp(corrected, lo, hi);
            }
        }
    }

    /// <summary>
    /// Semi-Lagrangian advection of a cell-centred scalar by a cell-centred velocity (cu, cv), all nx x ny
    /// with the same codes (used by 2D Burgers for self-advection).
    /// </summary>
    [Differentiable]
    public static void SemiLagrangianCentered2D(ReadOnlySpan<double> q, ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, Span<double> result, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi, int rk2)
    {
        double cx = dt / dx;
        double cy = dt / dy;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                double bx = i - cx * cu[k];
                double by = j - cy * cv[k];
                if (rk2 != 0)
                {
                    double um = Interpolation.Sample2D(cu, nx, ny, nx, ny, i - 0.5 * cx * cu[k], j - 0.5 * cy * cv[k], xLo, xHi, yLo, yHi);
                    double vm = Interpolation.Sample2D(cv, nx, ny, nx, ny, i - 0.5 * cx * cu[k], j - 0.5 * cy * cv[k], xLo, xHi, yLo, yHi);
                    bx = i - cx * um;
                    by = j - cy * vm;
                }
                result[k] = Interpolation.Sample2D(q, nx, ny, nx, ny, bx, by, xLo, xHi, yLo, yHi);
            }
        }
    }

    /// <summary>
    /// Semi-Lagrangian self-advection of a MAC velocity (u: (nx+1) x ny, v: nx x (ny+1)) with
    /// velocity codes per side; the result is written to (uOut, vOut).
    /// </summary>
    [Differentiable]
    public static void SemiLagrangianVelocity2D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi, int rk2)
    {
        double cx = dt / dx;
        double cy = dt / dy;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i <= nx; i++)
            {
                // x-face (i, j) sits at cell-index (i - 0.5, j).
                double px = i - 0.5;
                double py = j;
                double uu = u[j * (nx + 1) + i];
                double vv = Interpolation.Sample2D(v, nx, ny + 1, nx, ny, px, py + 0.5, xLo, xHi, yLo, yHi);
                double bx = px - cx * uu;
                double by = py - cy * vv;
                if (rk2 != 0)
                {
                    double mx = px - 0.5 * cx * uu;
                    double my = py - 0.5 * cy * vv;
                    double um = Interpolation.Sample2D(u, nx + 1, ny, nx, ny, mx + 0.5, my, xLo, xHi, yLo, yHi);
                    double vm = Interpolation.Sample2D(v, nx, ny + 1, nx, ny, mx, my + 0.5, xLo, xHi, yLo, yHi);
                    bx = px - cx * um;
                    by = py - cy * vm;
                }
                uOut[j * (nx + 1) + i] = Interpolation.Sample2D(u, nx + 1, ny, nx, ny, bx + 0.5, by, xLo, xHi, yLo, yHi);
            }
        }
        for (int j = 0; j <= ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                // y-face (i, j) sits at cell-index (i, j - 0.5).
                double px = i;
                double py = j - 0.5;
                double vv = v[j * nx + i];
                double uu = Interpolation.Sample2D(u, nx + 1, ny, nx, ny, px + 0.5, py, xLo, xHi, yLo, yHi);
                double bx = px - cx * uu;
                double by = py - cy * vv;
                if (rk2 != 0)
                {
                    double mx = px - 0.5 * cx * uu;
                    double my = py - 0.5 * cy * vv;
                    double um = Interpolation.Sample2D(u, nx + 1, ny, nx, ny, mx + 0.5, my, xLo, xHi, yLo, yHi);
                    double vm = Interpolation.Sample2D(v, nx, ny + 1, nx, ny, mx, my + 0.5, xLo, xHi, yLo, yHi);
                    bx = px - cx * um;
                    by = py - cy * vm;
                }
                vOut[j * nx + i] = Interpolation.Sample2D(v, nx, ny + 1, nx, ny, bx, by + 0.5, xLo, xHi, yLo, yHi);
            }
        }
    }
}
