using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffGen.NN.IO;
using DiffGen.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace DiffGen.NN.Optim;

/// <summary>
/// Base of the optimizers: holds the parameters, <see cref="ZeroGrad"/>, <see cref="Step"/>, the
/// learning rate (set it from a schedule), and per-parameter state that can be saved and loaded.
/// Updates run over the parameters' host spans with vectorised primitives and no allocation per step.
/// </summary>
public abstract class Optimizer
{
    /// <summary>The parameters being optimised.</summary>
    protected readonly Tensor[] Params;

    /// <summary>Creates the optimizer.</summary>
    protected Optimizer(IEnumerable<Tensor> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Params = parameters.ToArray();
        if (Params.Length == 0) throw new ArgumentException("No parameters to optimise.", nameof(parameters));
        CheckLearningRate(learningRate, nameof(learningRate));
        LearningRate = learningRate;
    }

    /// <summary>The current learning rate (finite and non-negative; a schedule sets it through <see cref="Apply"/>).</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            CheckLearningRate(value, nameof(value));
            _learningRate = value;
        }
    }

    private double _learningRate;

    private static void CheckLearningRate(double value, string paramName)
    {
        if (!(value >= 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(paramName, value, "The learning rate must be a finite non-negative number.");
    }

    /// <summary>Steps taken so far.</summary>
    public int StepCount { get; protected set; }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Params) p.ZeroGrad();
    }

    /// <summary>Applies one update from the parameters' gradients (parameters without a gradient are skipped).</summary>
    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Params.Length; i++)
        {
            var p = Params[i];
            if (p.Grad is null) continue;
            Update(i, p.Data, p.Grad.Data);
        }
    }

    /// <summary>Sets <see cref="LearningRate"/> from a schedule at the current step.</summary>
    public void Apply(ILearningRateSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        LearningRate = schedule.LearningRate(StepCount);
    }

    /// <summary>Updates parameter <paramref name="index"/> in place.</summary>
    protected abstract void Update(int index, Span<float> value, ReadOnlySpan<float> grad);

    /// <summary>Named state buffers (e.g. "exp_avg") per parameter index.</summary>
    protected abstract IEnumerable<(string Name, int Index, float[] Buffer)> StateBuffers();

    /// <summary>Saves the step count, learning rate and state buffers as safetensors (atomically).</summary>
    public void Save(string path) =>
        SafeTensors.Write(path,
            StateBuffers().Select(b => new SafeTensor($"{b.Index}.{b.Name}", [b.Buffer.Length], F32: b.Buffer)),
            new Dictionary<string, string>
            {
                ["optimizer"] = GetType().Name,
                ["step"] = StepCount.ToString(CultureInfo.InvariantCulture),
                ["lr"] = LearningRate.ToString("R", CultureInfo.InvariantCulture),
            });

    /// <summary>
    /// Loads state saved by <see cref="Save"/> for the same parameters. Everything is checked first — the
    /// optimizer type, every state buffer's presence and length, a step count of at least 0 and a learning
    /// rate the constructor would accept — and only then written, so a bad file leaves the optimizer as it was.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is malformed or does not fit this optimizer (the message names the field).</exception>
    public void Load(string path)
    {
        var (tensors, meta) = SafeTensors.Read(path);
        if (meta.GetValueOrDefault("optimizer") != GetType().Name)
            throw new InvalidDataException($"'{path}' holds {meta.GetValueOrDefault("optimizer") ?? "no"} optimizer state, not {GetType().Name}.");
        if (!meta.TryGetValue("step", out var stepText) || !int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out int step))
            throw new InvalidDataException($"'{path}': metadata 'step' is {(stepText is null ? "missing" : $"'{stepText}', not a step count of at least 0")}.");
        if (!meta.TryGetValue("lr", out var lrText) || !double.TryParse(lrText, NumberStyles.Float, CultureInfo.InvariantCulture, out double lr) || !(lr >= 0) || double.IsInfinity(lr))
            throw new InvalidDataException($"'{path}': metadata 'lr' is {(lrText is null ? "missing" : $"'{lrText}', not a finite non-negative learning rate")}.");
        var buffers = StateBuffers().ToList();
        var values = new float[buffers.Count][];
        for (int i = 0; i < buffers.Count; i++)
        {
            var (name, index, buffer) = buffers[i];
            string key = $"{index}.{name}";
            if (!tensors.TryGetValue(key, out var t)) throw new InvalidDataException($"tensor '{key}' is missing from '{path}'.");
            if (t.Count != buffer.Length) throw new InvalidDataException($"tensor '{key}' in '{path}' has {t.Count} values; the parameter has {buffer.Length}.");
            values[i] = t.AsFloats();
        }
        for (int i = 0; i < buffers.Count; i++) values[i].CopyTo(buffers[i].Buffer, 0);
        StepCount = step;
        LearningRate = lr;
    }

    /// <summary>One zeroed buffer per parameter.</summary>
    protected float[][] Buffers() => Params.Select(p => new float[p.Length]).ToArray();
}

