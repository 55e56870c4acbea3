namespace DiffGen.Physics;

/// <summary>A symmetric positive (semi-)definite operator for <see cref="Krylov.ConjugateGradient"/>.</summary>
internal interface ISpdOperator
{
    int Length { get; }

    /// <summary>y = A x.</summary>
    void Apply(ReadOnlySpan<double> x, Span<double> y);

    /// <summary>The diagonal of A (the Jacobi preconditioner); entries &lt;= 0 mark excluded unknowns.</summary>
    void Diagonal(Span<double> d);

    /// <summary>Whether A has the constant vector (over its unknowns) in its null space.</summary>
    bool Singular { get; }

    /// <summary>z = M⁻¹ r for a symmetric positive definite approximation M of A.</summary>
    void Precondition(ReadOnlySpan<double> r, Span<double> z);
}

/// <summary>
/// A linear solve (pressure projection, implicit diffusion, or their adjoint/tangent) that failed: it did not
/// converge in its iteration budget, broke down, or was given non-finite values. It is an
/// <see cref="InvalidOperationException"/>, as the solvers document; the message names the solve and what to do.
/// </summary>
public sealed class SolverException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public SolverException(string solve, int iterations, double residual, string message) : base(message)
    {
        Solve = solve;
        Iterations = iterations;
        Residual = residual;
    }

    /// <summary>Which solve failed (e.g. "pressure", "implicit diffusion adjoint").</summary>
    public string Solve { get; }

    /// <summary>Iterations run before it failed.</summary>
    public int Iterations { get; }

    /// <summary>The max-norm residual when it failed (NaN when the input was not finite).</summary>
    public double Residual { get; }

    /// <summary>Whether the solve was given NaN or infinite values (the state diverged before the solve), rather than failing to converge.</summary>
    public bool NonFiniteInput { get; init; }
}

/// <summary>Preconditioned conjugate gradients.</summary>
internal static class Krylov
{
    /// <summary>
    /// Solves A x = b from x = 0 (preconditioned by the operator's own preconditioner). Converged when the residual's max norm is at most
    /// <paramref name="tolerance"/> (absolute) or <paramref name="tolerance"/>·max|b| (relative).
    /// For a singular operator the mean over the active unknowns is projected out of b, of every
    /// preconditioned residual and of x, which picks the mean-free solution.
    /// Returns (iterations, final max-norm residual). Throws <see cref="SolverException"/> when b holds NaN or
    /// infinity (the solve would otherwise treat NaN as converged and hand back a finite x), when the
    /// iteration breaks down before converging, and when it does not converge in <paramref name="maxIterations"/>.
    /// </summary>
    public static (int Iterations, double Residual) ConjugateGradient(ISpdOperator a, ReadOnlySpan<double> b, Span<double> x, double tolerance, bool relative, int maxIterations, string what)
    {
        int n = a.Length;
        var diag = new double[n];
        a.Diagonal(diag);
        var active = new bool[n];
        int count = 0;
        for (int k = 0; k < n; k++) { active[k] = diag[k] > 0; if (active[k]) count++; }
        var r = new double[n];
        for (int k = 0; k < n; k++) r[k] = active[k] ? b[k] : 0;
        if (a.Singular) RemoveMean(r, active, count);
        x.Clear();
        double bNorm = MaxAbs(r);
        if (!double.IsFinite(bNorm))
        {
            int bad = 0;
            while (bad < n - 1 && double.IsFinite(r[bad])) bad++;
            throw new SolverException(what, 0, double.NaN,
                $"The {what} solve was given a non-finite right-hand side ({r[bad]} at unknown {bad}): the state reaching it is already NaN or infinite. " +
                "An earlier step diverged; lower the time step or the learning rate, or check the inputs for NaN.") { NonFiniteInput = true };
        }
        double target = relative ? tolerance * bNorm : tolerance;
        double res = bNorm;
        if (res <= target || count == 0) return (0, res);
        var z = new double[n];
        var d = new double[n];
        var q = new double[n];
        Precondition(a, r, z, active, a.Singular, count);
        z.CopyTo(d, 0);
        double rz = Dot(r, z);
        for (int it = 1; it <= maxIterations; it++)
        {
            a.Apply(d, q);
            double dq = Dot(d, q);
            // The residual is above the target here, so d is not zero: d·Ad <= 0 means the operator is not
            // positive definite on the search space, NaN that the values overflowed. Neither is a solution
            // (returning here used to hand back the starting guess as if converged).
            if (!(dq > 0))
                throw new SolverException(what, it, res,
                    $"The {what} CG solve broke down at iteration {it} (d·Ad = {dq:E3}, residual {res:E3}, target {target:E3}): the operator is not positive definite or the values overflowed. " +
                    "Check the grid spacing, time step and viscosity for NaN, infinite or zero values.");
            double alpha = rz / dq;
            for (int k = 0; k < n; k++) { x[k] += alpha * d[k]; r[k] -= alpha * q[k]; }
            res = MaxAbs(r);
            if (res <= target) { if (a.Singular) RemoveMean(x, active, count); return (it, res); }
            Precondition(a, r, z, active, a.Singular, count);
            double rzNew = Dot(r, z);
            double beta = rzNew / rz;
            rz = rzNew;
            for (int k = 0; k < n; k++) d[k] = z[k] + beta * d[k];
        }
        throw new SolverException(what, maxIterations, res, double.IsFinite(res)
            ? $"The {what} CG solve did not converge in {maxIterations} iterations (residual {res:E3}, target {target:E3}). Raise maxIterations or loosen the tolerance."
            : $"The {what} CG solve diverged to a non-finite residual ({res}) within {maxIterations} iterations: the values overflowed. Lower the time step or check the inputs for very large values.");
    }

