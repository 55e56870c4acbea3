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
        int accepted = 0, passing = 0, files = 0;
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
            if (build.Accepted)
            {
                accepted++;
                var failure = CorpusCompiler.RunDriver(build);
                gradients = failure == null ? "match" : "WRONG: " + failure;
                if (failure == null) passing++;
            }
            var first = build.Errors.Take(3).Select(d => Escape(CorpusCompiler.Describe(d)));
            md.Append("| ").Append(file).Append(" | ").Append(build.Accepted ? "yes" : "no").Append(" | ")
                .Append(Escape(gradients)).Append(" | ").Append(string.Join("<br>", first)).AppendLine(" |");
        }
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"Accepted unchanged: {accepted} of {files} files; gradients matching: {passing}. Compilation (parse, generator, emit) {compile.TotalSeconds:F1} s in all, report {total.Elapsed.TotalSeconds:F1} s.");
        var report = "# Issue #11 corpus report\n\n" + summary + "\n\n" + md;
        output.WriteLine(report);
        var path = Environment.GetEnvironmentVariable("DIFFGEN_CORPUS_REPORT");
        if (!string.IsNullOrEmpty(path)) File.WriteAllText(path, report);

        Assert.True(files >= 30, $"the corpus has only {files} files");
        Assert.True(crashes.Count == 0, "the generator crashed:\n  " + string.Join("\n  ", crashes));
    }

    private static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
