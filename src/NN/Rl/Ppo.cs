using DiffGen.NN.Optim;
using DiffGen.Tensors;

namespace DiffGen.NN.Rl;

/// <summary>
/// Environments stepped together (a vectorised environment). Observations and actions are flat float
/// arrays, environment-major: <c>[Count × prod(ObservationShape)]</c> and <c>[Count × ActionSize]</c>.
/// </summary>
public interface IVectorEnv
{
    /// <summary>Number of environments.</summary>
    int Count { get; }

    /// <summary>Shape of one environment's observation (e.g. [channels, cells]).</summary>
    int[] ObservationShape { get; }

    /// <summary>Action components per environment.</summary>
    int ActionSize { get; }

    /// <summary>Simulator steps taken so far (all environments, resets excluded).</summary>
    long SimulatorSteps { get; }

    /// <summary>Seeds the environments' generator, starts a new episode in each, and returns the observations.</summary>
    float[] Reset(int seed);

    /// <summary>
    /// Applies one action per environment. An environment whose episode ends reports done, its reward
    /// includes the final one, and it starts a new episode: the observation returned is the new episode's first.
    /// </summary>
    VectorStep Step(ReadOnlySpan<float> actions);
}

/// <summary>The result of <see cref="IVectorEnv.Step"/>: next observations, one reward and one done flag per environment.</summary>
public sealed record VectorStep(float[] Observations, double[] Rewards, bool[] Dones);

/// <summary>
/// PPO's hyperparameters (defaults: stable-baselines3's, with the book's learning rate 1e-4, 10 epochs
/// and minibatches of 128).
/// </summary>
/// <param name="StepsPerRollout">Steps per environment in one rollout (the book: 320, ten 32-step episodes).</param>
/// <param name="Epochs">Passes over the rollout per update.</param>
/// <param name="MinibatchSize">Transitions per gradient step.</param>
/// <param name="LearningRate">Adam's learning rate (one optimizer for actor and critic).</param>
/// <param name="Gamma">Discount.</param>
/// <param name="Lambda">GAE's λ.</param>
/// <param name="ClipRange">ε of the clipped ratio.</param>
/// <param name="ValueCoefficient">Weight of the value loss.</param>
/// <param name="EntropyCoefficient">Weight of the entropy bonus (subtracted from the loss).</param>
/// <param name="MaxGradNorm">Global gradient-norm clip.</param>
/// <param name="NormalizeRewards">Divide rewards by the running standard deviation of the discounted return (SB3's VecNormalize, as the book).</param>
/// <param name="NormalizeAdvantages">Standardise advantages per minibatch.</param>
public sealed record PpoSettings(
    int StepsPerRollout = 320, int Epochs = 10, int MinibatchSize = 128, double LearningRate = 1e-4,
    double Gamma = 0.99, double Lambda = 0.95, double ClipRange = 0.2, double ValueCoefficient = 0.5,
    double EntropyCoefficient = 0.0, double MaxGradNorm = 0.5, bool NormalizeRewards = true, bool NormalizeAdvantages = true)
{
    /// <summary>Checks ranges; throws naming the setting.</summary>
    public void Validate()
    {
        if (StepsPerRollout < 1) throw new ArgumentOutOfRangeException(nameof(StepsPerRollout), StepsPerRollout, "needs at least one step per rollout.");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "needs at least one epoch.");
        if (MinibatchSize < 2) throw new ArgumentOutOfRangeException(nameof(MinibatchSize), MinibatchSize, "a minibatch needs at least 2 transitions (advantages are standardised per minibatch).");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be a positive number.");
        if (!(Gamma >= 0 && Gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, "must be in [0, 1].");
        if (!(Lambda >= 0 && Lambda <= 1)) throw new ArgumentOutOfRangeException(nameof(Lambda), Lambda, "must be in [0, 1].");
        if (!(ClipRange > 0 && ClipRange < 1)) throw new ArgumentOutOfRangeException(nameof(ClipRange), ClipRange, "must be in (0, 1).");
        if (!(ValueCoefficient >= 0) || double.IsInfinity(ValueCoefficient)) throw new ArgumentOutOfRangeException(nameof(ValueCoefficient), ValueCoefficient, "must be non-negative.");
        if (!(EntropyCoefficient >= 0) || double.IsInfinity(EntropyCoefficient)) throw new ArgumentOutOfRangeException(nameof(EntropyCoefficient), EntropyCoefficient, "must be non-negative.");
        if (!(MaxGradNorm > 0)) throw new ArgumentOutOfRangeException(nameof(MaxGradNorm), MaxGradNorm, "must be positive.");
    }
}

