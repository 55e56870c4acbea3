using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using DiffGen.Trainers;
using DiffGen.Trainers.Common;

namespace DiffGen.Samples.Tests;

/// <summary>Shared scaffolding: a temp folder per test class, the CLI run in-process, and a reporter that cancels at a position.</summary>
public abstract class TrainerTestBase : IDisposable
{
    protected TrainerTestBase(string prefix) => Root = Directory.CreateTempSubdirectory(prefix).FullName;

    protected string Root { get; }

    protected string Dir(string name) => Path.Combine(Root, name);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    /// <summary>A usage error: exit code 2 and a one-line message on stderr that starts with "error:".</summary>
    protected static void AssertUsageError(string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(Cli.UsageError, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error:", err);
    }

    protected static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Cli.Run(args, o, e, CancellationToken.None);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>Cancels once <paramref name="position"/> iterations (counted from 1) have been reported.</summary>
    protected sealed class StopAt(CancellationTokenSource cts, int position) : IProgressReporter
    {
        public void Report(int iteration, int total, double loss)
        {
            if (iteration + 1 == position) cts.Cancel();
        }
    }
}

/// <summary>The trainer CLI run in-process, at tiny sizes.</summary>
public sealed class BurgersOptTests() : TrainerTestBase("diffgen-samples-")
{

