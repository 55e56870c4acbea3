using ILGPU.Runtime;
using System.Text;

namespace DiffGen.Tensors;

/// <summary>
/// A dense, contiguous, row-major float32 tensor held in an ILGPU buffer, with reverse-mode autograd.
/// Ops are static methods and operators on this type; each records itself on the autograd tape when
/// an input has <see cref="RequiresGrad"/> set and gradients are enabled (see <see cref="Autograd.NoGrad"/>).
/// </summary>
public sealed partial class Tensor
{
    private readonly int[] _shape;

    internal Tensor(Storage storage, int[] shape)
    {
        Storage = storage;
        _shape = shape;
        Length = ShapeLength(shape);
        if (Length != storage.Length)
            throw new InvalidOperationException($"Internal error: shape {FormatShape(shape)} has {Length} elements but storage has {storage.Length}.");
    }

    internal Storage Storage { get; }

    /// <summary>The autograd node that produced this tensor, or null for a leaf.</summary>
    internal Node? GradFn { get; set; }

    /// <summary>The tensor's shape (a copy; tensors are not resized in place).</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>The shape without copying (internal use).</summary>
    internal int[] ShapeRef => _shape;

    /// <summary>Number of dimensions (0 for a scalar).</summary>
    public int Rank => _shape.Length;

    /// <summary>Total number of elements.</summary>
    public int Length { get; }

    /// <summary>The device that holds this tensor's memory and runs its ops.</summary>
    public Device Device => Storage.Device;

    /// <summary>Size of dimension <paramref name="dim"/>; negative values count from the end.</summary>
    public int Size(int dim) => _shape[NormalizeAxis(dim, Rank, nameof(dim))];

    /// <summary>
    /// Whether gradients with respect to this tensor are wanted. Set it on leaves (parameters, inputs);
    /// op results get it automatically when an input has it and gradients are enabled.
    /// </summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient after <see cref="Backward()"/> (null before, or after <see cref="ZeroGrad"/>).</summary>
    public Tensor? Grad { get; set; }

    /// <summary>True for a tensor not produced by a recorded op (a parameter, an input, a detached value).</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>Optional name used in error messages (the non-finite check, shape errors).</summary>
    public string? Name { get; set; }

    /// <summary>
    /// Direct read/write access to the elements in row-major order. Zero-copy on <see cref="Device.Cpu"/>;
    /// throws <see cref="InvalidOperationException"/> on a kernel device (use <see cref="ToArray"/>).
    /// Writing through it bypasses autograd, so every access counts as a write (<see cref="Version"/> goes
    /// up): a recorded op that saved this tensor then refuses to run its backward instead of computing a
    /// wrong gradient. To only read, use <see cref="ToArray"/>. The span points into pooled native memory:
    /// keep the tensor itself referenced while you use it (<c>var d = (a * b).Data;</c> lets the temporary
    /// be collected and its memory reused).
    /// </summary>
    public Span<float> Data
    {
        get
        {
            var span = Storage.HostSpan;
            Storage.BumpVersion();
            return span;
        }
    }

    /// <summary>The elements for the ops' own use: no version bump (they read inputs and fill results they own).</summary>
    internal Span<float> Host => Storage.HostSpan;

    /// <summary>
    /// How many times this tensor's memory may have been written outside the ops (through <see cref="Data"/>
    /// or <see cref="CopyFrom"/>); shared with every tensor on the same memory (reshapes, detached copies).
    /// Backward compares it with the value each recorded op saw, as PyTorch's version counter.
    /// </summary>
    public int Version => Storage.Version;

    /// <summary>A host copy of the elements in row-major order (works on every device).</summary>
    public float[] ToArray()
    {
        if (Storage.Device.IsHost)
        {
            var copy = Storage.HostSpan.ToArray();
            GC.KeepAlive(Storage);  // the span points into memory the storage's finalizer recycles
            return copy;
        }
        var result = new float[Length];
        Storage.CopyToHost(result);
        return result;
    }

    /// <summary>The single element of a one-element tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public float Item()
    {
        if (Length != 1)
            throw new InvalidOperationException($"Item() needs a tensor with exactly one element; this one has shape {FormatShape(_shape)}. Reduce it first (Sum, Mean).");
        return ToArray()[0];
    }

    /// <summary>Clears the accumulated gradient.</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>A tensor sharing this one's memory but cut off from the autograd graph.</summary>
    public Tensor Detach() => new(Storage, _shape) { Name = Name };

    /// <summary>A copy with its own memory, recorded on the tape (its gradient flows back to this tensor).</summary>
    public Tensor Clone()
    {
        var r = Ops.CopyOf(this);
        return AutogradTape.Record(r, "Clone", [this], g => [g]);
    }

