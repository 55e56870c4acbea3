namespace DiffGen.Generator.Tests.Objects;

/// <summary>List&lt;double&gt; and List&lt;float&gt; as parameters and fields, written as collection code is usually written.</summary>
public static partial class ListKernels
{
    /// <summary>Sample variance: a guard on Count, an indexed loop and a foreach.</summary>
    [Differentiable]
    public static double Variance(List<double> samples)
    {
        if (samples.Count < 2) throw new ArgumentException("Need at least two samples.", nameof(samples));
        double mean = 0;
        for (int i = 0; i < samples.Count; i++) mean += samples[i];
        mean /= samples.Count;
        double ss = 0;
        foreach (double x in samples) ss += (x - mean) * (x - mean);
        return ss / (samples.Count - 1);
    }

    [Differentiable]
    public static float VarianceF(List<float> samples)
    {
        float mean = 0;
        foreach (float x in samples) mean += x;
        mean /= samples.Count;
        float ss = 0;
        for (int i = 0; i < samples.Count; i++) ss += (samples[i] - mean) * (samples[i] - mean);
        return ss / (samples.Count - 1);
    }

    /// <summary>Softmax in place: the list is read, then overwritten.</summary>
    [Differentiable]
    public static void Softmax(List<double> logits, double temperature)
    {
        double max = double.NegativeInfinity;
        foreach (var z in logits) max = Math.Max(max, z);
        double sum = 0;
        for (int i = 0; i < logits.Count; i++)
        {
            logits[i] = Math.Exp((logits[i] - max) / temperature);
            sum += logits[i];
        }
        for (int i = 0; i < logits.Count; i++) logits[i] /= sum;
    }

    [Differentiable]
    public static void SoftmaxF(List<float> logits, float temperature)
    {
        float max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        float sum = 0;
        for (int i = 0; i < logits.Count; i++)
        {
            logits[i] = MathF.Exp((logits[i] - max) / temperature);
            sum += logits[i];
        }
        for (int i = 0; i < logits.Count; i++) logits[i] /= sum;
    }

    /// <summary>A weighted sum of a list and an array.</summary>
    [Differentiable]
    public static double Dot(List<double> weights, double[] values)
    {
        double s = 0;
        for (int i = 0; i < weights.Count; i++) s += weights[i] * values[i];
        return s;
    }

    /// <summary>Calls another [Differentiable] method with its list.</summary>
    [Differentiable]
    public static double StandardDeviation(List<double> samples) => Math.Sqrt(Variance(samples));
}

/// <summary>A polynomial whose coefficients live in a List&lt;double&gt; field, fitted by a step that updates them in place.</summary>
public partial class Polynomial
{
    public List<double> Coefficients = new();
    public double Decay { get; set; } = 0.9;

    /// <summary>Horner evaluation at x.</summary>
    [Differentiable]
    public double Evaluate(double x)
    {
        double y = 0;
        for (int i = Coefficients.Count - 1; i >= 0; i--) y = y * x + Coefficients[i];
        return y;
    }

    /// <summary>Shrinks every coefficient towards the previous one (state updated in place).</summary>
    [Differentiable]
    public void Smooth()
    {
        for (int i = 1; i < Coefficients.Count; i++)
            Coefficients[i] = Decay * Coefficients[i] + (1 - Decay) * Coefficients[i - 1];
    }
}

public partial class PolynomialF
{
    public List<float> Coefficients { get; } = new();
    public float Decay { get; set; } = 0.9f;

    [Differentiable]
    public float Evaluate(float x)
    {
        float y = 0;
        for (int i = Coefficients.Count - 1; i >= 0; i--) y = y * x + Coefficients[i];
        return y;
    }

    [Differentiable]
    public void Smooth()
    {
        for (int i = 1; i < Coefficients.Count; i++)
            Coefficients[i] = Decay * Coefficients[i] + (1 - Decay) * Coefficients[i - 1];
    }
}
