namespace DiffGen.Physics;

/// <summary>
/// Pressure projection of a MAC velocity (u: (nx+1) x ny x-faces, v: nx x (ny+1) y-faces, row-major):
/// solve <c>L p = div u</c> on the fluid cells, then <c>u -= G p</c>, so that <c>D u = 0</c> up to the
/// solver tolerance. Velocity boundary codes per side decide the pressure condition (closed wall:
/// Neumann, open: p = 0 on the face, periodic: wrap). <c>solid</c> (nx x ny, 1 = obstacle cell, may be
/// empty) marks obstacle cells, whose faces carry no flux. Closed/periodic domains without an open side
/// are singular; the solve returns the mean-free pressure.
/// </summary>
public static partial class Pressure
{
    /// <summary>
    /// Solves <c>L p = rhs</c> (see the class remarks) by CG preconditioned with a multigrid V-cycle (<see cref="Multigrid"/>) from p = 0 until the
    /// residual's max norm is at most <paramref name="tolerance"/>. Not differentiated by the generator:
    /// its derivative is the implicit adjoint <see cref="SolvePressurePullback"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">CG did not converge in <paramref name="maxIterations"/>.</exception>
    public static void SolvePressure(ReadOnlySpan<double> rhs, Span<double> p, ReadOnlySpan<int> solid, int nx, int ny, [NoDiff] double dx, [NoDiff] double dy,
        int xLo, int xHi, int yLo, int yHi, [NoDiff] double tolerance, int maxIterations)
        => SolvePressureWithStats(rhs, p, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, tolerance, maxIterations);

    /// <summary><see cref="SolvePressure"/>, returning the CG iteration count and final max-norm residual.</summary>
    public static (int Iterations, double Residual) SolvePressureWithStats(ReadOnlySpan<double> rhs, Span<double> p, ReadOnlySpan<int> solid, int nx, int ny, double dx, double dy,
        int xLo, int xHi, int yLo, int yHi, double tolerance, int maxIterations)
        => Solve(Operator2D(solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi), rhs, p, tolerance, maxIterations);

    /// <summary>
    /// Implicit adjoint of <see cref="SolvePressure"/>: re-solves for p (the primal output), then solves
    /// <c>L lambda = pBar</c> with the same (symmetric) operator, adds lambda to <c>rhsBar</c> and
    /// consumes <c>pBar</c> (p is a pure output). The adjoint solve uses the primal's relative accuracy.
    /// </summary>
    [DerivativeOf(typeof(Pressure), nameof(SolvePressure))]
    public static void SolvePressurePullback(ReadOnlySpan<double> rhs, Span<double> p, ReadOnlySpan<int> solid, int nx, int ny, double dx, double dy,
        int xLo, int xHi, int yLo, int yHi, double tolerance, int maxIterations, Span<double> rhsBar, Span<double> pBar)
    {
        SolvePressure(rhs, p, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, tolerance, maxIterations);
        SolvePressureReverse(rhs, p, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, tolerance, maxIterations, rhsBar, pBar);
    }

    /// <summary>
    /// The reverse half of <see cref="SolvePressurePullback"/>, for callers that ran the solve in their
    /// forward sweep: only the adjoint solve <c>L lambda = pBar</c> (the solve is linear, so the adjoint
    /// needs neither p nor a second forward solve).
    /// </summary>
    [DerivativeOf(typeof(Pressure), nameof(SolvePressure), Kind = DerivativeKind.PullbackReverse)]
    public static void SolvePressureReverse(ReadOnlySpan<double> rhs, Span<double> p, ReadOnlySpan<int> solid, int nx, int ny, double dx, double dy,
        int xLo, int xHi, int yLo, int yHi, double tolerance, int maxIterations, Span<double> rhsBar, Span<double> pBar)
        => AdjointSolve(Operator2D(solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi), rhs, rhsBar, pBar, tolerance, maxIterations);

