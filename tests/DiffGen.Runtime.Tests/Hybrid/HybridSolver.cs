namespace DiffGen.Runtime.Tests.Hybrid;

/// <summary>
/// A small nonlinear periodic solver step with a control input (reaction-diffusion):
/// next_i = u_i + nu (u_{i-1} - 2 u_i + u_{i+1}) + dt (f_i - u_i^3).
/// The pullback is written by hand in the generated-code contract until the generator emits it.
/// </summary>
internal static class HybridSolver
{
    public static void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> f, Span<double> next, double nu, double dt)
    {
        int n = u.Length;
        for (int i = 0; i < n; i++)
            next[i] = u[i] + nu * (u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n]) + dt * (f[i] - u[i] * u[i] * u[i]);
    }

    public static void StepPullback(ReadOnlySpan<double> u, ReadOnlySpan<double> f, Span<double> next, double nu, double dt,
        Span<double> uBar, Span<double> fBar, Span<double> nextBar)
    {
        Step(u, f, next, nu, dt);
        int n = u.Length;
        for (int i = 0; i < n; i++)
        {
            double nb = nextBar[i];
            uBar[i] += nb * (1 - 2 * nu - 3 * dt * u[i] * u[i]);
            uBar[(i + n - 1) % n] += nb * nu;
            uBar[(i + 1) % n] += nb * nu;
            fBar[i] += nb * dt;
            nextBar[i] = 0;
        }
    }

    /// <summary>The one-input variant: a pure diffusion step (control fixed to zero).</summary>
    public static void Diffuse(ReadOnlySpan<double> u, Span<double> next, double nu)
    {
        int n = u.Length;
        for (int i = 0; i < n; i++) next[i] = u[i] + nu * (u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n]);
    }

    public static void DiffusePullback(ReadOnlySpan<double> u, Span<double> next, double nu, Span<double> uBar, Span<double> nextBar)
    {
        Diffuse(u, next, nu);
        int n = u.Length;
        for (int i = 0; i < n; i++)
        {
            double nb = nextBar[i];
            uBar[i] += nb * (1 - 2 * nu);
            uBar[(i + n - 1) % n] += nb * nu;
            uBar[(i + 1) % n] += nb * nu;
            nextBar[i] = 0;
        }
    }
}
