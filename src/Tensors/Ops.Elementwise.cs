using ILGPU.Runtime;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffGen.Gpu;

namespace DiffGen.Tensors;

/// <summary>Elementwise unary functions (one primitive, one kernel, one backward each).</summary>
internal enum UnaryOp
{
    Neg, Exp, Log, Tanh, Sigmoid, Relu, Gelu, LeakyRelu, Softplus, Sqrt, Abs, Pow, Sin, Cos, Square,
}

/// <summary>Elementwise binary functions with broadcasting.</summary>
internal enum BinaryOp
{
    Add, Sub, Mul, Div, Maximum, Minimum,
    /// <summary>1 where a &gt;= b, else 0 (a mask; no gradient).</summary>
    GreaterEqual,
    /// <summary>1 where a == b, else 0 (a mask; no gradient).</summary>
    Equal,
}

/// <summary>
/// The primitives every op is built from. Each takes and returns tensors and dispatches on the device:
/// span code on <see cref="Device.Cpu"/>, ILGPU kernels elsewhere. None of them records on the tape.
/// </summary>
internal static partial class Ops
{
    /// <summary>Below this many elements a loop runs on the calling thread; above it, Parallel.For in chunks.</summary>
    internal const int ParallelThreshold = 1 << 15;

    internal static void ForChunks(int n, Action<int, int> body, int grain = ParallelThreshold)
    {
        if (n <= grain || Environment.ProcessorCount == 1)
        {
            body(0, n);
            return;
        }
        int chunks = Math.Min((n + grain - 1) / grain, Environment.ProcessorCount * 4);
        int size = (n + chunks - 1) / chunks;
        Parallel.For(0, chunks, c =>
        {
            int start = c * size;
            int len = Math.Min(size, n - start);
            if (len > 0) body(start, len);
        });
    }

    public static void Fill(Tensor t, float value)
    {
        if (t.Device.RunsKernels) { Kernels.Fill(t, value); return; }
        t.Host.Fill(value);
    }

    public static Tensor CopyOf(Tensor x)
    {
        var r = Tensor.Empty(x.Device, x.ShapeRef);
        if (x.Device.RunsKernels) x.Storage.View.SubView(0, x.Length).CopyTo(r.Storage.View.SubView(0, x.Length));
        else x.Host.CopyTo(r.Host);
        GC.KeepAlive(x);
        return r;
    }

    // ------------------------------------------------------------------ unary

    public static Tensor Unary(UnaryOp op, Tensor x, float p = 0)
    {
        var y = Tensor.Empty(x.Device, x.ShapeRef);
        if (x.Device.RunsKernels) { Kernels.Unary(op, p, x, y); return y; }
        var xs = x.Storage;
        var ys = y.Storage;
        ForChunks(x.Length, (s, n) => UnaryCpu(op, p, xs.HostSpan.Slice(s, n), ys.HostSpan.Slice(s, n)));
        return y;
    }

