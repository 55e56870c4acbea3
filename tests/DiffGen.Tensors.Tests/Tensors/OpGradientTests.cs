using DiffGen.Tensors;
using static DiffGen.Tensors.Tests.Tensors.TensorGradCheck;

namespace DiffGen.Tensors.Tests.Tensors;

/// <summary>Every differentiable op's gradient against finite differences, on small inputs.</summary>
public class OpGradientTests
{
    public static TheoryData<string, int[], int[]> BroadcastCases => new()
    {
        { "same", [2, 3], [2, 3] },
        { "row", [2, 3, 4], [4] },
        { "column", [2, 3, 4], [3, 1] },
        { "both", [2, 1, 4], [3, 1] },
        { "scalar", [2, 3], [] },
    };

    [Theory]
    [MemberData(nameof(BroadcastCases))]
    public void BinaryOps_WithBroadcasting(string name, int[] sa, int[] sb)
    {
        Check(t => t[0] + t[1], [Rand(1, -1, 1, sa), Rand(2, -1, 1, sb)], what: "add " + name);
        Check(t => t[0] - t[1], [Rand(1, -1, 1, sa), Rand(2, -1, 1, sb)], what: "sub " + name);
        Check(t => t[0] * t[1], [Rand(1, -1, 1, sa), Rand(2, -1, 1, sb)], what: "mul " + name);
        Check(t => t[0] / t[1], [Rand(1, -1, 1, sa), Rand(2, 0.5f, 2, sb)], what: "div " + name);
        Check(t => Tensor.Maximum(t[0], t[1]), [AwayFromZero(1, sa), Rand(5, -0.08f, 0.08f, sb)], what: "max " + name);
        Check(t => Tensor.Minimum(t[0], t[1]), [AwayFromZero(1, sa), Rand(5, -0.08f, 0.08f, sb)], what: "min " + name);
    }

    [Fact]
    public void ScalarOps()
    {
        Check(t => (t[0] + 2f) * 3f - 1f, [Rand(3, -1, 1, 2, 3)], what: "affine");
        Check(t => 2f - t[0] / 4f, [Rand(3, -1, 1, 5)], what: "rsub/div");
        Check(t => 1.5f / t[0], [Rand(3, 0.5f, 2, 5)], what: "rdiv");
        Check(t => -t[0], [Rand(3, -1, 1, 5)], what: "neg");
    }

    public static TheoryData<string> UnaryNames => new() { "Exp", "Log", "Tanh", "Sigmoid", "Relu", "Gelu", "LeakyRelu", "Softplus", "Sqrt", "Abs", "Pow", "Square", "Sin", "Cos" };

    [Theory]
    [MemberData(nameof(UnaryNames))]
    public void UnaryOps(string name)
    {
        Func<Tensor, Tensor> f = name switch
        {
            "Exp" => x => x.Exp(),
            "Log" => x => x.Log(),
            "Tanh" => x => x.Tanh(),
            "Sigmoid" => x => x.Sigmoid(),
            "Relu" => x => x.Relu(),
            "Gelu" => x => x.Gelu(),
            "LeakyRelu" => x => x.LeakyRelu(0.1f),
            "Softplus" => x => x.Softplus(),
            "Sqrt" => x => x.Sqrt(),
            "Abs" => x => x.Abs(),
            "Pow" => x => x.Pow(2.5f),
            "Square" => x => x.Square(),
            "Sin" => x => x.Sin(),
            _ => x => x.Cos(),
        };
        bool positive = name is "Log" or "Sqrt" or "Pow";
        var input = positive ? Rand(4, 0.3f, 2f, 3, 4) : AwayFromZero(4, 3, 4);
        Check(t => f(t[0]), [input], what: name);
    }

