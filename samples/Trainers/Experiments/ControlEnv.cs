using DiffGen.NN;
using DiffGen.NN.Rl;
using DiffGen.Physics;
using DiffGen.Tensors;

namespace DiffGen.Trainers.Experiments;

/// <summary>
/// The control task as a vectorised environment for model-free RL (the book's BurgersEnv): no
/// gradients, only the forced Burgers step. Each environment starts from a training scene's initial
/// state with its target, takes one force field per step, and ends after <c>steps</c> steps. The
/// reward is the negative of the DP loss split over the steps: −w·mean(f²) per step and
/// −mean((u − u*)²) at the end, so an episode's return is minus the objective DP training minimises.
/// The observation is (u, u*, t / steps) as three channels of <c>cells</c> values.
/// </summary>
internal sealed class BurgersControlEnv : IVectorEnv
{
    private readonly Burgers1D _sim;
    private readonly IReadOnlyList<Control.Scene> _scenes;
    private readonly int _steps, _cells;
    private readonly double _forceWeight;
    private readonly double[][] _u, _next;
    private readonly int[] _scene, _t;
    private Random _random = new(0);

    public BurgersControlEnv(Burgers1D sim, IReadOnlyList<Control.Scene> scenes, int count, int steps, double forceWeight)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(scenes);
        if (scenes.Count == 0) throw new ArgumentException("needs at least one scene", nameof(scenes));
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        _sim = sim;
        _scenes = scenes;
        _steps = steps;
        _cells = sim.CellCenters().Length;
        _forceWeight = forceWeight;
        Count = count;
        _u = Enumerable.Range(0, count).Select(_ => new double[_cells]).ToArray();
        _next = Enumerable.Range(0, count).Select(_ => new double[_cells]).ToArray();
        _scene = new int[count];
        _t = new int[count];
    }

    public int Count { get; }

    public int[] ObservationShape => [3, _cells];

    public int ActionSize => _cells;

    public long SimulatorSteps { get; private set; }

    public float[] Reset(int seed)
    {
        _random = new Random(seed);
        for (int i = 0; i < Count; i++) Start(i);
        return Observe();
    }

    public VectorStep Step(ReadOnlySpan<float> actions)
    {
        if (actions.Length != Count * _cells) throw new ArgumentException($"expected {Count} x {_cells} actions, got {actions.Length}", nameof(actions));
        var rewards = new double[Count];
        var dones = new bool[Count];
        var force = new double[_cells];
        for (int i = 0; i < Count; i++)
        {
            double sq = 0;
            for (int c = 0; c < _cells; c++)
            {
                force[c] = actions[i * _cells + c];
                sq += force[c] * force[c];
            }
            StepOrPoison(_sim, _u[i], force, _next[i]);
            (_u[i], _next[i]) = (_next[i], _u[i]);
            _t[i]++;
            rewards[i] = -_forceWeight * sq / _cells;
            if (_t[i] == _steps)
            {
                var target = _scenes[_scene[i]].Target;
                double err = 0;
                for (int c = 0; c < _cells; c++) err += (_u[i][c] - target[c]) * (_u[i][c] - target[c]);
                rewards[i] -= err / _cells;
                dones[i] = true;
                Start(i);
            }
        }
        SimulatorSteps += Count;
        return new VectorStep(Observe(), rewards, dones);
    }

    /// <summary>
    /// One forced step, or NaN everywhere when the state or the force is not finite. The model refuses
    /// non-finite input (#15); a diverged controller's NaN must instead reach the loss or the reward, where
    /// the trainer's non-finite policy stops the run at that iteration with exit code 3.
    /// </summary>
    internal static void StepOrPoison(Burgers1D sim, ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next)
    {
        if (AllFinite(u) && AllFinite(force)) sim.Step(u, force, next);
        else next.Fill(double.NaN);
    }

    /// <summary>The backward of a poisoned step: NaN adjoints (true), or false when the step was a real one.</summary>
    internal static bool Poisoned(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> uBar, Span<double> forceBar)
    {
        if (AllFinite(u) && AllFinite(force)) return false;
        uBar.Fill(double.NaN);
        forceBar.Fill(double.NaN);
        return true;
    }

    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (double v in values)
            if (!double.IsFinite(v)) return false;
        return true;
    }

    private void Start(int i)
    {
        _scene[i] = _random.Next(_scenes.Count);
        _scenes[_scene[i]].Trajectory[0].CopyTo(_u[i], 0);
        _t[i] = 0;
    }

    private float[] Observe()
    {
        var obs = new float[Count * 3 * _cells];
        for (int i = 0; i < Count; i++)
        {
            var target = _scenes[_scene[i]].Target;
            float time = _t[i] / (float)_steps;
            for (int c = 0; c < _cells; c++)
            {
                obs[(i * 3) * _cells + c] = (float)_u[i][c];
                obs[(i * 3 + 1) * _cells + c] = (float)target[c];
                obs[(i * 3 + 2) * _cells + c] = time;
            }
        }
        return obs;
    }
}

/// <summary>The actor's mean: the DP agent's control network applied to the (state, target) channels of an observation.</summary>
internal sealed class ControlActor : Module
{
    public ControlActor(Module control) => Control = RegisterModule("control", control);

    /// <summary>The control network, (u, u*) [B, 2, N] to forces [B, 1, N].</summary>
    public Module Control { get; }

    public override Tensor Forward(Tensor x) => Control.Forward(x.Slice(1, 0, 2));
}

/// <summary>
/// The critic (the book's conv + pool stack): 1D convolutions over (u, u*, t) with average pooling that
/// halves the length until it is odd or 1, the mean over what remains, and a 1x1 convolution to one value.
/// </summary>
internal sealed class ControlCritic : Module
{
    private readonly Conv1d[] _convs;
    private readonly Conv1d _head;

    public ControlCritic(int cells, int channels = 16)
    {
        var convs = new List<Conv1d>();
        int length = cells, inCh = 3;
        do
        {
            convs.Add(RegisterModule(convs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), new Conv1d(inCh, channels, 3, mode: PaddingMode.Periodic)));
            inCh = channels;
            length /= 2;
        }
        while (length >= 2 && length % 2 == 0 && convs.Count < 8);
        _convs = [.. convs];
        _head = RegisterModule("head", new Conv1d(channels, 1, 1));
    }

    public override Tensor Forward(Tensor x)
    {
        foreach (var conv in _convs)
        {
            x = conv.Forward(x).Relu();
            if (x.Shape[2] >= 2 && x.Shape[2] % 2 == 0) x = Tensor.AvgPool1d(x, 2);
        }
        return _head.Forward(x.Mean(2, keepDim: true)).Reshape(x.Shape[0]);
    }
}