/// <summary>An environment returned a NaN or infinite reward during a rollout (nothing was updated from it).</summary>
public sealed class NonFiniteRewardException(string message) : InvalidOperationException(message);

/// <summary>Figures of one PPO iteration (rollout + update).</summary>
/// <param name="MeanEpisodeReturn">Mean undiscounted, unnormalised return of the episodes that ended in this rollout (NaN if none did).</param>
/// <param name="Episodes">Episodes that ended in this rollout.</param>
/// <param name="PolicyLoss">Mean clipped surrogate loss over the last epoch.</param>
/// <param name="ValueLoss">Mean value loss over the last epoch.</param>
/// <param name="Entropy">Entropy of the action distribution after the update.</param>
/// <param name="ApproxKl">Mean of (ratio − 1) − log ratio over the last epoch (an estimate of KL(old ‖ new)).</param>
/// <param name="ClipFraction">Share of transitions whose ratio was clipped in the last epoch.</param>
public sealed record PpoIteration(double MeanEpisodeReturn, int Episodes, double PolicyLoss, double ValueLoss, double Entropy, double ApproxKl, double ClipFraction);

/// <summary>
/// Proximal policy optimisation (Schulman et al. 2017) on the DiffGen.NN runtime: rollouts from a
/// vectorised environment with a <see cref="GaussianPolicy"/>, GAE advantages, the clipped surrogate
/// objective, a value loss, an entropy bonus, per-minibatch advantage normalisation and global
/// gradient-norm clipping, one Adam optimizer for actor and critic.
/// </summary>
/// <remarks>
/// Every rollout starts by resetting the environments with a seed derived from the iteration, and
/// its sampling and minibatch order draw from a generator with that seed too: a run resumed at an
/// iteration continues bit-identically given the model, the optimizer and <see cref="ReturnStatistics"/>.
/// A rollout whose last step does not end an episode is bootstrapped from the critic (truncation).
/// </remarks>
public sealed class Ppo
{
    private readonly IVectorEnv _env;

    /// <summary>Creates the trainer (and its Adam optimizer, ε = 1e-5 as stable-baselines3).</summary>
    public Ppo(ActorCritic model, IVectorEnv env, PpoSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (model.Policy.ActionSize != env.ActionSize)
            throw new ArgumentException($"the policy has {model.Policy.ActionSize} action components, the environment {env.ActionSize}.", nameof(model));
        Model = model;
        _env = env;
        Settings = settings;
        Optimizer = new Adam(model.Parameters(), settings.LearningRate, epsilon: 1e-5);
    }

    /// <summary>The actor and critic.</summary>
    public ActorCritic Model { get; }

    /// <summary>The hyperparameters.</summary>
    public PpoSettings Settings { get; }

    /// <summary>The optimizer (save it with the model for a checkpoint).</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Running statistics of the discounted return that scale the rewards (save them for a checkpoint).</summary>
    public RunningMeanStd ReturnStatistics { get; } = new();

    /// <summary>
    /// Called before every optimizer step with the minibatch's loss and the global norm of its gradients
    /// (before clipping). A callback that throws stops the update before it reaches the parameters: a
    /// trainer's policy for NaN or infinite losses and gradients.
    /// </summary>
    public Action<double, double>? BeforeStep { get; set; }

