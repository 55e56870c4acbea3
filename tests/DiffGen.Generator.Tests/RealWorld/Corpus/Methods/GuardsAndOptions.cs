// Inactive inputs beside active ones: argument guards, logging, string and enum options, bool
// flags, DateOnly dates and a record of settings. Float twin of the loss.
using System;
using System.Diagnostics;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Options;

public enum Reduction { Sum, Mean }

public sealed record LossSettings(string Name, Reduction Reduction, bool Verbose);

public static partial class Losses
{
    [Differentiable]
    public static double Activation(double x, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        switch (kind)
        {
            case "relu": return x > 0 ? x : 0;
            case "tanh": return Math.Tanh(x);
            case "softplus": return Math.Log(1 + Math.Exp(x));
            default: throw new ArgumentException($"Unknown activation '{kind}'.", nameof(kind));
        }
    }

    [Differentiable]
    public static double Huber(double[] prediction, double[] target, double delta, Reduction reduction, bool verbose)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (prediction.Length != target.Length)
            throw new ArgumentException($"prediction has {prediction.Length} entries, target {target.Length}.", nameof(target));
        double total = 0;
        for (int i = 0; i < prediction.Length; i++)
        {
            double e = prediction[i] - target[i];
            double a = Math.Abs(e);
            total += a <= delta ? 0.5 * e * e : delta * (a - 0.5 * delta);
        }
        if (verbose) Console.WriteLine($"huber total {total}");
        return reduction == Reduction.Mean ? total / prediction.Length : total;
    }

    [Differentiable]
    public static float HuberF(float[] prediction, float[] target, float delta, Reduction reduction, bool verbose)
    {
        float total = 0;
        for (int i = 0; i < prediction.Length; i++)
        {
            float e = prediction[i] - target[i];
            float a = MathF.Abs(e);
            total += a <= delta ? 0.5f * e * e : delta * (a - 0.5f * delta);
        }
        if (verbose) Console.WriteLine($"huber total {total}");
        return reduction == Reduction.Mean ? total / prediction.Length : total;
    }

    [Differentiable]
    public static double Discount(double amount, double annualRate, DateOnly start, DateOnly end)
    {
        if (end < start) throw new ArgumentException("The end date precedes the start date.", nameof(end));
        double years = (end.DayNumber - start.DayNumber) / 365.0;
        return amount * Math.Exp(-annualRate * years);
    }

    [Differentiable]
    public static double SettingsLoss(double[] values, LossSettings settings)
    {
        Debug.WriteLine($"{settings.Name}: {values.Length} values");
        double s = 0;
        foreach (var v in values) s += v * v;
        return settings.Reduction == Reduction.Mean ? s / values.Length : s;
    }
}

public static class Driver
{
    private static readonly double[] Pred = [0.3, -1.7, 2.4, 0.05, -0.6];
    private static readonly double[] P = [.. Pred, 0.1, -0.2, 0.4, 0.5, -0.3, 1.0];
    private static readonly DateOnly Start = new(2026, 1, 15), End = new(2027, 7, 1);
    private static readonly LossSettings Settings = new("l2", Reduction.Mean, false);

    private static double HuberLoss(double[] p) => Losses.Huber(p[..5], p[5..10], p[10], Reduction.Mean, false);

    public static string? Check() => C.All(
        C.Gradient("Losses.Activation(tanh)", p => Losses.Activation(p[0], "tanh"), Ad.For("Activation"), [0.4]),
        C.Gradient("Losses.Activation(softplus)", p => Losses.Activation(p[0], "softplus"), Ad.For("ActivationSoftplus"), [-0.8]),
        C.Gradient("Losses.Huber", HuberLoss, Ad.For("Huber"), P),
        C.Gradient("Losses.HuberF", HuberLoss, Ad.For("HuberF"), P, C.FloatTolerance),
        C.Gradient("Losses.Discount", p => Losses.Discount(p[0], p[1], Start, End), Ad.For("Discount"), [1000.0, 0.035]),
        C.Gradient("Losses.SettingsLoss", p => Losses.SettingsLoss(p, Settings), Ad.For("SettingsLoss"), Pred),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["Activation"] = p => { double xBar = 0; Losses.ActivationPullback(p[0], "tanh", 1.0, ref xBar); return [xBar]; },
        ["ActivationSoftplus"] = p => { double xBar = 0; Losses.ActivationPullback(p[0], "softplus", 1.0, ref xBar); return [xBar]; },
        ["Huber"] = p =>
        {
            var pBar = new double[5]; var tBar = new double[5]; double dBar = 0;
            Losses.HuberPullback(p[..5], p[5..10], p[10], Reduction.Mean, false, 1.0, pBar, tBar, ref dBar);
            return [.. pBar, .. tBar, dBar];
        },
        ["HuberF"] = p =>
        {
            var f = Data.ToFloat(p); var pBar = new float[5]; var tBar = new float[5]; float dBar = 0;
            Losses.HuberFPullback(f[..5], f[5..10], f[10], Reduction.Mean, false, 1f, pBar, tBar, ref dBar);
            return new Writer().Add(pBar).Add(tBar).Add(dBar).ToArray();
        },
        ["Discount"] = p =>
        {
            double aBar = 0, rBar = 0;
            Losses.DiscountPullback(p[0], p[1], Start, End, 1.0, ref aBar, ref rBar);
            return [aBar, rBar];
        },
        ["SettingsLoss"] = p => { var bar = new double[p.Length]; Losses.SettingsLossPullback(p, Settings, 1.0, bar); return bar; },
    };
#endif
}
