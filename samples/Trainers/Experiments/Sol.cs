using System.Diagnostics;
using System.Globalization;
using DiffGen.NN;
using DiffGen.NN.Optim;
using DiffGen.Tensors;
using DiffGen.Trainers.Common;

namespace DiffGen.Trainers.Experiments;

/// <summary>Settings of sol (EXPERIMENTS.md §3, the paper's forced 2D Burgers variant, scaled down by default).</summary>
public sealed record SolSettings(int Iterations = 600, double LearningRate = 1e-3, int TrainScenes = 20, int TestScenes = 4, int Steps = 40, int Source = 32, int Factor = 4, int Batch = 3, int Seed = 0, int CheckpointEvery = 50, int Seeds = 1)
{
    /// <summary>Checks ranges; a bad value is a usage error naming the option.</summary>
    public void Validate()
    {
        if (Iterations < 1) throw new UsageException($"--iterations must be at least 1 (got {Iterations})");
        OptionChecks.PositiveFinite("--lr", LearningRate);
        if (TrainScenes < 1 || TestScenes < 1) throw new UsageException($"--train-scenes and --test-scenes must be at least 1 (got {TrainScenes}, {TestScenes})");
        if (Steps < 17) throw new UsageException($"--steps must be at least 17 so SOL-16 fits (got {Steps})");
        if (Source < 8) throw new UsageException($"--source must be at least 8 cells (got {Source})");
        if (Factor < 2) throw new UsageException($"--factor must be at least 2 (got {Factor})");
        if (Batch < 1) throw new UsageException($"--batch must be at least 1 (got {Batch})");
        if (CheckpointEvery < 1) throw new UsageException($"--checkpoint-every must be at least 1 (got {CheckpointEvery})");
        if (Seeds < 1) throw new UsageException($"--seeds must be at least 1 (got {Seeds})");
    }
}

/// <summary>
/// Settings of sol's wake-flow scene (the book's variant: flow past a disc, Re as a network input).
/// With these, <see cref="SolSettings.Source"/> is the source grid's cells in x (y has twice as many),
/// and <see cref="SolSettings.TrainScenes"/> / <see cref="SolSettings.TestScenes"/> are ignored: one
/// scene per Reynolds number.
/// </summary>
/// <param name="TrainReynolds">Reynolds numbers of the training simulations.</param>
/// <param name="TestReynolds">Held-out Reynolds numbers (the book reports Re 73.2).</param>
/// <param name="Warmup">Reference time units simulated before the recorded window, so that vortex shedding has started.</param>
public sealed record SolWakeSettings(double[] TrainReynolds, double[] TestReynolds, int Warmup = 200)
{
    /// <summary>The defaults: five training Re log-spaced over 50-800, two held out (73.2 as in the book, and 300); 200 time units of warm-up.</summary>
    public static SolWakeSettings Default { get; } = new([50, 100, 200, 400, 800], [73.2, 300]);

    /// <summary>Checks ranges; a bad value is a usage error naming the option.</summary>
    public void Validate()
    {
        if (TrainReynolds.Length < 1 || TestReynolds.Length < 1) throw new UsageException("--train-re and --test-re need at least one Reynolds number each");
        if (TrainReynolds.Concat(TestReynolds).Any(r => !(r > 0) || double.IsInfinity(r))) throw new UsageException("--train-re and --test-re must be positive numbers");
        if (Warmup < 0) throw new UsageException($"--warmup must be at least 0 (got {Warmup})");
    }
}

/// <summary>
/// Test error of one variant: mean relative error over the rollout, and at a few steps. The figures
/// Sol.Run returns are means over the seeds.
/// </summary>
public sealed record SolEvaluation(string Variant, double MeanRelativeError, double[] ErrorAtSteps)
{
    /// <summary>Mean relative error per held-out scene (in test order).</summary>
    public double[] PerScene { get; init; } = [];

    /// <summary>Mean relative error per seed (one value for NON, which has no weights).</summary>
    public double[] PerSeed { get; init; } = [];

    /// <summary>Lower end of the 95 % bootstrap interval over seeds and held-out scenes.</summary>
    public double Low { get; init; }

    /// <summary>Upper end of the 95 % bootstrap interval.</summary>
    public double High { get; init; }