    /// <summary>
    /// Overwrites this tensor's elements with <paramref name="source"/>'s (same length; any device pair).
    /// Not recorded: for optimizer updates and loading state, typically inside <see cref="Autograd.NoGrad"/>.
    /// Works on kernel devices, where <see cref="Data"/> is unavailable.
    /// </summary>
    public void CopyFrom(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Length != Length)
            throw new ArgumentException($"CopyFrom: the source has {source.Length} elements ({FormatShape(source.ShapeRef)}) but this tensor has {Length} ({FormatShape(_shape)}).", nameof(source));
        Storage.BumpVersion();
        if (Length == 0) return;
        if (source.Device == Device && Device.RunsKernels)
            source.Storage.View.CopyTo(Storage.View);
        else if (Device.IsHost && source.Device.IsHost)
            source.Storage.HostSpan.CopyTo(Storage.HostSpan);
        else if (Device.IsHost)
            source.ToArray().CopyTo(Storage.HostSpan);
        else
            Storage.CopyFromHost(source.ToArray());
        GC.KeepAlive(source);
    }

    /// <summary>A copy of this tensor on another device (recorded: gradients flow back across devices).</summary>
    public Tensor To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device == Device) return this;
        var r = new Tensor(new Storage(device, Length), (int[])_shape.Clone());
        var host = ToArray();
        if (device.IsHost) host.CopyTo(r.Storage.HostSpan);
        else r.Storage.CopyFromHost(host);
        var source = Device;
        return AutogradTape.Record(r, "To", [this], g => [g.To(source)]);
    }

    /// <summary>
    /// Runs reverse-mode differentiation from this scalar (one-element) tensor: every leaf that
    /// requires a gradient gets d(this)/d(leaf) added to its <see cref="Grad"/>. The graph is freed as it
    /// goes: a second backward through any part of it throws (see <see cref="Backward(bool)"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">This tensor has more than one element or is not on the tape;
    /// the graph was freed by an earlier backward; or a tensor an op saved was modified in place since.</exception>
    public void Backward() => Backward(retainGraph: false);

    /// <summary>
    /// <see cref="Backward()"/>; with <paramref name="retainGraph"/> the graph is kept, so another backward
    /// through it may follow (its gradients add to the first's, as with PyTorch's <c>retain_graph=True</c>).
    /// </summary>
    public void Backward(bool retainGraph)
    {
        if (Length != 1)
            throw new InvalidOperationException($"Backward() starts from a scalar; this tensor has shape {FormatShape(_shape)}. Reduce it to a scalar (e.g. Sum() or Mean()) or call Backward(seed).");
        Backward(Ones(Device, _shape), retainGraph);
    }

    /// <summary>Runs reverse-mode differentiation with an explicit seed (the gradient of some scalar w.r.t. this tensor).</summary>
    /// <param name="seed">A tensor of this tensor's shape.</param>
    public void Backward(Tensor seed) => Backward(seed, retainGraph: false);

    /// <summary><see cref="Backward(Tensor)"/>, keeping the graph when <paramref name="retainGraph"/> is true (see <see cref="Backward(bool)"/>).</summary>
    public void Backward(Tensor seed, bool retainGraph)
    {
        ArgumentNullException.ThrowIfNull(seed);
        if (!SameShape(seed._shape, _shape))
            throw new ArgumentException($"The seed has shape {FormatShape(seed._shape)} but this tensor has shape {FormatShape(_shape)}.", nameof(seed));
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward() was called on a tensor that does not require a gradient: no input had RequiresGrad = true, or it was computed inside Autograd.NoGrad().");
        AutogradTape.RunBackward(this, seed, retainGraph);
    }

    // ---------------------------------------------------------------- factories

    /// <summary>A tensor of zeros on <see cref="Device.Cpu"/>.</summary>
    public static Tensor Zeros(params int[] shape) => Full(Device.Cpu, 0f, shape);

    /// <summary>A tensor of zeros on <paramref name="device"/>.</summary>
    public static Tensor Zeros(Device device, params int[] shape) => Full(device, 0f, shape);

    /// <summary>A tensor of ones on <see cref="Device.Cpu"/>.</summary>
    public static Tensor Ones(params int[] shape) => Full(Device.Cpu, 1f, shape);

    /// <summary>A tensor of ones on <paramref name="device"/>.</summary>
    public static Tensor Ones(Device device, params int[] shape) => Full(device, 1f, shape);

    /// <summary>A tensor filled with <paramref name="value"/> on <see cref="Device.Cpu"/>.</summary>
    public static Tensor Full(float value, params int[] shape) => Full(Device.Cpu, value, shape);

    /// <summary>A tensor filled with <paramref name="value"/> on <paramref name="device"/>.</summary>
    public static Tensor Full(Device device, float value, params int[] shape)
    {
        var t = Empty(device, CheckShape(shape, nameof(shape)));
        Ops.Fill(t, value);
        return t;
    }

    /// <summary>A scalar (rank-0) tensor.</summary>
    public static Tensor Scalar(float value, Device? device = null) => Full(device ?? Device.Cpu, value);

    /// <summary>A tensor with uninitialised contents (fill it before reading).</summary>
    public static Tensor Empty(Device device, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(device);
        shape = CheckShape(shape, nameof(shape));
        return new Tensor(new Storage(device, ShapeLength(shape)), shape);
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/> (row-major) with the given shape, on <see cref="Device.Cpu"/>.</summary>
    /// <param name="data">The elements; the length must equal the product of the shape.</param>
    /// <param name="shape">The shape; when omitted, a vector of <c>data.Length</c>.</param>
    public static Tensor FromArray(float[] data, params int[] shape) => FromArray(Device.Cpu, data, shape);

    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape on <paramref name="device"/>.</summary>
    public static Tensor FromArray(Device device, float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (shape is null || shape.Length == 0) shape = [data.Length];
        shape = CheckShape(shape, nameof(shape));
        int n = ShapeLength(shape);
        if (n != data.Length)
            throw new ArgumentException($"The data has {data.Length} elements but shape {FormatShape(shape)} needs {n}.", nameof(data));
        var t = Empty(device, shape);
        if (device.IsHost) data.CopyTo(t.Storage.HostSpan);
        else t.Storage.CopyFromHost(data);
        return t;
    }

    /// <summary>A tensor from double data (converted to float).</summary>
    public static Tensor FromArray(double[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        var f = new float[data.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)data[i];
        return FromArray(f, shape);
    }

    /// <summary>Standard normal samples from a seeded generator (reproducible).</summary>
    public static Tensor Randn(int seed, params int[] shape) => Randn(new Random(seed), shape);

    /// <summary>Standard normal samples drawn from <paramref name="random"/> (Box–Muller).</summary>
    public static Tensor Randn(Random random, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(random);
        shape = CheckShape(shape, nameof(shape));
        var data = new float[ShapeLength(shape)];
        for (int i = 0; i < data.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            data[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < data.Length) data[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
        return FromArray(data, shape);
    }

    /// <summary>Uniform samples in [<paramref name="low"/>, <paramref name="high"/>) from <paramref name="random"/>.</summary>
    public static Tensor Rand(Random random, float low, float high, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(random);
        shape = CheckShape(shape, nameof(shape));
        var data = new float[ShapeLength(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(low + (high - low) * random.NextDouble());
        return FromArray(data, shape);
    }

    /// <summary>The vector <c>start, start + step, …</c> below <paramref name="end"/>.</summary>
    public static Tensor Arange(float start, float end, float step = 1f)
    {
        if (step == 0 || float.IsNaN(step)) throw new ArgumentException("The step must be non-zero.", nameof(step));
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = start + i * step;
        return FromArray(data, n);
    }

    /// <summary>The vector 0, 1, …, n-1.</summary>
    public static Tensor Arange(int n) => Arange(0, n, 1);

    /// <summary>A tensor of zeros with this tensor's shape and device.</summary>
    public Tensor ZerosLike() => Zeros(Device, _shape);

    /// <summary>A tensor of ones with this tensor's shape and device.</summary>
    public Tensor OnesLike() => Ones(Device, _shape);

    // ---------------------------------------------------------------- helpers

    internal static int ShapeLength(ReadOnlySpan<int> shape)
    {
        // Checked per factor: [65536, 65536, 65536, 65536] wraps a long product around to 0.
        long n = 1;
        foreach (int s in shape)
        {
            n *= s;
            if (n > int.MaxValue)
                throw new ArgumentException($"Shape {FormatShape(shape)} has more elements than the supported {int.MaxValue}.", nameof(shape));
        }
        return (int)n;
    }

    internal static int[] CheckShape(int[]? shape, string paramName)
    {
        if (shape is null) return [];
        foreach (int s in shape)
            if (s < 0) throw new ArgumentException($"Shape {FormatShape(shape)} has a negative dimension.", paramName);
        return (int[])shape.Clone();
    }

    internal static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    internal static int NormalizeAxis(int axis, int rank, string paramName)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw new ArgumentOutOfRangeException(paramName, axis, $"Axis {axis} is out of range for a tensor of rank {rank}.");
        return a;
    }

    /// <summary>Formats a shape as <c>[2, 3]</c>.</summary>
    public static string FormatShape(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++) { if (i > 0) sb.Append(", "); sb.Append(shape[i]); }
        return sb.Append(']').ToString();
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder($"Tensor{FormatShape(_shape)} on {Device.Name}");
        if (GradFn is not null) sb.Append($" (from {GradFn.OpName})");
        if (Length <= 16)
        {
            var d = ToArray();
            sb.Append(" [").Append(string.Join(", ", d.Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))).Append(']');
        }
        return sb.ToString();
    }
}
