using System.Diagnostics;
using System.Globalization;
using DiffGen.NN;
using DiffGen.NN.Optim;
using DiffGen.NN.Rl;
using DiffGen.Physics;
using DiffGen.Tensors;
using DiffGen.Trainers.Common;
using ScottPlot;

namespace DiffGen.Trainers.Experiments;

/// <summary>
/// Settings of control (EXPERIMENTS.md §4, the RL chapter's 32-cell variant, and §4b's DP-vs-PPO comparison).
/// </summary>
/// <param name="Iterations">Training iterations of dp, dp-stop and supervised (one batch each).</param>
/// <param name="ForceWeight">w of the objective mean((u_T − u*)²) + w·Σ_t mean(f_t²) that DP minimises and PPO's return is minus of.</param>
/// <param name="Methods">Methods to train, in order: dp, dp-stop, supervised, ppo.</param>
/// <param name="Seeds">Seeds per method (paired: seed s gives every method the same initial weights and scene order).</param>
/// <param name="PpoIterations">PPO iterations (one rollout of <paramref name="RolloutSteps"/> steps in each of <paramref name="Envs"/> environments, then 10 epochs of updates).</param>
/// <param name="PpoLearningRate">PPO's Adam learning rate (the book: 1e-4).</param>
/// <param name="Envs">PPO's environments (the book: 10).</param>
/// <param name="RolloutSteps">Steps per environment and rollout (the book: 320); a multiple of <paramref name="Steps"/>, so every rollout holds whole episodes.</param>
/// <param name="EvalEvery">Held-out evaluation every N iterations of dp, dp-stop and supervised (PPO: every iteration) for the learning curves.</param>
/// <param name="TargetError">Held-out final-state MSE at which "steps and time to reach" are read off the learning curves.</param>
public sealed record ControlSettings(int Iterations = 200, double LearningRate = 2e-3, int TrainScenes = 64, int TestScenes = 32, int Batch = 16, int Steps = 32, int Cells = 32,
    double ForceWeight = 1e-3, int Seed = 0, int CheckpointEvery = 50, string[]? Methods = null, int Seeds = 1,
    int PpoIterations = 100, double PpoLearningRate = 1e-4, int Envs = 10, int RolloutSteps = 320, int EvalEvery = 10, double TargetError = 0.02)
{
    /// <summary>Every method the trainer knows, in the order it trains them.</summary>
    public static IReadOnlyList<string> AllMethods { get; } = ["dp", "dp-stop", "supervised", "ppo"];

    /// <summary>The methods to train (default dp and supervised).</summary>
    public IReadOnlyList<string> MethodList => Methods ?? ["dp", "supervised"];

    /// <summary>Checks ranges; a bad value is a usage error naming the option.</summary>
    public void Validate()
    {
        if (Iterations < 1) throw new UsageException($"--iterations must be at least 1 (got {Iterations})");
        OptionChecks.PositiveFinite("--lr", LearningRate);
        if (TrainScenes < 1 || TestScenes < 1) throw new UsageException($"--train-scenes and --test-scenes must be at least 1 (got {TrainScenes}, {TestScenes})");
        if (Batch < 1 || Batch > TrainScenes) throw new UsageException($"--batch must be between 1 and --train-scenes (got {Batch})");
        if (Steps < 1) throw new UsageException($"--steps must be at least 1 (got {Steps})");
        if (Cells < 8) throw new UsageException($"--cells must be at least 8 (got {Cells})");
        if (!(ForceWeight >= 0) || double.IsInfinity(ForceWeight)) throw new UsageException($"--force-weight must be a non-negative number (got {ForceWeight})");
        if (CheckpointEvery < 1) throw new UsageException($"--checkpoint-every must be at least 1 (got {CheckpointEvery})");
        if (MethodList.Count == 0 || MethodList.Any(m => !AllMethods.Contains(m)) || MethodList.Distinct().Count() != MethodList.Count)
            throw new UsageException($"--method must list distinct methods out of {string.Join(", ", AllMethods)} or be 'all' (got '{string.Join(",", MethodList)}')");
        if (Seeds < 1) throw new UsageException($"--seeds must be at least 1 (got {Seeds})");
        if (PpoIterations < 1) throw new UsageException($"--ppo-iterations must be at least 1 (got {PpoIterations})");
        if (!(PpoLearningRate > 0) || double.IsInfinity(PpoLearningRate)) throw new UsageException($"--ppo-lr must be a positive number (got {PpoLearningRate})");
        if (Envs < 1) throw new UsageException($"--envs must be at least 1 (got {Envs})");
        // Whole episodes per rollout: every rollout resets the environments, so a checkpoint between rollouts needs no environment state.
        // Checked only when PPO runs: the default 320 need not divide a --steps that dp or supervised alone use.
        if (MethodList.Contains("ppo") && (RolloutSteps < Steps || RolloutSteps % Steps != 0)) throw new UsageException($"--rollout-steps must be a positive multiple of --steps ({Steps}) so rollouts hold whole episodes (got {RolloutSteps})");
        if (EvalEvery < 1) throw new UsageException($"--eval-every must be at least 1 (got {EvalEvery})");
        if (!(TargetError > 0) || double.IsInfinity(TargetError)) throw new UsageException($"--target-error must be a positive number (got {TargetError})");
    }

    /// <summary>Iterations of one training run of <paramref name="method"/>.</summary>
    public int IterationsOf(string method) => method == "ppo" ? PpoIterations : Iterations;

    /// <summary>PPO's settings: the book's, with this run's learning rate and rollout length.</summary>
    public PpoSettings Ppo => new(StepsPerRollout: RolloutSteps, LearningRate: PpoLearningRate);
}

