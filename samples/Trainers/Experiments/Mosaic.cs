using System.Diagnostics;
using System.Globalization;
using DiffGen.NN.Optim;
using DiffGen.Physics;
using DiffGen.Plotting;
using DiffGen.Tensors;
using DiffGen.Trainers.Common;
using ScottPlot;

namespace DiffGen.Trainers.Experiments;

/// <summary>
/// Settings of the mosaic experiment: Mosaic's 2D Navier–Stokes protocol (pasteurlabs/mosaic,
/// mosaic/benchmarks/problems/navier_stokes_grid/config.py). Defaults are Mosaic's; each task reads the fields it needs.
/// </summary>
public sealed record MosaicSettings
{
    /// <summary>forward, gradient, cost or optimize.</summary>
    public string Task { get; init; } = "forward";
    /// <summary>Grid sizes of the N sweeps (forward: 16–128; cost: 64–256).</summary>
    public int[] Sizes { get; init; } = [16, 32, 64, 128];
    /// <summary>Step counts of the step sweeps (forward: 5–100; cost: 10–1000).</summary>
    public int[] StepsList { get; init; } = [5, 10, 20, 50, 100];
    /// <summary>Viscosities of the ν sweep (forward).</summary>
    public double[] Viscosities { get; init; } = [0.001, 0.005, 0.01, 0.05, 0.1];
    /// <summary>Grid size of the single-size runs (gradient 16, cost's step sweep 128, optimize 64).</summary>
    public int N { get; init; } = 16;
    /// <summary>Steps of the single-length runs (gradient 20, cost's N sweep 100, optimize 200).</summary>
    public int Steps { get; init; } = 20;
    /// <summary>Viscosity (gradient 0.001, cost 0.01, optimize 0.0025; forward's N and step sweeps 0.05).</summary>
    public double Viscosity { get; init; } = 0.001;
    /// <summary>Time step (gradient 0.05, forward/cost 0.01, optimize 0.02).</summary>
    public double Dt { get; init; } = 0.05;
    /// <summary>Random directions of the finite-difference check.</summary>
    public int Directions { get; init; } = 20;
    /// <summary>Horizons (steps) of the gradient's horizon sweep.</summary>
    public int[] Horizons { get; init; } = [5, 10, 20, 40, 80, 160, 320];
    /// <summary>Timed trials per cost point (after one warm-up).</summary>
    public int Trials { get; init; } = 3;
    /// <summary>Adam iterations (optimize).</summary>
    public int Iterations { get; init; } = 250;
    /// <summary>L-BFGS iterations (optimize).</summary>
    public int LbfgsIterations { get; init; } = 50;
    /// <summary>Adam learning rate (optimize).</summary>
    public double LearningRate { get; init; } = 5e-4;
    /// <summary>Mean inflow speed U (optimize).</summary>
    public double Speed { get; init; } = 0.5;
    /// <summary>Cylinder radius as a fraction of the side (optimize; Mosaic's drag task: 0.05).</summary>
    public double Radius { get; init; } = 0.05;
    /// <summary>The channel's x axis: periodic (Mosaic's) or zero-gradient (an open outflow on the right).</summary>
    public bool PeriodicX { get; init; } = true;
    /// <summary>Pressure CG tolerance (max-norm of the divergence).</summary>
    public double Tolerance { get; init; } = 1e-9;
    /// <summary>MacCormack self-advection instead of semi-Lagrangian (RK2 backtrace).</summary>
    public bool MacCormack { get; init; }
    /// <summary>Seed of the multi-mode initial condition and the random directions.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Checks ranges; a bad value is a usage error naming the option.</summary>
    public void Validate()
    {
        if (Task is not ("forward" or "gradient" or "cost" or "optimize")) throw new UsageException($"--task must be forward, gradient, cost or optimize (got '{Task}')");
        if (Sizes.Length == 0 || Sizes.Any(n => n < 8)) throw new UsageException($"--sizes must be grid sizes of at least 8 (got {string.Join(",", Sizes)})");
        if (StepsList.Length == 0 || StepsList.Any(s => s < 1)) throw new UsageException($"--steps-list must be positive step counts (got {string.Join(",", StepsList)})");
        if (Horizons.Length == 0 || Horizons.Any(s => s < 1)) throw new UsageException($"--horizons must be positive step counts (got {string.Join(",", Horizons)})");
        if (Viscosities.Length == 0 || Viscosities.Any(v => !(v >= 0) || double.IsInfinity(v))) throw new UsageException($"--viscosities must be non-negative numbers (got {string.Join(",", Viscosities.Select(Inv))})");
        if (N < 8) throw new UsageException($"--n must be at least 8 (got {N})");
        if (Steps < 1) throw new UsageException($"--steps must be at least 1 (got {Steps})");
        if (!(Viscosity >= 0) || double.IsInfinity(Viscosity)) throw new UsageException($"--viscosity must be a non-negative number (got {Inv(Viscosity)})");
        if (!(Dt > 0) || double.IsInfinity(Dt)) throw new UsageException($"--dt must be a positive number (got {Inv(Dt)})");
        if (Directions < 2) throw new UsageException($"--directions must be at least 2 (got {Directions})");
        if (Trials < 1) throw new UsageException($"--trials must be at least 1 (got {Trials})");
        if (Iterations < 0 || LbfgsIterations < 0) throw new UsageException($"--iterations and --lbfgs-iterations must be non-negative (got {Iterations}, {LbfgsIterations})");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new UsageException($"--lr must be a positive number (got {Inv(LearningRate)})");
        if (!(Speed > 0) || double.IsInfinity(Speed)) throw new UsageException($"--speed must be a positive number (got {Inv(Speed)})");
        if (!(Radius > 0 && Radius < 0.5)) throw new UsageException($"--radius must be in (0, 0.5) (got {Inv(Radius)})");
        if (!(Tolerance > 0) || double.IsInfinity(Tolerance)) throw new UsageException($"--tolerance must be a positive number (got {Inv(Tolerance)})");
    }

