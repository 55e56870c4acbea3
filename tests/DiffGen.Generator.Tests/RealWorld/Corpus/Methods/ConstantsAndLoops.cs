// Constants of several numeric types (const byte, short, long, float), long loop bounds and
// static readonly configuration: the everyday loop code that pre-#11 DiffGen rejected.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Loops;

public static partial class Series
{
    private const byte Terms = 5;
    private const short Substeps = 3;
    private const long Repeats = 2L;
    private const float Half = 0.5f;
    private static readonly double[] Coefficients = { 1.0, -0.5, 0.25, -0.125, 0.0625 };
    private static readonly double Damping = 0.9;

    [Differentiable]
    public static double Polynomial(double x)
    {
        double result = 0;
        double power = 1;
        for (byte k = 0; k < Terms; k++)
        {
            result += Coefficients[k] * power;
            power *= x;
        }
        return result;
    }

    [Differentiable]
    public static float PolynomialF(float x)
    {
        float result = 0;
        float power = 1;
        for (int k = 0; k < Terms; k++)
        {
            result += (float)Coefficients[k] * power;
            power *= x;
        }
        return result;
    }

    [Differentiable]
    public static double SumFirst(double[] values, long count)
    {
        double s = 0;
        for (int i = 0; i < count; i++) s += values[i] * values[i];
        return s;
    }

    [Differentiable]
    public static double DampedIterate(double x, double rate)
    {
        for (long r = 0; r < Repeats; r++)
            for (short s = 0; s < Substeps; s++)
                x = Damping * x + Half * rate * Math.Sin(x);
        return x;
    }

    [Differentiable]
    public static double Geometric(double ratio, long n)
    {
        double sum = 0, term = 1;
        for (long k = 0; k < n; k++)
        {
            sum += term;
            term *= ratio;
        }
        return sum;
    }
}

public static class Driver
{
    public static string? Check() => C.All(
        C.Gradient("Series.Polynomial", p => Series.Polynomial(p[0]), Ad.For("Polynomial"), [0.7]),
        C.Gradient("Series.PolynomialF", p => Series.Polynomial(p[0]), Ad.For("PolynomialF"), [0.7], C.FloatTolerance),
        C.Gradient("Series.SumFirst", p => Series.SumFirst(p, 3L), Ad.For("SumFirst"), [0.5, -1.5, 2.0, 9.0]),
        C.Gradient("Series.DampedIterate", p => Series.DampedIterate(p[0], p[1]), Ad.For("DampedIterate"), [1.2, 0.3]),
        C.Gradient("Series.Geometric", p => Series.Geometric(p[0], 7L), Ad.For("Geometric"), [0.8]),
        C.Tangent("Series.DampedIteratePushforward", p => [Series.DampedIterate(p[0], p[1])], Dot.For("DampedIterate"), [1.2, 0.3], [0.6, -1.1]),
        Ad.Unused(), Dot.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
    private static readonly Tangents Dot = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["Polynomial"] = p => { double xBar = 0; Series.PolynomialPullback(p[0], 1.0, ref xBar); return [xBar]; },
        ["PolynomialF"] = p => { float xBar = 0; Series.PolynomialFPullback((float)p[0], 1f, ref xBar); return [xBar]; },
        ["SumFirst"] = p => { var bar = new double[p.Length]; Series.SumFirstPullback(p, 3L, 1.0, bar); return bar; },
        ["DampedIterate"] = p => { double xBar = 0, rBar = 0; Series.DampedIteratePullback(p[0], p[1], 1.0, ref xBar, ref rBar); return [xBar, rBar]; },
        ["Geometric"] = p => { double rBar = 0; Series.GeometricPullback(p[0], 7L, 1.0, ref rBar); return [rBar]; },
    };

    private static readonly Tangents Dot = new()
    {
        ["DampedIterate"] = (p, v) => { var (value, tangent) = Series.DampedIteratePushforward(p[0], v[0], p[1], v[1]); return [tangent]; },
    };
#endif
}
