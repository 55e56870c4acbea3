using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using DiffGen.Physics;
using DiffGen.Trainers.Common;
using DiffGen.Trainers.Experiments;

namespace DiffGen.Trainers;

/// <summary>
/// The physics sample trainers: one command per experiment of the Physics-based Deep Learning book
/// (see ../shared/EXPERIMENTS.md). <c>dotnet run --project samples/Trainers</c> runs burgers-opt.
/// </summary>
public static class Program
{
    /// <summary>
    /// Entry point: Ctrl+C or SIGTERM stops after the current iteration (or at once during set-up) and
    /// writes a checkpoint; a second one ends the process at once.
    /// </summary>
    public static int Main(string[] args)
    {
        // Every number printed or parsed, plot labels included, in the invariant culture.
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        using var cts = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            // The first signal asks the run to stop cleanly (checkpoint, exit code 130); a second one is
            // left to its default action, ending the process.
            if (cts.IsCancellationRequested) return;
            context.Cancel = true;
            cts.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        return Cli.Run(args, Console.Out, Console.Error, cts.Token, live: LiveProgress.Available);
    }
}

/// <summary>The command line (System.CommandLine), callable in-process by the tests.</summary>
public static class Cli
{
    /// <summary>Exit code for a bad option or path.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code after Ctrl+C or SIGTERM (checkpoint written).</summary>
    public const int Cancelled = 130;

    /// <summary>Exit code when training stopped at a NaN or infinite loss or gradient, or a solver failed on one.</summary>
    public const int Diverged = 3;

    /// <summary>Exit code for anything else that failed (a file that cannot be written, a bug): one line on stderr.</summary>
    public const int Failed = 1;

    /// <summary>The experiments, as named on the command line.</summary>
    public static readonly IReadOnlyList<string> Experiments = ["burgers-opt", "smoke-opt", "sol", "control", "mosaic"];

