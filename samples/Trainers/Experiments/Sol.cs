using System.Diagnostics;
using System.Globalization;
using DiffGen.NN;
using DiffGen.NN.Optim;
using DiffGen.Tensors;
using DiffGen.Trainers.Common;

namespace DiffGen.Trainers.Experiments;

/// <summary>Settings of sol (EXPERIMENTS.md §3, the paper's forced 2D Burgers variant, scaled down by default).</summary>
public sealed record SolSettings(int Iterations = 600, double LearningRate = 1e-3, int TrainScenes = 20, int TestScenes = 4, int Steps = 40, int Source = 32, int Factor = 4, int Batch = 3, int Seed = 0, int CheckpointEvery = 50)
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

/// <summary>Test error of one variant: mean relative error over the rollout, and at a few steps.</summary>
public sealed record SolEvaluation(string Variant, double MeanRelativeError, double[] ErrorAtSteps)
{
    /// <summary>Mean relative error per held-out scene (in test order); empty when restored from a checkpoint of a scene that does not report it.</summary>
    public double[] PerScene { get; init; } = [];
}

/// <summary>
/// sol: learned corrections for a coarse solver. The reference is this project's own solver on a
/// grid <c>Factor</c> times finer (and a smaller time step), averaged down to the source grid. A
/// ResNet-like network corrects the source solver after each step; it is trained on precomputed
/// one-step pairs (PRE, no solver interaction) or with k solver steps unrolled in the loop (SOL-k,
/// gradients through the solver step's pullback, lifted into a tape op), and compared with the source
/// solver alone (NON) on held-out scenes. Two scenes share this loop: the paper's forced 2D Burgers
/// (held-out forcings) and the book's wake flow behind a disc (held-out Reynolds numbers).
/// </summary>
public static class Sol
{
    /// <summary>Runs every variant and writes the outputs; <paramref name="wake"/> selects the wake-flow scene (null: Burgers).</summary>
    public static IReadOnlyList<SolEvaluation> Run(SolSettings s, RunOutput output, string? resumeFrom, IProgressReporter progress, TextWriter log, CancellationToken ct, SolWakeSettings? wake = null)
    {
        s.Validate();
        wake?.Validate();
        var sw = Stopwatch.StartNew();
        SolScene scene = wake == null ? new BurgersSolScene(s, ct) : new WakeSolScene(s, wake, ct);
        var train = scene.Train;
        var test = scene.Test;
        var step = scene.Step;
        string key = scene.SettingsKey(s);

        var results = new List<SolEvaluation> { Evaluate("NON", null, scene, s) };
        var variants = new (string Name, int K)[] { ("PRE", 0), ("SOL-1", 1), ("SOL-4", 4), ("SOL-16", 16) };
        // Progress is counted over all variants: position = variant * Iterations + iteration.
        var rows = new List<double[]>();
        int resumeAt = 0;
        Checkpoints.State? cp = null;
        if (resumeFrom != null)
        {
            cp = Checkpoints.Load(resumeFrom, key, variants.Length * s.Iterations);
            (resumeAt, rows) = (cp.NextIteration, cp.MetricRows);
            foreach (var v in variants.Take(resumeAt / s.Iterations))
            {
                var eval = cp.Vector("eval." + v.Name, 1 + Marks(s.Steps).Length);
                results.Add(new SolEvaluation(v.Name, eval[0], eval[1..])
                {
                    PerScene = cp.Tensors.ContainsKey("evalscene." + v.Name) ? cp.Vector("evalscene." + v.Name, test.Count) : [],
                });
            }
        }
        output.BeginMetrics("variant,iteration,loss");
        string Row(double[] r) => FormattableString.Invariant($"{variants[(int)r[0]].Name},{r[1]},{r[2]:R}");
        foreach (var r in rows) output.AddMetricsRow(Row(r));
        Dictionary<string, double[]> Evaluations()
        {
            var d = results.Skip(1).ToDictionary(r => "eval." + r.Variant, r => new[] { r.MeanRelativeError }.Concat(r.ErrorAtSteps).ToArray());
            // Per-scene errors only where the scene reports them, so Burgers checkpoints keep their layout.
            if (scene.ReportsPerScene)
                foreach (var r in results.Skip(1)) d["evalscene." + r.Variant] = r.PerScene;
            return d;
        }
        for (int vi = resumeAt / s.Iterations; vi < variants.Length; vi++)
        {
            var (name, k) = variants[vi];
            Init.Seed(s.Seed);
            var net = scene.Network();
            var opt = new Adam(net.Parameters(), s.LearningRate);
            var batchRng = new Random(s.Seed + 1);
            int first = 0;
            if (cp != null && vi == resumeAt / s.Iterations && resumeAt % s.Iterations > 0)
            {
                first = resumeAt % s.Iterations;
                Checkpoints.LoadModel(resumeFrom!, cp, "corrector", net, opt);
                for (int it = 0; it < first; it++)
                    for (int d = 0; d < s.Batch + 1; d++) batchRng.Next(d < s.Batch ? train.Count : k == 0 ? s.Steps : s.Steps - k + 1); // replay the batch draws
            }
            for (int it = first; it < s.Iterations; it++)
            {
                if (ct.IsCancellationRequested)
                {
                    Checkpoints.Save(output, key, vi * s.Iterations + it, Evaluations(), rows, [("corrector", net, opt)]);
                    output.FlushMetrics();
                    // The wake scene's options are part of the checkpoint's key, so the hint asks for them again.
                    throw new OperationCanceledException($"stopped at {name} iteration {it}; resume with --resume {output.Directory}" + (wake == null ? "" : " --scene wake and the same options"));
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
                        var stepped = step(state, control);
                        state = stepped + scene.Correct(net, stepped, control);
                        var l = Losses.Mse(state, Pack(scenes.Select(sc => sc.Reference[t0 + i])));
                        total = total == null ? l : total + l;
                    }
                    loss = total! * (1f / k);
                }
                loss.Backward();
                NonFinite.Check(output, it, loss.Item(), Gradients.ClipNorm(net.Parameters(), 1.0), s.LearningRate, name);
                opt.Step();
                rows.Add([vi, it, loss.Item()]);
                output.AddMetricsRow(Row(rows[^1]));
                progress.Report(vi * s.Iterations + it, variants.Length * s.Iterations, loss.Item());
                if ((it + 1) % s.CheckpointEvery == 0 && it + 1 < s.Iterations)
                {
                    Checkpoints.Save(output, key, vi * s.Iterations + it + 1, Evaluations(), rows, [("corrector", net, opt)]);
                    output.FlushMetrics();
                }
            }
            results.Add(Evaluate(name, net, scene, s));
            net.Save(output.PathOf($"{name.ToLowerInvariant()}.safetensors"), new Dictionary<string, string> { ["experiment"] = "sol", ["variant"] = name });
            Checkpoints.Save(output, key, (vi + 1) * s.Iterations, Evaluations(), rows); // the variant is done: a resume starts at the next
        }
        output.FlushMetrics();

