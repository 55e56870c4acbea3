using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.RealWorld;

/// <summary>
/// Regression tests for the defects issue #11 found on the way whose check needs the generated code to run
/// (each failed when written): a long loop bound, and an aliased [Differentiable] call that gave a silently
/// wrong gradient. The misleading messages and the one-build rule are Diagnostics/Issue11MessageTests.
/// </summary>
public class Issue11DefectTests
{
    private const string Prelude = "using System;\nusing System.Linq;\nusing DiffGen;\nnamespace T;\n";

    private string _source = "";

    private CorpusBuild Build(string body)
    {
        _source = Prelude + body;
        return CorpusCompiler.Build("Issue11", _source, "Issue11.cs", primalOnly: false, withCommon: false);
    }

    private static string Describe(IEnumerable<Diagnostic> ds) => string.Join("\n  ", ds.Select(CorpusCompiler.Describe));

    private static void AssertAccepted(CorpusBuild build) =>
        Assert.True(build.Accepted, "expected no errors; got:\n  " + Describe(build.Errors));

    /// <summary>The source text a diagnostic points at (generator diagnostics carry a file location, not a tree).</summary>
    private string At(Diagnostic d) =>
        d.Location.GetLineSpan().Path == "Issue11.cs" && d.Location.SourceSpan.End <= _source.Length
            ? _source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length) : "";

    [Theory]
    [InlineData("[Differentiable] public static double F(double[] x, long n) { double s = 0; for (int i = 0; i < n; i++) s += x[i] * x[i]; return s; }", "FPullback(x, 3L, 1.0, g)")]
    [InlineData("private const long N = 3; [Differentiable] public static double F(double[] x) { double s = 0; for (int i = 0; i < N; i++) s += x[i] * x[i]; return s; }", "FPullback(x, 1.0, g)")]
    public void LongLoopBound_Compiles_AndItsGradientIsRight(string method, string pullback)
    {
        // Was CS0266 in the generated code ("int _trips = <long>").
        var build = Build("public static partial class K { " + method + " }\n"
            + "public static class Probe { public static double[] Run() { var x = new[] { 0.5, -1.5, 2.0, 7.0 }; var g = new double[4]; K." + pullback + "; return g; } }");
        AssertAccepted(build);
        var g = (double[])CorpusCompiler.Invoke(build, "T.Probe", "Run")!;
        Assert.Equal(new[] { 1.0, -3.0, 4.0, 0.0 }, g); // d/dx_i sum_{i<3} x_i^2 = 2 x_i, exact in binary
    }

    [Fact]
    public void AliasedCall_GivesTheTrueGradient_OrAnErrorOnTheCall()
    {
        // F(x, s) = sum((s x)^2) with Scale writing s*x back into x: dF/ds = 2 s sum(x^2) = 2 * 1.5 * 5.25 = 15.75.
        // Before #11 this built without a diagnostic and gave 23.625.
        const string call = "Scale(x, s, x)";
        var build = Build("""
            public static partial class K
            {
                [Differentiable]
                public static void Scale(ReadOnlySpan<double> a, double s, Span<double> b)
                {
                    for (int i = 0; i < a.Length; i++) b[i] = s * a[i];
                }

                [Differentiable]
                public static double F(double[] x, double s)
                {
                    Scale(x, s, x);
                    double r = 0;
                    for (int i = 0; i < x.Length; i++) r += x[i] * x[i];
                    return r;
                }
            }
            public static class Probe
            {
                public static double Run()
                {
                    var x = new[] { 0.5, 1.0, 2.0 };
                    var xBar = new double[3];
                    double sBar = 0;
                    K.FPullback(x, 1.5, 1.0, xBar, ref sBar);
                    return sBar;
                }
            }
            """);
        var onCall = build.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error && At(d) == call).ToList();
        if (onCall.Count > 0) return; // rejected with a diagnostic on the aliased call: acceptable
        AssertAccepted(build);
        double sBar = (double)CorpusCompiler.Invoke(build, "T.Probe", "Run")!;
        Assert.True(Math.Abs(sBar - 15.75) < 1e-9, $"dF/ds = {sBar}, expected 15.75 (or an error diagnostic on {call})");
    }
}
