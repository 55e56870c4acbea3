using System.Globalization;
using System.Text;
using System.Text.Json;
using DiffGen.NN.IO;
using ScottPlot;
using Spectre.Console;

namespace DiffGen.Trainers.Common;

/// <summary>A bad option or path: reported as one line on stderr with exit code 2.</summary>
public class UsageException(string message) : Exception(message);

/// <summary>The folder is locked by another run or holds files of its own (a default folder name then moves on to the next suffix).</summary>
internal sealed class FolderTakenException(string message) : UsageException(message);

/// <summary>
/// The output folder of one run: metrics, pictures, model, checkpoint, summary. A run owns its folder
/// while it runs (an exclusive lock on <see cref="LockFileName"/>, released when the process ends, even by
/// kill -9): a second run on the same folder is refused, a new run refuses a folder holding another run's
/// files, and temp files left by a killed write are removed when the folder is claimed. A run commits its
/// results with <see cref="Complete"/>: every output first, summary.json last, and only then are its
/// checkpoints removed, so an interruption at any point leaves either a resumable or a finished run.
/// </summary>
public sealed class RunOutput : IDisposable
{
    /// <summary>The lock file inside a run folder (hidden; it stays when the run ends).</summary>
    public const string LockFileName = ".diffgen-run.lock";

    /// <summary>The file that marks a finished run (written last).</summary>
    public const string SummaryFileName = "summary.json";

    private readonly StringBuilder _metrics = new();
    private FileStream? _lock;

    /// <summary>
    /// Claims <paramref name="directory"/> for a new run: creates it if needed, locks it, removes temp
    /// files a killed run left, and refuses (a <see cref="UsageException"/>) a folder that another run is
    /// using or that holds files of its own.
    /// </summary>
    /// <param name="directory">The folder.</param>
    /// <param name="experiment">The experiment, recorded in checkpoints so that --resume can say which experiment wrote them.</param>
    public RunOutput(string directory, string? experiment = null) : this(directory, experiment, resume: false)
    {
    }