    private static string Inv(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// mosaic: Mosaic's 2D incompressible Navier–Stokes protocol run natively on <see cref="NavierStokes2D"/>.
/// forward — Taylor–Green error against the analytic decay vs N, steps and ν, with divergence RMS and kinetic
/// energy; gradient — finite-difference U-curves in random directions and their pass marks (cosine ≥ 0.99, best
/// median relative error ≤ 1e-3), then the same against the horizon; cost — forward and VJP wall time vs N and vs
/// steps, and peak memory with and without checkpointing; optimize — the drag on a cylinder minimised over the
/// inflow profile with Adam and L-BFGS.
/// </summary>
public static class Mosaic
{
    /// <summary>Mosaic's pass marks of gradient/fd_check (status_checks.min_cosine, max_rel_err).</summary>
    public const double PassCosine = 0.99, PassRelativeError = 1e-3;

    /// <summary>The viscosities of Mosaic's forward/tgv_nu_sweep.</summary>
    public static readonly double[] TgvNuSweep = [1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2];

    /// <summary>Mosaic's ε values (relative to the RMS of the initial velocity) of gradient/fd_check.</summary>
    public static readonly double[] FdEpsilons = [5, 1, 0.1, 0.01, 1e-3, 1e-4];

    /// <summary>Mosaic's ε values of gradient/horizon_sweep (8 directions there).</summary>
    public static readonly double[] HorizonEpsilons = [1, 0.1, 0.01, 1e-3];

    /// <summary>Builds every model the task will run, so that a setting the solver rejects fails before any work (an <see cref="ArgumentException"/> naming it).</summary>
    public static void Preflight(MosaicSettings s)
    {
        s.Validate();
        switch (s.Task)
        {
            case "forward":
                foreach (int n in s.Sizes) _ = new NavierStokes2D(n, 0.05, s.Dt, tolerance: s.Tolerance, macCormack: s.MacCormack);
                foreach (double nu in s.Viscosities) _ = new NavierStokes2D(64, nu, s.Dt, tolerance: s.Tolerance, macCormack: s.MacCormack);
                foreach (int steps in s.StepsList) _ = new NavierStokes2D(64, 0.05, s.Dt, tolerance: s.Tolerance, macCormack: s.MacCormack);
                break;
            case "gradient":
                _ = new NavierStokes2D(s.N, s.Viscosity, s.Dt, tolerance: s.Tolerance, macCormack: s.MacCormack);
                break;
            case "cost":
                foreach (int n in s.Sizes.Append(s.N)) _ = new NavierStokes2D(n, s.Viscosity, s.Dt, tolerance: s.Tolerance, macCormack: s.MacCormack);
                break;
            default:
                _ = NavierStokes2D.Channel(s.N, s.Viscosity, s.Dt, new Cylinder(0.5, 0.5, s.Radius), s.PeriodicX, tolerance: s.Tolerance, macCormack: s.MacCormack);
                break;
        }
    }

    /// <summary>Runs the task and writes metrics.csv, the plots and summary.json; returns the summary object.</summary>
    public static object Run(MosaicSettings s, RunOutput output, TextWriter log, CancellationToken ct)
    {
        s.Validate();
        var sw = Stopwatch.StartNew();
        object summary = s.Task switch
        {
            "forward" => Forward(s, output, log, ct),
            "gradient" => Gradient(s, output, log, ct),
            "cost" => Cost(s, output, log, ct),
            _ => Optimize(s, output, log, ct),
        };
        log.WriteLine(FormattableString.Invariant($"  {sw.Elapsed.TotalSeconds:F1} s; results in {output.Directory}"));
        return summary;
    }

    // ------------------------------------------------------------------ forward

    private static object Forward(MosaicSettings s, RunOutput output, TextWriter log, CancellationToken ct)
    {
        // Mosaic's forward/physical_laws runs: TGV, dt 0.01; vs N (nu 0.05, 20 steps), vs steps (N 64, nu 0.05), vs nu (N 64, 20 steps).
        output.BeginMetrics("sweep,n,steps,nu,relative_l2_error,divergence_rms,mac_divergence_max,kinetic_energy,kinetic_energy_analytic");
        var rows = new List<(string Sweep, int N, int Steps, double Nu, double Err, double Div, double Mac, double Ke, double KeExact)>();
        void Point(string sweep, int n, int steps, double nu, double dt)
        {
            ct.ThrowIfCancellationRequested();
            var ns = new NavierStokes2D(n, nu, dt, tolerance: s.Tolerance, macCormack: s.MacCormack);
            var (u0, v0) = ns.TaylorGreen();
            var (u, v) = ns.Run(u0, v0, steps);
            var (ue, ve) = ns.TaylorGreen(steps * dt);
            var r = (sweep, n, steps, nu, NavierStokes2D.RelativeL2(u, v, ue, ve), ns.DivergenceRms(u, v), ns.MacDivergenceMax(u, v), ns.KineticEnergy(u, v), ns.KineticEnergy(ue, ve));
            rows.Add(r);
            output.AddMetricsRow(FormattableString.Invariant($"{sweep},{n},{steps},{nu:R},{r.Item5:R},{r.Item6:R},{r.Item7:R},{r.Item8:R},{r.Item9:R}"));
            log.WriteLine(FormattableString.Invariant($"  {sweep,-9} N {n,4}  steps {steps,4}  nu {nu,-6}  rel. L2 error {r.Item5:E3}  div RMS {r.Item6:E2}  KE {r.Item8:F5} (exact {r.Item9:F5})"));
        }
        foreach (int n in s.Sizes) Point("vs_N", n, 20, 0.05, s.Dt);
        foreach (int steps in s.StepsList) Point("vs_steps", 64, steps, 0.05, s.Dt);
        foreach (double nu in s.Viscosities) Point("vs_nu", 64, 20, nu, s.Dt);
        // Mosaic's forward/tgv_nu_sweep (N 64, dt 0.05, 20 steps), the forward run its results page ranks solvers by.
        foreach (double nu in TgvNuSweep) Point("tgv_nu_sweep", 64, 20, nu, 0.05);
        output.FlushMetrics();
        double tgvMean = rows.Where(r => r.Sweep == "tgv_nu_sweep").Average(r => r.Err);
        log.WriteLine(FormattableString.Invariant($"  tgv_nu_sweep mean relative error {tgvMean:E3} (Mosaic's ranking metric)"));

        var byN = rows.Where(r => r.Sweep == "vs_N").ToArray();
        var order = new List<double>();
        for (int i = 1; i < byN.Length; i++) order.Add(Math.Log(byN[i - 1].Err / byN[i].Err) / Math.Log((double)byN[i].N / byN[i - 1].N));
        LogLogPlot(output.PathOf("error_vs_n.png"), "TGV relative L2 error vs N (nu 0.05, dt 0.01, 20 steps)", "N", "relative L2 error",
            [("DiffGen", byN.Select(r => (double)r.N).ToArray(), byN.Select(r => r.Err).ToArray())]);
        var bySteps = rows.Where(r => r.Sweep == "vs_steps").ToArray();
        LogLogPlot(output.PathOf("error_vs_steps.png"), "TGV relative L2 error vs steps (N 64, nu 0.05, dt 0.01)", "steps", "relative L2 error",
            [("DiffGen", bySteps.Select(r => (double)r.Steps).ToArray(), bySteps.Select(r => r.Err).ToArray())]);
        var byNu = rows.Where(r => r.Sweep == "vs_nu").ToArray();
        LogLogPlot(output.PathOf("error_vs_nu.png"), "TGV relative L2 error vs nu (N 64, dt 0.01, 20 steps)", "nu", "relative L2 error",
            [("DiffGen", byNu.Select(r => r.Nu).ToArray(), byNu.Select(r => r.Err).ToArray())]);
        var summary = new
        {
            experiment = "mosaic",
            task = "forward",
            settings = s,
            dt = s.Dt,
            points = rows.Select(r => new { sweep = r.Sweep, n = r.N, steps = r.Steps, nu = r.Nu, relative_l2_error = r.Err, divergence_rms = r.Div, mac_divergence_max = r.Mac, kinetic_energy = r.Ke, kinetic_energy_analytic = r.KeExact }),
            observed_order_vs_n = order,
            tgv_nu_sweep_mean_relative_error = tgvMean,
            note = "Error of the MAC faces against the analytic Taylor-Green decay exp(-2 nu t) at the faces; divergence RMS by Mosaic's central-difference formula on the cell-centred velocity; kinetic energy 1/2 <|u|^2> of the cell-centred velocity.",
        };
        output.WriteSummary(summary);
        return summary;
    }

    // ------------------------------------------------------------------ gradient

    /// <summary>One ε of a finite-difference check: the median relative error over the directions and the cosine between the FD and VJP vectors.</summary>
    public sealed record EpsilonResult(double Epsilon, double MedianRelativeError, double Cosine, double[] RelativeErrors);

    /// <summary>A finite-difference check at one horizon.</summary>
    public sealed record FdCheck(int Steps, double GradientNorm, double IcScale, EpsilonResult[] ByEpsilon)
    {
        /// <summary>The best cosine over ε (Mosaic's best_cosine).</summary>
        public double BestCosine => ByEpsilon.Max(e => e.Cosine);
        /// <summary>The smallest median relative error over ε (Mosaic's best_rel_err).</summary>
        public double BestRelativeError => ByEpsilon.Min(e => e.MedianRelativeError);
        /// <summary>Both pass marks hold.</summary>
        public bool Passes => BestCosine >= PassCosine && BestRelativeError <= PassRelativeError;
    }

    /// <summary>
    /// Mosaic's gradient/fd_check at one horizon: L = Σ|u_T|² of the cell-centred final velocity; VJP directional
    /// derivatives gᵀv against central differences (L(x + h v) − L(x − h v)) / 2h with h = ε × RMS(x), in
    /// <paramref name="directions"/> unit Gaussian directions drawn from <paramref name="seed"/>.
    /// </summary>
    public static FdCheck CheckGradient(NavierStokes2D ns, double[] cu0, double[] cv0, int steps, double[] epsilons, int directions, int seed)
    {
        int m = cu0.Length;
        var x = cu0.Concat(cv0).ToArray();
        var g = new double[2 * m];
        ns.SumOfSquaresGradient(cu0, cv0, steps, g.AsSpan(0, m), g.AsSpan(m), checkpointEvery: (int)Math.Ceiling(Math.Sqrt(steps)));
        double icScale = Math.Sqrt(x.Sum(e => e * e) / x.Length);
        var rng = new Random(seed);
        var dirs = new double[directions][];
        for (int d = 0; d < directions; d++)
        {
            var v = new double[x.Length];
            for (int i = 0; i < v.Length; i++) v[i] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            double norm = Math.Sqrt(v.Sum(e => e * e));
            for (int i = 0; i < v.Length; i++) v[i] /= norm;
            dirs[d] = v;
        }
        var vjp = dirs.Select(v => Dot(g, v)).ToArray();
        double L(double[] at) => ns.SumOfSquares(at.AsSpan(0, m), at.AsSpan(m), steps);
        var results = new List<EpsilonResult>();
        foreach (double eps in epsilons)
        {
            double h = eps * icScale;
            var fd = new double[directions];
            for (int d = 0; d < directions; d++)
            {
                var plus = x.Select((e, i) => e + h * dirs[d][i]).ToArray();
                var minus = x.Select((e, i) => e - h * dirs[d][i]).ToArray();
                fd[d] = (L(plus) - L(minus)) / (2 * h);
            }
            var rel = fd.Select((f, d) => Math.Abs(f - vjp[d]) / Math.Max(Math.Max(Math.Abs(f), Math.Abs(vjp[d])), 1e-30)).ToArray();
            double cos = Dot(fd, vjp) / (Math.Sqrt(Dot(fd, fd)) * Math.Sqrt(Dot(vjp, vjp)) + 1e-30);
            results.Add(new EpsilonResult(eps, Median(rel), cos, rel));
        }
        return new FdCheck(steps, Math.Sqrt(Dot(g, g)), icScale, [.. results]);
    }

    private static object Gradient(MosaicSettings s, RunOutput output, TextWriter log, CancellationToken ct)
    {
        var ns = new NavierStokes2D(s.N, s.Viscosity, s.Dt, tolerance: s.Tolerance, macCormack: s.MacCormack);
        var (_, _, cu0, cv0) = ns.MultiMode(s.Seed);
        output.BeginMetrics("check,steps,epsilon,median_relative_error,cosine,gradient_norm");
        var check = CheckGradient(ns, cu0, cv0, s.Steps, FdEpsilons, s.Directions, s.Seed);
        foreach (var e in check.ByEpsilon)
        {
            output.AddMetricsRow(FormattableString.Invariant($"fd_check,{s.Steps},{e.Epsilon:R},{e.MedianRelativeError:R},{e.Cosine:R},{check.GradientNorm:R}"));
            log.WriteLine(FormattableString.Invariant($"  fd_check  eps {e.Epsilon,-7}  median rel. error {e.MedianRelativeError:E2}  cosine {e.Cosine:F8}"));
        }
        log.WriteLine(FormattableString.Invariant($"  fd_check: best cosine {check.BestCosine:F8} (pass >= {PassCosine}), best median rel. error {check.BestRelativeError:E2} (pass <= {PassRelativeError:E0}): {(check.Passes ? "PASS" : "FAIL")}"));

        var horizons = new List<FdCheck>();
        foreach (int steps in s.Horizons)
        {
            ct.ThrowIfCancellationRequested();
            var h = CheckGradient(ns, cu0, cv0, steps, HorizonEpsilons, 8, s.Seed);
            horizons.Add(h);
            foreach (var e in h.ByEpsilon)
                output.AddMetricsRow(FormattableString.Invariant($"horizon,{steps},{e.Epsilon:R},{e.MedianRelativeError:R},{e.Cosine:R},{h.GradientNorm:R}"));
            log.WriteLine(FormattableString.Invariant($"  horizon {steps,4} steps (T = {steps * s.Dt,5:F2}): |g| {h.GradientNorm:E3}  best cosine {h.BestCosine:F6}  best median rel. error {h.BestRelativeError:E2}  {(h.Passes ? "pass" : "FAIL")}"));
        }
        output.FlushMetrics();
        int? lastPass = horizons.TakeWhile(h => h.Passes).Select(h => (int?)h.Steps).LastOrDefault();
        int? firstFail = horizons.FirstOrDefault(h => !h.Passes)?.Steps;

        LogLogPlot(output.PathOf("fd_check.png"), FormattableString.Invariant($"FD U-curve: N {s.N}, nu {s.Viscosity}, dt {s.Dt}, {s.Steps} steps, {s.Directions} directions"), "epsilon (x RMS of v0)", "median relative error",
            [("median", check.ByEpsilon.Select(e => e.Epsilon).ToArray(), check.ByEpsilon.Select(e => Math.Max(e.MedianRelativeError, 1e-16)).ToArray()),
             ("worst direction", check.ByEpsilon.Select(e => e.Epsilon).ToArray(), check.ByEpsilon.Select(e => Math.Max(e.RelativeErrors.Max(), 1e-16)).ToArray())],
            passLine: PassRelativeError);
        LogLogPlot(output.PathOf("horizon_sweep.png"), FormattableString.Invariant($"Gradient vs horizon: N {s.N}, nu {s.Viscosity}, dt {s.Dt}"), "steps", "value",
            [("best median rel. error", horizons.Select(h => (double)h.Steps).ToArray(), horizons.Select(h => Math.Max(h.BestRelativeError, 1e-16)).ToArray()),
             ("1 - best cosine", horizons.Select(h => (double)h.Steps).ToArray(), horizons.Select(h => Math.Max(1 - h.BestCosine, 1e-16)).ToArray()),
             ("|gradient|", horizons.Select(h => (double)h.Steps).ToArray(), horizons.Select(h => h.GradientNorm).ToArray())],
            passLine: PassRelativeError);
        var summary = new
        {
            experiment = "mosaic",
            task = "gradient",
            settings = s,
            fd_check = new
            {
                steps = s.Steps,
                gradient_norm = check.GradientNorm,
                ic_scale = check.IcScale,
                best_cosine = check.BestCosine,
                best_median_relative_error = check.BestRelativeError,
                passes = check.Passes,
                by_epsilon = check.ByEpsilon.Select(e => new { epsilon = e.Epsilon, median_relative_error = e.MedianRelativeError, cosine = e.Cosine }),
            },
            horizon_sweep = horizons.Select(h => new { steps = h.Steps, horizon = h.Steps * s.Dt, gradient_norm = h.GradientNorm, best_cosine = h.BestCosine, best_median_relative_error = h.BestRelativeError, passes = h.Passes }),
            last_passing_horizon_steps = lastPass,
            first_failing_horizon_steps = firstFail,
            pass_marks = new { cosine = PassCosine, relative_error = PassRelativeError },
            note = "Mosaic's protocol in double precision: L = sum of squares of the cell-centred final velocity, input the cell-centred initial velocity (multi-mode, seeded with System.Random, not JAX's generator); the horizon sweep uses Mosaic's 4 epsilons and 8 directions.",
        };
        output.WriteSummary(summary);
        return summary;
    }

    // ------------------------------------------------------------------ cost

    private static object Cost(MosaicSettings s, RunOutput output, TextWriter log, CancellationToken ct)
    {
        // Mosaic's cost/spatial_cost, temporal_cost and vjp_cost: nu 0.01, dt 0.01, multi-mode initial velocity.
        output.BeginMetrics("sweep,n,steps,forward_s,forward_std_s,vjp_s,vjp_std_s,vjp_checkpoint_every,live_mb_stored,live_mb_checkpointed,states_stored,states_checkpointed");
        var rows = new List<object>();
        var plotN = new List<(double N, double F, double B)>();
        var plotSteps = new List<(double Steps, double F, double B, double MemAll, double MemCp)>();
        void Point(string sweep, int n, int steps)
        {
            ct.ThrowIfCancellationRequested();
            var c = MeasureCost(n, steps, s.Viscosity, s.Dt, s.Trials, s.Tolerance, s.Seed, memory: true, s.MacCormack);
            output.AddMetricsRow(FormattableString.Invariant($"{sweep},{n},{steps},{c.ForwardSeconds:R},{c.ForwardStd:R},{c.VjpSeconds:R},{c.VjpStd:R},{c.CheckpointEvery},{c.PeakMbStored:R},{c.PeakMbCheckpointed:R},{c.StatesStored},{c.StatesCheckpointed}"));
            rows.Add(new { sweep, n, steps, forward_s = c.ForwardSeconds, forward_std_s = c.ForwardStd, vjp_s = c.VjpSeconds, vjp_std_s = c.VjpStd, vjp_checkpoint_every = c.CheckpointEvery, live_mb_stored = double.IsNaN(c.PeakMbStored) ? (double?)null : c.PeakMbStored, live_mb_checkpointed = c.PeakMbCheckpointed, states_stored = c.StatesStored, states_checkpointed = c.StatesCheckpointed });
            log.WriteLine(FormattableString.Invariant($"  {sweep,-8} N {n,4}  steps {steps,5}  forward {c.ForwardSeconds,8:F3} s  VJP {c.VjpSeconds,8:F3} s ({c.VjpSeconds / c.ForwardSeconds:F2}x)  live MB stored {(double.IsNaN(c.PeakMbStored) ? "(skipped)" : c.PeakMbStored.ToString("F1", CultureInfo.InvariantCulture)),9} / checkpointed every {c.CheckpointEvery} {c.PeakMbCheckpointed:F1}"));
            if (sweep == "by_N") plotN.Add((n, c.ForwardSeconds, c.VjpSeconds)); else plotSteps.Add((steps, c.ForwardSeconds, c.VjpSeconds, c.PeakMbStored, c.PeakMbCheckpointed));
        }
        foreach (int n in s.Sizes) Point("by_N", n, s.Steps);
        foreach (int steps in s.StepsList) Point("by_steps", s.N, steps);
        output.FlushMetrics();
        LogLogPlot(output.PathOf("cost_vs_n.png"), FormattableString.Invariant($"Wall time vs N ({s.Steps} steps)"), "N", "seconds",
            [("forward", plotN.Select(p => p.N).ToArray(), plotN.Select(p => p.F).ToArray()), ("VJP", plotN.Select(p => p.N).ToArray(), plotN.Select(p => p.B).ToArray())]);
        LogLogPlot(output.PathOf("cost_vs_steps.png"), FormattableString.Invariant($"Wall time vs steps (N {s.N})"), "steps", "seconds",
            [("forward", plotSteps.Select(p => p.Steps).ToArray(), plotSteps.Select(p => p.F).ToArray()), ("VJP", plotSteps.Select(p => p.Steps).ToArray(), plotSteps.Select(p => p.B).ToArray())]);
        var withAll = plotSteps.Where(p => !double.IsNaN(p.MemAll)).ToArray();
        LogLogPlot(output.PathOf("memory_vs_steps.png"), FormattableString.Invariant($"Live memory of the VJP's reverse sweep vs steps (N {s.N})"), "steps", "MB",
            [("every step stored", withAll.Select(p => p.Steps).ToArray(), withAll.Select(p => p.MemAll).ToArray()), ("checkpointed (every sqrt(steps))", plotSteps.Select(p => p.Steps).ToArray(), plotSteps.Select(p => p.MemCp).ToArray())]);
        var summary = new
        {
            experiment = "mosaic",
            task = "cost",
            settings = s,
            threads = Environment.ProcessorCount,
            points = rows,
            note = "Mean of the trials after one warm-up; forward = the rollout from the multi-mode IC; VJP = Mosaic's gradient of sum(u_T^2) w.r.t. the cell-centred v0 (forward included), checkpointing every ceil(sqrt(steps)) states. Peak MB: the live managed memory of the reverse sweep at its fullest (a full GC at the first reverse step of each segment, minus the live memory before the call), in separate untimed runs: checkpointed every ceil(sqrt(steps)) and recording every step (stored). A warm-up over 2 s counts as the first trial.",
        };
        output.WriteSummary(summary);
        return summary;
    }

    /// <summary>What one cost point measured (seconds: mean and standard deviation over the trials).</summary>
    public sealed record CostPoint(int N, int Steps, double ForwardSeconds, double ForwardStd, double VjpSeconds, double VjpStd, int CheckpointEvery,
        double PeakMbStored, double PeakMbCheckpointed, int StatesStored, int StatesCheckpointed);

    /// <summary>
    /// One point of Mosaic's cost suite: the forward rollout and the VJP (gradient of Σ|u_T|² w.r.t. the cell-centred
    /// v0, forward included, checkpointing every ⌈√steps⌉ states) from the multi-mode IC, one warm-up then
    /// <paramref name="trials"/> timed calls; with <paramref name="memory"/>, the peak managed heap of one VJP with
    /// and without checkpointing (the latter skipped, NaN, where it would need more than about 4 GB).
    /// </summary>
    public static CostPoint MeasureCost(int n, int steps, double viscosity, double dt, int trials, double tolerance, int seed, bool memory, bool macCormack = false)
    {
        var ns = new NavierStokes2D(n, viscosity, dt, tolerance: tolerance, macCormack: macCormack);
        var (u0, v0, cu0, cv0) = ns.MultiMode(seed);
        int every = (int)Math.Ceiling(Math.Sqrt(steps));
        var gu = new double[n * n];
        var gv = new double[n * n];
        var (fMean, fStd) = Time(trials, () => ns.Run(u0, v0, steps));
        var (bMean, bStd) = Time(trials, () => ns.SumOfSquaresGradient(cu0, cv0, steps, gu, gv, every));
        double memCp = double.NaN, memAll = double.NaN;
        if (memory)
        {
            memCp = LiveMegabytes(ns, u0, v0, steps, every);
            if (EstimatedStoredMegabytes(n, steps) < 4000) memAll = LiveMegabytes(ns, u0, v0, steps, 0);
        }
        return new CostPoint(n, steps, fMean, fStd, bMean, bStd, every, memAll, memCp, steps + 1, (steps - 1) / every + 1 + every);
    }

    /// <summary>A rough size of the store-every-step VJP: about 16 MAC-sized arrays per step (measured 100 steps at 128²: see benchmarks/README.md).</summary>
    private static double EstimatedStoredMegabytes(int n, int steps) => 16.0 * 8 * (n + 1) * n * steps / 1e6;

    /// <summary>
    /// One warm-up call (JIT, pools), then <paramref name="trials"/> timed calls; a warm-up that took over 2 s (a large
    /// point, JIT long since warm from the smaller ones) counts as the first trial.
    /// </summary>
    private static (double Mean, double Std) Time(int trials, Action a)
    {
        var warm = Stopwatch.StartNew();
        a();
        double warmSeconds = warm.Elapsed.TotalSeconds;
        var t = new double[trials];
        int start = 0;
        if (warmSeconds > 2) t[start++] = warmSeconds;
        for (int i = start; i < trials; i++)
        {
            var sw = Stopwatch.StartNew();
            a();
            t[i] = sw.Elapsed.TotalSeconds;
        }
        double mean = t.Average();
        return (mean, Math.Sqrt(t.Sum(x => (x - mean) * (x - mean)) / trials));
    }

    /// <summary>
    /// The live managed memory a rollout's reverse sweep holds at its fullest: a full collection at the first reverse
    /// step of each segment (when the segment's states and tapes are all recorded, with every checkpoint still held),
    /// minus the live memory before the call. Not timed: each probe is a full garbage collection.
    /// </summary>
    private static double LiveMegabytes(NavierStokes2D ns, double[] u0, double[] v0, int steps, int checkpointEvery)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = GC.GetTotalMemory(true), peak = 0;
        int segment = checkpointEvery == 0 ? steps : checkpointEvery;
        var ub = new double[ns.UCount];
        var vb = new double[ns.VCount];
        ns.Backward(u0, v0, steps, default, default, default, (k, _, _, _) =>
        {
            if ((k + 1) % segment == 0 || k == steps - 1) peak = Math.Max(peak, GC.GetTotalMemory(true) - baseline);
        }, ub, vb, default, checkpointEvery);
        return peak / 1e6;
    }

    // ------------------------------------------------------------------ optimize

    /// <summary>One optimiser's drag history.</summary>
    public sealed record DragRun(string Optimizer, double[] Loss, double[] Drag, double[] FlowRate, double[] Profile, double Seconds);

    private static object Optimize(MosaicSettings s, RunOutput output, TextWriter log, CancellationToken ct)
    {
        // Mosaic's optimization/drag_opt: unit square, cylinder (0.5, 0.5), uniform start at U, flat inflow U, the drag
        // averaged over the last half of the steps; loss |drag| + 50 (mean(profile) - U)^2; the profile clipped to [0, 3U].
        const double penalty = 50;
        var ch = NavierStokes2D.Channel(s.N, s.Viscosity, s.Dt, new Cylinder(0.5, 0.5, s.Radius), s.PeriodicX, tolerance: s.Tolerance, macCormack: s.MacCormack);
        int every = (int)Math.Ceiling(Math.Sqrt(s.Steps));
        double lower = 0, upper = 3 * s.Speed;
        (double Loss, double Drag, double Flow) Evaluate(double[] profile, double[]? grad)
        {
            ct.ThrowIfCancellationRequested();
            double mean = profile.Average();
            double drag;
            if (grad != null)
            {
                var g = new double[profile.Length];
                drag = ch.MeanDragGradient(profile, s.Steps, s.Speed, g, every);
                for (int i = 0; i < g.Length; i++) grad[i] = Math.Sign(drag) * g[i] + 2 * penalty * (mean - s.Speed) / profile.Length;
            }
            else drag = ch.MeanDrag(profile, s.Steps, s.Speed);
            return (Math.Abs(drag) + penalty * (mean - s.Speed) * (mean - s.Speed), drag, mean);
        }
        output.BeginMetrics("optimizer,iteration,loss,drag,flow_rate");
        var initial = ch.InflowProfile(s.Speed);

        // Adam (DiffGen.NN, float32 parameters) on the double gradient, clipped after each step as Mosaic does.
        var swA = Stopwatch.StartNew();
        var param = Tensor.FromArray(initial.Select(x => (float)x).ToArray(), s.N);
        param.RequiresGrad = true;
        var adam = new Adam([param], s.LearningRate);
        var aLoss = new List<double>(); var aDrag = new List<double>(); var aFlow = new List<double>();
        var grad = new double[s.N];
        for (int it = 0; it <= s.Iterations; it++)
        {
            var profile = param.ToArray().Select(x => (double)x).ToArray();
            var (loss, drag, flow) = Evaluate(profile, it < s.Iterations ? grad : null);
            aLoss.Add(loss); aDrag.Add(drag); aFlow.Add(flow);
            output.AddMetricsRow(FormattableString.Invariant($"adam,{it},{loss:R},{drag:R},{flow:R}"));
            if (it % 10 == 0 || it == s.Iterations) log.WriteLine(FormattableString.Invariant($"  adam   {it,4}  loss {loss:E4}  drag {drag:E4}  flow {flow:F5}"));
            if (it == s.Iterations) break;
            param.Grad = Tensor.FromArray(grad.Select(x => (float)x).ToArray(), s.N);
            adam.Step();
            var data = param.Data;
            for (int i = 0; i < data.Length; i++) data[i] = (float)Math.Clamp(data[i], lower, upper);
        }
        var adamRun = new DragRun("adam", [.. aLoss], [.. aDrag], [.. aFlow], param.ToArray().Select(x => (double)x).ToArray(), swA.Elapsed.TotalSeconds);
        output.FlushMetrics();

        // L-BFGS (DiffGen.NN.Optim.Lbfgs) in double with the same bounds.
        var swL = Stopwatch.StartNew();
        var lLoss = new List<double>(); var lDrag = new List<double>(); var lFlow = new List<double>();
        double lastEvalDrag = 0, lastEvalFlow = 0;
        var result = new Lbfgs(history: 10, gradientTolerance: 1e-10).Minimize((x, g) =>
        {
            var (loss, drag, flow) = Evaluate(x, g);
            lastEvalDrag = drag; lastEvalFlow = flow;
            return loss;
        }, initial, s.LbfgsIterations, (it, f, _) =>
        {
            lLoss.Add(f); lDrag.Add(lastEvalDrag); lFlow.Add(lastEvalFlow);
            output.AddMetricsRow(FormattableString.Invariant($"lbfgs,{it},{f:R},{lastEvalDrag:R},{lastEvalFlow:R}"));
            if (it % 5 == 0) log.WriteLine(FormattableString.Invariant($"  lbfgs  {it,4}  loss {f:E4}  drag {lastEvalDrag:E4}  flow {lastEvalFlow:F5}"));
        }, lower, upper);
        var lbfgsRun = new DragRun("lbfgs", [.. lLoss], [.. lDrag], [.. lFlow], result.X, swL.Elapsed.TotalSeconds);
        log.WriteLine(FormattableString.Invariant($"  lbfgs: {result.Reason} after {result.Iterations} iterations, {result.Evaluations} evaluations"));
        output.FlushMetrics();

        var plt = new Plot();
        foreach (var r in new[] { adamRun, lbfgsRun })
        {
            var line = plt.Add.Scatter(Enumerable.Range(0, r.Drag.Length).Select(i => (double)i).ToArray(), r.Drag);
            line.LegendText = r.Optimizer == "adam" ? FormattableString.Invariant($"Adam (lr {s.LearningRate})") : "L-BFGS";
            line.MarkerSize = r.Optimizer == "adam" ? 0 : 5;
        }
        plt.ShowLegend();
        plt.Title(FormattableString.Invariant($"Mean drag on the cylinder vs iteration (N {s.N}, U {s.Speed}, {s.Steps} steps)"));
        plt.XLabel("iteration");
        plt.YLabel("drag");
        plt.SavePng(output.PathOf("drag.png"), 760, 460);
        foreach (var (name, profile) in new[] { ("flow_initial.png", initial), ("flow_lbfgs.png", lbfgsRun.Profile) })
        {
            var (u0, v0) = ch.Uniform(s.Speed);
            var (uT, vT) = ch.Run(u0, v0, s.Steps, profile);
            var (cu, _) = ch.Grid.ToCentered(uT, vT);
            FieldImage.WriteScalar(output.PathOf(name), cu, s.N, s.N, FormattableString.Invariant($"u_x after {s.Steps} steps, {(name == "flow_initial.png" ? "flat" : "L-BFGS")} inflow"));
        }
        var ys = Enumerable.Range(0, s.N).Select(j => (j + 0.5) / s.N).ToArray();
        output.WriteFields1D("profile.png", ys, [("initial (flat)", initial), ("Adam", adamRun.Profile), ("L-BFGS", lbfgsRun.Profile)], "Inflow profile u_x(y) (x axis: y / side)");

        var summary = new
        {
            experiment = "mosaic",
            task = "optimize",
            settings = s,
            reynolds = s.Speed * 2 * s.Radius / Math.Max(s.Viscosity, 1e-300),
            checkpoint_every = every,
            runs = new[] { adamRun, lbfgsRun }.Select(r => new
            {
                optimizer = r.Optimizer,
                iterations = r.Drag.Length - 1,
                initial_drag = r.Drag[0],
                final_drag = r.Drag[^1],
                final_loss = r.Loss[^1],
                final_flow_rate = r.FlowRate[^1],
                drag_reduction_percent = 100 * (Math.Abs(r.Drag[0]) - Math.Abs(r.Drag[^1])) / (Math.Abs(r.Drag[0]) + 1e-30),
                seconds = r.Seconds,
                profile = r.Profile,
            }),
            lbfgs_stop = result.Reason,
            lbfgs_evaluations = result.Evaluations,
            note = "Mosaic's drag: pressure and viscous terms summed over the fluid cells next to the cylinder in x, of the velocity and the projection pressure (pressure x dt / density) averaged over the last half of the steps; the x axis " + (s.PeriodicX ? "periodic with the profile imposed after each projection (Mosaic's PhiFlow channel)" : "open on the right with the profile as the left wall's normal velocity") + "; no-slip walls at y = 0 and 1.",
        };
        output.WriteSummary(summary);
        return summary;
    }

    // ------------------------------------------------------------------ helpers

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static double Median(double[] x)
    {
        var s = x.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    /// <summary>Series on log-log axes (log10 values, as the other trainers' loss curves), optionally with a horizontal pass line.</summary>
    private static void LogLogPlot(string path, string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] X, double[] Y)> series, double? passLine = null)
    {
        var plt = new Plot();
        foreach (var (label, x, y) in series)
        {
            if (x.Length == 0) continue;
            var line = plt.Add.Scatter(x.Select(Math.Log10).ToArray(), y.Select(v => Math.Log10(Math.Max(v, 1e-300))).ToArray());
            line.LegendText = label;
        }
        if (passLine is double p)
        {
            var h = plt.Add.HorizontalLine(Math.Log10(p));
            h.LegendText = "Mosaic pass mark";
            h.LinePattern = LinePattern.Dashed;
        }
        plt.ShowLegend();
        plt.Title(title);
        plt.XLabel("log10 " + xLabel);
        plt.YLabel("log10 " + yLabel);
        plt.SavePng(path, 760, 460);
    }
}
