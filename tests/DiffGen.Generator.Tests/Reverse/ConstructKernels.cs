namespace DiffGen.Generator.Tests.Reverse;

/// <summary>One kernel per construct of the supported subset, all of the form double F(ReadOnlySpan&lt;double&gt; x).</summary>
public static partial class Constructs
{
    public const double Half = 0.5;
    public static readonly double Scale = 1.7;

    [Differentiable] public static double Arithmetic(ReadOnlySpan<double> x) => (x[0] + x[1]) * (x[2] - x[0]) / (x[1] + 3) - -x[2];

    [Differentiable] public static double ConstantsAndFields(ReadOnlySpan<double> x) { const double k = 2.5; return k * x[0] * Half + Scale * x[1] * Math.PI; }

    // Float casts are exercised by SinglePrecision.Loss (finite differences through float rounding are too coarse here).
    [Differentiable] public static double Casts(ReadOnlySpan<double> x) { int i = (int)(x[1] * 10); long l = (long)x[0]; double d = (double)i * x[0] + (double)l; return d * x[1] + i + x[2] * (x.Length / 2); }

    [Differentiable] public static double Trig(ReadOnlySpan<double> x) => Math.Sin(x[0]) * Math.Cos(x[1]) + Math.Tan(x[2] * 0.3);

    [Differentiable] public static double ExpLogSqrt(ReadOnlySpan<double> x) => Math.Exp(x[0]) * Math.Log(x[1] + 2) + Math.Sqrt(x[2] + 2) + Math.Log10(x[1] + 3) + Math.Log2(x[0] + 4);

    [Differentiable] public static double PowTanhAbs(ReadOnlySpan<double> x) => Math.Pow(x[0] + 2, x[1]) + Math.Tanh(x[2]) + Math.Abs(x[0] - 0.05) * Math.Pow(x[1], 2);

    [Differentiable] public static double MinMaxClamp(ReadOnlySpan<double> x) => Math.Min(x[0], x[1]) * Math.Max(x[1], x[2]) + Math.Clamp(x[2] * 3, -0.5, 0.5) + Math.Clamp(x[0], x[1] - 1, x[1] + 1);

    [Differentiable] public static double Atan2AndRounding(ReadOnlySpan<double> x) => Math.Atan2(x[0], x[1] + 2) + Math.Floor(x[2] * 4) * x[0] + Math.Ceiling(x[1]) * x[2] + Math.Round(x[0] * 3) * x[1];

    [Differentiable] public static double HyperbolicAndInverse(ReadOnlySpan<double> x) => Math.Sinh(x[0]) + Math.Cosh(x[1]) + Math.Atan(x[2]) + Math.Asin(x[0] * 0.5) + Math.Acos(x[1] * 0.5) + Math.Cbrt(x[2] + 3);

    [Differentiable] public static double ConditionalExpression(ReadOnlySpan<double> x) => x[0] > x[1] ? x[0] * x[2] : (x[1] < 0 ? -x[1] * x[1] : x[2] / (1 + x[1] * x[1]));

    [Differentiable] public static double ReassignedLocal(ReadOnlySpan<double> x) { double a = x[0]; a = a * x[1]; a = Math.Sin(a) + a; a = a * a; return a; }

    [Differentiable] public static double CompoundAssignments(ReadOnlySpan<double> x) { double a = 1; a += x[0]; a *= x[1]; a -= x[2]; a /= 1 + x[0] * x[0]; return a; }

    [Differentiable] public static double NestedIf(ReadOnlySpan<double> x)
    {
        double r;
        if (x[0] > 0) { if (x[1] > 0) r = x[0] * x[1]; else r = x[0] - x[1]; }
        else { if (x[2] > 0) r = x[2] * x[2]; else { r = -x[2]; r *= x[0]; } }
        return r;
    }

