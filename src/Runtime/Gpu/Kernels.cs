using DiffGen.Tensors;

namespace DiffGen.Gpu;

/// <summary>ILGPU kernels for tensors on a kernel device (work in progress: see each method).</summary>
internal static partial class Kernels
{
    private static NotSupportedException Missing(string what) =>
        new($"The ILGPU kernel for {what} is not implemented yet; run this op on Device.Cpu.");

    public static void Fill(Tensor t, float value) => throw Missing(nameof(Fill));
    public static void Unary(UnaryOp op, float p, Tensor x, Tensor y) => throw Missing(nameof(Unary));
    public static void UnaryBackward(UnaryOp op, float p, Tensor x, Tensor y, Tensor g, Tensor gx) => throw Missing(nameof(UnaryBackward));
    public static void Binary(BinaryOp op, Tensor a, Tensor b, Tensor r) => throw Missing(nameof(Binary));
    public static void Affine(Tensor x, Tensor r, float scale, float shift) => throw Missing(nameof(Affine));
    public static void ReduceSum(Tensor x, Tensor r, int outer, int n, int inner) => throw Missing(nameof(ReduceSum));
    public static void ReduceMax(Tensor x, Tensor r, int outer, int n, int inner) => throw Missing(nameof(ReduceMax));
    public static void Gather(Tensor x, Tensor r, GatherPlan plan) => throw Missing(nameof(Gather));
    public static void ScatterAdd(Tensor g, Tensor r, GatherPlan plan) => throw Missing(nameof(ScatterAdd));
    public static void Gemm(Tensor a, Tensor b, Tensor r, int[] offA, int[] offB, int m, int n, int k, bool transA, bool transB) => throw Missing(nameof(Gemm));
}

internal static partial class Kernels
{
    public static void Im2Col(Tensor x, Tensor col, ConvGeometry g) => throw Missing(nameof(Im2Col));
    public static void Col2Im(Tensor col, Tensor x, ConvGeometry g) => throw Missing(nameof(Col2Im));
}
