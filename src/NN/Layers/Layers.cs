using DiffGen.Tensors;

namespace DiffGen.NN;

/// <summary>y = x·Wᵀ + b, W: [out, in]. Initialised like PyTorch (U(±1/√in) for weight and bias).</summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer.</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Random? random = null)
    {
        if (inFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "Needs at least one input feature.");
        if (outFeatures < 1) throw new ArgumentOutOfRangeException(nameof(outFeatures), outFeatures, "Needs at least one output feature.");
        double b = 1 / Math.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", Tensor.Zeros(outFeatures, inFeatures));
        Init.Uniform(Weight, -b, b, random);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Zeros(outFeatures));
            Init.Uniform(Bias, -b, b, random);
        }
    }

    /// <summary>[out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>[out], or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => Tensor.Linear(x, Weight, Bias);
}

/// <summary>
/// What Conv1d and Conv2d share: argument checks, "same" padding by default, and PyTorch's
/// initialisation (U(±1/√fan_in) for weight and bias, weight drawn first).
/// </summary>
public abstract class ConvLayer : Module
{
    /// <summary>Stride, padding and dilation of the convolution.</summary>
    protected readonly int Stride, Padding, Dilation;

    /// <summary>How the input is padded.</summary>
    protected readonly PaddingMode Mode;

    /// <summary>Checks the arguments and creates weight [out, in, k…] (one k per spatial dimension) and bias.</summary>
    protected ConvLayer(int inChannels, int outChannels, int kernelSize, int spatialDims, int stride, int? padding, PaddingMode mode, int dilation, bool bias, Random? random)
    {
        if (inChannels < 1 || outChannels < 1) throw new ArgumentOutOfRangeException(inChannels < 1 ? nameof(inChannels) : nameof(outChannels), "Channels must be positive.");
        if (kernelSize < 1) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "The kernel needs at least one tap.");
        Stride = stride;
        Padding = padding ?? dilation * (kernelSize - 1) / 2;
        Dilation = dilation;
        Mode = mode;
        int taps = 1;
        for (int d = 0; d < spatialDims; d++) taps *= kernelSize;
        double b = 1 / Math.Sqrt(inChannels * taps);
        Weight = RegisterParameter("weight", Tensor.Zeros([outChannels, inChannels, .. Enumerable.Repeat(kernelSize, spatialDims)]));
        Init.Uniform(Weight, -b, b, random);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Zeros(outChannels));
            Init.Uniform(Bias, -b, b, random);
        }
    }

    /// <summary>[out, in, k…].</summary>
    public Tensor Weight { get; }

    /// <summary>[out], or null.</summary>
    public Tensor? Bias { get; }
}

/// <summary>1D convolution over [N, C, L] with padding modes (zeros, periodic, edge).</summary>
public sealed class Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int? padding = null, PaddingMode mode = PaddingMode.Zeros, int dilation = 1, bool bias = true, Random? random = null)
    : ConvLayer(inChannels, outChannels, kernelSize, 1, stride, padding, mode, dilation, bias, random)
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => Tensor.Conv1d(x, Weight, Bias, Stride, Padding, Mode, Dilation);
}

/// <summary>2D convolution over [N, C, H, W] with padding modes (zeros, periodic, edge); padding defaults to "same" for odd kernels.</summary>
public sealed class Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int? padding = null, PaddingMode mode = PaddingMode.Zeros, int dilation = 1, bool bias = true, Random? random = null)
    : ConvLayer(inChannels, outChannels, kernelSize, 2, stride, padding, mode, dilation, bias, random)
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => Tensor.Conv2d(x, Weight, Bias, Stride, Padding, Mode, Dilation);
}

/// <summary>A residual block: x + conv2(act(conv1(x))), then the activation (the book's ResNet blocks).</summary>
public sealed class ResBlock : Module
{
    private readonly Module _conv1, _conv2, _act;

    /// <summary>Creates a 2D block of <paramref name="channels"/> channels (use <paramref name="oneDimensional"/> for [N, C, L]).</summary>
    public ResBlock(int channels, int kernelSize = 3, PaddingMode mode = PaddingMode.Zeros, bool oneDimensional = false, Module? activation = null, Random? random = null)
    {
        _conv1 = RegisterModule<Module>("conv1", oneDimensional ? (Module)new Conv1d(channels, channels, kernelSize, mode: mode, random: random) : new Conv2d(channels, channels, kernelSize, mode: mode, random: random));
        _conv2 = RegisterModule<Module>("conv2", oneDimensional ? (Module)new Conv1d(channels, channels, kernelSize, mode: mode, random: random) : new Conv2d(channels, channels, kernelSize, mode: mode, random: random));
        _act = activation ?? new ReLU();
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => _act.Forward(x + _conv2.Forward(_act.Forward(_conv1.Forward(x))));
}

/// <summary>max(x, 0).</summary>
public sealed class ReLU : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => x.Relu();
}

/// <summary>tanh(x).</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => x.Tanh();
}

/// <summary>GELU (exact erf form).</summary>
public sealed class GELU : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => x.Gelu();
}

/// <summary>1 / (1 + e^-x).</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => x.Sigmoid();
}

/// <summary>log(1 + e^x).</summary>
public sealed class Softplus : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => x.Softplus();
}

/// <summary>x for x ≥ 0, slope·x otherwise.</summary>
public sealed class LeakyReLU(float slope = 0.01f) : Module
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => x.LeakyRelu(slope);
}

/// <summary>Zeroes each value with probability p in training mode and scales the rest by 1/(1-p); identity in eval mode.</summary>
public sealed class Dropout : Module
{
    private readonly double _p;
    private readonly Random _random;

    /// <summary>Creates the layer with its own seeded generator.</summary>
    public Dropout(double p = 0.5, int seed = 0)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "The drop probability must be in [0, 1).");
        _p = p;
        _random = new Random(seed);
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor x)
    {
        if (!Training || _p == 0) return x;
        var keep = Tensor.Zeros(x.Shape);
        var d = keep.Data;
        float scale = (float)(1 / (1 - _p));
        for (int i = 0; i < d.Length; i++) d[i] = _random.NextDouble() >= _p ? scale : 0f;
        return x * keep;
    }
}
