using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Xunit.Abstractions;

namespace DiffGen.Generator.Tests.RealWorld;

/// <summary>
/// The corpus report: per file, accepted unchanged or not, whether its gradients then match, and
/// the first diagnostics. Printed to the test output and, when DIFFGEN_CORPUS_REPORT names a file,
/// written there as Markdown (RealWorld/report.sh does that). As a test it asserts what must hold
/// whatever the generator supports: it never crashes on real code.
/// </summary>
public class CorpusReportTests(ITestOutputHelper output)
{
    [Fact]
    public void CorpusReport_GeneratorNeverCrashesOnTheCorpus()
    {
        var total = Stopwatch.StartNew();
        var md = new StringBuilder();
        md.AppendLine("| file | accepted unchanged | gradients | first diagnostics |");
        md.AppendLine("|---|---|---|---|");
        int files = 0;
        var accepted = new Dictionary<string, (int Files, int Accepted, int Passing)>();
        var crashes = new List<string>();
        var compile = TimeSpan.Zero;
        foreach (var file in CorpusCompiler.Files())
        {
            files++;
            var build = CorpusCompiler.Build(file, primalOnly: false);
            compile += build.CompileTime;
            crashes.AddRange(build.GeneratorDiagnostics
                .Where(d => d.Id is "CS8784" or "CS8785" || (d.Id == "DG0100" && d.GetMessage().Contains("internal error", StringComparison.OrdinalIgnoreCase)))
                .Select(d => file + ": " + CorpusCompiler.Describe(d)));
            string gradients = "not run";
            string folder = file[..file.IndexOf('/', StringComparison.Ordinal)];
            var (n, a, p) = accepted.GetValueOrDefault(folder);
            if (build.Accepted)
            {
                var failure = CorpusCompiler.RunDriver(build);
                gradients = failure == null ? "match" : "WRONG: " + failure;
                a++;
                if (failure == null) p++;
            }
            accepted[folder] = (n + 1, a, p);
            var first = build.Errors.Take(3).Select(d => Escape(CorpusCompiler.Describe(d)));
            md.Append("| ").Append(file).Append(" | ").Append(build.Accepted ? "yes" : "no").Append(" | ")
                .Append(Escape(gradients)).Append(" | ").Append(string.Join("<br>", first)).AppendLine(" |");
        }
        var summary = new StringBuilder();
        foreach (var (folder, (n, a, p)) in accepted.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            summary.Append(CultureInfo.InvariantCulture, $"- {folder}: {a} of {n} files accepted unchanged, {p} with matching gradients\n");
        summary.Append(CultureInfo.InvariantCulture,
            $"\nCompilation (parse, generator, emit; wall time, summed over files) {compile.TotalSeconds:F1} s; report {total.Elapsed.TotalSeconds:F1} s.");
        var report = "# Issue #11 corpus report\n\n" + summary + "\n\n" + md;
        output.WriteLine(report);
        var path = Environment.GetEnvironmentVariable("DIFFGEN_CORPUS_REPORT");
        if (!string.IsNullOrEmpty(path)) File.WriteAllText(path, report);

        Assert.True(files >= 30, $"the corpus has only {files} files");
        Assert.True(crashes.Count == 0, "the generator crashed:\n  " + string.Join("\n  ", crashes));
    }

    private static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
