using System.CommandLine;
using System.Globalization;
using DiffGen.Trainers.Common;

namespace DiffGen.Trainers.Experiments;

/// <summary>The <c>mosaic</c> command: options, Mosaic's per-task defaults, and the run.</summary>
public static class MosaicCommand
{
    /// <summary>Mosaic's settings of each task (navier_stokes_grid/config.py); options given on the command line override them.</summary>
    public static MosaicSettings Defaults(string task) => task switch
    {
        "forward" => new MosaicSettings { Task = task, Dt = 0.01 },
        "cost" => new MosaicSettings { Task = task, Sizes = [64, 128, 192, 256], Steps = 100, StepsList = [10, 50, 100, 500, 1000], N = 128, Viscosity = 0.01, Dt = 0.01 },
        "optimize" => new MosaicSettings { Task = task, N = 64, Steps = 200, Viscosity = 0.0025, Dt = 0.02 },
        _ => new MosaicSettings { Task = task },
    };

    /// <summary>Builds the command; <paramref name="setExit"/> receives the exit code of a run.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr, CancellationToken ct, Action<int> setExit)
    {
        var task = new Option<string>("--task") { Description = "forward | gradient | cost | optimize.", DefaultValueFactory = _ => "forward" };
        var sizes = new Option<string?>("--sizes") { Description = "Grid sizes of the N sweep, comma-separated (forward: 16,32,64,128; cost: 64,128,192,256)." };
        var stepsList = new Option<string?>("--steps-list") { Description = "Step counts of the step sweep (forward: 5,10,20,50,100; cost: 10,50,100,500,1000)." };
        var viscosities = new Option<string?>("--viscosities") { Description = "Viscosities of forward's nu sweep (default 0.001,0.005,0.01,0.05,0.1)." };
        var n = new Option<int?>("--n") { Description = "Grid size (gradient 16, cost's step sweep 128, optimize 64)." };
        var steps = new Option<int?>("--steps") { Description = "Steps (gradient 20, cost's N sweep 100, optimize 200)." };
        var nu = new Option<double?>("--viscosity") { Description = "Viscosity (gradient 0.001, cost 0.01, optimize 0.0025)." };
        var dt = new Option<double?>("--dt") { Description = "Time step (forward and cost 0.01, gradient 0.05, optimize 0.02)." };
        var dirs = new Option<int?>("--directions") { Description = "Random directions of the finite-difference check (20)." };
        var horizons = new Option<string?>("--horizons") { Description = "Horizons of the gradient's horizon sweep (5,10,20,40,80,160,320)." };
        var trials = new Option<int?>("--trials") { Description = "Timed trials per cost point, after one warm-up (3)." };
        var iterations = new Option<int?>("--iterations") { Description = "Adam iterations of optimize (250)." };
        var lbfgs = new Option<int?>("--lbfgs-iterations") { Description = "L-BFGS iterations of optimize (50)." };
        var lr = new Option<double?>("--lr") { Description = "Adam learning rate of optimize (5e-4)." };
        var speed = new Option<double?>("--speed") { Description = "Mean inflow speed U of optimize (0.5)." };
        var radius = new Option<double?>("--radius") { Description = "Cylinder radius / side of optimize (0.05)." };
        var xBoundary = new Option<string>("--x-boundary") { Description = "optimize's channel in x: periodic (Mosaic's) or zero-gradient (open outflow).", DefaultValueFactory = _ => "periodic" };
        var tolerance = new Option<double?>("--tolerance") { Description = "Pressure CG tolerance, max-norm of the divergence (1e-9)." };
        var advection = new Option<string>("--advection") { Description = "Self-advection: semi-lagrangian (RK2 backtrace, first order) or maccormack (second order in space).", DefaultValueFactory = _ => "semi-lagrangian" };
        var outDir = new Option<string?>("--out") { Description = "Output folder (default: runs/mosaic-<task>-<timestamp>)." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the multi-mode initial condition and the random directions (42, Mosaic's)." };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the last line." };
        var cmd = new Command("mosaic", "Mosaic's 2D incompressible Navier-Stokes protocol (pasteurlabs/mosaic): forward accuracy against the analytic Taylor-Green decay, "
            + "finite-difference gradient checks and their horizon, forward/VJP cost and memory, and drag minimisation over an inflow profile with Adam and L-BFGS (EXPERIMENTS.md §4d).");
        foreach (var o in new Option[] { task, sizes, stepsList, viscosities, n, steps, nu, dt, dirs, horizons, trials, iterations, lbfgs, lr, speed, radius, xBoundary, tolerance, advection, outDir, seed, quiet })
            cmd.Options.Add(o);
        cmd.SetAction(parse => setExit(Execute(stderr, () =>
        {
            string t = parse.GetValue(task)!;
            string xb = parse.GetValue(xBoundary)!;
            if (xb is not ("periodic" or "zero-gradient")) throw new UsageException($"--x-boundary must be periodic or zero-gradient (got '{xb}')");
            string adv = parse.GetValue(advection)!;
            if (adv is not ("semi-lagrangian" or "maccormack")) throw new UsageException($"--advection must be semi-lagrangian or maccormack (got '{adv}')");
            var d = Defaults(t);
            var s = d with
            {
                Sizes = Ints(parse.GetValue(sizes), "--sizes") ?? d.Sizes,
                StepsList = Ints(parse.GetValue(stepsList), "--steps-list") ?? d.StepsList,
                Viscosities = Doubles(parse.GetValue(viscosities), "--viscosities") ?? d.Viscosities,
                Horizons = Ints(parse.GetValue(horizons), "--horizons") ?? d.Horizons,
                N = parse.GetValue(n) ?? d.N,
                Steps = parse.GetValue(steps) ?? d.Steps,
                Viscosity = parse.GetValue(nu) ?? d.Viscosity,
                Dt = parse.GetValue(dt) ?? d.Dt,
                Directions = parse.GetValue(dirs) ?? d.Directions,
                Trials = parse.GetValue(trials) ?? d.Trials,
                Iterations = parse.GetValue(iterations) ?? d.Iterations,
                LbfgsIterations = parse.GetValue(lbfgs) ?? d.LbfgsIterations,
                LearningRate = parse.GetValue(lr) ?? d.LearningRate,
                Speed = parse.GetValue(speed) ?? d.Speed,
                Radius = parse.GetValue(radius) ?? d.Radius,
                PeriodicX = xb == "periodic",
                Tolerance = parse.GetValue(tolerance) ?? d.Tolerance,
                MacCormack = adv == "maccormack",
                Seed = parse.GetValue(seed) ?? d.Seed,
            };
            s.Validate();
            try
            {
                Mosaic.Preflight(s);
            }
            catch (ArgumentException e)
            {
                // A setting the model rejects (an unstable dt, a cylinder smaller than a cell): one line, exit code 2.
                throw new UsageException(e.Message.Split('\n')[0]);
            }
            var output = new RunOutput(parse.GetValue(outDir) ?? Path.Combine("runs", $"mosaic-{t}-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
            bool q = parse.GetValue(quiet);
            var log = q ? TextWriter.Null : stdout;
            log.WriteLine($"mosaic --task {t} -> {output.Directory}");
            Mosaic.Run(s, output, log, ct);
            if (q) stdout.WriteLine($"mosaic --task {t}: done -> {output.Directory}");
        })));
        return cmd;
    }

    private static int Execute(TextWriter stderr, Action run)
    {
        try
        {
            run();
            return 0;
        }
        catch (UsageException e)
        {
            stderr.WriteLine("error: " + e.Message);
            return Cli.UsageError;
        }
        catch (OperationCanceledException e)
        {
            stderr.WriteLine("cancelled: " + e.Message);
            return Cli.Cancelled;
        }
    }

    private static int[]? Ints(string? text, string option) =>
        Doubles(text, option) is double[] v ? v.Select(x => x == Math.Floor(x) && Math.Abs(x) < int.MaxValue ? (int)x : throw new UsageException($"{option} must be comma-separated integers (got '{text}')")).ToArray() : null;

    private static double[]? Doubles(string? text, string option)
    {
        if (text == null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UsageException($"{option} must list at least one number (got '{text}')");
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new UsageException($"{option} must be comma-separated numbers (got '{text}')");
        return values;
    }
}