    [Fact]
    public void Reductions()
    {
        Check(t => t[0].Sum(), [Rand(5, -1, 1, 3, 4)], what: "sum all");
        Check(t => t[0].Sum(1), [Rand(5, -1, 1, 2, 3, 4)], what: "sum axis 1");
        Check(t => t[0].Sum(-1, keepDim: true), [Rand(5, -1, 1, 2, 3, 4)], what: "sum last keepdim");
        Check(t => t[0].Sum([0, 2]), [Rand(5, -1, 1, 2, 3, 4)], what: "sum axes");
        Check(t => t[0].Mean(), [Rand(5, -1, 1, 3, 4)], what: "mean all");
        Check(t => t[0].Mean(0, keepDim: true), [Rand(5, -1, 1, 3, 4)], what: "mean axis 0");
        Check(t => t[0].Max(1), [Rand(5, -1, 1, 2, 5, 3)], what: "max axis 1");
        Check(t => t[0].Max(), [Rand(5, -1, 1, 4, 3)], what: "max all");
        Check(t => t[0].Softmax(-1), [Rand(5, -1, 1, 2, 5)], what: "softmax");
        Check(t => t[0].LogSoftmax(1), [Rand(5, -1, 1, 2, 5)], what: "log softmax");
    }

    [Fact]
    public void ShapeOps()
    {
        Check(t => t[0].Reshape(4, -1) * t[1], [Rand(6, -1, 1, 2, 2, 3), Rand(7, -1, 1, 4, 3)], what: "reshape");
        Check(t => t[0].Transpose(), [Rand(6, -1, 1, 2, 3, 4)], what: "transpose");
        Check(t => t[0].Permute(2, 0, 1), [Rand(6, -1, 1, 2, 3, 4)], what: "permute");
        Check(t => t[0].Slice(1, 1, 2), [Rand(6, -1, 1, 2, 4, 3)], what: "slice");
        Check(t => t[0].Slice(-1, 0, 3, step: 2), [Rand(6, -1, 1, 2, 6)], what: "strided slice");
        Check(t => t[0].BroadcastTo(2, 3, 4), [Rand(6, -1, 1, 3, 1)], what: "broadcast");
        Check(t => Tensor.Concat([t[0], t[1]], 1), [Rand(6, -1, 1, 2, 2, 3), Rand(7, -1, 1, 2, 1, 3)], what: "concat");
        Check(t => Tensor.Stack([t[0], t[1], t[0]], 0), [Rand(6, -1, 1, 2, 3), Rand(7, -1, 1, 2, 3)], what: "stack");
        Check(t => t[0].Unsqueeze(1).Squeeze(1).Flatten(), [Rand(6, -1, 1, 2, 3)], what: "unsqueeze/flatten");
        Check(t => t[0].IndexSelect(1, [2, 0, 2]), [Rand(6, -1, 1, 2, 3)], what: "index select");
    }

    [Theory]
    [InlineData(PaddingMode.Zeros)]
    [InlineData(PaddingMode.Periodic)]
    [InlineData(PaddingMode.Edge)]
    public void Pad(PaddingMode mode)
    {
        Check(t => Tensor.Pad1d(t[0], 2, mode), [Rand(8, -1, 1, 2, 3)], what: $"pad1d {mode}");
        Check(t => Tensor.Pad(t[0], [(1, 2), (0, 3)], mode), [Rand(8, -1, 1, 1, 3, 4)], what: $"pad2d {mode}");
    }

