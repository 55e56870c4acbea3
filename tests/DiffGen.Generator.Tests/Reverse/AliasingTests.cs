using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.Reverse;

/// <summary>Kernels whose arrays must not overlap (issue #11: an aliased call gave a silently wrong gradient).</summary>
public static partial class Aliasing
{
    [Differentiable]
    public static void Scale(ReadOnlySpan<double> a, double s, Span<double> b)
    {
        for (int i = 0; i < a.Length; i++) b[i] = s * a[i];
    }

    /// <summary>Calls Scale with two different arrays; a caller can still pass one array for both.</summary>
    [Differentiable]
    public static double ScaledEnergy(double[] input, double s, double[] output)
    {
        Scale(input, s, output);
        double r = 0;
        for (int i = 0; i < output.Length; i++) r += output[i] * output[i];
        return r;
    }

    /// <summary>Reads both arrays only (taken as double[], which could be written): one array may be passed for both.</summary>
    [Differentiable]
    public static double Dot(double[] x, double[] y)
    {
        double r = 0;
        for (int i = 0; i < x.Length; i++) r += x[i] * y[i];
        return r;
    }

    /// <summary>Passes one array for both of Dot's parameters: no DG0107, since Dot writes neither.</summary>
    [Differentiable]
    public static double SquaredNorm(double[] a) => Dot(a, a);

    [Differentiable]
    public static void Blur(double[,] u, double[,] v, double w)
    {
        for (int i = 1; i < u.GetLength(0) - 1; i++)
            for (int j = 0; j < u.GetLength(1); j++)
                v[i, j] = u[i, j] + w * (u[i - 1, j] + u[i + 1, j]);
    }

    [Differentiable]
    public static void AddRows(double[][] y, double[][] x)
    {
        for (int i = 0; i < y.Length; i++)
            for (int j = 0; j < y[i].Length; j++)
                y[i][j] += x[i][j] * x[i][j];
    }
}

/// <summary>
/// Aliased arrays never give a wrong number: the same variable passed to two array parameters of which one
/// is written is DG0107 on the call, and every public pullback and pushforward checks at run time that its
/// written span/array parameters share no memory with the others (ArgumentException naming both).
/// </summary>
public class AliasingTests
{
    [Fact]
    public void SameArrayForTwoReadOnlyParameters_IsAccepted_AndItsGradientIsRight()
    {
        double[] a = [0.5, -1.25, 2.0];
        var aBar = new double[3];
        double r = Aliasing.SquaredNormPullback(a, 1.0, aBar);
        Assert.Equal(a.Sum(x => x * x), r, 12);
        GradCheck.AssertClose(aBar, GradCheck.FiniteDifferenceGradient(p => Aliasing.SquaredNorm(p), a));
    }

    [Fact]
    public void SameArrayAsInputAndOutput_IsAnErrorOnTheCall()
    {
        const string source = """
            using System; using DiffGen; namespace T;
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
            """;
        var result = TestCompilation.Run(source);
        var d = Assert.Single(result.GeneratorDiagnostics, x => x.Severity == DiagnosticSeverity.Error);
        Assert.Equal("DG0107", d.Id);
        Assert.Equal("Scale(x, s, x)", source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
        Assert.Equal("'x' is passed as both 'a' and 'b' of 'Scale', which writes 'b': its derivative assumes they do not share memory; pass a separate array (a copy, or another output)", d.GetMessage());
    }

    [Fact]
    public void ReadOnlyTwice_IsFine()
    {
        var result = TestCompilation.Run("""
            using System; using DiffGen; namespace T;
            public static partial class K
            {
                [Differentiable] public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
                [Differentiable] public static double F(double[] x) => Dot(x, x);
            }
            """);
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(result.OutputDiagnostics.IsEmpty, string.Join("\n", result.OutputDiagnostics));
    }

    [Fact]
    public void AliasedArguments_AreRejectedAtRunTime()
    {
        var x = new[] { 0.5, 1.0, 2.0 };
        var bar = new double[3];
        double sBar = 0;
        // Before #11 the equivalent code gave dF/ds = 23.625 where the true value is 15.75.
        var ex = Assert.Throws<ArgumentException>(() => Aliasing.ScaledEnergyPullback(x, 1.5, x, 1.0, bar, ref sBar, new double[3]));
        Assert.Equal("output", ex.ParamName);
        Assert.Contains("input and output share memory, but ScaledEnergy writes output", ex.Message);

        // Overlapping slices of one buffer are caught too, and so is the pushforward.
        var buffer = new double[5];
        Assert.Throws<ArgumentException>(() => Aliasing.ScalePullback(buffer.AsSpan(0, 3), 2.0, buffer.AsSpan(2, 3), new double[3], ref sBar, new double[3]));
        Aliasing.ScalePullback(buffer.AsSpan(0, 2), 2.0, buffer.AsSpan(2, 2), new double[2], ref sBar, new double[2]); // disjoint: fine
        Assert.Throws<ArgumentException>(() => Aliasing.ScalePushforward(x, new double[3], 2.0, 1.0, x, new double[3]));

        var grid = new double[3, 2];
        Assert.Throws<ArgumentException>(() => Aliasing.BlurPullback(grid, grid, 0.1, new double[3, 2], new double[3, 2], ref sBar));

        var row = new double[2];
        double[][] y = [row, new double[2]];
        double[][] xs = [new double[2], row];
        var rows = Assert.Throws<ArgumentException>(() => Aliasing.AddRowsPullback(y, xs, [new double[2], new double[2]], [new double[2], new double[2]]));
        Assert.Contains("y and x share memory", rows.Message);
        var twice = Assert.Throws<ArgumentException>(() => Aliasing.AddRowsPullback([row, row], [new double[2], new double[2]], [new double[2], new double[2]], [new double[2], new double[2]]));
        Assert.Equal("y", twice.ParamName);
    }

    [Fact]
    public void WithoutAliasing_TheGradientIsTheTrueOne()
    {
        // F(x, s) = sum((s x)^2): dF/ds = 2 s sum(x^2) = 15.75 at s = 1.5, x = (0.5, 1, 2).
        var x = new[] { 0.5, 1.0, 2.0 };
        var xBar = new double[3];
        var outBar = new double[3];
        double sBar = 0;
        Aliasing.ScaledEnergyPullback(x, 1.5, new double[3], 1.0, xBar, ref sBar, outBar);
        Assert.Equal(15.75, sBar, 12);
    }
}
