using System.Diagnostics;
using System.Globalization;
using DiffGen;
using DiffGen.NN.IO;
using DiffGen.Physics;
using DiffGen.Plotting;
using DiffGen.Trainers.Common;

namespace DiffGen.Trainers.Experiments;

/// <summary>Settings of smoke-opt (EXPERIMENTS.md §2).</summary>
public sealed record SmokeOptSettings(int Iterations = 80, double LearningRate = 1e-3, int Steps = 20, int Nx = 32, int Ny = 40, int CheckpointEvery = 10, int Seed = 0)
{
    /// <summary>Checks ranges; a bad value is a usage error naming the option.</summary>
    public void Validate()
    {
        if (Iterations < 1) throw new UsageException($"--iterations must be at least 1 (got {Iterations})");
        OptionChecks.PositiveFinite("--lr", LearningRate);
        if (Steps < 1) throw new UsageException($"--steps must be at least 1 (got {Steps})");
        if (Nx < 20 || Ny < 12) throw new UsageException($"--nx/--ny must be at least 20x12 so the inflow discs fit (got {Nx}x{Ny})");
        if (CheckpointEvery < 1) throw new UsageException($"--checkpoint-every must be at least 1 (got {CheckpointEvery})");
    }
}

/// <summary>
/// smoke-opt: four smoke plumes rise from discs in a closed box; gradient descent on the initial
/// velocity fields of the first three makes their final smoke match the fourth plume's (a fixed
/// target). Every step is <c>DiffGen.Physics.Smoke2D</c>: MacCormack advection of smoke, buoyancy,
/// semi-Lagrangian self-advection, CG pressure projection whose derivative is the implicit adjoint.
/// </summary>
public static class SmokeOpt
{
    /// <summary>The book's printed summed losses ("Differentiable Fluid Simulations").</summary>
    public static readonly IReadOnlyDictionary<int, double> Book = new SortedDictionary<int, double>
    {
        [0] = 298.3, [9] = 233.7, [29] = 178.2, [49] = 169.4, [59] = 167.6,
    };

    private static readonly (double X, double Y)[] Centres = [(12, 4), (13, 6), (14, 5), (16, 5)];

