using System.Diagnostics;
using System.Globalization;
using DiffGen.NN;
using DiffGen.NN.Optim;
using DiffGen.Physics;
using DiffGen.Tensors;
using DiffGen.Trainers.Common;

namespace DiffGen.Trainers.Experiments;

/// <summary>Settings of control (EXPERIMENTS.md §4, the RL chapter's 32-cell variant).</summary>
public sealed record ControlSettings(int Iterations = 200, double LearningRate = 2e-3, int TrainScenes = 64, int TestScenes = 32, int Batch = 16, int Steps = 32, int Cells = 32, double ForceWeight = 1e-3, int Seed = 0, int CheckpointEvery = 50)
{
    /// <summary>Checks ranges; a bad value is a usage error naming the option.</summary>
    public void Validate()
    {
        if (Iterations < 1) throw new UsageException($"--iterations must be at least 1 (got {Iterations})");
        OptionChecks.PositiveFinite("--lr", LearningRate);
        if (TrainScenes < 1 || TestScenes < 1) throw new UsageException($"--train-scenes and --test-scenes must be at least 1 (got {TrainScenes}, {TestScenes})");
        if (Batch < 1 || Batch > TrainScenes) throw new UsageException($"--batch must be between 1 and --train-scenes (got {Batch})");
        if (Steps < 1) throw new UsageException($"--steps must be at least 1 (got {Steps})");
        if (Cells < 8) throw new UsageException($"--cells must be at least 8 (got {Cells})");
        if (!(ForceWeight >= 0)) throw new UsageException($"--force-weight must be non-negative (got {ForceWeight})");
        if (CheckpointEvery < 1) throw new UsageException($"--checkpoint-every must be at least 1 (got {CheckpointEvery})");
    }
}

/// <summary>Held-out figures of one controller.</summary>
public sealed record ControlEvaluation(string Method, double FinalStateMse, double TotalForce);

