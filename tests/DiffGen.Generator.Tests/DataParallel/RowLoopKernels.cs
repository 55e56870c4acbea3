namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>
/// Gather-form loops whose generated reverse (and forward sweep) run as row loops over spans
/// (docs/generated-code.md, "Gather form"): the cases the row rewrite must get right.
/// </summary>
public static partial class RowLoopKernels
{
    /// <summary>The benchmark's 5-point heat step on the interior of an nx×ny grid (serial).</summary>
    [Differentiable]
    public static void Stencil(ReadOnlySpan<double> u, Span<double> next, int nx, int ny, double alpha)
    {
        for (int j = 1; j < ny - 1; j++)
            for (int i = 1; i < nx - 1; i++)
            {
                int k = j * nx + i;
                next[k] = u[k] + alpha * (u[k - 1] + u[k + 1] + u[k - nx] + u[k + nx] - 4 * u[k]);
            }
    }

    /// <summary>The same stencil on threads, written with a row offset in the outer loop and a float grid.</summary>
    [Differentiable, DataParallel]
    public static void StencilRows(ReadOnlySpan<float> u, Span<float> next, int nx, int ny, float alpha)
    {
        for (int j = 1; j < ny - 1; j++)
        {
            int row = j * nx;
            for (int i = 1; i < nx - 1; i++)
                next[row + i] = u[row + i] + alpha * (u[row + i - 1] + u[row + i + 1] + u[row - nx + i] + u[row + nx + i] - 4 * u[row + i]) * u[row + i];
        }
    }

    /// <summary>
    /// A descending loop over arrays whose counter is also a value, indices through a chain of locals, and
    /// reads that run only on one side of a data-dependent test (they must not be taken as rows up front).
    /// </summary>
    [Differentiable]
    public static void Sweep(double[] u, double[] next, double a)
    {
        int n = u.Length;
        for (int i = n - 3; i >= 2; i--)
        {
            int m = i - 1;
            int p = m + 2;
            double s = u[m] * a + u[p] * (i * 0.01) - u[i];
            next[i] = u[i] > 0 ? s * u[i + 2] : s - u[i - 2] * a;
        }
    }
}
