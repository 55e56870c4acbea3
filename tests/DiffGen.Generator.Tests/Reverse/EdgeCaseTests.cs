namespace DiffGen.Generator.Tests.Reverse;

/// <summary>Pullback and pushforward of each edge case against central finite differences.</summary>
public class EdgeCaseTests
{
    public delegate double Pullback(double x, double resultBar, ref double xBar);

    private static void Check(Func<double, double> f, Pullback pullback, Func<double, double, (double Value, double Tangent)> pushforward, params double[] points)
    {
        foreach (var x in points)
        {
            double xBar = 0;
            double y = pullback(x, 1.0, ref xBar);
            Assert.Equal(f(x), y);
            double fd = GradCheck.FiniteDifferenceGradient(v => f(v[0]), [x])[0];
            GradCheck.AssertClose([xBar], [fd], 1e-6, $"gradient at {x}");
            var (v, t) = pushforward(x, 1.0);
            Assert.Equal(f(x), v);
            GradCheck.AssertClose([t], [fd], 1e-6, $"tangent at {x}");
        }
    }

    [Fact] public void InfiniteForWithBreak() => Check(EdgeCases.InfiniteForWithBreak, EdgeCases.InfiniteForWithBreakPullback, EdgeCases.InfiniteForWithBreakPushforward, 0.3, 1.7, 12);
    [Fact] public void LongBound() => Check(x => EdgeCases.LongBound(x, 5L), (double x, double b, ref double xb) => EdgeCases.LongBoundPullback(x, 5L, b, ref xb), (x, d) => EdgeCases.LongBoundPushforward(x, d, 5L), 0.7, -1.3);
    [Fact] public void ConstLongBound() => Check(EdgeCases.ConstLongBound, EdgeCases.ConstLongBoundPullback, EdgeCases.ConstLongBoundPushforward, 0.7, -1.3);
    [Fact] public void DoWhile() => Check(EdgeCases.DoWhile, EdgeCases.DoWhilePullback, EdgeCases.DoWhilePushforward, 0.5, 3.1, 20);
    [Fact] public void TwoLoopVariables() => Check(x => EdgeCases.TwoLoopVariables(x, 7), (double x, double b, ref double xb) => EdgeCases.TwoLoopVariablesPullback(x, 7, b, ref xb), (x, d) => EdgeCases.TwoLoopVariablesPushforward(x, d, 7), 0.4);
    [Fact] public void NegativeStride() => Check(EdgeCases.NegativeStride, EdgeCases.NegativeStridePullback, EdgeCases.NegativeStridePushforward, 0.7, -1.2);
    [Fact] public void ReturnFromInfiniteWhile() => Check(EdgeCases.ReturnFromInfiniteWhile, EdgeCases.ReturnFromInfiniteWhilePullback, EdgeCases.ReturnFromInfiniteWhilePushforward, 0.3, -3.0);
    [Fact] public void CompoundOnParameter() => Check(EdgeCases.CompoundOnParameter, EdgeCases.CompoundOnParameterPullback, EdgeCases.CompoundOnParameterPushforward, 0.8, -2.1);
    [Fact] public void NestedBreakContinue() => Check(EdgeCases.NestedBreakContinue, EdgeCases.NestedBreakContinuePullback, EdgeCases.NestedBreakContinuePushforward, 0.9, 1.4);
    [Fact] public void Recursive() => Check(x => EdgeCases.Recursive(x, 4), (double x, double b, ref double xb) => EdgeCases.RecursivePullback(x, 4, b, ref xb), (x, d) => EdgeCases.RecursivePushforward(x, d, 4), 0.6);
    [Fact] public void SameNameInSiblingBlocks() => Check(EdgeCases.SameNameInSiblingBlocks, EdgeCases.SameNameInSiblingBlocksPullback, EdgeCases.SameNameInSiblingBlocksPushforward, 0.5, -0.9);
    [Fact] public void ArrayScratch() => Check(EdgeCases.ArrayScratch, EdgeCases.ArrayScratchPullback, EdgeCases.ArrayScratchPushforward, 1.3);
    [Fact] public void LocalRedefinedPerIteration() => Check(EdgeCases.LocalRedefinedPerIteration, EdgeCases.LocalRedefinedPerIterationPullback, EdgeCases.LocalRedefinedPerIterationPushforward, 0.7);
    [Fact] public void ShortCircuit() => Check(EdgeCases.ShortCircuit, EdgeCases.ShortCircuitPullback, EdgeCases.ShortCircuitPushforward, 0.5, 2.0, 3.5);
    [Fact] public void WhileWithDataDependentTrips() => Check(EdgeCases.WhileWithDataDependentTrips, EdgeCases.WhileWithDataDependentTripsPullback, EdgeCases.WhileWithDataDependentTripsPushforward, 0.37, 2.2);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void SwitchWithLocals(int mode) => Check(x => EdgeCases.SwitchWithLocals(x, mode), (double x, double b, ref double xb) => EdgeCases.SwitchWithLocalsPullback(x, mode, b, ref xb), (x, d) => EdgeCases.SwitchWithLocalsPushforward(x, d, mode), 0.4, -0.8);
}

public class RegressionTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void BranchFlagsAndBoolValues_ArePoppedInOrder(int lo)
    {
        double[] f = [1.5, 2.0];
        var g = new double[2];
        double y = Regressions.PickPullback(f, lo, 1.0, g);
        Assert.Equal(Regressions.Pick(f, lo), y);
        GradCheck.AssertClose(g, GradCheck.FiniteDifferenceGradient(x => Regressions.Pick(x, lo), f));
    }

    [Fact]
    public void BoolsTapedInsideATapedBranch()
    {
        double[] x = [0.3, 0.1, 0.7, 0.5, 0.9, 0.2, 1.3];
        var g = new double[x.Length];
        double y = Regressions.RunningMaxFlagPullback(x, 1.0, g);
        Assert.Equal(Regressions.RunningMaxFlag(x), y);
        GradCheck.AssertClose(g, GradCheck.FiniteDifferenceGradient(v => Regressions.RunningMaxFlag(v), x));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ConditionalInsideCompoundAssignment(bool flag)
    {
        double[] f = [0.5, -1.5, 2.0];
        var g = new double[3];
        Regressions.ConditionalAccumulatePullback(f, flag, 1.0, g);
        GradCheck.AssertClose(g, GradCheck.FiniteDifferenceGradient(x => Regressions.ConditionalAccumulate(x, flag), f));
        var (_, t) = Regressions.ConditionalAccumulatePushforward(f, [1, 1, 1], flag);
        Assert.Equal(g.Sum(), t, 12);
    }
}
