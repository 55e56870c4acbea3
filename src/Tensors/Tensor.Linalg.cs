using DiffGen.Gpu;

namespace DiffGen.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product of the last two dimensions, batched over the leading ones with broadcasting:
    /// [..., M, K] · [..., K, N] → [..., M, N]. Both operands need rank ≥ 2.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var r = Ops.MatMul(a, b, false, false);
        return AutogradTape.Record(r, "MatMul", [a, b], g => [
            a.RequiresGrad ? MatMulGradA(g, b, a.ShapeRef, transB: false) : null,
            b.RequiresGrad ? MatMulGradB(a, g, b.ShapeRef, transB: false) : null]);
    }

    /// <summary>Instance form of <see cref="MatMul(Tensor, Tensor)"/>.</summary>
    public Tensor MatMul(Tensor other) => MatMul(this, other);

    /// <summary>
    /// The affine layer y = x · Wᵀ + b of PyTorch's Linear: x [..., in], <paramref name="weight"/> [out, in],
    /// <paramref name="bias"/> [out] or null. Fused: no transposed copy of W is made.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2 || x.Rank < 1 || x.ShapeRef[^1] != weight.ShapeRef[1])
            throw new ArgumentException($"Linear: input {FormatShape(x.ShapeRef)} does not match weight {FormatShape(weight.ShapeRef)} (expected [..., in] and [out, in]).", nameof(weight));
        if (bias is not null && (bias.Rank != 1 || bias.ShapeRef[0] != weight.ShapeRef[0]))
            throw new ArgumentException($"Linear: bias {FormatShape(bias.ShapeRef)} must be [{weight.ShapeRef[0]}].", nameof(bias));
        int inF = weight.ShapeRef[1], outF = weight.ShapeRef[0];
        var x2 = new Tensor(x.Storage, [x.Length / Math.Max(inF, 1), inF]);
        var y2 = Ops.MatMul(x2, weight, false, true);
        if (bias is not null) y2 = Ops.AddRowVector(y2, bias);
        var outShape = (int[])x.ShapeRef.Clone();
        outShape[^1] = outF;
        var y = new Tensor(y2.Storage, outShape);
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return AutogradTape.Record(y, "Linear", inputs, g =>
        {
            var g2 = new Tensor(g.Storage, [g.Length / Math.Max(outF, 1), outF]);
            var gx = x.RequiresGrad ? new Tensor(Ops.MatMul(g2, weight, false, false).Storage, x.ShapeRef) : null;
            var gw = weight.RequiresGrad ? Ops.MatMul(g2, x2, true, false) : null;
            var gb = bias is not null && bias.RequiresGrad ? Ops.ReduceSum(g2, 1, g2.ShapeRef[0], outF, [outF]) : null;
            return bias is null ? [gx, gw] : [gx, gw, gb];
        });
    }

    private static Tensor MatMulGradA(Tensor g, Tensor b, int[] aShape, bool transB)
    {
        // dA = G · Bᵀ, summed over broadcast batch dimensions.
        if (b.Rank == 2 && g.Rank > 2)
        {
            var g2 = new Tensor(g.Storage, [g.Length / g.ShapeRef[^1], g.ShapeRef[^1]]);
            return new Tensor(Ops.MatMul(g2, b, false, !transB).Storage, aShape);
        }
        return SumTo(Ops.MatMul(g, b, false, !transB), aShape);
    }

    private static Tensor MatMulGradB(Tensor a, Tensor g, int[] bShape, bool transB)
    {
        // dB = Aᵀ · G (or Gᵀ · A for a transposed B), summed over broadcast batch dimensions.
        if (bShape.Length == 2 && a.Rank > 2)
        {
            int k = a.ShapeRef[^1], n = g.ShapeRef[^1];
            var a2 = new Tensor(a.Storage, [a.Length / k, k]);
            var g2 = new Tensor(g.Storage, [g.Length / n, n]);
            return transB ? Ops.MatMul(g2, a2, true, false) : Ops.MatMul(a2, g2, true, false);
        }
        var full = transB ? Ops.MatMul(g, a, true, false) : Ops.MatMul(a, g, true, false);
        return SumTo(full, bShape);
    }
}

