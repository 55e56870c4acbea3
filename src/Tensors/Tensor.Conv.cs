using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffGen.Gpu;

namespace DiffGen.Tensors;

/// <summary>
/// The geometry of a 2-D convolution (1-D uses H = 1): sizes, stride, padding, dilation and, per
/// kernel tap, where each output position reads from (<see cref="HMap"/>/<see cref="WMap"/>; -1 = zero padding).
/// </summary>
internal sealed record ConvGeometry(int N, int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, PaddingMode Mode)
{
    public int Ho => (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;

    public int Wo => (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;

    /// <summary>HMap[ki * Ho + oh]: input row read by tap ki at output row oh.</summary>
    public int[] HMap => _hMap ??= Map(H, KH, Ho, SH, PH, DH);

    /// <summary>WMap[kj * Wo + ow]: input column read by tap kj at output column ow.</summary>
    public int[] WMap => _wMap ??= Map(W, KW, Wo, SW, PW, DW);

    public int Rows => C * KH * KW;

    public int Cols => N * Ho * Wo;

    private int[]? _hMap, _wMap;

    private int[] Map(int n, int k, int outN, int s, int p, int d)
    {
        var m = new int[k * outN];
        for (int t = 0; t < k; t++)
            for (int o = 0; o < outN; o++)
            {
                int i = o * s - p + t * d;
                m[t * outN + o] = Mode switch
                {
                    PaddingMode.Zeros => i >= 0 && i < n ? i : -1,
                    PaddingMode.Periodic => ((i % n) + n) % n,
                    _ => Math.Clamp(i, 0, n - 1),
                };
            }
        return m;
    }
}

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as PyTorch): x [N, C, H, W], <paramref name="weight"/> [Co, C, kh, kw],
    /// <paramref name="bias"/> [Co] or null → [N, Co, Ho, Wo]. <paramref name="padding"/> cells are added on every
    /// side and filled according to <paramref name="mode"/> (zeros, periodic wrap, or edge replicate).
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, PaddingMode mode = PaddingMode.Zeros, int dilation = 1)
        => Conv2d(x, weight, bias, (stride, stride), (padding, padding), mode, (dilation, dilation));

    /// <summary>2-D convolution with separate (height, width) stride, padding and dilation.</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, PaddingMode mode, (int H, int W) dilation)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (x.Rank != 4) throw new ArgumentException($"Conv2d expects input [N, C, H, W]; got {FormatShape(x.ShapeRef)}.", nameof(x));
        if (weight.Rank != 4 || weight.ShapeRef[1] != x.ShapeRef[1])
            throw new ArgumentException($"Conv2d: weight {FormatShape(weight.ShapeRef)} must be [Co, {x.ShapeRef[1]}, kh, kw] for input {FormatShape(x.ShapeRef)}.", nameof(weight));
        return ConvCore(x, weight, bias, new ConvGeometry(x.ShapeRef[0], x.ShapeRef[1], x.ShapeRef[2], x.ShapeRef[3], weight.ShapeRef[2], weight.ShapeRef[3],
            stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, mode), "Conv2d", x.ShapeRef, weight.ShapeRef);
    }

    /// <summary>
    /// 1-D convolution: x [N, C, L], <paramref name="weight"/> [Co, C, k], <paramref name="bias"/> [Co] or null → [N, Co, Lo].
    /// </summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, PaddingMode mode = PaddingMode.Zeros, int dilation = 1)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (x.Rank != 3) throw new ArgumentException($"Conv1d expects input [N, C, L]; got {FormatShape(x.ShapeRef)}.", nameof(x));
        if (weight.Rank != 3 || weight.ShapeRef[1] != x.ShapeRef[1])
            throw new ArgumentException($"Conv1d: weight {FormatShape(weight.ShapeRef)} must be [Co, {x.ShapeRef[1]}, k] for input {FormatShape(x.ShapeRef)}.", nameof(weight));
        var geom = new ConvGeometry(x.ShapeRef[0], x.ShapeRef[1], 1, x.ShapeRef[2], 1, weight.ShapeRef[2], 1, stride, 0, padding, 1, dilation, mode);
        return ConvCore(x, weight, bias, geom, "Conv1d", x.ShapeRef, weight.ShapeRef);
    }

    private static Tensor ConvCore(Tensor x, Tensor weight, Tensor? bias, ConvGeometry g, string opName, int[] xShape, int[] wShape)
    {
        if (g.SH < 1 || g.SW < 1) throw new ArgumentOutOfRangeException("stride", "Stride must be at least 1.");
        if (g.DH < 1 || g.DW < 1) throw new ArgumentOutOfRangeException("dilation", "Dilation must be at least 1.");
        if (g.PH < 0 || g.PW < 0) throw new ArgumentOutOfRangeException("padding", "Padding must be non-negative.");
        if (g.Mode == PaddingMode.Periodic && (g.PH > g.H || g.PW > g.W))
            throw new ArgumentOutOfRangeException("padding", $"Periodic padding ({g.PH}, {g.PW}) may not exceed the input size ({g.H}, {g.W}).");
        if (g.H + 2 * g.PH < g.DH * (g.KH - 1) + 1 || g.W + 2 * g.PW < g.DW * (g.KW - 1) + 1 || g.Ho <= 0 || g.Wo <= 0)
            throw new ArgumentException($"{opName}: the kernel {FormatShape(wShape)} (dilation {g.DH}x{g.DW}) is larger than the padded input {FormatShape(xShape)}.", nameof(weight));
        int co = wShape[0];
        if (bias is not null && (bias.Rank != 1 || bias.ShapeRef[0] != co))
            throw new ArgumentException($"{opName}: bias {FormatShape(bias.ShapeRef)} must be [{co}].", nameof(bias));
        if (x.Device != weight.Device || (bias is not null && bias.Device != x.Device))
            throw new ArgumentException($"{opName}: input, weight and bias must be on the same device.", nameof(weight));

        if (!x.Device.RunsKernels) return ConvHost(x, weight, bias, g, opName, xShape, wShape);
        int hw = g.Ho * g.Wo;
        var w2 = new Tensor(weight.Storage, [co, g.Rows]);
        var col = Ops.Im2Col(x, g);
        var y = Ops.MatMul(w2, col, false, false);                       // [Co, N*Ho*Wo]
        var outShape4 = new[] { g.N, co, g.Ho, g.Wo };
        col.Storage.ReleaseTemporary();
        var yPerm = Ops.Gather(new Tensor(y.Storage, [co, g.N, hw]), PermutePlan([co, g.N, hw], [1, 0, 2]));
        y.Storage.ReleaseTemporary();
        var result = new Tensor(yPerm.Storage, xShape.Length == 3 ? [g.N, co, g.Wo] : outShape4);
        if (bias is not null)
        {
            result = Ops.Binary(BinaryOp.Add, result, new Tensor(bias.Storage, xShape.Length == 3 ? [co, 1] : [co, 1, 1]));
            yPerm.Storage.ReleaseTemporary();
        }
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return AutogradTape.Record(result, opName, inputs, gOut =>
        {
            // [N, Co, HW] -> [Co, N*HW], the layout of the GEMM's output.
            var gY = Ops.Gather(new Tensor(gOut.Storage, [g.N, co, hw]), PermutePlan([g.N, co, hw], [1, 0, 2]));
            var gY2 = new Tensor(gY.Storage, [co, g.N * hw]);
            Tensor? gx = null, gw = null, gb = null;
            if (weight.RequiresGrad) gw = ConvWeightGrad(x, gY2, g, wShape);
            if (x.RequiresGrad)
            {
                var gCol = Ops.MatMul(w2, gY2, true, false);              // [C*kh*kw, N*Ho*Wo]
                gx = new Tensor(Ops.Col2Im(gCol, g).Storage, xShape);
                gCol.Storage.ReleaseTemporary();
            }
            if (bias is not null && bias.RequiresGrad)
                gb = new Tensor(Ops.ReduceSum(gY2, co, g.N * hw, 1, [co, 1]).Storage, [co]);
            gY.Storage.ReleaseTemporary();
            return bias is null ? [gx, gw] : [gx, gw, gb];
        });
    }

    /// <summary>
    /// The host path: forward, weight gradient and input gradient are implicit GEMMs (<see cref="Gemm.ConvForward"/>,
    /// <see cref="Gemm.ConvWeightGrad"/>) that never build the im2col matrix; the input gradient of a stride-1 zero-padded (or size-preserving
    /// periodic) convolution is itself such a convolution, with flipped, transposed weights.
    /// </summary>
    private static Tensor ConvHost(Tensor x, Tensor weight, Tensor? bias, ConvGeometry g, string opName, int[] xShape, int[] wShape)
    {
        int co = wShape[0], hw = g.Ho * g.Wo;
        var result = Empty(x.Device, xShape.Length == 3 ? [g.N, co, g.Wo] : [g.N, co, g.Ho, g.Wo]);
        // The padded input serves the forward and, kept on the tape (about the size of x), the weight gradient.
        var xp = Empty(x.Device, Gemm.PaddedLength(g));
        Gemm.Pad(x.Host, xp.Host, g);
        Gemm.ConvForward(xp.Host, weight.Host, bias is null ? default : bias.Host, result.Host, co, g);
        GC.KeepAlive(x); GC.KeepAlive(weight); GC.KeepAlive(bias);
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        bool padKept = true;
        var recorded = AutogradTape.Record(result, opName, inputs, gOut =>
        {
            Tensor? gx = null, gw = null, gb = null;
            if (weight.RequiresGrad)
            {
                // (Re-pad if the copy was released because the weight did not need a gradient when recorded.)
                var src = padKept ? xp : Empty(x.Device, Gemm.PaddedLength(g));
                if (!padKept) Gemm.Pad(x.Host, src.Host, g);
                gw = Empty(x.Device, wShape);
                Gemm.ConvWeightGrad(src.Host, gOut.Host, gw.Host, co, g);
                GC.KeepAlive(src); GC.KeepAlive(x); GC.KeepAlive(gOut);
            }
            if (x.RequiresGrad)
            {
                if (TransposedGeometry(g, co) is { } gt)
                {
                    var wf = FlippedTransposedWeights(weight, co, g);
                    gx = Empty(x.Device, xShape);
                    var gp = Empty(x.Device, Gemm.PaddedLength(gt));
                    Gemm.Pad(gOut.Host, gp.Host, gt);
                    Gemm.ConvForward(gp.Host, wf, default, gx.Host, g.C, gt);
                    gp.Storage.ReleaseTemporary();
                    GC.KeepAlive(gOut);
                }
                else
                {
                    // [N, Co, HW] -> [Co, N*HW], the column layout of im2col, then the adjoint of im2col.
                    var gY = Ops.Gather(new Tensor(gOut.Storage, [g.N, co, hw]), PermutePlan([g.N, co, hw], [1, 0, 2]));
                    var gCol = Ops.MatMul(new Tensor(weight.Storage, [co, g.Rows]), new Tensor(gY.Storage, [co, g.N * hw]), true, false);
                    gY.Storage.ReleaseTemporary();
                    gx = new Tensor(Ops.Col2Im(gCol, g).Storage, xShape);
                    gCol.Storage.ReleaseTemporary();
                }
            }
            if (bias is not null && bias.RequiresGrad)
            {
                gb = Empty(x.Device, co);
                var gv = gOut.Host; var bv = gb.Host;
                for (int c = 0; c < co; c++)
                {
                    float s = 0;
                    for (int n = 0; n < g.N; n++) s += System.Numerics.Tensors.TensorPrimitives.Sum(gv.Slice((n * co + c) * hw, hw));
                    bv[c] = s;
                }
                GC.KeepAlive(gOut);
            }
            return bias is null ? [gx, gw] : [gx, gw, gb];
        });
        // Nothing recorded, or no weight gradient wanted: the padded copy is not needed any more.
        if (recorded.GradFn is null || !weight.RequiresGrad)
        {
            padKept = false;
            xp.Storage.ReleaseTemporary();
        }
        return recorded;
    }

    /// <summary>dW [Co, C*kh*kw] = gY [Co, N*HW] · im2col(x)ᵀ, reshaped to <paramref name="wShape"/>.</summary>
    private static Tensor ConvWeightGrad(Tensor x, Tensor gY2, ConvGeometry g, int[] wShape)
    {
        var col = Ops.Im2Col(x, g);
        var gw = new Tensor(Ops.MatMul(gY2, col, false, true).Storage, wShape);
        col.Storage.ReleaseTemporary();
        return gw;
    }

    /// <summary>
    /// The geometry of the convolution that computes the input gradient from the output gradient, or
    /// null when there is none: it exists for stride 1 with zero padding (padding D(k-1) - P on the
    /// [N, Co, Ho, Wo] gradient), and with periodic padding when the output has the input's size.
    /// </summary>
    internal static ConvGeometry? TransposedGeometry(ConvGeometry g, int co)
    {
        if (g.SH != 1 || g.SW != 1) return null;
        int ph = g.DH * (g.KH - 1) - g.PH, pw = g.DW * (g.KW - 1) - g.PW;
        if (ph < 0 || pw < 0) return null;
        if (g.Mode == PaddingMode.Periodic ? g.Ho != g.H || g.Wo != g.W || ph > g.Ho || pw > g.Wo : g.Mode != PaddingMode.Zeros) return null;
        var t = new ConvGeometry(g.N, co, g.Ho, g.Wo, g.KH, g.KW, 1, 1, ph, pw, g.DH, g.DW, g.Mode);
        return t.Ho == g.H && t.Wo == g.W ? t : null;
    }

    /// <summary>W' [C, Co*kh*kw] with W'[c, co, i, j] = W[co, c, kh-1-i, kw-1-j]: the weights of the transposed convolution.</summary>
    private static float[] FlippedTransposedWeights(Tensor weight, int co, ConvGeometry g)
    {
        var w = weight.Host;
        int kk = g.KH * g.KW;
        var wf = new float[g.C * co * kk];
        for (int o = 0; o < co; o++)
            for (int c = 0; c < g.C; c++)
                for (int t = 0; t < kk; t++)
                    wf[(c * co + o) * kk + kk - 1 - t] = w[(o * g.C + c) * kk + t];
        GC.KeepAlive(weight);
        return wf;
    }

    private static GatherPlan PermutePlan(int[] shape, int[] perm)
    {
        var strides = GatherPlan.RowMajorStrides(shape);
        var outShape = perm.Select(p => shape[p]).ToArray();
        return new GatherPlan(outShape, outShape.Select(GatherPlan.Identity).ToArray(), perm.Select(p => strides[p]).ToArray(), shape);
    }
}

