namespace DiffGen.Tensors;

/// <summary>What a checkpointed rollout cost: how many states it held at once and how many steps it ran.</summary>
public sealed class CheckpointStats
{
    /// <summary>Number of time steps in the rollout.</summary>
    public int Steps { get; internal set; }

    /// <summary>The snapshot budget the rollout was given.</summary>
    public int Snapshots { get; internal set; }

    /// <summary>
    /// The largest number of full states held at once during the backward sweep (the initial state and
    /// the snapshots, at most <see cref="Snapshots"/>, plus one transient state when the budget forces
    /// recomputation from a snapshot). A plain tape holds every step's input: <see cref="Steps"/>.
    /// </summary>
    public int PeakStoredStates { get; internal set; }

    /// <summary>Step evaluations in total (forward, recomputation and the taped re-run of each step).</summary>
    public int StepEvaluations { get; internal set; }
}

/// <summary>
/// Binomial checkpointing (Griewank's revolve) for long rollouts u_{k+1} = step(u_k, k): the rollout is
/// one tape op that stores only its initial state; the backward sweep keeps at most
/// <c>snapshots</c> states (the initial one included) and recomputes the rest, running each step once more on a
/// local tape to pull the adjoint back through it. With s snapshots and N ≤ C(s+t, s) steps every step
/// is recomputed at most t times.
/// </summary>
public static class Checkpoint
{
    /// <summary>
    /// Runs <paramref name="steps"/> steps from <paramref name="initial"/> and returns the final state as
    /// a tape op whose backward uses at most <paramref name="snapshots"/> stored states.
    /// </summary>
    /// <param name="initial">u_0, [B, …].</param>
    /// <param name="steps">N ≥ 1.</param>
    /// <param name="step">One step built from tensor ops (lifted solver ops, network layers, …). It must be deterministic: it is re-run during the backward sweep.</param>
    /// <param name="snapshots">States that may be stored at once, the initial state included (≥ 1).</param>
    /// <param name="parameters">Tensors the step uses besides the state that need gradients (network parameters). Their gradients accumulate into <see cref="Tensor.Grad"/> during the backward sweep.</param>
    /// <param name="stats">Optional: receives the memory and recomputation counts.</param>
    public static Tensor Rollout(Tensor initial, int steps, Func<Tensor, int, Tensor> step, int snapshots, IEnumerable<Tensor>? parameters = null, CheckpointStats? stats = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(step);
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "A rollout needs at least one step.");
        if (snapshots < 1) throw new ArgumentOutOfRangeException(nameof(snapshots), snapshots, "At least one snapshot is needed.");
        var ps = parameters?.ToArray() ?? [];
        stats ??= new CheckpointStats();
        stats.Steps = steps;
        stats.Snapshots = snapshots;
        stats.StepEvaluations = 0;
        stats.PeakStoredStates = 0;

        Tensor u = initial.Detach();
        using (Autograd.NoGrad())
        {
            for (int k = 0; k < steps; k++)
            {
                u = step(u, k);
                stats.StepEvaluations++;
            }
        }
        var result = u.Detach();
        var u0 = initial.Detach();
        Tensor[] inputs = [initial, .. ps];
        return AutogradTape.Record(result, "CheckpointedRollout", inputs, g =>
        {
            var sweep = new Sweep(step, stats);
            var adj = sweep.Start(u0, steps, snapshots, g);
            var grads = new Tensor?[inputs.Length];
            grads[0] = initial.RequiresGrad ? adj : null;
            return grads;
        });
    }

    /// <summary>β(s, t) = C(s + t, s): the most steps s snapshots can reverse with t recomputations each.</summary>
    internal static long Beta(int s, int t)
    {
        long r = 1;
        for (int i = 1; i <= s; i++)
        {
            r = r * (t + i) / i;
            if (r > int.MaxValue) return int.MaxValue;
        }
        return r;
    }

    private sealed class Sweep(Func<Tensor, int, Tensor> step, CheckpointStats stats)
    {
        private int _stored;

        /// <summary>The initial state is one of the snapshots.</summary>
        public Tensor Start(Tensor u0, int steps, int snapshots, Tensor adjEnd)
        {
            Hold(1);
            return Reverse(u0, 0, steps, snapshots - 1, adjEnd);
        }

        /// <summary>
        /// Given the state at <paramref name="k0"/> (held by the caller) and the adjoint of the state at
        /// k0 + n, returns the adjoint of the state at k0, using at most <paramref name="free"/> more stored states.
        /// </summary>
        public Tensor Reverse(Tensor state, int k0, int n, int free, Tensor adjEnd)
        {
            // The caller holds (and has counted) `state`; the left part of each split reuses it, so
            // it is handled by the loop rather than by another recursive call.
            while (true)
            {
                if (n == 1) return AdjointStep(state, k0, adjEnd);
                if (free == 0)
                {
                    // No snapshot left: recompute from the held state for every step (quadratic; only
                    // reached when the budget is tiny for the length).
                    var adj = adjEnd;
                    for (int j = n - 1; j >= 0; j--)
                    {
                        var uj = Advance(state, k0, j);
                        if (j > 0) Hold(1);
                        adj = AdjointStep(uj, k0 + j, adj);
                        if (j > 0) _stored--;
                    }
                    return adj;
                }
                int t = 0;
                while (Beta(free, t) < n) t++;
                // Right part: n - m steps with one snapshot fewer; left part: m steps, one repetition fewer.
                int m = (int)Math.Clamp(n - Beta(free - 1, t), 1, n - 1);
                var mid = Advance(state, k0, m);
                Hold(1);
                adjEnd = Reverse(mid, k0 + m, n - m, free - 1, adjEnd);
                _stored--;
                n = m;
            }
        }

        private void Hold(int count)
        {
            _stored += count;
            if (_stored > stats.PeakStoredStates) stats.PeakStoredStates = _stored;
        }

        private Tensor Advance(Tensor state, int k0, int count)
        {
            using var _ = Autograd.NoGrad();
            var u = state;
            for (int j = 0; j < count; j++)
            {
                u = step(u, k0 + j).Detach();
                stats.StepEvaluations++;
            }
            return u;
        }

        private Tensor AdjointStep(Tensor state, int k, Tensor adjNext)
        {
            using var _ = Autograd.EnableGrad();
            var x = state.Detach();
            x.RequiresGrad = true;
            var y = step(x, k);
            stats.StepEvaluations++;
            if (!y.RequiresGrad) return Tensor.Zeros(state.Device, state.ShapeRef);
            y.Backward(adjNext.Detach());
            return x.Grad ?? Tensor.Zeros(state.Device, state.ShapeRef);
        }
    }
}
