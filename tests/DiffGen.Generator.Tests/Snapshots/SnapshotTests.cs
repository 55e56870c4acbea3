using System.Runtime.CompilerServices;
using System.Text;
using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.Snapshots;

/// <summary>
/// The generated source of representative methods, every mode asked for (DiffGenDerivativeModes = All),
/// compared line by line with checked-in baselines (Snapshots/Baselines/*.g.cs). Set DIFFGEN_UPDATE_SNAPSHOTS=1 to rewrite them; a
/// baseline is accepted only after reading its diff as a reviewer would.
/// </summary>
public class SnapshotTests
{
    public static TheoryData<string> Inputs()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(InputDir()).OrderBy(x => x, StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(f));
        return data;
    }

    private static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    private static string InputDir() => Path.Combine(Here(), "Inputs");

    private static string BaselineDir() => Path.Combine(Here(), "Baselines");

    [Theory]
    [MemberData(nameof(Inputs))]
    public void GeneratedCode_MatchesBaseline(string name)
    {
        var source = File.ReadAllText(Path.Combine(InputDir(), name + ".cs"));
        var result = TestCompilation.RunAllModes(source);

        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        // The generated code must compile without warnings (users build with TreatWarningsAsErrors).
        Assert.True(result.OutputDiagnostics.IsEmpty, string.Join("\n", result.OutputDiagnostics));
        Assert.NotEmpty(result.Sources);

        var actual = new StringBuilder();
        foreach (var (hint, text) in result.Sources.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            actual.Append("// ==== ").Append(hint).Append('\n').Append(text.Replace("\r\n", "\n"));

        var baselinePath = Path.Combine(BaselineDir(), name + ".g.cs");
        if (Environment.GetEnvironmentVariable("DIFFGEN_UPDATE_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(BaselineDir());
            File.WriteAllText(baselinePath, actual.ToString());
            return;
        }
        Assert.True(File.Exists(baselinePath), $"No baseline {baselinePath}; run with DIFFGEN_UPDATE_SNAPSHOTS=1 to create it, then review it.");
        CompareLines(File.ReadAllText(baselinePath).Replace("\r\n", "\n"), actual.ToString(), baselinePath);
    }

    [Fact]
    public void GeneratedCode_IsDeterministic()
    {
        foreach (var f in Directory.GetFiles(InputDir()))
        {
            var source = File.ReadAllText(f);
            var a = TestCompilation.RunAllModes(source).Sources;
            var b = TestCompilation.RunAllModes(source).Sources;
            Assert.Equal(a, b);
        }
    }

    private static void CompareLines(string expected, string actual, string path)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string el = i < e.Length ? e[i] : "<end of file>";
            string al = i < a.Length ? a[i] : "<end of file>";
            if (el != al)
                Assert.Fail($"Generated code differs from {path} at line {i + 1}:\n  expected: {el}\n  actual:   {al}\nSet DIFFGEN_UPDATE_SNAPSHOTS=1 to rewrite the baseline after reviewing the change.");
        }
    }
}
