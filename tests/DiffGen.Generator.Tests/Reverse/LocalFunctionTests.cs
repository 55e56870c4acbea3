using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.Reverse;

/// <summary>Gradients, tangents and second derivatives of methods with inlined local functions and lambdas.</summary>
public class LocalFunctionTests
{
    [Fact]
    public void Simpson_LocalFunctionCapturingAParameter()
    {
        double[] p = [-0.5, 1.5, 0.8];
        double Loss(double[] q) => Quadrature.Simpson(q[0], q[1], q[2], 8);
        double aBar = 0, bBar = 0, kBar = 0;
        double y = Quadrature.SimpsonPullback(p[0], p[1], p[2], 8, 1.0, ref aBar, ref bBar, ref kBar);
        Assert.Equal(Loss(p), y);
        var fd = GradCheck.FiniteDifferenceGradient(Loss, p);
        GradCheck.AssertClose([aBar, bBar, kBar], fd);

        float af = 0, bf = 0, kf = 0;
        Quadrature.SimpsonFPullback(-0.5f, 1.5f, 0.8f, 8, 1f, ref af, ref bf, ref kf);
        GradCheck.AssertClose([af, bf, kf], fd, 1e-3, "float gradient");

        var (_, tangent) = Quadrature.SimpsonPushforward(p[0], 0.2, p[1], -0.4, p[2], 1.0, 8);
        GradCheck.AssertClose([tangent], [0.2 * fd[0] - 0.4 * fd[1] + fd[2]], 1e-6, "tangent");

        // Second order: the dual pullback's tangents are H v.
        Dual da = new(p[0], 0.2), db = new(p[1], -0.4), dk = new(p[2], 1.0), ga = 0, gb = 0, gk = 0;
        Quadrature.SimpsonPullbackDual(da, db, dk, 8, 1.0, ref ga, ref gb, ref gk);
        double[] Gradient(double[] q) { double x = 0, z = 0, w = 0; Quadrature.SimpsonPullback(q[0], q[1], q[2], 8, 1.0, ref x, ref z, ref w); return [x, z, w]; }
        GradCheck.AssertClose([ga.Tangent, gb.Tangent, gk.Tangent], GradCheck.FiniteDifferenceDirectional(Gradient, p, [0.2, -0.4, 1.0]), 1e-6, "H v");

        Assert.Throws<ArgumentException>(() => Quadrature.SimpsonPullback(0, 1, 1, 7, 1.0, ref aBar, ref bBar, ref kBar));
    }

    [Fact]
    public void ApplyMap_LambdaInALocal_AppliedInALoop()
    {
        double[] p = [0.3, -1.2, 0.8, 0.7];
        var vBar = new double[3];
        double gBar = 0;
        Quadrature.ApplyMapPullback(p[..3], p[3], 1.0, vBar, ref gBar);
        var fd = GradCheck.FiniteDifferenceGradient(q => Quadrature.ApplyMap(q[..3], q[3]), p);
        GradCheck.AssertClose([.. vBar, gBar], fd);
        var (_, tangent) = Quadrature.ApplyMapPushforward(p[..3], [1, 0, -1], p[3], 0.5);
        GradCheck.AssertClose([tangent], [fd[0] - fd[2] + 0.5 * fd[3]], 1e-6, "tangent");
    }

    [Fact]
    public void Rms_StaticLocalFunctionDeclaredAfterItsUse()
    {
        double[] p = [0.3, -1.2, 0.8, 2.0];
        var bar = new double[4];
        Quadrature.RmsPullback(p, 1.0, bar);
        GradCheck.AssertClose(bar, GradCheck.FiniteDifferenceGradient(Quadrature.Rms, p));
    }

    [Theory]
    [InlineData(0.7)]
    [InlineData(0.45)]
    public void PiecewiseSum_EarlyReturnsInsideTheInlinedBody(double c)
    {
        // Points inside each piece (away from the kinks, where finite differences would straddle two pieces).
        double[] xs = [-1.3, 0.1 * c, 1.5 * c, 2.5 * c, 4 * c];
        var bar = new double[xs.Length];
        double cBar = 0;
        double y = Quadrature.PiecewiseSumPullback(xs, c, 1.0, bar, ref cBar);
        Assert.Equal(Quadrature.PiecewiseSum(xs, c), y);
        GradCheck.AssertClose([.. bar, cBar], GradCheck.FiniteDifferenceGradient(q => Quadrature.PiecewiseSum(q[..5], q[5]), [.. xs, c], 1e-7));
    }

    [Fact]
    public void Accumulated_LocalFunctionsWritingCapturedStateAndArrays()
    {
        double[] p = [0.3, -1.2, 0.8, 0.5, 1.1, 0.25];
        var uBar = new double[5];
        double wBar = 0;
        Quadrature.AccumulatedPullback(p[..5], p[5], 1.0, uBar, ref wBar);
        var fd = GradCheck.FiniteDifferenceGradient(q => Quadrature.Accumulated(q[..5], q[5]), p);
        GradCheck.AssertClose([.. uBar, wBar], fd);
        var (_, tangent) = Quadrature.AccumulatedPushforward(p[..5], [1, 1, 0, 0, -1], p[5], 2);
        GradCheck.AssertClose([tangent], [fd[0] + fd[1] - fd[4] + 2 * fd[5]], 1e-6, "tangent");
    }

    [Theory]
    [InlineData("double F(double v) => v < 1 ? v : F(v / 2); return F(x);", "DG0100", "cannot call themselves")]
    [InlineData("Func<double, double> f = v => v * v; return Apply(f, x);", "DG0102", "only called")]
    [InlineData("Func<double, double> f = Math.Sin; return f(x);", "DG0103", "initialised with a lambda")]
    [InlineData("double F(double v) => v * v; return x > 0 ? F(x) : 0;", "DG0104", "both branches")]
    public void EscapingOrRecursiveLocals_AreReported(string body, string id, string message)
    {
        var result = TestCompilation.Run("using System; using DiffGen; namespace T; public static partial class K { static double Apply(Func<double, double> f, double v) => f(v); [Differentiable] public static double G(double x) { " + body + " } }");
        var d = Assert.Single(result.GeneratorDiagnostics, x => x.Severity == DiagnosticSeverity.Error);
        Assert.Equal(id, d.Id);
        Assert.Contains(message, d.GetMessage(), StringComparison.Ordinal);
    }
}