    /// <summary>
    /// Forward-mode derivative of <see cref="SolvePressure"/>: the solve is linear in the right-hand side, so
    /// the tangent is one more solve, <c>L pDot = rhsDot</c> (instead of one pullback per unknown).
    /// </summary>
    [DerivativeOf(typeof(Pressure), nameof(SolvePressure), Kind = DerivativeKind.Pushforward)]
    public static void SolvePressurePushforward(ReadOnlySpan<double> rhs, ReadOnlySpan<double> rhsDot, Span<double> p, Span<double> pDot, ReadOnlySpan<int> solid, int nx, int ny, double dx, double dy,
        int xLo, int xHi, int yLo, int yHi, double tolerance, int maxIterations)
    {
        SolvePressure(rhs, p, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, tolerance, maxIterations);
        TangentSolve(Operator2D(solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi), rhs, rhsDot, pDot, tolerance, maxIterations);
    }

    // The 2D problem is the 3D one with one layer of cells between two closed z walls (which add nothing to the
    // stencil): 2D and 3D share the operator, the multigrid and the CG.
    private static PoissonOperator Operator2D(ReadOnlySpan<int> solid, int nx, int ny, double dx, double dy, int xLo, int xHi, int yLo, int yHi) =>
        new(new CellLattice(nx, ny, 1, xLo, xHi, yLo, yHi, Bc.Zero, Bc.Zero), dx, dy, 1.0, solid);

    private static PoissonOperator Operator3D(ReadOnlySpan<int> solid, int nx, int ny, int nz, double dx, double dy, double dz, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi) =>
        new(new CellLattice(nx, ny, nz, xLo, xHi, yLo, yHi, zLo, zHi), dx, dy, dz, solid);

    private static (int Iterations, double Residual) Solve(PoissonOperator op, ReadOnlySpan<double> rhs, Span<double> p, double tolerance, int maxIterations)
    {
        // A = -L is positive semi-definite, so solve A p = -rhs.
        var b = new double[rhs.Length];
        for (int k = 0; k < b.Length; k++) b[k] = -rhs[k];
        return Krylov.ConjugateGradient(op, b, p, tolerance, relative: false, maxIterations, "pressure");
    }

    // The implicit adjoint, shared by 2D and 3D (the operator's stencil and multigrid are built on first use): lambda = L⁻¹ pBar to the primal's relative accuracy, rhsBar += lambda, pBar = 0.
    private static void AdjointSolve(PoissonOperator op, ReadOnlySpan<double> rhs, Span<double> rhsBar, Span<double> pBar, double tolerance, int maxIterations)
    {
        double rhsMax = 0, barMax = 0;
        for (int k = 0; k < rhs.Length; k++) { rhsMax = Math.Max(rhsMax, Math.Abs(rhs[k])); barMax = Math.Max(barMax, Math.Abs(pBar[k])); }
        double tol = rhsMax > 0 ? tolerance * barMax / rhsMax : tolerance;
        if (barMax > 0)
        {
            var lambda = new double[rhs.Length];
            Solve(op, pBar, lambda, Math.Max(tol, 1e-300), maxIterations);
            for (int k = 0; k < rhs.Length; k++) rhsBar[k] += lambda[k];
        }
        pBar.Clear();
    }

    // The tangent, shared by 2D and 3D: L pDot = rhsDot, to the primal's relative accuracy.
    private static void TangentSolve(PoissonOperator op, ReadOnlySpan<double> rhs, ReadOnlySpan<double> rhsDot, Span<double> pDot, double tolerance, int maxIterations)
    {
        double rhsMax = 0, dotMax = 0;
        for (int k = 0; k < rhs.Length; k++) { rhsMax = Math.Max(rhsMax, Math.Abs(rhs[k])); dotMax = Math.Max(dotMax, Math.Abs(rhsDot[k])); }
        if (dotMax == 0) { pDot.Clear(); return; }
        double tol = rhsMax > 0 ? tolerance * dotMax / rhsMax : tolerance;
        Solve(op, rhsDot, pDot, Math.Max(tol, 1e-300), maxIterations);
    }

