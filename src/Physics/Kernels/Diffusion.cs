namespace DiffGen.Physics;

/// <summary>
/// Diffusion <c>dq/dt = nu * Laplacian(q)</c>: explicit (forward Euler in substeps) and implicit
/// (backward Euler, a CG solve of <c>(I - nu dt L) q' = q</c> with a hand-written implicit adjoint).
/// The explicit step is stable when <c>nu * (dt / substeps) * (1/dx² + 1/dy²) &lt;= 1/2</c>; the model
/// classes check this before calling (see <see cref="MaxStableExplicitDt(double, double, double, int)"/>).
/// </summary>
public static partial class Diffusion
{
    /// <summary>The largest stable explicit diffusion step for the given substeps (dy = +inf for 1D).</summary>
    public static double MaxStableExplicitDt(double nu, double dx, double dy, int substeps) => MaxStableExplicitDt(nu, dx, dy, double.PositiveInfinity, substeps);

    /// <summary>The largest stable explicit diffusion step in 3D for the given substeps (dz = +inf for 2D, dy = dz = +inf for 1D).</summary>
    public static double MaxStableExplicitDt(double nu, double dx, double dy, double dz, int substeps)
    {
        double s = 1.0 / (dx * dx) + (double.IsPositiveInfinity(dy) ? 0 : 1.0 / (dy * dy)) + (double.IsPositiveInfinity(dz) ? 0 : 1.0 / (dz * dz));
        return nu <= 0 ? double.PositiveInfinity : substeps * 0.5 / (nu * s);
    }

    /// <summary>One forward-Euler diffusion step in 1D, <c>result = q + nu dt Laplacian(q)</c> (fused, tape-free).</summary>
    [Differentiable]
    public static void EulerStep1D(ReadOnlySpan<double> q, Span<double> result, double nu, double dt, double dx, int lo, int hi)
    {
        int n = q.Length;
        double a = nu * dt / (dx * dx);
        for (int i = 0; i < n; i++)
        {
            // Single-assignment ?: neighbours (index and weight by the boundary code): the pullback
            // recomputes them instead of taping.
            int il = i > 0 ? i - 1 : (lo == Bc.Periodic ? n - 1 : 0);
            int ir = i < n - 1 ? i + 1 : (hi == Bc.Periodic ? 0 : n - 1);
            double wl = (i > 0 || lo != Bc.Zero) ? 1.0 : 0.0;
            double wr = (i < n - 1 || hi != Bc.Zero) ? 1.0 : 0.0;
            result[i] = q[i] + a * (wl * q[il] - 2 * q[i] + wr * q[ir]);
        }
    }

    /// <summary>Explicit 1D diffusion in <paramref name="substeps"/> equal substeps.</summary>
    [Differentiable]
    public static void Explicit1D(ReadOnlySpan<double> q, Span<double> result, double nu, double dt, double dx, int substeps, int lo, int hi)
    {
        // Intermediate substeps go through scratch arrays and the last one writes straight into result, so
        // result is write-only here and a caller's pullback need not save its old contents.
        if (substeps == 1)
        {
            // The common case goes straight into result: no scratch arrays to allocate and copy.
            EulerStep1D(q, result, nu, dt, dx, lo, hi);
        }
        else
        {
            int n = q.Length;
            double h = dt / substeps;
            double[] cur = new double[n];
            double[] tmp = new double[n];
            Operators.Copy(q, cur);
            for (int s = 0; s < substeps - 1; s++)
            {
                EulerStep1D(cur, tmp, nu, h, dx, lo, hi);
                Operators.Copy(tmp, cur);
            }
            EulerStep1D(cur, result, nu, h, dx, lo, hi);
        }
    }

