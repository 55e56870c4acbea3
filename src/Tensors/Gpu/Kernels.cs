using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;
using DiffGen.Tensors;

namespace DiffGen.Gpu;

/// <summary>
/// ILGPU kernels for tensors on a kernel device (CUDA, or ILGPU's CPU accelerator for testing). One
/// thread per output element; gradients that several threads add into the same place use atomics.
/// Shapes, strides and index maps travel in small int buffers. Kernels are compiled once per accelerator.
/// </summary>
internal static class Kernels
{
    private static readonly ConcurrentDictionary<(Accelerator, string), Delegate> Cache = new();

    private static T Load<T>(Accelerator acc, string name, Func<Accelerator, T> load) where T : Delegate =>
        (T)Cache.GetOrAdd((acc, name), key => load(key.Item1));

    private static ArrayView<float> V(Tensor t) => t.Storage.View;

    /// <summary>Runs a launch that uses temporary int buffers, then frees them once the device is done.</summary>
    private static void WithInts(Accelerator acc, int[] data, Action<ArrayView<int>> launch)
    {
        using var buf = acc.Allocate1D(data.Length == 0 ? [0] : data);
        launch(buf.View);
        acc.Synchronize();
    }

    // ------------------------------------------------------------------ elementwise

    private static void FillKernel(Index1D i, ArrayView<float> v, float value) => v[i] = value;

    public static void Fill(Tensor t, float value)
    {
        if (t.Length == 0) return;
        var acc = t.Device.Accelerator;
        Load(acc, nameof(FillKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(FillKernel))(t.Length, V(t), value);
    }

    private static void UnaryKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int op, float p) =>
        y[i] = Ops.UnaryScalar((UnaryOp)op, p, x[i]);

    public static void Unary(UnaryOp op, float p, Tensor x, Tensor y)
    {
        if (x.Length == 0) return;
        Load(x.Device.Accelerator, nameof(UnaryKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(UnaryKernel))
            (x.Length, V(x), V(y), (int)op, p);
    }

    private static void UnaryBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> g, ArrayView<float> gx, int op, float p) =>
        gx[i] = g[i] * Ops.UnaryDerivative((UnaryOp)op, p, x[i], y[i]);

    public static void UnaryBackward(UnaryOp op, float p, Tensor x, Tensor y, Tensor g, Tensor gx)
    {
        if (x.Length == 0) return;
        Load(x.Device.Accelerator, nameof(UnaryBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(UnaryBackwardKernel))
            (x.Length, V(x), V(y), V(g), V(gx), (int)op, p);
    }

    private static void AffineKernel(Index1D i, ArrayView<float> x, ArrayView<float> r, float scale, float shift) => r[i] = x[i] * scale + shift;

    public static void Affine(Tensor x, Tensor r, float scale, float shift)
    {
        if (x.Length == 0) return;
        Load(x.Device.Accelerator, nameof(AffineKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, float>(AffineKernel))
            (x.Length, V(x), V(r), scale, shift);
    }

    /// <summary>meta = [rank, outShape…, strideA…, strideB…].</summary>
    private static void BinaryKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> r, ArrayView<int> meta, int op)
    {
        int rank = meta[0];
        int rem = i, offA = 0, offB = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            int size = meta[1 + d];
            int idx = rem % size;
            rem /= size;
            offA += idx * meta[1 + rank + d];
            offB += idx * meta[1 + 2 * rank + d];
        }
        r[i] = Ops.BinaryScalar((BinaryOp)op, a[offA], b[offB]);
    }

    public static void Binary(BinaryOp op, Tensor a, Tensor b, Tensor r)
    {
        if (r.Length == 0) return;
        var shape = r.ShapeRef;
        int[] meta = [shape.Length, .. shape, .. Ops.BroadcastStrides(a.ShapeRef, shape), .. Ops.BroadcastStrides(b.ShapeRef, shape)];
        var acc = r.Device.Accelerator;
        var k = Load(acc, nameof(BinaryKernel), x => x.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int>(BinaryKernel));
        WithInts(acc, meta, m => k(r.Length, V(a), V(b), V(r), m, (int)op));
    }