/// <summary>Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay (PyTorch's semantics).</summary>
public sealed class Sgd : Optimizer
{
    private readonly float[][] _momentum;
    private readonly float[][] _scratch;
    private readonly bool[] _started;

    /// <summary>Creates the optimizer.</summary>
    public Sgd(IEnumerable<Tensor> parameters, double learningRate, double momentum = 0, bool nesterov = false, double weightDecay = 0, double dampening = 0)
        : base(parameters, learningRate)
    {
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1).");
        if (nesterov && (momentum == 0 || dampening != 0)) throw new ArgumentException("Nesterov momentum needs momentum > 0 and no dampening.", nameof(nesterov));
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be non-negative.");
        Momentum = momentum;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
        Dampening = dampening;
        _momentum = Buffers();
        _scratch = Buffers();
        _started = new bool[Params.Length];
    }

    /// <summary>Momentum factor.</summary>
    public double Momentum { get; }

    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <summary>L2 weight decay added to the gradient.</summary>
    public double WeightDecay { get; }

    /// <summary>Dampening of the momentum's gradient term.</summary>
    public double Dampening { get; }

    /// <inheritdoc />
    protected override void Update(int index, Span<float> value, ReadOnlySpan<float> grad)
    {
        var g = _scratch[index].AsSpan();
        if (WeightDecay != 0) TP.MultiplyAdd(value, (float)WeightDecay, grad, g);
        else grad.CopyTo(g);
        if (Momentum != 0)
        {
            var buf = _momentum[index].AsSpan();
            if (!_started[index]) { g.CopyTo(buf); _started[index] = true; }
            else
            {
                TP.Multiply(buf, (float)Momentum, buf);
                TP.MultiplyAdd(g, (float)(1 - Dampening), buf, buf);
            }
            if (Nesterov) TP.MultiplyAdd(buf, (float)Momentum, g, g);
            else buf.CopyTo(g);
        }
        TP.MultiplyAdd(g, (float)-LearningRate, value, value);
    }

    /// <inheritdoc />
    protected override IEnumerable<(string, int, float[])> StateBuffers()
    {
        for (int i = 0; i < Params.Length; i++) yield return ("momentum_buffer", i, _momentum[i]);
    }
}

/// <summary>Adam (with L2 weight decay in the gradient) or, with <c>decoupled</c>, AdamW.</summary>
public class Adam : Optimizer
{
    private readonly float[][] _m, _v;
    private readonly bool _decoupled;

    /// <summary>Creates Adam.</summary>
    public Adam(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : this(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false)
    {
    }

    /// <summary>Creates Adam or AdamW.</summary>
    protected Adam(IEnumerable<Tensor> parameters, double learningRate, double beta1, double beta2, double epsilon, double weightDecay, bool decoupled)
        : base(parameters, learningRate)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive.");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be non-negative.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        _decoupled = decoupled;
        _m = Buffers();
        _v = Buffers();
    }

    /// <summary>First-moment decay.</summary>
    public double Beta1 { get; }

    /// <summary>Second-moment decay.</summary>
    public double Beta2 { get; }

    /// <summary>Denominator guard.</summary>
    public double Epsilon { get; }

    /// <summary>Weight decay (L2 for Adam, decoupled for AdamW).</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    protected override void Update(int index, Span<float> value, ReadOnlySpan<float> grad)
    {
        if (_decoupled && WeightDecay != 0) TP.Multiply(value, (float)(1 - LearningRate * WeightDecay), value);
        float wd = _decoupled ? 0f : (float)WeightDecay;
        double bc1 = 1 - Math.Pow(Beta1, StepCount), bc2 = 1 - Math.Pow(Beta2, StepCount);
        AdamStep(value, grad, _m[index], _v[index], wd, (float)Beta1, (float)(1 - Beta1), (float)Beta2, (float)(1 - Beta2), (float)(1 / bc2), (float)Epsilon, (float)(-LearningRate / bc1));
    }

