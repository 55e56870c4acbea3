using DiffGen.Gpu;

namespace DiffGen.Tensors;

public sealed partial class Tensor
{
    // ---------------------------------------------------------------- arithmetic operators

    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);

    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);

    /// <summary>Elementwise product with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);

    /// <summary>Elementwise quotient with broadcasting.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, float s) => Affine(a, 1f, s, "AddScalar");

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(float s, Tensor a) => Affine(a, 1f, s, "AddScalar");

    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, float s) => Affine(a, 1f, -s, "SubScalar");

    /// <summary>Subtracts from a scalar.</summary>
    public static Tensor operator -(float s, Tensor a) => Affine(a, -1f, s, "RSubScalar");

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor a, float s) => Affine(a, s, 0f, "MulScalar");

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(float s, Tensor a) => Affine(a, s, 0f, "MulScalar");

    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, float s) => Affine(a, 1f / s, 0f, "DivScalar");

    /// <summary>Divides a scalar by each element.</summary>
    public static Tensor operator /(float s, Tensor a) => s * a.Pow(-1f);

    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => Affine(a, -1f, 0f, "Neg");

    /// <summary>Elementwise maximum with broadcasting (the gradient goes to the larger operand; ties to <paramref name="a"/>).</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Binary(BinaryOp.Maximum, a, b);

    /// <summary>Elementwise minimum with broadcasting (the gradient goes to the smaller operand; ties to <paramref name="a"/>).</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Binary(BinaryOp.Minimum, a, b);

    /// <summary>A mask: 1 where a &gt;= b, else 0 (broadcasting). Not differentiable: the result is a constant (dropout masks, selections).</summary>
    public static Tensor GreaterEqual(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Ops.Binary(BinaryOp.GreaterEqual, a, b);
    }

    /// <summary>A mask: 1 where a == b, else 0 (broadcasting). Not differentiable.</summary>
    public static Tensor Equal(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Ops.Binary(BinaryOp.Equal, a, b);
    }

    /// <summary>Clamps every element to [<paramref name="min"/>, <paramref name="max"/>] (gradient 0 outside).</summary>
    public Tensor Clamp(float min, float max)
    {
        if (!(min <= max)) throw new ArgumentException($"Clamp: min {min} must not exceed max {max}.", nameof(min));
        return Minimum(Maximum(this, Scalar(min, Device)), Scalar(max, Device));
    }

    /// <summary><c>x * scale + shift</c> in one pass.</summary>
    public static Tensor Affine(Tensor x, float scale, float shift, string opName = "Affine")
    {
        ArgumentNullException.ThrowIfNull(x);
        var r = Ops.Affine(x, scale, shift);
        return AutogradTape.Record(r, opName, [x], g => [Ops.Affine(g, scale, 0f)]);
    }

    private static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var r = Ops.Binary(op, a, b);
        return AutogradTape.Record(r, op.ToString(), [a, b], g =>
        {
            Tensor? ga = null, gb = null;
            switch (op)
            {
                case BinaryOp.Add:
                    if (a.RequiresGrad) ga = SumTo(g, a.ShapeRef);
                    if (b.RequiresGrad) gb = SumTo(g, b.ShapeRef);
                    break;
                case BinaryOp.Sub:
                    if (a.RequiresGrad) ga = SumTo(g, a.ShapeRef);
                    if (b.RequiresGrad) gb = Ops.Affine(SumTo(g, b.ShapeRef), -1f, 0f);
                    break;
                case BinaryOp.Mul:
                    if (a.RequiresGrad) ga = SumTo(Ops.Binary(BinaryOp.Mul, g, b), a.ShapeRef);
                    if (b.RequiresGrad) gb = SumTo(Ops.Binary(BinaryOp.Mul, g, a), b.ShapeRef);
                    break;
                case BinaryOp.Div:
                    if (a.RequiresGrad) ga = SumTo(Ops.Binary(BinaryOp.Div, g, b), a.ShapeRef);
                    if (b.RequiresGrad)
                        gb = Ops.Affine(SumTo(Ops.Binary(BinaryOp.Div, Ops.Binary(BinaryOp.Mul, g, r), b), b.ShapeRef), -1f, 0f);
                    break;
                case BinaryOp.Maximum:
                case BinaryOp.Minimum:
                    {
                        // mask = 1 where a wins (a >= b for max, b >= a for min).
                        var mask = op == BinaryOp.Maximum ? Ops.Binary(BinaryOp.GreaterEqual, a, b) : Ops.Binary(BinaryOp.GreaterEqual, b, a);
                        var gm = Ops.Binary(BinaryOp.Mul, g, mask);
                        if (a.RequiresGrad) ga = SumTo(gm, a.ShapeRef);
                        if (b.RequiresGrad) gb = SumTo(Ops.Binary(BinaryOp.Sub, g, gm), b.ShapeRef);
                        break;
                    }
                default:
                    break;
            }
            return [ga, gb];
        });
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="shape"/> (no tape).</summary>
    internal static Tensor SumTo(Tensor g, int[] shape)
    {
        if (SameShape(g.ShapeRef, shape)) return g;
        int lead = g.Rank - shape.Length;
        var cur = g;
        for (int d = g.Rank - 1; d >= 0; d--)
        {
            bool reduce = d < lead || (shape[d - lead] == 1 && g.ShapeRef[d] != 1);
            if (!reduce) continue;
            var next = ReduceAxis(cur, d, keepDim: true, max: false);
            if (!ReferenceEquals(cur, g)) cur.Storage.ReleaseTemporary();
            cur = next;
        }
        return new Tensor(cur.Storage, (int[])shape.Clone());
    }

    // ---------------------------------------------------------------- unary math

    private Tensor UnaryOpRecorded(UnaryOp op, string name, float p = 0)
    {
        var y = Ops.Unary(op, this, p);
        var x = this;
        return AutogradTape.Record(y, name, [x], g => [Ops.UnaryBackward(op, p, x, y, g)]);
    }

    /// <summary>e^x elementwise.</summary>
    public Tensor Exp() => UnaryOpRecorded(UnaryOp.Exp, "Exp");

    /// <summary>Natural logarithm elementwise.</summary>
    public Tensor Log() => UnaryOpRecorded(UnaryOp.Log, "Log");

    /// <summary>Hyperbolic tangent elementwise.</summary>
    public Tensor Tanh() => UnaryOpRecorded(UnaryOp.Tanh, "Tanh");

    /// <summary>Logistic sigmoid 1 / (1 + e^-x) elementwise.</summary>
    public Tensor Sigmoid() => UnaryOpRecorded(UnaryOp.Sigmoid, "Sigmoid");

    /// <summary>max(x, 0) elementwise.</summary>
    public Tensor Relu() => UnaryOpRecorded(UnaryOp.Relu, "Relu");

    /// <summary>GELU with the exact (erf) form, as PyTorch's default: x·Φ(x).</summary>
    public Tensor Gelu() => UnaryOpRecorded(UnaryOp.Gelu, "Gelu");

    /// <summary>x for x &gt; 0, <paramref name="slope"/>·x otherwise.</summary>
    public Tensor LeakyRelu(float slope = 0.01f) => UnaryOpRecorded(UnaryOp.LeakyRelu, "LeakyRelu", slope);

    /// <summary>log(1 + e^x), computed without overflow.</summary>
    public Tensor Softplus() => UnaryOpRecorded(UnaryOp.Softplus, "Softplus");

    /// <summary>Square root elementwise.</summary>
    public Tensor Sqrt() => UnaryOpRecorded(UnaryOp.Sqrt, "Sqrt");

    /// <summary>Absolute value elementwise (gradient 0 at 0).</summary>
    public Tensor Abs() => UnaryOpRecorded(UnaryOp.Abs, "Abs");

    /// <summary>x^<paramref name="p"/> elementwise.</summary>
    public Tensor Pow(float p) => UnaryOpRecorded(UnaryOp.Pow, "Pow", p);

    /// <summary>x² elementwise.</summary>
    public Tensor Square() => UnaryOpRecorded(UnaryOp.Square, "Square");

    /// <summary>Sine elementwise.</summary>
    public Tensor Sin() => UnaryOpRecorded(UnaryOp.Sin, "Sin");

    /// <summary>Cosine elementwise.</summary>
    public Tensor Cos() => UnaryOpRecorded(UnaryOp.Cos, "Cos");

    /// <summary>Static form of <see cref="Exp()"/>.</summary>
    public static Tensor Exp(Tensor x) => x.Exp();

    /// <summary>Static form of <see cref="Log()"/>.</summary>
    public static Tensor Log(Tensor x) => x.Log();

    /// <summary>Static form of <see cref="Tanh()"/>.</summary>
    public static Tensor Tanh(Tensor x) => x.Tanh();

    /// <summary>Static form of <see cref="Sigmoid()"/>.</summary>
    public static Tensor Sigmoid(Tensor x) => x.Sigmoid();

    /// <summary>Static form of <see cref="Relu()"/>.</summary>
    public static Tensor Relu(Tensor x) => x.Relu();

    /// <summary>Static form of <see cref="Gelu()"/>.</summary>
    public static Tensor Gelu(Tensor x) => x.Gelu();

    /// <summary>Static form of <see cref="LeakyRelu(float)"/>.</summary>
    public static Tensor LeakyRelu(Tensor x, float slope = 0.01f) => x.LeakyRelu(slope);

    /// <summary>Static form of <see cref="Softplus()"/>.</summary>
    public static Tensor Softplus(Tensor x) => x.Softplus();

    /// <summary>Static form of <see cref="Sqrt()"/>.</summary>
    public static Tensor Sqrt(Tensor x) => x.Sqrt();

    /// <summary>Static form of <see cref="Abs()"/>.</summary>
    public static Tensor Abs(Tensor x) => x.Abs();

    /// <summary>Static form of <see cref="Pow(float)"/>.</summary>
    public static Tensor Pow(Tensor x, float p) => x.Pow(p);

    // ---------------------------------------------------------------- reductions

    private static Tensor ReduceAxis(Tensor x, int axis, bool keepDim, bool max)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= x.ShapeRef[i];
        for (int i = axis + 1; i < x.Rank; i++) inner *= x.ShapeRef[i];
        int n = x.ShapeRef[axis];
        var outShape = ReducedShape(x.ShapeRef, axis, keepDim);
        return max ? Ops.ReduceMax(x, outer, n, inner, outShape) : Ops.ReduceSum(x, outer, n, inner, outShape);
    }

    private static int[] ReducedShape(int[] shape, int axis, bool keepDim)
    {
        if (keepDim)
        {
            var s = (int[])shape.Clone();
            s[axis] = 1;
            return s;
        }
        var r = new int[shape.Length - 1];
        for (int i = 0, j = 0; i < shape.Length; i++) if (i != axis) r[j++] = shape[i];
        return r;
    }

    /// <summary>Sum of all elements (a scalar tensor).</summary>
    public Tensor Sum()
    {
        var x = this;
        var flat = new Tensor(Storage, [Length]);
        var r = Ops.ReduceSum(flat, 1, Length, 1, []);
        return AutogradTape.Record(r, "Sum", [x], g => [g.Detach().BroadcastToRaw(x.ShapeRef)]);
    }

    /// <summary>Sum along <paramref name="axis"/> (negative counts from the end).</summary>
    public Tensor Sum(int axis, bool keepDim = false)
    {
        int ax = NormalizeAxis(axis, Rank, nameof(axis));
        var x = this;
        var r = ReduceAxis(x, ax, keepDim, max: false);
        var keepShape = ReducedShape(x.ShapeRef, ax, true);
        return AutogradTape.Record(r, "Sum", [x], g => [new Tensor(g.Storage, keepShape).BroadcastToRaw(x.ShapeRef)]);
    }

    /// <summary>Sum over several axes.</summary>
    public Tensor Sum(int[] axes, bool keepDim = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        var norm = axes.Select(a => NormalizeAxis(a, Rank, nameof(axes))).Distinct().OrderByDescending(a => a).ToArray();
        var cur = this;
        foreach (int a in norm) cur = cur.Sum(a, keepDim);
        return cur;
    }

    /// <summary>Mean of all elements (a scalar tensor).</summary>
    public Tensor Mean() => Affine(Sum(), 1f / Math.Max(Length, 1), 0f, "Mean");

    /// <summary>Mean along <paramref name="axis"/>.</summary>
    public Tensor Mean(int axis, bool keepDim = false)
    {
        int ax = NormalizeAxis(axis, Rank, nameof(axis));
        return Affine(Sum(ax, keepDim), 1f / Math.Max(_shape[ax], 1), 0f, "Mean");
    }

    /// <summary>Mean over several axes.</summary>
    public Tensor Mean(int[] axes, bool keepDim = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        int count = 1;
        foreach (int a in axes.Select(a => NormalizeAxis(a, Rank, nameof(axes))).Distinct()) count *= _shape[a];
        return Affine(Sum(axes, keepDim), 1f / Math.Max(count, 1), 0f, "Mean");
    }

    /// <summary>Maximum along <paramref name="axis"/>. Tied maxima share the gradient equally.</summary>
    public Tensor Max(int axis, bool keepDim = false)
    {
        int ax = NormalizeAxis(axis, Rank, nameof(axis));
        if (_shape[ax] == 0) throw new ArgumentException("Max over an empty axis is undefined.", nameof(axis));
        var x = this;
        var r = ReduceAxis(x, ax, keepDim, max: true);
        var keepShape = ReducedShape(x.ShapeRef, ax, true);
        return AutogradTape.Record(r, "Max", [x], g =>
        {
            var mask = Ops.Binary(BinaryOp.Equal, x, new Tensor(r.Storage, keepShape));
            var count = ReduceAxis(mask, ax, keepDim: true, max: false);
            var share = Ops.Binary(BinaryOp.Div, new Tensor(g.Storage, keepShape), count);
            return [Ops.Binary(BinaryOp.Mul, mask, share)];
        });
    }

    /// <summary>Maximum of all elements (a scalar tensor). Tied maxima share the gradient equally.</summary>
    public Tensor Max() => Reshape(Length).Max(0);

    /// <summary>Softmax along <paramref name="axis"/> (shifted by the maximum for stability).</summary>
    public Tensor Softmax(int axis = -1)
    {
        Tensor shift;
        using (Autograd.NoGrad()) shift = Max(axis, keepDim: true);
        var e = (this - shift).Exp();
        return e / e.Sum(axis, keepDim: true);
    }

    /// <summary>log(softmax(x)) along <paramref name="axis"/>, computed stably.</summary>
    public Tensor LogSoftmax(int axis = -1)
    {
        Tensor shift;
        using (Autograd.NoGrad()) shift = Max(axis, keepDim: true);
        var z = this - shift;
        return z - z.Exp().Sum(axis, keepDim: true).Log();
    }
}

internal static partial class Ops
{
    public static Tensor Affine(Tensor x, float scale, float shift)
    {
        var r = Tensor.Empty(x.Device, x.ShapeRef);
        if (x.Device.RunsKernels) { Kernels.Affine(x, r, scale, shift); return r; }
        var xs = x.Storage; var rs = r.Storage;
        ForChunks(x.Length, (s, n) =>
        {
            var src = xs.HostSpan.Slice(s, n); var dst = rs.HostSpan.Slice(s, n);
            if (shift == 0f) System.Numerics.Tensors.TensorPrimitives.Multiply(src, scale, dst);
            else if (scale == 1f) System.Numerics.Tensors.TensorPrimitives.Add(src, shift, dst);
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(src, scale, dst);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, shift, dst);
            }
        });
        return r;
    }
}
