// A scalar Kalman filter object: predict and update mutate its estimate and variance, and a
// log-likelihood over a measurement series calls both in a loop. Float twin of the update.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Filters;

public partial class KalmanFilter1D
{
    private static readonly double Log2Pi = Math.Log(2 * Math.PI);

    public double Estimate;
    public double Variance;
    public double ProcessNoise;
    public double MeasurementNoise;

    [Differentiable]
    public void Predict(double control)
    {
        Estimate += control;
        Variance += ProcessNoise;
    }

    [Differentiable]
    public double Update(double measurement)
    {
        double innovation = measurement - Estimate;
        double s = Variance + MeasurementNoise;
        double gain = Variance / s;
        Estimate += gain * innovation;
        Variance *= 1 - gain;
        return innovation;
    }

    [Differentiable]
    public double LogLikelihood(double[] measurements, double control)
    {
        double ll = 0;
        for (int t = 0; t < measurements.Length; t++)
        {
            Predict(control);
            double s = Variance + MeasurementNoise;
            double innovation = Update(measurements[t]);
            ll -= 0.5 * (Log2Pi + Math.Log(s) + innovation * innovation / s);
        }
        return ll;
    }
}

public partial class KalmanFilter1DF
{
    public float Estimate;
    public float Variance;
    public float MeasurementNoise;

    [Differentiable]
    public float Update(float measurement)
    {
        float innovation = measurement - Estimate;
        float gain = Variance / (Variance + MeasurementNoise);
        Estimate += gain * innovation;
        Variance *= 1 - gain;
        return innovation;
    }
}

public static class Driver
{
    private static readonly double[] P = [0.4, 1.3, 0.2, 0.5];
    private static readonly double[] Z = [0.9, 1.1, 0.6, 1.4];

    private static KalmanFilter1D Make(double[] p) => new() { Estimate = p[0], Variance = p[1], ProcessNoise = p[2], MeasurementNoise = p[3] };
    private static double[] State(KalmanFilter1D k) => [k.Estimate, k.Variance, k.ProcessNoise, k.MeasurementNoise];

    private static double UpdateLoss(double[] p)
    {
        var k = Make(p);
        double innovation = k.Update(p[4]);
        return new Writer().Add(innovation).Add(State(k)).Loss();
    }

    public static string? Check() => C.All(
        C.Gradient("KalmanFilter1D.Predict", p => { var k = Make(p); k.Predict(p[4]); return new Writer().Add(State(k)).Loss(); }, Ad.For("Predict"), [.. P, 0.3]),
        C.Gradient("KalmanFilter1D.Update", UpdateLoss, Ad.For("Update"), [.. P, 0.9]),
        C.Gradient("KalmanFilter1DF.Update", UpdateLoss, Ad.For("UpdateF"), [.. P, 0.9], C.FloatTolerance),
        C.Gradient("KalmanFilter1D.LogLikelihood", p => Make(p).LogLikelihood(p[5..], p[4]), Ad.For("LogLikelihood"), [.. P, 0.1, .. Z]),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static KalmanFilter1D Seeded(KalmanFilter1D k, int first)
    {
        var bar = k.CreateShadow();
        bar.Estimate = Data.Weight(first); bar.Variance = Data.Weight(first + 1);
        bar.ProcessNoise = Data.Weight(first + 2); bar.MeasurementNoise = Data.Weight(first + 3);
        return bar;
    }

    private static readonly Gradients Ad = new()
    {
        ["Predict"] = p =>
        {
            var k = Make(p); var bar = Seeded(k, 0); double uBar = 0;
            k.PredictPullback(p[4], bar, ref uBar);
            return [.. State(bar), uBar];
        },
        ["Update"] = p =>
        {
            var k = Make(p); var bar = Seeded(k, 1); double zBar = 0;
            k.UpdatePullback(p[4], Data.Weight(0), bar, ref zBar);
            return [.. State(bar), zBar];
        },
        ["UpdateF"] = p =>
        {
            var k = new KalmanFilter1DF { Estimate = (float)p[0], Variance = (float)p[1], MeasurementNoise = (float)p[3] };
            var bar = k.CreateShadow();
            bar.Estimate = (float)Data.Weight(1); bar.Variance = (float)Data.Weight(2); bar.MeasurementNoise = (float)Data.Weight(4);
            float zBar = 0;
            k.UpdatePullback((float)p[4], (float)Data.Weight(0), bar, ref zBar);
            // ProcessNoise is not a field of the float twin: its derivative is the seed passing through unchanged.
            return [bar.Estimate, bar.Variance, Data.Weight(3), bar.MeasurementNoise, zBar];
        },
        ["LogLikelihood"] = p =>
        {
            var k = Make(p); var bar = k.CreateShadow(); double uBar = 0; var zBar = new double[Z.Length];
            k.LogLikelihoodPullback(p[5..], p[4], 1.0, bar, zBar, ref uBar);
            return [.. State(bar), uBar, .. zBar];
        },
    };
#endif
}
