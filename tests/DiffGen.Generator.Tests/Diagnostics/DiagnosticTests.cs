using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.Diagnostics;

/// <summary>Every DG diagnostic is reported on the exact syntax it is about. [| |] marks the span.</summary>
public class DiagnosticTests
{
    private const string Prelude = "using System;\nusing DiffGen;\nnamespace T;\n";

    public static TheoryData<string, string, string> Cases() => new()
    {
        { "DG0001", "public partial interface I { [Differentiable] public double [|F|](double x) => x; }", "interface" },
        { "DG0002", "public static class [|C|] { [Differentiable] public static double F(double x) => x; }", "partial" },
        { "DG0002", "public class [|Outer|] { public static partial class C { [Differentiable] public static double F(double x) => x; } }", "partial" },
        { "DG0003", "public static partial class C { [Differentiable] public static double F([|System.Collections.Generic.Dictionary<int, double> d|], double x) => x; }", "Dictionary" },
        { "DG0003", "public static partial class C { [Differentiable] public static double F([|ref double[] x|]) => x[0]; }", "pass arrays and spans by value" },
        { "DG0003", "public static partial class C { [Differentiable] public static double F([|IFormattable f|], double x) => x; }", "[NoDiff]" },
        { "DG0102", "public enum E { A, B } public static partial class C { [Differentiable] public static double F(double x, E e) { E k = e; [|k|] = E.B; return x; } }", "assigned only where it is declared" },
        { "DG0004", "public static partial class C { [Differentiable] public static [|string|] F(double x) => \"\"; }", "Return type" },
        { "DG0004", "public static partial class C { [Differentiable] public static [|int[]|] F(double x) => new int[1]; }", "Return type 'int[]'" },
        { "DG0004", "public static partial class C { [Differentiable] public static [|(double[] A, double B)|] F(double[] x) => (x, x[0]); }", "value tuple of numbers" },
        { "DG0103", "public static partial class C { [Differentiable] public static [|double[]|] F(double[] x) { while (true) { var r = new double[x.Length]; r[0] = x[0] * 2; if (r[0] > 1) return r; x[0] += 1; } } }", "inside a loop" },
        { "DG0104", "public static partial class C { [Differentiable] public static double[] G(double[] v) { var r = new double[v.Length]; r[0] = v[0]; return r; } [Differentiable] public static double F(double[] x) { double s = 0; for (int k = 0; k < 2; k++) { var y = [|G(x)|]; s += y[0]; } return s; } }", "returning an array" },
        { "DG0102", "public static partial class C { [Differentiable] public static double[][] F(double[][] x) { x[0][0] *= 2; return [|x|]; } }", "jagged" },
        { "DG0102", "public partial class B { double[] _a = new double[2]; double[] _b = new double[2]; [Differentiable] public void Step(double s) { [|(_a, _b) = (_b, _a)|]; _a[0] *= s; } }", "last statement" },
        { "DG0102", "public sealed class P { public int A; public void Deconstruct(out double a, out double b) { a = A; b = A; } } public static partial class C { [Differentiable] public static double F(double x, P p) { var (a, b) = [|p|]; return x * a; } }", "value tuple" },
        { "DG0005", "public static partial class C { [Differentiable] public static double F[|<TT>|](double x) => x; }", "generic" },
        { "DG0006", "public static partial class C { [Differentiable] public static extern double [|F|](double x); }", "no body" },
        { "DG0100", "public static partial class C { [Differentiable] public static double F(double x) { [|try { x = 1; } catch { }|] return x; } }", "exception" },
        { "DG0100", "public static partial class C { [Differentiable] public static double F(double x) { [|goto end;|] end: return x; } }", "goto" },
        { "DG0101", "public static class H { public static double G(double v) => v * 3; } public static partial class C { [Differentiable] public static double F(double x) => Math.Sin([|H.G(x)|]); }", "GPullback(double v, double resultBar, ref double vBar)" },
        { "DG0102", "public static partial class C { [Differentiable] public static double F(double x, int i) { double y = x + [|i++|]; return y; } }", "++" },
        { "DG0103", "public static partial class C { [Differentiable] public static double F(double x) { Func<double, double> [|f = null!|]; return f(x); } }", "initialised with a lambda" },
        { "DG0103", "public static partial class C { [Differentiable] public static double F(double x) { System.Collections.Generic.Dictionary<int, double> [|d = new()|]; return x; } }", "Dictionary" },
        { "DG0104", "public static partial class C { [Differentiable] public static double G(double v) => v * v; [Differentiable] public static double F(double x) { while ([|G(x)|] < 10) x = x * 2; return x; } }", "loop condition" },
        { "DG0104", "public static partial class C { [Differentiable] public static double G(double v) => v * v; [Differentiable] public static double F(double x) => x > 0 ? [|G(x)|] : 0; }", "?:" },
        { "DG0105", "public static partial class C { [Differentiable] public static double F(double x) => [|Math.IEEERemainder(x, 2)|]; }", "DerivativeOf" },
        { "DG0106", "public static partial class C { [Differentiable] public static double F(double x) { var a = new double[3]; [|a = new double[4]|]; return x; } }", "a" },
        { "DG0110", "public static partial class C { [Differentiable] public static double F(double[] a) { double s = 0; [|System.Threading.Tasks.Parallel.For(0, a.Length, i => { s += a[i]; })|]; return s; } }", "every iteration writes 's'" },
        { "DG0110", "public static partial class C { [Differentiable] public static void F(double[] a, double[] b) { [|System.Threading.Tasks.Parallel.For(0, a.Length, i => { b[0] = a[i]; })|]; } }", "the loop counter times a loop-invariant stride" },
        { "DG0110", "public static partial class C { [Differentiable] public static void F(double[] a, double[] b) { [|System.Threading.Tasks.Parallel.For(1, a.Length, i => b[i] = b[i - 1] + a[i])|]; } }", "another iteration may write" },
        { "DG0110", "public static partial class C { [Differentiable] public static void F(double[] a, double[] b) { [|System.Threading.Tasks.Parallel.For(0, a.Length / 2, i => { b[2 * i] = a[i]; b[i + 1] = a[i]; })|]; } }", "different strides" },
        { "DG0100", "public static partial class C { [Differentiable] public static void F(double[] a, double[] b) { [|System.Threading.Tasks.Parallel.For(0, a.Length, (i, state) => { b[i] = a[i]; })|]; } }", "ParallelLoopState" },
        { "DG0303", "public static partial class C { [Differentiable, DataParallel] public static void [|F|](ReadOnlySpan<double> a, Span<double> b) { for (int i = 1; i < a.Length; i++) b[i] = b[i - 1] + a[i]; } }", "runs serially" },
        { "DG0200", "public static partial class C { [Differentiable] public static int [|F|](int n) => n; }", "no float or double" },
        { "DG0201", "public static partial class C { [Differentiable] public static double F([|[NoDiff] int n|], double x) => x * n; }", "no effect" },
        { "DG0007", "public static partial class C { [[|Differentiable(Modes = (DerivativeModes)16)|]] public static double F(double x) => x; }", "'16' is not a derivative mode" },
        { "DG0300", "public static partial class C { [[|Differentiable(Modes = DerivativeModes.Dual)|]] public static float F(float x) => x * x; }", "float" },
        { "DG0300", "public static partial class C { [Differentiable] public static void G(double x, ref double y) { y = x * y; } [[|Differentiable(Modes = DerivativeModes.Dual)|]] public static double F(double x) { double y = 2; G(x, ref y); return y; } }", "passes a number by ref or out" },
        { "DG0301", "public static partial class C { [Differentiable] public static void G(double x, out double y) { y = x * x; } [[|Differentiable(Modes = DerivativeModes.Vector | DerivativeModes.Forward)|]] public static double F(double x) { G(x, out double y); return y; } }", "passes a number by ref or out" },
        { "DG0301", "public static class H { public static double G(double v) => v; [DerivativeOf(typeof(H), nameof(G))] public static double GPullback(double v, double resultBar, ref double vBar) { vBar += resultBar; return v; } } public static partial class C { [[|Differentiable(Modes = DerivativeModes.Vector | DerivativeModes.Forward)|]] public static double F(double x) => H.G(x); }", "'G'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Diagnostic_IsReportedOnTheExactSyntax(string id, string marked, string messageContains)
    {
        int start = marked.IndexOf("[|", StringComparison.Ordinal);
        int end = marked.IndexOf("|]", StringComparison.Ordinal) - 2;
        var source = Prelude + marked.Replace("[|", "").Replace("|]", "");
        start += Prelude.Length;
        end += Prelude.Length;

        var result = TestCompilation.Run(source);
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Id is "CS8784" or "CS8785");
        var matches = result.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
        Assert.True(matches.Count > 0, $"expected {id}; got: {string.Join("; ", result.GeneratorDiagnostics)}");
        var d = matches[0];
        Assert.Equal(source.Substring(start, end - start), source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
        Assert.Contains(messageContains, d.GetMessage());
        var expected = id.StartsWith("DG03", StringComparison.Ordinal) ? DiagnosticSeverity.Info
            : id.StartsWith("DG02", StringComparison.Ordinal) ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error;
        Assert.Equal(expected, d.Severity);
        Assert.StartsWith("https://", d.Descriptor.HelpLinkUri);
    }

    [Fact]
    public void EveryDiagnosticId_IsDocumentedAndReleased()
    {
        var root = RepoPaths.Root;
        var docs = File.ReadAllText(Path.Combine(root, "docs", "diagnostics.md"));
        var released = File.ReadAllText(Path.Combine(root, "src", "Generator", "AnalyzerReleases.Shipped.md"))
            + File.ReadAllText(Path.Combine(root, "src", "Generator", "AnalyzerReleases.Unshipped.md"));
        var ids = Cases().Select(c => (string)c[0]).Distinct().ToList();
        Assert.Equal(20, ids.Count);
        foreach (var id in ids)
        {
            Assert.Contains("## " + id, docs);
            Assert.Contains(id + " |", released);
        }
    }

    [Fact]
    public void MethodWithErrors_GetsNoPullback_AndTheRestStillGenerate()
    {
        var source = Prelude + "public static partial class C { [Differentiable] public static double Good(double x) => x * x; [Differentiable] public static double Bad(double x) { goto l; l: return x; } }";
        var result = TestCompilation.Run(source);
        Assert.Contains(result.GeneratorDiagnostics, d => d.Id == "DG0100");
        Assert.Single(result.Sources);
        Assert.Contains("GoodPullback", result.Sources.Values.Single());
    }
}