    /// <summary>Parses and runs; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct, bool live = false)
    {
        // No experiment named: burgers-opt, the quick default.
        if (args.Length == 0 || args[0].StartsWith('-') && args[0] is not ("-h" or "--help" or "-?" or "--version"))
            args = ["burgers-opt", .. args];
        else if (!args[0].StartsWith('-') && !Experiments.Contains(args[0]))
        {
            stderr.WriteLine($"error: unknown experiment '{args[0]}'; the experiments are {string.Join(", ", Experiments)} (see --help)");
            return UsageError;
        }

        var root = new RootCommand("DiffGen physics sample trainers: differentiable-physics experiments of the Physics-based Deep Learning book.");
        int exit = 0;

        var iterations = new Option<int>("--iterations") { Description = "Gradient-descent iterations.", DefaultValueFactory = _ => 50 };
        var lr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 5.0 };
        var steps = new Option<int>("--steps") { Description = "Solver steps to the target (t = steps / 32).", DefaultValueFactory = _ => 16 };
        var cells = new Option<int>("--cells") { Description = "Grid cells on [-1, 1].", DefaultValueFactory = _ => 128 };
        var outDir = new Option<string?>("--out") { Description = "Output folder (default: runs/<experiment>-<timestamp>)." };
        var seed = new Option<int>("--seed") { Description = "Random seed (recorded; burgers-opt starts from zeros and is deterministic).", DefaultValueFactory = _ => 0 };
        var resume = new Option<string?>("--resume") { Description = "Continue an interrupted run from its folder's last checkpoint." };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Write a checkpoint every N iterations.", DefaultValueFactory = _ => 10 };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the final table." };

        var burgers = new Command("burgers-opt", "Optimise the initial state of 1D Burgers through 16 solver steps with plain gradient descent (EXPERIMENTS.md §1).");
        foreach (var o in new Option[] { iterations, lr, steps, cells, outDir, seed, resume, checkpointEvery, quiet }) burgers.Options.Add(o);
        burgers.SetAction(parse =>
        {
            var settings = new BurgersOptSettings(parse.GetValue(iterations), parse.GetValue(lr), parse.GetValue(steps), parse.GetValue(cells), parse.GetValue(checkpointEvery), parse.GetValue(seed));
            var resumeDir = parse.GetValue(resume);
            exit = Execute(stdout, stderr, () =>
            {
                settings.Validate();
                OptionChecks.Memory("burgers-opt", 8.0 * settings.Cells * (settings.Steps + 1) * 6, settings.Cells, "--cells or --steps");
                using var output = RunOutput.Open("burgers-opt", parse.GetValue(outDir), resumeDir);
                bool q = parse.GetValue(quiet);
                if (!q) stdout.WriteLine($"burgers-opt: {settings.Cells} cells, {settings.Steps} steps, GD lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}, {settings.Iterations} iterations -> {output.Directory}");
                if (live && !q)
                    LiveProgress.Run("burgers-opt", settings.Iterations, 0, p => BurgersOpt.Run(settings, output, resumeDir, p, stdout, ct));
                else
                    BurgersOpt.Run(settings, output, resumeDir, q ? new LineProgress(stdout, 0) : new LineProgress(stdout, 5), stdout, ct);
            });
        });
        root.Subcommands.Add(burgers);

        var sIterations = new Option<int>("--iterations") { Description = "Gradient-descent iterations.", DefaultValueFactory = _ => 80 };
        var sLr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 1e-3 };
        var sSteps = new Option<int>("--steps") { Description = "Simulation steps (dt = 1).", DefaultValueFactory = _ => 20 };
        var nx = new Option<int>("--nx") { Description = "Cells in x.", DefaultValueFactory = _ => 32 };
        var ny = new Option<int>("--ny") { Description = "Cells in y.", DefaultValueFactory = _ => 40 };
        var sOut = new Option<string?>("--out") { Description = "Output folder (default: runs/<experiment>-<timestamp>)." };
        var sSeed = new Option<int>("--seed") { Description = "Random seed (recorded; smoke-opt starts from rest and is deterministic).", DefaultValueFactory = _ => 0 };
        var sResume = new Option<string?>("--resume") { Description = "Continue an interrupted run from its folder's last checkpoint." };
        var sEvery = new Option<int>("--checkpoint-every") { Description = "Write a checkpoint every N iterations.", DefaultValueFactory = _ => 10 };
        var sQuiet = new Option<bool>("--quiet") { Description = "Print only the final table." };
        var smoke = new Command("smoke-opt", "Optimise the initial velocities of three smoke plumes so their final smoke matches a fourth plume's (EXPERIMENTS.md §2).");
        foreach (var o in new Option[] { sIterations, sLr, sSteps, nx, ny, sOut, sSeed, sResume, sEvery, sQuiet }) smoke.Options.Add(o);
        smoke.SetAction(parse =>
        {
            var settings = new SmokeOptSettings(parse.GetValue(sIterations), parse.GetValue(sLr), parse.GetValue(sSteps), parse.GetValue(nx), parse.GetValue(ny), parse.GetValue(sEvery), parse.GetValue(sSeed));
            var resumeDir = parse.GetValue(sResume);
            exit = Execute(stdout, stderr, () =>
            {
                settings.Validate();
                double faces = ((double)settings.Nx + 1) * ((double)settings.Ny + 1);
                // Four plumes' recorded rollouts (smoke, u, v and what the tape keeps per step).
                OptionChecks.Memory("smoke-opt", 4 * 8.0 * 3 * faces * (settings.Steps + 1) * 4, faces, "--nx/--ny or --steps");
                using var output = RunOutput.Open("smoke-opt", parse.GetValue(sOut), resumeDir);
                bool q = parse.GetValue(sQuiet);
                if (!q) stdout.WriteLine($"smoke-opt: {settings.Nx}x{settings.Ny} cells, {settings.Steps} steps, GD lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}, {settings.Iterations} iterations -> {output.Directory}");
                if (live && !q)
                    LiveProgress.Run("smoke-opt", settings.Iterations, 0, p => SmokeOpt.Run(settings, output, resumeDir, p, stdout, ct));
                else
                    SmokeOpt.Run(settings, output, resumeDir, new LineProgress(stdout, q ? 0 : 1), stdout, ct);
            });
        });
        root.Subcommands.Add(smoke);

        var cIterations = new Option<int>("--iterations") { Description = "Training iterations of dp, dp-stop and supervised (one batch each).", DefaultValueFactory = _ => 200 };
        var cLr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 2e-3 };
        var cTrain = new Option<int>("--train-scenes") { Description = "Training scenes.", DefaultValueFactory = _ => 64 };
        var cTest = new Option<int>("--test-scenes") { Description = "Held-out scenes.", DefaultValueFactory = _ => 32 };
        var cBatch = new Option<int>("--batch") { Description = "Scenes per batch.", DefaultValueFactory = _ => 16 };
        var cSteps = new Option<int>("--steps") { Description = "Solver steps per scene (dt = 0.03).", DefaultValueFactory = _ => 32 };
        var cCells = new Option<int>("--cells") { Description = "Cells on [0, 1].", DefaultValueFactory = _ => 32 };
        var cOut = new Option<string?>("--out") { Description = "Output folder (default: runs/<experiment>-<timestamp>)." };
        var cSeed = new Option<int>("--seed") { Description = "Seed of the scenes, the initial weights and the batches.", DefaultValueFactory = _ => 0 };
        var cQuiet = new Option<bool>("--quiet") { Description = "Print only the final table." };
        var cResume = new Option<string?>("--resume") { Description = "Continue an interrupted run from its folder's last checkpoint." };
        var cEvery = new Option<int>("--checkpoint-every") { Description = "Write a checkpoint every N iterations.", DefaultValueFactory = _ => 50 };
        var cd = new ControlSettings();
        var cMethod = new Option<string>("--method") { Description = "Methods, comma-separated, or all: dp (gradients through all solver steps), dp-stop (gradient stopped at each solver step's input), supervised (true forces, no solver), ppo (model-free RL, EXPERIMENTS.md §4b).", DefaultValueFactory = _ => "dp,supervised" };
        var cSeeds = new Option<int>("--seeds") { Description = "Train every method with seeds --seed .. --seed+N-1 (paired: same initial weights and scene order per seed) and report bootstrap intervals.", DefaultValueFactory = _ => 1 };
        var cForce = new Option<double>("--force-weight") { Description = "w in the objective MSE(u_T, u*) + w * sum_t mean(f^2) (DP's loss; PPO's return is minus it).", DefaultValueFactory = _ => cd.ForceWeight };
        var cPpoIt = new Option<int>("--ppo-iterations") { Description = "PPO iterations (a rollout of --envs x --rollout-steps simulator steps, then 10 epochs of minibatch updates).", DefaultValueFactory = _ => cd.PpoIterations };
        var cPpoLr = new Option<double>("--ppo-lr") { Description = "PPO's Adam learning rate (the book: 1e-4).", DefaultValueFactory = _ => cd.PpoLearningRate };
        var cEnvs = new Option<int>("--envs") { Description = "PPO's parallel environments (the book: 10).", DefaultValueFactory = _ => cd.Envs };
        var cRollout = new Option<int>("--rollout-steps") { Description = "PPO steps per environment and rollout, a multiple of --steps (the book: 320).", DefaultValueFactory = _ => cd.RolloutSteps };
        var cEval = new Option<int>("--eval-every") { Description = "Held-out evaluation every N iterations for the learning curves (PPO: every iteration).", DefaultValueFactory = _ => cd.EvalEvery };
        var cTarget = new Option<double>("--target-error") { Description = "Held-out final-state MSE at which simulator steps and wall time to reach it are reported.", DefaultValueFactory = _ => cd.TargetError };
        var control = new Command("control", "Train a network to steer 1D Burgers to a target: differentiable physics through all solver steps, against a stopped-gradient variant, a supervised baseline and PPO (EXPERIMENTS.md §4, §4b).");
        foreach (var o in new Option[] { cIterations, cLr, cTrain, cTest, cBatch, cSteps, cCells, cOut, cSeed, cResume, cEvery, cQuiet, cMethod, cSeeds, cForce, cPpoIt, cPpoLr, cEnvs, cRollout, cEval, cTarget }) control.Options.Add(o);
        control.SetAction(parse =>
        {
            string methodText = parse.GetValue(cMethod)!;
            string[] methods = methodText.Trim() == "all" ? [.. ControlSettings.AllMethods] : methodText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var settings = new ControlSettings(parse.GetValue(cIterations), parse.GetValue(cLr), parse.GetValue(cTrain), parse.GetValue(cTest), parse.GetValue(cBatch), parse.GetValue(cSteps), parse.GetValue(cCells),
                ForceWeight: parse.GetValue(cForce), Seed: parse.GetValue(cSeed), CheckpointEvery: parse.GetValue(cEvery), Methods: methods, Seeds: parse.GetValue(cSeeds),
                PpoIterations: parse.GetValue(cPpoIt), PpoLearningRate: parse.GetValue(cPpoLr), Envs: parse.GetValue(cEnvs), RolloutSteps: parse.GetValue(cRollout), EvalEvery: parse.GetValue(cEval), TargetError: parse.GetValue(cTarget));
            var resumeDir = parse.GetValue(cResume);
            exit = Execute(stdout, stderr, () =>
            {
                settings.Validate();
                // Scene trajectories, plus the unrolled network activations (4 conv layers of 16 channels, kept for the backward).
                // PPO: its rollout buffer (observations of 3 channels and actions per environment step).
                bool ppo = settings.MethodList.Contains("ppo");
                double rollout = ppo ? (double)settings.Envs * settings.RolloutSteps * settings.Cells : 0;
                OptionChecks.Memory("control", 8.0 * (settings.TrainScenes + settings.TestScenes) * (settings.Steps + 1) * settings.Cells
                    + 4.0 * 3 * 4 * 16 * settings.Batch * settings.Steps * settings.Cells + 4.0 * 4 * rollout,
                    Math.Max(16.0 * settings.Batch * settings.Cells, 3 * rollout), "--cells, --steps, --batch, the scene counts" + (ppo ? ", --envs or --rollout-steps" : ""));
                using var output = RunOutput.Open("control", parse.GetValue(cOut), resumeDir);
                bool q = parse.GetValue(cQuiet);
                if (!q) stdout.WriteLine($"control: {settings.Cells} cells, {settings.Steps} steps, {settings.TrainScenes} training / {settings.TestScenes} held-out scenes, methods {string.Join(",", settings.MethodList)}, {settings.Seeds} seed(s) -> {output.Directory}");
                if (live && !q)
                    LiveProgress.Run("control", settings.Seeds * settings.MethodList.Sum(settings.IterationsOf), 0, p => Control.Run(settings, output, resumeDir, p, stdout, ct));
                else
                    Control.Run(settings, output, resumeDir, new LineProgress(stdout, q ? 0 : 20), stdout, ct);
            });
        });
        root.Subcommands.Add(control);

        // Defaults that differ per scene are nullable here and resolved once the scene is known.
        var qScene = new Option<string>("--scene") { Description = "burgers: the paper's forced 2D Burgers; wake: the book's flow past a disc with Re as a network input.", DefaultValueFactory = _ => "burgers" };
        var solDefaults = new SolSettings();
        var qIterations = new Option<int?>("--iterations") { Description = $"Training iterations per variant (default: burgers {solDefaults.Iterations}, wake 60)." };
        var qLr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 };
        var qTrain = new Option<int?>("--train-scenes") { Description = $"Training forcings (burgers; default {solDefaults.TrainScenes}, the paper's count)." };
        var qTest = new Option<int?>("--test-scenes") { Description = $"Held-out forcings (burgers; default {solDefaults.TestScenes})." };
        var qSteps = new Option<int>("--steps") { Description = "Rollout length in source steps (the paper: 200; the book's wake test: 100).", DefaultValueFactory = _ => 40 };
        var qSource = new Option<int>("--source") { Description = "Source grid cells per side; wake: cells in x, y has twice as many (the paper: 32; the book's wake: 32x64).", DefaultValueFactory = _ => 32 };
        var qFactor = new Option<int?>("--factor") { Description = "Reference refinement factor in space and time (default: burgers 4 as the paper, wake 2; the full size is 4)." };
        var qBatch = new Option<int>("--batch") { Description = "Scenes per batch.", DefaultValueFactory = _ => 3 };
        var qTrainRe = new Option<string?>("--train-re") { Description = "Wake: training Reynolds numbers, comma-separated (default 50,100,200,400,800)." };
        var qTestRe = new Option<string?>("--test-re") { Description = "Wake: held-out Reynolds numbers, comma-separated (default 73.2,300; the first is pictured)." };
        var qWarmup = new Option<int?>("--warmup") { Description = "Wake: reference time units simulated before the recorded window, so shedding has begun (default 200)." };
        var qOut = new Option<string?>("--out") { Description = "Output folder (default: runs/<experiment>-<timestamp>)." };
        var qSeed = new Option<int>("--seed") { Description = "Seed of the forcings, the weights and the batches.", DefaultValueFactory = _ => 0 };
        var qQuiet = new Option<bool>("--quiet") { Description = "Print only the final table." };
        var qResume = new Option<string?>("--resume") { Description = "Continue an interrupted run from its folder's last checkpoint (give the same options)." };
        var qEvery = new Option<int>("--checkpoint-every") { Description = "Write a checkpoint every N iterations.", DefaultValueFactory = _ => 50 };
        var qSeeds = new Option<int>("--seeds") { Description = "Train every variant with seeds --seed .. --seed+N-1 (paired: same initial weights and batch order per seed) and report bootstrap intervals.", DefaultValueFactory = _ => 1 };
        var sol = new Command("sol", "Learned corrections of a coarse solver: NON, PRE, SOL-k (k = 1, 4, 16) and SOL-k-stop (k = 4, 16; gradient stopped at each solver step's input) on held-out scenes (EXPERIMENTS.md §3). "
            + "--scene burgers (default): forced 2D Burgers, held-out forcings. --scene wake: flow past a disc, held-out Reynolds numbers; "
            + "the book's sizes (32x64 source, 4x finer reference, 100-step test) are --scene wake --factor 4 --steps 100; raise --iterations as time allows (with --iterations 20 about 2 minutes on 2 cores, its 128x256 references included).");
        foreach (var o in new Option[] { qScene, qIterations, qLr, qTrain, qTest, qSteps, qSource, qFactor, qBatch, qTrainRe, qTestRe, qWarmup, qOut, qSeed, qSeeds, qResume, qEvery, qQuiet }) sol.Options.Add(o);
        sol.SetAction(parse =>
        {
            var resumeDir = parse.GetValue(qResume);
            exit = Execute(stdout, stderr, () =>
            {
                string scene = parse.GetValue(qScene)!;
                if (scene is not ("burgers" or "wake")) throw new UsageException($"--scene must be burgers or wake (got '{scene}')");
                bool isWake = scene == "wake";
                SolWakeSettings? wake = null;
                if (isWake)
                {
                    if (parse.GetValue(qTrain) != null || parse.GetValue(qTest) != null) throw new UsageException("--train-scenes and --test-scenes are for --scene burgers; the wake scene takes --train-re and --test-re");
                    var d = SolWakeSettings.Default;
                    wake = new SolWakeSettings(ParseList(parse.GetValue(qTrainRe), "--train-re") ?? d.TrainReynolds, ParseList(parse.GetValue(qTestRe), "--test-re") ?? d.TestReynolds, parse.GetValue(qWarmup) ?? d.Warmup);
                    wake.Validate();
                }
                else if (parse.GetValue(qTrainRe) != null || parse.GetValue(qTestRe) != null || parse.GetValue(qWarmup) != null)
                    throw new UsageException("--train-re, --test-re and --warmup are for --scene wake");
                var settings = new SolSettings(parse.GetValue(qIterations) ?? (isWake ? 60 : solDefaults.Iterations), parse.GetValue(qLr),
                    parse.GetValue(qTrain) ?? (isWake ? wake!.TrainReynolds.Length : solDefaults.TrainScenes), parse.GetValue(qTest) ?? (isWake ? wake!.TestReynolds.Length : solDefaults.TestScenes),
                    parse.GetValue(qSteps), parse.GetValue(qSource), parse.GetValue(qFactor) ?? (isWake ? 2 : solDefaults.Factor), parse.GetValue(qBatch), parse.GetValue(qSeed), parse.GetValue(qEvery), parse.GetValue(qSeeds));
                settings.Validate();
                CheckSolSizes(settings, isWake);
                using var output = RunOutput.Open("sol", parse.GetValue(qOut), resumeDir);
                bool q = parse.GetValue(qQuiet);
                if (!q)
                {
                    if (wake == null)
                        stdout.WriteLine($"sol: {settings.Source}² source, {settings.Source * settings.Factor}² reference, {settings.Steps} steps, {settings.TrainScenes}/{settings.TestScenes} forcings, {settings.Iterations} iterations per variant -> {output.Directory}");
                    else
                        stdout.WriteLine(FormattableString.Invariant($"sol (wake): {settings.Source}x{2 * settings.Source} source, {settings.Source * settings.Factor}x{2 * settings.Source * settings.Factor} reference, {settings.Steps} steps after {wake.Warmup} warm-up, Re {string.Join(",", wake.TrainReynolds)} / held out {string.Join(",", wake.TestReynolds)}, {settings.Iterations} iterations per variant -> {output.Directory}"));
                }
                if (live && !q)
                    LiveProgress.Run("sol", Sol.Variants.Count * settings.Seeds * settings.Iterations, 0, p => Sol.Run(settings, output, resumeDir, p, stdout, ct, wake));
                else
                    Sol.Run(settings, output, resumeDir, new LineProgress(stdout, q ? 0 : isWake ? 10 : 50), stdout, ct, wake);
            });
        });
        root.Subcommands.Add(sol);

        root.Subcommands.Add(MosaicCommand.Create(stdout, stderr, ct, code => exit = code));

        InvariantNumbers.Apply(root);
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            stderr.WriteLine($"error: {result.Errors[0].Message} (see --help)");
            return UsageError;
        }
        int code = result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return exit != 0 ? exit : code;
    }

    /// <summary>A comma-separated list of numbers, or null when the option was not given.</summary>
    private static double[]? ParseList(string? text, string option)
    {
        if (text == null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new UsageException($"{option} must be comma-separated numbers (got '{text}')");
        return values;
    }

    /// <summary>sol's sizes against this machine: the reference trajectories, the fine solver's fields and SOL-16's unrolled network.</summary>
    private static void CheckSolSizes(SolSettings s, bool wake)
    {
        double n = s.Source, fine = n * s.Factor;
        double state = wake ? 4 * n * n : 2 * n * n, fineState = wake ? 4 * fine * fine : 2 * fine * fine;
        double channels = wake ? 32 : 16, layers = wake ? 8 : 10;
        double bytes = 8 * (double)(s.TrainScenes + s.TestScenes) * (s.Steps + 1) * state // references on the source grid
            + 8 * 12 * fineState                                                            // the fine solver's fields
            + 4.0 * 3 * s.Batch * 16 * layers * channels * state / 2;                       // SOL-16's activations on the tape
        OptionChecks.Memory("sol", bytes, fineState, "--source, --factor, --steps or --batch");
    }

    /// <summary>Runs an experiment; every failure becomes one line on stderr and an exit code, never a stack trace.</summary>
    private static int Execute(TextWriter stdout, TextWriter stderr, Action run)
    {
        try
        {
            run();
            return 0;
        }
        catch (UsageException e)
        {
            stderr.WriteLine("error: " + e.Message);
            return UsageError;
        }
        catch (OperationCanceledException e)
        {
            stderr.WriteLine("cancelled: " + e.Message);
            return Cancelled;
        }
        catch (TrainingDivergedException e)
        {
            stderr.WriteLine("error: " + e.Message);
            return Diverged;
        }
        catch (SolverException e)
        {
            stderr.WriteLine($"error: {e.Message} Training stopped; the last checkpoint, if one was written, is kept.");
            return Diverged;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: cannot write the run's files: {e.Message}");
            return Failed;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("DIFFGEN_STACKTRACE") != "1")
        {
            stderr.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message} (a bug: please report it with the command line; DIFFGEN_STACKTRACE=1 prints the stack trace)");
            return Failed;
        }
    }
}
