using System.Diagnostics;
using System.Globalization;
using DiffGen.NN;
using DiffGen.NN.Optim;
using DiffGen.Physics;
using DiffGen.Tensors;
using DiffGen.Trainers.Common;

namespace DiffGen.Trainers.Experiments;

/// <summary>Settings of sol (EXPERIMENTS.md §3, the paper's forced 2D Burgers variant, scaled down by default).</summary>
public sealed record SolSettings(int Iterations = 150, double LearningRate = 1e-3, int TrainScenes = 6, int TestScenes = 2, int Steps = 40, int Source = 32, int Factor = 4, int Batch = 3, int Seed = 0, int CheckpointEvery = 50)
{
    /// <summary>Checks ranges; a bad value is a usage error naming the option.</summary>
    public void Validate()
    {
        if (Iterations < 1) throw new UsageException($"--iterations must be at least 1 (got {Iterations})");
        if (!(LearningRate > 0)) throw new UsageException($"--lr must be a positive number (got {LearningRate})");
        if (TrainScenes < 1 || TestScenes < 1) throw new UsageException($"--train-scenes and --test-scenes must be at least 1 (got {TrainScenes}, {TestScenes})");
        if (Steps < 17) throw new UsageException($"--steps must be at least 17 so SOL-16 fits (got {Steps})");
        if (Source < 8) throw new UsageException($"--source must be at least 8 cells (got {Source})");
        if (Factor < 2) throw new UsageException($"--factor must be at least 2 (got {Factor})");
        if (Batch < 1) throw new UsageException($"--batch must be at least 1 (got {Batch})");
        if (CheckpointEvery < 1) throw new UsageException($"--checkpoint-every must be at least 1 (got {CheckpointEvery})");
    }
}

/// <summary>Test error of one variant: mean relative error over the rollout, and at a few steps.</summary>
public sealed record SolEvaluation(string Variant, double MeanRelativeError, double[] ErrorAtSteps);