    [Differentiable] public static double SwitchOnInactive(ReadOnlySpan<double> x)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++)
        {
            switch (i % 3)
            {
                case 0: s += x[i]; break;
                case 1: s += x[i] * x[i]; break;
                default: s -= Math.Sin(x[i]); break;
            }
        }
        return s;
    }

    [Differentiable] public static double WhileLoop(ReadOnlySpan<double> x) { double s = 0; int i = 0; while (i < x.Length) { s = s * 0.9 + x[i] * x[i]; i++; } return s; }

    [Differentiable] public static double NestedLoopsFromLengths(ReadOnlySpan<double> x)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++)
            for (int j = i; j < x.Length; j++)
                s += x[i] * x[j] / (1 + j - i);
        return s;
    }

    [Differentiable] public static double PeriodicNeighbours(ReadOnlySpan<double> x)
    {
        int n = x.Length;
        double s = 0;
        for (int i = 0; i < n; i++) s += x[i] * (x[(i + 1) % n] - x[(i + n - 1) % n]) + x[i] * x[i];
        return s;
    }

    [Differentiable] public static double GatherAtFloor(ReadOnlySpan<double> x)
    {
        int n = x.Length;
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            double p = (i + 0.3 + 0.2 * x[i]) * 0.5;
            int j = (int)Math.Floor(p);
            double w = p - j;
            s += (1 - w) * x[j % n] + w * x[(j + 1) % n];
        }
        return s * s;
    }

    [Differentiable] public static double GaussSeidelInPlaceCopy(ReadOnlySpan<double> x)
    {
        var u = new double[x.Length];
        for (int i = 0; i < x.Length; i++) u[i] = x[i];
        for (int sweep = 0; sweep < 3; sweep++)
            for (int i = 1; i < u.Length - 1; i++)
                u[i] = 0.5 * (u[i - 1] + u[i + 1]) + 0.1 * u[i] * u[i];
        double e = 0;
        for (int i = 0; i < u.Length; i++) e += u[i] * u[i];
        return e;
    }

    [Differentiable] public static double ArraysAsSpans(ReadOnlySpan<double> x)
    {
        var a = new double[x.Length];
        var b = new double[x.Length];
        for (int i = 0; i < x.Length; i++) a[i] = x[i] * x[i];
        Helpers.Shift(a, b, 0.3);
        return Helpers.Sum(b);
    }

    [Differentiable] public static double InactiveValuesStopDerivatives(ReadOnlySpan<double> x)
    {
        double unused = Math.Exp(x[0]) * 100;   // does not reach the result
        int count = 0;
        for (int i = 0; i < x.Length; i++) if (x[i] > 0) count++;
        return count * x[1] + x[2];
    }

    [Differentiable] public static double UsesCustomDerivative(ReadOnlySpan<double> x) => Special.SmoothStep(x[0]) * x[1] + Special.SmoothStep(x[2]);
}

public static partial class Helpers
{
    [Differentiable]
    public static void Shift(double[] a, Span<double> b, double c)
    {
        for (int i = 0; i < a.Length; i++) b[i] = a[i] + c * a[(i + 1) % a.Length];
    }

    [Differentiable]
    public static double Sum(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (var e in v) s += e;
        return s;
    }
}

/// <summary>A function with a hand-written derivative that counts its uses.</summary>
public static class Special
{
    public static int PullbackCalls;

    public static double SmoothStep(double t) => t * t * (3 - 2 * t);

    [DerivativeOf(typeof(Special), nameof(SmoothStep))]
    public static double SmoothStepPullback(double t, double resultBar, ref double tBar)
    {
        Interlocked.Increment(ref PullbackCalls);
        tBar += resultBar * 6 * t * (1 - t);
        return SmoothStep(t);
    }
}

public static partial class SinglePrecision
{
    [Differentiable]
    public static float Loss(ReadOnlySpan<float> x, float k)
    {
        float s = 0f;
        for (int i = 0; i < x.Length; i++) s += MathF.Sin(k * x[i]) * x[i] + (float)Math.Exp(x[i] * 0.1);
        return s;
    }

    [Differentiable]
    public static double Mixed([NoDiff] double frozen, double x, int n, bool flag)
    {
        double r = frozen * x;
        if (flag) r += n * x * x;
        return r;
    }
}
