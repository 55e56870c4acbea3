using System.Reflection;

namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Calls run as two pullback halves: gradients against central finite differences, the primal outputs
/// after the pullback, and which methods get halves.
/// </summary>
public class SplitCallTests
{
    private static readonly double[] X = [0.3, -0.7, 1.1, 0.45];

    [Fact]
    public void CalleeReverseHalf_SeesItsOutputs_WhenTheCallerOverwritesThem()
    {
        double F(double[] x) => SplitCalls.OverwriteAfterCall(x, new double[x.Length], new double[x.Length]);
        var xBar = new double[X.Length];
        var y = new double[X.Length]; var w = new double[X.Length];
        double value = SplitCalls.OverwriteAfterCallPullback(X, y, w, 1.0, xBar, new double[X.Length], new double[X.Length]);
        Assert.Equal(F(X), value);
        GradCheck.AssertClose(xBar, GradCheck.FiniteDifferenceGradient(F, X), 1e-6, "dL/dx");
        var yRef = new double[X.Length]; var wRef = new double[X.Length];
        SplitCalls.OverwriteAfterCall(X, yRef, wRef);
        Assert.Equal(yRef, y);
        Assert.Equal(wRef, w);
    }

    [Fact]
    public void InPlaceCallees_LeaveThePrimalOutput_AndMatchFiniteDifferences()
    {
        const double a = 0.9;
        var seed = new[] { 1.0, -2.0, 0.5, 3.0 };
        double L(double[] x, double aa)
        {
            var y = new double[x.Length];
            SplitCalls.CopyAndCubeTwice(x, y, aa);
            return y.Select((v, i) => v * seed[i]).Sum();
        }
        var xBar = new double[X.Length];
        double aBar = 0;
        var yOut = new double[X.Length];
        SplitCalls.CopyAndCubeTwicePullback(X, yOut, a, xBar, (double[])seed.Clone(), ref aBar);
        var yRef = new double[X.Length];
        SplitCalls.CopyAndCubeTwice(X, yRef, a);
        Assert.Equal(yRef, yOut);
        GradCheck.AssertClose(xBar, GradCheck.FiniteDifferenceGradient(x => L(x, a), X), 1e-6, "dL/dx");
        GradCheck.AssertClose([aBar], GradCheck.FiniteDifferenceGradient(v => L(X, v[0]), [a]), 1e-6, "dL/da");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void CallsInBranches_MatchFiniteDifferences(int mode)
    {
        const double a = 1.3;
        var seed = new[] { 0.5, 1.5, -1.0, 2.0 };
        double L(double[] x, double aa)
        {
            var y = new double[x.Length];
            SplitCalls.BranchCalls(x, y, mode, aa);
            return y.Select((v, i) => v * seed[i]).Sum();
        }
        var xBar = new double[X.Length];
        double aBar = 0;
        SplitCalls.BranchCallsPullback(X, new double[X.Length], mode, a, xBar, (double[])seed.Clone(), ref aBar);
        GradCheck.AssertClose(xBar, GradCheck.FiniteDifferenceGradient(x => L(x, a), X), 1e-6, "dL/dx");
        GradCheck.AssertClose([aBar], GradCheck.FiniteDifferenceGradient(v => L(X, v[0]), [a]), 1e-6, "dL/da");
    }

    [Fact]
    public void ScalarArgumentReadingAWrittenSpan_StaysCorrect()
    {
        var seed = new[] { 1.0, 2.0, 3.0, 4.0 };
        double L(double[] x)
        {
            var y = new double[x.Length];
            SplitCalls.ScalarArgFromWrittenSpan(x, y);
            return y.Select((v, i) => v * seed[i]).Sum();
        }
        var xBar = new double[X.Length];
        SplitCalls.ScalarArgFromWrittenSpanPullback(X, new double[X.Length], xBar, (double[])seed.Clone());
        GradCheck.AssertClose(xBar, GradCheck.FiniteDifferenceGradient(L, X), 1e-6, "dL/dx");
    }

    [Fact]
    public void VoidSpanMethods_HaveHalves_AndTheyLeaveTheTapeBalanced()
    {
        var methods = typeof(SplitCalls).GetMethods(BindingFlags.NonPublic | BindingFlags.Static).Select(m => m.Name).ToHashSet();
        Assert.Contains("SquareThenSquarePullbackForward", methods);
        Assert.Contains("SquareThenSquarePullbackReverse", methods);
        // A method with a result keeps the single-method pullback (it is called per element, not per field).
        Assert.DoesNotContain("OverwriteAfterCallPullbackForward", methods);

        // Halves called directly, as a generated caller does: everything pushed is popped again.
        var tape = new Tape();
        var y = new double[X.Length]; var w = new double[X.Length];
        Invoke("SquareThenSquarePullbackForward", tape, X, y, w);
        Assert.True(tape.Count > 0, "the forward half records y's final contents for the reverse half");
        var xBar = new double[X.Length];
        Invoke("SquareThenSquarePullbackReverse", tape, X, y, w, xBar, new double[X.Length], Enumerable.Repeat(1.0, X.Length).ToArray());
        Assert.Equal(0, tape.Count);
        Assert.NotEqual(0.0, xBar.Sum(Math.Abs));
    }

    private delegate void Forward(ReadOnlySpan<double> x, Span<double> y, Span<double> w, Tape tape);
    private delegate void Reverse(ReadOnlySpan<double> x, Span<double> y, Span<double> w, Span<double> xBar, Span<double> yBar, Span<double> wBar, Tape tape);

    private static void Invoke(string name, Tape tape, double[] x, double[] y, double[] w, double[]? xBar = null, double[]? yBar = null, double[]? wBar = null)
    {
        var m = typeof(SplitCalls).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;
        if (xBar == null) m.CreateDelegate<Forward>()(x, y, w, tape);
        else m.CreateDelegate<Reverse>()(x, y, w, xBar, yBar!, wBar!, tape);
    }
}

public class HandWrittenReverseTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(2, 5)]
    public void ReverseHalf_IsUsedOutsideLoops_AndTheGradientMatches(int repeats, int expectedRuns)
    {
        double[] x = [0.4, -1.2, 0.8];
        double L(double[] v) => HandWrittenReverse.Loss(v, new double[v.Length], new double[v.Length], repeats);
        var xBar = new double[x.Length];
        HandWrittenReverse.Runs = 0;
        double value = HandWrittenReverse.LossPullback(x, new double[x.Length], new double[x.Length], repeats, 1.0, xBar, new double[x.Length], new double[x.Length]);
        // Once in the forward sweep per call site and loop trip, plus one re-run per loop trip (joint inside
        // loops); none for the call outside the loop, whose reverse half does not re-run it.
        Assert.Equal(expectedRuns, HandWrittenReverse.Runs);
        Assert.Equal(L(x), value);
        GradCheck.AssertClose(xBar, GradCheck.FiniteDifferenceGradient(L, x), 1e-6, "dL/dx");
    }
}
