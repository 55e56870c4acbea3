namespace DiffGen.Tensors;

/// <summary>How a convolution or <see cref="Tensor.Pad(Tensor, ValueTuple{int, int}[], PaddingMode)"/> fills positions outside the input.</summary>
public enum PaddingMode
{
    /// <summary>Zeros outside the input.</summary>
    Zeros = 0,

    /// <summary>The input repeats periodically (a periodic domain).</summary>
    Periodic = 1,

    /// <summary>The nearest edge value is repeated (replicate padding).</summary>
    Edge = 2,
}

public sealed partial class Tensor
{
    /// <summary>The same elements with a new shape (shares memory). One dimension may be -1 (inferred).</summary>
    public Tensor Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var s = (int[])shape.Clone();
        int infer = -1, known = 1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape to {FormatShape(shape)}: only one dimension may be -1.", nameof(shape));
                infer = i;
            }
            else if (s[i] < 0) throw new ArgumentException($"Reshape to {FormatShape(shape)}: negative dimension.", nameof(shape));
            else known *= s[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Length % known != 0)
                throw new ArgumentException($"Cannot reshape {FormatShape(_shape)} ({Length} elements) to {FormatShape(shape)}.", nameof(shape));
            s[infer] = Length / known;
        }
        if (ShapeLength(s) != Length)
            throw new ArgumentException($"Cannot reshape {FormatShape(_shape)} ({Length} elements) to {FormatShape(shape)} ({ShapeLength(s)} elements).", nameof(shape));
        var x = this;
        var r = new Tensor(Storage, s);
        return AutogradTape.Record(r, "Reshape", [x], g => [new Tensor(g.Storage, x.ShapeRef)]);
    }

    /// <summary>Flattens dimensions <paramref name="startDim"/>..end into one.</summary>
    public Tensor Flatten(int startDim = 0)
    {
        int sd = Rank == 0 ? 0 : NormalizeAxis(startDim, Rank, nameof(startDim));
        var s = new int[sd + 1];
        for (int i = 0; i < sd; i++) s[i] = _shape[i];
        s[sd] = 1;
        for (int i = sd; i < Rank; i++) s[sd] *= _shape[i];
        return Reshape(s);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = NormalizeAxis(dim, Rank + 1, nameof(dim));
        var s = new List<int>(_shape);
        s.Insert(d, 1);
        return Reshape([.. s]);
    }

    /// <summary>Removes dimension <paramref name="dim"/>, which must have size 1.</summary>
    public Tensor Squeeze(int dim)
    {
        int d = NormalizeAxis(dim, Rank, nameof(dim));
        if (_shape[d] != 1) throw new ArgumentException($"Squeeze({dim}): dimension has size {_shape[d]}, not 1.", nameof(dim));
        var s = new List<int>(_shape);
        s.RemoveAt(d);
        return Reshape([.. s]);
    }

    /// <summary>Swaps two dimensions (a copy in the new row-major order). The default swaps the last two.</summary>
    public Tensor Transpose(int dim0 = -2, int dim1 = -1)
    {
        int a = NormalizeAxis(dim0, Rank, nameof(dim0)), b = NormalizeAxis(dim1, Rank, nameof(dim1));
        var perm = GatherPlan.Identity(Rank);
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>Reorders dimensions: result dimension i is input dimension <paramref name="perm"/>[i].</summary>
    public Tensor Permute(params int[] perm)
    {
        ArgumentNullException.ThrowIfNull(perm);
        if (perm.Length != Rank || perm.Select(p => NormalizeAxis(p, Rank, nameof(perm))).Distinct().Count() != Rank)
            throw new ArgumentException($"Permute: {FormatShape(perm)} is not a permutation of the {Rank} dimensions.", nameof(perm));
        var p = perm.Select(v => NormalizeAxis(v, Rank, nameof(perm))).ToArray();
        var inStrides = GatherPlan.RowMajorStrides(_shape);
        var outShape = p.Select(i => _shape[i]).ToArray();
        var plan = new GatherPlan(outShape, outShape.Select(GatherPlan.Identity).ToArray(), p.Select(i => inStrides[i]).ToArray(), ShapeRef);
        var inv = new int[Rank];
        for (int i = 0; i < Rank; i++) inv[p[i]] = i;
        var x = this;
        var r = Ops.Gather(x, plan);
        return AutogradTape.Record(r, "Permute", [x], g => [Ops.Gather(g, new GatherPlan(x.ShapeRef, x.ShapeRef.Select(GatherPlan.Identity).ToArray(), inv.Select(i => GatherPlan.RowMajorStrides(outShape)[i]).ToArray(), outShape))]);
    }

    /// <summary>Repeats size-1 (or missing leading) dimensions to <paramref name="shape"/> (a copy).</summary>
    public Tensor BroadcastTo(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var target = Ops.BroadcastShape(_shape, shape, "BroadcastTo");
        if (!SameShape(target, shape))
            throw new ArgumentException($"BroadcastTo: {FormatShape(_shape)} cannot be broadcast to {FormatShape(shape)}.", nameof(shape));
        var x = this;
        var r = BroadcastToRaw(shape);
        return AutogradTape.Record(r, "BroadcastTo", [x], g => [SumTo(g, x.ShapeRef)]);
    }

    /// <summary>Broadcast without recording (used by backward functions).</summary>
    internal Tensor BroadcastToRaw(int[] shape)
    {
        if (SameShape(_shape, shape)) return this;
        var strides = Ops.BroadcastStrides(_shape, shape);
        var maps = new int[shape.Length][];
        for (int d = 0; d < shape.Length; d++) maps[d] = strides[d] == 0 ? new int[shape[d]] : GatherPlan.Identity(shape[d]);
        for (int d = 0; d < shape.Length; d++) if (strides[d] == 0) strides[d] = 0;
        return Ops.Gather(this, new GatherPlan((int[])shape.Clone(), maps, strides, _shape));
    }

    private Tensor GatherRecorded(GatherPlan plan, string opName)
    {
        var x = this;
        var r = Ops.Gather(x, plan);
        return AutogradTape.Record(r, opName, [x], g => [Ops.ScatterAdd(g, plan)]);
    }

    private GatherPlan AxisPlan(int axis, int[] map)
    {
        var outShape = (int[])_shape.Clone();
        outShape[axis] = map.Length;
        var maps = new int[Rank][];
        for (int d = 0; d < Rank; d++) maps[d] = d == axis ? map : GatherPlan.Identity(_shape[d]);
        return new GatherPlan(outShape, maps, GatherPlan.RowMajorStrides(_shape), _shape);
    }

    /// <summary>Elements <paramref name="start"/>, start+step, … (<paramref name="length"/> of them) along <paramref name="axis"/>.</summary>
    public Tensor Slice(int axis, int start, int length, int step = 1)
    {
        int ax = NormalizeAxis(axis, Rank, nameof(axis));
        if (step <= 0) throw new ArgumentOutOfRangeException(nameof(step), step, "Slice step must be positive.");
        if (start < 0) start += _shape[ax];
        if (length < 0 || start < 0 || (length > 0 && start + (length - 1) * step >= _shape[ax]))
            throw new ArgumentOutOfRangeException(nameof(length), $"Slice(axis {axis}, start {start}, length {length}, step {step}) is out of range for size {_shape[ax]}.");
        var map = new int[length];
        for (int i = 0; i < length; i++) map[i] = start + i * step;
        return GatherRecorded(AxisPlan(ax, map), "Slice");
    }

    /// <summary>Gathers positions <paramref name="indices"/> along <paramref name="axis"/> (repeats allowed).</summary>
    public Tensor IndexSelect(int axis, int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int ax = NormalizeAxis(axis, Rank, nameof(axis));
        foreach (int i in indices)
            if (i < 0 || i >= _shape[ax]) throw new ArgumentOutOfRangeException(nameof(indices), i, $"Index out of range for size {_shape[ax]}.");
        return GatherRecorded(AxisPlan(ax, (int[])indices.Clone()), "IndexSelect");
    }

    /// <summary>Joins tensors along an existing axis; all other dimensions must agree.</summary>
    public static Tensor Concat(Tensor[] tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("Concat needs at least one tensor.", nameof(tensors));
        var first = tensors[0];
        int ax = NormalizeAxis(axis, first.Rank, nameof(axis));
        int total = 0;
        foreach (var t in tensors)
        {
            ArgumentNullException.ThrowIfNull(t, nameof(tensors));
            bool ok = t.Rank == first.Rank && t.Device == first.Device;
            for (int d = 0; ok && d < t.Rank; d++) ok = d == ax || t.ShapeRef[d] == first.ShapeRef[d];
            if (!ok) throw new ArgumentException($"Concat along axis {axis}: shape {FormatShape(t.ShapeRef)} on {t.Device.Name} does not match {FormatShape(first.ShapeRef)} on {first.Device.Name} outside that axis.", nameof(tensors));
            total += t.ShapeRef[ax];
        }
        var outShape = (int[])first.ShapeRef.Clone();
        outShape[ax] = total;
        var offsets = new int[tensors.Length];
        for (int i = 1; i < tensors.Length; i++) offsets[i] = offsets[i - 1] + tensors[i - 1].ShapeRef[ax];
        var r = Ops.Concat(tensors, ax, outShape, offsets);
        var inputs = (Tensor[])tensors.Clone();
        return AutogradTape.Record(r, "Concat", inputs, g =>
        {
            var grads = new Tensor?[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!inputs[i].RequiresGrad) continue;
                var map = new int[inputs[i].ShapeRef[ax]];
                for (int j = 0; j < map.Length; j++) map[j] = offsets[i] + j;
                grads[i] = Ops.Gather(g, g.AxisPlan(ax, map));
            }
            return grads;
        });
    }

    /// <summary>Stacks equally shaped tensors along a new axis.</summary>
    public static Tensor Stack(Tensor[] tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("Stack needs at least one tensor.", nameof(tensors));
        foreach (var t in tensors)
            if (!SameShape(t.ShapeRef, tensors[0].ShapeRef))
                throw new ArgumentException($"Stack: shape {FormatShape(t.ShapeRef)} differs from {FormatShape(tensors[0].ShapeRef)}.", nameof(tensors));
        int ax = NormalizeAxis(axis, tensors[0].Rank + 1, nameof(axis));
        return Concat(tensors.Select(t => t.Unsqueeze(ax)).ToArray(), ax);
    }

    /// <summary>
    /// Pads the trailing dimensions: <paramref name="padding"/>[i] is (before, after) for dimension
    /// <c>Rank - padding.Length + i</c>.
    /// </summary>
    public static Tensor Pad(Tensor x, (int Before, int After)[] padding, PaddingMode mode = PaddingMode.Zeros)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(padding);
        if (padding.Length > x.Rank) throw new ArgumentException($"Pad: {padding.Length} (before, after) pairs for a tensor of rank {x.Rank}.", nameof(padding));
        var outShape = (int[])x.ShapeRef.Clone();
        var maps = new int[x.Rank][];
        for (int d = 0; d < x.Rank; d++)
        {
            int k = d - (x.Rank - padding.Length);
            var (before, after) = k >= 0 ? padding[k] : (0, 0);
            if (before < 0 || after < 0) throw new ArgumentException("Pad: padding amounts must be non-negative.", nameof(padding));
            int n = x.ShapeRef[d];
            if (n == 0 && before + after > 0 && mode != PaddingMode.Zeros)
                throw new ArgumentException($"Pad: cannot pad an empty dimension {d} in mode {mode}.", nameof(padding));
            outShape[d] = n + before + after;
            maps[d] = PadMap(n, before, after, mode);
        }
        return x.GatherRecorded(new GatherPlan(outShape, maps, GatherPlan.RowMajorStrides(x.ShapeRef), x.ShapeRef), "Pad");
    }

    internal static int[] PadMap(int n, int before, int after, PaddingMode mode)
    {
        var map = new int[n + before + after];
        for (int i = 0; i < map.Length; i++)
        {
            int s = i - before;
            map[i] = mode switch
            {
                PaddingMode.Zeros => s >= 0 && s < n ? s : -1,
                PaddingMode.Periodic => ((s % n) + n) % n,
                _ => Math.Clamp(s, 0, n - 1),
            };
        }
        return map;
    }

    /// <summary>Pads the last dimension by <paramref name="padding"/> on both sides.</summary>
    public static Tensor Pad1d(Tensor x, int padding, PaddingMode mode = PaddingMode.Zeros) => Pad(x, [(padding, padding)], mode);

    /// <summary>Pads the last two dimensions by <paramref name="padding"/> on every side.</summary>
    public static Tensor Pad2d(Tensor x, int padding, PaddingMode mode = PaddingMode.Zeros) => Pad(x, [(padding, padding), (padding, padding)], mode);

    /// <summary>Nearest-neighbour upsampling of every dimension after the first two ([N, C, …spatial]) by an integer factor.</summary>
    public static Tensor UpsampleNearest(Tensor x, int scale)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The upsampling factor must be at least 1.");
        if (x.Rank < 3) throw new ArgumentException($"UpsampleNearest expects [N, C, spatial…]; got {FormatShape(x.ShapeRef)}.", nameof(x));
        var outShape = (int[])x.ShapeRef.Clone();
        var maps = new int[x.Rank][];
        for (int d = 0; d < x.Rank; d++)
        {
            if (d < 2) { maps[d] = GatherPlan.Identity(x.ShapeRef[d]); continue; }
            outShape[d] = x.ShapeRef[d] * scale;
            maps[d] = new int[outShape[d]];
            for (int i = 0; i < outShape[d]; i++) maps[d][i] = i / scale;
        }
        return x.GatherRecorded(new GatherPlan(outShape, maps, GatherPlan.RowMajorStrides(x.ShapeRef), x.ShapeRef), "UpsampleNearest");
    }

    /// <summary>
    /// Linear (1 spatial dim) / bilinear (2) / trilinear (3) upsampling of [N, C, …spatial] by an
    /// integer factor, with PyTorch's <c>align_corners=False</c> convention (edges clamp).
    /// </summary>
    public static Tensor UpsampleLinear(Tensor x, int scale)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The upsampling factor must be at least 1.");
        if (x.Rank < 3) throw new ArgumentException($"UpsampleLinear expects [N, C, spatial…]; got {FormatShape(x.ShapeRef)}.", nameof(x));
        var cur = x;
        for (int d = 2; d < x.Rank; d++)
        {
            int n = x.ShapeRef[d], m = n * scale;
            var lo = new int[m]; var hi = new int[m];
            var w0 = new float[m]; var w1 = new float[m];
            for (int i = 0; i < m; i++)
            {
                float src = Math.Max((i + 0.5f) / scale - 0.5f, 0f);
                int i0 = Math.Min((int)MathF.Floor(src), n - 1);
                int i1 = Math.Min(i0 + 1, n - 1);
                float f = src - i0;
                lo[i] = i0; hi[i] = i1; w1[i] = f; w0[i] = 1f - f;
            }
            var wShape = new int[x.Rank - d];
            Array.Fill(wShape, 1);
            wShape[0] = m;
            var dev = x.Device;
            var a = cur.GatherRecorded(cur.AxisPlan(d, lo), "UpsampleLinear");
            var b = cur.GatherRecorded(cur.AxisPlan(d, hi), "UpsampleLinear");
            cur = a * FromArray(dev, w0, wShape) + b * FromArray(dev, w1, wShape);
        }
        return cur;
    }

    /// <summary>Average pooling over the last dimension of [N, C, L] with window = stride = <paramref name="kernel"/>.</summary>
    public static Tensor AvgPool1d(Tensor x, int kernel)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3) throw new ArgumentException($"AvgPool1d expects [N, C, L]; got {FormatShape(x.ShapeRef)}.", nameof(x));
        if (kernel < 1 || x.ShapeRef[2] % kernel != 0)
            throw new ArgumentException($"AvgPool1d: kernel {kernel} must be positive and divide the length {x.ShapeRef[2]} (window = stride, no padding).", nameof(kernel));
        var s = x.ShapeRef;
        return x.Reshape(s[0], s[1], s[2] / kernel, kernel).Mean(3);
    }

    /// <summary>Average pooling over the last two dimensions of [N, C, H, W] with window = stride = <paramref name="kernel"/>.</summary>
    public static Tensor AvgPool2d(Tensor x, int kernel)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4) throw new ArgumentException($"AvgPool2d expects [N, C, H, W]; got {FormatShape(x.ShapeRef)}.", nameof(x));
        var s = x.ShapeRef;
        if (kernel < 1 || s[2] % kernel != 0 || s[3] % kernel != 0)
            throw new ArgumentException($"AvgPool2d: kernel {kernel} must be positive and divide H = {s[2]} and W = {s[3]} (window = stride, no padding).", nameof(kernel));
        return x.Reshape(s[0], s[1], s[2] / kernel, kernel, s[3] / kernel, kernel).Sum(5).Sum(3) * (1f / (kernel * kernel));
    }
}