    private static void UnaryCpu(UnaryOp op, float p, ReadOnlySpan<float> x, Span<float> y)
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Relu: TensorPrimitives.Max(x, 0f, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Sin: TensorPrimitives.Sin(x, y); break;
            case UnaryOp.Cos: TensorPrimitives.Cos(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Pow: TensorPrimitives.Pow(x, p, y); break;
            case UnaryOp.LeakyRelu:
                {
                    // max(x, 0) + p * min(x, 0), vectorised.
                    int i = 0;
                    if (Vector256.IsHardwareAccelerated)
                    {
                        var vp = Vector256.Create(p);
                        ref float xr = ref MemoryMarshal.GetReference(x);
                        ref float yr = ref MemoryMarshal.GetReference(y);
                        for (; i <= x.Length - 8; i += 8)
                        {
                            var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                            (Vector256.Max(v, Vector256<float>.Zero) + vp * Vector256.Min(v, Vector256<float>.Zero)).StoreUnsafe(ref yr, (nuint)i);
                        }
                    }
                    for (; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : p * x[i];
                    break;
                }
            case UnaryOp.Gelu: Map<GeluOp>(x, y, p); break;
            case UnaryOp.Softplus: Map<SoftplusOp>(x, y, p); break;
            default:
                for (int i = 0; i < x.Length; i++) y[i] = UnaryScalar(op, p, x[i]);
                break;
        }
    }

    /// <summary>A scalar function the JIT specialises a loop for (no per-element switch).</summary>
    private interface IScalarOp
    {
        static abstract float Apply(float x, float p);
    }

    private interface IDerivativeOp
    {
        static abstract float Derivative(float x, float y, float p);
    }

    private readonly struct GeluOp : IScalarOp, IDerivativeOp
    {
        public static float Apply(float x, float p) => UnaryScalar(UnaryOp.Gelu, p, x);

        public static float Derivative(float x, float y, float p) => UnaryDerivative(UnaryOp.Gelu, p, x, y);
    }

    private readonly struct SoftplusOp : IScalarOp, IDerivativeOp
    {
        public static float Apply(float x, float p) => UnaryScalar(UnaryOp.Softplus, p, x);

        public static float Derivative(float x, float y, float p) => UnaryDerivative(UnaryOp.Softplus, p, x, y);
    }

    private readonly struct TanhGrad : IDerivativeOp
    {
        public static float Derivative(float x, float y, float p) => 1f - y * y;
    }

    private readonly struct SigmoidGrad : IDerivativeOp
    {
        public static float Derivative(float x, float y, float p) => y * (1f - y);
    }

    /// <summary>r = g where x &gt; 0, else slope·g; branch-free (random signs would defeat the branch predictor).</summary>
    private static void SlopeGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> r, float slope)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(slope);
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float gr = ref MemoryMarshal.GetReference(g);
            ref float rr = ref MemoryMarshal.GetReference(r);
            for (; i <= x.Length - 8; i += 8)
            {
                var gv = Vector256.LoadUnsafe(ref gr, (nuint)i);
                var mask = Vector256.GreaterThan(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256<float>.Zero);
                Vector256.ConditionalSelect(mask, gv, gv * vs).StoreUnsafe(ref rr, (nuint)i);
            }
        }
        for (; i < x.Length; i++) r[i] = x[i] > 0 ? g[i] : slope * g[i];
    }

    private static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y, float p) where TOp : IScalarOp
    {
        for (int i = 0; i < x.Length; i++) y[i] = TOp.Apply(x[i], p);
    }

    private static void MapGrad<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> r, float p) where TOp : IDerivativeOp
    {
        for (int i = 0; i < x.Length; i++) r[i] = g[i] * TOp.Derivative(x[i], y[i], p);
    }

    /// <summary>The scalar definition of each unary op (shared with the kernels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float UnaryScalar(UnaryOp op, float p, float x)
    {
        switch (op)
        {
            case UnaryOp.Neg: return -x;
            case UnaryOp.Exp: return MathF.Exp(x);
            case UnaryOp.Log: return MathF.Log(x);
            case UnaryOp.Tanh: return MathF.Tanh(x);
            case UnaryOp.Sigmoid: return 1f / (1f + MathF.Exp(-x));
            case UnaryOp.Relu: return x > 0 ? x : 0f;
            case UnaryOp.Gelu: return 0.5f * x * (1f + Erf(x * 0.70710678118654752f));
            case UnaryOp.LeakyRelu: return x > 0 ? x : p * x;
            case UnaryOp.Softplus: return MathF.Max(x, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));
            case UnaryOp.Sqrt: return MathF.Sqrt(x);
            case UnaryOp.Abs: return MathF.Abs(x);
            case UnaryOp.Pow: return MathF.Pow(x, p);
            case UnaryOp.Sin: return MathF.Sin(x);
            case UnaryOp.Cos: return MathF.Cos(x);
            case UnaryOp.Square: return x * x;
            default: return float.NaN;
        }
    }

    /// <summary>d op(x)/dx given x and y = op(x) (shared with the kernels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float UnaryDerivative(UnaryOp op, float p, float x, float y)
    {
        switch (op)
        {
            case UnaryOp.Neg: return -1f;
            case UnaryOp.Exp: return y;
            case UnaryOp.Log: return 1f / x;
            case UnaryOp.Tanh: return 1f - y * y;
            case UnaryOp.Sigmoid: return y * (1f - y);
            case UnaryOp.Relu: return x > 0 ? 1f : 0f;
            case UnaryOp.Gelu:
                {
                    float cdf = 0.5f * (1f + Erf(x * 0.70710678118654752f));
                    float pdf = 0.39894228040143268f * MathF.Exp(-0.5f * x * x);
                    return cdf + x * pdf;
                }
            case UnaryOp.LeakyRelu: return x > 0 ? 1f : p;
            case UnaryOp.Softplus: return 1f / (1f + MathF.Exp(-x));
            case UnaryOp.Sqrt: return 0.5f / y;
            case UnaryOp.Abs: return x > 0 ? 1f : x < 0 ? -1f : 0f;
            case UnaryOp.Pow: return p == 0 ? 0f : p * MathF.Pow(x, p - 1f);
            case UnaryOp.Sin: return MathF.Cos(x);
            case UnaryOp.Cos: return -MathF.Sin(x);
            case UnaryOp.Square: return 2f * x;
            default: return float.NaN;
        }
    }

    /// <summary>The error function (Abramowitz–Stegun 7.1.26, |error| &lt; 1.5e-7: below float resolution).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Erf(float x)
    {
        float sign = x < 0 ? -1f : 1f;
        float a = MathF.Abs(x);
        float t = 1f / (1f + 0.3275911f * a);
        float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
        return sign * (1f - poly * MathF.Exp(-a * a));
    }

    /// <summary>gx = g * op'(x) given x, y = op(x) and the output gradient g.</summary>
    public static Tensor UnaryBackward(UnaryOp op, float p, Tensor x, Tensor y, Tensor g)
    {
        var gx = Tensor.Empty(x.Device, x.ShapeRef);
        if (x.Device.RunsKernels) { Kernels.UnaryBackward(op, p, x, y, g, gx); return gx; }
        var xs = x.Storage; var ys = y.Storage; var gs = g.Storage; var rs = gx.Storage;
        ForChunks(x.Length, (s, n) =>
        {
            var xv = xs.HostSpan.Slice(s, n); var yv = ys.HostSpan.Slice(s, n);
            var gv = gs.HostSpan.Slice(s, n); var rv = rs.HostSpan.Slice(s, n);
            switch (op)
            {
                case UnaryOp.Exp: TensorPrimitives.Multiply(gv, yv, rv); break;
                case UnaryOp.Neg: TensorPrimitives.Negate(gv, rv); break;
                case UnaryOp.Square:
                    TensorPrimitives.Multiply(xv, gv, rv);
                    TensorPrimitives.Multiply(rv, 2f, rv);
                    break;
                case UnaryOp.Log: TensorPrimitives.Divide(gv, xv, rv); break;
                case UnaryOp.Sqrt:
                    TensorPrimitives.Divide(gv, yv, rv);
                    TensorPrimitives.Multiply(rv, 0.5f, rv);
                    break;
                case UnaryOp.Relu: SlopeGrad(xv, gv, rv, 0f); break;
                case UnaryOp.LeakyRelu: SlopeGrad(xv, gv, rv, p); break;
                case UnaryOp.Tanh: MapGrad<TanhGrad>(xv, yv, gv, rv, p); break;
                case UnaryOp.Sigmoid: MapGrad<SigmoidGrad>(xv, yv, gv, rv, p); break;
                case UnaryOp.Gelu: MapGrad<GeluOp>(xv, yv, gv, rv, p); break;
                case UnaryOp.Softplus: MapGrad<SoftplusOp>(xv, yv, gv, rv, p); break;
                default:
                    for (int i = 0; i < n; i++) rv[i] = gv[i] * UnaryDerivative(op, p, xv[i], yv[i]);
                    break;
            }
        });
        return gx;
    }

    // ------------------------------------------------------------------ binary with broadcasting

    public static int[] BroadcastShape(int[] a, int[] b, string opName)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{opName}: shapes {Tensor.FormatShape(a)} and {Tensor.FormatShape(b)} cannot be broadcast together (dimension {i}: {da} vs {db}).");
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    /// <summary>Row-major strides of <paramref name="shape"/> aligned to <paramref name="outShape"/>, 0 on broadcast dimensions.</summary>
    public static int[] BroadcastStrides(int[] shape, int[] outShape)
    {
        var strides = new int[outShape.Length];
        int s = 1;
        for (int i = outShape.Length - 1; i >= 0; i--)
        {
            int k = i - (outShape.Length - shape.Length);
            int d = k >= 0 ? shape[k] : 1;
            strides[i] = d == 1 && outShape[i] != 1 ? 0 : s;
            if (k >= 0) s *= d;
        }
        return strides;
    }

    public static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        if (a.Device != b.Device)
            throw new ArgumentException($"{op}: the operands are on different devices ({a.Device.Name} and {b.Device.Name}); move one with To(device).", nameof(b));
        var outShape = Tensor.SameShape(a.ShapeRef, b.ShapeRef) ? a.ShapeRef : BroadcastShape(a.ShapeRef, b.ShapeRef, op.ToString());
        var r = Tensor.Empty(a.Device, outShape);
        if (a.Device.RunsKernels) { Kernels.Binary(op, a, b, r); return r; }
        var sa = a.Storage; var sb = b.Storage; var sr = r.Storage;
        int n = r.Length;
        if (a.Length == n && b.Length == n)
        {
            ForChunks(n, (s, len) => BinarySpan(op, sa.HostSpan.Slice(s, len), sb.HostSpan.Slice(s, len), sr.HostSpan.Slice(s, len)));
            return r;
        }
        if (b.Length == 1 && a.Length == n)
        {
            float bv = sb.HostSpan[0];
            ForChunks(n, (s, len) => BinarySpanScalar(op, sa.HostSpan.Slice(s, len), bv, sr.HostSpan.Slice(s, len)));
            return r;
        }
        if (a.Length == 1 && b.Length == n)
        {
            float av = sa.HostSpan[0];
            ForChunks(n, (s, len) => BinaryScalarSpan(op, av, sb.HostSpan.Slice(s, len), sr.HostSpan.Slice(s, len)));
            return r;
        }
        // General broadcasting: collapse dimensions, then run the innermost one as a span op.
        var (shape, stA, stB) = Collapse(outShape, BroadcastStrides(a.ShapeRef, outShape), BroadcastStrides(b.ShapeRef, outShape));
        int inner = shape[^1];
        int ia = stA[^1], ib = stB[^1];
        int rows = n / Math.Max(inner, 1);
        if (inner == 0) return r;
        ForChunks(rows, (r0, count) =>
        {
            var av = sa.HostSpan; var bv = sb.HostSpan; var rv = sr.HostSpan;
            for (int row = r0; row < r0 + count; row++)
            {
                int offA = 0, offB = 0, rem = row;
                for (int d = shape.Length - 2; d >= 0; d--)
                {
                    int idx = rem % shape[d];
                    rem /= shape[d];
                    offA += idx * stA[d];
                    offB += idx * stB[d];
                }
                var dst = rv.Slice(row * inner, inner);
                if (ia == 1 && ib == 1) BinarySpan(op, av.Slice(offA, inner), bv.Slice(offB, inner), dst);
                else if (ia == 1) BinarySpanScalar(op, av.Slice(offA, inner), bv[offB], dst);
                else if (ib == 1) BinaryScalarSpan(op, av[offA], bv.Slice(offB, inner), dst);
                else dst.Fill(BinaryScalar(op, av[offA], bv[offB]));
            }
        }, Math.Max(1, ParallelThreshold / Math.Max(inner, 1)));
        return r;
    }

    /// <summary>Merges adjacent dimensions that are contiguous in every operand (fewer, longer inner loops).</summary>
    internal static (int[] Shape, int[] A, int[] B) Collapse(int[] shape, int[] a, int[] b)
    {
        var s = new List<int>(); var sa = new List<int>(); var sb = new List<int>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            if (s.Count > 0 && sa[^1] == a[i] * shape[i] && sb[^1] == b[i] * shape[i])
            {
                s[^1] *= shape[i];
                sa[^1] = a[i];
                sb[^1] = b[i];
            }
            else
            {
                s.Add(shape[i]); sa.Add(a[i]); sb.Add(b[i]);
            }
        }
        if (s.Count == 0) { s.Add(1); sa.Add(1); sb.Add(1); }
        return (s.ToArray(), sa.ToArray(), sb.ToArray());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float BinaryScalar(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Maximum => MathF.Max(a, b),
        BinaryOp.Minimum => MathF.Min(a, b),
        BinaryOp.GreaterEqual => a >= b ? 1f : 0f,
        BinaryOp.Equal => a == b ? 1f : 0f,
        _ => float.NaN,
    };

    private static void BinarySpan(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> r)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, r); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, r); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, r); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, r); break;
            case BinaryOp.Maximum: TensorPrimitives.Max(a, b, r); break;
            case BinaryOp.Minimum: TensorPrimitives.Min(a, b, r); break;
            default: for (int i = 0; i < r.Length; i++) r[i] = BinaryScalar(op, a[i], b[i]); break;
        }
    }

    private static void BinarySpanScalar(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> r)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, r); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, r); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, r); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, r); break;
            case BinaryOp.Maximum: TensorPrimitives.Max(a, b, r); break;
            case BinaryOp.Minimum: TensorPrimitives.Min(a, b, r); break;
            default: for (int i = 0; i < r.Length; i++) r[i] = BinaryScalar(op, a[i], b); break;
        }
    }

    private static void BinaryScalarSpan(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> r)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, r); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, r); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, r); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, r); break;
            case BinaryOp.Maximum: TensorPrimitives.Max(b, a, r); break;
            case BinaryOp.Minimum: TensorPrimitives.Min(b, a, r); break;
            default: for (int i = 0; i < r.Length; i++) r[i] = BinaryScalar(op, a, b[i]); break;
        }
    }

    // ------------------------------------------------------------------ reductions

    /// <summary>Sums <paramref name="x"/> viewed as [outer, n, inner] over the middle axis into [outer, inner].</summary>
    public static Tensor ReduceSum(Tensor x, int outer, int n, int inner, int[] outShape)
    {
        var r = Tensor.Empty(x.Device, outShape);
        if (x.Device.RunsKernels) { Kernels.ReduceSum(x, r, outer, n, inner); return r; }
        var xs = x.Storage; var rs = r.Storage;
        ForChunks(outer, (o0, count) =>
        {
            var xv = xs.HostSpan; var rv = rs.HostSpan;
            for (int o = o0; o < o0 + count; o++)
            {
                var dst = rv.Slice(o * inner, inner);
                if (inner == 1)
                {
                    dst[0] = n == 0 ? 0f : TensorPrimitives.Sum(xv.Slice(o * n, n));
                    continue;
                }
                if (n == 0) { dst.Clear(); continue; }
                xv.Slice(o * n * inner, inner).CopyTo(dst);
                for (int k = 1; k < n; k++) TensorPrimitives.Add(dst, xv.Slice((o * n + k) * inner, inner), dst);
            }
        }, Math.Max(1, ParallelThreshold / Math.Max(1, n * inner)));
        return r;
    }

    /// <summary>Maximum of <paramref name="x"/> viewed as [outer, n, inner] over the middle axis.</summary>
    public static Tensor ReduceMax(Tensor x, int outer, int n, int inner, int[] outShape)
    {
        var r = Tensor.Empty(x.Device, outShape);
        if (x.Device.RunsKernels) { Kernels.ReduceMax(x, r, outer, n, inner); return r; }
        var xs = x.Storage; var rs = r.Storage;
        ForChunks(outer, (o0, count) =>
        {
            var xv = xs.HostSpan; var rv = rs.HostSpan;
            for (int o = o0; o < o0 + count; o++)
            {
                var dst = rv.Slice(o * inner, inner);
                if (inner == 1)
                {
                    dst[0] = TensorPrimitives.Max(xv.Slice(o * n, n));
                    continue;
                }
                xv.Slice(o * n * inner, inner).CopyTo(dst);
                for (int k = 1; k < n; k++) TensorPrimitives.Max(dst, xv.Slice((o * n + k) * inner, inner), dst);
            }
        }, Math.Max(1, ParallelThreshold / Math.Max(1, n * inner)));
        return r;
    }
}