    [Fact]
    public void SmokeRun_LossDecreases_AndEveryOutputIsWrittenAndValid()
    {
        var dir = Dir("smoke");
        var (code, stdout, stderr) = Run("burgers-opt", "--iterations", "6", "--cells", "32", "--out", dir);
        Assert.True(code == 0, stderr);
        Assert.Contains("iteration", stdout);

        var rows = File.ReadAllLines(Path.Combine(dir, "metrics.csv"));
        Assert.Equal("iteration,loss,gradient_norm", rows[0]);
        var losses = rows.Skip(1).Select(r => double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(6, losses.Length);
        for (int i = 1; i < losses.Length; i++) Assert.True(losses[i] < losses[i - 1], $"loss went up at iteration {i}");

        foreach (var png in new[] { "loss.png", "fields.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, png));
            Assert.True(bytes.Length > 1000);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        Assert.Equal("burgers-opt", summary.RootElement.GetProperty("experiment").GetString());
        Assert.True(summary.RootElement.GetProperty("final_loss").GetDouble() < losses[0]);
        Assert.Equal(0, summary.RootElement.GetProperty("seed").GetInt32());

        var model = File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(model);
        using var header = JsonDocument.Parse(model.AsMemory(8, (int)headerLength));
        var t = header.RootElement.GetProperty("initial_state");
        Assert.Equal("F64", t.GetProperty("dtype").GetString());
        Assert.Equal(32, t.GetProperty("shape")[0].GetInt32());
        Assert.Equal(8 + (long)headerLength + 32 * 8, model.Length);
        Assert.False(File.Exists(Path.Combine(dir, "checkpoint.safetensors")), "a finished run leaves no checkpoint");
    }

    [Fact]
    public void FullSizeRun_FollowsTheBooksCurve()
    {
        var dir = Dir("full");
        var (code, stdout, _) = Run("burgers-opt", "--quiet", "--out", dir);
        Assert.Equal(0, code);
        var losses = File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Skip(1)
            .Select(r => double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        // Book: 0.3829 (0) ... 0.0033 (45); this solver's own target makes early losses ~5 % higher.
        Assert.InRange(losses[0], 0.38, 0.41);
        Assert.InRange(losses[45], 0.0030, 0.0036);
        Assert.Contains("book", stdout);
    }

    [Fact]
    public void Resume_EndsExactlyLikeAnUninterruptedRun()
    {
        var full = Dir("uninterrupted");
        Assert.Equal(0, Run("burgers-opt", "--iterations", "12", "--cells", "32", "--checkpoint-every", "4", "--out", full, "--quiet").Code);

        // Interrupt after 5 iterations: a cancelled run writes its checkpoint at the iteration it stopped.
        var part = Dir("interrupted");
        using var cts = new CancellationTokenSource();
        var o = new StringWriter();
        var progress = new StopAt(cts, 5);
        var settings = new DiffGen.Trainers.Experiments.BurgersOptSettings(Iterations: 12, Cells: 32, CheckpointEvery: 4);
        using (var output = new RunOutput(part)) // disposed like the process that ends: the folder's lock is released
            Assert.Throws<OperationCanceledException>(() => DiffGen.Trainers.Experiments.BurgersOpt.Run(settings, output, null, progress, o, cts.Token));
        Assert.True(File.Exists(Path.Combine(part, "checkpoint.safetensors")));

        var (code, _, err) = Run("burgers-opt", "--iterations", "12", "--cells", "32", "--checkpoint-every", "4", "--resume", part, "--quiet");
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(full, "metrics.csv")), File.ReadAllBytes(Path.Combine(part, "metrics.csv")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(full, "model.safetensors")), File.ReadAllBytes(Path.Combine(part, "model.safetensors")));
    }

    [Fact]
    public void SameSeed_SameBits()
    {
        var a = Dir("a");
        var b = Dir("b");
        Assert.Equal(0, Run("burgers-opt", "--iterations", "4", "--cells", "32", "--seed", "7", "--out", a, "--quiet").Code);
        Assert.Equal(0, Run("burgers-opt", "--iterations", "4", "--cells", "32", "--seed", "7", "--out", b, "--quiet").Code);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(b, "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "metrics.csv")), File.ReadAllBytes(Path.Combine(b, "metrics.csv")));
    }

    [Theory]
    [InlineData("burgers-opt", "--iterations", "0")]
    [InlineData("burgers-opt", "--lr", "-1")]
    [InlineData("burgers-opt", "--iterations", "lots")]
    [InlineData("burgers-opt", "--no-such-option")]
    [InlineData("no-such-experiment")]
    [InlineData("burgers-opt", "--resume", "/definitely/not/a/folder")]
    public void BadOptions_ExitWithCode2AndOneLine(params string[] args) => AssertUsageError(args);

    [Fact]
    public void Help_ListsTheExperiments()
    {
        var (code, stdout, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("burgers-opt", stdout);
        var (code2, stdout2, _) = Run("burgers-opt", "--help");
        Assert.Equal(0, code2);
        Assert.Contains("--resume", stdout2);
    }

}

/// <summary>smoke-opt at a tiny size.</summary>
public sealed class SmokeOptTests() : TrainerTestBase("diffgen-smoke-")
{
    private static readonly string[] Tiny = ["--nx", "20", "--ny", "16", "--steps", "6", "--lr", "0.01"];

    [Fact]
    public void SmokeRun_LossDecreases_AndOutputsAreWritten()
    {
        var dir = Path.Combine(Root, "run");
        var (code, _, err) = Run(["smoke-opt", "--iterations", "3", "--out", dir, "--quiet", .. Tiny]);
        Assert.True(code == 0, err);
        var losses = File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Skip(1)
            .Select(r => double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(3, losses.Length);
        Assert.True(losses[2] < losses[1] && losses[1] < losses[0], string.Join(", ", losses));
        foreach (var png in new[] { "loss.png", "initial.png", "target.png", "result.png", "velocity.png" })
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(dir, png))[..4]);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        Assert.Equal("smoke-opt", summary.RootElement.GetProperty("experiment").GetString());
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
    }

    [Fact]
    public void Resume_EndsExactlyLikeAnUninterruptedRun()
    {
        var full = Path.Combine(Root, "full");
        Assert.Equal(0, Run(["smoke-opt", "--iterations", "4", "--checkpoint-every", "2", "--out", full, "--quiet", .. Tiny]).Code);
        var part = Path.Combine(Root, "part");
        using var cts = new CancellationTokenSource();
        var settings = new DiffGen.Trainers.Experiments.SmokeOptSettings(Iterations: 4, LearningRate: 0.01, Steps: 6, Nx: 20, Ny: 16, CheckpointEvery: 2);
        using (var output = new RunOutput(part))
            Assert.Throws<OperationCanceledException>(() => DiffGen.Trainers.Experiments.SmokeOpt.Run(settings, output, null, new StopAt(cts, 3), TextWriter.Null, cts.Token));
        var (code, _, err) = Run(["smoke-opt", "--iterations", "4", "--checkpoint-every", "2", "--resume", part, "--quiet", .. Tiny]);
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(full, "metrics.csv")), File.ReadAllBytes(Path.Combine(part, "metrics.csv")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(full, "model.safetensors")), File.ReadAllBytes(Path.Combine(part, "model.safetensors")));
    }

    [Fact]
    public void GridTooSmallForTheDiscs_IsAUsageError()
    {
        var (code, _, err) = Run("smoke-opt", "--nx", "8", "--ny", "8");
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("--nx/--ny", err);
    }

}

/// <summary>control at a tiny size: DP training through the solver beats doing nothing and writes its outputs.</summary>
public sealed class ControlTests() : TrainerTestBase("diffgen-control-")
{

