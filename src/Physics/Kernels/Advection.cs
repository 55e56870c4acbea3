namespace DiffGen.Physics;

/// <summary>
/// Semi-Lagrangian and MacCormack advection. Positions are traced back in index coordinates of the
/// cell centres; the MAC velocity is sampled where it is needed (x-faces sit at cell-index x - 0.5,
/// y-faces at y - 0.5). <c>rk2 = 0</c> is an Euler backtrace, <c>rk2 = 1</c> a midpoint (RK2) backtrace.
/// </summary>
/// <remarks>
/// Each scheme is an Euler and an RK2 kernel behind a dispatching one, and every local is assigned
/// exactly once: the generated pullbacks then recompute the departure points instead of taping them.
/// </remarks>
public static partial class Advection
{
    /// <summary>
    /// 1D semi-Lagrangian advection of <paramref name="q"/> by the cell-centred velocity
    /// <paramref name="vel"/>: <c>result[i] = q(x_i - dt * vel)</c> with linear interpolation.
    /// </summary>
    [Differentiable]
    public static void SemiLagrangian1D(ReadOnlySpan<double> q, ReadOnlySpan<double> vel, Span<double> result, double dt, double dx, int lo, int hi, int rk2)
    {
        if (rk2 != 0) { SemiLagrangian1DRk2(q, vel, result, dt, dx, lo, hi); }
        else { SemiLagrangian1DEuler(q, vel, result, dt, dx, lo, hi); }
    }

    /// <summary><see cref="SemiLagrangian1D"/> with an Euler backtrace.</summary>
    [Differentiable]
    public static void SemiLagrangian1DEuler(ReadOnlySpan<double> q, ReadOnlySpan<double> vel, Span<double> result, double dt, double dx, int lo, int hi)
    {
        int n = q.Length;
        double c = dt / dx;
        for (int i = 0; i < n; i++)
        {
            double back = i - c * vel[i];
            result[i] = Interpolation.Sample1D(q, n, back, lo, hi);
        }
    }

    /// <summary><see cref="SemiLagrangian1D"/> with a midpoint (RK2) backtrace.</summary>
    [Differentiable]
    public static void SemiLagrangian1DRk2(ReadOnlySpan<double> q, ReadOnlySpan<double> vel, Span<double> result, double dt, double dx, int lo, int hi)
    {
        int n = q.Length;
        double c = dt / dx;
        for (int i = 0; i < n; i++)
        {
            double vm = Interpolation.Sample1D(vel, n, i - 0.5 * c * vel[i], lo, hi);
            double back = i - c * vm;
            result[i] = Interpolation.Sample1D(q, n, back, lo, hi);
        }
    }

    /// <summary>
    /// 1D semi-Lagrangian self-advection (Burgers) with an Euler backtrace: <c>result[i] = vel(x_i - dt * vel_i)</c>.
    /// A separate kernel rather than <see cref="SemiLagrangian1D"/> with q = vel, because span arguments must
    /// not alias.
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
    [Differentiable, DataParallel]
    public static void SemiLagrangianCenteredSelf2D(ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, Span<double> uOut, Span<double> vOut, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi, int rk2)
    {
        if (rk2 != 0)
        {
            double[] mu = new double[nx * ny];
            double[] mv = new double[nx * ny];
            MidpointVelocityCentered2D(cu, cv, mu, mv, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi);
            TraceCentered2D(cu, mu, mv, uOut, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi);
            TraceCentered2D(cv, mu, mv, vOut, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi);
        }
        else
        {
            TraceCentered2DPair(cu, cv, cu, cv, uOut, vOut, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi);
        }
    }

    /// <summary>
    /// Semi-Lagrangian advection of a cell-centred scalar by a cell-centred velocity (cu, cv), all nx x ny
    /// with the same codes.
    /// </summary>
    [Differentiable, DataParallel]
    public static void SemiLagrangianCentered2D(ReadOnlySpan<double> q, ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, Span<double> result, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi, int rk2)
    {
        if (rk2 != 0)
        {
            double[] mu = new double[nx * ny];
            double[] mv = new double[nx * ny];
            MidpointVelocityCentered2D(cu, cv, mu, mv, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi);
            TraceCentered2D(q, mu, mv, result, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi);
        }
        else
        {
            TraceCentered2D(q, cu, cv, result, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi);
        }
    }