    /// <summary>One iteration: a rollout of <see cref="PpoSettings.StepsPerRollout"/> steps in every environment, then the update.</summary>
    public PpoIteration Iterate(int seed)
    {
        var s = Settings;
        int e = _env.Count, steps = s.StepsPerRollout, a = _env.ActionSize;
        int obsSize = _env.ObservationShape.Aggregate(1, (x, y) => x * y);
        int n = steps * e;
        var random = new Random(seed);
        var obs = new float[n * obsSize];
        var actions = new float[n * a];
        var logProbs = new double[n];
        var values = new double[n];
        var rewards = new double[n];
        var dones = new bool[n];
        var episodeReturn = new double[e];
        var discounted = new double[e];
        double finishedSum = 0;
        int finished = 0;

        var current = _env.Reset(seed);
        double[] lastValues;
        using (Autograd.NoGrad())
        {
            for (int t = 0; t < steps; t++)
            {
                var o = Observations(current, e);
                var mean = Model.Policy.Forward(o);
                var act = Model.Policy.Sample(mean, random);
                var lp = Model.Policy.LogProb(mean, Tensor.FromArray(act, e, a)).ToArray();
                var v = Model.Value(o).ToArray();
                current.CopyTo(obs, t * e * obsSize);
                act.CopyTo(actions, t * e * a);
                var result = _env.Step(act);
                for (int i = 0; i < e; i++)
                {
                    int k = t * e + i;
                    logProbs[k] = lp[i];
                    values[k] = v[i];
                    dones[k] = result.Dones[i];
                    double r = result.Rewards[i];
                    if (!double.IsFinite(r)) throw new NonFiniteRewardException($"environment {i} returned a non-finite reward ({r.ToString(System.Globalization.CultureInfo.InvariantCulture)}) at rollout step {t}.");
                    rewards[k] = r;
                    episodeReturn[i] += r;
                    discounted[i] = discounted[i] * s.Gamma + r;
                    if (result.Dones[i])
                    {
                        finishedSum += episodeReturn[i];
                        finished++;
                        episodeReturn[i] = 0;
                    }
                }
                if (s.NormalizeRewards)
                {
                    ReturnStatistics.Update(discounted);
                    for (int i = 0; i < e; i++) if (result.Dones[i]) discounted[i] = 0;
                }
                current = result.Observations;
            }
            lastValues = Model.Value(Observations(current, e)).ToArray().Select(v => (double)v).ToArray();
        }
        if (s.NormalizeRewards)
        {
            // As VecNormalize, r / sqrt(var(discounted return) + 1e-8), clipped to ±10; the scale is
            // the one after the rollout (VecNormalize's changes step by step).
            double scale = 1 / Math.Sqrt(ReturnStatistics.Variance + 1e-8);
            for (int k = 0; k < n; k++) rewards[k] = Math.Clamp(rewards[k] * scale, -10, 10);
        }
        var (advantages, returns) = Gae.Compute(rewards, values, dones, lastValues, s.Gamma, s.Lambda);

        // The update: shuffled minibatches, several epochs.
        var order = Enumerable.Range(0, n).ToArray();
        double policyLoss = 0, valueLoss = 0, kl = 0, clipped = 0;
        for (int epoch = 0; epoch < s.Epochs; epoch++)
        {
            random.Shuffle(order);
            policyLoss = valueLoss = kl = clipped = 0;
            int batches = 0;
            for (int start = 0; start < n; start += s.MinibatchSize)
            {
                int m = Math.Min(s.MinibatchSize, n - start);
                if (m < 2) continue; // a single leftover transition cannot be standardised
                var idx = order.AsSpan(start, m);
                var bObs = new float[m * obsSize];
                var bAct = new float[m * a];
                var bOld = new float[m];
                var bAdv = new double[m];
                var bRet = new float[m];
                for (int j = 0; j < m; j++)
                {
                    int k = idx[j];
                    obs.AsSpan(k * obsSize, obsSize).CopyTo(bObs.AsSpan(j * obsSize));
                    actions.AsSpan(k * a, a).CopyTo(bAct.AsSpan(j * a));
                    bOld[j] = (float)logProbs[k];
                    bAdv[j] = advantages[k];
                    bRet[j] = (float)returns[k];
                }
                if (s.NormalizeAdvantages) Standardize(bAdv);
                var o = Tensor.FromArray(bObs, [m, .. _env.ObservationShape]);
                var mean = Model.Policy.Forward(o);
                var newLogProb = Model.Policy.LogProb(mean, Tensor.FromArray(bAct, m, a));
                var surrogate = ClippedSurrogate(newLogProb, Tensor.FromArray(bOld, m), Tensor.FromArray(bAdv.Select(x => (float)x).ToArray(), m), s.ClipRange);
                var vLoss = Losses.Mse(Model.Value(o), Tensor.FromArray(bRet, m));
                var loss = surrogate.Loss + (float)s.ValueCoefficient * vLoss;
                if (s.EntropyCoefficient > 0) loss = loss - (float)s.EntropyCoefficient * Model.Policy.Entropy();
                Optimizer.ZeroGrad();
                loss.Backward();
                double norm = Gradients.ClipNorm(Model.Parameters(), s.MaxGradNorm);
                BeforeStep?.Invoke(loss.Item(), norm);
                Optimizer.Step();
                policyLoss += surrogate.Loss.Item();
                valueLoss += vLoss.Item();
                kl += surrogate.ApproxKl;
                clipped += surrogate.ClipFraction;
                batches++;
            }
            if (batches > 0) (policyLoss, valueLoss, kl, clipped) = (policyLoss / batches, valueLoss / batches, kl / batches, clipped / batches);
        }
        double entropy;
        using (Autograd.NoGrad()) entropy = Model.Policy.Entropy().Item();
        return new PpoIteration(finished > 0 ? finishedSum / finished : double.NaN, finished, policyLoss, valueLoss, entropy, kl, clipped);
    }

