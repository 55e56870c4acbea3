// A fully connected layer object (double[,] weights, double[] bias) with a forward pass returning
// a new array, a loss, and an SGD-free gradient use; the float twin of the forward pass.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Layers;

public enum Activation { Identity, Tanh, Sigmoid }

public partial class DenseLayer
{
    public double[,] Weights { get; }
    public double[] Bias { get; }
    public Activation Activation { get; }

    public DenseLayer(int inputs, int outputs, Activation activation)
    {
        Weights = new double[outputs, inputs];
        Bias = new double[outputs];
        Activation = activation;
    }

    [Differentiable]
    public double[] Forward(double[] input)
    {
        if (input.Length != Weights.GetLength(1))
            throw new ArgumentException($"Expected {Weights.GetLength(1)} inputs, got {input.Length}.", nameof(input));
        var output = new double[Weights.GetLength(0)];
        for (int o = 0; o < output.Length; o++)
        {
            double z = Bias[o];
            for (int i = 0; i < input.Length; i++) z += Weights[o, i] * input[i];
            output[o] = Activation switch
            {
                Activation.Tanh => Math.Tanh(z),
                Activation.Sigmoid => 1 / (1 + Math.Exp(-z)),
                _ => z,
            };
        }
        return output;
    }

    [Differentiable]
    public double MeanSquaredError(double[] input, double[] target)
    {
        var y = Forward(input);
        double s = 0;
        for (int k = 0; k < y.Length; k++) s += (y[k] - target[k]) * (y[k] - target[k]);
        return s / y.Length;
    }

    [Differentiable]
    public double WeightDecay(double lambda)
    {
        double s = 0;
        foreach (double w in Weights) s += w * w;
        return lambda * s;
    }
}

public partial class DenseLayerF
{
    public float[,] Weights { get; }
    public float[] Bias { get; }

    public DenseLayerF(int inputs, int outputs)
    {
        Weights = new float[outputs, inputs];
        Bias = new float[outputs];
    }

    [Differentiable]
    public float[] Forward(float[] input)
    {
        var output = new float[Weights.GetLength(0)];
        for (int o = 0; o < output.Length; o++)
        {
            float z = Bias[o];
            for (int i = 0; i < input.Length; i++) z += Weights[o, i] * input[i];
            output[o] = MathF.Tanh(z);
        }
        return output;
    }
}

public static class Driver
{
    private const int In = 3, Out = 2;
    private static readonly double[] P = Data.Concat(Data.Uniform(Out * In + Out, 171, -0.8, 0.8), Data.Uniform(In, 172, -1, 1), [0.2, -0.4]);

    private static DenseLayer Make(Reader r, Activation a)
    {
        var layer = new DenseLayer(In, Out, a);
        var w = r.D2(Out, In);
        for (int o = 0; o < Out; o++) for (int i = 0; i < In; i++) layer.Weights[o, i] = w[o, i];
        for (int o = 0; o < Out; o++) layer.Bias[o] = r.D();
        return layer;
    }

    private static double ForwardLoss(double[] p) { var r = new Reader(p); return new Writer().Add(Make(r, Activation.Tanh).Forward(r.Ds(In))).Loss(); }

    public static string? Check() => C.All(
        C.Gradient("DenseLayer.Forward", ForwardLoss, Ad.For("Forward"), P[..^2]),
        C.Gradient("DenseLayerF.Forward", ForwardLoss, Ad.For("ForwardF"), P[..^2], C.FloatTolerance),
        C.Gradient("DenseLayer.MeanSquaredError", p => { var r = new Reader(p); return Make(r, Activation.Sigmoid).MeanSquaredError(r.Ds(In), r.Ds(Out)); }, Ad.For("MeanSquaredError"), P),
        C.Gradient("DenseLayer.WeightDecay", p => { var r = new Reader(p); var l = Make(r, Activation.Identity); return l.WeightDecay(p[^1] + 1); }, Ad.For("WeightDecay"), [.. P[..(Out * In + Out)], 0.3]),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static double[] Bar(DenseLayer bar) => new Writer().Add(bar.Weights).Add(bar.Bias).ToArray();

    private static readonly Gradients Ad = new()
    {
        ["Forward"] = p =>
        {
            var r = new Reader(p); var layer = Make(r, Activation.Tanh); var x = r.Ds(In);
            var bar = layer.CreateShadow(); var xBar = new double[In];
            layer.ForwardPullback(x, Reader.Seeds().Ds(Out), bar, xBar);
            return [.. Bar(bar), .. xBar];
        },
        ["ForwardF"] = p =>
        {
            var r = new Reader(p); var layer = new DenseLayerF(In, Out);
            var w = r.F2(Out, In);
            for (int o = 0; o < Out; o++) for (int i = 0; i < In; i++) layer.Weights[o, i] = w[o, i];
            for (int o = 0; o < Out; o++) layer.Bias[o] = r.F();
            var x = r.Fs(In);
            var bar = layer.CreateShadow(); var xBar = new float[In];
            layer.ForwardPullback(x, Reader.Seeds().Fs(Out), bar, xBar);
            return new Writer().Add(bar.Weights).Add(bar.Bias).Add(xBar).ToArray();
        },
        ["MeanSquaredError"] = p =>
        {
            var r = new Reader(p); var layer = Make(r, Activation.Sigmoid); var x = r.Ds(In); var t = r.Ds(Out);
            var bar = layer.CreateShadow(); var xBar = new double[In]; var tBar = new double[Out];
            layer.MeanSquaredErrorPullback(x, t, 1.0, bar, xBar, tBar);
            return [.. Bar(bar), .. xBar, .. tBar];
        },
        ["WeightDecay"] = p =>
        {
            var r = new Reader(p); var layer = Make(r, Activation.Identity);
            var bar = layer.CreateShadow(); double lBar = 0;
            layer.WeightDecayPullback(p[^1] + 1, 1.0, bar, ref lBar);
            return [.. Bar(bar), lBar];
        },
    };
#endif
}
