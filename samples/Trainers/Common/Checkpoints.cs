using System.Globalization;
using DiffGen.NN;
using DiffGen.NN.IO;
using DiffGen.NN.Optim;

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

    /// <summary>
    /// Writes a checkpoint that also holds networks and their optimizers. Their files carry the
    /// iteration in their names and are written before the main file, whose atomic rename commits
    /// the set; files of older checkpoints are deleted afterwards, so an interruption at any point
    /// leaves a complete checkpoint behind.
    /// </summary>
    public static void Save(RunOutput output, string settingsKey, int nextIteration, IReadOnlyDictionary<string, double[]> tensors, IReadOnlyList<double[]> metricRows, IReadOnlyList<(string Tag, Module Net, Optimizer Optimizer)> models)
    {
        foreach (var (tag, net, opt) in models)
        {
            net.Save(output.PathOf(ModelFile(nextIteration, tag, "net")));
            opt.Save(output.PathOf(ModelFile(nextIteration, tag, "opt")));
        }
        Save(output, settingsKey, nextIteration, tensors, metricRows);
        foreach (var f in Directory.GetFiles(output.Directory, "checkpoint-*.safetensors"))
            if (!Path.GetFileName(f).StartsWith($"checkpoint-{nextIteration.ToString(CultureInfo.InvariantCulture)}-", StringComparison.Ordinal)) File.Delete(f);
    }

    /// <summary>Restores a network and its optimizer saved with the checkpoint of <paramref name="state"/>.</summary>
    public static void LoadModel(string dir, State state, string tag, Module net, Optimizer optimizer)
    {
        try
        {
            net.Load(Path.Combine(dir, ModelFile(state.NextIteration, tag, "net")));
            optimizer.Load(Path.Combine(dir, ModelFile(state.NextIteration, tag, "opt")));
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"--resume: the checkpoint's {tag} model in '{dir}' cannot be read ({e.Message})");
        }
    }

    /// <summary>Deletes every checkpoint file of a finished run.</summary>
    public static void Clear(RunOutput output)
    {
        foreach (var f in Directory.GetFiles(output.Directory, "checkpoint*.safetensors")) File.Delete(f);
    }

    private static string ModelFile(int iteration, string tag, string kind) =>
        $"checkpoint-{iteration.ToString(CultureInfo.InvariantCulture)}-{tag}.{kind}.safetensors";

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