/// <summary>Held-out figures of one controller (for trained methods: means over the seeds).</summary>
public sealed record ControlEvaluation(string Method, double FinalStateMse, double TotalForce)
{
    /// <summary>Final-state MSE per held-out scene (mean over the seeds).</summary>
    public double[] PerScene { get; init; } = [];

    /// <summary>Held-out final-state MSE per seed.</summary>
    public double[] PerSeed { get; init; } = [];

    /// <summary>95 % bootstrap interval of the final-state MSE over seeds and held-out scenes.</summary>
    public double Low { get; init; }

    /// <summary>Upper end of the interval.</summary>
    public double High { get; init; }

    /// <summary>The objective on the held-out scenes: final-state MSE + w·Σ_t mean(f²).</summary>
    public double Objective { get; init; }

    /// <summary>Training wall time per seed (held-out evaluations excluded).</summary>
    public double TrainingSeconds { get; init; }

    /// <summary>Training CPU time per seed (all threads; held-out evaluations excluded).</summary>
    public double TrainingCpuSeconds { get; init; }

    /// <summary>Forward simulator steps of training per seed (supervised: none; its data are the precomputed trajectories all methods share).</summary>
    public long SimulatorSteps { get; init; }

    /// <summary>Simulator steps until the held-out error first reached the target error (mean over the seeds that reached it), or null.</summary>
    public double? StepsToTarget { get; init; }

    /// <summary>Wall time until the held-out error first reached the target error (mean over the seeds that reached it), or null.</summary>
    public double? SecondsToTarget { get; init; }

    /// <summary>CPU time until the held-out error first reached the target error (mean over the seeds that reached it), or null.</summary>
    public double? CpuSecondsToTarget { get; init; }

    /// <summary>Seeds that reached the target error.</summary>
    public int SeedsReachingTarget { get; init; }
}

/// <summary>
/// control: a 1D conv net sees the current state and the target and outputs a force each step. Methods:
/// <c>dp</c>, trained with the differentiable-physics gradient through all steps (each solver step is a
/// tape op whose backward is the generated pullback of the forced Burgers step); <c>dp-stop</c>, the same
/// with the gradient stopped at each solver step's input; <c>supervised</c>, trained on the true forces
/// one step at a time without the solver; <c>ppo</c>, model-free RL (the book's reinflearn chapter) with the
/// same network as actor, a conv + pool critic, and minus the DP objective as return. All see the same
/// training scenes and are tested on the same held-out scenes.
/// </summary>
public static class Control
{
    private static readonly Dictionary<string, string> Names = new()
    {
        ["dp"] = "differentiable physics",
        ["dp-stop"] = "DP, stopped gradient",
        ["supervised"] = "supervised",
        ["ppo"] = "PPO",
    };

    // Widths of the two kinds of rows: a training iteration (seed index, method index, iteration, simulator
    // steps, loss; the checkpoint's metrics, one per iteration) and a held-out evaluation (seed index, method
    // index, iteration, simulator steps, mean final-state MSE, mean total force, wall seconds, CPU seconds).
    private const int TrainWidth = 5, EvalWidth = 8;

