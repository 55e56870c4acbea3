using DiffGen.Generator.Tests.Infrastructure;

namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>
/// A [DataParallel] loop whose bound is the length of the span it writes (<c>k &lt; f.Length</c>) runs on threads:
/// before, writing f's elements counted as changing the bound and the loop ran serially.
/// </summary>
public class LengthBoundTests
{
    [Fact]
    public void LoopBoundedByTheWrittenSpansLength_RunsOnThreads()
    {
        var result = TestCompilation.Run("""
            using System;
            using DiffGen;
            namespace T;
            public static partial class K
            {
                [Differentiable, DataParallel]
                public static void Accumulate(ReadOnlySpan<double> a, Span<double> f, double s)
                {
                    for (int k = 0; k < f.Length; k++) f[k] = s * a[k] * a[k] + f[k];
                }
            }
            """);
        var code = Assert.Single(result.Sources, g => g.Key.Contains("Accumulate", StringComparison.Ordinal)).Value;
        Assert.DoesNotContain("runs serially", code);
        Assert.Contains("ParallelLoops.For", code);
        Assert.Empty(result.OutputDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void LoopBoundedByTheWrittenSpansLength_MatchesFiniteDifferences(int threads)
    {
        using var _ = Parallelism.Use(threads, minChunkWork: 1);
        var r = new Random(5);
        int n = 37;
        double[] a = new double[n], f0 = new double[n], seed = new double[n];
        for (int i = 0; i < n; i++) { a[i] = r.NextDouble() - 0.5; f0[i] = r.NextDouble(); seed[i] = r.NextDouble() - 0.5; }
        double s = 0.7;
        double Loss(double[] aa, double[] ff, double ss)
        {
            var f = (double[])ff.Clone();
            LengthBoundKernels.Accumulate(aa, f, ss);
            double l = 0; for (int i = 0; i < n; i++) l += seed[i] * f[i];
            return l;
        }
        var fOut = (double[])f0.Clone(); var aBar = new double[n]; var fBar = (double[])seed.Clone(); double sBar = 0;
        LengthBoundKernels.AccumulatePullback(a, fOut, s, aBar, fBar, ref sBar);
        var expected = (double[])f0.Clone(); LengthBoundKernels.Accumulate(a, expected, s);
        Assert.Equal(expected, fOut);
        GradCheck.AssertClose(aBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, f0, s), a));
        GradCheck.AssertClose(fBar, GradCheck.FiniteDifferenceGradient(x => Loss(a, x, s), f0));
        GradCheck.AssertClose([sBar], GradCheck.FiniteDifferenceGradient(x => Loss(a, f0, x[0]), [s]));
    }
}