    /// <summary>
    /// PPO's clipped surrogate loss −mean(min(ρ A, clip(ρ, 1 − ε, 1 + ε) A)) with ρ = exp(log π_new − log π_old),
    /// plus the share of clipped ratios and the KL estimate mean((ρ − 1) − log ρ) (both outside the tape).
    /// </summary>
    public static (Tensor Loss, double ClipFraction, double ApproxKl) ClippedSurrogate(Tensor newLogProb, Tensor oldLogProb, Tensor advantages, double clipRange)
    {
        ArgumentNullException.ThrowIfNull(newLogProb);
        ArgumentNullException.ThrowIfNull(oldLogProb);
        ArgumentNullException.ThrowIfNull(advantages);
        if (!(clipRange > 0 && clipRange < 1)) throw new ArgumentOutOfRangeException(nameof(clipRange), clipRange, "must be in (0, 1).");
        if (newLogProb.Rank != 1 || !newLogProb.Shape.SequenceEqual(oldLogProb.Shape) || !newLogProb.Shape.SequenceEqual(advantages.Shape))
            throw new ArgumentException($"log-probabilities [{string.Join(", ", newLogProb.Shape)}], old ones [{string.Join(", ", oldLogProb.Shape)}] and advantages [{string.Join(", ", advantages.Shape)}] must all be [B].", nameof(advantages));
        var logRatio = newLogProb - oldLogProb.Detach();
        var ratio = logRatio.Exp();
        var adv = advantages.Detach();
        var unclipped = ratio * adv;
        var clippedTerm = ratio.Clamp((float)(1 - clipRange), (float)(1 + clipRange)) * adv;
        var loss = -Tensor.Minimum(unclipped, clippedTerm).Mean();
        var r = ratio.ToArray();
        var lr = logRatio.ToArray();
        double clipFraction = r.Count(x => Math.Abs(x - 1) > clipRange) / (double)r.Length;
        double kl = 0;
        for (int i = 0; i < r.Length; i++) kl += (r[i] - 1) - lr[i];
        return (loss, clipFraction, kl / r.Length);
    }

    private Tensor Observations(float[] flat, int count) => Tensor.FromArray(flat, [count, .. _env.ObservationShape]);

    private static void Standardize(double[] x)
    {
        double mean = x.Average();
        double sd = Math.Sqrt(x.Select(v => (v - mean) * (v - mean)).Sum() / (x.Length - 1));
        for (int i = 0; i < x.Length; i++) x[i] = (x[i] - mean) / (sd + 1e-8);
    }
}