    /// <summary>Trains every method for every seed, evaluates them and writes the outputs.</summary>
    public static IReadOnlyList<ControlEvaluation> Run(ControlSettings s, RunOutput output, string? resumeFrom, IProgressReporter progress, TextWriter log, CancellationToken ct)
    {
        s.Validate();
        var sw = Stopwatch.StartNew();
        var sim = new Burgers1D(new Grid1D(s.Cells, 0, 1), 0.003, 0.03, substeps: OptionChecks.DiffusionSubsteps(0.003, 0.03, 1.0 / s.Cells));
        var rng = new Random(s.Seed);
        var train = Scenes(sim, s, s.TrainScenes, rng);
        var test = Scenes(sim, s, s.TestScenes, rng);
        var step = Lift.Op((u, f, next) => BurgersControlEnv.StepOrPoison(sim, u, f, next),
            (u, f, next, uBar, fBar, nextBar) =>
            {
                if (BurgersControlEnv.Poisoned(u, f, uBar, fBar)) return;
                double nuBar = 0;
                sim.StepBackward(u, f, next, uBar, fBar, nextBar, ref nuBar);
            },
            name: "BurgersForcedStep");
        var methods = s.MethodList;
        var jobs = Enumerable.Range(0, s.Seeds).SelectMany(k => methods.Select(m => (SeedIndex: k, Method: m))).ToList();
        var starts = new int[jobs.Count + 1];
        for (int j = 0; j < jobs.Count; j++) starts[j + 1] = starts[j] + s.IterationsOf(jobs[j].Method);
        int total = starts[^1];
        var run = new RunState(s, output, SettingsKey(s), methods, starts);

        Checkpoints.State? cp = null;
        int position = 0;
        if (resumeFrom != null)
        {
            cp = Checkpoints.Load(resumeFrom, run.Key, total);
            position = cp.NextIteration;
            run.Rows.AddRange(cp.MetricRows);
            if (run.Rows.Any(r => r.Length != TrainWidth)) throw new UsageException($"--resume: the checkpoint in '{resumeFrom}' holds metric rows of another layout (damaged, or written by another version)");
            var evals = cp.Tensors.GetValueOrDefault("evals") ?? [];
            if (evals.Length % EvalWidth != 0) throw new UsageException($"--resume: tensor 'evals' of the checkpoint in '{resumeFrom}' has {evals.Length} values, not a multiple of {EvalWidth} (damaged)");
            for (int i = 0; i < evals.Length; i += EvalWidth) run.Evals.Add(evals[i..(i + EvalWidth)]);
            int n = test.Count;
            for (int j = 0; j < jobs.Count && starts[j + 1] <= position; j++)
            {
                var r = cp.Vector("result." + j.ToString(CultureInfo.InvariantCulture), 3 * n + 3);
                run.Done.Add(new RunResult(r[..n], r[n..(2 * n)], r[(2 * n)..(3 * n)], r[3 * n], r[3 * n + 1], (long)r[3 * n + 2]));
            }
        }
        output.BeginMetrics("seed,method,iteration,simulator_steps,loss");
        foreach (var r in run.Rows) output.AddMetricsRow(TrainingRow(r, s, methods));

        for (int job = run.Done.Count; job < jobs.Count; job++)
        {
            var (k, method) = jobs[job];
            int first = Math.Max(0, position - starts[job]);
            run.Done.Add(Train(method, s.Seed + k, job, first, sim, step, train, test, run, resumeFrom, cp, progress, ct));
            // The job is done (its network saved): a resume starts at the next.
            Checkpoints.Save(output, run.Key, starts[job + 1], run.State(), run.Rows);
            output.FlushMetrics();
        }
        output.FlushMetrics();
        WriteCurvesCsv(output, run.Evals, s, methods);

        // Aggregate per method: means over seeds, intervals over seeds x held-out scenes, cost to the target error.
        var none = Evaluate(null, step, test, s);
        var nonInterval = PairedStats.Mean([none.Mse]);
        var results = new List<ControlEvaluation>
        {
            new("no control", none.Mse.Average(), none.Force.Average())
            {
                PerScene = none.Mse, PerSeed = [none.Mse.Average()], Low = nonInterval.Low, High = nonInterval.High,
                Objective = none.Mse.Average(),
            },
        };
        var matrices = new Dictionary<string, double[][]>();
        for (int mi = 0; mi < methods.Count; mi++)
        {
            var runs = Enumerable.Range(0, s.Seeds).Select(k => run.Done[k * methods.Count + mi]).ToList();
            var matrix = runs.Select(r => r.Mse).ToArray();
            matrices[methods[mi]] = matrix;
            var interval = PairedStats.Mean(matrix);
            var reach = Enumerable.Range(0, s.Seeds).Select(k => FirstReach(run.Evals, k, mi, s.TargetError)).Where(x => x != null).Select(x => x!.Value).ToList();
            double force = runs.Average(r => r.Force.Average());
            double mse = runs.Average(r => r.Mse.Average());
            results.Add(new ControlEvaluation(Names[methods[mi]], mse, force)
            {
                PerScene = Enumerable.Range(0, test.Count).Select(c => matrix.Average(row => row[c])).ToArray(),
                PerSeed = runs.Select(r => r.Mse.Average()).ToArray(),
                Low = interval.Low,
                High = interval.High,
                Objective = mse + s.ForceWeight * runs.Average(r => r.ForceSquared.Average()),
                TrainingSeconds = runs.Average(r => r.Seconds),
                TrainingCpuSeconds = runs.Average(r => r.Cpu),
                SimulatorSteps = (long)runs.Average(r => (double)r.Steps),
                StepsToTarget = reach.Count > 0 ? reach.Average(x => x.Steps) : null,
                SecondsToTarget = reach.Count > 0 ? reach.Average(x => x.Seconds) : null,
                CpuSecondsToTarget = reach.Count > 0 ? reach.Average(x => x.Cpu) : null,
                SeedsReachingTarget = reach.Count,
            });
        }
        Interval? stopRatio = methods.Contains("dp") && methods.Contains("dp-stop") ? PairedStats.Ratio(matrices["dp"], matrices["dp-stop"]) : null;

        // Pictures: held-out scene 0 under each method's first-seed controller; learning curves; intervals.
        var x = sim.CellCenters();
        var scene = test[0];
        var fields = new List<(string, double[])> { ("initial", scene.Trajectory[0]), ("target", scene.Target) };
        foreach (var m in methods)
        {
            var net = LoadController(m, s.Seed, s, output);
            using var _ = Autograd.NoGrad();
            fields.Add(($"{Names[m]} final", Rollout(net, step, [scene], s, stop: false).Final.ToArray().Select(v => (double)v).ToArray()));
        }
        output.WriteFields1D("fields.png", x, fields, "control: held-out scene 0");
        WriteCurves(output, run.Evals, s, methods);
        PairedStats.WritePlot(output, "errors.png", FormattableString.Invariant($"control: held-out final-state MSE, {s.Seeds} seed(s), 95 % bootstrap intervals"),
            "final-state MSE", results.Select(r => (r.Method, new Interval(r.FinalStateMse, r.Low, r.High))).ToList());
        sw.Stop();
        // Every output is written: the summary commits the run, then the checkpoints go.
        output.Complete(new
        {
            experiment = "control",
            settings = s with { Methods = [.. methods] },
            seed = s.Seed,
            seeds = Enumerable.Range(s.Seed, s.Seeds).ToArray(),
            held_out = results.Select(r => new
            {
                method = r.Method,
                final_state_mse = r.FinalStateMse,
                ci95 = new[] { r.Low, r.High },
                per_seed = r.PerSeed,
                total_force = r.TotalForce,
                objective = r.Objective,
                training_seconds_per_seed = r.TrainingSeconds,
                training_cpu_seconds_per_seed = r.TrainingCpuSeconds,
                simulator_steps_per_seed = r.SimulatorSteps,
                target_error = s.TargetError,
                seeds_reaching_target = r.SeedsReachingTarget,
                simulator_steps_to_target = r.StepsToTarget,
                seconds_to_target = r.SecondsToTarget,
                cpu_seconds_to_target = r.CpuSecondsToTarget,
            }),
            dp_over_dp_stop = stopRatio == null ? null : new { ratio = stopRatio.Value, ci95 = new[] { stopRatio.Low, stopRatio.High } },
            dataset_simulator_steps = (long)(s.TrainScenes + s.TestScenes) * s.Steps,
            seconds = sw.Elapsed.TotalSeconds,
            note = "Total force = mean over held-out scenes of sum over steps and cells of |f| * dx * dt. Objective = final-state MSE + w * sum over steps of mean f^2 (w = settings.ForceWeight); PPO's return is minus it. Simulator steps: forward steps in training (DP also runs as many adjoint steps).",
        });
        log.WriteLine();
        log.WriteLine(FormattableString.Invariant($"  held-out scenes ({test.Count}), {s.Seeds} seed(s)   final-state MSE   95 % interval          total force   objective   train s (CPU s)/seed   sim. steps/seed   to MSE {s.TargetError:G3}: steps, s (CPU s)"));
        foreach (var r in results)
        {
            string seeds = r.SeedsReachingTarget < s.Seeds ? FormattableString.Invariant($" ({r.SeedsReachingTarget}/{s.Seeds} seeds)") : "";
            string time = FormattableString.Invariant($"{r.SecondsToTarget,6:F1} ({r.CpuSecondsToTarget:F1})");
            string reach = r.Method == "no control" ? ""
                : r.SecondsToTarget == null ? "not reached"
                : (r.Method == "supervised" ? "no solver" : FormattableString.Invariant($"{r.StepsToTarget,10:G3}")) + ", " + time + seeds;
            string trained = r.Method == "no control" ? "" : FormattableString.Invariant($"{r.TrainingSeconds:F1} ({r.TrainingCpuSeconds:F1})");
            log.WriteLine(FormattableString.Invariant($"  {r.Method,-32} {r.FinalStateMse,15:G4}   [{r.Low:G4}, {r.High:G4}]   {r.TotalForce,11:G4}   {r.Objective,9:G4}   {trained,20}   {r.SimulatorSteps,15}   {reach}"));
        }
        if (stopRatio != null)
            log.WriteLine(FormattableString.Invariant($"  DP / DP stopped (final-state MSE, paired): {stopRatio.Value:F3} [{stopRatio.Low:F3}, {stopRatio.High:F3}]"));
        log.WriteLine(FormattableString.Invariant($"  ({sw.Elapsed.TotalSeconds:F1} s)   outputs: {output.Directory}"));
        return results;
    }

