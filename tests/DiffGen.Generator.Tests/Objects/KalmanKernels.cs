namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// A scalar Kalman filter object as a tracking library writes it: Predict and Update mutate the state, and a
/// log-likelihood calls both in a loop, reading the state between the calls (issue #11's corpus found this
/// gradient wrong).
/// </summary>
public partial class Kalman
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

/// <summary>Instance calls that change their object's state, inside a loop that reads the state between them.</summary>
public class KalmanTests
{
    private static Kalman Make(double[] p) => new() { Estimate = p[0], Variance = p[1], ProcessNoise = p[2], MeasurementNoise = p[3] };

    [Fact]
    public void LogLikelihood_ThroughPredictAndUpdate_MatchesFiniteDifferences()
    {
        double[] z = [0.9, 1.1, 0.6, 1.4];
        double[] at = [0.4, 1.3, 0.2, 0.5, 0.1, .. z];
        double L(double[] p) => Make(p).LogLikelihood(p[5..], p[4]);

        var k = Make(at);
        var bar = k.CreateShadow();
        var zBar = new double[z.Length];
        double uBar = 0;
        double ll = k.LogLikelihoodPullback(z, at[4], 1.0, bar, zBar, ref uBar);
        var primal = Make(at);
        Assert.Equal(primal.LogLikelihood(z, at[4]), ll);
        // The object is left as the method leaves it.
        Assert.Equal(primal.Estimate, k.Estimate);
        Assert.Equal(primal.Variance, k.Variance);
        GradCheck.AssertClose([bar.Estimate, bar.Variance, bar.ProcessNoise, bar.MeasurementNoise, uBar, .. zBar],
            GradCheck.FiniteDifferenceGradient(L, at));

        var dot = new Kalman { Variance = 1.0, MeasurementNoise = -0.5 };
        var (value, tangent) = Make(at).LogLikelihoodPushforward(dot, z, new double[z.Length], at[4], 0.0);
        Assert.Equal(ll, value);
        var fd = GradCheck.FiniteDifferenceGradient(L, at);
        GradCheck.AssertClose([tangent], [fd[1] - 0.5 * fd[3]], 1e-6, "tangent");
    }
}