    private RunOutput(string directory, string? experiment, bool resume)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
        Experiment = experiment;
        string option = resume ? "--resume" : "--out";
        if (File.Exists(directory))
            throw new UsageException(Path.GetFileName(directory) == Checkpoints.FileName && resume
                ? $"--resume: '{directory}' is the checkpoint file; give the run's folder: --resume {Path.GetDirectoryName(directory)}"
                : $"{option}: '{directory}' is a file, not a folder");
        if (resume && !System.IO.Directory.Exists(directory)) throw new UsageException($"--resume: folder '{directory}' does not exist");
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UsageException($"cannot create output folder '{directory}': {e.Message}");
        }
        _lock = Lock(directory);
        try
        {
            RemoveTemporaryFiles(directory);
            var (kind, owner) = Describe(directory);
            if (kind == FolderKind.Finished && HasCheckpoint(directory))
                Checkpoints.Clear(this); // killed after writing summary.json, before removing the checkpoints: finish the commit
            if (resume)
            {
                if (kind == FolderKind.Finished) throw new UsageException($"--resume: '{directory}' holds a finished {owner ?? "run"} (summary.json); there is nothing to resume");
                if (owner != null && experiment != null && owner != experiment)
                    throw new UsageException($"--resume: '{directory}' holds a {owner} run, not {experiment}; resume it with: diffgen-trainers {owner} --resume {directory}");
            }
            else if (kind != FolderKind.Empty)
            {
                string who = owner ?? "run";
                throw new FolderTakenException(kind switch
                {
                    FolderKind.Interrupted => $"--out: '{directory}' holds an interrupted {who} (checkpoint.safetensors); continue it with: diffgen-trainers {owner ?? "<experiment>"} --resume {directory}, or choose another --out",
                    FolderKind.Finished => $"--out: '{directory}' holds a finished {who} (summary.json); choose another --out (its results would be replaced)",
                    _ => $"--out: '{directory}' is not empty; choose a new or empty folder",
                });
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// The folder for a run from the command line: <paramref name="resume"/> (an interrupted run's folder),
    /// else <paramref name="outDir"/>, else a new folder <c>runs/&lt;experiment&gt;-&lt;time&gt;</c> (with a
    /// suffix when that name is taken, so runs started in the same second get folders of their own).
    /// </summary>
    public static RunOutput Open(string experiment, string? outDir, string? resume, string parent = "runs", DateTime? now = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(experiment);
        if (resume != null)
        {
            if (outDir != null && Path.GetFullPath(outDir) != Path.GetFullPath(resume))
                throw new UsageException($"--resume continues the run in its own folder ('{resume}'); --out '{outDir}' cannot change it. Drop --out, or start a new run with --out and without --resume");
            return new RunOutput(resume, experiment, resume: true);
        }
        if (outDir != null) return new RunOutput(outDir, experiment);
        string stamp = (now ?? DateTime.Now).ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        for (int k = 1; ; k++)
        {
            string dir = Path.Combine(parent, $"{experiment}-{stamp}" + (k == 1 ? "" : "-" + k.ToString(CultureInfo.InvariantCulture)));
            if (File.Exists(dir)) continue;
            try
            {
                return new RunOutput(dir, experiment);
            }
            catch (FolderTakenException) when (k < 1000)
            {
                // Taken by a run started in the same second (locked, or already holding files): next suffix.
            }
        }
    }

    /// <summary>The experiment that writes this folder (null when not given).</summary>
    public string? Experiment { get; }

    /// <summary>Releases the folder's lock (the files stay).</summary>
    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    /// <summary>
    /// Commits a finished run: <paramref name="summary"/> becomes summary.json (atomically, after every
    /// other output), then the checkpoints are removed. Call it after writing all other outputs.
    /// </summary>
    public void Complete(object summary)
    {
        FaultInjection.At("summary");
        WriteSummary(summary);
        FaultInjection.At("clear");
        Checkpoints.Clear(this);
    }

    private static FileStream Lock(string directory)
    {
        string path = System.IO.Path.Combine(directory, LockFileName);
        try
        {
            // FileShare.None is an exclusive advisory lock (flock) on Unix and a sharing lock on Windows;
            // the OS drops it when the process dies, so a killed run never blocks its folder.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UsageException($"cannot write to output folder '{directory}': {e.Message}");
        }
        catch (IOException e) when (File.Exists(path) && e is not (PathTooLongException or DirectoryNotFoundException))
        {
            throw new FolderTakenException($"'{directory}' is in use by another run (it holds {LockFileName}); wait for that run to end, or choose another folder");
        }
        catch (IOException e)
        {
            throw new UsageException($"cannot write to output folder '{directory}': {e.Message}");
        }
    }

    /// <summary>Temp files of atomic writes (".name.&lt;guid&gt;.tmp") that a killed process left behind.</summary>
    private static void RemoveTemporaryFiles(string directory)
    {
        foreach (var f in System.IO.Directory.EnumerateFiles(directory, ".*.tmp"))
            if (SafeTensors.IsTemporaryFile(f)) File.Delete(f);
    }

    private static bool HasCheckpoint(string directory) =>
        System.IO.Directory.EnumerateFiles(directory, "checkpoint*.safetensors").Any();

    private enum FolderKind { Empty, Interrupted, Finished, Other }

    /// <summary>What a folder holds, and which experiment wrote it (from its checkpoint or summary, when readable).</summary>
    private static (FolderKind Kind, string? Experiment) Describe(string directory)
    {
        var entries = System.IO.Directory.EnumerateFileSystemEntries(directory).Where(e => System.IO.Path.GetFileName(e) != LockFileName).ToList();
        if (entries.Count == 0) return (FolderKind.Empty, null);
        string summary = System.IO.Path.Combine(directory, SummaryFileName);
        if (File.Exists(summary))
        {
            string? experiment = null;
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(summary));
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("experiment", out var e) && e.ValueKind == JsonValueKind.String)
                    experiment = e.GetString();
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
            {
                // An unreadable summary still marks a finished run.
            }
            return (FolderKind.Finished, experiment);
        }
        if (File.Exists(System.IO.Path.Combine(directory, Checkpoints.FileName)))
            return (FolderKind.Interrupted, Checkpoints.ExperimentOf(directory));
        return (FolderKind.Other, null);
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>A file in the folder.</summary>
    public string PathOf(string name) => System.IO.Path.Combine(Directory, name);

    /// <summary>Starts metrics.csv with a header (or keeps the rows of a resumed run).</summary>
    public void BeginMetrics(string header, IEnumerable<string>? previousRows = null)
    {
        _metrics.Clear();
        _metrics.Append(header).Append('\n');
        if (previousRows != null) foreach (var r in previousRows) _metrics.Append(r).Append('\n');
    }

    /// <summary>Adds one row to metrics.csv (written on <see cref="FlushMetrics"/>).</summary>
    public void AddMetrics(params double[] values) =>
        _metrics.Append(string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append('\n');

    /// <summary>Adds a preformatted row to metrics.csv.</summary>
    public void AddMetricsRow(string row) => _metrics.Append(row).Append('\n');

    /// <summary>The rows written so far (without the header).</summary>
    public IReadOnlyList<string> MetricRows() => _metrics.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();

    /// <summary>Writes metrics.csv atomically.</summary>
    public void FlushMetrics() => WriteText(PathOf("metrics.csv"), _metrics.ToString());

    /// <summary>Writes summary.json atomically.</summary>
    public void WriteSummary(object summary) =>
        WriteText(PathOf("summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Writes a text file atomically (temp file + rename).</summary>
    public static void WriteText(string path, string text) => SafeTensors.AtomicWrite(path, s => s.Write(Encoding.UTF8.GetBytes(text)));

    /// <summary>A loss curve (log scale) as PNG.</summary>
    public void WriteLossCurve(string name, IReadOnlyList<double> losses, string title, IReadOnlyDictionary<int, double>? reference = null, string referenceLabel = "book")
    {
        var plt = new Plot();
        var xs = Enumerable.Range(0, losses.Count).Select(i => (double)i).ToArray();
        var line = plt.Add.Scatter(xs, losses.Select(l => Math.Log10(Math.Max(l, 1e-300))).ToArray());
        line.LegendText = "DiffGen";
        if (reference is { Count: > 0 })
        {
            var r = plt.Add.Scatter(reference.Keys.Select(k => (double)k).ToArray(), reference.Values.Select(v => Math.Log10(v)).ToArray());
            r.LegendText = referenceLabel;
            r.LineWidth = 0;
            r.MarkerSize = 8;
            plt.ShowLegend();
            plt.Legend.Alignment = Alignment.UpperRight;
        }
        plt.Title(title);
        plt.XLabel("iteration");
        plt.YLabel("log10 loss");
        plt.SavePng(PathOf(name), 700, 450);
    }

    /// <summary>1D fields over x as one PNG.</summary>
    public void WriteFields1D(string name, double[] x, IReadOnlyList<(string Label, double[] Values)> fields, string title)
    {
        var plt = new Plot();
        foreach (var (label, values) in fields)
        {
            var s = plt.Add.Scatter(x, values);
            s.LegendText = label;
            s.MarkerSize = 0;
        }
        plt.ShowLegend();
        plt.Title(title);
        plt.XLabel("x");
        plt.YLabel("u");
        plt.SavePng(PathOf(name), 700, 450);
    }
}

/// <summary>Reports progress: a live Spectre.Console bar, or plain lines when output is redirected or CI=true.</summary>
public interface IProgressReporter
{
    /// <summary>Called after every iteration.</summary>
    void Report(int iteration, int total, double loss);
}

/// <summary>Prints one line every <c>every</c> iterations (and at the last one).</summary>
public sealed class LineProgress(TextWriter output, int every) : IProgressReporter
{
    /// <inheritdoc />
    public void Report(int iteration, int total, double loss)
    {
        if (every > 0 && (iteration % every == 0 || iteration == total - 1))
            output.WriteLine(FormattableString.Invariant($"  iteration {iteration,4}/{total}  loss {loss:G6}"));
    }
}

/// <summary>Runs a training loop under a live Spectre.Console progress bar (iteration, loss, ETA).</summary>
public static class LiveProgress
{
    /// <summary>True when a live bar makes sense: an interactive terminal and not CI.</summary>
    public static bool Available =>
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is not ("true" or "1");

    /// <summary>Runs <paramref name="train"/> with a reporter that drives the bar.</summary>
    public static T Run<T>(string description, int total, int start, Func<IProgressReporter, T> train)
    {
        T result = default!;
        Spectre.Console.AnsiConsole.Progress()
            .Columns(new Spectre.Console.TaskDescriptionColumn(), new Spectre.Console.ProgressBarColumn(),
                new Spectre.Console.PercentageColumn(), new Spectre.Console.RemainingTimeColumn(), new Spectre.Console.SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(description, maxValue: total);
                task.Value = start;
                result = train(new Reporter(task, description));
            });
        return result;
    }

    private sealed class Reporter(Spectre.Console.ProgressTask task, string description) : IProgressReporter
    {
        public void Report(int iteration, int total, double loss)
        {
            task.Value = iteration + 1;
            task.Description = FormattableString.Invariant($"{description}  it {iteration + 1}/{total}  loss {loss:G5}");
        }
    }
}
