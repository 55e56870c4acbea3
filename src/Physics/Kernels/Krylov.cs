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