    /// <summary>What the training runs of one Run share: settings, output, the rows so far and the finished runs.</summary>
    private sealed class RunState(ControlSettings settings, RunOutput output, string key, IReadOnlyList<string> methods, int[] starts)
    {
        public ControlSettings Settings { get; } = settings;

        public RunOutput Output { get; } = output;

        /// <summary>The settings key the checkpoints carry.</summary>
        public string Key { get; } = key;

        public IReadOnlyList<string> Methods { get; } = methods;

        /// <summary>Global iteration at which job j starts (and, at j + 1, ends).</summary>
        public int[] Starts { get; } = starts;

        /// <summary>Training rows, one per iteration of every job so far (the checkpoint's metrics).</summary>
        public List<double[]> Rows { get; } = [];

        /// <summary>Held-out evaluations during training (the learning curves).</summary>
        public List<double[]> Evals { get; } = [];

        /// <summary>The finished jobs' results, in job order.</summary>
        public List<RunResult> Done { get; } = [];

        /// <summary>The checkpoint's tensors: the finished jobs' results and the evaluations so far.</summary>
        public Dictionary<string, double[]> State()
        {
            var d = new Dictionary<string, double[]> { ["evals"] = [.. Evals.SelectMany(r => r)] };
            for (int j = 0; j < Done.Count; j++)
                d["result." + j.ToString(CultureInfo.InvariantCulture)] = [.. Done[j].Mse, .. Done[j].Force, .. Done[j].ForceSquared, Done[j].Seconds, Done[j].Cpu, Done[j].Steps];
            return d;
        }
    }

