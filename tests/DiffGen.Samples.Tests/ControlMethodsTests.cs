using System.Globalization;
using System.Text.Json;
using DiffGen.Physics;
using DiffGen.Trainers.Common;
using DiffGen.Trainers.Experiments;

namespace DiffGen.Samples.Tests;

/// <summary>control's methods (dp, dp-stop, supervised, ppo), its RL environment, seeds and resume, at tiny sizes.</summary>
public sealed class ControlMethodsTests() : TrainerTestBase("diffgen-control-methods-")
{
    private static readonly ControlSettings Tiny = new(Iterations: 6, TrainScenes: 6, TestScenes: 4, Batch: 3, Steps: 8, Cells: 16, CheckpointEvery: 4,
        Methods: ["dp", "dp-stop", "supervised", "ppo"], PpoIterations: 3, Envs: 2, RolloutSteps: 16, EvalEvery: 2);

    private static byte[] Bytes(string dir, string file) => File.ReadAllBytes(Path.Combine(dir, file));

    private static Dictionary<(string Seed, string Method), double[]> Losses(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Skip(1).Select(r => r.Split(','))
            .GroupBy(p => (p[0], p[1])).ToDictionary(g => g.Key, g => g.Select(p => double.Parse(p[4], CultureInfo.InvariantCulture)).ToArray());

    [Fact]
    public void Environment_ReturnIsMinusTheDpObjective_AndEpisodesRestart()
    {
        var sim = new Burgers1D(new Grid1D(16, 0, 1), 0.003, 0.03);
        var x = sim.CellCenters();
        Control.Scene MakeScene(double shift)
        {
            var u0 = x.Select(v => Math.Sin(2 * Math.PI * (v + shift))).ToArray();
            var target = x.Select(v => 0.5 * Math.Cos(2 * Math.PI * v)).ToArray();
            return new Control.Scene([u0], new double[16], target);
        }
        var scenes = new[] { MakeScene(0), MakeScene(0.25) };
        const int steps = 4;
        const double w = 0.01;
        var env = new BurgersControlEnv(sim, scenes, 3, steps, w);
        Assert.Equal([3, 16], env.ObservationShape);
        Assert.Equal(16, env.ActionSize);
        var obs = env.Reset(7);
        // Which scene each environment drew: its initial state is channel 0 of the observation.
        int[] drawn = Enumerable.Range(0, 3).Select(i => Math.Abs(obs[i * 48] - scenes[0].Trajectory[0][0]) < 1e-6 ? 0 : 1).ToArray();
        var actions = new float[3 * 16];
        for (int i = 0; i < actions.Length; i++) actions[i] = (float)(0.3 * Math.Sin(i));
        var returns = new double[3];
        for (int t = 0; t < steps; t++)
        {
            // The time channel counts the steps.
            Assert.Equal(t / (float)steps, obs[2 * 16]);
            var r = env.Step(actions);
            for (int i = 0; i < 3; i++) returns[i] += r.Rewards[i];
            Assert.All(r.Dones, d => Assert.Equal(t == steps - 1, d));
            obs = r.Observations;
        }
        Assert.Equal(3 * steps, env.SimulatorSteps);
        // After the episode every environment restarted: time 0 again.
        Assert.Equal(0f, obs[2 * 16]);
        for (int i = 0; i < 3; i++)
        {
            // The DP objective, computed here in double: mean((u_T - u*)^2) + w * sum_t mean(f^2).
            var u = (double[])scenes[drawn[i]].Trajectory[0].Clone();
            var f = Enumerable.Range(0, 16).Select(c => (double)actions[i * 16 + c]).ToArray();
            var next = new double[16];
            double objective = 0;
            for (int t = 0; t < steps; t++)
            {
                sim.Step(u, f, next);
                (u, next) = (next, u);
                objective += w * f.Sum(v => v * v) / 16;
            }
            objective += u.Zip(scenes[drawn[i]].Target, (a, b) => (a - b) * (a - b)).Sum() / 16;
            Assert.Equal(-objective, returns[i], 10);
        }
    }

    [Fact]
    public void AllMethods_TwoSeeds_WriteCurvesIntervalsAndCosts()
    {
        var output = new RunOutput(Dir("all"));
        var settings = Tiny with { Seeds = 2 };
        var results = Control.Run(settings, output, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        Assert.Equal(["no control", "differentiable physics", "DP, stopped gradient", "supervised", "PPO"], results.Select(r => r.Method));
        foreach (var r in results)
        {
            Assert.InRange(r.FinalStateMse, r.Low, r.High);
            Assert.True(r.Objective >= r.FinalStateMse);
        }
        var dp = results.Single(r => r.Method == "differentiable physics");
        Assert.Equal(2, dp.PerSeed.Length);
        Assert.Equal(6L * 3 * 8, dp.SimulatorSteps);
        Assert.Equal(0, results.Single(r => r.Method == "supervised").SimulatorSteps);
        Assert.Equal(3L * 2 * 16, results.Single(r => r.Method == "PPO").SimulatorSteps);
        foreach (var f in new[] { "model.safetensors", "model.seed1.safetensors", "dp-stop.safetensors", "supervised.seed1.safetensors", "ppo.safetensors", "ppo.seed1.safetensors",
            "curves.csv", "curves-steps.png", "curves-time.png", "errors.png", "fields.png", "metrics.csv", "summary.json" })
            Assert.True(File.Exists(output.PathOf(f)), f);
        // Curves: an evaluation before training and every 2 iterations (PPO: every iteration), per seed and method.
        var curves = File.ReadAllLines(output.PathOf("curves.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(2 * (3 * 4 + 4), curves.Count);
        // Paired: dp and dp-stop of a seed start from the same weights and batch, so the same first loss; then they part.
        var losses = Losses(output.Directory);
        foreach (var seed in new[] { "0", "1" })
        {
            Assert.Equal(losses[(seed, "dp")][0], losses[(seed, "dp-stop")][0]);
            Assert.NotEqual(losses[(seed, "dp")][1], losses[(seed, "dp-stop")][1]);
        }
        using var summary = JsonDocument.Parse(File.ReadAllText(output.PathOf("summary.json")));
        var ratio = summary.RootElement.GetProperty("dp_over_dp_stop");
        var ci = ratio.GetProperty("ci95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.InRange(ratio.GetProperty("ratio").GetDouble(), ci[0], ci[1]);
        Assert.Empty(Directory.GetFiles(output.Directory, "checkpoint*"));
    }

    [Fact]
    public void Resume_InsidePpo_EqualsUninterrupted()
    {
        var settings = Tiny with { Methods = ["dp", "ppo"], CheckpointEvery = 1 };
        var full = new RunOutput(Dir("full"));
        Control.Run(settings, full, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        var part = new RunOutput(Dir("part"));
        using var cts = new CancellationTokenSource();
        // dp has 6 iterations; stop after PPO's second (position 8).
        Assert.Throws<OperationCanceledException>(() => Control.Run(settings, part, null, new StopAt(cts, 8), TextWriter.Null, cts.Token));
        Assert.True(File.Exists(part.PathOf("checkpoint.safetensors")));
        Control.Run(settings, part, part.Directory, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        foreach (var f in new[] { "metrics.csv", "model.safetensors", "ppo.safetensors" })
            Assert.Equal(Bytes(full.Directory, f), Bytes(part.Directory, f));
        Assert.Empty(Directory.GetFiles(part.Directory, "checkpoint*"));
    }

    [Fact]
    public void Cli_MethodAll_RunsEveryMethod()
    {
        var dir = Dir("cli");
        var (code, stdout, err) = Run("control", "--method", "all", "--iterations", "2", "--ppo-iterations", "1", "--envs", "2", "--rollout-steps", "8", "--steps", "8", "--cells", "16",
            "--train-scenes", "4", "--test-scenes", "2", "--batch", "2", "--out", dir, "--quiet");
        Assert.True(code == 0, err);
        foreach (var m in new[] { "differentiable physics", "DP, stopped gradient", "supervised", "PPO", "DP / DP stopped" }) Assert.Contains(m, stdout);
    }

    [Theory]
    [InlineData("control", "--method", "dqn")]
    [InlineData("control", "--method", "dp,dp")]
    [InlineData("control", "--method", "")]
    [InlineData("control", "--method", "ppo", "--rollout-steps", "33")]
    [InlineData("control", "--seeds", "0")]
    [InlineData("control", "--ppo-iterations", "0")]
    [InlineData("control", "--ppo-lr", "-1")]
    [InlineData("control", "--envs", "0")]
    [InlineData("control", "--target-error", "0")]
    [InlineData("control", "--force-weight", "-1")]
    [InlineData("control", "--eval-every", "0")]
    public void BadOptions_ExitWithCode2AndOneLine(params string[] args) => AssertUsageError(args);
}
