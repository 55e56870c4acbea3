using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.Diagnostics;

/// <summary>
/// The misleading messages issue #11 found (each failed before): LINQ reported as an instance call, follow-on
/// errors on the uses of a ref array parameter, 2D arrays printed as double[*,*], a call with ref arguments
/// without DG0101's signature, foreach over an array of structs called a non-array, and diagnostics that came
/// one stage per build.
/// </summary>
public class Issue11MessageTests
{
    private const string Prelude = "using System;\nusing System.Linq;\nusing DiffGen;\nnamespace T;\n";

    private string _source = "";

    private GeneratorResult Build(string body)
    {
        _source = Prelude + body;
        return TestCompilation.Run(_source);
    }

    private string At(Diagnostic d) =>
        d.Location.SourceSpan.End <= _source.Length ? _source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length) : "";

    private static string Describe(IEnumerable<Diagnostic> ds) => string.Join("\n  ", ds);

    [Fact]
    public void LinqCount_IsNotReportedAsAnInstanceCall()
    {
        var build = Build("public static partial class K { [Differentiable] public static double F(double[] x) { return x[0] * x.Count(); } }");
        Assert.DoesNotContain(build.GeneratorDiagnostics, d => d.GetMessage().Contains("only static methods", StringComparison.Ordinal));
        var d = Assert.Single(build.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("x.Count()", At(d));
        Assert.Contains("LINQ ('Enumerable.Count') has no derivative here: write the loop (for the number of elements of an array or span, use .Length)", d.GetMessage());
    }

    [Fact]
    public void RefArrayParameter_GetsOneDiagnostic_NotFollowOnErrorsInTheBody()
    {
        var build = Build("public static partial class K { [Differentiable] public static double F(ref double[] a) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i]; return s + a.Sum(); } }");
        var d = Assert.Single(build.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("DG0003", d.Id);
        Assert.Equal("ref double[] a", At(d));
    }

    [Fact]
    public void MultiDimensionalArrays_ArePrintedAsCSharpWritesThem_InTheMissingDerivativeSignature()
    {
        var build = Build("public static class H { public static double Sum(double[,] a) => a[0, 0] + a[1, 1]; } "
            + "public static partial class K { [Differentiable] public static double F(double[,] a) => H.Sum(a); }");
        Assert.DoesNotContain(build.GeneratorDiagnostics, d => d.GetMessage().Contains("[*", StringComparison.Ordinal));
        var d = Assert.Single(build.GeneratorDiagnostics, d => d.Id == "DG0101");
        Assert.Equal("H.Sum(a)", At(d));
        Assert.Contains("'H.Sum(double[,])' has no derivative", d.GetMessage());
        Assert.Contains("SumPullback(double[,] a, double resultBar, double[,] aBar)", d.GetMessage());
    }

    [Fact]
    public void CallWithRefArguments_GetsDG0101WithTheExactSignature()
    {
        var build = Build("public static class H { public static void Bump(ref double x) { x *= 2; } } "
            + "public static partial class K { [Differentiable] public static double F(double x) { H.Bump(ref x); return x; } }");
        var d = Assert.Single(build.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("DG0101", d.Id);
        Assert.Equal("H.Bump(ref x)", At(d));
        Assert.Contains("void BumpPullback(ref double x, ref double xBar)", d.GetMessage());
    }

    [Fact]
    public void ForeachOverAnArrayOfStructs_SaysWhatIsMissing()
    {
        var build = Build("public struct P { public double X; } public static partial class K { [Differentiable] public static double F(double[] w, P[] ps) { double s = 0; foreach (var p in ps) s += p.X * w[0]; return s; } }");
        Assert.DoesNotContain(build.GeneratorDiagnostics, d => d.GetMessage().Contains("span or array variable only", StringComparison.Ordinal));
    }

    [Fact]
    public void ForeachOverACollection_NamesItsType()
    {
        var build = Build("public static partial class K { [Differentiable] public static double F(double[] w) { double s = 0; foreach (var v in w.Reverse()) s += v; return s; } }");
        var d = Assert.Single(build.GeneratorDiagnostics, d => d.Id == "DG0100");
        Assert.Contains("foreach over 'System.Collections.Generic.IEnumerable<double>' is not supported", d.GetMessage());
    }

    [Fact]
    public void AllDiagnosticsOfAMethod_ComeInOneBuild()
    {
        // Four unsupported constructs from different stages (lowering, call resolution): before #11 the
        // missing derivative of H.G came only after the other three were fixed.
        string[] constructs = ["goto end;", "Math.IEEERemainder(x, 2)", "H.G(x)", "G2(x)"];
        var build = Build("""
            public static class H { public static double G(double v) => v * 3; }
            public static partial class K
            {
                [Differentiable] public static double G2(double v) => v * v;

                [Differentiable]
                public static double F(double x)
                {
                    double y = Math.IEEERemainder(x, 2) + H.G(x);
                    while (G2(x) < 10) x = x * 2;
                    if (x > 100) goto end;
                    y += x;
                end:
                    return y;
                }
            }
            """);
        var errors = build.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        foreach (var c in constructs)
            Assert.True(errors.Any(d => At(d) == c), $"no error on '{c}' in the same build; got:\n  " + Describe(errors));
    }

    [Fact]
    public void ADelegateCall_SaysWhichCallsAreSupported()
    {
        var build = Build("public static partial class K { [Differentiable] public static double F(double x, [NoDiff] Func<double, double> f) => f(x); }");
        Assert.Contains(build.GeneratorDiagnostics, d => d.GetMessage().Contains("only a lambda held in a local and only called", StringComparison.Ordinal));
    }
}
