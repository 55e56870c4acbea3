using System.Numerics;
using DiffGen.Generator.Tests.Infrastructure;

namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// ref, out and in parameters against finite differences. A ref/out adjoint has shadow semantics: on entry it
/// holds the adjoint of the value the method leaves, on exit the adjoint of the value it found (zero for out);
/// the values themselves are left as the primal leaves them.
/// </summary>
public class RefOutTests
{
    [Fact]
    public void RefScalars_InPlaceIntegrator()
    {
        const double wx = 0.7, wv = -1.3;
        double L(double[] p) { double x = p[0], v = p[1]; RefOutKernels.Oscillate(ref x, ref v, p[2], p[3], 12); return wx * x + wv * v; }
        double[] at = [0.4, -0.2, 3.0, 0.05];
        double xs = at[0], vs = at[1], kBar = 0, dtBar = 0, xBar = wx, vBar = wv;
        RefOutKernels.OscillatePullback(ref xs, ref vs, at[2], at[3], 12, ref xBar, ref vBar, ref kBar, ref dtBar);
        double xp = at[0], vp = at[1];
        RefOutKernels.Oscillate(ref xp, ref vp, at[2], at[3], 12);
        Assert.Equal(xp, xs);
        Assert.Equal(vp, vs);
        GradCheck.AssertClose([xBar, vBar, kBar, dtBar], GradCheck.FiniteDifferenceGradient(L, at));

        // Tangent along (x0, k): ref tangents are updated in place like the values.
        double xf = at[0], vf = at[1], xDot = 1, vDot = 0;
        RefOutKernels.OscillatePushforward(ref xf, ref xDot, ref vf, ref vDot, at[2], 2.0, at[3], 0.0, 12);
        Assert.Equal(xp, xf);
        var fd = GradCheck.FiniteDifferenceGradient(L, at);
        GradCheck.AssertClose([wx * xDot + wv * vDot], [fd[0] + 2 * fd[2]], 1e-6, "tangent");
    }

    [Fact]
    public void OutScalars_BothBranches()
    {
        foreach (double b in new[] { 3.0, -3.0 })
        {
            double L(double[] p) { RefOutKernels.Roots(p[0], p[1], out var s, out var l); return 2 * s - 0.5 * l; }
            double[] at = [b, 1.25];
            double bBar = 0, cBar = 0, sBar = 2, lBar = -0.5;
            RefOutKernels.RootsPullback(at[0], at[1], out double small, out double large, ref bBar, ref cBar, ref sBar, ref lBar);
            RefOutKernels.Roots(at[0], at[1], out double s0, out double l0);
            Assert.Equal(s0, small);
            Assert.Equal(l0, large);
            // Nothing depended on the values out parameters held on entry.
            Assert.Equal(0.0, sBar);
            Assert.Equal(0.0, lBar);
            var fd = GradCheck.FiniteDifferenceGradient(L, at);
            GradCheck.AssertClose([bBar, cBar], fd, 1e-6, "b = " + b);
            RefOutKernels.RootsPushforward(at[0], 1.0, at[1], -1.0, out _, out double sDot, out _, out double lDot);
            GradCheck.AssertClose([2 * sDot - 0.5 * lDot], [fd[0] - fd[1]], 1e-6, "tangent, b = " + b);
        }
    }

    private static Particle2 Make(double[] p) => new()
    {
        Position = new Vector2((float)p[0], (float)p[1]),
        Velocity = new Vector2((float)p[2], (float)p[3]),
        Mass = (float)p[4],
    };