    /// <summary>Training wall time per seed (evaluation excluded), mean over the seeds.</summary>
    public double TrainingSeconds { get; init; }

    /// <summary>Training CPU time per seed (all threads; evaluation excluded), mean over the seeds.</summary>
    public double TrainingCpuSeconds { get; init; }
}

/// <summary>Full solver gradients against stopped ones at the same k: paired error ratio with its interval, and the training wall- and CPU-time ratios.</summary>
public sealed record SolRatio(string Full, string Stopped, Interval Error, double TimeRatio, double CpuTimeRatio);

/// <summary>
/// sol: learned corrections for a coarse solver. The reference is this project's own solver on a
/// grid <c>Factor</c> times finer (and a smaller time step), averaged down to the source grid. A
/// ResNet-like network corrects the source solver after each step; it is trained on precomputed
/// one-step pairs (PRE, no solver interaction) or with k solver steps unrolled in the loop (SOL-k,
/// gradients through the solver step's pullback, lifted into a tape op; SOL-k-stop, the same unrolled
/// corrections with the gradient stopped at each solver step's input), and compared with the source
/// solver alone (NON) on held-out scenes. With several seeds every variant is trained once per seed,
/// paired: seed s gives every variant the same initial weights and the same batch order. Two scenes share this loop: the paper's forced 2D Burgers
/// (held-out forcings) and the book's wake flow behind a disc (held-out Reynolds numbers).
/// </summary>
public static class Sol
{
    /// <summary>
    /// The trained variants in order: PRE, SOL-k with full solver gradients, and SOL-k with the gradient
    /// stopped at each solver step's input (<c>-stop</c>: the corrections are still unrolled through k
    /// steps and the network sees the states its earlier corrections produced, but no gradient flows
    /// through the solver from one step to the one before). SOL-1 has nothing to stop.
    /// </summary>
    public static IReadOnlyList<(string Name, int K, bool Stop)> Variants { get; } =
        [("PRE", 0, false), ("SOL-1", 1, false), ("SOL-4", 4, false), ("SOL-4-stop", 4, true), ("SOL-16", 16, false), ("SOL-16-stop", 16, true)];