    // ------------------------------------------------------------------ reductions

    private static void ReduceKernel(Index1D i, ArrayView<float> x, ArrayView<float> r, int n, int inner, int max)
    {
        int o = i / inner, j = i % inner;
        int baseIdx = o * n * inner + j;
        float acc = max != 0 ? x[baseIdx] : 0f;
        for (int k = max != 0 ? 1 : 0; k < n; k++)
        {
            float v = x[baseIdx + k * inner];
            acc = max != 0 ? (v > acc || float.IsNaN(v) ? v : acc) : acc + v;
        }
        r[i] = acc;
    }

    private static void Reduce(Tensor x, Tensor r, int outer, int n, int inner, int max)
    {
        int count = outer * inner;
        if (count == 0) return;
        if (n == 0) { Fill(r, 0f); return; }
        Load(x.Device.Accelerator, nameof(ReduceKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(ReduceKernel))
            (count, V(x), V(r), n, inner, max);
    }

    public static void ReduceSum(Tensor x, Tensor r, int outer, int n, int inner) => Reduce(x, r, outer, n, inner, 0);

    public static void ReduceMax(Tensor x, Tensor r, int outer, int n, int inner) => Reduce(x, r, outer, n, inner, 1);

    // ------------------------------------------------------------------ gather / scatter

    /// <summary>meta = [rank, outShape…, strides…, mapStart…, maps…]; returns the input offset or -1 for a zero.</summary>
    private static int GatherOffset(int i, ArrayView<int> meta)
    {
        int rank = meta[0];
        int rem = i, off = 0;
        bool zero = false;
        for (int d = rank - 1; d >= 0; d--)
        {
            int size = meta[1 + d];
            int idx = rem % size;
            rem /= size;
            int m = meta[meta[1 + 2 * rank + d] + idx];
            if (m < 0) zero = true;
            off += m * meta[1 + rank + d];
        }
        return zero ? -1 : off;
    }

    private static void GatherKernel(Index1D i, ArrayView<float> x, ArrayView<float> r, ArrayView<int> meta)
    {
        int off = GatherOffset(i, meta);
        r[i] = off < 0 ? 0f : x[off];
    }

    private static void ScatterAddKernel(Index1D i, ArrayView<float> g, ArrayView<float> r, ArrayView<int> meta)
    {
        int off = GatherOffset(i, meta);
        if (off >= 0) Atomic.Add(ref r[off], g[i]);
    }

    private static int[] GatherMeta(GatherPlan plan)
    {
        int rank = plan.OutShape.Length;
        var meta = new List<int> { rank };
        meta.AddRange(plan.OutShape);
        meta.AddRange(plan.Strides);
        int start = 1 + 3 * rank;
        for (int d = 0; d < rank; d++) { meta.Add(start); start += plan.Maps[d].Length; }
        foreach (var m in plan.Maps) meta.AddRange(m);
        return [.. meta];
    }

    public static void Gather(Tensor x, Tensor r, GatherPlan plan)
    {
        if (r.Length == 0) return;
        var acc = r.Device.Accelerator;
        var k = Load(acc, nameof(GatherKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>>(GatherKernel));
        WithInts(acc, GatherMeta(plan), m => k(r.Length, V(x), V(r), m));
    }

    public static void ScatterAdd(Tensor g, Tensor r, GatherPlan plan)
    {
        if (g.Length == 0) return;
        var acc = r.Device.Accelerator;
        var k = Load(acc, nameof(ScatterAddKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>>(ScatterAddKernel));
        WithInts(acc, GatherMeta(plan), m => k(g.Length, V(g), V(r), m));
    }

    // ------------------------------------------------------------------ matmul

    /// <summary>One thread per output element of each batch; offsets = [offA…, offB…] per batch.</summary>
    private static void GemmKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> r, ArrayView<int> offsets, GemmParams p)
    {
        int mn = p.M * p.N;
        int batch = i / mn, rem = i % mn;
        int row = rem / p.N, col = rem % p.N;
        int oa = offsets[batch], ob = offsets[p.Batches + batch];
        float s = 0f;
        for (int q = 0; q < p.K; q++)
        {
            float av = p.TransA != 0 ? a[oa + q * p.M + row] : a[oa + row * p.K + q];
            float bv = p.TransB != 0 ? b[ob + col * p.K + q] : b[ob + q * p.N + col];
            s += av * bv;
        }
        r[i] = s;
    }

    internal readonly struct GemmParams(int m, int n, int k, int transA, int transB, int batches)
    {
        public readonly int M = m, N = n, K = k, TransA = transA, TransB = transB, Batches = batches;
    }

    public static void Gemm(Tensor a, Tensor b, Tensor r, int[] offA, int[] offB, int m, int n, int k, bool transA, bool transB)
    {
        if (r.Length == 0) return;
        if (k == 0) { Fill(r, 0f); return; }
        var acc = r.Device.Accelerator;
        var kern = Load(acc, nameof(GemmKernel), x => x.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, GemmParams>(GemmKernel));
        WithInts(acc, [.. offA, .. offB], o => kern(r.Length, V(a), V(b), V(r), o, new GemmParams(m, n, k, transA ? 1 : 0, transB ? 1 : 0, offA.Length)));
    }

    // ------------------------------------------------------------------ convolution (im2col / col2im)

    internal readonly struct ConvParams(int n, int c, int h, int w, int kh, int kw, int ho, int wo)
    {
        public readonly int N = n, C = c, H = h, W = w, KH = kh, KW = kw, Ho = ho, Wo = wo;
    }

    /// <summary>The input offset read by column element i (row (c, ki, kj), column (n, oh, ow)), or -1 for zero padding.</summary>
    private static int ColSource(int i, ArrayView<int> maps, ConvParams p)
    {
        int cols = p.N * p.Ho * p.Wo;
        int row = i / cols, colIdx = i % cols;
        int kk = p.KH * p.KW;
        int c = row / kk, ki = (row % kk) / p.KW, kj = row % p.KW;
        int hw = p.Ho * p.Wo;
        int n = colIdx / hw, pos = colIdx % hw;
        int oh = pos / p.Wo, ow = pos % p.Wo;
        int ih = maps[ki * p.Ho + oh];
        int iw = maps[p.KH * p.Ho + kj * p.Wo + ow];
        if (ih < 0 || iw < 0) return -1;
        return ((n * p.C + c) * p.H + ih) * p.W + iw;
    }

    private static void Im2ColKernel(Index1D i, ArrayView<float> x, ArrayView<float> col, ArrayView<int> maps, ConvParams p)
    {
        int src = ColSource(i, maps, p);
        col[i] = src < 0 ? 0f : x[src];
    }

    private static void Col2ImKernel(Index1D i, ArrayView<float> col, ArrayView<float> x, ArrayView<int> maps, ConvParams p)
    {
        int src = ColSource(i, maps, p);
        if (src >= 0) Atomic.Add(ref x[src], col[i]);
    }

    private static ConvParams Params(ConvGeometry g) => new(g.N, g.C, g.H, g.W, g.KH, g.KW, g.Ho, g.Wo);

    public static void Im2Col(Tensor x, Tensor col, ConvGeometry g)
    {
        if (col.Length == 0) return;
        var acc = x.Device.Accelerator;
        var k = Load(acc, nameof(Im2ColKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ConvParams>(Im2ColKernel));
        WithInts(acc, [.. g.HMap, .. g.WMap], m => k(col.Length, V(x), V(col), m, Params(g)));
    }

    public static void Col2Im(Tensor col, Tensor x, ConvGeometry g)
    {
        if (col.Length == 0) return;
        var acc = x.Device.Accelerator;
        var k = Load(acc, nameof(Col2ImKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ConvParams>(Col2ImKernel));
        WithInts(acc, [.. g.HMap, .. g.WMap], m => k(col.Length, V(col), V(x), m, Params(g)));
    }
}
