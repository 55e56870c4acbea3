using DiffGen.NN;
using DiffGen.NN.Optim;
using DiffGen.Physics;
using DiffGen.Tensors;

namespace DiffGen.Benchmarks;

/// <summary>
/// One SOL-4 training iteration of samples/Trainers/Experiments/Sol.cs at its defaults (source 32², batch 3,
/// 4 unrolled Burgers2D steps through <c>Lift.RecordedOp</c>, MSE per step averaged, backward, ClipNorm 1, Adam 1e-3),
/// rebuilt here because Sol's pieces are private. Inputs are fixed sinusoids (<see cref="Value"/>, the same
/// formula as benchmarks/torch/sol.py): the cost does not depend on the data. Also the pieces of the
/// iteration on their own, for the breakdown.
/// </summary>
public sealed class SolIteration
{
    /// <summary>Sol's defaults: source grid, batch, unrolled steps.</summary>
    public const int N = 32, Batch = 3, K = 4;

    private readonly Burgers2D _coarse = new(new Grid2D(N, N, 32, 32), viscosity: 0.1, dt: 0.1);
    private readonly Func<Tensor, Tensor, Tensor> _step;
    private readonly Sequential _net;
    private readonly Adam _opt;
    private readonly Tensor _state0, _force;
    private readonly Tensor[] _targets;
    private readonly double[][] _state0D, _forceD;

    public SolIteration()
    {
        // As Sol.cs: the step records its pullback's forward half, the backward runs the reverse half.
        _step = Lift.RecordedOp(_coarse.StepPacked, _coarse.StepPacked, _coarse.StepPackedBackward, name: "Burgers2DStep");
        Init.Seed(0);
        _net = Network();
        _opt = new Adam(_net.Parameters(), 1e-3);
        _state0D = Items(0, force: false);
        _forceD = Items(0, force: true);
        _state0 = Pack(_state0D);
        _force = Pack(_forceD);
        _targets = Enumerable.Range(1, K).Select(t => Pack(Items(t, force: false))).ToArray();
    }

    public long ParameterCount => _net.ParameterCount;

    /// <summary>
    /// Sample value of batch item <paramref name="b"/>, component <paramref name="c"/> (0 = u, 1 = v) at cell
    /// (i, j); <paramref name="t"/> = 0 is the initial state, 1..K the per-step targets.
    /// </summary>
    public static double Value(int b, int c, int j, int i, int t, bool force)
    {
        double x = 2 * Math.PI * (i + 0.5) / N, y = 2 * Math.PI * (j + 0.5) / N;
        if (force) return 0.1 * Math.Sin(2 * x + y + 0.7 * b + c);
        double ph = 0.3 * b + 1.1 * c + 0.2 * t;
        return (1 + 0.1 * t) * Math.Sin(x + ph) * Math.Cos(y - ph);
    }

    private static double[][] Items(int t, bool force)
    {
        var items = new double[Batch][];
        for (int b = 0; b < Batch; b++)
        {
            items[b] = new double[2 * N * N];
            for (int c = 0; c < 2; c++)
                for (int j = 0; j < N; j++)
                    for (int i = 0; i < N; i++) items[b][c * N * N + j * N + i] = Value(b, c, j, i, t, force);
        }
        return items;
    }

    private static Tensor Pack(double[][] items)
    {
        var flat = new float[Batch * 2 * N * N];
        for (int b = 0; b < Batch; b++)
            for (int k = 0; k < items[b].Length; k++) flat[b * items[b].Length + k] = (float)items[b][k];
        return Tensor.FromArray(flat, Batch, 2 * N * N);
    }

    /// <summary>Sol.Network(): conv 2→16, ReLU, two ResBlocks, conv 16→2 (zeroed), all periodic 3×3.</summary>
    private static Sequential Network()
    {
        var last = new Conv2d(16, 2, 3, mode: PaddingMode.Periodic);
        last.Weight.Data.Clear();
        last.Bias!.Data.Clear();
        return new(new Conv2d(2, 16, 3, mode: PaddingMode.Periodic), new ReLU(),
            new ResBlock(16, 3, PaddingMode.Periodic), new ResBlock(16, 3, PaddingMode.Periodic), last);
    }

    private Tensor Correct(Tensor packed) => _net.Forward(packed.Reshape(Batch, 2, N, N)).Reshape(Batch, 2 * N * N);

    /// <summary>The whole iteration, as Sol.Run's SOL-k branch does it; returns the loss.</summary>
    public float Iteration()
    {
        _opt.ZeroGrad();
        var state = _state0;
        Tensor? total = null;
        for (int i = 1; i <= K; i++)
        {
            var stepped = _step(state, _force);
            state = stepped + Correct(stepped);
            var l = Losses.Mse(state, _targets[i - 1]);
            total = total == null ? l : total + l;
        }
        var loss = total! * (1f / K);
        loss.Backward();
        Gradients.ClipNorm(_net.Parameters(), 1.0);
        _opt.Step();
        return loss.Item();
    }

    // ---- breakdown: the pieces of one iteration, each alone

    /// <summary>K × batch solver steps on double spans (what the lifted op's forward calls), sequentially.</summary>
    public void PhysicsPrimal(double[] next)
    {
        for (int i = 0; i < K; i++)
            for (int b = 0; b < Batch; b++) _coarse.StepPacked(_state0D[b], _forceD[b], next);
    }

    /// <summary>
    /// (K − 1) × batch generated pullbacks (each re-runs its step), sequentially: the first step's input
    /// needs no gradient, so the tape (and PyTorch's autograd) records only the later K − 1 steps.
    /// </summary>
    public void PhysicsPullback(double[] next, double[] stateBar, double[] forceBar, double[] nextBar)
    {
        for (int i = 1; i < K; i++)
            for (int b = 0; b < Batch; b++)
            {
                nextBar.AsSpan().Fill(1);
                _coarse.StepPackedBackward(_state0D[b], _forceD[b], next, stateBar, forceBar, nextBar);
            }
    }

    /// <summary>
    /// The lifted op alone, chained as in the iteration: K forward calls (batch items in parallel, float↔double
    /// at the boundary) and the K − 1 recorded pullbacks through the tape.
    /// </summary>
    public void LiftedSteps()
    {
        var first = _step(_state0, _force).Detach();
        first.RequiresGrad = true;
        var s = first;
        for (int i = 1; i < K; i++) s = _step(s, _force);
        s.Sum().Backward();
    }

    /// <summary>The network's forward pass alone: K corrections without the tape.</summary>
    public void NetworkForward()
    {
        using var _ = Autograd.NoGrad();
        for (int i = 0; i < K; i++) Correct(_state0);
    }

    /// <summary>The network part: K corrections forward + backward on [3, 2, 32, 32], ClipNorm, Adam.</summary>
    public void NetworkOnly()
    {
        _opt.ZeroGrad();
        Tensor? total = null;
        for (int i = 0; i < K; i++)
        {
            var state = _state0 + Correct(_state0);
            var l = Losses.Mse(state, _targets[i]);
            total = total == null ? l : total + l;
        }
        (total! * (1f / K)).Backward();
        Gradients.ClipNorm(_net.Parameters(), 1.0);
        _opt.Step();
    }
}
