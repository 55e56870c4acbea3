using System.Numerics.Tensors;
using DiffGen.Gpu;

namespace DiffGen.Tensors;

/// <summary>
/// An index map for one output dimension of a gather: output index i reads input position
/// <c>Map[i] * Stride</c> (summed over dimensions), or zero when <c>Map[i] &lt; 0</c>.
/// Permute, slice, broadcast, pad (zero/periodic/edge) and nearest upsampling are all such gathers,
/// and their gradients are the matching scatter-add.
/// </summary>
internal sealed record GatherPlan(int[] OutShape, int[][] Maps, int[] Strides, int[] InShape)
{
    public static int[] Identity(int n)
    {
        var m = new int[n];
        for (int i = 0; i < n; i++) m[i] = i;
        return m;
    }

    public static int[] RowMajorStrides(int[] shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    /// <summary>Maps with injective lookups can scatter in parallel over rows; others need care.</summary>
    public bool LastDimContiguous
    {
        get
        {
            if (OutShape.Length == 0) return true;
            var m = Maps[^1];
            if (Strides[^1] != 1) return false;
            for (int j = 0; j < m.Length; j++) if (m[j] != m[0] + j) return false;
            return true;
        }
    }
}

internal static partial class Ops
{
    public static Tensor Gather(Tensor x, GatherPlan plan)
    {
        var r = Tensor.Empty(x.Device, plan.OutShape);
        if (r.Length == 0) return r;
        if (x.Device.RunsKernels) { Kernels.Gather(x, r, plan); return r; }
        int rank = plan.OutShape.Length;
        if (rank == 0) { r.Host[0] = x.ToArray()[0]; return r; }
        int inner = plan.OutShape[^1];
        int rows = r.Length / inner;
        bool contiguous = plan.LastDimContiguous;
        var lastMap = plan.Maps[^1];
        int lastStride = plan.Strides[^1];
        var xs = x.Storage; var rs = r.Storage;
        ForChunks(rows, (r0, count) =>
        {
            var xv = xs.HostSpan; var rv = rs.HostSpan;
            for (int row = r0; row < r0 + count; row++)
            {
                int off = 0, rem = row;
                bool zero = false;
                for (int d = rank - 2; d >= 0; d--)
                {
                    int idx = rem % plan.OutShape[d];
                    rem /= plan.OutShape[d];
                    int m = plan.Maps[d][idx];
                    if (m < 0) zero = true;
                    off += m * plan.Strides[d];
                }
                var dst = rv.Slice(row * inner, inner);
                if (zero) { dst.Clear(); continue; }
                if (contiguous && lastMap[0] >= 0)
                {
                    xv.Slice(off + lastMap[0], inner).CopyTo(dst);
                    continue;
                }
                if (lastStride == 0 && lastMap[0] >= 0)
                {
                    dst.Fill(xv[off]);  // broadcast along the last dimension
                    continue;
                }
                for (int j = 0; j < inner; j++)
                {
                    int m = lastMap[j];
                    dst[j] = m < 0 ? 0f : xv[off + m * lastStride];
                }
            }
        }, Math.Max(1, ParallelThreshold / Math.Max(1, inner)));
        return r;
    }

    /// <summary>The adjoint of <see cref="Gather"/>: a tensor of the plan's input shape with g added at every gathered position.</summary>
    public static Tensor ScatterAdd(Tensor g, GatherPlan plan)
    {
        var r = Tensor.Zeros(g.Device, plan.InShape);
        if (g.Length == 0) return r;
        if (g.Device.RunsKernels) { Kernels.ScatterAdd(g, r, plan); return r; }
        int rank = plan.OutShape.Length;
        if (rank == 0) { r.Host[0] = g.ToArray()[0]; return r; }
        int inner = plan.OutShape[^1];
        int rows = g.Length / inner;
        bool contiguous = plan.LastDimContiguous;
        var lastMap = plan.Maps[^1];
        int lastStride = plan.Strides[^1];
        var gv = g.Host; var rv = r.Host;
        // Serial: several output rows may map to the same input row (broadcast, periodic padding).
        for (int row = 0; row < rows; row++)
        {
            int off = 0, rem = row;
            bool zero = false;
            for (int d = rank - 2; d >= 0; d--)
            {
                int idx = rem % plan.OutShape[d];
                rem /= plan.OutShape[d];
                int m = plan.Maps[d][idx];
                if (m < 0) zero = true;
                off += m * plan.Strides[d];
            }
            if (zero) continue;
            var src = gv.Slice(row * inner, inner);
            if (contiguous && lastMap[0] >= 0)
            {
                var dst = rv.Slice(off + lastMap[0], inner);
                TensorPrimitives.Add(dst, src, dst);
                continue;
            }
            if (lastStride == 0 && lastMap[0] >= 0)
            {
                rv[off] += TensorPrimitives.Sum(src);
                continue;
            }
            for (int j = 0; j < inner; j++)
            {
                int m = lastMap[j];
                if (m >= 0) rv[off + m * lastStride] += src[j];
            }
        }
        GC.KeepAlive(g);
        return r;
    }
}
