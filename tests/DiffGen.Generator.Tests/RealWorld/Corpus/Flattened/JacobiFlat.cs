// Simulators/JacobiSolver.cs rewritten in the style the generator accepted before issue #11:
// the jagged matrix as a flat row-major span, the solution written into a span parameter, no guards.
using System;
using CorpusSupport;
using DiffGen;

namespace Flat;

public static partial class JacobiFlat
{
    [Differentiable]
    public static void Solve(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> x, int iterations)
    {
        int n = b.Length;
        double[] next = new double[n];
        for (int i = 0; i < n; i++) x[i] = 0;
        for (int it = 0; it < iterations; it++)
        {
            for (int i = 0; i < n; i++)
            {
                double sigma = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j != i) sigma += a[i * n + j] * x[j];
                }
                next[i] = (b[i] - sigma) / a[i * n + i];
            }
            for (int i = 0; i < n; i++) x[i] = next[i];
        }
    }

    [Differentiable]
    public static void SolveF(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> x, int iterations)
    {
        int n = b.Length;
        float[] next = new float[n];
        for (int i = 0; i < n; i++) x[i] = 0;
        for (int it = 0; it < iterations; it++)
        {
            for (int i = 0; i < n; i++)
            {
                float sigma = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j != i) sigma += a[i * n + j] * x[j];
                }
                next[i] = (b[i] - sigma) / a[i * n + i];
            }
            for (int i = 0; i < n; i++) x[i] = next[i];
        }
    }
}

public static class Driver
{
    private const int N = 4;
    private const int Iterations = 6;

    // The same point as Simulators/JacobiSolver.cs: the matrix row by row, then b.
    private static double[] Start()
    {
        var a = Data.Uniform(N * N, 51, -1, 1);
        for (int i = 0; i < N; i++) a[i * N + i] = 5.0 + i;
        return Data.Concat(a, Data.Uniform(N, 52, -2, 2));
    }

    private static double Loss(double[] p)
    {
        var x = new double[N];
        JacobiFlat.Solve(p.AsSpan(0, N * N), p.AsSpan(N * N, N), x, Iterations);
        return new Writer().Add(x).Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null, AdF = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient, AdF = GradientF;

    private static double[] Gradient(double[] p)
    {
        var aBar = new double[N * N];
        var bBar = new double[N];
        var xBar = Reader.Seeds().Ds(N);
        JacobiFlat.SolvePullback(p.AsSpan(0, N * N), p.AsSpan(N * N, N), new double[N], Iterations, aBar, bBar, xBar);
        return Data.Concat(aBar, bBar);
    }

    private static double[] GradientF(double[] pd)
    {
        var p = Data.ToFloat(pd);
        var aBar = new float[N * N];
        var bBar = new float[N];
        var xBar = Reader.Seeds().Fs(N);
        JacobiFlat.SolveFPullback(p.AsSpan(0, N * N), p.AsSpan(N * N, N), new float[N], Iterations, aBar, bBar, xBar);
        return new Writer().Add(aBar).Add(bBar).ToArray();
    }
#endif

    public static string? Check() => CorpusSupport.Check.All(
        CorpusSupport.Check.Gradient("JacobiFlat.Solve", Loss, Ad, Start()),
        // Only against the double loss: float finite differences of this solve do not converge below
        // 2.5e-4 (h vs 2h differ by 3.3e-4), which is why float twins are checked against double FD.
        CorpusSupport.Check.Gradient("JacobiFlat.SolveF vs double FD", Loss, AdF, Start(), CorpusSupport.Check.FloatTolerance));
}
