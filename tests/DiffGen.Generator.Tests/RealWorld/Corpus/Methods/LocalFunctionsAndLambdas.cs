// Local functions and lambdas that never escape the method: Simpson integration of a local
// integrand, a lambda applied in a loop, a static local helper. Float twin of the integral.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Locals;

public static partial class Quadrature
{
    [Differentiable]
    public static double Simpson(double a, double b, double k, int intervals)
    {
        if (intervals % 2 != 0) throw new ArgumentException("Simpson's rule needs an even number of intervals.", nameof(intervals));
        double F(double x) => Math.Exp(-k * x * x);

        double h = (b - a) / intervals;
        double sum = F(a) + F(b);
        for (int i = 1; i < intervals; i++)
            sum += (i % 2 == 1 ? 4 : 2) * F(a + i * h);
        return sum * h / 3;
    }

    [Differentiable]
    public static float SimpsonF(float a, float b, float k, int intervals)
    {
        float F(float x) => MathF.Exp(-k * x * x);

        float h = (b - a) / intervals;
        float sum = F(a) + F(b);
        for (int i = 1; i < intervals; i++)
            sum += (i % 2 == 1 ? 4 : 2) * F(a + i * h);
        return sum * h / 3;
    }

    [Differentiable]
    public static double ApplyMap(double[] values, double gain)
    {
        Func<double, double> squash = v => Math.Tanh(gain * v);
        double total = 0;
        for (int i = 0; i < values.Length; i++) total += squash(values[i]);
        return total;
    }

    [Differentiable]
    public static double Rms(double[] values)
    {
        return Math.Sqrt(MeanOfSquares(values));

        static double MeanOfSquares(double[] xs)
        {
            double s = 0;
            foreach (var x in xs) s += x * x;
            return s / xs.Length;
        }
    }
}

public static class Driver
{
    public static string? Check() => C.All(
        C.Gradient("Quadrature.Simpson", p => Quadrature.Simpson(p[0], p[1], p[2], 8), Ad.For("Simpson"), [-0.5, 1.5, 0.8]),
        C.Gradient("Quadrature.SimpsonF", p => Quadrature.Simpson(p[0], p[1], p[2], 8), Ad.For("SimpsonF"), [-0.5, 1.5, 0.8], C.FloatTolerance),
        C.Gradient("Quadrature.ApplyMap", p => Quadrature.ApplyMap(p[..^1], p[^1]), Ad.For("ApplyMap"), [0.3, -1.2, 0.8, 0.7]),
        C.Gradient("Quadrature.Rms", p => Quadrature.Rms(p), Ad.For("Rms"), [0.3, -1.2, 0.8, 2.0]),
        C.Tangent("Quadrature.SimpsonPushforward", p => [Quadrature.Simpson(p[0], p[1], p[2], 8)], Dot.For("Simpson"), [-0.5, 1.5, 0.8], [0.2, -0.4, 1.0]),
        Ad.Unused(), Dot.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
    private static readonly Tangents Dot = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["Simpson"] = p => { double aBar = 0, bBar = 0, kBar = 0; Quadrature.SimpsonPullback(p[0], p[1], p[2], 8, 1.0, ref aBar, ref bBar, ref kBar); return [aBar, bBar, kBar]; },
        ["SimpsonF"] = p => { float aBar = 0, bBar = 0, kBar = 0; Quadrature.SimpsonFPullback((float)p[0], (float)p[1], (float)p[2], 8, 1f, ref aBar, ref bBar, ref kBar); return [aBar, bBar, kBar]; },
        ["ApplyMap"] = p => { var vBar = new double[p.Length - 1]; double gBar = 0; Quadrature.ApplyMapPullback(p[..^1], p[^1], 1.0, vBar, ref gBar); return [.. vBar, gBar]; },
        ["Rms"] = p => { var bar = new double[p.Length]; Quadrature.RmsPullback(p, 1.0, bar); return bar; },
    };

    private static readonly Tangents Dot = new()
    {
        ["Simpson"] = (p, v) => { var (value, tangent) = Quadrature.SimpsonPushforward(p[0], v[0], p[1], v[1], p[2], v[2], 8); return [tangent]; },
    };
#endif
}
