namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// Array fields swapped by a tuple at the end of a step (<see cref="Rod"/>): the shadow follows the swap,
/// so one shadow serves consecutive pullbacks; gradients of two steps against finite differences, and
/// the pushforward's tangent against directional differences.
/// </summary>
public class DoubleBufferTests
{
    private const int N = 6;
    private static readonly double[] U0 = [0.3, 0.9, -0.4, 0.2, 0.7, -0.1];
    private static readonly double[] W = [0.5, -1.2, 0.8, 0.3, -0.6, 1.1];

    private static double Loss(double[] p)
    {
        var rod = new Rod(p[..N], p[N]);
        rod.Step(p[N + 1]);
        rod.Step(p[N + 1]);
        return W.Zip(rod.U, (w, u) => w * u).Sum();
    }

    private static readonly double[] P0 = [.. U0, 0.4, 0.2];

    [Fact]
    public void TwoStepPullbacks_ShareOneShadow()
    {
        var rod = new Rod(U0, 0.4);
        var afterFirst = new Rod(U0, 0.4);
        afterFirst.Step(0.2);
        var bar = rod.CreateShadow();
        for (int i = 0; i < N; i++) bar.U[i] = W[i];
        double dtBar = 0;
        afterFirst.StepPullback(0.2, bar, ref dtBar);
        rod.StepPullback(0.2, bar, ref dtBar);
        GradCheck.AssertClose([.. bar.U, bar.Kappa, dtBar], GradCheck.FiniteDifferenceGradient(Loss, P0), 1e-6, "dL/d(u0, kappa, dt)");
        // The pullback leaves the object as Step does: swapped buffers holding the new state.
        var expected = new Rod(U0, 0.4);
        expected.Step(0.2);
        Assert.Equal(expected.U, rod.U);
    }

    [Fact]
    public void CallsOfASwappingStep_Pullback()
    {
        var rod = new Rod(U0, 0.4);
        var bar = rod.CreateShadow();
        for (int i = 0; i < N; i++) bar.U[i] = W[i];
        double dtBar = 0;
        rod.TwoStepsPullback(0.2, bar, ref dtBar);
        GradCheck.AssertClose([.. bar.U, bar.Kappa, dtBar], GradCheck.FiniteDifferenceGradient(Loss, P0), 1e-6, "dL/d(u0, kappa, dt) through TwoSteps");
        var expected = new Rod(U0, 0.4);
        expected.TwoSteps(0.2);
        Assert.Equal(expected.U, rod.U);
    }

    [Fact]
    public void Pushforward_TangentFollowsTheSwap()
    {
        double[] v = [0.1, -0.3, 0.2, 0.5, -0.4, 0.25, 0.6, -0.7];
        var rod = new Rod(U0, 0.4);
        var dot = rod.CreateShadow();
        for (int i = 0; i < N; i++) dot.U[i] = v[i];
        dot.Kappa = v[N];
        rod.StepPushforward(dot, 0.2, v[N + 1]);
        rod.StepPushforward(dot, 0.2, v[N + 1]);
        double[] Map(double[] p)
        {
            var r = new Rod(p[..N], p[N]);
            r.Step(p[N + 1]);
            r.Step(p[N + 1]);
            return r.U;
        }
        GradCheck.AssertClose(dot.U, GradCheck.FiniteDifferenceDirectional(Map, P0, v), 1e-6, "tangent of two steps");
    }
}
