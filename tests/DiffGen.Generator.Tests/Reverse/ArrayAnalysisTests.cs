using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// The to-be-recorded analysis on multi-dimensional and jagged arrays: precise where an element is
/// private to a loop iteration (written at [i, j] by the loop over j, read at the same [i, j]),
/// conservative where another iteration may overwrite it; and the placement rules for array locals.
/// </summary>
public class ArrayAnalysisTests
{
    private const string Prelude = "using System;\nusing DiffGen;\nnamespace T;\n";

    private static string Generated(string body)
    {
        var result = TestCompilation.Run(Prelude + "public static partial class K { " + body + " }");
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.True(result.OutputDiagnostics.IsEmpty, string.Join("\n", result.OutputDiagnostics));
        return result.Sources.Single().Value;
    }

    private static string Taped(string generated) =>
        generated.Split('\n').Single(l => l.Contains("taped values:", StringComparison.Ordinal)).Split(':')[1].Trim();

    [Theory]
    // A 2D local written at [i, j] and read back at [i, j] in the same iteration: nothing to tape.
    [InlineData("var b = new double[n, m]; for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { b[i, j] = Math.Sin(a[i, j]); s += b[i, j] * b[i, j]; }", "(none)")]
    // The same on a jagged local.
    [InlineData("var b = new double[n][]; for (int i = 0; i < n; i++) { b[i] = new double[m]; for (int j = 0; j < m; j++) { b[i][j] = Math.Sin(a[i, j]); s += b[i][j] * b[i][j]; } }", "(none)")]
    // Private to the loop over i through position 0 even though the column is not the inner counter.
    [InlineData("var b = new double[n, 2]; for (int i = 0; i < n; i++) { b[i, 0] = a[i, 0] * a[i, 1]; b[i, 1] = b[i, 0] * b[i, 0]; s += b[i, 1] * b[i, 0]; }", "(none)")]
    // Read at [i, j + 1] after a write at [i, j]: the next iteration of j overwrites it, so it is taped.
    [InlineData("var b = new double[n, m + 1]; for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { b[i, j] = Math.Sin(a[i, j]); b[i, j + 1] = 2.0; s += b[i, j] * b[i, j]; }", "b")]
    // Indices swapped between write and read (b[j, i] vs b[i, j]): not private, taped.
    [InlineData("var b = new double[n, n]; for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { b[i, j] = a[i, j] * 2.0; s += b[j, i] * b[j, i]; b[j, i] = 0.0; }", "b")]
    public void ElementsPrivateToAnIteration_AreNotTaped(string loop, string expected)
    {
        var code = Generated("[Differentiable] public static double F(double[,] a) { int n = a.GetLength(0), m = a.GetLength(1); double s = 0; " + loop + " return s; }");
        Assert.Equal(expected, Taped(code));
    }

    [Theory]
    [InlineData("for (int t = 0; t < 2; t++) { var b = new double[2, 2]; s += b[0, 0]; }", "DG0103", "inside a loop")]
    [InlineData("var b = new double[3][]; for (int t = 0; t < 2; t++) for (int i = 0; i < 3; i++) b[i] = new double[2];", "DG0102", "allocated once")]
    [InlineData("var b = new double[3][]; for (int i = 0; i < 2; i++) b[i + 1] = new double[2];", "DG0102", "allocated once")]
    [InlineData("int d = 1; s += a.GetLength(d);", "DG0102", "constant dimension")]
    [InlineData("foreach (var x in a) { if (x > 1) break; s += x; }", "DG0100", "break in a foreach over a multi-dimensional array")]
    [InlineData("s += a.Length > 0 ? Kind(1) switch { 1 => a[0, 0], 2 => a[0, 1] } : 0;", "DG0102", "discard arm")]
    [InlineData("s += a[0];", "DG0102", "2 dimensions")]
    [InlineData("var b = new double[2][]; b[0] = new double[2]; var c = b[0]; Use(c);", "DG0102", "row of a jagged array")]
    public void UnsupportedArrayUses_AreReportedWithWhatToDo(string statements, string id, string message)
    {
        var result = TestCompilation.Run(Prelude + "public static partial class K { static void Use(double[] r) { } static int Kind(int k) => k; [Differentiable] public static double F(double[,] a) { double s = 0; " + statements + " return s; } }");
        var d = Assert.Single(result.GeneratorDiagnostics, x => x.Severity == DiagnosticSeverity.Error);
        Assert.Equal(id, d.Id);
        Assert.Contains(message, d.GetMessage(), StringComparison.Ordinal);
    }
}