    /// <summary>
    /// Runs every variant for every seed and writes the outputs; <paramref name="wake"/> selects the
    /// wake-flow scene (null: Burgers). Returns one evaluation per variant (NON first), averaged over
    /// the seeds, with its bootstrap interval.
    /// </summary>
    public static IReadOnlyList<SolEvaluation> Run(SolSettings s, RunOutput output, string? resumeFrom, IProgressReporter progress, TextWriter log, CancellationToken ct, SolWakeSettings? wake = null)
    {
        s.Validate();
        wake?.Validate();
        var sw = Stopwatch.StartNew();
        SolScene scene = wake == null ? new BurgersSolScene(s, ct) : new WakeSolScene(s, wake, ct);
        var train = scene.Train;
        var step = scene.Step;
        string key = scene.SettingsKey(s);

        var non = Evaluate("NON", null, scene, s);
        var variants = Variants;
        int jobs = s.Seeds * variants.Count;
        // Job j trains variant j % V with seed index j / V; progress position = j * Iterations + iteration.
        var done = new List<(SolEvaluation Eval, double Seconds, double Cpu)>();
        var rows = new List<double[]>();
        int resumeAt = 0;
        double resumedSeconds = 0, resumedCpu = 0;
        Checkpoints.State? cp = null;
        if (resumeFrom != null)
        {
            cp = Checkpoints.Load(resumeFrom, key, jobs * s.Iterations);
            (resumeAt, rows) = (cp.NextIteration, cp.MetricRows);
            for (int j = 0; j < resumeAt / s.Iterations; j++)
            {
                string tag = JobTag(j, variants);
                var e = cp.Vector("eval." + tag, 1 + Marks(s.Steps).Length);
                var time = cp.Vector("time." + tag, 2);
                done.Add((new SolEvaluation(variants[j % variants.Count].Name, e[0], e[1..]) { PerScene = cp.Vector("evalscene." + tag, scene.Test.Count) }, time[0], time[1]));
            }
            var current = cp.Vector("time.current", 2);
            (resumedSeconds, resumedCpu) = (current[0], current[1]);
        }
        output.BeginMetrics("seed,variant,iteration,loss");
        string Row(double[] r) => FormattableString.Invariant($"{s.Seed + (int)r[0]},{variants[(int)r[1]].Name},{r[2]},{r[3]:R}");
        foreach (var r in rows) output.AddMetricsRow(Row(r));
        Dictionary<string, double[]> Evaluations(TrainingClock clock)
        {
            var d = new Dictionary<string, double[]> { ["time.current"] = [clock.WallSeconds, clock.CpuSeconds] };
            for (int j = 0; j < done.Count; j++)
            {
                string tag = JobTag(j, variants);
                d["eval." + tag] = new[] { done[j].Eval.MeanRelativeError }.Concat(done[j].Eval.ErrorAtSteps).ToArray();
                d["evalscene." + tag] = done[j].Eval.PerScene;
                d["time." + tag] = [done[j].Seconds, done[j].Cpu];
            }
            return d;
        }
        for (int job = resumeAt / s.Iterations; job < jobs; job++)
        {
            int seed = s.Seed + job / variants.Count, vi = job % variants.Count;
            var (name, k, stop) = variants[vi];
            Init.Seed(seed);
            var net = scene.Network();
            var opt = new Adam(net.Parameters(), s.LearningRate);
            var batchRng = new Random(seed + 1);
            int first = 0;
            double seconds = 0, cpu = 0;
            if (cp != null && job == resumeAt / s.Iterations && resumeAt % s.Iterations > 0)
            {
                first = resumeAt % s.Iterations;
                (seconds, cpu) = (resumedSeconds, resumedCpu);
                Checkpoints.LoadModel(resumeFrom!, cp, "corrector", net, opt);
                for (int it = 0; it < first; it++)
                    for (int d = 0; d < s.Batch + 1; d++) batchRng.Next(d < s.Batch ? train.Count : k == 0 ? s.Steps : s.Steps - k + 1); // replay the batch draws
            }
            var clock = new TrainingClock(seconds, cpu);
            for (int it = first; it < s.Iterations; it++)
            {
                if (ct.IsCancellationRequested)
                {
                    Checkpoints.Save(output, key, job * s.Iterations + it, Evaluations(clock), rows, [("corrector", net, opt)]);
                    output.FlushMetrics();
                    // The wake scene's options are part of the checkpoint's key, so the hint asks for them again.
                    throw new OperationCanceledException($"stopped at {name} (seed {seed}) iteration {it}; resume with --resume {output.Directory}" + (wake == null ? "" : " --scene wake and the same options"));
                }
                opt.ZeroGrad();
                var scenes = Enumerable.Range(0, s.Batch).Select(_ => train[batchRng.Next(train.Count)]).ToList();
                var control = Pack(scenes.Select(sc => sc.Control));
                Tensor loss;
                if (k == 0)
                {
                    // PRE: one step from the reference, correction target precomputed, no solver in the loop.
                    int t = batchRng.Next(s.Steps);
                    var stepped = Pack(scenes.Select(sc => scene.SourceStep(sc.Reference[t], sc.Control)));
                    var wanted = Pack(scenes.Select(sc => sc.Reference[t + 1]));
                    loss = Losses.Mse(stepped + scene.Correct(net, stepped, control), wanted);
                }
                else
                {
                    int t0 = batchRng.Next(s.Steps - k + 1);
                    var state = Pack(scenes.Select(sc => sc.Reference[t0]));
                    Tensor? total = null;
                    for (int i = 1; i <= k; i++)
                    {
                        // Stopped: the solver step sees a detached state, so it records nothing and
                        // the loss at step i reaches only the correction made after step i.
                        var stepped = step(stop ? state.Detach() : state, control);
                        state = stepped + scene.Correct(net, stepped, control);
                        var l = Losses.Mse(state, Pack(scenes.Select(sc => sc.Reference[t0 + i])));
                        total = total == null ? l : total + l;
                    }
                    loss = total! * (1f / k);
                }
                loss.Backward();
                NonFinite.Check(output, it, loss.Item(), Gradients.ClipNorm(net.Parameters(), 1.0), s.LearningRate, s.Seeds > 1 ? FormattableString.Invariant($"{name} (seed {seed})") : name);
                opt.Step();
                rows.Add([job / variants.Count, vi, it, loss.Item()]);
                output.AddMetricsRow(Row(rows[^1]));
                progress.Report(job * s.Iterations + it, jobs * s.Iterations, loss.Item());
                if ((it + 1) % s.CheckpointEvery == 0 && it + 1 < s.Iterations)
                {
                    Checkpoints.Save(output, key, job * s.Iterations + it + 1, Evaluations(clock), rows, [("corrector", net, opt)]);
                    output.FlushMetrics();
                }
            }
            clock.Pause();
            done.Add((Evaluate(name, net, scene, s), clock.WallSeconds, clock.CpuSeconds));
            net.Save(output.PathOf(ModelFile(name, seed, s)), new Dictionary<string, string>
            {
                ["experiment"] = "sol",
                ["variant"] = name,
                ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            });
            Checkpoints.Save(output, key, (job + 1) * s.Iterations, Evaluations(clock), rows); // the job is done: a resume starts at the next
        }
        output.FlushMetrics();

        // Per variant: the seeds' evaluations, averaged, with the bootstrap interval over seeds and held-out scenes.
        var nonInterval = PairedStats.Mean([non.PerScene]);
        var results = new List<SolEvaluation> { non with { Low = nonInterval.Low, High = nonInterval.High, PerSeed = [non.MeanRelativeError] } };
        var perSceneBySeed = new Dictionary<string, double[][]>();
        for (int vi = 0; vi < variants.Count; vi++)
        {
            var runs = Enumerable.Range(0, s.Seeds).Select(k => done[k * variants.Count + vi]).ToList();
            var matrix = runs.Select(r => r.Eval.PerScene).ToArray();
            perSceneBySeed[variants[vi].Name] = matrix;
            var interval = PairedStats.Mean(matrix);
            int markCount = runs[0].Eval.ErrorAtSteps.Length;
            results.Add(new SolEvaluation(variants[vi].Name, runs.Average(r => r.Eval.MeanRelativeError),
                Enumerable.Range(0, markCount).Select(m => runs.Average(r => r.Eval.ErrorAtSteps[m])).ToArray())
            {
                PerScene = Enumerable.Range(0, matrix[0].Length).Select(c => matrix.Average(row => row[c])).ToArray(),
                PerSeed = runs.Select(r => r.Eval.MeanRelativeError).ToArray(),
                Low = interval.Low,
                High = interval.High,
                TrainingSeconds = runs.Average(r => r.Seconds),
                TrainingCpuSeconds = runs.Average(r => r.Cpu),
            });
        }
        var ratios = variants.Where(v => v.Stop).Select(v =>
        {
            string full = $"SOL-{v.K}";
            var r = PairedStats.Ratio(perSceneBySeed[full], perSceneBySeed[v.Name]);
            var (f, st) = (results.Single(e => e.Variant == full), results.Single(e => e.Variant == v.Name));
            return new SolRatio(full, v.Name, r, f.TrainingSeconds / st.TrainingSeconds, f.TrainingCpuSeconds / st.TrainingCpuSeconds);
        }).ToList();

        // Pictures: held-out scene 0 at the last step, source vs corrected (SOL-16, first seed) vs reference.
        var pictured = scene.Test[0];
        var nonFinal = RolloutFinal(null, scene, pictured, s);
        var solNet = scene.Network();
        solNet.Load(output.PathOf(ModelFile("SOL-16", s.Seed, s)));
        var solFinal = RolloutFinal(solNet, scene, pictured, s);
        scene.WritePictures(output, nonFinal, solFinal, pictured.Reference[s.Steps], s.Steps);
        output.WriteLossCurve("loss.png", Enumerable.Range(0, results.Count).Select(i => results[i].MeanRelativeError).ToList(), scene.LossCurveTitle);
        PairedStats.WritePlot(output, "errors.png",
            FormattableString.Invariant($"sol{(wake == null ? "" : " (wake)")}: held-out mean relative error, {s.Seeds} seed(s), 95 % bootstrap intervals"),
            "mean relative error", results.Select(r => (r.Variant, new Interval(r.MeanRelativeError, r.Low, r.High))).ToList());
        PairedStats.WritePlot(output, "ratios.png",
            FormattableString.Invariant($"sol{(wake == null ? "" : " (wake)")}: held-out error, full / stopped solver gradients (paired, 95 % intervals)"),
            "error ratio full / stopped", ratios.Select(r => ($"{r.Full} / {r.Stopped}", r.Error)).ToList(), logScale: false, referenceLine: 1);
        sw.Stop();
        var sol16 = results.Single(r => r.Variant == "SOL-16");
        double reduction = results[0].MeanRelativeError / sol16.MeanRelativeError;
        var seeds = Enumerable.Range(s.Seed, s.Seeds).ToArray();
        // One entry per variant; the wake scene adds its per-Re errors.
        Dictionary<string, object> Test(SolEvaluation r)
        {
            var d = new Dictionary<string, object>
            {
                ["variant"] = r.Variant,
                ["mean_relative_error"] = r.MeanRelativeError,
                ["ci95"] = new[] { r.Low, r.High },
                ["per_seed"] = r.PerSeed,
                ["error_at_steps"] = r.ErrorAtSteps,
                ["training_seconds_per_seed"] = r.TrainingSeconds,
                ["training_cpu_seconds_per_seed"] = r.TrainingCpuSeconds,
            };
            if (wake != null)
                d["mean_relative_error_by_reynolds"] = wake.TestReynolds.Zip(r.PerScene, (re, e) => new { reynolds = re, mean_relative_error = e }).ToArray();
            return d;
        }
        var pairs = ratios.Select(r => new { full = r.Full, stopped = r.Stopped, error_ratio_full_over_stopped = r.Error.Value, ci95 = new[] { r.Error.Low, r.Error.High }, time_ratio_full_over_stopped = r.TimeRatio, cpu_time_ratio_full_over_stopped = r.CpuTimeRatio });
        var replication = new { source = "pasteurlabs/mosaic (NVIDIA Warp), 64x64/192x192, horizon 8, 3000 updates, 5 seeds", full = 0.01166, stopped = 0.01187, supervised = 0.01427, plain = 0.02776, stopped_over_full = 1.018, stopped_over_full_ci95 = new[] { 0.995, 1.042 }, time_ratio_full_over_supervised = 1.51 };
        if (wake == null)
        {
            output.Complete(new
            {
                experiment = "sol",
                settings = s,
                seed = s.Seed,
                seeds,
                test = results.Select(Test),
                paired_ratios = pairs,
                error_reduction_sol16_vs_non = reduction,
                replication,
                seconds = sw.Elapsed.TotalSeconds,
            });
        }
        else
        {
            output.Complete(new
            {
                experiment = "sol",
                scene = "wake",
                settings = s,
                wake = new { train_reynolds = wake.TrainReynolds, test_reynolds = wake.TestReynolds, warmup = wake.Warmup },
                source_grid = new[] { s.Source, 2 * s.Source },
                reference_grid = new[] { s.Source * s.Factor, 2 * s.Source * s.Factor },
                network_parameters = scene.Network().ParameterCount,
                seed = s.Seed,
                seeds,
                test = results.Select(Test),
                paired_ratios = pairs,
                error_reduction_sol16_vs_non = reduction,
                book = new { reynolds = 73.2, steps = 100, non = 0.109, sol = 0.031 },
                replication,
                seconds = sw.Elapsed.TotalSeconds,
            });
        }

        int[] marks = Marks(s.Steps);
        log.WriteLine();
        log.WriteLine(FormattableString.Invariant($"  held-out error over {s.Seeds} seed(s) ({string.Join(",", seeds)}), 95 % bootstrap interval over seeds and held-out scenes"));
        log.WriteLine("  variant       mean rel. error   95 % interval        " + string.Join("   ", marks.Select(m => $"step {m,3}")) + "   train s/seed (CPU s)");
        foreach (var r in results)
            log.WriteLine(FormattableString.Invariant($"  {r.Variant,-12}  {r.MeanRelativeError,15:F4}   [{r.Low:F4}, {r.High:F4}]   ")
                + string.Join("   ", r.ErrorAtSteps.Select(e => e.ToString("F4", CultureInfo.InvariantCulture).PadLeft(8)))
                + (r.Variant == "NON" ? "" : FormattableString.Invariant($"   {r.TrainingSeconds,12:F1} ({r.TrainingCpuSeconds:F1})")));
        foreach (var r in ratios)
            log.WriteLine(FormattableString.Invariant($"  {r.Full} / {r.Stopped}: error {r.Error.Value:F3} [{r.Error.Low:F3}, {r.Error.High:F3}], training time {r.TimeRatio:F2}x (CPU {r.CpuTimeRatio:F2}x)"));
        log.WriteLine("  (replication, Mosaic/Warp: full 0.01166, stopped 0.01187, supervised 0.01427, plain 0.02776; full / stopped 0.982 [0.960, 1.005]; 1.51x the time)");
        if (wake != null)
        {
            log.WriteLine("  per held-out Re: " + string.Join("   ", wake.TestReynolds.Select((re, i) =>
                FormattableString.Invariant($"Re {re}: NON {results[0].PerScene[i]:F4}, SOL-16 {sol16.PerScene[i]:F4}"))));
            log.WriteLine("  (book: Re 73.2 over 100 steps, NON 0.109 vs SOL 0.031)");
        }
        log.WriteLine(FormattableString.Invariant($"  error reduction NON / SOL-16: {reduction:F2}x   (book: typically 2.5x-6x)"));
        log.WriteLine(FormattableString.Invariant($"  ({sw.Elapsed.TotalSeconds:F1} s)   outputs: {output.Directory}"));
        return results;
    }