    /// <summary>
    /// Solves the 3D pressure Poisson problem <c>L p = rhs</c> on nx x ny x nz cells (cell (i, j, l) at
    /// <c>(l * ny + j) * nx + i</c>) with the 2D solve's operator, multigrid and CG (<see cref="SolvePressure"/>).
    /// Its derivative is the implicit adjoint <see cref="SolvePressure3DPullback"/>.
    /// </summary>
    public static void SolvePressure3D(ReadOnlySpan<double> rhs, Span<double> p, ReadOnlySpan<int> solid, int nx, int ny, int nz, [NoDiff] double dx, [NoDiff] double dy, [NoDiff] double dz,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, [NoDiff] double tolerance, int maxIterations)
        => SolvePressure3DWithStats(rhs, p, solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi, tolerance, maxIterations);

    /// <summary><see cref="SolvePressure3D"/>, returning the CG iteration count and final max-norm residual.</summary>
    public static (int Iterations, double Residual) SolvePressure3DWithStats(ReadOnlySpan<double> rhs, Span<double> p, ReadOnlySpan<int> solid, int nx, int ny, int nz, double dx, double dy, double dz,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, double tolerance, int maxIterations)
        => Solve(Operator3D(solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi), rhs, p, tolerance, maxIterations);

    /// <summary>The implicit adjoint of <see cref="SolvePressure3D"/> (as <see cref="SolvePressurePullback"/>).</summary>
    [DerivativeOf(typeof(Pressure), nameof(SolvePressure3D))]
    public static void SolvePressure3DPullback(ReadOnlySpan<double> rhs, Span<double> p, ReadOnlySpan<int> solid, int nx, int ny, int nz, double dx, double dy, double dz,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, double tolerance, int maxIterations, Span<double> rhsBar, Span<double> pBar)
    {
        SolvePressure3D(rhs, p, solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi, tolerance, maxIterations);
        SolvePressure3DReverse(rhs, p, solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi, tolerance, maxIterations, rhsBar, pBar);
    }

    /// <summary>The reverse half of <see cref="SolvePressure3DPullback"/> (the adjoint solve only).</summary>
    [DerivativeOf(typeof(Pressure), nameof(SolvePressure3D), Kind = DerivativeKind.PullbackReverse)]
    public static void SolvePressure3DReverse(ReadOnlySpan<double> rhs, Span<double> p, ReadOnlySpan<int> solid, int nx, int ny, int nz, double dx, double dy, double dz,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, double tolerance, int maxIterations, Span<double> rhsBar, Span<double> pBar)
        => AdjointSolve(Operator3D(solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi), rhs, rhsBar, pBar, tolerance, maxIterations);

    /// <summary>Forward-mode derivative of <see cref="SolvePressure3D"/> (one more solve).</summary>
    [DerivativeOf(typeof(Pressure), nameof(SolvePressure3D), Kind = DerivativeKind.Pushforward)]
    public static void SolvePressure3DPushforward(ReadOnlySpan<double> rhs, ReadOnlySpan<double> rhsDot, Span<double> p, Span<double> pDot, ReadOnlySpan<int> solid, int nx, int ny, int nz,
        double dx, double dy, double dz, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, double tolerance, int maxIterations)
    {
        SolvePressure3D(rhs, p, solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi, tolerance, maxIterations);
        TangentSolve(Operator3D(solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi), rhs, rhsDot, pDot, tolerance, maxIterations);
    }

