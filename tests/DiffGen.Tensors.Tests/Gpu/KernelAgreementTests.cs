using DiffGen.Tensors;

namespace DiffGen.Tensors.Tests.Gpu;

/// <summary>
/// Every op's ILGPU kernels (forward and backward), run on ILGPU's CPU accelerator, agree with the
/// native CPU path to 1e-5. Inputs are tiny: the accelerator is an emulator.
/// </summary>
public class KernelAgreementTests
{
    private static void Agree(string what, Func<Tensor[], Tensor> f, params int[][] shapes)
    {
        var rnd = new Random(what.Length * 31 + shapes.Length);
        var data = shapes.Select(s => Enumerable.Range(0, Tensor.ShapeLength(s)).Select(_ => (float)(rnd.NextDouble() * 2 - 1)).ToArray()).ToArray();
        (float[] Y, float[][] G) Run(Device device)
        {
            var inputs = data.Select((d, i) => { var t = Tensor.FromArray(device, d, shapes[i]); t.RequiresGrad = true; return t; }).ToArray();
            var y = f(inputs);
            Assert.Same(device, y.Device);
            var w = Tensor.FromArray(device, Enumerable.Range(0, y.Length).Select(i => MathF.Sin(i + 1f)).ToArray(), y.Shape);
            (y * w).Sum().Backward();
            return (y.ToArray(), inputs.Select(t => t.Grad?.ToArray() ?? new float[t.Length]).ToArray());
        }
        var cpu = Run(Device.Cpu);
        var gpu = Run(Device.CpuKernels);
        AssertClose(cpu.Y, gpu.Y, what + " forward");
        for (int i = 0; i < shapes.Length; i++) AssertClose(cpu.G[i], gpu.G[i], $"{what} gradient of input {i}");
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = 1e-5 * Math.Max(1.0, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol || (float.IsNaN(expected[i]) && float.IsNaN(actual[i])),
                $"{what}: [{i}] cpu {expected[i]:R} vs kernels {actual[i]:R}");
        }
    }

    [Fact]
    public void ElementwiseAndBroadcasting()
    {
        Agree("add", t => t[0] + t[1], [2, 3, 4], [3, 1]);
        Agree("sub", t => t[0] - t[1], [2, 3], [3]);
        Agree("mul", t => t[0] * t[1], [2, 1, 4], [3, 1]);
        Agree("div", t => t[0] / (t[1].Abs() + 1f), [2, 3], [2, 3]);
        Agree("max/min", t => Tensor.Maximum(t[0], t[1]) + Tensor.Minimum(t[0], t[1]) * 2f, [2, 3], [3]);
        Agree("affine", t => 3f - t[0] * 2f + 1f, [5]);
    }

    [Fact]
    public void UnaryOps()
    {
        Agree("unary", t => t[0].Exp() + t[0].Tanh() + t[0].Sigmoid() + t[0].Relu() + t[0].Gelu() + t[0].LeakyRelu(0.2f)
            + t[0].Softplus() + t[0].Abs() + t[0].Sin() + t[0].Cos() + t[0].Square(), [3, 4]);
        Agree("positive unary", t => (t[0].Abs() + 0.5f).Log() + (t[0].Abs() + 0.5f).Sqrt() + (t[0].Abs() + 0.5f).Pow(1.7f), [3, 4]);
    }

    [Fact]
    public void Reductions()
    {
        Agree("sum", t => t[0].Sum(1) * 2f + t[0].Sum(-1, keepDim: true).Sum(1), [2, 3, 4]);
        Agree("mean", t => t[0].Mean().Reshape(1) + t[0].Mean(0).Sum(0, keepDim: true).Reshape(1), [3, 4]);
        Agree("max", t => t[0].Max(1), [2, 5, 3]);
        Agree("softmax", t => t[0].Softmax(-1) + t[0].LogSoftmax(0), [3, 4]);
    }

    [Fact]
    public void ShapeOps()
    {
        Agree("transpose/permute", t => t[0].Transpose() * 2f + t[0].Permute(0, 2, 1), [2, 3, 3]);
        Agree("slice", t => t[0].Slice(1, 1, 2) + t[0].Slice(1, 0, 2, step: 2), [2, 4, 3]);
        Agree("concat/stack", t => Tensor.Concat([t[0], t[1]], 1).Sum(0) + Tensor.Stack([t[1], t[1]], 0).Sum(0).Sum(1).Sum(0), [2, 2, 3], [2, 1, 3]);
        Agree("broadcast", t => t[0].BroadcastTo(2, 3, 4), [3, 1]);
        Agree("pad zeros", t => Tensor.Pad(t[0], [(1, 2), (0, 3)], PaddingMode.Zeros), [1, 3, 4]);
        Agree("pad periodic", t => Tensor.Pad2d(t[0], 2, PaddingMode.Periodic), [1, 3, 4]);
        Agree("pad edge", t => Tensor.Pad1d(t[0], 3, PaddingMode.Edge), [2, 3]);
    }

    [Fact]
    public void MatMulAndLinear()
    {
        Agree("matmul", t => Tensor.MatMul(t[0], t[1]), [3, 4], [4, 5]);
        Agree("batched matmul", t => Tensor.MatMul(t[0], t[1]), [2, 3, 4], [2, 4, 2]);
        Agree("broadcast matmul", t => Tensor.MatMul(t[0], t[1]), [2, 3, 4], [4, 2]);
        Agree("linear", t => Tensor.Linear(t[0], t[1], t[2]), [3, 4], [5, 4], [5]);
    }

    [Fact]
    public void Convolution()
    {
        foreach (var mode in new[] { PaddingMode.Zeros, PaddingMode.Periodic, PaddingMode.Edge })
        {
            Agree($"conv2d {mode}", t => Tensor.Conv2d(t[0], t[1], t[2], 1, 1, mode), [2, 2, 4, 5], [3, 2, 3, 3], [3]);
            Agree($"conv1d {mode}", t => Tensor.Conv1d(t[0], t[1], t[2], 1, 2, mode), [2, 2, 6], [2, 2, 3], [2]);
        }
        Agree("conv2d stride 2 dilation 2", t => Tensor.Conv2d(t[0], t[1], null, 2, 2, PaddingMode.Periodic, 2), [1, 2, 5, 6], [2, 2, 3, 3]);
    }

    [Fact]
    public void PoolingAndUpsampling()
    {
        Agree("avgpool2d", t => Tensor.AvgPool2d(t[0], 2), [1, 2, 4, 4]);
        Agree("avgpool1d", t => Tensor.AvgPool1d(t[0], 3), [2, 1, 6]);
        Agree("upsample nearest", t => Tensor.UpsampleNearest(t[0], 2), [1, 2, 2, 3]);
        Agree("upsample linear", t => Tensor.UpsampleLinear(t[0], 2), [1, 2, 2, 3]);
    }

    [Fact]
    public void DevicesAndTransfers()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 3);
        x.RequiresGrad = true;
        var onKernels = x.To(Device.CpuKernels);
        Assert.Same(Device.CpuKernels, onKernels.Device);
        var back = (onKernels * 2f).To(Device.Cpu);
        Assert.Equal([2f, 4f, 6f], back.ToArray());
        back.Sum().Backward();
        Assert.Equal([2f, 2f, 2f], x.Grad!.ToArray());
        Assert.Contains("different devices", Assert.Throws<ArgumentException>(() => x + onKernels).Message);
        Assert.Equal(Device.CudaAvailable ? Device.Cuda() : Device.Cpu, Device.Best());
    }
}
