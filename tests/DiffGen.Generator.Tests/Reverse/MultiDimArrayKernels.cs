using System.Diagnostics;

namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Multi-dimensional and jagged arrays as people write them (issue #11): <c>double[,]</c> and
/// <c>double[,,]</c> with GetLength and nested loops, jagged <c>double[][]</c> with row lengths and
/// foreach over rows, locals created with <c>new double[n, m]</c> and <c>new double[n][]</c>, inactive
/// <c>int[,]</c> data, and calls passing them on. Float twins of a few.
/// </summary>
public static partial class Grids
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

    /// <summary>A 2D local (the Laplacian, computed by a call run as its two pullback halves) reduced to an energy.</summary>
    [Differentiable]
    public static double LaplacianEnergy(double[,] u, double h)
    {
        var lap = new double[u.GetLength(0), u.GetLength(1)];
        Laplacian(u, lap, h);
        double e = 0;
        for (int i = 0; i < lap.GetLength(0); i++)
            for (int j = 0; j < lap.GetLength(1); j++)
                e += lap[i, j] * lap[i, j];
        return 0.5 * e;
    }

    /// <summary>A matrix product into a local, then a smooth function of it.</summary>
    [Differentiable]
    public static double ProductEnergy(double[,] a, double[,] b)
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
        double e = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                e += Math.Sin(c[i, j]) * c[i, j];
        return e;
    }

    /// <summary>
    /// Explicit heat steps in place on a plate with fixed edges: the scratch grid is overwritten every step
    /// and the plate is read back from it, so the pullback restores what it needs (and the plate it leaves).
    /// </summary>
    [Differentiable]
    public static void HeatSteps(double[,] t, double r, int steps)
    {
        int nx = t.GetLength(0), ny = t.GetLength(1);
        var scratch = new double[nx, ny];
        for (int s = 0; s < steps; s++)
        {
            for (int i = 1; i < nx - 1; i++)
                for (int j = 1; j < ny - 1; j++)
                    scratch[i, j] = t[i, j] + r * (t[i + 1, j] + t[i - 1, j] + t[i, j + 1] + t[i, j - 1] - 4.0 * t[i, j]);
            for (int i = 1; i < nx - 1; i++)
                for (int j = 1; j < ny - 1; j++)
                    t[i, j] = scratch[i, j];
        }
    }

    /// <summary>Inactive int[,] data beside active arrays: a mask selects the cells that count.</summary>
    [Differentiable]
    public static double MaskedSum(double[,] values, int[,] mask, double scale)
    {
        double s = 0;
        for (int i = 0; i < values.GetLength(0); i++)
            for (int j = 0; j < values.GetLength(1); j++)
                if (mask[i, j] != 0) s += scale * values[i, j] * values[i, j] * mask[i, j];
        return s;
    }

    [Differentiable]
    public static double Integral(double[,,] f, double cellVolume)
    {
        double s = 0;
        for (int i = 0; i < f.GetLength(0); i++)
            for (int j = 0; j < f.GetLength(1); j++)
                for (int k = 0; k < f.GetLength(2); k++)
                    s += f[i, j, k];
        return s * cellVolume;
    }

    [Differentiable]
    public static float IntegralF(float[,,] f, float cellVolume)
    {
        float s = 0;
        for (int i = 0; i < f.GetLength(0); i++)
            for (int j = 0; j < f.GetLength(1); j++)
                for (int k = 0; k < f.GetLength(2); k++)
                    s += f[i, j, k];
        return s * cellVolume;
    }

    [Differentiable]
    public static double DivergenceNorm(double[,,] u, double[,,] v, double[,,] w, double h)
    {
        double total = 0;
        for (int i = 1; i < u.GetLength(0) - 1; i++)
            for (int j = 1; j < u.GetLength(1) - 1; j++)
                for (int k = 1; k < u.GetLength(2) - 1; k++)
                {
                    double div = (u[i + 1, j, k] - u[i - 1, j, k] + v[i, j + 1, k] - v[i, j - 1, k] + w[i, j, k + 1] - w[i, j, k - 1]) / (2 * h);
                    total += div * div;
                }
        return total;
    }

    [Differentiable]
    public static void Smooth(double[,,] input, double[,,] output, double weight)
    {
        int nx = input.GetLength(0), ny = input.GetLength(1), nz = input.GetLength(2);
        for (int i = 0; i < nx; i++)
            for (int j = 0; j < ny; j++)
                for (int k = 0; k < nz; k++)
                {
                    double s = input[i, j, k];
                    int count = 1;
                    if (i > 0) { s += weight * input[i - 1, j, k]; count++; }
                    if (i < nx - 1) { s += weight * input[i + 1, j, k]; count++; }
                    if (k > 0) { s += weight * input[i, j, k - 1]; count++; }
                    output[i, j, k] = s / count;
                }
    }
}

/// <summary>Jagged arrays: ragged rows, foreach over rows, row aliases, a jagged local with rows allocated in a loop.</summary>
public static partial class Rows
{
    [Differentiable]
    public static double SumOfSquares(double[][] rows)
    {
        double s = 0;
        foreach (double[] row in rows)
            for (int j = 0; j < row.Length; j++)
                s += row[j] * row[j];
        return s;
    }

    [Differentiable]
    public static float SumOfSquaresF(float[][] rows)
    {
        float s = 0;
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < rows[i].Length; j++)
                s += rows[i][j] * rows[i][j];
        return s;
    }

    [Differentiable]
    public static void Axpy(double[][] y, double a, double[][] x)
    {
        for (int i = 0; i < y.Length; i++)
            for (int j = 0; j < y[i].Length; j++)
                y[i][j] += a * x[i][j];
    }

    /// <summary>A jagged local whose rows are allocated in a loop, then reduced.</summary>
    [Differentiable]
    public static double OuterEnergy(double[] u, double[] v)
    {
        var result = new double[u.Length][];
        for (int i = 0; i < u.Length; i++)
        {
            result[i] = new double[v.Length];
            for (int j = 0; j < v.Length; j++) result[i][j] = u[i] * v[j];
        }
        double e = 0;
        for (int i = 0; i < result.Length; i++)
        {
            var row = result[i];
            for (int j = 0; j < row.Length; j++) e += Math.Exp(0.3 * row[j]);
        }
        return e;
    }

    /// <summary>Jacobi iterations for A x = b on a jagged matrix (the iterate is overwritten every sweep).</summary>
    [Differentiable]
    public static double JacobiResidual(double[][] a, double[] b, int iterations)
    {
        ArgumentNullException.ThrowIfNull(a);
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
        double r = 0;
        for (int i = 0; i < n; i++) r += (i + 1) * x[i] * x[i];
        return r;
    }

    /// <summary>Two Axpy calls in sequence on the same jagged output (split calls), then a nonlinear read.</summary>
    [Differentiable]
    public static double TwoAxpys(double[][] y, double a, double[][] x)
    {
        Axpy(y, a, x);
        Axpy(y, a * a, x);
        double s = 0;
        foreach (var row in y)
            foreach (var value in row)
                s += value * value * value;
        return s;
    }
}
