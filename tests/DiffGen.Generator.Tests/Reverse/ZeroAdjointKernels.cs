namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Loop-body locals whose adjoints the reverse sweep assigns on first contribution instead of adding to
/// zero: each kernel puts a contribution where that must not happen (a branch, a conditional expression,
/// a callee adding through a ref) before the plain ones, in reverse order.
/// </summary>
public static partial class ZeroAdjoints
{
    /// <summary>A branch contributes to t after its plain uses (so first in the reverse sweep).</summary>
    [Differentiable]
    public static double BranchLast(ReadOnlySpan<double> u, double w)
    {
        double s = 0;
        for (int i = 0; i < u.Length; i++)
        {
            double t = w * u[i];
            double q = t * t + 1;
            s += q * t;
            if (u[i] > 0.1) { s += Math.Sin(t) * q; }
        }
        return s;
    }

    /// <summary>A conditional expression contributes to t before a plain use does (in reverse order).</summary>
    [Differentiable]
    public static double ConditionalLast(ReadOnlySpan<double> u, double w)
    {
        double s = 0;
        for (int i = 0; i < u.Length; i++)
        {
            double t = w * u[i] + 0.5;
            s += 3 * t;
            s += (u[i] > 0 ? t * t : 2 * t) * w;
        }
        return s;
    }

    /// <summary>Math.Max and Math.Clamp contribute to t on one side of a test before a plain use does (in reverse order).</summary>
    [Differentiable]
    public static double MaxClampLast(ReadOnlySpan<double> u, double w)
    {
        double s = 0;
        for (int i = 0; i < u.Length; i++)
        {
            double t = w * u[i];
            s += 2 * t * t;
            s += Math.Max(t, 0.1) * w + Math.Clamp(t, -0.3, 0.4);
        }
        return s;
    }

    /// <summary>An inner loop contributes to t several times before a plain use does (in reverse order).</summary>
    [Differentiable]
    public static double InnerLoopLast(ReadOnlySpan<double> u, double w)
    {
        double s = 0;
        for (int i = 0; i < u.Length; i++)
        {
            double t = w * u[i];
            s += t * t;
            for (int k = 1; k < 4; k++) { s += Math.Sin(k * t); }
        }
        return s;
    }

    /// <summary>A callee's pullback adds to t's adjoint through a ref; a plain use comes after it (in reverse order).</summary>
    [Differentiable]
    public static double CalleeLast(ReadOnlySpan<double> u, double w)
    {
        double s = 0;
        for (int i = 0; i < u.Length; i++)
        {
            double t = w * u[i];
            s += t * w;
            s += Cube(t);
        }
        return s;
    }

    /// <summary>A scalar helper with its own pullback.</summary>
    [Differentiable]
    public static double Cube(double x) => x * x * x;
}