    /// <summary>The checkpoint tag of job <paramref name="job"/>: seed index and variant.</summary>
    private static string JobTag(int job, IReadOnlyList<(string Name, int K, bool Stop)> variants) =>
        FormattableString.Invariant($"{job / variants.Count}.{variants[job % variants.Count].Name}");

    /// <summary>A trained network's file: the first seed keeps the plain name (sol-16.safetensors), later seeds add theirs.</summary>
    private static string ModelFile(string variant, int seed, SolSettings s) =>
        variant.ToLowerInvariant() + (seed == s.Seed ? "" : FormattableString.Invariant($".seed{seed}")) + ".safetensors";

    private static int[] Marks(int steps) => [steps / 4, steps / 2, steps];

    /// <summary>Packs rows (one per batch item) into a float tensor [B, length].</summary>
    internal static Tensor Pack(IEnumerable<double[]> rows)
    {
        var list = rows.ToList();
        var flat = new float[list.Count * list[0].Length];
        for (int b = 0; b < list.Count; b++)
            for (int i = 0; i < list[b].Length; i++) flat[b * list[b].Length + i] = (float)list[b][i];
        return Tensor.FromArray(flat, list.Count, list[0].Length);
    }

    /// <summary>One corrected source step outside the tape (evaluation and pictures).</summary>
    private static double[] CorrectedStep(Module? net, SolScene scene, double[] state, double[] control)
    {
        state = scene.SourceStep(state, control);
        if (net != null)
        {
            var c = scene.Correct(net, Pack([state]), Pack([control])).ToArray();
            for (int i = 0; i < state.Length; i++) state[i] += c[i];
        }
        return state;
    }