internal static partial class Ops
{
    public static Tensor Concat(Tensor[] tensors, int axis, int[] outShape, int[] offsets)
    {
        var dev = tensors[0].Device;
        if (dev.RunsKernels)
        {
            // On a kernel device, concat is the sum of each input zero-padded into its place.
            Tensor? acc = null;
            for (int i = 0; i < tensors.Length; i++)
            {
                var t = tensors[i];
                var maps = new int[t.Rank][];
                for (int d = 0; d < t.Rank; d++)
                    maps[d] = d == axis ? Tensor.PadMap(t.ShapeRef[d], offsets[i], outShape[d] - offsets[i] - t.ShapeRef[d], PaddingMode.Zeros) : GatherPlan.Identity(t.ShapeRef[d]);
                var placed = Gather(t, new GatherPlan(outShape, maps, GatherPlan.RowMajorStrides(t.ShapeRef), t.ShapeRef));
                acc = acc is null ? placed : Binary(BinaryOp.Add, acc, placed);
            }
            return acc!;
        }
        var r = Tensor.Empty(dev, outShape);
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= outShape[d];
        for (int d = axis + 1; d < outShape.Length; d++) inner *= outShape[d];
        int outRow = outShape[axis] * inner;
        var rv = r.Host;
        for (int i = 0; i < tensors.Length; i++)
        {
            var src = tensors[i].Host;
            int block = tensors[i].ShapeRef[axis] * inner;
            for (int o = 0; o < outer; o++)
                src.Slice(o * block, block).CopyTo(rv.Slice(o * outRow + offsets[i] * inner, block));
        }
        GC.KeepAlive(tensors);
        return r;
    }
}
