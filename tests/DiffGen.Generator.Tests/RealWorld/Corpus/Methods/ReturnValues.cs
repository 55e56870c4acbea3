// Methods that return a new array, a tuple, or a struct: softmax, moments, a cumulative sum, a
// numerically stable log-sum-exp pair. Float twins of softmax and the moments.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Returns;

public readonly struct Interval
{
    public Interval(double low, double high) { Low = low; High = high; }
    public double Low { get; }
    public double High { get; }
}

public static partial class Stats
{
    [Differentiable]
    public static double[] Softmax(double[] logits)
    {
        double max = double.NegativeInfinity;
        foreach (var z in logits) max = Math.Max(max, z);
        var result = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            result[i] = Math.Exp(logits[i] - max);
            sum += result[i];
        }
        for (int i = 0; i < result.Length; i++) result[i] /= sum;
        return result;
    }

    [Differentiable]
    public static float[] SoftmaxF(float[] logits)
    {
        float max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        var result = new float[logits.Length];
        float sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            result[i] = MathF.Exp(logits[i] - max);
            sum += result[i];
        }
        for (int i = 0; i < result.Length; i++) result[i] /= sum;
        return result;
    }

    [Differentiable]
    public static (double Mean, double Variance) Moments(ReadOnlySpan<double> xs)
    {
        double mean = 0;
        for (int i = 0; i < xs.Length; i++) mean += xs[i];
        mean /= xs.Length;
        double variance = 0;
        for (int i = 0; i < xs.Length; i++) variance += (xs[i] - mean) * (xs[i] - mean);
        return (mean, variance / xs.Length);
    }

    [Differentiable]
    public static (float Mean, float Variance) MomentsF(float[] xs)
    {
        float mean = 0;
        for (int i = 0; i < xs.Length; i++) mean += xs[i];
        mean /= xs.Length;
        float variance = 0;
        for (int i = 0; i < xs.Length; i++) variance += (xs[i] - mean) * (xs[i] - mean);
        return (mean, variance / xs.Length);
    }

    [Differentiable]
    public static double[] CumulativeSum(double[] xs)
    {
        var result = new double[xs.Length];
        double running = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            running += xs[i];
            result[i] = running;
        }
        return result;
    }

    [Differentiable]
    public static Interval ConfidenceInterval(double[] xs, double z)
    {
        var (mean, variance) = Moments(xs);
        double half = z * Math.Sqrt(variance / xs.Length);
        return new Interval(mean - half, mean + half);
    }
}

public static class Driver
{
    private static readonly double[] X = Data.Uniform(6, 161, -1.5, 2.0);

    private static double[] MomentValues(double[] p) { var (m, v) = Stats.Moments(p); return [m, v]; }

    public static string? Check() => C.All(
        C.Gradient("Stats.Softmax", p => new Writer().Add(Stats.Softmax(p)).Loss(), Ad.For("Softmax"), X),
        C.Gradient("Stats.SoftmaxF", p => new Writer().Add(Stats.Softmax(p)).Loss(), Ad.For("SoftmaxF"), X, C.FloatTolerance),
        C.Gradient("Stats.Moments", p => new Writer().Add(MomentValues(p)).Loss(), Ad.For("Moments"), X),
        C.Gradient("Stats.MomentsF", p => new Writer().Add(MomentValues(p)).Loss(), Ad.For("MomentsF"), X, C.FloatTolerance),
        C.Gradient("Stats.CumulativeSum", p => new Writer().Add(Stats.CumulativeSum(p)).Loss(), Ad.For("CumulativeSum"), X),
        C.Gradient("Stats.ConfidenceInterval", p => { var ci = Stats.ConfidenceInterval(p[..^1], p[^1]); return new Writer().Add(ci.Low).Add(ci.High).Loss(); }, Ad.For("ConfidenceInterval"), [.. X, 1.96]),
        C.Tangent("Stats.MomentsPushforward", MomentValues, Dot.For("Moments"), X, Data.Uniform(6, 162, -1, 1)),
        C.Tangent("Stats.SoftmaxPushforward", Stats.Softmax, Dot.For("Softmax"), X, Data.Uniform(6, 163, -1, 1)),
        Ad.Unused(), Dot.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
    private static readonly Tangents Dot = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["Softmax"] = p =>
        {
            var bar = new double[p.Length];
            var y = Stats.SoftmaxPullback(p, Reader.Seeds().Ds(p.Length), bar);
            if (y.Length != p.Length) throw new InvalidOperationException("SoftmaxPullback must return the probabilities");
            return bar;
        },
        ["SoftmaxF"] = p =>
        {
            var bar = new float[p.Length];
            Stats.SoftmaxFPullback(Data.ToFloat(p), Reader.Seeds().Fs(p.Length), bar);
            return new Writer().Add(bar).ToArray();
        },
        ["Moments"] = p =>
        {
            var bar = new double[p.Length];
            var (m, v) = Stats.MomentsPullback(p, (Data.Weight(0), Data.Weight(1)), bar);
            if ((m, v) != Stats.Moments(p)) throw new InvalidOperationException("MomentsPullback returned different moments");
            return bar;
        },
        ["MomentsF"] = p =>
        {
            var bar = new float[p.Length];
            Stats.MomentsFPullback(Data.ToFloat(p), ((float)Data.Weight(0), (float)Data.Weight(1)), bar);
            return new Writer().Add(bar).ToArray();
        },
        ["CumulativeSum"] = p =>
        {
            var bar = new double[p.Length];
            Stats.CumulativeSumPullback(p, Reader.Seeds().Ds(p.Length), bar);
            return bar;
        },
        ["ConfidenceInterval"] = p =>
        {
            var xBar = new double[p.Length - 1]; double zBar = 0;
            Stats.ConfidenceIntervalPullback(p[..^1], p[^1], new Interval(Data.Weight(0), Data.Weight(1)), xBar, ref zBar);
            return [.. xBar, zBar];
        },
    };

    private static readonly Tangents Dot = new()
    {
        ["Moments"] = (p, v) => { var (value, tangent) = Stats.MomentsPushforward(p, v); return [tangent.Item1, tangent.Item2]; },
        ["Softmax"] = (p, v) => { var (value, tangent) = Stats.SoftmaxPushforward(p, v); return tangent; },
    };
#endif
}