    /// <summary>Runs (or resumes) the optimisation and writes all outputs; returns the per-iteration summed losses.</summary>
    public static double[] Run(SmokeOptSettings s, RunOutput output, string? resumeFrom, IProgressReporter progress, TextWriter log, CancellationToken ct)
    {
        s.Validate();
        var sw = Stopwatch.StartNew();
        var sim = Smoke2D.PbdlPlume(s.Nx, s.Ny);
        int nc = s.Nx * s.Ny, nu = (s.Nx + 1) * s.Ny, nv = s.Nx * (s.Ny + 1);
        var inflows = Centres.Select(c => sim.DiscInflow(c.X, c.Y, 3, 1.0 / 3)).ToArray();
        int plumes = Centres.Length;

        // The target: the fourth plume's final smoke from rest. Its own loss term is zero, so its
        // velocity never changes and the target stays fixed (the book's stop-gradient).
        var target = Rollout(sim, s.Steps, inflows[plumes - 1], new double[nu], new double[nv]).Smoke[s.Steps];

        var us = Enumerable.Range(0, plumes - 1).Select(_ => new double[nu]).ToArray();
        var vs = Enumerable.Range(0, plumes - 1).Select(_ => new double[nv]).ToArray();
        var rows = new List<double[]>();
        int start = 0;
        if (resumeFrom != null)
        {
            var cp = Checkpoints.Load(resumeFrom, SettingsKey(s), s.Iterations);
            for (int b = 0; b < plumes - 1; b++) { us[b] = cp.Vector($"u{b}", nu); vs[b] = cp.Vector($"v{b}", nv); }
            (start, rows) = (cp.NextIteration, cp.MetricRows);
        }
        output.BeginMetrics("iteration,summed_loss");
        foreach (var r in rows) output.AddMetrics(r);

        for (int it = start; it < s.Iterations; it++)
        {
            if (ct.IsCancellationRequested)
            {
                Checkpoints.Save(output, SettingsKey(s), it, State(us, vs), rows);
                output.FlushMetrics();
                throw new OperationCanceledException($"stopped at iteration {it}; resume with --resume {output.Directory}");
            }
            var losses = new double[plumes - 1];
            var uGrads = new double[plumes - 1][];
            var vGrads = new double[plumes - 1][];
            // Plumes are independent: one per core.
            Parallel.For(0, plumes - 1, b =>
            {
                (losses[b], uGrads[b], vGrads[b]) = LossAndGradient(sim, s.Steps, inflows[b], us[b], vs[b], target);
            });
            NonFinite.Check(output, it, losses.Sum(), NonFinite.Norm([.. uGrads, .. vGrads]), s.LearningRate);
            for (int b = 0; b < plumes - 1; b++)
                for (int i = 0; i < nu; i++) us[b][i] -= s.LearningRate * uGrads[b][i];
            for (int b = 0; b < plumes - 1; b++)
                for (int i = 0; i < nv; i++) vs[b][i] -= s.LearningRate * vGrads[b][i];
            double total = losses.Sum();
            rows.Add([it, total]);
            output.AddMetrics(it, total);
            progress.Report(it, s.Iterations, total);
            if ((it + 1) % s.CheckpointEvery == 0 || it + 1 == s.Iterations)
            {
                Checkpoints.Save(output, SettingsKey(s), it + 1, State(us, vs), rows);
                output.FlushMetrics();
            }
        }
        output.FlushMetrics();
        var losses0 = rows.Select(r => r[1]).ToArray();

        var result = Rollout(sim, s.Steps, inflows[0], us[0], vs[0]);
        SafeTensors.Write(output.PathOf("model.safetensors"),
            Enumerable.Range(0, plumes - 1).SelectMany(b => new[]
            {
                new SafeTensor($"plume{b}.u", [s.Ny, s.Nx + 1], F64: us[b]),
                new SafeTensor($"plume{b}.v", [s.Ny + 1, s.Nx], F64: vs[b]),
            }),
            new Dictionary<string, string> { ["experiment"] = "smoke-opt", ["layout"] = "MAC faces, row-major [y, x]" });
        output.WriteLossCurve("loss.png", losses0, "smoke-opt: summed loss vs iteration", Book.Where(kv => kv.Key < s.Iterations).ToDictionary(kv => kv.Key, kv => kv.Value));
        // Iteration 0 starts from rest, so its picture is recomputed here (also after a resume).
        var firstFinal = Rollout(sim, s.Steps, inflows[0], new double[nu], new double[nv]).Smoke[s.Steps];
        FieldImage.WriteScalar(output.PathOf("initial.png"), firstFinal, s.Nx, s.Ny, "plume 0, final smoke, iteration 0");
        FieldImage.WriteScalar(output.PathOf("target.png"), target, s.Nx, s.Ny, "target: plume 3, final smoke");
        FieldImage.WriteScalar(output.PathOf("result.png"), result.Smoke[s.Steps], s.Nx, s.Ny, "plume 0, final smoke, optimised");
        FieldImage.WriteStaggered(output.PathOf("velocity.png"), us[0], vs[0], s.Nx, s.Ny, "plume 0, optimised initial velocity");
        sw.Stop();
        output.Complete(new
        {
            experiment = "smoke-opt",
            settings = s,
            seed = s.Seed,
            final_summed_loss = losses0[^1],
            losses_at_book_iterations = Book.Keys.Where(k => k < losses0.Length).ToDictionary(k => k.ToString(CultureInfo.InvariantCulture), k => losses0[k]),
            book = Book.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
            seconds = sw.Elapsed.TotalSeconds,
            note = "Loss per plume = sum of squares / 2 (PhiFlow's l2_loss), summed over the plumes.",
        });
        log.WriteLine();
        log.WriteLine("  iteration   DiffGen     book");
        foreach (var (k, v) in Book)
            if (k < losses0.Length) log.WriteLine(FormattableString.Invariant($"  {k,9}   {losses0[k],7:F1}   {v,6:F1}"));
        log.WriteLine(FormattableString.Invariant($"  summed loss after {losses0.Length} iterations: {losses0[^1]:F1}   ({sw.Elapsed.TotalSeconds:F1} s)"));
        log.WriteLine($"  outputs: {output.Directory}");
        return losses0;
    }

