using DiffGen.Physics;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The two-field backtrace that 2D self-advection uses (<see cref="Advection.TraceCentered2DPair"/>): the
/// same values and adjoints as two single-field traces for every boundary kind, and gradients of models
/// that run it (closed box, several diffusion substeps, RK2 backtrace) against finite differences.
/// </summary>
public class AdvectionPairTests
{
    private const int N = 7;

    private static double[] Field(int seed, double scale, double offset = 0) =>
        Enumerable.Range(0, N * N).Select(k => offset + scale * Math.Sin(0.9 * k + seed) * Math.Cos(0.31 * k * seed + 1)).ToArray();

    public static TheoryData<int, int, int, int> Codes() => new()
    {
        { Bc.Periodic, Bc.Periodic, Bc.Periodic, Bc.Periodic },
        { Bc.Zero, Bc.Zero, Bc.Zero, Bc.Zero },
        { Bc.ZeroGradient, Bc.ZeroGradient, Bc.ZeroGradient, Bc.ZeroGradient },
        { Bc.Zero, Bc.ZeroGradient, Bc.Periodic, Bc.Periodic },
    };

    [Theory]
    [MemberData(nameof(Codes))]
    public void Pair_EqualsTwoSingleTraces(int xLo, int xHi, int yLo, int yHi)
    {
        // Trace velocities of up to ~3 cells per step: departure points fall outside the grid on every side.
        var qa = Field(1, 1.0); var qb = Field(2, 0.7, 0.2); var tu = Field(3, 25.0); var tv = Field(4, 25.0, 3.0);
        var ra = new double[N * N]; var rb = new double[N * N]; var sa = new double[N * N]; var sb = new double[N * N];
        Advection.TraceCentered2DPair(qa, qb, tu, tv, ra, rb, N, N, 1.0, 1.0, 0.1, xLo, xHi, yLo, yHi);
        Advection.TraceCentered2D(qa, tu, tv, sa, N, N, 1.0, 1.0, 0.1, xLo, xHi, yLo, yHi);
        Advection.TraceCentered2D(qb, tu, tv, sb, N, N, 1.0, 1.0, 0.1, xLo, xHi, yLo, yHi);
        Assert.Equal(sa, ra);
        Assert.Equal(sb, rb);
    }

