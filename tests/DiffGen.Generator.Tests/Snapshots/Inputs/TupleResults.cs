using System;
using DiffGen;

namespace Snap;

public static partial class Stats
{
    [Differentiable]
    public static (double Mean, double Variance) Moments(ReadOnlySpan<double> x)
    {
        double mean = 0;
        for (int i = 0; i < x.Length; i++) mean += x[i];
        mean /= x.Length;
        double variance = 0;
        for (int i = 0; i < x.Length; i++) variance += (x[i] - mean) * (x[i] - mean);
        return (mean, variance / x.Length);
    }

    // Deconstruction of a callee's tuple, and a swap through a tuple.
    [Differentiable]
    public static double Score(double[] x, double a, double b)
    {
        var (mean, variance) = Moments(x);
        (a, b) = (b, a * mean);
        return (a - b) / Math.Sqrt(variance);
    }
}
