using DiffGen.CompilerServices;

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
        // One partial per reduction block (see Threads): the sums below have the same bits at every thread count.
        var partials = new double[Threads.Blocks(n)];
        if (a.Singular) RemoveMean(r, active, count, partials);
        x.Clear();
        double bNorm = MaxAbs(r, partials);
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
        Precondition(a, r, z, active, a.Singular, count, partials);
        Copy(z, d);
        double rz = Dot(r, z, partials);
        for (int it = 1; it <= maxIterations; it++)
        {
            a.Apply(d, q);
            double dq = Dot(d, q, partials);
            // The residual is above the target here, so d is not zero: d·Ad <= 0 means the operator is not
            // positive definite on the search space, NaN that the values overflowed. Neither is a solution
            // (returning here used to hand back the starting guess as if converged).
            if (!(dq > 0))
                throw new SolverException(what, it, res,
                    $"The {what} CG solve broke down at iteration {it} (d·Ad = {dq:E3}, residual {res:E3}, target {target:E3}): the operator is not positive definite or the values overflowed. " +
                    "Check the grid spacing, time step and viscosity for NaN, infinite or zero values.");
            double alpha = rz / dq;
            res = Step(x, r, d, q, alpha, partials);
            if (res <= target) { if (a.Singular) RemoveMean(x, active, count, partials); return (it, res); }
            Precondition(a, r, z, active, a.Singular, count, partials);
            double rzNew = Dot(r, z, partials);
            double beta = rzNew / rz;
            rz = rzNew;
            NewDirection(d, z, beta);
        }
        throw new SolverException(what, maxIterations, res, double.IsFinite(res)
            ? $"The {what} CG solve did not converge in {maxIterations} iterations (residual {res:E3}, target {target:E3}). Raise maxIterations or loosen the tolerance."
            : $"The {what} CG solve diverged to a non-finite residual ({res}) within {maxIterations} iterations: the values overflowed. Lower the time step or check the inputs for very large values.");
    }

    // The vector operations below run on threads (Threads): element-wise ones split anywhere, reductions per
    // fixed block, each block in the order of the serial loop they replace.

    private static void Precondition(ISpdOperator a, double[] r, double[] z, bool[] active, bool singular, int count, double[] partials)
    {
        a.Precondition(r, z);
        if (!singular)
        {
            var mask = new MaskBody { V = z, Active = active };
            Threads.For(z.Length, 1, ref mask);
            return;
        }
        // Masking and the mean's block sums in one pass: the same operations, per element, as masking first.
        var sum = new SumActiveBody { V = z, Active = active, Partials = partials, Mask = true };
        Threads.ForBlocks(z.Length, ref sum);
        SubtractMean(z, active, Threads.SumInOrder(partials) / count);
    }

    private static void RemoveMean(Span<double> v, bool[] active, int count, double[] partials)
    {
        var sum = new SumActiveBody { V = v, Active = active, Partials = partials };
        Threads.ForBlocks(v.Length, ref sum);
        SubtractMean(v, active, Threads.SumInOrder(partials) / count);
    }

    private static void SubtractMean(Span<double> v, bool[] active, double m)
    {
        var body = new SubtractMeanBody { V = v, Active = active, Mean = m };
        Threads.For(v.Length, 1, ref body);
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double[] partials)
    {
        var body = new DotBody { A = a, B = b, Partials = partials };
        Threads.ForBlocks(a.Length, ref body);
        return Threads.SumInOrder(partials);
    }

    private static double MaxAbs(ReadOnlySpan<double> a, double[] partials)
    {
        var body = new MaxAbsBody { A = a, Partials = partials };
        Threads.ForBlocks(a.Length, ref body);
        return Threads.MaxInOrder(partials);
    }

    private static void Copy(double[] from, double[] to)
    {
        var body = new CopyBody { From = from, To = to };
        Threads.For(from.Length, 1, ref body);
    }

    // x += alpha d, r -= alpha q; returns max|r| (one pass instead of two).
    private static double Step(Span<double> x, double[] r, double[] d, double[] q, double alpha, double[] partials)
    {
        var body = new StepBody { X = x, R = r, D = d, Q = q, Alpha = alpha, Partials = partials };
        Threads.ForBlocks(r.Length, ref body);
        return Threads.MaxInOrder(partials);
    }

    // d = z + beta d.
    private static void NewDirection(double[] d, double[] z, double beta)
    {
        var body = new DirectionBody { D = d, Z = z, Beta = beta };
        Threads.For(d.Length, 1, ref body);
    }

    private ref struct MaskBody : IParallelBody
    {
        public Span<double> V;
        public bool[] Active;

        public void Run(int chunk, int from, int to)
        {
            for (int k = from; k < to; k++) if (!Active[k]) V[k] = 0;
        }
    }

    private ref struct SumActiveBody : IParallelBody
    {
        public Span<double> V;
        public bool[] Active;
        public double[] Partials;
        public bool Mask;

        public void Run(int chunk, int blockFrom, int blockTo)
        {
            for (int blk = blockFrom; blk < blockTo; blk++)
            {
                Threads.BlockRange(V.Length, blk, blk + 1, out int from, out int to);
                double s = 0;
                for (int k = from; k < to; k++)
                {
                    if (Active[k]) s += V[k];
                    else if (Mask) V[k] = 0;
                }
                Partials[blk] = s;
            }
        }
    }

    private ref struct SubtractMeanBody : IParallelBody
    {
        public Span<double> V;
        public bool[] Active;
        public double Mean;

        public void Run(int chunk, int from, int to)
        {
            for (int k = from; k < to; k++) V[k] = Active[k] ? V[k] - Mean : 0;
        }
    }

    private ref struct DotBody : IParallelBody
    {
        public ReadOnlySpan<double> A, B;
        public double[] Partials;

        public void Run(int chunk, int blockFrom, int blockTo)
        {
            for (int blk = blockFrom; blk < blockTo; blk++)
            {
                Threads.BlockRange(A.Length, blk, blk + 1, out int from, out int to);
                double s = 0;
                for (int k = from; k < to; k++) s += A[k] * B[k];
                Partials[blk] = s;
            }
        }
    }

    private ref struct MaxAbsBody : IParallelBody
    {
        public ReadOnlySpan<double> A;
        public double[] Partials;

        public void Run(int chunk, int blockFrom, int blockTo)
        {
            for (int blk = blockFrom; blk < blockTo; blk++)
            {
                Threads.BlockRange(A.Length, blk, blk + 1, out int from, out int to);
                double m = 0;
                for (int k = from; k < to; k++) m = Math.Max(m, Math.Abs(A[k]));
                Partials[blk] = m;
            }
        }
    }

    private ref struct CopyBody : IParallelBody
    {
        public double[] From, To;

        public void Run(int chunk, int from, int to) => From.AsSpan(from, to - from).CopyTo(To.AsSpan(from, to - from));
    }

    private ref struct StepBody : IParallelBody
    {
        public Span<double> X;
        public double[] R, D, Q, Partials;
        public double Alpha;

        public void Run(int chunk, int blockFrom, int blockTo)
        {
            for (int blk = blockFrom; blk < blockTo; blk++)
            {
                Threads.BlockRange(R.Length, blk, blk + 1, out int from, out int to);
                double m = 0;
                for (int k = from; k < to; k++)
                {
                    X[k] += Alpha * D[k];
                    R[k] -= Alpha * Q[k];
                    m = Math.Max(m, Math.Abs(R[k]));
                }
                Partials[blk] = m;
            }
        }
    }

    private ref struct DirectionBody : IParallelBody
    {
        public double[] D, Z;
        public double Beta;

        public void Run(int chunk, int from, int to)
        {
            for (int k = from; k < to; k++) D[k] = Z[k] + Beta * D[k];
        }
    }
}