/// <summary>
/// sol: learned corrections for a coarse solver. The reference is this project's own solver on a
/// grid <c>Factor</c> times finer (and a smaller time step), averaged down to the source grid. A
/// ResNet-like network corrects the source solver after each step; it is trained on precomputed
/// one-step pairs (PRE, no solver interaction) or with k solver steps unrolled in the loop (SOL-k,
/// gradients through the generated pullback of the 2D Burgers step), and compared with the source
/// solver alone (NON) on held-out forcings.
/// </summary>
public static class Sol
{
    /// <summary>Runs every variant and writes the outputs.</summary>
    public static IReadOnlyList<SolEvaluation> Run(SolSettings s, RunOutput output, string? resumeFrom, IProgressReporter progress, TextWriter log, CancellationToken ct)
    {
        s.Validate();
        var sw = Stopwatch.StartNew();
        int n = s.Source, nf = s.Source * s.Factor;
        var coarse = new Burgers2D(n, n, 32, 32, viscosity: 0.1, dt: 0.1);
        var fine = new Burgers2D(nf, nf, 32, 32, viscosity: 0.1, dt: 0.1 / s.Factor);
        var rng = new Random(s.Seed);
        var train = Enumerable.Range(0, s.TrainScenes).Select(_ => MakeScene(coarse, fine, s, rng)).ToList();
        var test = Enumerable.Range(0, s.TestScenes).Select(_ => MakeScene(coarse, fine, s, rng)).ToList();
        var step = Lift.Op(coarse.StepPacked, coarse.StepPackedBackward, name: "Burgers2DStep");

        var results = new List<SolEvaluation> { Evaluate("NON", null, coarse, test, s) };
        var variants = new (string Name, int K)[] { ("PRE", 0), ("SOL-1", 1), ("SOL-4", 4), ("SOL-16", 16) };
        // Progress is counted over all variants: position = variant * Iterations + iteration.
        var rows = new List<double[]>();
        int resumeAt = 0;
        Checkpoints.State? cp = null;
        if (resumeFrom != null)
        {
            cp = Checkpoints.Load(resumeFrom, SettingsKey(s));
            (resumeAt, rows) = (cp.NextIteration, cp.MetricRows);
            foreach (var v in variants.Take(resumeAt / s.Iterations))
                results.Add(new SolEvaluation(v.Name, cp.Tensors["eval." + v.Name][0], cp.Tensors["eval." + v.Name][1..]));
        }
        output.BeginMetrics("variant,iteration,loss");
        string Row(double[] r) => FormattableString.Invariant($"{variants[(int)r[0]].Name},{r[1]},{r[2]:R}");
        foreach (var r in rows) output.AddMetricsRow(Row(r));
        Dictionary<string, double[]> Evaluations() => results.Skip(1).ToDictionary(r => "eval." + r.Variant, r => new[] { r.MeanRelativeError }.Concat(r.ErrorAtSteps).ToArray());
        for (int vi = resumeAt / s.Iterations; vi < variants.Length; vi++)
        {
            var (name, k) = variants[vi];
            Init.Seed(s.Seed);
            var net = Network();
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
                    Checkpoints.Save(output, SettingsKey(s), vi * s.Iterations + it, Evaluations(), rows, [("corrector", net, opt)]);
                    output.FlushMetrics();
                    throw new OperationCanceledException($"stopped at {name} iteration {it}; resume with --resume {output.Directory}");
                }
                opt.ZeroGrad();
                var scenes = Enumerable.Range(0, s.Batch).Select(_ => train[batchRng.Next(train.Count)]).ToList();
                Tensor loss;
                if (k == 0)
                {
                    // PRE: one step from the reference, correction target precomputed, no solver in the loop.
                    int t = batchRng.Next(s.Steps);
                    var stepped = Pack(scenes.Select(sc => SourceStep(coarse, sc.Reference[t], sc.Force)));
                    var wanted = Pack(scenes.Select(sc => sc.Reference[t + 1]));
                    loss = Losses.Mse(stepped + Correct(net, stepped, n), wanted);
                }
                else
                {
                    int t0 = batchRng.Next(s.Steps - k + 1);
                    var state = Pack(scenes.Select(sc => sc.Reference[t0]));
                    var force = Pack(scenes.Select(sc => sc.Force));
                    Tensor? total = null;
                    for (int i = 1; i <= k; i++)
                    {
                        var stepped = step(state, force);
                        state = stepped + Correct(net, stepped, n);
                        var l = Losses.Mse(state, Pack(scenes.Select(sc => sc.Reference[t0 + i])));
                        total = total == null ? l : total + l;
                    }
                    loss = total! * (1f / k);
                }
                loss.Backward();
                Gradients.ClipNorm(net.Parameters(), 1.0);
                opt.Step();
                rows.Add([vi, it, loss.Item()]);
                output.AddMetricsRow(Row(rows[^1]));
                progress.Report(vi * s.Iterations + it, variants.Length * s.Iterations, loss.Item());
                if ((it + 1) % s.CheckpointEvery == 0 && it + 1 < s.Iterations)
                {
                    Checkpoints.Save(output, SettingsKey(s), vi * s.Iterations + it + 1, Evaluations(), rows, [("corrector", net, opt)]);
                    output.FlushMetrics();
                }
            }
            results.Add(Evaluate(name, net, coarse, test, s));
            net.Save(output.PathOf($"{name.ToLowerInvariant()}.safetensors"), new Dictionary<string, string> { ["experiment"] = "sol", ["variant"] = name });
        }
        output.FlushMetrics();
        Checkpoints.Clear(output);

        // Pictures: held-out scene 0 at the last step, source vs corrected (SOL-16) vs reference (u component).
        var scene = test[0];
        var non = RolloutFinal(null, coarse, scene, s);
        var solNet = Network();
        solNet.Load(output.PathOf("sol-16.safetensors"));
        var sol = RolloutFinal(solNet, coarse, scene, s);
        FieldImage.WriteScalar(output.PathOf("source.png"), non.AsSpan(0, n * n), n, n, $"source solver (NON), u at step {s.Steps}", colormap: "balance");
        FieldImage.WriteScalar(output.PathOf("corrected.png"), sol.AsSpan(0, n * n), n, n, $"SOL-16 corrected, u at step {s.Steps}", colormap: "balance");
        FieldImage.WriteScalar(output.PathOf("reference.png"), scene.Reference[s.Steps].AsSpan(0, n * n), n, n, $"reference ({nf}² averaged), u at step {s.Steps}", colormap: "balance");
        output.WriteLossCurve("loss.png", Enumerable.Range(0, results.Count).Select(i => results[i].MeanRelativeError).ToList(), "sol: mean relative test error per variant (NON, PRE, SOL-1, SOL-4, SOL-16)");
        sw.Stop();
        output.WriteSummary(new
        {
            experiment = "sol",
            settings = s,
            seed = s.Seed,
            test = results.Select(r => new { variant = r.Variant, mean_relative_error = r.MeanRelativeError, error_at_steps = r.ErrorAtSteps }),
            error_reduction_sol16_vs_non = results[0].MeanRelativeError / results[^1].MeanRelativeError,
            seconds = sw.Elapsed.TotalSeconds,
        });

        int[] marks = Marks(s.Steps);
        log.WriteLine();
        log.WriteLine("  variant   mean rel. error   " + string.Join("   ", marks.Select(m => $"step {m,3}")));
        foreach (var r in results)
            log.WriteLine(FormattableString.Invariant($"  {r.Variant,-8}  {r.MeanRelativeError,15:F4}   ") + string.Join("   ", r.ErrorAtSteps.Select(e => e.ToString("F4", CultureInfo.InvariantCulture).PadLeft(8))));
        log.WriteLine(FormattableString.Invariant($"  error reduction NON / SOL-16: {results[0].MeanRelativeError / results[^1].MeanRelativeError:F2}x   (book: typically 2.5x-6x)"));
        log.WriteLine(FormattableString.Invariant($"  ({sw.Elapsed.TotalSeconds:F1} s)   outputs: {output.Directory}"));
        return results;
    }

    private static int[] Marks(int steps) => [steps / 4, steps / 2, steps];

    private static string SettingsKey(SolSettings s) =>
        FormattableString.Invariant($"it={s.Iterations};lr={s.LearningRate:R};scenes={s.TrainScenes}/{s.TestScenes};steps={s.Steps};source={s.Source};factor={s.Factor};batch={s.Batch};seed={s.Seed}");

    /// <summary>A forcing, its reference trajectory on the source grid, and the initial state.</summary>
    private sealed record Scene(double[] Force, double[][] Reference);

    private static Scene MakeScene(Burgers2D coarse, Burgers2D fine, SolSettings s, Random rng)
    {
        int nf = fine.Nx, n = coarse.Nx;
        // A random sinusoidal forcing (sum of 4 modes per component), and a smooth random initial state.
        double[] Field(int cells, double amp, int modes)
        {
            var f = new double[cells * cells];
            for (int m = 0; m < modes; m++)
            {
                int kx = rng.Next(1, 4), ky = rng.Next(1, 4);
                double a = amp * (2 * rng.NextDouble() - 1), ph = 2 * Math.PI * rng.NextDouble();
                for (int j = 0; j < cells; j++)
                    for (int i = 0; i < cells; i++)
                        f[j * cells + i] += a * Math.Sin(2 * Math.PI * (kx * (i + 0.5) + ky * (j + 0.5)) / cells + ph);
            }
            return f;
        }
        var fu = Field(nf, 0.1, 4); var fv = Field(nf, 0.1, 4);
        var u = Field(nf, 1.0, 3); var v = Field(nf, 1.0, 3);
        var un = new double[u.Length]; var vn = new double[v.Length];
        var reference = new double[s.Steps + 1][];
        reference[0] = Down(u, v, n, s.Factor);
        for (int t = 1; t <= s.Steps; t++)
        {
            for (int k = 0; k < s.Factor; k++)
            {
                fine.Step(u, v, fu, fv, un, vn);
                (u, un) = (un, u);
                (v, vn) = (vn, v);
            }
            reference[t] = Down(u, v, n, s.Factor);
        }
        return new Scene(Down(fu, fv, n, s.Factor), reference);
    }

    /// <summary>Averages a fine (u, v) down to the source grid and packs it [u; v].</summary>
    private static double[] Down(double[] u, double[] v, int n, int factor)
    {
        var packed = new double[2 * n * n];
        Interpolation.Downsample2D(u, packed.AsSpan(0, n * n), n, n, factor);
        Interpolation.Downsample2D(v, packed.AsSpan(n * n, n * n), n, n, factor);
        return packed;
    }

    private static double[] SourceStep(Burgers2D coarse, double[] state, double[] force)
    {
        var next = new double[state.Length];
        coarse.StepPacked(state, force, next);
        return next;
    }

    private static Sequential Network()
    {
        var last = new Conv2d(16, 2, 3, mode: PaddingMode.Periodic);
        // A zero correction at the start: training begins from the source solver's accuracy.
        last.Weight.Data.Clear();
        last.Bias!.Data.Clear();
        return new(new Conv2d(2, 16, 3, mode: PaddingMode.Periodic), new ReLU(),
            new ResBlock(16, 3, PaddingMode.Periodic), new ResBlock(16, 3, PaddingMode.Periodic), last);
    }

    /// <summary>The network's correction of packed states [B, 2n²].</summary>
    private static Tensor Correct(Module net, Tensor packed, int n)
    {
        int b = packed.Shape[0];
        return net.Forward(packed.Reshape(b, 2, n, n)).Reshape(b, 2 * n * n);
    }

    private static Tensor Pack(IEnumerable<double[]> rows)
    {
        var list = rows.ToList();
        var flat = new float[list.Count * list[0].Length];
        for (int b = 0; b < list.Count; b++)
            for (int i = 0; i < list[b].Length; i++) flat[b * list[b].Length + i] = (float)list[b][i];
        return Tensor.FromArray(flat, list.Count, list[0].Length);
    }

    private static double[] RolloutFinal(Module? net, Burgers2D coarse, Scene scene, SolSettings s)
    {
        using var _ = Autograd.NoGrad();
        var state = scene.Reference[0];
        for (int t = 0; t < s.Steps; t++)
        {
            state = SourceStep(coarse, state, scene.Force);
            if (net != null)
            {
                var c = Correct(net, Pack([state]), coarse.Nx).ToArray();
                for (int i = 0; i < state.Length; i++) state[i] += c[i];
            }
        }
        return state;
    }

    private static SolEvaluation Evaluate(string name, Module? net, Burgers2D coarse, IReadOnlyList<Scene> scenes, SolSettings s)
    {
        using var _ = Autograd.NoGrad();
        var perStep = new double[s.Steps + 1];
        foreach (var scene in scenes)
        {
            var state = scene.Reference[0];
            for (int t = 1; t <= s.Steps; t++)
            {
                state = SourceStep(coarse, state, scene.Force);
                if (net != null)
                {
                    var c = Correct(net, Pack([state]), coarse.Nx).ToArray();
                    for (int i = 0; i < state.Length; i++) state[i] += c[i];
                }
                double err = 0, norm = 0;
                for (int i = 0; i < state.Length; i++) { double d = state[i] - scene.Reference[t][i]; err += d * d; norm += scene.Reference[t][i] * scene.Reference[t][i]; }
                perStep[t] += Math.Sqrt(err / Math.Max(norm, 1e-30)) / scenes.Count;
            }
        }
        double mean = perStep.Skip(1).Average();
        return new SolEvaluation(name, mean, Marks(s.Steps).Select(m => perStep[m]).ToArray());
    }
}
