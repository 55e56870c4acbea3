// Jacobi iteration for A x = b on a jagged matrix, returning the solution array: textbook code
// with argument validation and a Debug.Assert on the row lengths.
using System;
using System.Diagnostics;
using CorpusSupport;
using DiffGen;

namespace LinearAlgebra;

public static partial class Jacobi
{
    [Differentiable]
    public static double[] Solve(double[][] a, double[] b, int iterations)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length != b.Length)
            throw new ArgumentException($"The matrix has {a.Length} rows but b has {b.Length} entries.", nameof(b));

        int n = b.Length;
        var x = new double[n];
        var next = new double[n];
        for (int it = 0; it < iterations; it++)
        {
            for (int i = 0; i < n; i++)
            {
                Debug.Assert(a[i].Length == n, "the matrix must be square");
                double sigma = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j != i) sigma += a[i][j] * x[j];
                }
                next[i] = (b[i] - sigma) / a[i][i];
            }
            for (int i = 0; i < n; i++) x[i] = next[i];
        }
        return x;
    }
}

public static class Driver
{
    private const int N = 4;
    private const int Iterations = 6;

    private static double[] Start()
    {
        var a = Data.Uniform(N * N, 51, -1, 1);
        for (int i = 0; i < N; i++) a[i * N + i] = 5.0 + i; // diagonally dominant
        return Data.Concat(a, Data.Uniform(N, 52, -2, 2));
    }

    private static double Loss(double[] p)
    {
        var r = new Reader(p);
        var x = Jacobi.Solve(r.Jag(N, N), r.Ds(N), Iterations);
        return new Writer().Add(x).Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;

    private static double[] Gradient(double[] p)
    {
        var r = new Reader(p);
        var a = r.Jag(N, N);
        var b = r.Ds(N);
        var aBar = new double[N][];
        for (int i = 0; i < N; i++) aBar[i] = new double[N];
        var bBar = new double[N];
        var resultBar = Reader.Seeds().Ds(N);
        double[] x = Jacobi.SolvePullback(a, b, Iterations, resultBar, aBar, bBar);
        if (x.Length != N) throw new InvalidOperationException("SolvePullback must return the solution");
        return new Writer().Add(aBar).Add(bBar).ToArray();
    }
#endif

    public static string? Check() => CorpusSupport.Check.Gradient("Jacobi.Solve", Loss, Ad, Start());
}