    [Fact]
    public void DpTraining_ReducesTheLoss_AndBeatsNoControl()
    {
        var settings = new DiffGen.Trainers.Experiments.ControlSettings(Iterations: 25, TrainScenes: 16, TestScenes: 8, Batch: 8, Steps: 16, Cells: 32);
        var output = new RunOutput(Path.Combine(Root, "run"));
        var results = DiffGen.Trainers.Experiments.Control.Run(settings, output, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        var none = results.Single(r => r.Method == "no control");
        var dp = results.Single(r => r.Method == "differentiable physics");
        Assert.True(dp.FinalStateMse < none.FinalStateMse, $"DP {dp.FinalStateMse} vs none {none.FinalStateMse}");
        var losses = File.ReadAllLines(output.PathOf("metrics.csv")).Skip(1).Select(r => r.Split(','))
            .Where(p => p[1] == "dp").Select(p => double.Parse(p[4], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(25, losses.Length);
        Assert.True(losses[^3..].Average() < losses[..3].Average());
        foreach (var f in new[] { "curves-steps.png", "curves-time.png", "errors.png", "fields.png", "curves.csv", "model.safetensors", "supervised.safetensors", "summary.json" })
            Assert.True(File.Exists(output.PathOf(f)), f);
    }
}

/// <summary>sol at a tiny size: every SOL-k variant beats the source solver alone on held-out forcings.</summary>
public sealed class SolTests() : TrainerTestBase("diffgen-sol-")
{

    [Fact]
    public void SolK_BeatsNon_OnHeldOutForcings_AndOutputsAreWritten()
    {
        var settings = new DiffGen.Trainers.Experiments.SolSettings(Iterations: 40, TrainScenes: 3, TestScenes: 2, Steps: 17, Source: 16, Factor: 2);
        var output = new RunOutput(Path.Combine(Root, "run"));
        var results = DiffGen.Trainers.Experiments.Sol.Run(settings, output, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        var non = results.Single(r => r.Variant == "NON").MeanRelativeError;
        foreach (var v in new[] { "SOL-1", "SOL-4", "SOL-16" })
            Assert.True(results.Single(r => r.Variant == v).MeanRelativeError < non, $"{v} does not beat NON ({non})");
        foreach (var f in new[] { "source.png", "corrected.png", "reference.png", "metrics.csv", "summary.json", "sol-16.safetensors", "pre.safetensors" })
            Assert.True(File.Exists(output.PathOf(f)), f);
    }
}

/// <summary>--resume of the network trainers: interrupted, then resumed, they end bit-identical to an uninterrupted run.</summary>
public sealed class NetworkResumeTests() : TrainerTestBase("diffgen-resume-")
{
    private static byte[] Bytes(string dir, string file) => File.ReadAllBytes(Path.Combine(dir, file));

    [Fact]
    public void Control_ResumeEqualsUninterrupted()
    {
        var settings = new DiffGen.Trainers.Experiments.ControlSettings(Iterations: 8, TrainScenes: 8, TestScenes: 4, Batch: 4, Steps: 8, Cells: 16, CheckpointEvery: 3);
        var full = new RunOutput(Path.Combine(Root, "full"));
        DiffGen.Trainers.Experiments.Control.Run(settings, full, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        var part = new RunOutput(Path.Combine(Root, "part"));
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => DiffGen.Trainers.Experiments.Control.Run(settings, part, null, new StopAt(cts, 5), TextWriter.Null, cts.Token));
        Assert.True(File.Exists(part.PathOf("checkpoint.safetensors")));
        DiffGen.Trainers.Experiments.Control.Run(settings, part, part.Directory, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        Assert.Equal(Bytes(full.Directory, "metrics.csv"), Bytes(part.Directory, "metrics.csv"));
        Assert.Equal(Bytes(full.Directory, "model.safetensors"), Bytes(part.Directory, "model.safetensors"));
        Assert.Empty(Directory.GetFiles(part.Directory, "checkpoint*"));
    }

    [Fact]
    public void Sol_ResumeEqualsUninterrupted()
    {
        var settings = new DiffGen.Trainers.Experiments.SolSettings(Iterations: 5, TrainScenes: 2, TestScenes: 1, Steps: 17, Source: 8, Factor: 2, Batch: 2, CheckpointEvery: 2);
        var full = new RunOutput(Path.Combine(Root, "sfull"));
        DiffGen.Trainers.Experiments.Sol.Run(settings, full, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        var part = new RunOutput(Path.Combine(Root, "spart"));
        using var cts = new CancellationTokenSource();
        // Stop in the middle of the third variant (SOL-4): position 2 * 5 + 3.
        Assert.Throws<OperationCanceledException>(() => DiffGen.Trainers.Experiments.Sol.Run(settings, part, null, new StopAt(cts, 13), TextWriter.Null, cts.Token));
        DiffGen.Trainers.Experiments.Sol.Run(settings, part, part.Directory, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        Assert.Equal(Bytes(full.Directory, "metrics.csv"), Bytes(part.Directory, "metrics.csv"));
        Assert.Equal(Bytes(full.Directory, "sol-16.safetensors"), Bytes(part.Directory, "sol-16.safetensors"));
        Assert.Equal(Bytes(full.Directory, "sol-4.safetensors"), Bytes(part.Directory, "sol-4.safetensors"));
    }
}
