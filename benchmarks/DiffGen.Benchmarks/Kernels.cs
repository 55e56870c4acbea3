using DiffGen;

namespace DiffGen.Benchmarks;

/// <summary>
/// The kernels of the generator benchmarks (issue 2 / 6), written as a user would; the benchmarks time
/// the pushforwards and the dual pullback too, so those methods ask for them.
/// </summary>
public static partial class BenchKernels
{
    /// <summary>One 1D Burgers step: explicit diffusion, then semi-Lagrangian self-advection (periodic).</summary>
    [Differentiable(Modes = DerivativeModes.Reverse | DerivativeModes.Forward)]
    public static void Burgers(ReadOnlySpan<double> u, Span<double> next, double[] tmp, double nu, double dt, double dx)
    {
        int n = u.Length;
        double c = nu * dt / (dx * dx);
        for (int i = 0; i < n; i++)
            tmp[i] = u[i] + c * (u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n]);
        for (int i = 0; i < n; i++)
        {
            double x = i - tmp[i] * dt / dx;
            int j = (int)Math.Floor(x);
            double f = x - j;
            int j0 = ((j % n) + n) % n;
            int j1 = (j0 + 1) % n;
            next[i] = (1 - f) * tmp[j0] + f * tmp[j1];
        }
    }

    /// <summary>A 2D 5-point stencil (heat step) on the interior of an nx×ny grid.</summary>
    [Differentiable(Modes = DerivativeModes.Reverse | DerivativeModes.Forward)]
    public static void Stencil(ReadOnlySpan<double> u, Span<double> next, int nx, int ny, double alpha)
    {
        for (int j = 1; j < ny - 1; j++)
            for (int i = 1; i < nx - 1; i++)
            {
                int k = j * nx + i;
                next[k] = u[k] + alpha * (u[k - 1] + u[k + 1] + u[k - nx] + u[k + nx] - 4 * u[k]);
            }
    }

    /// <summary>A dot-product reduction.</summary>
    [Differentiable]
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>A smooth scalar loss for the Hessian-vector benchmark.</summary>
    [Differentiable(Modes = DerivativeModes.Reverse | DerivativeModes.Dual)]
    public static double Energy(ReadOnlySpan<double> u, double nu)
    {
        double e = 0;
        int n = u.Length;
        for (int i = 0; i < n; i++)
        {
            double d = u[(i + 1) % n] - u[i];
            e += nu * d * d + Math.Sin(u[i]) * u[i];
        }
        return e;
    }
}