    private static void Precondition(ISpdOperator a, double[] r, double[] z, bool[] active, bool singular, int count)
    {
        a.Precondition(r, z);
        for (int k = 0; k < r.Length; k++) if (!active[k]) z[k] = 0;
        if (singular) RemoveMean(z, active, count);
    }

    private static void RemoveMean(Span<double> v, bool[] active, int count)
    {
        double s = 0;
        for (int k = 0; k < v.Length; k++) if (active[k]) s += v[k];
        double m = s / count;
        for (int k = 0; k < v.Length; k++) v[k] = active[k] ? v[k] - m : 0;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int k = 0; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }

    private static double MaxAbs(ReadOnlySpan<double> a)
    {
        double m = 0;
        for (int k = 0; k < a.Length; k++) m = Math.Max(m, Math.Abs(a[k]));
        return m;
    }
}

/// <summary>
/// Neighbour bookkeeping shared by the cell-centred operators: for cell (i, j) and one of the four
/// directions, the neighbour's index, or -1 for a Zero/ZeroGradient boundary face.
/// </summary>
internal static class CellNeighbours
{
    public static int Index(int i, int j, int dir, int nx, int ny, int xLo, int xHi, int yLo, int yHi, out int code)
    {
        code = -1;
        switch (dir)
        {
            case 0: if (i > 0) return j * nx + i - 1; code = xLo; return xLo == Bc.Periodic ? j * nx + nx - 1 : -1;
            case 1: if (i < nx - 1) return j * nx + i + 1; code = xHi; return xHi == Bc.Periodic ? j * nx : -1;
            case 2: if (j > 0) return (j - 1) * nx + i; code = yLo; return yLo == Bc.Periodic ? (ny - 1) * nx + i : -1;
            default: if (j < ny - 1) return (j + 1) * nx + i; code = yHi; return yHi == Bc.Periodic ? i : -1;
        }
    }
}

/// <summary><c>A = I - c L</c> on cell centres (L: 5-point Laplacian with the scalar boundary codes).</summary>
internal sealed class HelmholtzOperator(int nx, int ny, double dx, double dy, double c, int xLo, int xHi, int yLo, int yHi) : ISpdOperator
{
    private double[]? _diag;

    public int Length => nx * ny;
    public bool Singular => false;

    /// <summary>Jacobi: well conditioned already (I - c L), so the diagonal is enough.</summary>
    public void Precondition(ReadOnlySpan<double> r, Span<double> z)
    {
        if (_diag is null) { _diag = new double[Length]; Diagonal(_diag); }
        for (int k = 0; k < r.Length; k++) z[k] = r[k] / _diag[k];
    }