    /// <summary>One training run (one method, one seed); returns the held-out figures per scene, its wall time and simulator steps.</summary>
    private static RunResult Train(string method, int seed, int job, int first, Burgers1D sim, Func<Tensor, Tensor, Tensor> step,
        List<Scene> train, List<Scene> test, RunState run, string? resumeFrom, Checkpoints.State? cp, IProgressReporter progress, CancellationToken ct)
    {
        var (s, output, methods) = (run.Settings, run.Output, run.Methods);
        int seedIndex = seed - s.Seed, mi = methods.ToList().IndexOf(method), iterations = s.IterationsOf(method);
        string stage = s.Seeds > 1 ? FormattableString.Invariant($"{method} (seed {seed})") : method;
        Init.Seed(seed);
        var net = Network();
        Module model = net;
        Optimizer opt;
        Ppo? ppo = null;
        BurgersControlEnv? env = null;
        int it = first;
        long ppoUpdates = 0; // minibatch updates applied in this process (PPO's iteration 0 holds many)
        if (method == "ppo")
        {
            var critic = new ControlCritic(s.Cells);
            var ac = new ActorCritic(new GaussianPolicy(new ControlActor(net), s.Cells), critic);
            env = new BurgersControlEnv(sim, train, s.Envs, s.Steps, s.ForceWeight);
            ppo = new Ppo(ac, env, s.Ppo);
            // The non-finite policy inside PPO's minibatch updates: stop before a bad gradient reaches the weights.
            ppo.BeforeStep = (loss, norm) =>
            {
                NonFinite.Check(output, it, loss, norm, s.PpoLearningRate, stage, "--ppo-lr", updated: it > 0 || ppoUpdates > 0);
                ppoUpdates++;
            };
            model = ac;
            opt = ppo.Optimizer;
        }
        else opt = new Adam(net.Parameters(), s.LearningRate);
        // Paired: every method of a seed draws the same scene sequence; supervised draws its time steps from a second generator.
        var sceneRng = new Random(seed + 1);
        var timeRng = new Random(seed + 2);
        double seconds = 0, cpu = 0;
        long simSteps = 0;
        if (first > 0)
        {
            Checkpoints.LoadModel(resumeFrom!, cp!, method, model, opt);
            var time = cp!.Vector("time.current", 2);
            (seconds, cpu) = (time[0], time[1]);
            simSteps = (long)cp.Vector("steps.current", 1)[0];
            if (ppo != null) ppo.ReturnStatistics.Restore(cp.Vector("ppo.returns", ppo.ReturnStatistics.State().Length));
            for (int i = 0; i < first; i++)
                for (int b = 0; b < s.Batch; b++)
                {
                    sceneRng.Next(train.Count);
                    if (method == "supervised") timeRng.Next(s.Steps);
                }
        }
        Dictionary<string, double[]> State(TrainingClock clock)
        {
            var d = run.State();
            d["time.current"] = [clock.WallSeconds, clock.CpuSeconds];
            d["steps.current"] = [simSteps];
            if (ppo != null) d["ppo.returns"] = ppo.ReturnStatistics.State();
            return d;
        }
        long resumedSteps = simSteps;
        if (first == 0) AddEval(run.Evals, seedIndex, mi, 0, 0, 0, 0, Evaluate(net, step, test, s));
        // Training time: the held-out evaluations (for the curves) pause the clock.
        var clock = new TrainingClock(seconds, cpu);
        for (; it < iterations; it++)
        {
            if (ct.IsCancellationRequested)
            {
                Checkpoints.Save(output, run.Key, run.Starts[job] + it, State(clock), run.Rows, [(method, model, opt)]);
                output.FlushMetrics();
                throw new OperationCanceledException($"stopped at {method} (seed {seed}) iteration {it}; resume with --resume {output.Directory} and the same options");
            }
            double loss;
            if (ppo != null)
            {
                PpoIteration r;
                try
                {
                    r = ppo.Iterate(unchecked(seed * 1_000_003 + it + 1));
                }
                catch (NonFiniteRewardException)
                {
                    // The simulation blew up under the sampled forces: a non-finite return, stopped like a non-finite loss.
                    NonFinite.Check(output, it, double.NaN, double.NaN, s.PpoLearningRate, stage, "--ppo-lr", updated: it > 0 || ppoUpdates > 0);
                    throw;
                }
                loss = -r.MeanEpisodeReturn;
                simSteps = resumedSteps + env!.SimulatorSteps;
            }
            else
            {
                var pick = Enumerable.Range(0, s.Batch).Select(_ => train[sceneRng.Next(train.Count)]).ToList();
                opt.ZeroGrad();
                Tensor l;
                if (method == "supervised")
                {
                    // Predict the true force from (state, target) at states of the true trajectory.
                    var states = new List<double[]>();
                    foreach (var p in pick) states.Add(p.Trajectory[timeRng.Next(s.Steps)]);
                    var input = Tensor.Stack([Stack(states), Stack(pick.Select(p => p.Target))], 1);
                    l = Losses.Mse(net.Forward(input).Reshape(s.Batch, s.Cells), Stack(pick.Select(p => p.Force)));
                }
                else
                {
                    // The loss after all steps, back through solver and network (dp-stop: not through the solver between steps).
                    var (final, forceSq) = Rollout(net, step, pick, s, stop: method == "dp-stop");
                    l = Losses.Mse(final, Stack(pick.Select(p => p.Target))) + (float)s.ForceWeight * forceSq;
                    simSteps += (long)s.Batch * s.Steps;
                }
                l.Backward();
                loss = l.Item();
                // Supervised training is not clipped (its gradients never pass through the solver).
                double norm = method == "supervised" ? Gradients.Norm(net.Parameters()) : Gradients.ClipNorm(net.Parameters(), 1.0);
                NonFinite.Check(output, it, loss, norm, s.LearningRate, stage);
                opt.Step();
            }
            run.Rows.Add([seedIndex, mi, it, simSteps, loss]);
            output.AddMetricsRow(TrainingRow(run.Rows[^1], s, methods));
            bool evaluate = ppo != null || (it + 1) % s.EvalEvery == 0 || it + 1 == iterations;
            if (evaluate)
            {
                clock.Pause();
                AddEval(run.Evals, seedIndex, mi, it + 1, simSteps, clock.WallSeconds, clock.CpuSeconds, Evaluate(net, step, test, s));
                clock.Resume();
            }
            progress.Report(run.Starts[job] + it, run.Starts[^1], loss);
            if ((it + 1) % s.CheckpointEvery == 0 && it + 1 < iterations)
            {
                Checkpoints.Save(output, run.Key, run.Starts[job] + it + 1, State(clock), run.Rows, [(method, model, opt)]);
                output.FlushMetrics();
            }
        }
        clock.Pause();
        var result = Evaluate(net, step, test, s);
        model.Save(output.PathOf(ModelFile(method, seed, s)), new Dictionary<string, string>
        {
            ["experiment"] = "control",
            ["method"] = Names[method],
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
        });
        return new RunResult(result.Mse, result.Force, result.ForceSquared, clock.WallSeconds, clock.CpuSeconds, simSteps);
    }

