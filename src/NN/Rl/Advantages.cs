namespace DiffGen.NN.Rl;

/// <summary>Generalised advantage estimation (Schulman et al. 2016), as stable-baselines3 computes it.</summary>
public static class Gae
{
    /// <summary>
    /// Advantages and value targets of a rollout of <c>T</c> steps in <c>E</c> environments, stored
    /// step-major (<c>[t * E + e]</c>). <paramref name="dones"/>[t, e] means the episode ended with step
    /// t (the next observation belongs to a new episode), so nothing is bootstrapped across it;
    /// <paramref name="lastValues"/> are the critic's values of the observations after the last step.
    /// δ_t = r_t + γ V_{t+1} (1 − done_t) − V_t, A_t = δ_t + γλ (1 − done_t) A_{t+1}, returns = A + V.
    /// </summary>
    public static (double[] Advantages, double[] Returns) Compute(ReadOnlySpan<double> rewards, ReadOnlySpan<double> values, ReadOnlySpan<bool> dones, ReadOnlySpan<double> lastValues, double gamma, double lambda)
    {
        int e = lastValues.Length;
        if (e == 0) throw new ArgumentException("at least one environment is needed", nameof(lastValues));
        if (rewards.Length % e != 0 || values.Length != rewards.Length || dones.Length != rewards.Length)
            throw new ArgumentException($"rewards ({rewards.Length}), values ({values.Length}) and dones ({dones.Length}) must all hold T x {e} entries.", nameof(rewards));
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be in [0, 1].");
        if (!(lambda >= 0 && lambda <= 1)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda must be in [0, 1].");
        int steps = rewards.Length / e;
        var adv = new double[rewards.Length];
        var ret = new double[rewards.Length];
        for (int env = 0; env < e; env++)
        {
            double next = lastValues[env], running = 0;
            for (int t = steps - 1; t >= 0; t--)
            {
                int i = t * e + env;
                double live = dones[i] ? 0 : 1;
                double delta = rewards[i] + gamma * next * live - values[i];
                running = delta + gamma * lambda * live * running;
                adv[i] = running;
                ret[i] = running + values[i];
                next = values[i];
            }
        }
        return (adv, ret);
    }
}

/// <summary>
/// A running mean and variance over batches (Chan et al.'s parallel update), as stable-baselines3's
/// RunningMeanStd: reward normalisation divides rewards by the standard deviation of the discounted return.
/// </summary>
public sealed class RunningMeanStd
{
    /// <summary>Starts with mean 0, variance 1 and a tiny pseudo-count (so the first batch dominates).</summary>
    public RunningMeanStd() => (Mean, Variance, Count) = (0, 1, 1e-4);

    /// <summary>The running mean.</summary>
    public double Mean { get; private set; }

    /// <summary>The running (population) variance.</summary>
    public double Variance { get; private set; }

    /// <summary>The weight of what has been seen (values plus the initial pseudo-count).</summary>
    public double Count { get; private set; }

    /// <summary>Merges a batch of values.</summary>
    public void Update(ReadOnlySpan<double> batch)
    {
        if (batch.Length == 0) return;
        double mean = 0;
        foreach (var v in batch)
        {
            if (!double.IsFinite(v)) throw new ArgumentException("values must be finite", nameof(batch));
            mean += v;
        }
        mean /= batch.Length;
        double var = 0;
        foreach (var v in batch) var += (v - mean) * (v - mean);
        var /= batch.Length;
        double n = batch.Length, total = Count + n, delta = mean - Mean;
        double m2 = Variance * Count + var * n + delta * delta * Count * n / total;
        Mean += delta * n / total;
        Variance = m2 / total;
        Count = total;
    }

    /// <summary>The state as [mean, variance, count] (for checkpoints).</summary>
    public double[] State() => [Mean, Variance, Count];

    /// <summary>Restores a state written by <see cref="State"/>.</summary>
    public void Restore(ReadOnlySpan<double> state)
    {
        if (state.Length != 3 || !(state[1] >= 0) || !(state[2] > 0)) throw new ArgumentException("expected [mean, variance >= 0, count > 0]", nameof(state));
        (Mean, Variance, Count) = (state[0], state[1], state[2]);
    }
}
