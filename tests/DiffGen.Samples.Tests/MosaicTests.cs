using System.Globalization;
using System.Text.Json;

namespace DiffGen.Samples.Tests;

/// <summary>mosaic at tiny sizes: each task runs, writes its outputs and numbers that mean something; bad options exit with 2.</summary>
public sealed class MosaicTests() : TrainerTestBase("diffgen-mosaic-")
{
    internal static JsonElement Summary(string dir) => JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json"))).RootElement;

    [Fact]
    public void Forward_ErrorFallsWithN_AndTheOutputsAreWritten()
    {
        var dir = Dir("forward");
        var (code, _, err) = Run("mosaic", "--task", "forward", "--sizes", "8,16,32", "--steps-list", "5", "--viscosities", "0.01", "--out", dir, "--quiet");
        Assert.True(code == 0, err);
        var s = Summary(dir);
        Assert.Equal("forward", s.GetProperty("task").GetString());
        var byN = s.GetProperty("points").EnumerateArray().Where(p => p.GetProperty("sweep").GetString() == "vs_N").Select(p => p.GetProperty("relative_l2_error").GetDouble()).ToArray();
        Assert.Equal(3, byN.Length);
        Assert.True(byN[2] < byN[1] && byN[1] < byN[0], string.Join(", ", byN));
        Assert.All(s.GetProperty("points").EnumerateArray(), p => Assert.True(p.GetProperty("mac_divergence_max").GetDouble() < 1e-8));
        foreach (var f in new[] { "metrics.csv", "error_vs_n.png", "error_vs_steps.png", "error_vs_nu.png" }) Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 0, f);
        Assert.Equal(3 + 1 + 1 + 6 + 1, File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Length);

        var mac = Dir("forward-maccormack");
        (code, _, err) = Run("mosaic", "--task", "forward", "--sizes", "8,16,32", "--steps-list", "5", "--viscosities", "0.01", "--advection", "maccormack", "--out", mac, "--quiet");
        Assert.True(code == 0, err);
        var macByN = Summary(mac).GetProperty("points").EnumerateArray().Where(p => p.GetProperty("sweep").GetString() == "vs_N").Select(p => p.GetProperty("relative_l2_error").GetDouble()).ToArray();
        Assert.True(macByN[2] < byN[2] / 2, $"MacCormack {macByN[2]} vs semi-Lagrangian {byN[2]} at 32²");
    }

    [Fact]
    public void Gradient_PassesMosaicsMarks_OnASmallGrid()
    {
        var dir = Dir("gradient");
        var (code, _, err) = Run("mosaic", "--task", "gradient", "--n", "8", "--steps", "4", "--directions", "4", "--horizons", "2,6", "--out", dir, "--quiet");
        Assert.True(code == 0, err);
        var s = Summary(dir);
        var fd = s.GetProperty("fd_check");
        Assert.True(fd.GetProperty("passes").GetBoolean());
        Assert.True(fd.GetProperty("best_median_relative_error").GetDouble() < 1e-5);
        Assert.Equal(6, fd.GetProperty("by_epsilon").GetArrayLength());
        Assert.Equal(6, s.GetProperty("last_passing_horizon_steps").GetInt32());
        Assert.Equal(1 + 6 + 2 * 4, File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Length);
        Assert.True(File.Exists(Path.Combine(dir, "fd_check.png")) && File.Exists(Path.Combine(dir, "horizon_sweep.png")));
    }

    [Fact]
    public void Optimize_LbfgsLowersTheLoss_AndBothRunsAreRecorded()
    {
        var dir = Dir("optimize");
        var (code, _, err) = Run("mosaic", "--task", "optimize", "--n", "16", "--steps", "8", "--viscosity", "0.01", "--radius", "0.1", "--iterations", "3", "--lbfgs-iterations", "4", "--lr", "0.01", "--out", dir, "--quiet");
        Assert.True(code == 0, err);
        var runs = Summary(dir).GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("optimizer").GetString()!);
        Assert.Equal(["adam", "lbfgs"], runs.Keys);
        Assert.Equal(3, runs["adam"].GetProperty("iterations").GetInt32());
        Assert.Equal(16, runs["lbfgs"].GetProperty("profile").GetArrayLength());
        var lbfgs = File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Where(l => l.StartsWith("lbfgs,", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();
        Assert.True(lbfgs.Length >= 2 && lbfgs[^1] < lbfgs[0], string.Join(", ", lbfgs));
        Assert.True(File.Exists(Path.Combine(dir, "drag.png")) && File.Exists(Path.Combine(dir, "profile.png")));
    }

    [Theory]
    [InlineData("--task", "nope")]
    [InlineData("--sizes", "4")]
    [InlineData("--sizes", "a,b")]
    [InlineData("--steps-list", "2.5")]
    [InlineData("--task", "optimize", "--radius", "0.001")]
    [InlineData("--task", "optimize", "--x-boundary", "open")]
    [InlineData("--dt", "-1")]
    [InlineData("--advection", "upwind")]
    public void BadOptions_ExitWithTwoAndOneLine(params string[] args) => AssertUsageError(["mosaic", .. args, "--out", Path.Combine(Path.GetTempPath(), "diffgen-mosaic-never")]);
}

/// <summary>The memory columns measure the whole process's live heap: run alone, not beside other tests.</summary>
[CollectionDefinition("mosaic memory", DisableParallelization = true)]
public sealed class MosaicMemoryCollection;

/// <summary>mosaic --task cost at tiny sizes (alone: its memory probe sees every thread's allocations).</summary>
[Collection("mosaic memory")]
public sealed class MosaicCostTests() : TrainerTestBase("diffgen-mosaic-cost-")
{
    private static JsonElement Summary(string dir) => MosaicTests.Summary(dir);

    [Fact]
    public void Cost_TimesBothPasses_AndCheckpointingHoldsFewerStates()
    {
        var dir = Dir("cost");
        var (code, _, err) = Run("mosaic", "--task", "cost", "--sizes", "8", "--steps", "4", "--steps-list", "3,36", "--n", "16", "--trials", "1", "--out", dir, "--quiet");
        Assert.True(code == 0, err);
        var points = Summary(dir).GetProperty("points").EnumerateArray().ToArray();
        Assert.Equal(3, points.Length);
        Assert.All(points, p => Assert.True(p.GetProperty("forward_s").GetDouble() > 0 && p.GetProperty("vjp_s").GetDouble() > 0));
        var last = points[^1];
        Assert.Equal(37, last.GetProperty("states_stored").GetInt32());
        Assert.Equal(12, last.GetProperty("states_checkpointed").GetInt32()); // 6 checkpoints + a 6-step segment
        double stored = last.GetProperty("live_mb_stored").GetDouble(), checkpointed = last.GetProperty("live_mb_checkpointed").GetDouble();
        // 36 recorded steps at 16² hold about 1.5 MB; checkpointing every 6 holds a sixth of the tapes.
        Assert.True(stored > 0.5 && checkpointed < stored / 2, $"live MB: checkpointed {checkpointed}, stored {stored}");
        Assert.True(File.Exists(Path.Combine(dir, "memory_vs_steps.png")));
    }
}