    /// <summary>
    /// One forward-Euler diffusion step of a 2D node array (cell centres or one MAC component, see
    /// <see cref="Operators"/>): <c>result = q + nu dt Laplacian(q)</c>, fused.
    /// </summary>
    [Differentiable, DataParallel]
    public static void EulerStep2D(ReadOnlySpan<double> q, Span<double> result, int w, int h, int px, int py, double nu, double dt, double dx, double dy, int xLo, int xHi, int yLo, int yHi)
    {
        double ax = nu * dt / (dx * dx);
        double ay = nu * dt / (dy * dy);
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                // Neighbour index and weight by the boundary codes (periodic wraps with px/py, so a face grid
                // with w = px + 1 wraps onto its duplicate seam correctly), all single-assignment.
                int il = i > 0 ? i - 1 : (xLo == Bc.Periodic ? px - 1 : 0);
                int ir = i < w - 1 ? i + 1 : (xHi == Bc.Periodic ? (i + 1) % px : w - 1);
                int jb = j > 0 ? j - 1 : (yLo == Bc.Periodic ? py - 1 : 0);
                int jt = j < h - 1 ? j + 1 : (yHi == Bc.Periodic ? (j + 1) % py : h - 1);
                double wl = (i > 0 || xLo != Bc.Zero) ? 1.0 : 0.0;
                double wr = (i < w - 1 || xHi != Bc.Zero) ? 1.0 : 0.0;
                double wb = (j > 0 || yLo != Bc.Zero) ? 1.0 : 0.0;
                double wt = (j < h - 1 || yHi != Bc.Zero) ? 1.0 : 0.0;
                double c = q[j * w + i];
                result[j * w + i] = c + ax * (wl * q[j * w + il] - 2 * c + wr * q[j * w + ir]) + ay * (wb * q[jb * w + i] - 2 * c + wt * q[jt * w + i]);
            }
        }
    }

    /// <summary>
    /// Explicit 2D diffusion of a node array (cell centres or one MAC component, see <see cref="Operators"/>)
    /// in <paramref name="substeps"/> equal substeps.
    /// </summary>
    [Differentiable, DataParallel]
    public static void Explicit2D(ReadOnlySpan<double> q, Span<double> result, int w, int h, int px, int py, double nu, double dt, double dx, double dy, int substeps, int xLo, int xHi, int yLo, int yHi)
    {
        // Two calls and no loop here: the pullback runs each as its split halves, and only the several-substep
        // kernel (whose reverse reads the intermediate results) saves its result on the tape.
        if (substeps == 1)
        {
            // The common case goes straight into result: no scratch array to allocate and copy.
            EulerStep2D(q, result, w, h, px, py, nu, dt, dx, dy, xLo, xHi, yLo, yHi);
        }
        else
        {
            ExplicitSubsteps2D(q, result, w, h, px, py, nu, dt, dx, dy, substeps, xLo, xHi, yLo, yHi);
        }
    }

    /// <summary><see cref="Explicit2D"/> with two or more substeps, through a scratch array.</summary>
    [Differentiable, DataParallel]
    public static void ExplicitSubsteps2D(ReadOnlySpan<double> q, Span<double> result, int w, int h, int px, int py, double nu, double dt, double dx, double dy, int substeps, int xLo, int xHi, int yLo, int yHi)
    {
        double hs = dt / substeps;
        double[] cur = new double[w * h];
        Operators.Copy(q, cur);
        for (int s = 0; s < substeps - 1; s++)
        {
            EulerStep2D(cur, result, w, h, px, py, nu, hs, dx, dy, xLo, xHi, yLo, yHi);
            Operators.Copy(result, cur);
        }
        EulerStep2D(cur, result, w, h, px, py, nu, hs, dx, dy, xLo, xHi, yLo, yHi);
    }

    /// <summary>
    /// Implicit (backward Euler) diffusion of a cell-centred field (nx x ny; 1D: ny = 1 with zero-gradient
    /// y codes): solves <c>(I - nu dt L) result = q</c> by CG to relative residual <paramref name="tolerance"/>.
    /// Differentiable through <see cref="SolveImplicitPullback"/> (another solve with the same symmetric matrix).
    /// </summary>
    public static void SolveImplicit(ReadOnlySpan<double> q, Span<double> result, double nu, double dt, [NoDiff] double dx, [NoDiff] double dy, int nx, int ny,
        int xLo, int xHi, int yLo, int yHi, [NoDiff] double tolerance, int maxIterations)
        => Solve(Helmholtz2D(nx, ny, dx, dy, nu * dt, xLo, xHi, yLo, yHi), q, result, tolerance, maxIterations);

    /// <summary>
    /// The implicit adjoint of <see cref="SolveImplicit"/>: with <c>A = I - nu dt L</c> and
    /// <c>A x = q</c>, <c>lambda = A⁻¹ xBar</c>, <c>qBar += lambda</c>, <c>nuBar += lambda·(dt L x)</c>,
    /// <c>dtBar += lambda·(nu L x)</c>; the output's seed is consumed.
    /// </summary>
    [DerivativeOf(typeof(Diffusion), nameof(SolveImplicit))]
    public static void SolveImplicitPullback(ReadOnlySpan<double> q, Span<double> result, double nu, double dt, double dx, double dy, int nx, int ny,
        int xLo, int xHi, int yLo, int yHi, double tolerance, int maxIterations, Span<double> qBar, Span<double> resultBar, ref double nuBar, ref double dtBar)
    {
        SolveImplicit(q, result, nu, dt, dx, dy, nx, ny, xLo, xHi, yLo, yHi, tolerance, maxIterations);
        Adjoint(Helmholtz2D(nx, ny, dx, dy, nu * dt, xLo, xHi, yLo, yHi), result, nu, dt, tolerance, maxIterations, qBar, resultBar, ref nuBar, ref dtBar);
    }

    /// <summary>
    /// Forward-mode derivative of <see cref="SolveImplicit"/>: with <c>A x = q</c>, <c>A = I - nu dt L</c>,
    /// <c>A xDot = qDot + (nuDot dt + nu dtDot) L x</c> (one more solve).
    /// </summary>
    [DerivativeOf(typeof(Diffusion), nameof(SolveImplicit), Kind = DerivativeKind.Pushforward)]
    public static void SolveImplicitPushforward(ReadOnlySpan<double> q, ReadOnlySpan<double> qDot, Span<double> result, Span<double> resultDot, double nu, double nuDot, double dt, double dtDot,
        double dx, double dy, int nx, int ny, int xLo, int xHi, int yLo, int yHi, double tolerance, int maxIterations)
    {
        SolveImplicit(q, result, nu, dt, dx, dy, nx, ny, xLo, xHi, yLo, yHi, tolerance, maxIterations);
        Tangent(Helmholtz2D(nx, ny, dx, dy, nu * dt, xLo, xHi, yLo, yHi), qDot, result, resultDot, nu, nuDot, dt, dtDot, tolerance, maxIterations);
    }

    /// <summary>Implicit diffusion as a differentiable step (calls <see cref="SolveImplicit"/>).</summary>
    [Differentiable]
    public static void Implicit2D(ReadOnlySpan<double> q, Span<double> result, double nu, double dt, [NoDiff] double dx, [NoDiff] double dy, int nx, int ny,
        int xLo, int xHi, int yLo, int yHi, [NoDiff] double tolerance, int maxIterations)
    {
        SolveImplicit(q, result, nu, dt, dx, dy, nx, ny, xLo, xHi, yLo, yHi, tolerance, maxIterations);
    }

    /// <summary>
    /// Implicit (backward Euler) diffusion of a 3D cell-centred field (nx x ny x nz, cell (i, j, l) at
    /// <c>(l * ny + j) * nx + i</c>): <c>(I - nu dt L) result = q</c> with the 7-point Laplacian, by the same CG
    /// and operator as <see cref="SolveImplicit"/>. Differentiable through <see cref="SolveImplicit3DPullback"/>.
    /// </summary>
    public static void SolveImplicit3D(ReadOnlySpan<double> q, Span<double> result, double nu, double dt, [NoDiff] double dx, [NoDiff] double dy, [NoDiff] double dz, int nx, int ny, int nz,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, [NoDiff] double tolerance, int maxIterations)
        => Solve(Helmholtz3D(nx, ny, nz, dx, dy, dz, nu * dt, xLo, xHi, yLo, yHi, zLo, zHi), q, result, tolerance, maxIterations);

    /// <summary>The implicit adjoint of <see cref="SolveImplicit3D"/> (as <see cref="SolveImplicitPullback"/>).</summary>
    [DerivativeOf(typeof(Diffusion), nameof(SolveImplicit3D))]
    public static void SolveImplicit3DPullback(ReadOnlySpan<double> q, Span<double> result, double nu, double dt, double dx, double dy, double dz, int nx, int ny, int nz,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, double tolerance, int maxIterations, Span<double> qBar, Span<double> resultBar, ref double nuBar, ref double dtBar)
    {
        SolveImplicit3D(q, result, nu, dt, dx, dy, dz, nx, ny, nz, xLo, xHi, yLo, yHi, zLo, zHi, tolerance, maxIterations);
        Adjoint(Helmholtz3D(nx, ny, nz, dx, dy, dz, nu * dt, xLo, xHi, yLo, yHi, zLo, zHi), result, nu, dt, tolerance, maxIterations, qBar, resultBar, ref nuBar, ref dtBar);
    }

    /// <summary>Forward-mode derivative of <see cref="SolveImplicit3D"/> (one more solve).</summary>
    [DerivativeOf(typeof(Diffusion), nameof(SolveImplicit3D), Kind = DerivativeKind.Pushforward)]
    public static void SolveImplicit3DPushforward(ReadOnlySpan<double> q, ReadOnlySpan<double> qDot, Span<double> result, Span<double> resultDot, double nu, double nuDot, double dt, double dtDot,
        double dx, double dy, double dz, int nx, int ny, int nz, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, double tolerance, int maxIterations)
    {
        SolveImplicit3D(q, result, nu, dt, dx, dy, dz, nx, ny, nz, xLo, xHi, yLo, yHi, zLo, zHi, tolerance, maxIterations);
        Tangent(Helmholtz3D(nx, ny, nz, dx, dy, dz, nu * dt, xLo, xHi, yLo, yHi, zLo, zHi), qDot, result, resultDot, nu, nuDot, dt, dtDot, tolerance, maxIterations);
    }

    // 2D is the 3D operator with one layer between two zero-gradient z sides (no z flux): one code path.
    private static HelmholtzOperator Helmholtz2D(int nx, int ny, double dx, double dy, double c, int xLo, int xHi, int yLo, int yHi) =>
        new(new CellLattice(nx, ny, 1, xLo, xHi, yLo, yHi, Bc.ZeroGradient, Bc.ZeroGradient), dx, dy, 1.0, c);

    private static HelmholtzOperator Helmholtz3D(int nx, int ny, int nz, double dx, double dy, double dz, double c, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi) =>
        new(new CellLattice(nx, ny, nz, xLo, xHi, yLo, yHi, zLo, zHi), dx, dy, dz, c);

    private static void Solve(HelmholtzOperator op, ReadOnlySpan<double> q, Span<double> result, double tolerance, int maxIterations) =>
        Krylov.ConjugateGradient(op, q, result, tolerance, relative: true, maxIterations, "implicit diffusion");

    // The implicit adjoint shared by 2D and 3D: lambda = A⁻¹ xBar, qBar += lambda, (nu, dt)Bar from lambda·L x.
    private static void Adjoint(HelmholtzOperator op, ReadOnlySpan<double> result, double nu, double dt, double tolerance, int maxIterations,
        Span<double> qBar, Span<double> resultBar, ref double nuBar, ref double dtBar)
    {
        var lambda = new double[result.Length];
        Krylov.ConjugateGradient(op, resultBar, lambda, tolerance, relative: true, maxIterations, "implicit diffusion adjoint");
        var lx = new double[result.Length];
        op.Laplacian(result, lx);
        double dot = 0;
        for (int k = 0; k < result.Length; k++)
        {
            qBar[k] += lambda[k];
            dot += lambda[k] * lx[k];
        }
        nuBar += dt * dot;
        dtBar += nu * dot;
        resultBar.Clear();
    }

    // The tangent shared by 2D and 3D: A xDot = qDot + (nuDot dt + nu dtDot) L x.
    private static void Tangent(HelmholtzOperator op, ReadOnlySpan<double> qDot, ReadOnlySpan<double> result, Span<double> resultDot, double nu, double nuDot, double dt, double dtDot,
        double tolerance, int maxIterations)
    {
        var lx = new double[result.Length];
        op.Laplacian(result, lx);
        var b = new double[result.Length];
        double c = nuDot * dt + nu * dtDot;
        for (int k = 0; k < b.Length; k++) b[k] = qDot[k] + c * lx[k];
        Krylov.ConjugateGradient(op, b, resultDot, tolerance, relative: true, maxIterations, "implicit diffusion tangent");
    }
}