    [Fact]
    public void RefStruct_KickReturnsEnergy()
    {
        // L = energy + w . position_after + u . velocity_after, in (position, velocity, mass, force, drag, dt).
        var w = new Vector2(0.3f, -0.8f);
        var u = new Vector2(-0.4f, 0.25f);
        double L(double[] p)
        {
            var particle = Make(p);
            float e = RefOutKernels.Kick(ref particle, new Vector2((float)p[5], (float)p[6]), (float)p[7], (float)p[8]);
            return e + Vector2.Dot(w, particle.Position) + Vector2.Dot(u, particle.Velocity);
        }
        double[] at = [0.1, 0.2, 1.5, -0.5, 2.0, 0.6, -9.8, 0.3, 0.1];
        var part = Make(at);
        var pBar = new Particle2 { Position = w, Velocity = u };
        var forceBar = Vector2.Zero;
        float dragBar = 0, dtBar = 0;
        var force = new Vector2((float)at[5], (float)at[6]);
        float e = RefOutKernels.KickPullback(ref part, force, (float)at[7], (float)at[8], 1f, ref pBar, ref forceBar, ref dragBar, ref dtBar);
        var primal = Make(at);
        Assert.Equal(RefOutKernels.Kick(ref primal, force, (float)at[7], (float)at[8]), e);
        Assert.Equal(primal.Position, part.Position);
        Assert.Equal(primal.Velocity, part.Velocity);
        double[] ad = [pBar.Position.X, pBar.Position.Y, pBar.Velocity.X, pBar.Velocity.Y, pBar.Mass, forceBar.X, forceBar.Y, dragBar, dtBar];
        GradCheck.AssertClose(ad, FloatFd(L, at), 2e-3, "d(L)/d(particle, force, drag, dt)");

        var p2 = Make(at);
        var pDot = new Particle2 { Position = new Vector2(1f, 0f), Velocity = new Vector2(0f, 1f), Mass = 0f };
        var (value, tangent) = RefOutKernels.KickPushforward(ref p2, ref pDot, force, Vector2.Zero, (float)at[7], 0f, (float)at[8], 0f);
        Assert.Equal(e, value);
        Assert.Equal(primal.Position, p2.Position);
        var fd = FloatFd(L, at);
        double along = tangent + Vector2.Dot(w, pDot.Position) + Vector2.Dot(u, pDot.Velocity);
        GradCheck.AssertClose([along], [fd[0] + fd[3]], 2e-3, "tangent");
    }

    [Fact]
    public void InParameters_AreInputs_RefAccumulatorIsInOut()
    {
        double L(double[] p)
        {
            double acc = p[4];
            double d = RefOutKernels.Project(new Vector3((float)p[0], (float)p[1], (float)p[2]), p[3], ref acc);
            return d + 0.5 * acc;
        }
        double[] at = [0.5, -0.25, 0.75, 1.5, 2.0];
        var v = new Vector3(0.5f, -0.25f, 0.75f);
        var vBar = Vector3.Zero;
        double scaleBar = 0, acc = at[4], accBar = 0.5;
        double d = RefOutKernels.ProjectPullback(v, at[3], ref acc, 1.0, ref vBar, ref scaleBar, ref accBar);
        double accPrimal = at[4];
        Assert.Equal(RefOutKernels.Project(v, at[3], ref accPrimal), d);
        Assert.Equal(accPrimal, acc);
        // The vector is float: float differences, float tolerance.
        GradCheck.AssertClose([vBar.X, vBar.Y, vBar.Z, scaleBar, accBar], FloatFd(L, at, 1e-3), 2e-3, "d(L)/d(v, scale, acc)");
    }

    [Fact]
    public void CallPassingRefArguments_OnlyVariables_EachOnce()
    {
        // Calls passing ref/out numbers are differentiated (RefCallTests); what cannot be passed is named on the argument.
        const string source = """
            using DiffGen;
            public static partial class K
            {
                [Differentiable]
                public static void Step(ref double x, double dt) { x += dt * x; }

                [Differentiable]
                public static void Pair(ref double x, double y) { x *= y; }

                [Differentiable]
                public static double Run(double[] a, double dt)
                {
                    double x = a[0];
                    Step(ref a[1], dt);
                    Pair(ref x, x);
                    return x;
                }
            }
            """;
        var result = TestCompilation.Run(source);
        var errors = result.GeneratorDiagnostics.Where(x => x.Id == "DG0102").OrderBy(x => x.Location.SourceSpan.Start).ToList();
        Assert.Equal(2, errors.Count);
        // On the arguments (0-based lines 13 and 14), not on the method.
        Assert.Equal(13, errors[0].Location.GetLineSpan().StartLinePosition.Line);
        Assert.Contains("by ref", errors[0].GetMessage());
        Assert.Equal(14, errors[1].Location.GetLineSpan().StartLinePosition.Line);
        Assert.Contains("passed by ref to the same call", errors[1].GetMessage());
    }

    private static double[] FloatFd(Func<double[], double> f, double[] x, double h = 1e-2)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var p = (double[])x.Clone(); var m = (double[])x.Clone();
            p[i] += h; m[i] -= h;
            g[i] = (f(p) - f(m)) / (2 * h);
        }
        return g;
    }
}
