using DiffGen.NN.Rl;
using DiffGen.Tensors;

namespace DiffGen.NN.Tests;

/// <summary>
/// PPO's pieces against closed forms (values in double, derivative formulas against central finite
/// differences in double, the tape's float gradients against those formulas), then PPO itself on two
/// problems with a known answer: a contextual bandit and a 1D reach task.
/// </summary>
public class RlTests
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    // log N(a; mu, exp(ls)^2) summed over components, in double.
    private static double LogProb(double[] mu, double[] ls, double[] a)
    {
        double s = 0;
        for (int d = 0; d < mu.Length; d++)
        {
            double z = (a[d] - mu[d]) / Math.Exp(ls[d]);
            s += -0.5 * z * z - ls[d] - HalfLogTwoPi;
        }
        return s;
    }

    private static double[] Fd(Func<double[], double> f, double[] x)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(x[i]));
            var p = (double[])x.Clone(); p[i] += h;
            var m = (double[])x.Clone(); m[i] -= h;
            g[i] = (f(p) - f(m)) / (2 * h);
        }
        return g;
    }

    private static void Close(double[] actual, double[] expected, double tolerance, string what)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]) / Math.Max(Math.Abs(expected[i]), 1e-3);
            Assert.True(err <= tolerance, $"{what}[{i}]: {actual[i]} vs {expected[i]} (relative error {err:G3})");
        }
    }

    [Fact]
    public void GaussianLogProb_ValueAndGradients_MatchTheClosedForm()
    {
        double[] mu = [0.3, -1.2, 0.8], ls = [-0.5, 0.2, 0.1], a = [0.9, -0.4, 0.2];
        // Analytic: d/dmu = (a - mu)/sigma^2, d/dls = z^2 - 1; checked against central differences in double.
        double[] dMu = mu.Select((m, d) => (a[d] - m) / Math.Exp(2 * ls[d])).ToArray();
        double[] dLs = ls.Select((l, d) => Math.Pow((a[d] - mu[d]) / Math.Exp(l), 2) - 1).ToArray();
        var fdMu = Fd(x => LogProb(x, ls, a), mu);
        var fdLs = Fd(x => LogProb(mu, x, a), ls);
        Close(dMu, fdMu, 1e-6, "d logp / d mu (formula vs finite differences)");
        Close(dLs, fdLs, 1e-6, "d logp / d log sigma (formula vs finite differences)");

        var policy = new GaussianPolicy(new Linear(1, 3), 3);
        policy.LogStd.Data.Clear();
        for (int d = 0; d < 3; d++) policy.LogStd.Data[d] = (float)ls[d];
        var mean = Tensor.FromArray(mu.Select(v => (float)v).ToArray(), 1, 3);
        mean.RequiresGrad = true;
        var lp = policy.LogProb(mean, Tensor.FromArray(a.Select(v => (float)v).ToArray(), 1, 3));
        Assert.Equal(LogProb(mu, ls, a), lp.Item(), 5);
        lp.Sum().Backward();
        Close(mean.Grad!.ToArray().Select(v => (double)v).ToArray(), dMu, 1e-5, "tape d logp / d mu");
        Close(policy.LogStd.Grad!.ToArray().Select(v => (double)v).ToArray(), dLs, 1e-5, "tape d logp / d log sigma");
    }

    [Fact]
    public void GaussianEntropy_IsTheClosedForm_WithUnitGradientPerLogSigma()
    {
        var policy = new GaussianPolicy(new Linear(1, 2), 2, logStdInit: -0.7);
        var h = policy.Entropy();
        Assert.Equal(2 * (-0.7 + HalfLogTwoPi + 0.5), h.Item(), 5);
        h.Backward();
        Assert.Equal([1f, 1f], policy.LogStd.Grad!.ToArray());
    }

    [Fact]
    public void GaussianSamples_HaveTheMeanAndSpreadOfThePolicy()
    {
        var policy = new GaussianPolicy(new Linear(1, 1), 1, logStdInit: Math.Log(0.5));
        var mean = Tensor.Full(2f, 20000, 1);
        var x = policy.Sample(mean, new Random(4));
        double m = x.Average(v => (double)v), sd = Math.Sqrt(x.Average(v => (v - m) * (v - m)));
        Assert.InRange(m, 1.98, 2.02);
        Assert.InRange(sd, 0.49, 0.51);
    }

    // The clipped surrogate of one item, per batch mean.
    private static double Surrogate(double newLp, double oldLp, double adv, double eps)
    {
        double r = Math.Exp(newLp - oldLp);
        return -Math.Min(r * adv, Math.Clamp(r, 1 - eps, 1 + eps) * adv);
    }

    [Fact]
    public void ClippedSurrogate_GradientIsZeroWhereClipped_AndPushesTowardsPositiveAdvantage()
    {
        // Ratios 1.5 (clipped for A > 0, not for A < 0), 0.6 (clipped for A < 0, not for A > 0), 1.1 (never).
        double[] oldLp = [-1.0, -0.5, -2.0, -1.0, -0.5, -2.0];
        double[] newLp = oldLp.Select((o, i) => o + Math.Log(new[] { 1.5, 0.6, 1.1 }[i % 3])).ToArray();
        double[] adv = [2.0, 2.0, 2.0, -1.5, -1.5, -1.5];
        const double eps = 0.2;
        int n = adv.Length;
        // Analytic: -A r / n where the unclipped term is the minimum, else 0.
        var analytic = new double[n];
        for (int i = 0; i < n; i++)
        {
            double r = Math.Exp(newLp[i] - oldLp[i]);
            bool clipped = adv[i] > 0 ? r > 1 + eps : r < 1 - eps;
            analytic[i] = clipped ? 0 : -adv[i] * r / n;
        }
        double[] byHand = [0, -2.0 * 0.6 / n, -2.0 * 1.1 / n, 1.5 * 1.5 / n, 0, 1.5 * 1.1 / n];
        for (int i = 0; i < n; i++) Assert.Equal(byHand[i], analytic[i], 12);
        var fd = Fd(x => Enumerable.Range(0, n).Sum(i => Surrogate(x[i], oldLp[i], adv[i], eps)) / n, newLp);
        Close(analytic, fd, 1e-6, "d surrogate / d logp (formula vs finite differences)");

        var lpNew = Tensor.FromArray(newLp.Select(v => (float)v).ToArray(), n);
        lpNew.RequiresGrad = true;
        var (loss, clipFraction, kl) = Ppo.ClippedSurrogate(lpNew, Tensor.FromArray(oldLp.Select(v => (float)v).ToArray(), n), Tensor.FromArray(adv.Select(v => (float)v).ToArray(), n), eps);
        Assert.Equal(Enumerable.Range(0, n).Sum(i => Surrogate(newLp[i], oldLp[i], adv[i], eps)) / n, loss.Item(), 5);
        loss.Backward();
        Close(lpNew.Grad!.ToArray().Select(v => (double)v).ToArray(), analytic, 1e-5, "tape d surrogate / d logp");
        Assert.Equal(4.0 / 6, clipFraction, 6); // ratios 1.5 and 0.6 are outside [0.8, 1.2], twice each
        double expectedKl = new[] { 1.5, 0.6, 1.1 }.Average(r => r - 1 - Math.Log(r));
        Assert.Equal(expectedKl, kl, 5);
        // Descending the loss raises the probability of an action with a positive advantage, lowers it for a negative one.
        Assert.True(lpNew.Grad!.ToArray()[2] < 0 && lpNew.Grad!.ToArray()[5] > 0);
    }

    [Fact]
    public void Gae_MatchesAHandComputedRollout_AndStopsAtEpisodeEnds()
    {
        // Two environments, three steps, step-major. Env 0 ends its episode after step 1.
        double[] r = [1, 0, 2, 0, 3, 1];
        double[] v = [0.5, 0.1, 0.4, 0.2, 0.3, 0.6];
        bool[] done = [false, false, true, false, false, false];
        double[] last = [10, 0.7];
        const double g = 0.9, l = 0.8;
        var (adv, ret) = Gae.Compute(r, v, done, last, g, l);
        // Env 0: t2 bootstraps from last (10), t1 is terminal, t0 from V(t1).
        double d2 = 3 + g * 10 - 0.3, d1 = 2 - 0.4, d0 = 1 + g * 0.4 - 0.5;
        double a2 = d2, a1 = d1, a0 = d0 + g * l * a1;
        // Env 1: no episode end.
        double e2 = 1 + g * 0.7 - 0.6, e1 = 0 + g * 0.6 - 0.2, e0 = 0 + g * 0.2 - 0.1;
        double b2 = e2, b1 = e1 + g * l * b2, b0 = e0 + g * l * b1;
        double[] expected = [a0, b0, a1, b1, a2, b2];
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(expected[i], adv[i], 12);
            Assert.Equal(expected[i] + v[i], ret[i], 12);
        }
        // gamma = lambda = 1 without bootstrapping: the advantage is the reward-to-go minus the value.
        var (adv1, _) = Gae.Compute([1.0, 2.0, 4.0], [0.5, 0.5, 0.5], [false, false, true], [99.0], 1, 1);
        Assert.Equal([6.5, 5.5, 3.5], adv1);
    }

    [Fact]
    public void RunningMeanStd_MergedBatches_GiveThePooledMeanAndVariance()
    {
        var rms = new RunningMeanStd();
        var rnd = new Random(5);
        var all = Enumerable.Range(0, 300).Select(_ => 3 + 2 * rnd.NextDouble()).ToArray();
        rms.Update(all.AsSpan(0, 17));
        rms.Update(all.AsSpan(17, 200));
        rms.Update(all.AsSpan(217));
        double mean = all.Average(), var = all.Average(x => (x - mean) * (x - mean));
        // The initial pseudo-count of 1e-4 shifts the figures by about 1e-4 / 300 relative.
        Assert.Equal(mean, rms.Mean, 4);
        Assert.Equal(var, rms.Variance, 3);
        var copy = new RunningMeanStd();
        copy.Restore(rms.State());
        Assert.Equal(rms.State(), copy.State());
    }

    [Fact]
    public void Settings_And_Arguments_AreChecked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PpoSettings(ClipRange: 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PpoSettings(MinibatchSize: 1).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => Gae.Compute([1.0], [0.0], [false], [0.0], 1.5, 0.9));
        Assert.Throws<ArgumentException>(() => Gae.Compute([1.0, 2.0, 3.0], [0.0, 0, 0], [false, false, false], [0.0, 0.0], 0.9, 0.9));
        var env = new Bandit(4);
        Assert.Throws<ArgumentException>(() => new Ppo(new ActorCritic(new GaussianPolicy(new Linear(1, 2), 2), new Linear(1, 1)), env, new PpoSettings()));
    }

    /// <summary>One-step episodes: context c = ±1, reward −(a − 0.5 c)²; the best mean action is 0.5 c.</summary>
    private sealed class Bandit(int count) : IVectorEnv
    {
        private Random _random = new(0);
        private float[] _context = [];

        public int Count => count;
        public int[] ObservationShape => [1];
        public int ActionSize => 1;
        public long SimulatorSteps { get; private set; }

        public float[] Reset(int seed)
        {
            _random = new Random(seed);
            return Draw();
        }

        public VectorStep Step(ReadOnlySpan<float> actions)
        {
            var rewards = new double[count];
            for (int i = 0; i < count; i++) rewards[i] = -Math.Pow(actions[i] - 0.5 * _context[i], 2);
            SimulatorSteps += count;
            return new VectorStep(Draw(), rewards, Enumerable.Repeat(true, count).ToArray());
        }

        private float[] Draw() => _context = Enumerable.Range(0, count).Select(_ => _random.Next(2) == 0 ? -1f : 1f).ToArray();
    }

    [Fact]
    public void Ppo_OnABandit_LearnsTheBestActionPerContext()
    {
        Init.Seed(11);
        var model = new ActorCritic(new GaussianPolicy(new Linear(1, 1), 1, logStdInit: Math.Log(0.5)), new Linear(1, 1));
        var env = new Bandit(16);
        var ppo = new Ppo(model, env, new PpoSettings(StepsPerRollout: 16, MinibatchSize: 64, LearningRate: 3e-2));
        PpoIteration last = null!;
        for (int it = 0; it < 30; it++) last = ppo.Iterate(it);
        using var _ = Autograd.NoGrad();
        var a = model.Forward(Tensor.FromArray([-1f, 1f], 2, 1)).ToArray();
        // A sign error in the advantage or the ratio drives the means away from ±0.5.
        Assert.True(a[0] is > -0.6f and < -0.4f && a[1] is > 0.4f and < 0.6f, $"mean actions {a[0]}, {a[1]}");
        Assert.Equal(16 * 16 * 30, env.SimulatorSteps);
        Assert.Equal(16 * 16, last.Episodes);
        Assert.True(last.MeanEpisodeReturn > -0.25, $"return {last.MeanEpisodeReturn}");
    }

    [Fact]
    public void Ppo_EntropyBonus_WidensThePolicy_WithoutItTheBanditNarrowsIt()
    {
        double LogStdAfter(double entropyCoefficient)
        {
            Init.Seed(13);
            var model = new ActorCritic(new GaussianPolicy(new Linear(1, 1), 1, logStdInit: Math.Log(0.5)), new Linear(1, 1));
            var ppo = new Ppo(model, new Bandit(16), new PpoSettings(StepsPerRollout: 8, MinibatchSize: 64, LearningRate: 1e-2, EntropyCoefficient: entropyCoefficient));
            for (int it = 0; it < 5; it++) ppo.Iterate(it);
            return model.Policy.LogStd.Item();
        }
        double start = Math.Log(0.5);
        Assert.True(LogStdAfter(0) < start, "without a bonus the bandit's policy should narrow");
        Assert.True(LogStdAfter(1.0) > start, "a large entropy bonus should widen the policy");
    }

    /// <summary>
    /// Reach: x0 ~ U(−1, 1), x += 0.25 a for 4 steps, reward −0.01 a² per step and −x² at the end;
    /// the observation is (x, t / 4). Reaching 0 needs credit assigned over several steps.
    /// </summary>
    private sealed class Reach(int count) : IVectorEnv
    {
        private const int Horizon = 4;
        private Random _random = new(0);
        private readonly double[] _x = new double[count];
        private readonly int[] _t = new int[count];

        public int Count => count;
        public int[] ObservationShape => [2];
        public int ActionSize => 1;
        public long SimulatorSteps { get; private set; }

        public float[] Reset(int seed)
        {
            _random = new Random(seed);
            for (int i = 0; i < count; i++) Start(i);
            return Observe();
        }

        public VectorStep Step(ReadOnlySpan<float> actions)
        {
            var rewards = new double[count];
            var dones = new bool[count];
            for (int i = 0; i < count; i++)
            {
                _x[i] += 0.25 * actions[i];
                _t[i]++;
                rewards[i] = -0.01 * actions[i] * actions[i];
                if (_t[i] == Horizon)
                {
                    rewards[i] -= _x[i] * _x[i];
                    dones[i] = true;
                    Start(i);
                }
            }
            SimulatorSteps += count;
            return new VectorStep(Observe(), rewards, dones);
        }

        private void Start(int i) => (_x[i], _t[i]) = (2 * _random.NextDouble() - 1, 0);

        private float[] Observe() => Enumerable.Range(0, count).SelectMany(i => new[] { (float)_x[i], _t[i] / (float)Horizon }).ToArray();
    }

    [Fact]
    public void Ppo_OnA1DReachTask_BringsTheStateToTheGoal()
    {
        Init.Seed(12);
        var model = new ActorCritic(new GaussianPolicy(new Linear(2, 1), 1, logStdInit: Math.Log(0.5)),
            new Sequential(new Linear(2, 32), new Tanh(), new Linear(32, 1)));
        var env = new Reach(16);
        var ppo = new Ppo(model, env, new PpoSettings(StepsPerRollout: 16, MinibatchSize: 64, LearningRate: 1e-2));
        double FinalDistance()
        {
            // The deterministic policy (the mean) from 21 starts over [-1, 1].
            using var _ = Autograd.NoGrad();
            double sum = 0;
            for (int k = 0; k <= 20; k++)
            {
                double x = -1 + k / 10.0;
                for (int t = 0; t < 4; t++) x += 0.25 * model.Forward(Tensor.FromArray([(float)x, t / 4f], 1, 2)).Item();
                sum += Math.Abs(x);
            }
            return sum / 21;
        }
        double before = FinalDistance();
        for (int it = 0; it < 40; it++) ppo.Iterate(it);
        double after = FinalDistance();
        // Doing nothing leaves a mean distance of 0.52; the optimum (a ≈ -x0 spread over the steps) about 0.02.
        Assert.True(after < 0.1 && after < before / 3, $"mean final distance {before:F3} -> {after:F3}");
    }
}