    public void Laplacian(ReadOnlySpan<double> x, Span<double> y)
    {
        double ax = 1 / (dx * dx), ay = 1 / (dy * dy);
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                double s = 0;
                for (int dir = 0; dir < 4; dir++)
                {
                    double a = dir < 2 ? ax : ay;
                    int nb = CellNeighbours.Index(i, j, dir, nx, ny, xLo, xHi, yLo, yHi, out int code);
                    if (nb >= 0) s += a * (x[nb] - x[k]);
                    else if (code == Bc.Zero) s -= a * x[k]; // zero pad: (0 - x)
                    // zero gradient: ghost = x, no flux
                }
                y[k] = s;
            }
    }

    public void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        Laplacian(x, y);
        for (int k = 0; k < y.Length; k++) y[k] = x[k] - c * y[k];
    }

    public void Diagonal(Span<double> d)
    {
        double ax = 1 / (dx * dx), ay = 1 / (dy * dy);
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++)
            {
                double s = 0;
                for (int dir = 0; dir < 4; dir++)
                {
                    double a = dir < 2 ? ax : ay;
                    int nb = CellNeighbours.Index(i, j, dir, nx, ny, xLo, xHi, yLo, yHi, out int code);
                    if (nb >= 0) { if (nb != j * nx + i) s += a; }
                    else if (code == Bc.Zero) s += a;
                }
                d[j * nx + i] = 1 + c * s;
            }
    }
}

/// <summary>
/// The pressure Poisson operator <c>A = -D G</c> on the fluid cells of a MAC grid: closed walls
/// (velocity code Zero) and solid cells have no flux (Neumann), open sides (ZeroGradient) are
/// Dirichlet p = 0 on the boundary face, periodic sides wrap. Singular without an open side.
/// </summary>
internal sealed class PoissonOperator(int nx, int ny, double dx, double dy, ReadOnlySpan<int> solid, int xLo, int xHi, int yLo, int yHi) : ISpdOperator
{
    private readonly int[] _solid = solid.IsEmpty ? new int[nx * ny] : solid.ToArray();
    private Multigrid? _mg;

    public int Length => nx * ny;

    /// <summary>
    /// One aggregation-multigrid V-cycle (<see cref="Multigrid"/>): CG then needs a handful of iterations
    /// at any grid size (7 at 512², where incomplete Cholesky needed 344).
    /// </summary>
    public void Precondition(ReadOnlySpan<double> r, Span<double> z)
    {
        if (_mg is null)
        {
            if (_diagonal is null) BuildStencil();
            _mg = new Multigrid(nx, ny, _diagonal!, _west!, _east!, _south!, _north!, 1 / (dx * dx), 1 / (dy * dy));
        }
        _mg.Apply(r, z);
    }

    public bool Singular => xLo != Bc.ZeroGradient && xHi != Bc.ZeroGradient && yLo != Bc.ZeroGradient && yHi != Bc.ZeroGradient;

    // Per-cell neighbour indices (-1: no coupling) and the diagonal, built once per solve so that the
    // matrix-vector product is a plain stencil loop.
    private int[]? _west, _east, _south, _north;
    private double[]? _diagonal;

    private void BuildStencil()
    {
        int n = nx * ny;
        _west = new int[n]; _east = new int[n]; _south = new int[n]; _north = new int[n];
        _diagonal = new double[n];
        Diagonal(_diagonal);
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                _west[k] = Coupled(i, j, 0, k); _east[k] = Coupled(i, j, 1, k);
                _south[k] = Coupled(i, j, 2, k); _north[k] = Coupled(i, j, 3, k);
            }
    }

    private int Coupled(int i, int j, int dir, int k)
    {
        if (_solid[k] != 0) return -1;
        int nb = CellNeighbours.Index(i, j, dir, nx, ny, xLo, xHi, yLo, yHi, out _);
        return nb >= 0 && nb != k && _solid[nb] == 0 ? nb : -1;
    }

    public void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        if (_diagonal is null) BuildStencil();
        double ax = 1 / (dx * dx), ay = 1 / (dy * dy);
        int[] w = _west!, e = _east!, s = _south!, nn = _north!;
        double[] d = _diagonal!;
        for (int k = 0; k < y.Length; k++)
        {
            double t = d[k] * x[k];
            if (w[k] >= 0) t -= ax * x[w[k]];
            if (e[k] >= 0) t -= ax * x[e[k]];
            if (s[k] >= 0) t -= ay * x[s[k]];
            if (nn[k] >= 0) t -= ay * x[nn[k]];
            y[k] = t;
        }
    }

    public void Diagonal(Span<double> d)
    {
        double ax = 1 / (dx * dx), ay = 1 / (dy * dy);
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                double s = 0;
                if (_solid[k] == 0)
                    for (int dir = 0; dir < 4; dir++)
                    {
                        double a = dir < 2 ? ax : ay;
                        int nb = CellNeighbours.Index(i, j, dir, nx, ny, xLo, xHi, yLo, yHi, out int code);
                        if (nb >= 0) { if (_solid[nb] == 0 && nb != k) s += a; }
                        else if (code == Bc.ZeroGradient) s += 2 * a;
                    }
                d[k] = s;
            }
    }
}