    /// <summary>Held-out figures per scene of one finished run, its training wall and CPU time and forward simulator steps.</summary>
    private sealed record RunResult(double[] Mse, double[] Force, double[] ForceSquared, double Seconds, double Cpu, long Steps);

    private static void AddEval(List<double[]> evals, int seedIndex, int mi, int iteration, long simSteps, double seconds, double cpu, (double[] Mse, double[] Force, double[] ForceSquared) e) =>
        evals.Add([seedIndex, mi, iteration, simSteps, e.Mse.Average(), e.Force.Average(), seconds, cpu]);

    private static string TrainingRow(double[] r, ControlSettings s, IReadOnlyList<string> methods) =>
        FormattableString.Invariant($"{s.Seed + (int)r[0]},{methods[(int)r[1]]},{(int)r[2]},{(long)r[3]},{r[4]:R}");

    /// <summary>The first evaluation of (seed, method) at or below the target error.</summary>
    private static (double Steps, double Seconds, double Cpu)? FirstReach(List<double[]> evals, int seedIndex, int mi, double target)
    {
        foreach (var r in evals)
            if ((int)r[0] == seedIndex && (int)r[1] == mi && r[4] <= target) return (r[3], r[6], r[7]);
        return null;
    }

    private static void WriteCurvesCsv(RunOutput output, List<double[]> evals, ControlSettings s, IReadOnlyList<string> methods)
    {
        var lines = new List<string> { "seed,method,iteration,simulator_steps,seconds,cpu_seconds,heldout_mse,heldout_total_force" };
        foreach (var r in evals)
            lines.Add(FormattableString.Invariant($"{s.Seed + (int)r[0]},{methods[(int)r[1]]},{(int)r[2]},{(long)r[3]},{r[6]:R},{r[7]:R},{r[4]:R},{r[5]:R}"));
        RunOutput.WriteText(output.PathOf("curves.csv"), string.Join("\n", lines) + "\n");
    }

