// Instance state held in a List<double> and scalar fields: exponential smoothing over a series
// kept by the object, and a forecast error. Float twins of both.
using System;
using System.Collections.Generic;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Smoothing;

public partial class ExponentialSmoother
{
    public double Alpha { get; set; }
    public double Level { get; set; }
    public List<double> Series { get; } = new();

    [Differentiable]
    public void Run()
    {
        for (int t = 0; t < Series.Count; t++)
        {
            Level = Alpha * Series[t] + (1 - Alpha) * Level;
            Series[t] = Level;
        }
    }

    [Differentiable]
    public double ForecastError(double[] actual)
    {
        double level = Level, error = 0;
        foreach (double y in actual)
        {
            error += (y - level) * (y - level);
            level = Alpha * y + (1 - Alpha) * level;
        }
        return error / actual.Length;
    }
}

public partial class ExponentialSmootherF
{
    public float Alpha { get; set; }
    public float Level { get; set; }
    public List<float> Series { get; } = new();

    [Differentiable]
    public void Run()
    {
        for (int t = 0; t < Series.Count; t++)
        {
            Level = Alpha * Series[t] + (1 - Alpha) * Level;
            Series[t] = Level;
        }
    }

    [Differentiable]
    public float ForecastError(float[] actual)
    {
        float level = Level, error = 0;
        foreach (float y in actual)
        {
            error += (y - level) * (y - level);
            level = Alpha * y + (1 - Alpha) * level;
        }
        return error / actual.Length;
    }
}

public static class Driver
{
    private static readonly double[] P = [0.35, 1.2, 1.5, 0.8, 1.9, 1.1, 1.3];

    private static ExponentialSmoother Make(double[] p)
    {
        var s = new ExponentialSmoother { Alpha = p[0], Level = p[1] };
        s.Series.AddRange(p[2..]);
        return s;
    }

    private static ExponentialSmootherF MakeF(double[] p)
    {
        var s = new ExponentialSmootherF { Alpha = (float)p[0], Level = (float)p[1] };
        foreach (var x in p[2..]) s.Series.Add((float)x);
        return s;
    }

    private static double RunLoss(double[] p) { var s = Make(p); s.Run(); return new Writer().Add(s.Alpha).Add(s.Level).Add(s.Series).Loss(); }
    private static double ErrorLoss(double[] p) => Make(p[..2]).ForecastError(p[2..]);

    public static string? Check() => C.All(
        C.Gradient("ExponentialSmoother.Run", RunLoss, Ad.For("Run"), P),
        C.Gradient("ExponentialSmootherF.Run", RunLoss, Ad.For("RunF"), P, C.FloatTolerance),
        C.Gradient("ExponentialSmoother.ForecastError", ErrorLoss, Ad.For("ForecastError"), P),
        C.Gradient("ExponentialSmootherF.ForecastError", ErrorLoss, Ad.For("ForecastErrorF"), P, C.FloatTolerance),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["Run"] = p =>
        {
            var s = Make(p); var bar = s.CreateShadow(); var seeds = Reader.Seeds();
            bar.Alpha = seeds.D(); bar.Level = seeds.D();
            for (int t = 0; t < bar.Series.Count; t++) bar.Series[t] = seeds.D();
            s.RunPullback(bar);
            return new Writer().Add(bar.Alpha).Add(bar.Level).Add(bar.Series).ToArray();
        },
        ["RunF"] = p =>
        {
            var s = MakeF(p); var bar = s.CreateShadow(); var seeds = Reader.Seeds();
            bar.Alpha = seeds.F(); bar.Level = seeds.F();
            for (int t = 0; t < bar.Series.Count; t++) bar.Series[t] = seeds.F();
            s.RunPullback(bar);
            return new Writer().Add(bar.Alpha).Add(bar.Level).Add(bar.Series).ToArray();
        },
        ["ForecastError"] = p =>
        {
            var s = Make(p[..2]); var bar = s.CreateShadow(); var yBar = new double[p.Length - 2];
            s.ForecastErrorPullback(p[2..], 1.0, bar, yBar);
            return [bar.Alpha, bar.Level, .. yBar];
        },
        ["ForecastErrorF"] = p =>
        {
            var s = MakeF(p[..2]); var bar = s.CreateShadow(); var yBar = new float[p.Length - 2];
            s.ForecastErrorPullback(Data.ToFloat(p[2..]), 1f, bar, yBar);
            return new Writer().Add(bar.Alpha).Add(bar.Level).Add(yBar).ToArray();
        },
    };
#endif
}
