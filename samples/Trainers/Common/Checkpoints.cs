using System.Globalization;
using DiffGen.NN.IO;

namespace DiffGen.Trainers.Common;

/// <summary>
/// Training checkpoints: the optimised tensors plus the per-iteration metrics so far, in one
/// safetensors file written atomically, tagged with the settings that must match on --resume.
/// </summary>
public static class Checkpoints
{
    /// <summary>The checkpoint's file name inside a run folder.</summary>
    public const string FileName = "checkpoint.safetensors";

    /// <summary>What a checkpoint holds.</summary>
    public sealed record State(int NextIteration, Dictionary<string, double[]> Tensors, List<double[]> MetricRows);

    /// <summary>Writes the checkpoint of a run.</summary>
    public static void Save(RunOutput output, string settingsKey, int nextIteration, IReadOnlyDictionary<string, double[]> tensors, IReadOnlyList<double[]> metricRows)
    {
        var entries = tensors.Select(kv => new SafeTensor(kv.Key, [kv.Value.Length], F64: kv.Value)).ToList();
        int width = metricRows.Count > 0 ? metricRows[0].Length : 0;
        entries.Add(new SafeTensor("__metrics", [metricRows.Count, width], F64: metricRows.SelectMany(r => r).ToArray()));
        SafeTensors.Write(output.PathOf(FileName), entries, new Dictionary<string, string>
        {
            ["next_iteration"] = nextIteration.ToString(CultureInfo.InvariantCulture),
            ["settings"] = settingsKey,
        });
    }

    /// <summary>Reads the checkpoint in <paramref name="dir"/>; a missing or mismatched one is a usage error.</summary>
    public static State Load(string dir, string settingsKey)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
            throw new UsageException($"--resume: no {FileName} in '{dir}' (the run finished, or never wrote one)");
        try
        {
            var (tensors, meta) = SafeTensors.Read(path);
            if (meta.GetValueOrDefault("settings") != settingsKey)
                throw new UsageException($"--resume: '{dir}' was run with {meta.GetValueOrDefault("settings")}, not {settingsKey}");
            var metrics = tensors["__metrics"];
            var flat = metrics.AsDoubles();
            int rows = metrics.Shape[0], width = metrics.Shape[1];
            var list = Enumerable.Range(0, rows).Select(r => flat.AsSpan(r * width, width).ToArray()).ToList();
            var state = tensors.Where(kv => kv.Key != "__metrics").ToDictionary(kv => kv.Key, kv => kv.Value.AsDoubles());
            return new State(int.Parse(meta["next_iteration"], CultureInfo.InvariantCulture), state, list);
        }
        catch (Exception e) when (e is InvalidDataException or KeyNotFoundException or FormatException)
        {
            throw new UsageException($"--resume: '{path}' is not a valid checkpoint ({e.Message})");
        }
    }
}