    /// <summary>
    /// <c>uOut = u - G p</c> on the faces that can carry flux: faces between two fluid cells, periodic and
    /// open boundary faces (p = 0 on an open face, so the gradient there is <c>±2p/dx</c>). Faces on closed
    /// walls or touching a solid cell are copied unchanged.
    /// </summary>
    [Differentiable, DataParallel]
    public static void SubtractGradient(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> p, Span<double> uOut, Span<double> vOut, ReadOnlySpan<int> solid,
        int nx, int ny, [NoDiff] double dx, [NoDiff] double dy, int xLo, int xHi, int yLo, int yHi)
    {
        // solid.Length > 0 is tested in the loops (written so when a bool set-up local could not reach a device kernel;
        // the generator passes bools as ints now, and the results are the same either way).
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i <= nx; i++)
            {
                int f = j * (nx + 1) + i;
                double g = 0;
                if (i > 0 && i < nx)
                {
                    bool blocked = solid.Length > 0 && (solid[j * nx + i] != 0 || solid[j * nx + i - 1] != 0);
                    if (!blocked) { g = (p[j * nx + i] - p[j * nx + i - 1]) / dx; }
                }
                else if (i == 0)
                {
                    bool blocked = solid.Length > 0 && solid[j * nx] != 0;
                    if (xLo == Bc.Periodic) { if (!blocked && !(solid.Length > 0 && solid[j * nx + nx - 1] != 0)) { g = (p[j * nx] - p[j * nx + nx - 1]) / dx; } }
                    else if (xLo == Bc.ZeroGradient) { if (!blocked) { g = 2 * p[j * nx] / dx; } }
                }
                else
                {
                    bool blocked = solid.Length > 0 && solid[j * nx + nx - 1] != 0;
                    if (xHi == Bc.Periodic) { if (!blocked && !(solid.Length > 0 && solid[j * nx] != 0)) { g = (p[j * nx] - p[j * nx + nx - 1]) / dx; } }
                    else if (xHi == Bc.ZeroGradient) { if (!blocked) { g = -2 * p[j * nx + nx - 1] / dx; } }
                }
                uOut[f] = u[f] - g;
            }
        }
        for (int j = 0; j <= ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                int f = j * nx + i;
                double g = 0;
                if (j > 0 && j < ny)
                {
                    bool blocked = solid.Length > 0 && (solid[j * nx + i] != 0 || solid[(j - 1) * nx + i] != 0);
                    if (!blocked) { g = (p[j * nx + i] - p[(j - 1) * nx + i]) / dy; }
                }
                else if (j == 0)
                {
                    bool blocked = solid.Length > 0 && solid[i] != 0;
                    if (yLo == Bc.Periodic) { if (!blocked && !(solid.Length > 0 && solid[(ny - 1) * nx + i] != 0)) { g = (p[i] - p[(ny - 1) * nx + i]) / dy; } }
                    else if (yLo == Bc.ZeroGradient) { if (!blocked) { g = 2 * p[i] / dy; } }
                }
                else
                {
                    bool blocked = solid.Length > 0 && solid[(ny - 1) * nx + i] != 0;
                    if (yHi == Bc.Periodic) { if (!blocked && !(solid.Length > 0 && solid[i] != 0)) { g = (p[i] - p[(ny - 1) * nx + i]) / dy; } }
                    else if (yHi == Bc.ZeroGradient) { if (!blocked) { g = -2 * p[(ny - 1) * nx + i] / dy; } }
                }
                vOut[f] = v[f] - g;
            }
        }
    }

    /// <summary>
    /// Makes a MAC velocity divergence-free: divergence, <see cref="SolvePressure"/>, gradient subtraction.
    /// Writes the projected velocity to (uOut, vOut) and the pressure to <paramref name="p"/>.
    /// Differentiable; the solve's adjoint is the implicit one. Forward mode too (the tests check the
    /// implicit adjoint against it).
    /// </summary>
    [Differentiable(Modes = DerivativeModes.Reverse | DerivativeModes.Forward), DataParallel]
    public static void Project(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, Span<double> p, ReadOnlySpan<int> solid,
        int nx, int ny, [NoDiff] double dx, [NoDiff] double dy, int xLo, int xHi, int yLo, int yHi, [NoDiff] double tolerance, int maxIterations)
    {
        double[] div = new double[nx * ny];
        Operators.DivergenceStaggered(u, v, div, nx, ny, dx, dy);
        SolvePressure(div, p, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, tolerance, maxIterations);
        SubtractGradient(u, v, p, uOut, vOut, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi);
    }
}
