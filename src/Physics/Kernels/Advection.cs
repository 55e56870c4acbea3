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
        // Two loops, one per scheme, the other with no rows: branch-free bodies whose locals are assigned once (a local
        // assigned in a branch is taped, and a loop that tapes has no ILGPU kernel), and no work for the scheme not used.
        int eulerRows = rk2 != 0 ? 0 : h;
        int rk2Rows = rk2 != 0 ? h : 0;
        for (int j = 0; j < eulerRows; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int k = j * w + i;
                double px = i + ox;
                double py = j + oy;
                // Interpolation.Sample2D spelled out (a loop that calls a method has no ILGPU kernel), with the same
                // arithmetic in the same order: u at (px + 0.5, py) (prefix a), v at (px, py + 0.5) (prefix b).
                double agx = px + 0.5;
                double agy = py;
                double aflx = Math.Floor(agx);
                double afly = Math.Floor(agy);
                int ai0 = (int)aflx;
                int aj0 = (int)afly;
                int aki0 = Bc.Resolve(ai0, nx + 1, nx, xLo, xHi);
                int aki1 = Bc.Resolve(ai0 + 1, nx + 1, nx, xLo, xHi);
                int akj0 = Bc.Resolve(aj0, ny, ny, yLo, yHi) * (nx + 1);
                int akj1 = Bc.Resolve(aj0 + 1, ny, ny, yLo, yHi) * (nx + 1);
                double akx0 = Bc.Keep(ai0, nx + 1, xLo, xHi);
                double akx1 = Bc.Keep(ai0 + 1, nx + 1, xLo, xHi);
                double aky0 = Bc.Keep(aj0, ny, yLo, yHi);
                double aky1 = Bc.Keep(aj0 + 1, ny, yLo, yHi);
                double atx = agx - aflx;
                double aty = agy - afly;
                double awx0 = (1 - atx) * akx0;
                double awx1 = atx * akx1;
                double awy0 = (1 - aty) * aky0;
                double awy1 = aty * aky1;
                double uu = awy0 * (awx0 * u[akj0 + aki0] + awx1 * u[akj0 + aki1]) + awy1 * (awx0 * u[akj1 + aki0] + awx1 * u[akj1 + aki1]);
                double bgx = px;
                double bgy = py + 0.5;
                double bflx = Math.Floor(bgx);
                double bfly = Math.Floor(bgy);
                int bi0 = (int)bflx;
                int bj0 = (int)bfly;
                int bki0 = Bc.Resolve(bi0, nx, nx, xLo, xHi);
                int bki1 = Bc.Resolve(bi0 + 1, nx, nx, xLo, xHi);
                int bkj0 = Bc.Resolve(bj0, ny + 1, ny, yLo, yHi) * nx;
                int bkj1 = Bc.Resolve(bj0 + 1, ny + 1, ny, yLo, yHi) * nx;
                double bkx0 = Bc.Keep(bi0, nx, xLo, xHi);
                double bkx1 = Bc.Keep(bi0 + 1, nx, xLo, xHi);
                double bky0 = Bc.Keep(bj0, ny + 1, yLo, yHi);
                double bky1 = Bc.Keep(bj0 + 1, ny + 1, yLo, yHi);
                double btx = bgx - bflx;
                double bty = bgy - bfly;
                double bwx0 = (1 - btx) * bkx0;
                double bwx1 = btx * bkx1;
                double bwy0 = (1 - bty) * bky0;
                double bwy1 = bty * bky1;
                double vv = bwy0 * (bwx0 * v[bkj0 + bki0] + bwx1 * v[bkj0 + bki1]) + bwy1 * (bwx0 * v[bkj1 + bki0] + bwx1 * v[bkj1 + bki1]);
                tu[k] = uu;
                tv[k] = vv;
            }
        }
        for (int j = 0; j < rk2Rows; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int k = j * w + i;
                double px = i + ox;
                double py = j + oy;
                // As above, then the midpoint x - dt/2 (uu, vv): u there (prefix c), v there (prefix d).
                double agx = px + 0.5;
                double agy = py;
                double aflx = Math.Floor(agx);
                double afly = Math.Floor(agy);
                int ai0 = (int)aflx;
                int aj0 = (int)afly;
                int aki0 = Bc.Resolve(ai0, nx + 1, nx, xLo, xHi);
                int aki1 = Bc.Resolve(ai0 + 1, nx + 1, nx, xLo, xHi);
                int akj0 = Bc.Resolve(aj0, ny, ny, yLo, yHi) * (nx + 1);
                int akj1 = Bc.Resolve(aj0 + 1, ny, ny, yLo, yHi) * (nx + 1);
                double akx0 = Bc.Keep(ai0, nx + 1, xLo, xHi);
                double akx1 = Bc.Keep(ai0 + 1, nx + 1, xLo, xHi);
                double aky0 = Bc.Keep(aj0, ny, yLo, yHi);
                double aky1 = Bc.Keep(aj0 + 1, ny, yLo, yHi);
                double atx = agx - aflx;
                double aty = agy - afly;
                double awx0 = (1 - atx) * akx0;
                double awx1 = atx * akx1;
                double awy0 = (1 - aty) * aky0;
                double awy1 = aty * aky1;
                double uu = awy0 * (awx0 * u[akj0 + aki0] + awx1 * u[akj0 + aki1]) + awy1 * (awx0 * u[akj1 + aki0] + awx1 * u[akj1 + aki1]);
                double bgx = px;
                double bgy = py + 0.5;
                double bflx = Math.Floor(bgx);
                double bfly = Math.Floor(bgy);
                int bi0 = (int)bflx;
                int bj0 = (int)bfly;
                int bki0 = Bc.Resolve(bi0, nx, nx, xLo, xHi);
                int bki1 = Bc.Resolve(bi0 + 1, nx, nx, xLo, xHi);
                int bkj0 = Bc.Resolve(bj0, ny + 1, ny, yLo, yHi) * nx;
                int bkj1 = Bc.Resolve(bj0 + 1, ny + 1, ny, yLo, yHi) * nx;
                double bkx0 = Bc.Keep(bi0, nx, xLo, xHi);
                double bkx1 = Bc.Keep(bi0 + 1, nx, xLo, xHi);
                double bky0 = Bc.Keep(bj0, ny + 1, yLo, yHi);
                double bky1 = Bc.Keep(bj0 + 1, ny + 1, yLo, yHi);
                double btx = bgx - bflx;
                double bty = bgy - bfly;
                double bwx0 = (1 - btx) * bkx0;
                double bwx1 = btx * bkx1;
                double bwy0 = (1 - bty) * bky0;
                double bwy1 = bty * bky1;
                double vv = bwy0 * (bwx0 * v[bkj0 + bki0] + bwx1 * v[bkj0 + bki1]) + bwy1 * (bwx0 * v[bkj1 + bki0] + bwx1 * v[bkj1 + bki1]);
                double cgx = px - cx * uu + 0.5;
                double cgy = py - cy * vv;
                double cflx = Math.Floor(cgx);
                double cfly = Math.Floor(cgy);
                int ci0 = (int)cflx;
                int cj0 = (int)cfly;
                int cki0 = Bc.Resolve(ci0, nx + 1, nx, xLo, xHi);
                int cki1 = Bc.Resolve(ci0 + 1, nx + 1, nx, xLo, xHi);
                int ckj0 = Bc.Resolve(cj0, ny, ny, yLo, yHi) * (nx + 1);
                int ckj1 = Bc.Resolve(cj0 + 1, ny, ny, yLo, yHi) * (nx + 1);
                double ckx0 = Bc.Keep(ci0, nx + 1, xLo, xHi);
                double ckx1 = Bc.Keep(ci0 + 1, nx + 1, xLo, xHi);
                double cky0 = Bc.Keep(cj0, ny, yLo, yHi);
                double cky1 = Bc.Keep(cj0 + 1, ny, yLo, yHi);
                double ctx = cgx - cflx;
                double cty = cgy - cfly;
                double cwx0 = (1 - ctx) * ckx0;
                double cwx1 = ctx * ckx1;
                double cwy0 = (1 - cty) * cky0;
                double cwy1 = cty * cky1;
                tu[k] = cwy0 * (cwx0 * u[ckj0 + cki0] + cwx1 * u[ckj0 + cki1]) + cwy1 * (cwx0 * u[ckj1 + cki0] + cwx1 * u[ckj1 + cki1]);
                double dgx = px - cx * uu;
                double dgy = py - cy * vv + 0.5;
                double dflx = Math.Floor(dgx);
                double dfly = Math.Floor(dgy);
                int di0 = (int)dflx;
                int dj0 = (int)dfly;
                int dki0 = Bc.Resolve(di0, nx, nx, xLo, xHi);
                int dki1 = Bc.Resolve(di0 + 1, nx, nx, xLo, xHi);
                int dkj0 = Bc.Resolve(dj0, ny + 1, ny, yLo, yHi) * nx;
                int dkj1 = Bc.Resolve(dj0 + 1, ny + 1, ny, yLo, yHi) * nx;
                double dkx0 = Bc.Keep(di0, nx, xLo, xHi);
                double dkx1 = Bc.Keep(di0 + 1, nx, xLo, xHi);
                double dky0 = Bc.Keep(dj0, ny + 1, yLo, yHi);
                double dky1 = Bc.Keep(dj0 + 1, ny + 1, yLo, yHi);
                double dtx = dgx - dflx;
                double dty = dgy - dfly;
                double dwx0 = (1 - dtx) * dkx0;
                double dwx1 = dtx * dkx1;
                double dwy0 = (1 - dty) * dky0;
                double dwy1 = dty * dky1;
                tv[k] = dwy0 * (dwx0 * v[dkj0 + dki0] + dwx1 * v[dkj0 + dki1]) + dwy1 * (dwx0 * v[dkj1 + dki0] + dwx1 * v[dkj1 + dki1]);
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
                // Interpolation.Sample2D(f, fw, fh, fpx, fpy, bx - fox, by - foy, …) spelled out, same arithmetic in the same order.
                double gx = bx - fox;
                double gy = by - foy;
                double flx = Math.Floor(gx);
                double fly = Math.Floor(gy);
                int i0 = (int)flx;
                int j0 = (int)fly;
                int ki0 = Bc.Resolve(i0, fw, fpx, xLo, xHi);
                int ki1 = Bc.Resolve(i0 + 1, fw, fpx, xLo, xHi);
                int kj0 = Bc.Resolve(j0, fh, fpy, yLo, yHi) * fw;
                int kj1 = Bc.Resolve(j0 + 1, fh, fpy, yLo, yHi) * fw;
                double kx0 = Bc.Keep(i0, fw, xLo, xHi);
                double kx1 = Bc.Keep(i0 + 1, fw, xLo, xHi);
                double ky0 = Bc.Keep(j0, fh, yLo, yHi);
                double ky1 = Bc.Keep(j0 + 1, fh, yLo, yHi);
                double tx = gx - flx;
                double ty = gy - fly;
                double wx0 = (1 - tx) * kx0;
                double wx1 = tx * kx1;
                double wy0 = (1 - ty) * ky0;
                double wy1 = ty * ky1;
                result[k] = wy0 * (wx0 * f[kj0 + ki0] + wx1 * f[kj0 + ki1]) + wy1 * (wx0 * f[kj1 + ki0] + wx1 * f[kj1 + ki1]);
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
    /// <remarks>
    /// A composite of kernel-form steps (so it has an ILGPU form): the backward step is
    /// <see cref="SemiLagrangianScalar2D"/> with <c>-dt</c> written as its two kernels, the trace velocity
    /// (<see cref="TraceVelocityMac"/>, which does not read dt for an Euler trace) and <see cref="TraceCellsForward2D"/>
    /// (a call argument may not be an expression of a differentiable value such as <c>-dt</c>). Same values and
    /// adjoints, in the same order, as the former form with two <see cref="SemiLagrangianScalar2D"/> calls.
    /// </remarks>
    [Differentiable, DataParallel]
    public static void MacCormackScalar2D(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> result, int nx, int ny, double dx, double dy, double dt,
        int qxLo, int qxHi, int qyLo, int qyHi, int vxLo, int vxHi, int vyLo, int vyHi)
    {
        double[] fwd = new double[nx * ny];
        double[] bwd = new double[nx * ny];
        double[] tu = new double[nx * ny];
        double[] tv = new double[nx * ny];
        SemiLagrangianScalar2D(q, u, v, fwd, nx, ny, dx, dy, dt, qxLo, qxHi, qyLo, qyHi, vxLo, vxHi, vyLo, vyHi, 0);
        TraceVelocityMac(u, v, tu, tv, nx, ny, nx, ny, 0.0, 0.0, dx, dy, dt, vxLo, vxHi, vyLo, vyHi, 0);
        TraceCellsForward2D(fwd, tu, tv, bwd, nx, ny, dx, dy, dt, qxLo, qxHi, qyLo, qyHi);
        MacCormackCorrect2D(q, u, v, fwd, bwd, result, nx, ny, dx, dy, dt, qxLo, qxHi, qyLo, qyHi);
    }

    /// <summary>
    /// The backward step of <see cref="MacCormackScalar2D"/>: a trace forward in time on the nx x ny cell grid,
    /// <c>result[k] = f(x_k + dt * (tu[k], tv[k]))</c>, i.e. <see cref="TraceNodes2D"/> on the cells with the time step
    /// <c>-dt</c> (bit for bit: <c>(-dt) / dx</c> is <c>-(dt / dx)</c>, and the zero offsets add exactly).
    /// </summary>
    [Differentiable, DataParallel]
    public static void TraceCellsForward2D(ReadOnlySpan<double> f, ReadOnlySpan<double> tu, ReadOnlySpan<double> tv, Span<double> result, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi)
    {
        double cx = -dt / dx;
        double cy = -dt / dy;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                // Interpolation.Sample2D(f, nx, ny, nx, ny, …) spelled out, as in TraceNodes2D.
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
                result[k] = wy0 * (wx0 * f[kj0 + ki0] + wx1 * f[kj0 + ki1]) + wy1 * (wx0 * f[kj1 + ki0] + wx1 * f[kj1 + ki1]);
            }
        }
    }

    /// <summary>
    /// The correction of <see cref="MacCormackScalar2D"/>: <c>result = clamp(fwd + (q - bwd) / 2, lo, hi)</c> with lo/hi
    /// the smallest/largest of the four values of q around the forward step's departure point
    /// (<see cref="Interpolation.CornerExtreme2D"/>, spelled out), the departure point traced with the cell-centred
    /// average of the MAC velocity.
    /// </summary>
    [Differentiable, DataParallel]
    public static void MacCormackCorrect2D(ReadOnlySpan<double> q, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fwd, ReadOnlySpan<double> bwd, Span<double> result,
        int nx, int ny, double dx, double dy, double dt, int qxLo, int qxHi, int qyLo, int qyHi)
    {
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
                // CornerExtreme2D's four values (Operators.Value2D: the index by the codes, times 0 on a zero side), in its order.
                int i0 = (int)Math.Floor(bx);
                int j0 = (int)Math.Floor(by);
                int ki0 = Bc.Resolve(i0, nx, nx, qxLo, qxHi);
                int ki1 = Bc.Resolve(i0 + 1, nx, nx, qxLo, qxHi);
                int kj0 = Bc.Resolve(j0, ny, ny, qyLo, qyHi) * nx;
                int kj1 = Bc.Resolve(j0 + 1, ny, ny, qyLo, qyHi) * nx;
                double keep0 = Bc.Keep(i0, nx, qxLo, qxHi) * Bc.Keep(j0, ny, qyLo, qyHi);
                double keep1 = Bc.Keep(i0 + 1, nx, qxLo, qxHi) * Bc.Keep(j0, ny, qyLo, qyHi);
                double keep2 = Bc.Keep(i0, nx, qxLo, qxHi) * Bc.Keep(j0 + 1, ny, qyLo, qyHi);
                double keep3 = Bc.Keep(i0 + 1, nx, qxLo, qxHi) * Bc.Keep(j0 + 1, ny, qyLo, qyHi);
                double c0 = keep0 * q[kj0 + ki0];
                double c1 = keep1 * q[kj0 + ki1];
                double c2 = keep2 * q[kj1 + ki0];
                double c3 = keep3 * q[kj1 + ki1];
                double lo = Math.Min(Math.Min(Math.Min(c0, c1), c2), c3);
                double hi = Math.Max(Math.Max(Math.Max(c0, c1), c2), c3);
                double corrected = fwd[k] + 0.5 * (q[k] - bwd[k]);
                result[k] = Math.Clamp(corrected, lo, hi);
            }
        }
    }
}