    [Theory]
    [MemberData(nameof(Codes))]
    public void PairPullback_EqualsTheSingleTracesPullbacks(int xLo, int xHi, int yLo, int yHi)
    {
        var qa = Field(1, 1.0); var qb = Field(2, 0.7, 0.2); var tu = Field(3, 25.0); var tv = Field(4, 25.0, 3.0);
        var seedA = Field(5, 1.0); var seedB = Field(6, 1.0);
        var ra = new double[N * N]; var rb = new double[N * N];
        var qaBar = new double[N * N]; var qbBar = new double[N * N]; var tuBar = new double[N * N]; var tvBar = new double[N * N];
        double dxBar = 0, dyBar = 0, dtBar = 0;
        Advection.TraceCentered2DPairPullback(qa, qb, tu, tv, ra, rb, N, N, 1.0, 1.0, 0.1, xLo, xHi, yLo, yHi,
            qaBar, qbBar, tuBar, tvBar, (double[])seedA.Clone(), (double[])seedB.Clone(), ref dxBar, ref dyBar, ref dtBar);

        var qaRef = new double[N * N]; var qbRef = new double[N * N]; var tuRef = new double[N * N]; var tvRef = new double[N * N];
        double dxRef = 0, dyRef = 0, dtRef = 0;
        var s = new double[N * N];
        Advection.TraceCentered2DPullback(qa, tu, tv, s, N, N, 1.0, 1.0, 0.1, xLo, xHi, yLo, yHi, qaRef, tuRef, tvRef, (double[])seedA.Clone(), ref dxRef, ref dyRef, ref dtRef);
        Advection.TraceCentered2DPullback(qb, tu, tv, s, N, N, 1.0, 1.0, 0.1, xLo, xHi, yLo, yHi, qbRef, tuRef, tvRef, (double[])seedB.Clone(), ref dxRef, ref dyRef, ref dtRef);
        GradCheck.AssertClose(qaBar, qaRef, 1e-12, "qaBar");
        GradCheck.AssertClose(qbBar, qbRef, 1e-12, "qbBar");
        GradCheck.AssertClose(tuBar, tuRef, 1e-12, "tuBar");
        GradCheck.AssertClose(tvBar, tvRef, 1e-12, "tvBar");
        GradCheck.AssertClose([dtBar], [dtRef], 1e-12, "dtBar");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void SelfAdvectionGradient_MatchesFiniteDifferences(int rk2)
    {
        // Zero-gradient sides and a trace that leaves the grid; weights keep the loss off interpolation kinks.
        var u = Field(7, 4.0, 0.137); var v = Field(8, 4.0, -0.211);
        var wu = Field(9, 1.0); var wv = Field(10, 1.0);
        double Loss(double[] uu, double[] vv)
        {
            var uo = new double[N * N]; var vo = new double[N * N];
            Advection.SemiLagrangianCenteredSelf2D(uu, vv, uo, vo, N, N, 1.0, 1.0, 0.1, Bc.ZeroGradient, Bc.ZeroGradient, Bc.Zero, Bc.Zero, rk2);
            double l = 0;
            for (int k = 0; k < N * N; k++) l += wu[k] * uo[k] + wv[k] * vo[k] * vo[k];
            return l;
        }
        var uOut = new double[N * N]; var vOut = new double[N * N];
        Advection.SemiLagrangianCenteredSelf2D(u, v, uOut, vOut, N, N, 1.0, 1.0, 0.1, Bc.ZeroGradient, Bc.ZeroGradient, Bc.Zero, Bc.Zero, rk2);
        var uBar = new double[N * N]; var vBar = new double[N * N];
        double dxBar = 0, dyBar = 0, dtBar = 0;
        Advection.SemiLagrangianCenteredSelf2DPullback(u, v, uOut, vOut, N, N, 1.0, 1.0, 0.1, Bc.ZeroGradient, Bc.ZeroGradient, Bc.Zero, Bc.Zero, rk2,
            uBar, vBar, (double[])wu.Clone(), vOut.Select((x, k) => 2 * wv[k] * x).ToArray(), ref dxBar, ref dyBar, ref dtBar);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, v), u), 1e-6, "dL/du");
        GradCheck.AssertClose(vBar, GradCheck.FiniteDifferenceGradient(x => Loss(u, x), v), 1e-6, "dL/dv");
    }

    [Fact]
    public void Burgers2DGradient_InAClosedBoxWithSubsteps_MatchesFiniteDifferences()
    {
        // Closed walls (zero outside) and two diffusion substeps per step: the several-substep kernel's halves.
        int steps = 6; double dt = 0.1;
        var u0 = Field(11, 0.8, 0.137); var v0 = Field(12, 0.8, -0.173);
        var fu = Field(13, 0.1); var fv = Field(14, 0.1);
        var wu = Field(15, 1.0);
        double Loss(double[] ui, double[] vi, double[] force, double nu)
        {
            var m = new Burgers2D(new Grid2D(N, N, N, N, Boundary2D.Closed), nu, dt, substeps: 2);
            var u = (double[])ui.Clone(); var v = (double[])vi.Clone(); var un = new double[N * N]; var vn = new double[N * N];
            for (int s = 0; s < steps; s++) { m.Step(u, v, force, fv, un, vn); un.CopyTo(u, 0); vn.CopyTo(v, 0); }
            double l = 0;
            for (int k = 0; k < N * N; k++) l += wu[k] * u[k] + v[k] * v[k];
            return l;
        }
        const double nu0 = 0.5;
        var model = new Burgers2D(new Grid2D(N, N, N, N, Boundary2D.Closed), nu0, dt, substeps: 2);
        var us = new List<double[]> { u0 }; var vs = new List<double[]> { v0 };
        for (int s = 0; s < steps; s++) { var un = new double[N * N]; var vn = new double[N * N]; model.Step(us[^1], vs[^1], fu, fv, un, vn); us.Add(un); vs.Add(vn); }
        var uBar = (double[])wu.Clone(); var vBar = vs[^1].Select(x => 2 * x).ToArray();
        double nuBar = 0; var fuBar = new double[N * N]; var fvBar = new double[N * N];
        for (int s = steps - 1; s >= 0; s--)
        {
            var pu = new double[N * N]; var pv = new double[N * N];
            model.StepBackward(us[s], vs[s], fu, fv, new double[N * N], new double[N * N], pu, pv, fuBar, fvBar, uBar, vBar, ref nuBar);
            uBar = pu; vBar = pv;
        }
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Loss(x, v0, fu, nu0), u0), 1e-5, "dL/du0");
        GradCheck.AssertClose(vBar, GradCheck.FiniteDifferenceGradient(x => Loss(u0, x, fu, nu0), v0), 1e-5, "dL/dv0");
        GradCheck.AssertClose(fuBar, GradCheck.FiniteDifferenceGradient(x => Loss(u0, v0, x, nu0), fu), 1e-5, "dL/dfu");
        double fdNu = (Loss(u0, v0, fu, nu0 * (1 + 1e-5)) - Loss(u0, v0, fu, nu0 * (1 - 1e-5))) / (2e-5 * nu0);
        GradCheck.AssertClose([nuBar], [fdNu], 1e-5, "dL/dnu");
    }
}