internal static partial class Ops
{
    /// <summary>Batched op(A)·op(B) with broadcasting over the leading dimensions; no tape.</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA, bool transB)
    {
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"MatMul needs operands of rank >= 2; got {Tensor.FormatShape(a.ShapeRef)} and {Tensor.FormatShape(b.ShapeRef)}. Use Unsqueeze to make a vector a matrix.");
        if (a.Device != b.Device)
            throw new ArgumentException($"MatMul: operands are on different devices ({a.Device.Name} and {b.Device.Name}).", nameof(b));
        int m = transA ? a.ShapeRef[^1] : a.ShapeRef[^2];
        int ka = transA ? a.ShapeRef[^2] : a.ShapeRef[^1];
        int kb = transB ? b.ShapeRef[^1] : b.ShapeRef[^2];
        int n = transB ? b.ShapeRef[^2] : b.ShapeRef[^1];
        if (ka != kb)
            throw new ArgumentException($"MatMul: inner dimensions differ: {Tensor.FormatShape(a.ShapeRef)}{(transA ? "ᵀ" : "")} · {Tensor.FormatShape(b.ShapeRef)}{(transB ? "ᵀ" : "")} ({ka} vs {kb}).", nameof(b));
        var batchA = a.ShapeRef[..^2];
        var batchB = b.ShapeRef[..^2];
        var batch = Tensor.SameShape(batchA, batchB) ? batchA : BroadcastShape(batchA, batchB, "MatMul");
        int[] outShape = [.. batch, m, n];
        var r = Tensor.Empty(a.Device, outShape);
        int batchCount = Tensor.ShapeLength(batch);
        var strideA = BroadcastStrides(batchA, batch);
        var strideB = BroadcastStrides(batchB, batch);
        var offA = new int[batchCount];
        var offB = new int[batchCount];
        for (int i = 0; i < batchCount; i++)
        {
            int rem = i;
            for (int d = batch.Length - 1; d >= 0; d--)
            {
                int idx = rem % batch[d];
                rem /= batch[d];
                offA[i] += idx * strideA[d];
                offB[i] += idx * strideB[d];
            }
            offA[i] *= m * ka;
            offB[i] *= ka * n;
        }
        if (a.Device.RunsKernels)
        {
            Kernels.Gemm(a, b, r, offA, offB, m, n, ka, transA, transB);
            return r;
        }
        var sa = a.Storage; var sb = b.Storage; var sr = r.Storage;
        long work = (long)m * n * ka;
        if (batchCount > 1 && work < 1 << 16)
        {
            // Many small products: parallel over the batch, serial inside.
            Parallel.For(0, batchCount, i => Gemm.Multiply(sa.HostSpan.Slice(offA[i], m * ka), sb.HostSpan.Slice(offB[i], ka * n), sr.HostSpan.Slice(i * m * n, m * n), m, n, ka, transA, transB, false, parallel: false));
        }
        else
        {
            for (int i = 0; i < batchCount; i++)
                Gemm.Multiply(sa.HostSpan.Slice(offA[i], m * ka), sb.HostSpan.Slice(offB[i], ka * n), sr.HostSpan.Slice(i * m * n, m * n), m, n, ka, transA, transB, false);
        }
        GC.KeepAlive(sa);
        GC.KeepAlive(sb);
        return r;
    }

    /// <summary>y[i, :] += v for a matrix y [rows, n] and a vector v [n] (in place on a fresh tensor).</summary>
    public static Tensor AddRowVector(Tensor y, Tensor v)
    {
        if (y.Device.RunsKernels) return Binary(BinaryOp.Add, y, v);
        int n = v.Length, rows = y.Length / Math.Max(n, 1);
        var ys = y.Storage; var vs = v.Storage;
        ForChunks(rows, (r0, count) =>
        {
            var yv = ys.HostSpan; var vv = vs.HostSpan;
            for (int r = r0; r < r0 + count; r++)
            {
                var row = yv.Slice(r * n, n);
                System.Numerics.Tensors.TensorPrimitives.Add(row, vv, row);
            }
        }, Math.Max(1, ParallelThreshold / Math.Max(1, n)));
        return y;
    }
}