internal static partial class Ops
{
    /// <summary>Unfolds x [N, C, H, W] into columns [C*kh*kw, N*Ho*Wo] (row (c, ki, kj), column (n, oh, ow)).</summary>
    public static Tensor Im2Col(Tensor x, ConvGeometry g)
    {
        var col = Tensor.Empty(x.Device, g.Rows, g.Cols);
        if (x.Device.RunsKernels) { Kernels.Im2Col(x, col, g); return col; }
        var xs = x.Storage; var cs = col.Storage;
        var hMap = g.HMap; var wMap = g.WMap;
        int hw = g.Ho * g.Wo, kk = g.KH * g.KW;
        ForChunks(g.Rows, (r0, count) =>
        {
            var xv = xs.HostSpan; var cv = cs.HostSpan;
            for (int r = r0; r < r0 + count; r++)
            {
                int c = r / kk, ki = (r % kk) / g.KW, kj = r % g.KW;
                var (lo, hi, off) = ContiguousRange(g, kj);
                for (int n = 0; n < g.N; n++)
                {
                    int planeBase = (n * g.C + c) * g.H * g.W;
                    for (int oh = 0; oh < g.Ho; oh++)
                    {
                        var dst = cv.Slice(r * g.Cols + n * hw + oh * g.Wo, g.Wo);
                        int ih = hMap[ki * g.Ho + oh];
                        if (ih < 0) { dst.Clear(); continue; }
                        var src = xv.Slice(planeBase + ih * g.W, g.W);
                        for (int ow = 0; ow < lo; ow++) { int iw = wMap[kj * g.Wo + ow]; dst[ow] = iw < 0 ? 0f : src[iw]; }
                        if (hi > lo) src.Slice(lo + off, hi - lo).CopyTo(dst.Slice(lo, hi - lo));
                        for (int ow = Math.Max(hi, lo); ow < g.Wo; ow++) { int iw = wMap[kj * g.Wo + ow]; dst[ow] = iw < 0 ? 0f : src[iw]; }
                    }
                }
            }
        }, Math.Max(1, ParallelThreshold / Math.Max(1, g.Cols)));
        return col;
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: sums columns back into an [N, C, H, W] gradient.</summary>
    public static Tensor Col2Im(Tensor col, ConvGeometry g)
    {
        var x = Tensor.Zeros(col.Device, g.N, g.C, g.H, g.W);
        if (col.Device.RunsKernels) { Kernels.Col2Im(col, x, g); return x; }
        var xs = x.Storage; var cs = col.Storage;
        var hMap = g.HMap; var wMap = g.WMap;
        int hw = g.Ho * g.Wo;
        // Parallel over (n, c) planes: each task writes only its own plane.
        ForChunks(g.N * g.C, (p0, count) =>
        {
            var xv = xs.HostSpan; var cv = cs.HostSpan;
            for (int p = p0; p < p0 + count; p++)
            {
                int n = p / g.C, c = p % g.C;
                var plane = xv.Slice(p * g.H * g.W, g.H * g.W);
                for (int ki = 0; ki < g.KH; ki++)
                    for (int kj = 0; kj < g.KW; kj++)
                    {
                        int r = (c * g.KH + ki) * g.KW + kj;
                        var (lo, hi, off) = ContiguousRange(g, kj);
                        for (int oh = 0; oh < g.Ho; oh++)
                        {
                            int ih = hMap[ki * g.Ho + oh];
                            if (ih < 0) continue;
                            var src = cv.Slice(r * g.Cols + n * hw + oh * g.Wo, g.Wo);
                            var dst = plane.Slice(ih * g.W, g.W);
                            for (int ow = 0; ow < lo; ow++) { int iw = wMap[kj * g.Wo + ow]; if (iw >= 0) dst[iw] += src[ow]; }
                            if (hi > lo) AddInPlace(dst.Slice(lo + off, hi - lo), src.Slice(lo, hi - lo));
                            for (int ow = Math.Max(hi, lo); ow < g.Wo; ow++) { int iw = wMap[kj * g.Wo + ow]; if (iw >= 0) dst[iw] += src[ow]; }
                        }
                    }
            }
        }, 1);
        return x;
    }

    /// <summary>d += s for short rows (a call into TensorPrimitives costs as much as the work here).</summary>
    private static void AddInPlace(Span<float> d, ReadOnlySpan<float> s)
    {
        int i = 0;
        ref float dr = ref MemoryMarshal.GetReference(d);
        ref float sr = ref MemoryMarshal.GetReference(s);
        for (; i <= d.Length - 8; i += 8)
            (Vector256.LoadUnsafe(ref dr, (nuint)i) + Vector256.LoadUnsafe(ref sr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
        for (; i < d.Length; i++) d[i] += s[i];
    }

    /// <summary>For stride 1, the output columns [lo, hi) of tap kj read input columns ow + off contiguously.</summary>
    private static (int Lo, int Hi, int Off) ContiguousRange(ConvGeometry g, int kj)
    {
        if (g.SW != 1) return (g.Wo, g.Wo, 0);
        int off = kj * g.DW - g.PW;
        int lo = Math.Clamp(-off, 0, g.Wo);
        int hi = Math.Clamp(g.W - off, lo, g.Wo);
        return (lo, hi, off);
    }
}