    /// <summary>
    /// <c>result[k] = q(x_k - dt * (tu[k], tv[k]))</c> on a cell-centred grid: one backtrace with a given
    /// per-cell trace velocity (the node velocity for Euler, the midpoint velocity for RK2).
    /// </summary>
    [Differentiable, DataParallel]
    public static void TraceCentered2D(ReadOnlySpan<double> q, ReadOnlySpan<double> tu, ReadOnlySpan<double> tv, Span<double> result, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi)
    {
        double cx = dt / dx;
        double cy = dt / dy;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                result[k] = Interpolation.Sample2D(q, nx, ny, nx, ny, i - cx * tu[k], j - cy * tv[k], xLo, xHi, yLo, yHi);
            }
        }
    }

    /// <summary>
    /// <see cref="TraceCentered2D"/> of two fields along the same backtrace: <c>ra[k] = qa(x_k - dt (tu[k], tv[k]))</c>,
    /// <c>rb[k] = qb(…)</c>. The bilinear weights are computed once for both fields, which in the pullback
    /// also means one reverse of the weights (the bulk of a sample's adjoint) for two samples.
    /// </summary>
    [Differentiable, DataParallel]
    public static void TraceCentered2DPair(ReadOnlySpan<double> qa, ReadOnlySpan<double> qb, ReadOnlySpan<double> tu, ReadOnlySpan<double> tv, Span<double> ra, Span<double> rb,
        int nx, int ny, double dx, double dy, double dt, int xLo, int xHi, int yLo, int yHi)
    {
        double cx = dt / dx;
        double cy = dt / dy;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                // Interpolation.Sample2D's weights and indices, spelled out once for both fields. Every factor
                // is a local of its own so that the pullback, which recomputes them, reads each once (the JIT
                // does not merge the repeated boundary tests, nor reloads across the adjoint stores).
                double gx = i - cx * tu[k];
                double gy = j - cy * tv[k];
                double flx = Math.Floor(gx);
                double fly = Math.Floor(gy);
                int i0 = (int)flx;
                int j0 = (int)fly;
                int ki0 = Bc.Resolve(i0, nx, nx, xLo, xHi);
                int ki1 = Bc.Resolve(i0 + 1, nx, nx, xLo, xHi);
                int kj0 = Bc.Resolve(j0, ny, ny, yLo, yHi) * nx;
                int kj1 = Bc.Resolve(j0 + 1, ny, ny, yLo, yHi) * nx;
                double kx0 = Bc.Keep(i0, nx, xLo, xHi);
                double kx1 = Bc.Keep(i0 + 1, nx, xLo, xHi);
                double ky0 = Bc.Keep(j0, ny, yLo, yHi);
                double ky1 = Bc.Keep(j0 + 1, ny, yLo, yHi);
                double tx = gx - flx;
                double ty = gy - fly;
                double wx0 = (1 - tx) * kx0;
                double wx1 = tx * kx1;
                double wy0 = (1 - ty) * ky0;
                double wy1 = ty * ky1;
                double a00 = qa[kj0 + ki0];
                double a01 = qa[kj0 + ki1];
                double a10 = qa[kj1 + ki0];
                double a11 = qa[kj1 + ki1];
                double b00 = qb[kj0 + ki0];
                double b01 = qb[kj0 + ki1];
                double b10 = qb[kj1 + ki0];
                double b11 = qb[kj1 + ki1];
                ra[k] = wy0 * (wx0 * a00 + wx1 * a01) + wy1 * (wx0 * a10 + wx1 * a11);
                rb[k] = wy0 * (wx0 * b00 + wx1 * b01) + wy1 * (wx0 * b10 + wx1 * b11);
            }
        }
    }

    /// <summary>The RK2 trace velocity of a cell-centred velocity: (cu, cv) sampled at <c>x - dt/2 (cu, cv)</c>.</summary>
    [Differentiable, DataParallel]
    public static void MidpointVelocityCentered2D(ReadOnlySpan<double> cu, ReadOnlySpan<double> cv, Span<double> mu, Span<double> mv, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi)
    {
        double cx = 0.5 * dt / dx;
        double cy = 0.5 * dt / dy;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                double mx = i - cx * cu[k];
                double my = j - cy * cv[k];
                mu[k] = Interpolation.Sample2D(cu, nx, ny, nx, ny, mx, my, xLo, xHi, yLo, yHi);
                mv[k] = Interpolation.Sample2D(cv, nx, ny, nx, ny, mx, my, xLo, xHi, yLo, yHi);
            }
        }
    }

    /// <summary>
    /// The velocity of a MAC field (u, v; codes per side) at the nodes of a target grid with w x h nodes whose
    /// node (i, j) sits at cell-index (i + ox, j + oy), optionally at the RK2 midpoint of the backtrace:
    /// <c>(tu, tv) = vel(x)</c> (Euler) or <c>vel(x - dt/2 vel(x))</c> (RK2).
    /// </summary>
    [Differentiable, DataParallel]
    public static void TraceVelocityMac(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> tu, Span<double> tv, int nx, int ny, int w, int h, double ox, double oy,
        double dx, double dy, double dt, int xLo, int xHi, int yLo, int yHi, int rk2)
    {
        double cx = 0.5 * dt / dx;
        double cy = 0.5 * dt / dy;
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int k = j * w + i;
                double px = i + ox;
                double py = j + oy;
                double uu = Interpolation.Sample2D(u, nx + 1, ny, nx, ny, px + 0.5, py, xLo, xHi, yLo, yHi);
                double vv = Interpolation.Sample2D(v, nx, ny + 1, nx, ny, px, py + 0.5, xLo, xHi, yLo, yHi);
                tu[k] = uu;
                tv[k] = vv;
                if (rk2 != 0)
                {
                    tu[k] = Interpolation.Sample2D(u, nx + 1, ny, nx, ny, px - cx * uu + 0.5, py - cy * vv, xLo, xHi, yLo, yHi);
                    tv[k] = Interpolation.Sample2D(v, nx, ny + 1, nx, ny, px - cx * uu, py - cy * vv + 0.5, xLo, xHi, yLo, yHi);
                }
            }
        }
    }

    /// <summary>
    /// One backtrace on a node grid (w x h nodes at cell-index (i + ox, j + oy)) of a field f stored on a grid
    /// with fw x fh nodes at cell-index (i + fox, j + foy) and periods fpx, fpy:
    /// <c>result[k] = f(x_k - dt * (tu[k], tv[k]))</c>.
    /// </summary>
    [Differentiable, DataParallel]
    public static void TraceNodes2D(ReadOnlySpan<double> f, ReadOnlySpan<double> tu, ReadOnlySpan<double> tv, Span<double> result, int w, int h, double ox, double oy,
        int fw, int fh, int fpx, int fpy, double fox, double foy, double dx, double dy, double dt, int xLo, int xHi, int yLo, int yHi)
    {
        double cx = dt / dx;
        double cy = dt / dy;
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int k = j * w + i;
                double bx = i + ox - cx * tu[k];
                double by = j + oy - cy * tv[k];
                result[k] = Interpolation.Sample2D(f, fw, fh, fpx, fpy, bx - fox, by - foy, xLo, xHi, yLo, yHi);
            }
        }
    }

    /// <summary>
    /// Semi-Lagrangian advection of a cell-centred scalar <paramref name="q"/> (nx x ny, codes q*) by a
    /// MAC velocity (u, v; codes v*).
    /// </summary>
    [Differentiable, DataParallel]
    public static void SemiLagrangianScalar2D(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> result, int nx, int ny, double dx, double dy, double dt,
        int qxLo, int qxHi, int qyLo, int qyHi, int vxLo, int vxHi, int vyLo, int vyHi, int rk2)
    {
        double[] tu = new double[nx * ny];
        double[] tv = new double[nx * ny];
        TraceVelocityMac(u, v, tu, tv, nx, ny, nx, ny, 0.0, 0.0, dx, dy, dt, vxLo, vxHi, vyLo, vyHi, rk2);
        TraceNodes2D(q, tu, tv, result, nx, ny, 0.0, 0.0, nx, ny, nx, ny, 0.0, 0.0, dx, dy, dt, qxLo, qxHi, qyLo, qyHi);
    }

    /// <summary>
    /// Semi-Lagrangian self-advection of a MAC velocity (u: (nx+1) x ny, v: nx x (ny+1)) with
    /// velocity codes per side; the result is written to (uOut, vOut).
    /// </summary>
    [Differentiable, DataParallel]
    public static void SemiLagrangianVelocity2D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi, int rk2)
    {
        // x-face (i, j) sits at cell-index (i - 0.5, j); y-face (i, j) at (i, j - 0.5).
        double[] tuu = new double[(nx + 1) * ny];
        double[] tvu = new double[(nx + 1) * ny];
        double[] tuv = new double[nx * (ny + 1)];
        double[] tvv = new double[nx * (ny + 1)];
        TraceVelocityMac(u, v, tuu, tvu, nx, ny, nx + 1, ny, -0.5, 0.0, dx, dy, dt, xLo, xHi, yLo, yHi, rk2);
        TraceVelocityMac(u, v, tuv, tvv, nx, ny, nx, ny + 1, 0.0, -0.5, dx, dy, dt, xLo, xHi, yLo, yHi, rk2);
        TraceNodes2D(u, tuu, tvu, uOut, nx + 1, ny, -0.5, 0.0, nx + 1, ny, nx, ny, -0.5, 0.0, dx, dy, dt, xLo, xHi, yLo, yHi);
        TraceNodes2D(v, tuv, tvv, vOut, nx, ny + 1, 0.0, -0.5, nx, ny + 1, nx, ny, 0.0, -0.5, dx, dy, dt, xLo, xHi, yLo, yHi);
    }

    /// <summary>
    /// MacCormack advection of a cell-centred scalar by a MAC velocity: a forward and a backward
    /// semi-Lagrangian step, the error-corrected value <c>fwd + (q - bwd) / 2</c>, clamped to the range
    /// of the four values the forward step interpolated (which keeps it free of new extrema).
    /// </summary>
    [Differentiable, DataParallel]
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
}