    /// <summary>Held-out final-state MSE against simulator steps (methods that step the solver) and against wall time (all), first seed.</summary>
    private static void WriteCurves(RunOutput output, List<double[]> evals, ControlSettings s, IReadOnlyList<string> methods)
    {
        foreach (var (file, column, label, log) in new[] { ("curves-steps.png", 3, "simulator steps (forward)", true), ("curves-time.png", 6, "training wall time (s)", false) })
        {
            var plt = new Plot();
            for (int mi = 0; mi < methods.Count; mi++)
            {
                if (column == 3 && methods[mi] == "supervised") continue; // it trains without the solver
                // On the log axis the untrained start (0 steps) has no place.
                var pts = evals.Where(r => r[0] == 0 && (int)r[1] == mi && (!log || r[column] > 0)).ToList();
                var xs = pts.Select(r => log ? Math.Log10(r[column]) : r[column]).ToArray();
                var ys = pts.Select(r => Math.Log10(r[4])).ToArray();
                var line = plt.Add.Scatter(xs, ys);
                line.LegendText = Names[methods[mi]];
                line.MarkerSize = 3;
            }
            var target = plt.Add.HorizontalLine(Math.Log10(s.TargetError));
            target.LinePattern = LinePattern.Dashed;
            target.Color = Colors.Gray;
            target.LegendText = FormattableString.Invariant($"target {s.TargetError:G3}");
            plt.ShowLegend();
            plt.Legend.Alignment = Alignment.UpperRight;
            plt.Title($"control: held-out final-state MSE during training (seed {s.Seed})");
            plt.XLabel(log ? "log10 " + label : label);
            plt.YLabel("log10 final-state MSE");
            plt.SavePng(output.PathOf(file), 760, 480);
        }
    }

