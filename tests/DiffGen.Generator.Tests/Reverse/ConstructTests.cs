namespace DiffGen.Generator.Tests.Reverse;

/// <summary>Every construct kernel: value, gradient (reverse) and directional derivative (forward) against finite differences.</summary>
public class ConstructTests
{
    public delegate double Primal(ReadOnlySpan<double> x);
    public delegate double PullbackFn(ReadOnlySpan<double> x, double resultBar, Span<double> xBar);
    public delegate (double Value, double Tangent) PushforwardFn(ReadOnlySpan<double> x, ReadOnlySpan<double> xDot);

    private static void Check(Primal f, PullbackFn pullback, PushforwardFn pushforward, double[] x)
    {
        var xBar = new double[x.Length];
        double y = pullback(x, 1.0, xBar);
        Assert.Equal(f(x), y);
        var fd = GradCheck.FiniteDifferenceGradient(v => f(v), x);
        GradCheck.AssertClose(xBar, fd, 1e-6, "gradient");
        var v = new double[x.Length];
        var r = new Random(5);
        for (int i = 0; i < v.Length; i++) v[i] = r.NextDouble() - 0.5;
        var (value, tangent) = pushforward(x, v);
        Assert.Equal(y, value);
        double expected = 0;
        for (int i = 0; i < v.Length; i++) expected += fd[i] * v[i];
        GradCheck.AssertClose([tangent], [expected], 1e-6, "tangent");
    }

    private static readonly double[] X3 = [0.37, -0.61, 0.23];
    private static readonly double[] X7 = [0.3, -0.45, 0.9, 0.12, -0.77, 0.51, 0.66];

    [Fact] public void Arithmetic() => Check(Constructs.Arithmetic, Constructs.ArithmeticPullback, Constructs.ArithmeticPushforward, X3);
    [Fact] public void ConstantsAndFields() => Check(Constructs.ConstantsAndFields, Constructs.ConstantsAndFieldsPullback, Constructs.ConstantsAndFieldsPushforward, X3);
    [Fact] public void Casts() => Check(Constructs.Casts, Constructs.CastsPullback, Constructs.CastsPushforward, [0.37, -0.613, 0.23]);
    [Fact] public void Trig() => Check(Constructs.Trig, Constructs.TrigPullback, Constructs.TrigPushforward, X3);
    [Fact] public void ExpLogSqrt() => Check(Constructs.ExpLogSqrt, Constructs.ExpLogSqrtPullback, Constructs.ExpLogSqrtPushforward, X3);
    [Fact] public void PowTanhAbs() => Check(Constructs.PowTanhAbs, Constructs.PowTanhAbsPullback, Constructs.PowTanhAbsPushforward, X3);
    [Fact] public void MinMaxClamp() => Check(Constructs.MinMaxClamp, Constructs.MinMaxClampPullback, Constructs.MinMaxClampPushforward, X3);
    [Fact] public void MinMaxClamp_OtherBranches() => Check(Constructs.MinMaxClamp, Constructs.MinMaxClampPullback, Constructs.MinMaxClampPushforward, [-0.8, 0.4, 0.05]);
    [Fact] public void Atan2AndRounding() => Check(Constructs.Atan2AndRounding, Constructs.Atan2AndRoundingPullback, Constructs.Atan2AndRoundingPushforward, X3);
    [Fact] public void HyperbolicAndInverse() => Check(Constructs.HyperbolicAndInverse, Constructs.HyperbolicAndInversePullback, Constructs.HyperbolicAndInversePushforward, X3);
    [Fact] public void ConditionalExpression() { Check(Constructs.ConditionalExpression, Constructs.ConditionalExpressionPullback, Constructs.ConditionalExpressionPushforward, X3); Check(Constructs.ConditionalExpression, Constructs.ConditionalExpressionPullback, Constructs.ConditionalExpressionPushforward, [-0.2, 0.3, 0.5]); Check(Constructs.ConditionalExpression, Constructs.ConditionalExpressionPullback, Constructs.ConditionalExpressionPushforward, [-0.9, -0.3, 0.5]); }
    [Fact] public void ReassignedLocal() => Check(Constructs.ReassignedLocal, Constructs.ReassignedLocalPullback, Constructs.ReassignedLocalPushforward, X3);
    [Fact] public void CompoundAssignments() => Check(Constructs.CompoundAssignments, Constructs.CompoundAssignmentsPullback, Constructs.CompoundAssignmentsPushforward, X3);
    [Fact] public void NestedIf() { foreach (var x in new[] { new[] { 0.5, 0.5, 0.1 }, new[] { 0.5, -0.5, 0.1 }, new[] { -0.5, 0.2, 0.3 }, new[] { -0.5, 0.2, -0.3 } }) Check(Constructs.NestedIf, Constructs.NestedIfPullback, Constructs.NestedIfPushforward, x); }
    [Fact] public void SwitchOnInactive() => Check(Constructs.SwitchOnInactive, Constructs.SwitchOnInactivePullback, Constructs.SwitchOnInactivePushforward, X7);
    [Fact] public void WhileLoop() => Check(Constructs.WhileLoop, Constructs.WhileLoopPullback, Constructs.WhileLoopPushforward, X7);
    [Fact] public void NestedLoopsFromLengths() => Check(Constructs.NestedLoopsFromLengths, Constructs.NestedLoopsFromLengthsPullback, Constructs.NestedLoopsFromLengthsPushforward, X7);
    [Fact] public void PeriodicNeighbours() => Check(Constructs.PeriodicNeighbours, Constructs.PeriodicNeighboursPullback, Constructs.PeriodicNeighboursPushforward, X7);
    [Fact] public void GatherAtFloor() => Check(Constructs.GatherAtFloor, Constructs.GatherAtFloorPullback, Constructs.GatherAtFloorPushforward, X7);
    [Fact] public void GaussSeidelInPlaceCopy() => Check(Constructs.GaussSeidelInPlaceCopy, Constructs.GaussSeidelInPlaceCopyPullback, Constructs.GaussSeidelInPlaceCopyPushforward, X7);
    [Fact] public void ArraysAsSpans() => Check(Constructs.ArraysAsSpans, Constructs.ArraysAsSpansPullback, Constructs.ArraysAsSpansPushforward, X7);
    [Fact] public void InactiveValuesStopDerivatives() => Check(Constructs.InactiveValuesStopDerivatives, Constructs.InactiveValuesStopDerivativesPullback, Constructs.InactiveValuesStopDerivativesPushforward, X7);

