namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Array locals in differentiated code: the generated pullbacks take them, their adjoints and saved outputs
/// from the tape's pool of large arrays, and give them back when the reverse sweep is done.
/// </summary>
public static partial class ScratchArrays
{
    /// <summary>A single-method pullback (scalar result) with an array local.</summary>
    [Differentiable]
    public static double SmoothedEnergy(ReadOnlySpan<double> u, double w)
    {
        int n = u.Length;
        double[] tmp = new double[n];
        for (int i = 1; i < n - 1; i++) tmp[i] = w * u[i - 1] + (1 - 2 * w) * u[i] + w * u[i + 1];
        double e = 0;
        for (int i = 0; i < n; i++) e += tmp[i] * tmp[i] + Math.Sin(tmp[i]);
        return e;
    }

    /// <summary>A method with halves and an array local whose adjoint the reverse half needs.</summary>
    [Differentiable]
    public static void SmoothSquare(ReadOnlySpan<double> u, Span<double> r, double w)
    {
        int n = u.Length;
        double[] tmp = new double[n];
        for (int i = 1; i < n - 1; i++) tmp[i] = w * u[i - 1] + (1 - 2 * w) * u[i] + w * u[i + 1];
        for (int i = 0; i < n; i++) r[i] = tmp[i] * tmp[i];
    }

    /// <summary>Calls <see cref="SmoothSquare"/> outside loops (its halves) and then updates the output in place.</summary>
    [Differentiable]
    public static double TwoStages(ReadOnlySpan<double> u, Span<double> r, double w)
    {
        SmoothSquare(u, r, w);
        for (int i = 0; i < r.Length; i++) r[i] = r[i] * r[i];
        double s = 0;
        for (int i = 0; i < r.Length; i++) s += r[i];
        return s;
    }
}
