// double[,] and float[,] with GetLength and nested loops: norms, traces, a matrix product returning
// a new matrix, a transpose into an output, a five-point Laplacian. Float twins of two of them.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Matrices;

public static partial class Matrix
{
    [Differentiable]
    public static double FrobeniusNorm(double[,] a)
    {
        double s = 0;
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++)
                s += a[i, j] * a[i, j];
        return Math.Sqrt(s);
    }

    [Differentiable]
    public static float FrobeniusNormF(float[,] a)
    {
        float s = 0;
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++)
                s += a[i, j] * a[i, j];
        return MathF.Sqrt(s);
    }

    [Differentiable]
    public static double Trace(double[,] a)
    {
        if (a.GetLength(0) != a.GetLength(1)) throw new ArgumentException("Square matrix expected.", nameof(a));
        double t = 0;
        for (int i = 0; i < a.GetLength(0); i++) t += a[i, i];
        return t;
    }

    [Differentiable]
    public static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), k = a.GetLength(1), m = b.GetLength(1);
        if (b.GetLength(0) != k) throw new ArgumentException($"Inner dimensions differ: {k} and {b.GetLength(0)}.");
        var c = new double[n, m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int l = 0; l < k; l++) s += a[i, l] * b[l, j];
                c[i, j] = s;
            }
        return c;
    }

    [Differentiable]
    public static void Transpose(double[,] a, double[,] result)
    {
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++)
                result[j, i] = a[i, j];
    }

    [Differentiable]
    public static void Laplacian(double[,] u, double[,] lap, double h)
    {
        int nx = u.GetLength(0), ny = u.GetLength(1);
        double inv = 1.0 / (h * h);
        for (int i = 1; i < nx - 1; i++)
            for (int j = 1; j < ny - 1; j++)
                lap[i, j] = (u[i + 1, j] + u[i - 1, j] + u[i, j + 1] + u[i, j - 1] - 4 * u[i, j]) * inv;
    }

    [Differentiable]
    public static void LaplacianF(float[,] u, float[,] lap, float h)
    {
        int nx = u.GetLength(0), ny = u.GetLength(1);
        float inv = 1f / (h * h);
        for (int i = 1; i < nx - 1; i++)
            for (int j = 1; j < ny - 1; j++)
                lap[i, j] = (u[i + 1, j] + u[i - 1, j] + u[i, j + 1] + u[i, j - 1] - 4 * u[i, j]) * inv;
    }
}

public static class Driver
{
    private static readonly double[] P = Data.Uniform(40, 131, -1, 1);

    private static double[,] M(double[] p, int n, int m) => new Reader(p).D2(n, m);

    private static double LapLoss(double[] p)
    {
        var r = new Reader(p); var u = r.D2(4, 5); var lap = new double[4, 5];
        Matrix.Laplacian(u, lap, r.D() + 1.5);
        return new Writer().Add(lap).Loss();
    }

    public static string? Check() => C.All(
        C.Gradient("Matrix.FrobeniusNorm", p => Matrix.FrobeniusNorm(M(p, 3, 4)), Ad.For("FrobeniusNorm"), P[..12]),
        C.Gradient("Matrix.FrobeniusNormF", p => Matrix.FrobeniusNorm(M(p, 3, 4)), Ad.For("FrobeniusNormF"), P[..12], C.FloatTolerance),
        C.Gradient("Matrix.Trace", p => Matrix.Trace(M(p, 3, 3)), Ad.For("Trace"), P[..9]),
        C.Gradient("Matrix.Multiply", p => { var r = new Reader(p); return new Writer().Add(Matrix.Multiply(r.D2(2, 3), r.D2(3, 4))).Loss(); }, Ad.For("Multiply"), P[..18]),
        C.Gradient("Matrix.Transpose", p => { var t = new double[4, 3]; Matrix.Transpose(M(p, 3, 4), t); return new Writer().Add(t).Loss(); }, Ad.For("Transpose"), P[..12]),
        C.Gradient("Matrix.Laplacian", LapLoss, Ad.For("Laplacian"), P[..21]),
        C.Gradient("Matrix.LaplacianF", LapLoss, Ad.For("LaplacianF"), P[..21], C.FloatTolerance),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["FrobeniusNorm"] = p => { var a = M(p, 3, 4); var bar = new double[3, 4]; Matrix.FrobeniusNormPullback(a, 1.0, bar); return new Writer().Add(bar).ToArray(); },
        ["FrobeniusNormF"] = p => { var a = new Reader(p).F2(3, 4); var bar = new float[3, 4]; Matrix.FrobeniusNormFPullback(a, 1f, bar); return new Writer().Add(bar).ToArray(); },
        ["Trace"] = p => { var a = M(p, 3, 3); var bar = new double[3, 3]; Matrix.TracePullback(a, 1.0, bar); return new Writer().Add(bar).ToArray(); },
        ["Multiply"] = p =>
        {
            var r = new Reader(p); var a = r.D2(2, 3); var b = r.D2(3, 4);
            var aBar = new double[2, 3]; var bBar = new double[3, 4];
            var c = Matrix.MultiplyPullback(a, b, Reader.Seeds().D2(2, 4), aBar, bBar);
            if (c.GetLength(0) != 2 || c.GetLength(1) != 4) throw new InvalidOperationException("MultiplyPullback must return the product");
            return new Writer().Add(aBar).Add(bBar).ToArray();
        },
        ["Transpose"] = p =>
        {
            var a = M(p, 3, 4); var aBar = new double[3, 4]; var tBar = Reader.Seeds().D2(4, 3);
            Matrix.TransposePullback(a, new double[4, 3], aBar, tBar);
            return new Writer().Add(aBar).ToArray();
        },
        ["Laplacian"] = p =>
        {
            var r = new Reader(p); var u = r.D2(4, 5); double h = r.D() + 1.5;
            var uBar = new double[4, 5]; var lapBar = Reader.Seeds().D2(4, 5); double hBar = 0;
            Matrix.LaplacianPullback(u, new double[4, 5], h, uBar, lapBar, ref hBar);
            return new Writer().Add(uBar).Add(hBar).ToArray();
        },
        ["LaplacianF"] = p =>
        {
            var r = new Reader(p); var u = r.F2(4, 5); float h = (float)(r.D() + 1.5);
            var uBar = new float[4, 5]; var lapBar = Reader.Seeds().F2(4, 5); float hBar = 0;
            Matrix.LaplacianFPullback(u, new float[4, 5], h, uBar, lapBar, ref hBar);
            return new Writer().Add(uBar).Add(hBar).ToArray();
        },
    };
#endif
}
