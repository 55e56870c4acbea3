using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DiffGen.NN.IO;
using DiffGen.Trainers;
using DiffGen.Trainers.Common;
using DiffGen.Trainers.Experiments;

namespace DiffGen.Samples.Tests;

/// <summary>
/// Issue #13, data loss: a run owns its folder, refuses other runs' folders, commits its outputs before it
/// removes its checkpoint, cleans up after a kill, and default folder names do not collide.
/// </summary>
public sealed class RunFolderTests() : TrainerTestBase("diffgen-folders-")
{
    private static readonly string[] Tiny = ["burgers-opt", "--iterations", "4", "--cells", "16", "--quiet"];

    /// <summary>Blocks the run at its first iteration until released, so another run can try the same folder meanwhile.</summary>
    private sealed class Gate : IProgressReporter
    {
        public readonly ManualResetEventSlim Reached = new(), Release = new();

        public void Report(int iteration, int total, double loss)
        {
            if (iteration != 0) return;
            Reached.Set();
            Release.Wait(TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public async Task TwoRunsOnOneFolder_TheSecondIsRefused_AndTheFirstKeepsItsResults()
    {
        var dir = Dir("shared");
        var gate = new Gate();
        var first = Task.Run(() =>
        {
            using var output = RunOutput.Open("burgers-opt", dir, null);
            return BurgersOpt.Run(new BurgersOptSettings(Iterations: 4, Cells: 16), output, null, gate, TextWriter.Null, CancellationToken.None);
        });
        Assert.True(gate.Reached.Wait(TimeSpan.FromSeconds(60)));
        var (code, _, err) = Run([.. Tiny, "--out", dir]);
        gate.Release.Set();
        Assert.Equal(Cli.UsageError, code); // before: both exited 0 and their files mixed
        Assert.Contains("in use by another run", err);
        var result = await first;
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Length - 1);
        Assert.True(File.Exists(Path.Combine(dir, "summary.json")));
        Assert.Equal(4, result.Losses.Length);
    }

    [Fact]
    public void NewRunAtAFinishedRunsFolder_IsRefused_AndTheResultsStay()
    {
        var dir = Dir("finished");
        Assert.Equal(0, Run([.. Tiny, "--out", dir]).Code);
        var summary = File.ReadAllBytes(Path.Combine(dir, "summary.json"));
        var (code, _, err) = Run([.. Tiny, "--lr", "1", "--out", dir]);
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("finished burgers-opt", err);
        Assert.Equal(summary, File.ReadAllBytes(Path.Combine(dir, "summary.json")));
    }

    [Fact]
    public void NewRunAtAnInterruptedRunsFolder_IsRefused_AndTheRunStaysResumable()
    {
        var dir = Dir("interrupted");
        Interrupt(dir);
        var (code, _, err) = Run([.. Tiny, "--out", dir]);
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains($"--resume {dir}", err);
        Assert.True(File.Exists(Path.Combine(dir, Checkpoints.FileName))); // before: deleted by the new run
        Assert.Equal(0, Run([.. Tiny, "--resume", dir]).Code);
    }

    [Fact]
    public void ResumeWithAnotherOut_IsRefused()
    {
        var dir = Dir("r");
        Interrupt(dir);
        var (code, _, err) = Run([.. Tiny, "--resume", dir, "--out", Dir("elsewhere")]);
        Assert.Equal(Cli.UsageError, code); // before: --out was silently ignored
        Assert.Contains("--out", err);
    }

    [Fact]
    public void DefaultFolders_OfRunsStartedInTheSameSecond_DoNotCollide()
    {
        var now = new DateTime(2026, 12, 1, 10, 0, 0);
        using var a = RunOutput.Open("burgers-opt", null, null, Root, now);
        using var b = RunOutput.Open("burgers-opt", null, null, Root, now); // a is running
        Assert.NotEqual(a.Directory, b.Directory);
        File.WriteAllText(a.PathOf("summary.json"), "{}");
        a.Dispose();
        using var c = RunOutput.Open("burgers-opt", null, null, Root, now); // a finished: its folder is not reused
        Assert.Equal(3, new[] { a.Directory, b.Directory, c.Directory }.Distinct().Count());
    }

    [Fact]
    public void TempFilesLeftByAKill_AreRemovedByTheNextRunInTheFolder()
    {
        var dir = Dir("temps");
        Interrupt(dir);
        string[] leftovers = [".checkpoint.safetensors.0123456789abcdef0123456789abcdef.tmp", ".metrics.csv.fedcba9876543210fedcba9876543210.tmp"];
        foreach (var f in leftovers) File.WriteAllText(Path.Combine(dir, f), "half");
        File.WriteAllText(Path.Combine(dir, "notes.tmp"), "the user's"); // not ours: kept
        Assert.Equal(0, Run([.. Tiny, "--resume", dir]).Code);
        foreach (var f in leftovers) Assert.False(File.Exists(Path.Combine(dir, f)), f);
        Assert.True(File.Exists(Path.Combine(dir, "notes.tmp")));
    }

    [Fact]
    public void OutAtAReadOnlyFolder_IsAUsageError()
    {
        string dir;
        if (!OperatingSystem.IsLinux()) return; // the read-only folders below are Linux's
        if (Environment.IsPrivilegedProcess)
            dir = "/proc/self"; // root writes through file modes; /proc refuses new files even to root
        else
        {
            dir = Dir("readonly");
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        AssertUsageError([.. Tiny, "--out", dir]);
        Assert.Contains("cannot write", Run([.. Tiny, "--out", dir]).Err);
    }

    private static void Interrupt(string dir)
    {
        using var cts = new CancellationTokenSource();
        using var output = new RunOutput(dir, "burgers-opt");
        Assert.Throws<OperationCanceledException>(() => BurgersOpt.Run(new BurgersOptSettings(Iterations: 4, Cells: 16), output, null, new StopAt(cts, 2), TextWriter.Null, cts.Token));
    }
}

/// <summary>The commit window: a run killed anywhere between its last iteration and the removal of its checkpoint resumes to the same results.</summary>
public sealed class CommitWindowTests() : TrainerTestBase("diffgen-commit-")
{
    private static readonly ControlSettings Settings = new(Iterations: 6, TrainScenes: 6, TestScenes: 3, Batch: 3, Steps: 6, Cells: 16, CheckpointEvery: 4);

    private sealed class SimulatedKill(string point) : Exception($"killed at {point}");

    [Theory]
    [InlineData("checkpoint 12")] // right after the final checkpoint (dp's 6 iterations, then supervised's), before any output
    [InlineData("summary")]      // every output written but summary.json
    [InlineData("clear")]        // summary.json written, checkpoints not yet removed
    public void KilledInTheCommitWindow_ResumesToTheSameResults(string point)
    {
        var full = Dir("full");
        using (var o = new RunOutput(full, "control"))
            Control.Run(Settings, o, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);

        var part = Dir("part");
        using (var o = new RunOutput(part, "control"))
        using (FaultInjection.Arm(p => { if (p == point) throw new SimulatedKill(p); }))
            Assert.Throws<SimulatedKill>(() => Control.Run(Settings, o, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None));

        if (point == "clear")
        {
            // The results were committed: --resume says so, and the leftover checkpoint is removed.
            var (code, _, err) = Run("control", "--resume", part, "--iterations", "6", "--train-scenes", "6", "--test-scenes", "3", "--batch", "3", "--steps", "6", "--cells", "16", "--checkpoint-every", "4");
            Assert.Equal(Cli.UsageError, code);
            Assert.Contains("finished control", err);
            Assert.Empty(Directory.GetFiles(part, "checkpoint*"));
        }
        else
        {
            // Before: control removed its checkpoint before writing its networks, so this resume was refused.
            var (code, _, err) = Run("control", "--resume", part, "--iterations", "6", "--train-scenes", "6", "--test-scenes", "3", "--batch", "3", "--steps", "6", "--cells", "16", "--checkpoint-every", "4", "--quiet");
            Assert.True(code == 0, err);
        }
        foreach (var f in new[] { "model.safetensors", "supervised.safetensors", "metrics.csv" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(full, f)), File.ReadAllBytes(Path.Combine(part, f)));
        Assert.Empty(Directory.GetFiles(part, "checkpoint*"));
    }
}

/// <summary>Issue #13, wrong results and crashes: invariant numbers, the non-finite policy, damaged checkpoints, sizes, signals, errors.</summary>
public sealed class TrainerInputTests() : TrainerTestBase("diffgen-inputs-")
{
    private static readonly string[] Burgers = ["burgers-opt", "--iterations", "6", "--cells", "16", "--checkpoint-every", "2", "--quiet"];

    [Fact]
    public void Numbers_AreReadInvariantly_UnderAGermanLocale()
    {
        var german = CultureInfo.GetCultureInfo("de-DE");
        Assert.Equal(",", german.NumberFormat.NumberDecimalSeparator); // the locale that turned 0.001 into 1
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = german;
            var dir = Dir("de");
            var (code, _, err) = Run("burgers-opt", "--lr", "0.001", "--iterations", "1", "--cells", "16", "--quiet", "--out", dir);
            Assert.True(code == 0, err);
            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
            Assert.Equal(0.001, summary.RootElement.GetProperty("settings").GetProperty("LearningRate").GetDouble());
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
        // A decimal comma is not a number here (under en-US it meant 5, under de-DE 0.5).
        var (c2, _, e2) = Run("burgers-opt", "--lr", "0,5", "--out", Dir("comma"));
        Assert.Equal(Cli.UsageError, c2);
        Assert.Contains("'0,5'", e2);
    }

    [Fact]
    public void DivergingLoss_StopsAtItsIteration_KeepsTheCheckpoint_AndExitsNonZero()
    {
        var dir = Dir("nan");
        var (code, _, err) = Run("burgers-opt", "--lr", "1e12", "--iterations", "50", "--cells", "16", "--checkpoint-every", "1", "--quiet", "--out", dir);
        Assert.Equal(Cli.Diverged, code); // before: 0, with NaN in the results (or a crash writing them)
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--lr", err);
        int at = int.Parse(err.Split("at iteration ")[1].Split(';')[0], CultureInfo.InvariantCulture);
        var rows = File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Skip(1).ToArray();
        Assert.Equal(at, rows.Length);
        Assert.All(rows, r => Assert.True(double.IsFinite(double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture)), r));
        Assert.False(File.Exists(Path.Combine(dir, "summary.json")));
        var (_, meta) = SafeTensors.Read(Path.Combine(dir, Checkpoints.FileName));
        Assert.Equal(at.ToString(CultureInfo.InvariantCulture), meta["next_iteration"]);
    }

    [Theory]
    [InlineData("dp-stop", "--lr")]
    [InlineData("ppo", "--ppo-lr")]
    public void DivergingControlMethods_StopWithExit3_NamingTheirLearningRate(string method, string lrOption)
    {
        // The non-finite policy covers the methods added beside dp and supervised: PPO's minibatch updates
        // (and a simulation that blows up under its sampled forces) stop like a diverging loss.
        var dir = Dir("nan-" + method);
        var (code, _, err) = Run("control", "--method", method, lrOption, "1e12", "--iterations", "20", "--ppo-iterations", "20", "--envs", "2", "--rollout-steps", "8",
            "--steps", "8", "--cells", "16", "--train-scenes", "4", "--test-scenes", "2", "--batch", "2", "--checkpoint-every", "1", "--quiet", "--out", dir);
        Assert.Equal(Cli.Diverged, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(lrOption + " ", err);
        Assert.False(File.Exists(Path.Combine(dir, "summary.json")));
    }

    [Theory]
    [InlineData("sol", "--lr", "Infinity")]
    [InlineData("control", "--lr", "Infinity")]
    [InlineData("control", "--lr", "NaN")]
    [InlineData("sol", "--source", "100000")]
    [InlineData("smoke-opt", "--nx", "100000", "--ny", "100000")]
    [InlineData("smoke-opt", "--nx", "2147483647", "--ny", "2147483647")]
    [InlineData("control", "--cells", "2000000000")]
    public void UnusableOptions_AreAOneLineUsageError(params string[] args)
    {
        AssertUsageError([.. args, "--out", Dir("x")]);
        Assert.False(Directory.Exists(Dir("x"))); // refused before anything was created
    }

    [Fact]
    public void SizesBeyondExplicitDiffusionsLimit_Run()
    {
        // Before: the Burgers1D constructor refused the step (unstable explicit diffusion) with a stack trace.
        var (code, _, err) = Run("control", "--cells", "128", "--iterations", "1", "--train-scenes", "2", "--test-scenes", "1", "--batch", "2", "--steps", "3", "--quiet", "--out", Dir("c128"));
        Assert.True(code == 0, err);
        (code, _, err) = Run("burgers-opt", "--cells", "30000", "--iterations", "1", "--steps", "1", "--quiet", "--out", Dir("b30000"));
        Assert.True(code == 0, err);
    }

    [Fact]
    public void UnknownExperiment_IsNamed_WithTheList()
    {
        var (code, _, err) = Run("foo", "--iterations", "3");
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("'foo'", err);
        Assert.Contains("burgers-opt, smoke-opt, sol, control, mosaic", err);
    }

    [Fact]
    public void ResumeAtAFile_OrAnotherExperimentsFolder_SaysSo()
    {
        var dir = Dir("b");
        Interrupt(dir);
        var (code, _, err) = Run([.. Burgers, "--resume", Path.Combine(dir, Checkpoints.FileName)]);
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains($"--resume {dir}", err); // before: "folder does not exist"
        (code, _, err) = Run("control", "--resume", dir);
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("holds a burgers-opt run", err);
    }

    public static TheoryData<string> Damages => new() { "missing tensor", "wrong rank", "short tensor", "metadata type", "duplicate key", "flipped byte", "negative next_iteration", "metrics mismatch", "other lr", "fewer iterations" };

    [Theory]
    [MemberData(nameof(Damages))]
    public void DamagedCheckpoint_IsAOneLineUsageError(string damage)
    {
        var dir = Dir("d");
        Interrupt(dir);
        var path = Path.Combine(dir, Checkpoints.FileName);
        var (tensors, meta) = SafeTensors.Read(path);
        var state = tensors["initial_state"].AsDoubles();
        var metrics = tensors["__metrics"];
        string[] args = Burgers;
        void Rewrite(IEnumerable<SafeTensor> ts, Dictionary<string, string>? m = null) =>
            SafeTensors.Write(path, ts, m ?? meta.Where(kv => kv.Key != SafeTensors.ChecksumKey).ToDictionary());
        switch (damage)
        {
            case "missing tensor": Rewrite([metrics]); break;
            case "wrong rank": Rewrite([metrics, new SafeTensor("initial_state", [2, 8], F64: state)]); break;
            case "short tensor": Rewrite([metrics, new SafeTensor("initial_state", [10], F64: state[..10])]); break;
            case "metadata type": RawHeader(path, h => h.Replace("\"next_iteration\":\"2\"", "\"next_iteration\":2")); break;
            case "duplicate key": RawHeader(path, h => Regex.Replace(h, "\"initial_state\":\\{[^}]*\\}", m => m.Value + "," + m.Value)); break;
            case "flipped byte": var b = File.ReadAllBytes(path); b[^20] ^= 0x40; File.WriteAllBytes(path, b); break;
            case "negative next_iteration": Rewrite(tensors.Values, new(meta.Where(kv => kv.Key != SafeTensors.ChecksumKey)) { ["next_iteration"] = "-5" }); break;
            case "metrics mismatch": Rewrite(tensors.Values, new(meta.Where(kv => kv.Key != SafeTensors.ChecksumKey)) { ["next_iteration"] = "5" }); break;
            case "other lr": args = [.. Burgers, "--lr", "3"]; break;
            case "fewer iterations": args = ["burgers-opt", "--iterations", "1", "--cells", "16", "--quiet"]; break;
        }
        var (code, _, err) = Run([.. args, "--resume", dir]);
        Assert.Equal(Cli.UsageError, code); // before: accepted, or a KeyNotFound/IndexOutOfRange stack trace
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        if (damage == "other lr") Assert.Contains("--lr 5 (now 3)", err);
        Assert.False(File.Exists(Path.Combine(dir, "summary.json")));
    }

    [Fact]
    public void CheckpointedOptimizerWithoutItsStep_IsAOneLineUsageError()
    {
        var dir = Dir("c");
        var settings = new ControlSettings(Iterations: 6, TrainScenes: 4, TestScenes: 2, Batch: 2, Steps: 4, Cells: 16, CheckpointEvery: 2);
        using (var cts = new CancellationTokenSource())
        using (var output = new RunOutput(dir, "control"))
            Assert.Throws<OperationCanceledException>(() => Control.Run(settings, output, null, new StopAt(cts, 3), TextWriter.Null, cts.Token));
        var opt = Directory.GetFiles(dir, "checkpoint-*-dp.opt.safetensors").Single();
        var (tensors, meta) = SafeTensors.Read(opt);
        SafeTensors.Write(opt, tensors.Values, meta.Where(kv => kv.Key is not ("step" or SafeTensors.ChecksumKey)).ToDictionary());
        var (code, _, err) = Run("control", "--iterations", "6", "--train-scenes", "4", "--test-scenes", "2", "--batch", "2", "--steps", "4", "--cells", "16", "--checkpoint-every", "2", "--resume", dir);
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("'step'", err);
    }

    [Fact]
    public void CancelDuringSolSetUp_StopsThereWithoutACheckpoint()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var settings = new SolSettings(Iterations: 2, Steps: 17, Source: 8, Factor: 2, Batch: 1);
        var wake = new SolWakeSettings([100], [200], Warmup: 5);
        using var output = new RunOutput(Dir("sol"), "sol");
        var e = Assert.Throws<OperationCanceledException>(() => Sol.Run(settings, output, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, cts.Token, wake));
        Assert.Contains("set-up", e.Message); // before: the set-up ran to its end, then a checkpoint at iteration 0
        Assert.False(File.Exists(output.PathOf(Checkpoints.FileName)));
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [Fact]
    public async Task Sigterm_StopsLikeCtrlC_WithACheckpoint()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // SIGTERM is a POSIX signal
        var dir = Dir("term");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["CI"] = "true" },
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "diffgen-trainers.dll"), "burgers-opt", "--iterations", "1000000", "--cells", "32", "--checkpoint-every", "1000000", "--out", dir })
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = new StringBuilder();
        using var running = new ManualResetEventSlim();
        p.OutputDataReceived += (_, e) => { if (e.Data is { } line) { lock (stdout) stdout.AppendLine(line); if (line.Contains("iteration")) running.Set(); } };
        p.BeginOutputReadLine();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            Assert.True(running.Wait(TimeSpan.FromSeconds(60)), "the trainer did not start iterating");
            Assert.Equal(0, kill(p.Id, 15));
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "the trainer did not stop on SIGTERM");
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
        Assert.Equal(Cli.Cancelled, p.ExitCode); // before: killed by the signal (143), no checkpoint
        Assert.Contains("--resume", await stderr);
        Assert.True(File.Exists(Path.Combine(dir, Checkpoints.FileName)));
    }

    private static void RawHeader(string path, Func<string, string> edit)
    {
        var bytes = File.ReadAllBytes(path);
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = edit(Encoding.UTF8.GetString(bytes, 8, n).TrimEnd());
        var json = Encoding.UTF8.GetBytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        var result = new byte[8 + padded + bytes.Length - 8 - n];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        result.AsSpan(8, padded).Fill((byte)' ');
        json.CopyTo(result, 8);
        bytes.AsSpan(8 + n).CopyTo(result.AsSpan(8 + padded));
        File.WriteAllBytes(path, result);
    }

    private static void Interrupt(string dir)
    {
        using var cts = new CancellationTokenSource();
        using var output = new RunOutput(dir, "burgers-opt");
        Assert.Throws<OperationCanceledException>(() => BurgersOpt.Run(new BurgersOptSettings(Iterations: 6, Cells: 16, CheckpointEvery: 2), output, null, new StopAt(cts, 2), TextWriter.Null, cts.Token));
    }
}
