using System.Globalization;
using DiffGen.NN;
using DiffGen.NN.IO;
using DiffGen.NN.Optim;

namespace DiffGen.Trainers.Common;

/// <summary>
/// Training checkpoints: the optimised tensors plus the per-iteration metrics so far, in one
/// safetensors file written atomically (and checksummed), tagged with the experiment and the settings
/// that must match on --resume. Everything read back is checked before a trainer uses it: a damaged or
/// mismatched checkpoint is a one-line usage error naming what is wrong, never a crash or a silent resume.
/// </summary>
public static class Checkpoints
{
    /// <summary>The checkpoint's file name inside a run folder.</summary>
    public const string FileName = "checkpoint.safetensors";

    private const string Metrics = "__metrics";

    /// <summary>What a checkpoint holds.</summary>
    public sealed record State(int NextIteration, Dictionary<string, double[]> Tensors, List<double[]> MetricRows)
    {
        /// <summary>The folder the checkpoint was read from (for messages).</summary>
        public string Directory { get; init; } = "";

        /// <summary>
        /// The vector <paramref name="name"/> of exactly <paramref name="length"/> values: a usage error naming the
        /// tensor when it is missing or has another length (a damaged or foreign checkpoint).
        /// </summary>
        public double[] Vector(string name, int length)
        {
            if (!Tensors.TryGetValue(name, out var v))
                throw new UsageException($"--resume: the checkpoint in '{Directory}' lacks tensor '{name}' (damaged, or written by other settings)");
            if (v.Length != length)
                throw new UsageException($"--resume: tensor '{name}' of the checkpoint in '{Directory}' has {v.Length} values, not {length} (damaged, or written by other settings)");
            return v;
        }
    }

    /// <summary>
    /// Writes the checkpoint of a run; with <paramref name="models"/>, also networks and their optimizers.
    /// Their files carry the iteration in their names and are written before the main file, whose atomic
    /// rename commits the set; files of older checkpoints are deleted afterwards, so an interruption at any
    /// point leaves a complete checkpoint behind.
    /// </summary>
    public static void Save(RunOutput output, string settingsKey, int nextIteration, IReadOnlyDictionary<string, double[]> tensors, IReadOnlyList<double[]> metricRows, IReadOnlyList<(string Tag, Module Net, Optimizer Optimizer)>? models = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var (tag, net, opt) in models ?? [])
        {
            net.Save(output.PathOf(ModelFile(nextIteration, tag, "net")));
            opt.Save(output.PathOf(ModelFile(nextIteration, tag, "opt")));
        }
        var entries = tensors.Select(kv => new SafeTensor(kv.Key, [kv.Value.Length], F64: kv.Value)).ToList();
        int width = metricRows.Count > 0 ? metricRows[0].Length : 0;
        entries.Add(new SafeTensor(Metrics, [metricRows.Count, width], F64: metricRows.SelectMany(r => r).ToArray()));
        var meta = new Dictionary<string, string>
        {
            ["next_iteration"] = nextIteration.ToString(CultureInfo.InvariantCulture),
            ["settings"] = settingsKey,
        };
        if (output.Experiment != null) meta["experiment"] = output.Experiment;
        SafeTensors.Write(output.PathOf(FileName), entries, meta);
        string current = $"checkpoint-{nextIteration.ToString(CultureInfo.InvariantCulture)}-";
        foreach (var f in Directory.GetFiles(output.Directory, "checkpoint-*.safetensors"))
            if (!Path.GetFileName(f).StartsWith(current, StringComparison.Ordinal)) File.Delete(f);
        FaultInjection.At("checkpoint " + nextIteration.ToString(CultureInfo.InvariantCulture));
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

