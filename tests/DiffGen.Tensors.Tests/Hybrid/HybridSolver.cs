namespace DiffGen.Tensors.Tests.Hybrid;

/// <summary>
/// A small nonlinear periodic solver step with a control input (reaction-diffusion):
/// next_i = u_i + nu (u_{i-1} - 2 u_i + u_{i+1}) + dt (f_i - u_i^3).
/// The DiffGen generator emits <c>StepPullback</c> and <c>DiffusePullback</c>.
/// </summary>
internal static partial class HybridSolver
{
    [Differentiable]
    public static void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> f, Span<double> next, double nu, double dt)
    {
        int n = u.Length;
        for (int i = 0; i < n; i++)
            next[i] = u[i] + nu * (u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n]) + dt * (f[i] - u[i] * u[i] * u[i]);
    }

    /// <summary>The one-input variant: a pure diffusion step.</summary>
    [Differentiable]
    public static void Diffuse(ReadOnlySpan<double> u, Span<double> next, double nu)
    {
        int n = u.Length;
        for (int i = 0; i < n; i++) next[i] = u[i] + nu * (u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n]);
    }
}