    /// <summary>
    /// One fused pass over a parameter (instead of ten vector primitives, each reading and writing
    /// whole buffers): g = grad + wd·p; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
    /// p += step · m / (√(v·invBc2) + ε), with c1 = 1 - β1 and c2 = 1 - β2 rounded from double. Same operations and rounding order as the unfused form.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void AdamStep(Span<float> p, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, float wd, float b1, float c1, float b2, float c2, float invBc2, float eps, float step)
    {
        int i = 0, n = p.Length;
        if (Vector256.IsHardwareAccelerated)
        {
            var vb1 = Vector256.Create(b1); var vc1 = Vector256.Create(c1);
            var vb2 = Vector256.Create(b2); var vc2 = Vector256.Create(c2);
            var vwd = Vector256.Create(wd); var vinv = Vector256.Create(invBc2);
            var veps = Vector256.Create(eps); var vstep = Vector256.Create(step);
            ref float pr = ref MemoryMarshal.GetReference(p);
            ref float gr = ref MemoryMarshal.GetReference(grad);
            ref float mr = ref MemoryMarshal.GetReference(m);
            ref float vr = ref MemoryMarshal.GetReference(v);
            for (; i <= n - 8; i += 8)
            {
                var pv = Vector256.LoadUnsafe(ref pr, (nuint)i);
                var g = Vector256.LoadUnsafe(ref gr, (nuint)i);
                if (wd != 0) g = pv * vwd + g;
                var mv = g * vc1 + Vector256.LoadUnsafe(ref mr, (nuint)i) * vb1;
                var vv = g * g * vc2 + Vector256.LoadUnsafe(ref vr, (nuint)i) * vb2;
                mv.StoreUnsafe(ref mr, (nuint)i);
                vv.StoreUnsafe(ref vr, (nuint)i);
                (mv / (Vector256.Sqrt(vv * vinv) + veps) * vstep + pv).StoreUnsafe(ref pr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float g = grad[i];
            if (wd != 0) g = p[i] * wd + g;
            m[i] = g * c1 + m[i] * b1;
            v[i] = g * g * c2 + v[i] * b2;
            p[i] = m[i] / (MathF.Sqrt(v[i] * invBc2) + eps) * step + p[i];
        }
    }

    /// <inheritdoc />
    protected override IEnumerable<(string, int, float[])> StateBuffers()
    {
        for (int i = 0; i < Params.Length; i++)
        {
            yield return ("exp_avg", i, _m[i]);
            yield return ("exp_avg_sq", i, _v[i]);
        }
    }
}

/// <summary>AdamW: Adam with decoupled weight decay (p ← p·(1 - lr·wd) before the Adam step).</summary>
public sealed class AdamW(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 1e-2)
    : Adam(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true);

/// <summary>Gradient clipping.</summary>
public static class Gradients
{
    /// <summary>The global L2 norm of all gradients.</summary>
    public static double Norm(IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double s = 0;
        foreach (var p in parameters)
            if (p.Grad is { } g) { double n = TP.Norm((ReadOnlySpan<float>)g.Data); s += n * n; }
        return Math.Sqrt(s);
    }

    /// <summary>Scales all gradients so their global norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public static double ClipNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be positive.");
        var list = parameters.ToList();
        double norm = Norm(list);
        if (norm > maxNorm)
        {
            float scale = (float)(maxNorm / (norm + 1e-6));
            foreach (var p in list) if (p.Grad is { } g) TP.Multiply(g.Data, scale, g.Data);
        }
        return norm;
    }

    /// <summary>Clamps every gradient entry to [-clip, clip].</summary>
    public static void ClipValue(IEnumerable<Tensor> parameters, double clip)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(clip > 0)) throw new ArgumentOutOfRangeException(nameof(clip), clip, "clip must be positive.");
        foreach (var p in parameters)
            if (p.Grad is { } g) TP.Clamp(g.Data, (float)-clip, (float)clip, g.Data);
    }
}
