namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// A 1D reaction-diffusion rod with the usual double buffer: each step writes the next state into a
/// scratch array and swaps the two array fields with a tuple (<c>(_u, _next) = (_next, _u)</c>).
/// </summary>
public partial class Rod
{
    private double[] _u;
    private double[] _next;

    public Rod(double[] u, double kappa)
    {
        _u = (double[])u.Clone();
        _next = new double[u.Length];
        Kappa = kappa;
    }

    public double Kappa { get; set; }

    public double[] U => _u;

    [Differentiable]
    public void Step(double dt)
    {
        int n = _u.Length;
        for (int i = 0; i < n; i++)
        {
            double left = i > 0 ? _u[i - 1] : _u[i];
            double right = i < n - 1 ? _u[i + 1] : _u[i];
            _next[i] = _u[i] + dt * Kappa * (left - 2 * _u[i] + right) - 0.1 * dt * _u[i] * _u[i];
        }
        (_u, _next) = (_next, _u);
    }

    /// <summary>Two steps through calls on this: each call swaps the buffers.</summary>
    [Differentiable]
    public void TwoSteps(double dt)
    {
        Step(dt);
        Step(dt);
    }
}
