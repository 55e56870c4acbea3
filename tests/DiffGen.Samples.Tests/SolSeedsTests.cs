using System.Globalization;
using System.Text.Json;
using DiffGen.Trainers.Common;
using DiffGen.Trainers.Experiments;

namespace DiffGen.Samples.Tests;

/// <summary>sol's stopped-gradient variants, paired seeds and their statistics, at tiny sizes.</summary>
public sealed class SolSeedsTests() : TrainerTestBase("diffgen-solseeds-")
{
    private static readonly SolSettings Tiny = new(Iterations: 4, TrainScenes: 2, TestScenes: 2, Steps: 17, Source: 8, Factor: 2, Batch: 2, CheckpointEvery: 3);

    private static byte[] Bytes(string dir, string file) => File.ReadAllBytes(Path.Combine(dir, file));

    private static Dictionary<(string Seed, string Variant), double[]> Losses(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Skip(1).Select(r => r.Split(','))
            .GroupBy(p => (p[0], p[1]))
            .ToDictionary(g => g.Key, g => g.Select(p => double.Parse(p[3], CultureInfo.InvariantCulture)).ToArray());

    [Fact]
    public void StoppedGradient_SameFirstLossAsFull_ThenOtherUpdates()
    {
        var output = new RunOutput(Dir("stop"));
        Sol.Run(Tiny with { Seeds = 2 }, output, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        var losses = Losses(output.Directory);
        foreach (var (seed, k) in new[] { ("0", "4"), ("0", "16"), ("1", "4"), ("1", "16") })
        {
            var full = losses[(seed, $"SOL-{k}")];
            var stop = losses[(seed, $"SOL-{k}-stop")];
            // Paired: same initial weights and batch per seed, so the same forward pass and first loss.
            Assert.Equal(full[0], stop[0]);
            // Gradients through the solver between steps change the first update, so every later loss.
            Assert.NotEqual(full[1], stop[1]);
        }
    }

    [Fact]
    public void TwoSeeds_SummaryHasMeansIntervalsAndPairedRatios()
    {
        var two = new RunOutput(Dir("two"));
        var results = Sol.Run(Tiny with { Seeds = 2 }, two, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        foreach (var r in results)
        {
            Assert.InRange(r.MeanRelativeError, r.Low, r.High);
            Assert.Equal(r.Variant == "NON" ? 1 : 2, r.PerSeed.Length);
            if (r.Variant != "NON")
            {
                Assert.Equal(r.PerSeed.Average(), r.MeanRelativeError, 12);
                Assert.True(r.TrainingSeconds > 0);
            }
        }
        Assert.True(File.Exists(two.PathOf("sol-16.safetensors")) && File.Exists(two.PathOf("sol-16.seed1.safetensors")));
        // The two seeds train different weights.
        Assert.NotEqual(Bytes(two.Directory, "sol-4.safetensors"), Bytes(two.Directory, "sol-4.seed1.safetensors"));
        using var summary = JsonDocument.Parse(File.ReadAllText(two.PathOf("summary.json")));
        Assert.Equal([0, 1], summary.RootElement.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt32()));
        var pairs = summary.RootElement.GetProperty("paired_ratios").EnumerateArray().ToList();
        Assert.Equal(["SOL-4-stop", "SOL-16-stop"], pairs.Select(p => p.GetProperty("stopped").GetString()));
        foreach (var p in pairs)
        {
            double ratio = p.GetProperty("error_ratio_full_over_stopped").GetDouble();
            var ci = p.GetProperty("ci95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.InRange(ratio, ci[0], ci[1]);
        }
        var losses = Losses(two.Directory);
        Assert.Equal(2 * Sol.Variants.Count, losses.Count);
    }

    [Fact]
    public void Seeds_SameWeightsAndBatchOrderPerSeed_AcrossRunsWithTheSameData()
    {
        // A run's first seed trains exactly as a one-seed run: seeds are independent jobs.
        var two = new RunOutput(Dir("two"));
        Sol.Run(Tiny with { Seeds = 2 }, two, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        var one = new RunOutput(Dir("one"));
        Sol.Run(Tiny, one, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        foreach (var f in new[] { "pre", "sol-4", "sol-4-stop", "sol-16" })
            Assert.Equal(Bytes(one.Directory, f + ".safetensors"), Bytes(two.Directory, f + ".safetensors"));
        var a = Losses(two.Directory);
        var b = Losses(one.Directory);
        foreach (var v in Sol.Variants) Assert.Equal(b[("0", v.Name)], a[("0", v.Name)]);
    }

    [Fact]
    public void Resume_InTheSecondSeed_EqualsUninterrupted()
    {
        var settings = Tiny with { Seeds = 2 };
        var full = new RunOutput(Dir("full"));
        Sol.Run(settings, full, null, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        var part = new RunOutput(Dir("part"));
        using var cts = new CancellationTokenSource();
        // Stop inside seed 1's SOL-4 (job 6 + 2): position 8 * 4 + 2.
        Assert.Throws<OperationCanceledException>(() => Sol.Run(settings, part, null, new StopAt(cts, 34), TextWriter.Null, cts.Token));
        Sol.Run(settings, part, part.Directory, new LineProgress(TextWriter.Null, 0), TextWriter.Null, CancellationToken.None);
        foreach (var f in new[] { "metrics.csv", "sol-4.seed1.safetensors", "sol-16-stop.seed1.safetensors", "sol-16.safetensors" })
            Assert.Equal(Bytes(full.Directory, f), Bytes(part.Directory, f));
        using var x = JsonDocument.Parse(File.ReadAllText(full.PathOf("summary.json")));
        using var y = JsonDocument.Parse(File.ReadAllText(part.PathOf("summary.json")));
        // Errors and intervals match; training times are measured, so they may not.
        foreach (var (p, q) in x.RootElement.GetProperty("test").EnumerateArray().Zip(y.RootElement.GetProperty("test").EnumerateArray()))
        {
            Assert.Equal(p.GetProperty("mean_relative_error").GetDouble(), q.GetProperty("mean_relative_error").GetDouble());
            Assert.Equal(p.GetProperty("ci95").GetRawText(), q.GetProperty("ci95").GetRawText());
        }
    }

    [Theory]
    [InlineData("sol", "--seeds", "0")]
    [InlineData("sol", "--seeds", "two")]
    public void BadSeeds_ExitWithCode2AndOneLine(params string[] args) => AssertUsageError(args);

    [Fact]
    public void PairedStats_KnownAnswers()
    {
        // Constant values: no spread.
        var c = PairedStats.Mean([[2.0, 2.0], [2.0, 2.0]]);
        Assert.Equal(new Interval(2, 2, 2), c);
        // A paired ratio of b = 2a is exactly 0.5 in every resample, however much a varies.
        double[][] a = [[1.0, 5.0, 2.0], [3.0, 0.5, 8.0]];
        double[][] b = a.Select(r => r.Select(v => 2 * v).ToArray()).ToArray();
        var ratio = PairedStats.Ratio(a, b);
        Assert.Equal(0.5, ratio.Value, 12);
        Assert.Equal(0.5, ratio.Low, 12);
        Assert.Equal(0.5, ratio.High, 12);
        // One seed, cases 1..4: the interval lies inside [1, 4], around 2.5, and is not degenerate.
        var m = PairedStats.Mean([[1.0, 2.0, 3.0, 4.0]]);
        Assert.Equal(2.5, m.Value);
        Assert.True(m.Low >= 1 && m.Low < 2.5 && m.High > 2.5 && m.High <= 4, $"[{m.Low}, {m.High}]");
        Assert.Equal(m, PairedStats.Mean([[1.0, 2.0, 3.0, 4.0]])); // deterministic
        Assert.Throws<ArgumentException>(() => PairedStats.Ratio(a, [[1.0]]));
        Assert.Throws<ArgumentException>(() => PairedStats.Mean([[double.NaN]]));
        Assert.Equal(2.5, PairedStats.Quantile([1.0, 2.0, 3.0, 4.0], 0.5));
    }
}
