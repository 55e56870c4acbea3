using System.Globalization;
using System.Text;
using System.Text.Json;
using DiffGen.NN.IO;
using ScottPlot;
using Spectre.Console;

namespace DiffGen.Trainers.Common;

/// <summary>A bad option or path: reported as one line on stderr with exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The output folder of one run: metrics, pictures, model, checkpoint, summary.</summary>
public sealed class RunOutput
{
    private readonly StringBuilder _metrics = new();

    /// <summary>Creates (or reuses, when resuming) the folder.</summary>
    public RunOutput(string directory)
    {
        Directory = directory;
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UsageException($"cannot create output folder '{directory}': {e.Message}");
        }
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