    private static double[] RolloutFinal(Module? net, SolScene scene, SolCase c, SolSettings s)
    {
        using var _ = Autograd.NoGrad();
        var state = c.Reference[0];
        for (int t = 0; t < s.Steps; t++) state = CorrectedStep(net, scene, state, c.Control);
        return state;
    }

    private static SolEvaluation Evaluate(string name, Module? net, SolScene scene, SolSettings s)
    {
        using var _ = Autograd.NoGrad();
        var scenes = scene.Test;
        var perStep = new double[s.Steps + 1];
        var perScene = new double[scenes.Count];
        for (int c = 0; c < scenes.Count; c++)
        {
            var sc = scenes[c];
            var state = sc.Reference[0];
            for (int t = 1; t <= s.Steps; t++)
            {
                state = CorrectedStep(net, scene, state, sc.Control);
                double err = 0, norm = 0;
                for (int i = 0; i < state.Length; i++) { double d = state[i] - sc.Reference[t][i]; err += d * d; norm += sc.Reference[t][i] * sc.Reference[t][i]; }
                double rel = Math.Sqrt(err / Math.Max(norm, 1e-30));
                perStep[t] += rel / scenes.Count;
                perScene[c] += rel / s.Steps;
            }
        }
        double mean = perStep.Skip(1).Average();
        return new SolEvaluation(name, mean, Marks(s.Steps).Select(m => perStep[m]).ToArray()) { PerScene = perScene };
    }
}