        // Pictures: held-out scene 0 at the last step, source vs corrected (SOL-16) vs reference.
        var pictured = test[0];
        var non = RolloutFinal(null, scene, pictured, s);
        var solNet = scene.Network();
        solNet.Load(output.PathOf("sol-16.safetensors"));
        var sol = RolloutFinal(solNet, scene, pictured, s);
        scene.WritePictures(output, non, sol, pictured.Reference[s.Steps], s.Steps);
        output.WriteLossCurve("loss.png", Enumerable.Range(0, results.Count).Select(i => results[i].MeanRelativeError).ToList(), scene.LossCurveTitle);
        sw.Stop();
        double reduction = results[0].MeanRelativeError / results[^1].MeanRelativeError;
        if (wake == null)
        {
            output.Complete(new
            {
                experiment = "sol",
                settings = s,
                seed = s.Seed,
                test = results.Select(r => new { variant = r.Variant, mean_relative_error = r.MeanRelativeError, error_at_steps = r.ErrorAtSteps }),
                error_reduction_sol16_vs_non = reduction,
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
                test = results.Select(r => new
                {
                    variant = r.Variant,
                    mean_relative_error = r.MeanRelativeError,
                    error_at_steps = r.ErrorAtSteps,
                    mean_relative_error_by_reynolds = wake.TestReynolds.Zip(r.PerScene, (re, e) => new { reynolds = re, mean_relative_error = e }),
                }),
                error_reduction_sol16_vs_non = reduction,
                book = new { reynolds = 73.2, steps = 100, non = 0.109, sol = 0.031 },
                seconds = sw.Elapsed.TotalSeconds,
            });
        }

        int[] marks = Marks(s.Steps);
        log.WriteLine();
        log.WriteLine("  variant   mean rel. error   " + string.Join("   ", marks.Select(m => $"step {m,3}")));
        foreach (var r in results)
            log.WriteLine(FormattableString.Invariant($"  {r.Variant,-8}  {r.MeanRelativeError,15:F4}   ") + string.Join("   ", r.ErrorAtSteps.Select(e => e.ToString("F4", CultureInfo.InvariantCulture).PadLeft(8))));
        if (wake != null)
        {
            log.WriteLine("  per held-out Re: " + string.Join("   ", wake.TestReynolds.Select((re, i) =>
                FormattableString.Invariant($"Re {re}: NON {results[0].PerScene[i]:F4}, SOL-16 {results[^1].PerScene[i]:F4}"))));
            log.WriteLine("  (book: Re 73.2 over 100 steps, NON 0.109 vs SOL 0.031)");
        }
        log.WriteLine(FormattableString.Invariant($"  error reduction NON / SOL-16: {reduction:F2}x   (book: typically 2.5x-6x)"));
        log.WriteLine(FormattableString.Invariant($"  ({sw.Elapsed.TotalSeconds:F1} s)   outputs: {output.Directory}"));
        return results;
    }

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