    private static string ModelFile(string method, int seed, ControlSettings s)
    {
        string name = method switch { "dp" => "model", "supervised" => "supervised", _ => method };
        return name + (seed == s.Seed ? "" : FormattableString.Invariant($".seed{seed}")) + ".safetensors";
    }

    /// <summary>A method's trained controller (for PPO: the actor's mean network) from its saved file.</summary>
    private static Module LoadController(string method, int seed, ControlSettings s, RunOutput output)
    {
        var net = Network();
        if (method == "ppo")
        {
            var ac = new ActorCritic(new GaussianPolicy(new ControlActor(net), s.Cells), new ControlCritic(s.Cells));
            ac.Load(output.PathOf(ModelFile(method, seed, s)));
        }
        else net.Load(output.PathOf(ModelFile(method, seed, s)));
        return net;
    }

    private static string SettingsKey(ControlSettings s) =>
        FormattableString.Invariant($"it={s.Iterations};lr={s.LearningRate:R};scenes={s.TrainScenes}/{s.TestScenes};batch={s.Batch};steps={s.Steps};cells={s.Cells};fw={s.ForceWeight:R};seed={s.Seed};seeds={s.Seeds};")
        + "methods=" + string.Join(",", s.MethodList)
        + FormattableString.Invariant($";ppo={s.PpoIterations}/{s.PpoLearningRate:R}/{s.Envs}/{s.RolloutSteps};eval={s.EvalEvery}");

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

    /// <summary>The control network (the DP agent's; PPO's actor mean): (u, u*) [B, 2, N] to a force [B, 1, N].</summary>
    private static Sequential Network() =>
        new(new Conv1d(2, 16, 5, mode: PaddingMode.Periodic), new ReLU(),
            new Conv1d(16, 16, 5, mode: PaddingMode.Periodic), new ReLU(),
            new Conv1d(16, 16, 5, mode: PaddingMode.Periodic), new ReLU(),
            new Conv1d(16, 1, 5, mode: PaddingMode.Periodic));

    private static Tensor Stack(IEnumerable<double[]> rows) => Sol.Pack(rows);

    /// <summary>Runs the controlled solver from the scenes' initial states; returns the final states and Σ_t mean f².</summary>
    private static (Tensor Final, Tensor ForceSquared) Rollout(Module? net, Func<Tensor, Tensor, Tensor> step, IReadOnlyList<Scene> scenes, ControlSettings s, bool stop)
    {
        var u = Stack(scenes.Select(p => p.Trajectory[0]));
        var target = Stack(scenes.Select(p => p.Target));
        Tensor? forceSq = null;
        for (int t = 0; t < s.Steps; t++)
        {
            var f = net == null ? Tensor.Zeros(scenes.Count, s.Cells) : net.Forward(Tensor.Stack([u, target], 1)).Reshape(scenes.Count, s.Cells);
            var sq = (f * f).Mean();
            forceSq = forceSq == null ? sq : forceSq + sq;
            // Stopped: the step sees a detached state; the force still gets the gradient of this one step.
            u = step(stop ? u.Detach() : u, f);
        }
        return (u, forceSq!);
    }

    /// <summary>Final-state MSE, total force Σ|f|·dx·dt and Σ_t mean(f²) per held-out scene.</summary>
    private static (double[] Mse, double[] Force, double[] ForceSquared) Evaluate(Module? net, Func<Tensor, Tensor, Tensor> step, IReadOnlyList<Scene> scenes, ControlSettings s)
    {
        using var _ = Autograd.NoGrad();
        int n = scenes.Count;
        var u = Stack(scenes.Select(p => p.Trajectory[0]));
        var target = Stack(scenes.Select(p => p.Target));
        var force = new double[n];
        var forceSq = new double[n];
        double dx = 1.0 / s.Cells, dt = 0.03;
        for (int t = 0; t < s.Steps; t++)
        {
            var f = net == null ? Tensor.Zeros(n, s.Cells) : net.Forward(Tensor.Stack([u, target], 1)).Reshape(n, s.Cells);
            var fv = f.ToArray();
            for (int i = 0; i < fv.Length; i++)
            {
                force[i / s.Cells] += Math.Abs(fv[i]) * dx * dt;
                forceSq[i / s.Cells] += (double)fv[i] * fv[i] / s.Cells;
            }
            u = step(u, f);
        }
        var uv = u.ToArray();
        var tv = target.ToArray();
        var mse = new double[n];
        for (int i = 0; i < uv.Length; i++) mse[i / s.Cells] += (uv[i] - tv[i]) * (double)(uv[i] - tv[i]) / s.Cells;
        return (mse, force, forceSq);
    }
}
