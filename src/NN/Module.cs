using DiffGen.NN.IO;
using DiffGen.Tensors;

namespace DiffGen.NN;

/// <summary>
/// A network component: named parameters (tensors that require gradients), named sub-modules,
/// train/eval mode, and <see cref="Forward"/>. Parameter names are dotted paths
/// ("block.conv1.weight"), as in PyTorch state dicts, and are the names in saved safetensors files.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Value)> _parameters = [];
    private readonly List<(string Name, Module Value)> _modules = [];

    /// <summary>True in training mode (the default); layers such as Dropout behave differently in eval mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Applies the module.</summary>
    public abstract Tensor Forward(Tensor x);

    /// <summary>Same as <see cref="Forward"/>.</summary>
    public Tensor Call(Tensor x) => Forward(x);

    /// <summary>Registers a parameter (it gets RequiresGrad and the given name).</summary>
    protected Tensor RegisterParameter(string name, Tensor value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        value.RequiresGrad = true;
        value.Name = name;
        _parameters.Add((name, value));
        return value;
    }

    /// <summary>Registers a sub-module under a name.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        _modules.Add((name, module));
        return module;
    }

    /// <summary>All parameters with their dotted names, in registration order.</summary>
    public IEnumerable<(string Name, Tensor Value)> NamedParameters()
    {
        foreach (var p in _parameters) yield return p;
        foreach (var (name, m) in _modules)
            foreach (var (pn, pv) in m.NamedParameters()) yield return (name + "." + pn, pv);
    }

    /// <summary>All parameters.</summary>
    public IReadOnlyList<Tensor> Parameters() => NamedParameters().Select(p => p.Value).ToList();

    /// <summary>The number of trainable values.</summary>
    public long ParameterCount => Parameters().Sum(p => (long)p.Length);

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>Training mode for this module and its children.</summary>
    public Module Train(bool on = true)
    {
        Training = on;
        foreach (var (_, m) in _modules) m.Train(on);
        return this;
    }

    /// <summary>Evaluation mode for this module and its children.</summary>
    public Module Eval() => Train(false);

    /// <summary>The named state: a copy of every parameter's values.</summary>
    public Dictionary<string, (int[] Shape, float[] Values)> StateDict() =>
        NamedParameters().ToDictionary(p => p.Name, p => (p.Value.Shape, p.Value.ToArray()));

    /// <summary>
    /// Loads a named state; every parameter must be present with the same shape. All of it is checked
    /// before any parameter is written, so a mismatch leaves the module as it was.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, (int[] Shape, float[] Values)> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var parameters = NamedParameters().ToList();
        foreach (var (name, p) in parameters)
        {
            if (!state.TryGetValue(name, out var s))
                throw new InvalidDataException($"tensor '{name}' is missing from the state (it has {string.Join(", ", state.Keys.Take(8))}…).");
            if (s.Shape is null || !s.Shape.SequenceEqual(p.Shape))
                throw new InvalidDataException($"tensor '{name}' has shape [{string.Join(", ", s.Shape ?? [])}] in the state but [{string.Join(", ", p.Shape)}] in the module.");
            if (s.Values is null || s.Values.Length != p.Length)
                throw new InvalidDataException($"tensor '{name}' has {s.Values?.Length ?? 0} values in the state; shape [{string.Join(", ", p.Shape)}] needs {p.Length}.");
        }
        foreach (var (name, p) in parameters)
        {
            var s = state[name];
            p.CopyFrom(Tensor.FromArray(s.Values, s.Shape));
        }
    }

    /// <summary>Saves the parameters as a safetensors file (F32), atomically.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Write(path, NamedParameters().Select(p => new SafeTensor(p.Name, p.Value.Shape, F32: p.Value.ToArray())), metadata);

    /// <summary>Loads parameters saved by <see cref="Save"/> (or by PyTorch's safetensors with the same names).</summary>
    public void Load(string path)
    {
        var (tensors, _) = SafeTensors.Read(path);
        LoadStateDict(tensors.ToDictionary(kv => kv.Key, kv => (kv.Value.Shape, kv.Value.AsFloats())));
    }
}

/// <summary>Applies modules in order.</summary>
public sealed class Sequential : Module
{
    private readonly Module[] _layers;

    /// <summary>Creates the chain; sub-modules are named "0", "1", … as in PyTorch.</summary>
    public Sequential(params Module[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = layers;
        for (int i = 0; i < layers.Length; i++) RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture), layers[i]);
    }

    /// <summary>The layers.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <inheritdoc />
    public override Tensor Forward(Tensor x)
    {
        foreach (var l in _layers) x = l.Forward(x);
        return x;
    }
}