    /// <summary>The experiment recorded in the checkpoint in <paramref name="dir"/> (null when absent or unreadable).</summary>
    public static string? ExperimentOf(string dir)
    {
        try
        {
            return SafeTensors.Read(Path.Combine(dir, FileName)).Metadata.GetValueOrDefault("experiment");
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>A sentence saying which checkpoint a stopped run keeps (for the non-finite message).</summary>
    public static string Describe(RunOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        try
        {
            var meta = SafeTensors.Read(output.PathOf(FileName)).Metadata;
            return $"The last checkpoint (next iteration {meta.GetValueOrDefault("next_iteration")}) is kept in '{output.Directory}'.";
        }
        catch (InvalidDataException)
        {
            return "No checkpoint was written before it.";
        }
    }

    private static string ModelFile(int iteration, string tag, string kind) =>
        $"checkpoint-{iteration.ToString(CultureInfo.InvariantCulture)}-{tag}.{kind}.safetensors";

    /// <summary>
    /// Reads the checkpoint in <paramref name="dir"/> and checks it: intact (checksum), written with the same
    /// <paramref name="settingsKey"/> (a mismatch names the options that differ), a next iteration within
    /// [0, <paramref name="iterations"/>] that agrees with its metrics. Anything else is a usage error.
    /// </summary>
    /// <param name="dir">The run folder.</param>
    /// <param name="settingsKey">The settings the run must have been started with ("name=value;…").</param>
    /// <param name="iterations">The run's total iterations (null: not checked).</param>
    public static State Load(string dir, string settingsKey, int? iterations = null)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
            throw new UsageException($"--resume: no {FileName} in '{dir}' (the run finished, or never wrote one)");
        IReadOnlyDictionary<string, SafeTensor> tensors;
        IReadOnlyDictionary<string, string> meta;
        try
        {
            (tensors, meta) = SafeTensors.Read(path);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"--resume: '{path}' is not a valid checkpoint ({e.Message})");
        }
        UsageException Bad(string what) => new($"--resume: '{path}' is not a valid checkpoint: {what}");
        if (!meta.TryGetValue("settings", out var stored)) throw Bad("its metadata lacks 'settings'");
        if (stored != settingsKey) throw new UsageException($"--resume: '{dir}' was run with other settings: {Difference(stored, settingsKey)}");
        if (!meta.TryGetValue("next_iteration", out var nextText) || !int.TryParse(nextText, NumberStyles.None, CultureInfo.InvariantCulture, out int next))
            throw Bad($"metadata 'next_iteration' is {(nextText == null ? "missing" : $"'{nextText}', not an iteration number")}");
        if (iterations is int total && next > total)
            throw new UsageException($"--resume: the checkpoint in '{dir}' is at iteration {next}, past --iterations {total}; give at least --iterations {next}");
        if (!tensors.TryGetValue(Metrics, out var metrics)) throw Bad($"it lacks the tensor '{Metrics}'");
        if (metrics.Shape.Length != 2) throw Bad($"tensor '{Metrics}' has rank {metrics.Shape.Length}, not 2");
        int rows = metrics.Shape[0], width = metrics.Shape[1];
        if (rows != next) throw Bad($"tensor '{Metrics}' holds {rows} iterations but 'next_iteration' is {next}");
        var flat = metrics.AsDoubles();
        var list = Enumerable.Range(0, rows).Select(r => flat.AsSpan(r * width, width).ToArray()).ToList();
        var state = new Dictionary<string, double[]>();
        foreach (var (name, t) in tensors)
        {
            if (name == Metrics) continue;
            if (t.Shape.Length != 1) throw Bad($"tensor '{name}' has rank {t.Shape.Length}, not 1");
            state[name] = t.AsDoubles();
        }
        return new State(next, state, list) { Directory = dir };
    }

    // The options behind the settings keys' names, for the mismatch message.
    private static readonly Dictionary<string, string> Options = new()
    {
        ["lr"] = "--lr", ["steps"] = "--steps", ["cells"] = "--cells", ["seed"] = "--seed", ["grid"] = "--nx/--ny",
        ["scenes"] = "--train-scenes/--test-scenes", ["batch"] = "--batch", ["fw"] = "force weight", ["it"] = "--iterations",
        ["source"] = "--source", ["factor"] = "--factor", ["scene"] = "--scene", ["re"] = "--train-re/--test-re", ["warmup"] = "--warmup",
        ["seeds"] = "--seeds", ["methods"] = "--method", ["ppo"] = "--ppo-iterations/--ppo-lr/--envs/--rollout-steps", ["eval"] = "--eval-every",
    };

    /// <summary>"--lr 0.001 (now 0.01), --steps 16 (now 8)": the settings that differ between two keys.</summary>
    internal static string Difference(string stored, string given)
    {
        static Dictionary<string, string> Parse(string key) => key.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First().Length > 1 ? g.First()[1] : "");
        var a = Parse(stored);
        var b = Parse(given);
        var diffs = a.Keys.Union(b.Keys)
            .Where(k => a.GetValueOrDefault(k) != b.GetValueOrDefault(k))
            .Select(k => $"{Options.GetValueOrDefault(k, k)} {a.GetValueOrDefault(k) ?? "(not set)"} (now {b.GetValueOrDefault(k) ?? "not set"})")
            .ToList();
        return diffs.Count == 0 ? $"'{stored}', not '{given}'" : string.Join(", ", diffs) + "; give the options the run was started with";
    }
}
