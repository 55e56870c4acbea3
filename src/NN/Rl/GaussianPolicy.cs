using DiffGen.Tensors;

namespace DiffGen.NN.Rl;

/// <summary>
/// A diagonal Gaussian policy for continuous actions: a network gives the mean action of each
/// observation, and a learned log standard deviation per action component (independent of the state,
/// as stable-baselines3's default) gives the spread. The log-probability and the entropy are tape ops,
/// so a policy-gradient loss built from them differentiates into both.
/// </summary>
public sealed class GaussianPolicy : Module
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);
    private readonly Module _mean;

    /// <summary>Creates the policy around a mean network whose output has <paramref name="actionSize"/> values per observation.</summary>
    /// <param name="mean">Maps observations [B, …] to mean actions ([B, actionSize] or any shape with that many values per item).</param>
    /// <param name="actionSize">Action components per observation.</param>
    /// <param name="logStdInit">Initial log standard deviation of every component (0: σ = 1).</param>
    public GaussianPolicy(Module mean, int actionSize, double logStdInit = 0)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionSize, 1);
        if (!double.IsFinite(logStdInit)) throw new ArgumentOutOfRangeException(nameof(logStdInit), logStdInit, "The initial log standard deviation must be finite.");
        _mean = RegisterModule("mean", mean);
        ActionSize = actionSize;
        LogStd = RegisterParameter("log_std", Tensor.Full((float)logStdInit, actionSize));
    }

    /// <summary>Action components per observation.</summary>
    public int ActionSize { get; }

    /// <summary>The learned log standard deviations [ActionSize].</summary>
    public Tensor LogStd { get; }

    /// <summary>The mean action [B, ActionSize] of observations [B, …].</summary>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var m = _mean.Forward(x);
        if (m.Length != x.Shape[0] * ActionSize)
            throw new ArgumentException($"the mean network gave {m.Length} values for {x.Shape[0]} observations; expected {ActionSize} per observation.", nameof(x));
        return m.Reshape(x.Shape[0], ActionSize);
    }

    /// <summary>
    /// log π(a | s) per item [B]: −½ Σ ((a − μ)/σ)² − Σ log σ − (D/2) log 2π, from means [B, D] and actions [B, D].
    /// </summary>
    public Tensor LogProb(Tensor mean, Tensor actions)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(actions);
        if (!mean.Shape.SequenceEqual(actions.Shape) || mean.Rank != 2 || mean.Shape[1] != ActionSize)
            throw new ArgumentException($"means [{string.Join(", ", mean.Shape)}] and actions [{string.Join(", ", actions.Shape)}] must both be [B, {ActionSize}].", nameof(actions));
        var z = (actions - mean) * (-LogStd).Exp();
        return -0.5f * (z * z).Sum(1) - LogStd.Sum() - (float)(ActionSize * HalfLogTwoPi);
    }

    /// <summary>The entropy of the action distribution (a scalar: the same for every state), Σ (log σ + ½ log 2πe).</summary>
    public Tensor Entropy() => LogStd.Sum() + (float)(ActionSize * (HalfLogTwoPi + 0.5));

    /// <summary>Draws one action per row of <paramref name="mean"/> [B, D]: μ + σ·ε with ε ~ N(0, 1) from <paramref name="random"/>.</summary>
    public float[] Sample(Tensor mean, Random random)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(random);
        var m = mean.ToArray();
        var std = LogStd.ToArray().Select(MathF.Exp).ToArray();
        var a = new float[m.Length];
        for (int i = 0; i < m.Length; i++)
        {
            // Box-Muller; 1 - U keeps the log finite.
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double eps = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            a[i] = m[i] + std[i % ActionSize] * (float)eps;
        }
        return a;
    }
}

/// <summary>An actor (a <see cref="GaussianPolicy"/>) and a critic (a value network) saved, loaded and optimised as one module.</summary>
public sealed class ActorCritic : Module
{
    /// <summary>Registers the two networks as "policy" and "critic".</summary>
    public ActorCritic(GaussianPolicy policy, Module critic)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(critic);
        Policy = RegisterModule("policy", policy);
        Critic = RegisterModule("critic", critic);
    }

    /// <summary>The actor.</summary>
    public GaussianPolicy Policy { get; }

    /// <summary>The value network: observations [B, …] to one value per item.</summary>
    public Module Critic { get; }

    /// <summary>The mean action [B, D] (the deterministic policy).</summary>
    public override Tensor Forward(Tensor x) => Policy.Forward(x);

    /// <summary>The critic's value per item [B].</summary>
    public Tensor Value(Tensor observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var v = Critic.Forward(observations);
        if (v.Length != observations.Shape[0])
            throw new ArgumentException($"the critic gave {v.Length} values for {observations.Shape[0]} observations; expected one each.", nameof(observations));
        return v.Reshape(observations.Shape[0]);
    }
}