/// <summary>
/// control: a 1D conv net sees the current state and the target and outputs a force each step; it is
/// trained with the differentiable-physics gradient through all steps (the solver step is a tape op
/// whose backward is the generated pullback of the forced Burgers step), and compared with a
/// supervised network trained on the true forces, one step at a time, without the solver.
/// </summary>
public static class Control
{
    /// <summary>Runs both trainings and the evaluation; writes the outputs.</summary>
    public static IReadOnlyList<ControlEvaluation> Run(ControlSettings s, RunOutput output, string? resumeFrom, IProgressReporter progress, TextWriter log, CancellationToken ct)
    {
        s.Validate();
        var sw = Stopwatch.StartNew();
        var sim = new Burgers1D(new Grid1D(s.Cells, 0, 1), 0.003, 0.03, substeps: OptionChecks.DiffusionSubsteps(0.003, 0.03, 1.0 / s.Cells));
        var rng = new Random(s.Seed);
        var train = Scenes(sim, s, s.TrainScenes, rng);
        var test = Scenes(sim, s, s.TestScenes, rng);
        var step = Lift.Op((u, f, next) => sim.Step(u, f, next),
            (u, f, next, uBar, fBar, nextBar) => { double nuBar = 0; sim.StepBackward(u, f, next, uBar, fBar, nextBar, ref nuBar); },
            name: "BurgersForcedStep");

        Init.Seed(s.Seed);
        var dpNet = Network();
        Init.Seed(s.Seed);
        var supNet = Network();
        var dpOpt = new Adam(dpNet.Parameters(), s.LearningRate);
        var supOpt = new Adam(supNet.Parameters(), s.LearningRate);
        (string, Module, Optimizer)[] models = [("dp", dpNet, dpOpt), ("supervised", supNet, supOpt)];
        var rows = new List<double[]>();
        int start = 0;
        if (resumeFrom != null)
        {
            var cp = Checkpoints.Load(resumeFrom, SettingsKey(s), s.Iterations);
            foreach (var (tag, net, opt) in models) Checkpoints.LoadModel(resumeFrom, cp, tag, net, opt);
            (start, rows) = (cp.NextIteration, cp.MetricRows);
        }
        output.BeginMetrics("iteration,dp_loss,supervised_loss");
        foreach (var r in rows) output.AddMetrics(r);
        var dpLosses = rows.Select(r => r[1]).ToList();
        var batchRng = new Random(s.Seed + 1);
        for (int it = 0; it < start; it++)
        {
            // Replay the batch draws of the iterations already done, so a resumed run sees the same batches.
            for (int b = 0; b < s.Batch; b++) batchRng.Next(train.Count);
            for (int b = 0; b < s.Batch; b++) batchRng.Next(s.Steps);
        }
        for (int it = start; it < s.Iterations; it++)
        {
            if (ct.IsCancellationRequested)
            {
                Checkpoints.Save(output, SettingsKey(s), it, new Dictionary<string, double[]>(), rows, models);
                output.FlushMetrics();
                throw new OperationCanceledException($"stopped at iteration {it}; resume with --resume {output.Directory}");
            }
            var idx = Enumerable.Range(0, s.Batch).Select(_ => batchRng.Next(train.Count)).ToArray();
            var pick = idx.Select(i => train[i]).ToList();

            // Differentiable physics: the loss after all steps, back through solver and network.
            dpOpt.ZeroGrad();
            var (final, forceSq) = Rollout(dpNet, step, pick, s);
            var target = Stack(pick.Select(p => p.Target));
            var loss = Losses.Mse(final, target) + (float)s.ForceWeight * forceSq;
            loss.Backward();
            NonFinite.Check(output, it, loss.Item(), Gradients.ClipNorm(dpNet.Parameters(), 1.0), s.LearningRate, "DP");
            dpOpt.Step();

            // Supervised: predict the true force from (state, target) at states of the true trajectory.
            supOpt.ZeroGrad();
            var states = new List<double[]>();
            var targets = new List<double[]>();
            var forces = new List<double[]>();
            foreach (var p in pick)
            {
                int t = batchRng.Next(s.Steps);
                states.Add(p.Trajectory[t]);
                targets.Add(p.Target);
                forces.Add(p.Force);
            }
            var input = Tensor.Stack([Stack(states), Stack(targets)], 1);
            var supLoss = Losses.Mse(supNet.Forward(input).Reshape(s.Batch, s.Cells), Stack(forces));
            supLoss.Backward();
            NonFinite.Check(output, it, supLoss.Item(), Gradients.Norm(supNet.Parameters()), s.LearningRate, "supervised");
            supOpt.Step();

            dpLosses.Add(loss.Item());
            rows.Add([it, loss.Item(), supLoss.Item()]);
            output.AddMetrics(rows[^1]);
            progress.Report(it, s.Iterations, loss.Item());
            if ((it + 1) % s.CheckpointEvery == 0 || it + 1 == s.Iterations)
            {
                Checkpoints.Save(output, SettingsKey(s), it + 1, new Dictionary<string, double[]>(), rows, models);
                output.FlushMetrics();
            }
        }
        output.FlushMetrics();

        var results = new List<ControlEvaluation>
        {
            Evaluate("no control", null, step, test, s),
            Evaluate("supervised", supNet, step, test, s),
            Evaluate("differentiable physics", dpNet, step, test, s),
        };
        dpNet.Save(output.PathOf("model.safetensors"), new Dictionary<string, string> { ["experiment"] = "control", ["method"] = "differentiable physics" });
        supNet.Save(output.PathOf("supervised.safetensors"), new Dictionary<string, string> { ["experiment"] = "control", ["method"] = "supervised" });
        output.WriteLossCurve("loss.png", dpLosses, "control: DP training loss");
        var x = sim.CellCenters();
        var scene = test[0];
        var dpFinal = Rollout(dpNet, step, [scene], s).Final.ToArray().Select(v => (double)v).ToArray();
        var supFinal = Rollout(supNet, step, [scene], s).Final.ToArray().Select(v => (double)v).ToArray();
        output.WriteFields1D("fields.png", x,
            [("initial", scene.Trajectory[0]), ("target", scene.Target), ("DP-controlled final", dpFinal), ("supervised final", supFinal)],
            "control: held-out scene 0");
        sw.Stop();
        output.Complete(new
        {
            experiment = "control",
            settings = s,
            seed = s.Seed,
            held_out = results.Select(r => new { method = r.Method, final_state_mse = r.FinalStateMse, total_force = r.TotalForce }),
            seconds = sw.Elapsed.TotalSeconds,
            note = "Total force = mean over held-out scenes of sum over steps and cells of |f| * dx * dt.",
        });
        log.WriteLine();
        log.WriteLine("  held-out scenes          final-state MSE   total force");
        foreach (var r in results) log.WriteLine(FormattableString.Invariant($"  {r.Method,-24} {r.FinalStateMse,15:G4}   {r.TotalForce,11:G4}"));
        log.WriteLine(FormattableString.Invariant($"  ({sw.Elapsed.TotalSeconds:F1} s)   outputs: {output.Directory}"));
        return results;
    }

