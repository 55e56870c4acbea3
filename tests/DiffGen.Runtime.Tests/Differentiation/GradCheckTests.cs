using DiffGen.CompilerServices;

namespace DiffGen.Runtime.Tests.Differentiation;

public class GradCheckTests
{
    [Fact]
    public void FiniteDifferenceGradient_MatchesAnalyticGradient()
    {
        // f(x) = x0^2 * sin(x1) + exp(x2)
        static double F(double[] x) => x[0] * x[0] * Math.Sin(x[1]) + Math.Exp(x[2]);
        double[] x = [1.3, -0.7, 0.4];
        double[] analytic = [2 * x[0] * Math.Sin(x[1]), x[0] * x[0] * Math.Cos(x[1]), Math.Exp(x[2])];
        var fd = GradCheck.FiniteDifferenceGradient(F, x);
        Assert.True(GradCheck.MaxRelativeError(fd, analytic) < 1e-8);
    }

    [Fact]
    public void AssertClose_NamesTheWorstEntry()
    {
        var ex = Assert.Throws<GradCheckException>(() => GradCheck.AssertClose([1.0, 2.0, 3.0], [1.0, 2.5, 3.0]));
        Assert.Contains("[1]", ex.Message);
    }

    [Fact]
    public void MaxRelativeError_NaNIsInfinitelyWrong()
    {
        Assert.Equal(double.PositiveInfinity, GradCheck.MaxRelativeError([double.NaN], [1.0]));
    }

    [Fact]
    public void ValueStack_IsLastInFirstOut_AndRoundTripsSpans()
    {
        using var s = new ValueStack<double>();
        for (int i = 0; i < 1000; i++) s.Push(i);
        s.PushSpan([7.0, 8.0, 9.0]);
        var back = new double[3];
        s.PopSpan(back);
        Assert.Equal([7.0, 8.0, 9.0], back);
        for (int i = 999; i >= 0; i--) Assert.Equal(i, s.Pop());
        Assert.Equal(0, s.Count);
        Assert.Equal(1003, s.PeakCount);
        Assert.Throws<InvalidOperationException>(() => s.Pop());
    }
}