    [Fact]
    public void Pad_Values()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 3);
        Assert.Equal([0f, 1f, 2f, 3f, 0f], Tensor.Pad1d(x, 1, PaddingMode.Zeros).ToArray());
        Assert.Equal([2f, 3f, 1f, 2f, 3f, 1f, 2f], Tensor.Pad1d(x, 2, PaddingMode.Periodic).ToArray());
        Assert.Equal([1f, 1f, 1f, 2f, 3f, 3f, 3f], Tensor.Pad1d(x, 2, PaddingMode.Edge).ToArray());
    }

    [Fact]
    public void MatMul_AndLinear()
    {
        Check(t => Tensor.MatMul(t[0], t[1]), [Rand(9, -1, 1, 3, 4), Rand(10, -1, 1, 4, 5)], what: "matmul");
        Check(t => Tensor.MatMul(t[0], t[1]), [Rand(9, -1, 1, 2, 3, 4), Rand(10, -1, 1, 2, 4, 5)], what: "batched matmul");
        Check(t => Tensor.MatMul(t[0], t[1]), [Rand(9, -1, 1, 2, 3, 4), Rand(10, -1, 1, 4, 5)], what: "matmul shared rhs");
        Check(t => Tensor.MatMul(t[0], t[1]), [Rand(9, -1, 1, 1, 3, 4), Rand(10, -1, 1, 2, 4, 2)], what: "matmul broadcast lhs");
        Check(t => Tensor.Linear(t[0], t[1], t[2]), [Rand(11, -1, 1, 2, 3, 4), Rand(12, -1, 1, 5, 4), Rand(13, -1, 1, 5)], what: "linear");
        Check(t => Tensor.Linear(t[0], t[1]), [Rand(11, -1, 1, 3, 4), Rand(12, -1, 1, 2, 4)], what: "linear no bias");
    }

    [Theory]
    [InlineData(PaddingMode.Zeros, 1, 1, 1)]
    [InlineData(PaddingMode.Periodic, 1, 1, 1)]
    [InlineData(PaddingMode.Edge, 2, 1, 1)]
    [InlineData(PaddingMode.Zeros, 1, 2, 1)]
    [InlineData(PaddingMode.Periodic, 2, 1, 2)]
    public void Conv2d(PaddingMode mode, int padding, int stride, int dilation)
    {
        Check(t => Tensor.Conv2d(t[0], t[1], t[2], stride, padding, mode, dilation),
            [Rand(14, -1, 1, 2, 2, 5, 6), Rand(15, -1, 1, 3, 2, 3, 3), Rand(16, -1, 1, 3)], what: $"conv2d {mode} p{padding} s{stride} d{dilation}");
    }

    [Theory]
    [InlineData(PaddingMode.Zeros, 1, 1, 1)]
    [InlineData(PaddingMode.Periodic, 2, 1, 1)]
    [InlineData(PaddingMode.Edge, 1, 2, 2)]
    public void Conv1d(PaddingMode mode, int padding, int stride, int dilation)
    {
        Check(t => Tensor.Conv1d(t[0], t[1], t[2], stride, padding, mode, dilation),
            [Rand(17, -1, 1, 2, 3, 7), Rand(18, -1, 1, 2, 3, 3), Rand(19, -1, 1, 2)], what: $"conv1d {mode} p{padding} s{stride} d{dilation}");
        Check(t => Tensor.Conv1d(t[0], t[1], null, stride, padding, mode, dilation),
            [Rand(17, -1, 1, 1, 1, 6), Rand(18, -1, 1, 1, 1, 3)], what: $"conv1d no bias {mode}");
    }

    [Fact]
    public void PoolingAndUpsampling()
    {
        Check(t => Tensor.AvgPool1d(t[0], 2), [Rand(20, -1, 1, 2, 2, 6)], what: "avgpool1d");
        Check(t => Tensor.AvgPool2d(t[0], 2), [Rand(20, -1, 1, 1, 2, 4, 6)], what: "avgpool2d");
        Check(t => Tensor.UpsampleNearest(t[0], 2), [Rand(21, -1, 1, 1, 2, 3)], what: "upsample nearest 1d");
        Check(t => Tensor.UpsampleNearest(t[0], 3), [Rand(21, -1, 1, 1, 1, 2, 3)], what: "upsample nearest 2d");
        Check(t => Tensor.UpsampleLinear(t[0], 2), [Rand(22, -1, 1, 1, 2, 4)], what: "upsample linear 1d");
        Check(t => Tensor.UpsampleLinear(t[0], 3), [Rand(22, -1, 1, 1, 1, 3, 4)], what: "upsample bilinear");
    }
}