    private static string SettingsKey(ControlSettings s) =>
        FormattableString.Invariant($"lr={s.LearningRate:R};scenes={s.TrainScenes}/{s.TestScenes};batch={s.Batch};steps={s.Steps};cells={s.Cells};fw={s.ForceWeight:R};seed={s.Seed}");

    /// <summary>A scene: initial state, constant forcing, its trajectory and the target it reaches.</summary>
    public sealed record Scene(double[][] Trajectory, double[] Force, double[] Target);

    private static List<Scene> Scenes(Burgers1D sim, ControlSettings s, int count, Random rng)
    {
        var x = sim.CellCenters();
        var list = new List<Scene>();
        for (int k = 0; k < count; k++)
        {
            // Two Gaussians: left amplitude U(0, 3) centred U(0.2, 0.4), right U(-3, 0) centred U(0.6, 0.8).
            double a1 = 3 * rng.NextDouble(), c1 = 0.2 + 0.2 * rng.NextDouble();
            double a2 = -3 * rng.NextDouble(), c2 = 0.6 + 0.2 * rng.NextDouble();
            var u0 = x.Select(v => a1 * Math.Exp(-(v - c1) * (v - c1) / 0.005) + a2 * Math.Exp(-(v - c2) * (v - c2) / 0.005)).ToArray();
            // A Gaussian forcing of amplitude 32 * U(-0.05, 0.05), constant in time.
            double af = 32 * (0.1 * rng.NextDouble() - 0.05), cf = 0.2 + 0.6 * rng.NextDouble();
            var force = x.Select(v => af * Math.Exp(-(v - cf) * (v - cf) / 0.02)).ToArray();
            var traj = new double[s.Steps + 1][];
            traj[0] = u0;
            for (int t = 0; t < s.Steps; t++) { traj[t + 1] = new double[x.Length]; sim.Step(traj[t], force, traj[t + 1]); }
            list.Add(new Scene(traj, force, traj[s.Steps]));
        }
        return list;
    }

    private static Sequential Network() =>
        new(new Conv1d(2, 16, 5, mode: PaddingMode.Periodic), new ReLU(),
            new Conv1d(16, 16, 5, mode: PaddingMode.Periodic), new ReLU(),
            new Conv1d(16, 16, 5, mode: PaddingMode.Periodic), new ReLU(),
            new Conv1d(16, 1, 5, mode: PaddingMode.Periodic));

    private static Tensor Stack(IEnumerable<double[]> rows)
    {
        var list = rows.ToList();
        var flat = new float[list.Count * list[0].Length];
        for (int b = 0; b < list.Count; b++)
            for (int i = 0; i < list[b].Length; i++) flat[b * list[b].Length + i] = (float)list[b][i];
        return Tensor.FromArray(flat, list.Count, list[0].Length);
    }

    /// <summary>Runs the controlled solver from the scenes' initial states; returns the final states and mean f².</summary>
    private static (Tensor Final, Tensor ForceSquared) Rollout(Module? net, Func<Tensor, Tensor, Tensor> step, IReadOnlyList<Scene> scenes, ControlSettings s)
    {
        var u = Stack(scenes.Select(p => p.Trajectory[0]));
        var target = Stack(scenes.Select(p => p.Target));
        Tensor? forceSq = null;
        for (int t = 0; t < s.Steps; t++)
        {
            var f = net == null ? Tensor.Zeros(scenes.Count, s.Cells) : net.Forward(Tensor.Stack([u, target], 1)).Reshape(scenes.Count, s.Cells);
            var sq = (f * f).Mean();
            forceSq = forceSq == null ? sq : forceSq + sq;
            u = step(u, f);
        }
        return (u, forceSq!);
    }

    private static ControlEvaluation Evaluate(string method, Module? net, Func<Tensor, Tensor, Tensor> step, IReadOnlyList<Scene> scenes, ControlSettings s)
    {
        using var _ = Autograd.NoGrad();
        var u = Stack(scenes.Select(p => p.Trajectory[0]));
        var target = Stack(scenes.Select(p => p.Target));
        double force = 0, dx = 1.0 / s.Cells, dt = 0.03;
        for (int t = 0; t < s.Steps; t++)
        {
            var f = net == null ? Tensor.Zeros(scenes.Count, s.Cells) : net.Forward(Tensor.Stack([u, target], 1)).Reshape(scenes.Count, s.Cells);
            foreach (var v in f.ToArray()) force += Math.Abs(v) * dx * dt;
            u = step(u, f);
        }
        double mse = Losses.Mse(u, target).Item();
        return new ControlEvaluation(method, mse, force / scenes.Count);
    }
}