    [Fact]
    public void UsesCustomDerivative_CallsTheRegisteredPullback()
    {
        int before = Special.PullbackCalls;
        Check(Constructs.UsesCustomDerivative, Constructs.UsesCustomDerivativePullback, Constructs.UsesCustomDerivativePushforward, X3);
        Assert.True(Special.PullbackCalls - before >= 2, "the registered pullback was not used");
    }

    [Fact]
    public void FloatKernel_MatchesDoublePrecisionDifferences()
    {
        float[] x = [0.3f, -0.2f, 0.7f];
        var xBar = new float[3];
        float kBar = 0;
        float y = SinglePrecision.LossPullback(x, 1.3f, 1f, xBar, ref kBar);
        Assert.Equal(SinglePrecision.Loss(x, 1.3f), y);
        // Float rounding limits the check: compare with a double-precision evaluation of the same formula.
        static double L(double[] v, double k) { double s = 0; foreach (var e in v) s += Math.Sin(k * e) * e + Math.Exp(e * 0.1); return s; }
        var fd = GradCheck.FiniteDifferenceGradient(v => L(v, 1.3), [0.3, -0.2, 0.7]);
        GradCheck.AssertClose([xBar[0], xBar[1], xBar[2]], fd, 1e-5);
        GradCheck.AssertClose([kBar], GradCheck.FiniteDifferenceGradient(v => L([0.3, -0.2, 0.7], v[0]), [1.3]), 1e-5);
    }

    [Fact]
    public void NoDiffIntAndBoolParameters_GetNoAdjoint()
    {
        // Signature: MixedPullback(double frozen, double x, int n, bool flag, double resultBar, ref double xBar)
        double xBar = 0;
        double y = SinglePrecision.MixedPullback(2.0, 0.5, 3, true, 1.0, ref xBar);
        Assert.Equal(SinglePrecision.Mixed(2.0, 0.5, 3, true), y);
        Assert.Equal(2.0 + 2 * 3 * 0.5, xBar, 12);
        var p = typeof(SinglePrecision).GetMethod(nameof(SinglePrecision.MixedPullback))!.GetParameters();
        Assert.Equal(["frozen", "x", "n", "flag", "resultBar", "xBar"], p.Select(q => q.Name));
    }
}