    private static Dictionary<string, double[]> State(double[][] us, double[][] vs)
    {
        var d = new Dictionary<string, double[]>();
        for (int b = 0; b < us.Length; b++) { d[$"u{b}"] = us[b]; d[$"v{b}"] = vs[b]; }
        return d;
    }

    private static string SettingsKey(SmokeOptSettings s) =>
        FormattableString.Invariant($"lr={s.LearningRate:R};steps={s.Steps};grid={s.Nx}x{s.Ny};seed={s.Seed}");

    private sealed record Trajectory(double[][] Smoke, double[][] U, double[][] V);

    private static Trajectory Rollout(Smoke2D sim, int steps, double[] inflow, double[] u0, double[] v0, Tape? tape = null)
    {
        int nc = sim.Nx * sim.Ny;
        var smoke = new double[steps + 1][];
        var u = new double[steps + 1][];
        var v = new double[steps + 1][];
        smoke[0] = new double[nc];
        u[0] = (double[])u0.Clone();
        v[0] = (double[])v0.Clone();
        var p = new double[nc];
        for (int k = 0; k < steps; k++)
        {
            smoke[k + 1] = new double[nc];
            u[k + 1] = new double[u0.Length];
            v[k + 1] = new double[v0.Length];
            if (tape == null) sim.Step(smoke[k], u[k], v[k], inflow, smoke[k + 1], u[k + 1], v[k + 1], p);
            else sim.Step(smoke[k], u[k], v[k], inflow, smoke[k + 1], u[k + 1], v[k + 1], p, tape);
        }
        return new Trajectory(smoke, u, v);
    }

    /// <summary>0.5·Σ(final smoke − target)² and its gradient w.r.t. the initial velocity, through the generated pullbacks.</summary>
    private static (double Loss, double[] UGrad, double[] VGrad) LossAndGradient(Smoke2D sim, int steps, double[] inflow, double[] u0, double[] v0, double[] target)
    {
        // The rollout is recorded, so the reverse pass runs only the steps' reverse halves (no second
        // pressure solve per step).
        var tape = Tape.Rent();
        var tr = Rollout(sim, steps, inflow, u0, v0, tape);
        int nc = sim.Nx * sim.Ny;
        var smokeBar = new double[nc];
        double loss = 0;
        for (int i = 0; i < nc; i++)
        {
            double d = tr.Smoke[steps][i] - target[i];
            loss += 0.5 * d * d;
            smokeBar[i] = d;
        }
        var uBar = new double[u0.Length];
        var vBar = new double[v0.Length];
        var next = (Smoke: new double[nc], U: new double[u0.Length], V: new double[v0.Length], P: new double[nc]);
        for (int k = steps - 1; k >= 0; k--)
        {
            var sb = new double[nc];
            var ub = new double[u0.Length];
            var vb = new double[v0.Length];
            var inflowBar = new double[nc];
            var pBar = new double[nc];
            double buoyancyBar = 0;
            sim.StepBackward(tr.Smoke[k], tr.U[k], tr.V[k], inflow, next.Smoke, next.U, next.V, next.P,
                sb, ub, vb, inflowBar, smokeBar, uBar, vBar, pBar, ref buoyancyBar, tape);
            (smokeBar, uBar, vBar) = (sb, ub, vb);
        }
        tape.Return();
        return (loss, uBar, vBar);
    }
}
