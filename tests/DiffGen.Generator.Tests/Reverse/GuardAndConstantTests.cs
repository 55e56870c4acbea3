using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Guards, assertions, logging and throws run in the forward sweep only; constants of every numeric type,
/// narrow loop counters and static inputs are constants to the derivative. Gradients against finite
/// differences (float twins at 1e-3), tangents against gradients, the guards still guard.
/// </summary>
public class GuardAndConstantTests
{
    private static readonly double[] Market = [101.3, 97.0, 0.03, 0.25, 0.75];

    [Theory]
    [InlineData(OptionKind.Call, false)]
    [InlineData(OptionKind.Put, true)]
    public void BinomialPrice_GradientsAndGuards(OptionKind kind, bool american)
    {
        double Price(double[] p) => Guarded.BinomialPrice(p[0], p[1], p[2], p[3], p[4], 12, kind, american);
        var g = new double[5];
        double price = Guarded.BinomialPricePullback(Market[0], Market[1], Market[2], Market[3], Market[4], 12, kind, american, 1.0,
            ref g[0], ref g[1], ref g[2], ref g[3], ref g[4]);
        Assert.Equal(Price(Market), price);
        GradCheck.AssertClose(g, GradCheck.FiniteDifferenceGradient(Price, Market));

        var dir = new double[] { 1.0, -0.5, 0.1, 0.2, -0.3 };
        var (value, tangent) = Guarded.BinomialPricePushforward(Market[0], dir[0], Market[1], dir[1], Market[2], dir[2], Market[3], dir[3], Market[4], dir[4], 12, kind, american);
        Assert.Equal(price, value);
        GradCheck.AssertClose([tangent], [g.Zip(dir, (a, b) => a * b).Sum()], 1e-10, "tangent");

        double z = 0;
        var spot = Assert.Throws<ArgumentOutOfRangeException>(() => Guarded.BinomialPricePullback(-1.0, 97, 0.03, 0.25, 0.75, 12, kind, american, 1.0, ref z, ref z, ref z, ref z, ref z));
        Assert.Equal("spot", spot.ParamName);
        var steps = Assert.Throws<ArgumentOutOfRangeException>(() => Guarded.BinomialPricePushforward(101, 1, 97, 0, 0.03, 0, 0.25, 0, 0.75, 0, 0, kind, american));
        Assert.Equal("steps", steps.ParamName);
        Dual zd = 0;
        var arbitrage = Assert.Throws<ArgumentException>(() => Guarded.BinomialPricePullbackDual(101, 97, 0.9, 0.01, 0.75, 1, kind, american, 1.0, ref zd, ref zd, ref zd, ref zd, ref zd));
        Assert.Contains("No-arbitrage violated (p = ", arbitrage.Message);
    }

    [Fact]
    public void Huber_WithNullGuards_ALengthCheck_AndLogging()
    {
        double[] p = [0.3, -1.7, 2.4, 0.05, -0.6, 0.1, -0.2, 0.4, 0.5, -0.3, 1.0];
        double Loss(double[] q) => Guarded.Huber(q[..5], q[5..10], q[10], Reduction.Mean, false);
        var pBar = new double[5];
        var tBar = new double[5];
        double dBar = 0;
        var writer = new StringWriter();
        var stdout = Console.Out;
        Console.SetOut(writer);
        try
        {
            Guarded.HuberPullback(p[..5], p[5..10], p[10], Reduction.Mean, true, 1.0, pBar, tBar, ref dBar);
        }
        finally
        {
            Console.SetOut(stdout);
        }
        Assert.StartsWith("huber total ", writer.ToString(), StringComparison.Ordinal); // the log line runs in the forward sweep
        var fd = GradCheck.FiniteDifferenceGradient(Loss, p);
        GradCheck.AssertClose([.. pBar, .. tBar, dBar], fd);

        var f = p.Select(x => (float)x).ToArray();
        var pBarF = new float[5];
        var tBarF = new float[5];
        float dBarF = 0;
        Guarded.HuberFPullback(f[..5], f[5..10], f[10], Reduction.Mean, false, 1f, pBarF, tBarF, ref dBarF);
        GradCheck.AssertClose([.. pBarF.Select(x => (double)x), .. tBarF.Select(x => (double)x), dBarF], fd, 1e-3, "float gradient");

        var ex = Assert.Throws<ArgumentException>(() => Guarded.HuberPullback(p[..5], p[5..9], p[10], Reduction.Sum, false, 1.0, pBar, new double[4], ref dBar));
        Assert.Equal("target", ex.ParamName);
        Assert.Contains("prediction has 5 entries, target 4", ex.Message);
        Assert.Throws<ArgumentNullException>(() => Guarded.HuberPullback(null!, p[5..10], p[10], Reduction.Sum, false, 1.0, pBar, tBar, ref dBar));
    }

    [Fact]
    public void DiffuseChecked_AssertionAndLoggerOnActiveValues()
    {
        double[] u = [0.2, 1.1, -0.4, 0.9, 0.3, -0.8];
        double[] w = [1, 2, 3, 4, 5, 6];
        double Loss(double[] q) { var next = new double[6]; Guarded.DiffuseChecked(q[..6], next, q[6], q[7], q[8], new RunLog()); return next.Zip(w, (a, b) => a * b * a).Sum(); }
        double[] p = [.. u, 0.3, 0.1, 0.5];
        var log = new RunLog();
        var next = new double[6];
        Guarded.DiffuseChecked(u, next, p[6], p[7], p[8], log);
        var nextBar = next.Zip(w, (a, b) => 2 * a * b).ToArray();
        var uBar = new double[6];
        double kBar = 0, dtBar = 0, dxBar = 0;
        Guarded.DiffuseCheckedPullback(u, new double[6], p[6], p[7], p[8], log, uBar, nextBar, ref kBar, ref dtBar, ref dxBar);
        Assert.Equal(["diffusing 6 cells with r = 0.120", "diffusing 6 cells with r = 0.120"], log.Lines);
        GradCheck.AssertClose([.. uBar, kBar, dtBar, dxBar], GradCheck.FiniteDifferenceGradient(Loss, p));
        Assert.Throws<ArgumentOutOfRangeException>(() => Guarded.DiffuseCheckedPullback([1, 2], new double[2], 1, 1, 1, log, new double[2], new double[2], ref kBar, ref dtBar, ref dxBar));
    }

    [Fact]
    public void ConstantsOfEveryType_NarrowCounters_AndStaticInputs()
    {
        double xBar = 0;
        Series.PolynomialPullback(0.7, 1.0, ref xBar);
        var fd = GradCheck.FiniteDifferenceGradient(p => Series.Polynomial(p[0]), [0.7]);
        GradCheck.AssertClose([xBar], fd);
        float xBarF = 0;
        Series.PolynomialFPullback(0.7f, 1f, ref xBarF);
        GradCheck.AssertClose([xBarF], fd, 1e-3, "float gradient");

        double dx = 0, dr = 0;
        Series.DampedIteratePullback(1.2, 0.3, 1.0, ref dx, ref dr);
        GradCheck.AssertClose([dx, dr], GradCheck.FiniteDifferenceGradient(p => Series.DampedIterate(p[0], p[1]), [1.2, 0.3]));
        var (_, tangent) = Series.DampedIteratePushforward(1.2, 0.6, 0.3, -1.1);
        GradCheck.AssertClose([tangent], [0.6 * dx - 1.1 * dr], 1e-10, "tangent");

        double rBar = 0;
        Series.GeometricPullback(0.8, 7L, 1.0, ref rBar);
        GradCheck.AssertClose([rBar], GradCheck.FiniteDifferenceGradient(p => Series.Geometric(p[0], 7L), [0.8]));

        double cBar = 0;
        Series.ConstantsPullback(0.4, 1.0, ref cBar);
        GradCheck.AssertClose([cBar], GradCheck.FiniteDifferenceGradient(p => Series.Constants(p[0]), [0.4]));

        double[] values = [0.3, -1.2, 0.8];
        var vBar = new double[3];
        Series.GainedPullback(values, 1.0, vBar);
        GradCheck.AssertClose(vBar, GradCheck.FiniteDifferenceGradient(Series.Gained, values));
    }

    [Fact]
    public void LatticeBoltzmannCollision_OnFloat3D_WithStaticTables()
    {
        const int nx = 3, ny = 2;
        var rng = new Random(31);
        var p = new double[nx * ny * Lattice.Q + 1];
        double[] w = [4.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 36, 1.0 / 36, 1.0 / 36, 1.0 / 36];
        for (int k = 0; k < p.Length - 1; k++) p[k] = w[k % 9] + (rng.NextDouble() - 0.5) * 0.04;
        p[^1] = 1.25;
        double[,,] Grid(double[] q) { var f = new double[nx, ny, Lattice.Q]; for (int k = 0; k < q.Length - 1; k++) f[k / (ny * 9), k / 9 % ny, k % 9] = q[k]; return f; }
        double Loss(double[] q) { var f = Grid(q); Lattice.CollideD(f, q[^1]); double s = 0, k = 0; foreach (var x in f) s += (++k % 4 + 1) * x; return s; }
        var fd = GradCheck.FiniteDifferenceGradient(Loss, p);

        var seeds = new double[nx, ny, Lattice.Q];
        double kk = 0;
        for (int a = 0; a < nx; a++) for (int b = 0; b < ny; b++) for (int c = 0; c < Lattice.Q; c++) seeds[a, b, c] = ++kk % 4 + 1;
        var fBar = (double[,,])seeds.Clone();
        double omegaBar = 0;
        Lattice.CollideDPullback(Grid(p), p[^1], fBar, ref omegaBar);
        var flat = new List<double>();
        foreach (var x in fBar) flat.Add(x);
        GradCheck.AssertClose([.. flat, omegaBar], fd);

        var ff = new float[nx, ny, Lattice.Q];
        var fBarF = new float[nx, ny, Lattice.Q];
        var g = Grid(p);
        for (int a = 0; a < nx; a++) for (int b = 0; b < ny; b++) for (int c = 0; c < Lattice.Q; c++) { ff[a, b, c] = (float)g[a, b, c]; fBarF[a, b, c] = (float)seeds[a, b, c]; }
        float omegaBarF = 0;
        Lattice.CollidePullback(ff, (float)p[^1], fBarF, ref omegaBarF);
        var flatF = new List<double>();
        foreach (var x in fBarF) flatF.Add(x);
        GradCheck.AssertClose([.. flatF, omegaBarF], fd, 1e-3, "float gradient");
    }

    [Fact]
    public void StaticInputs_GetAnInfoThatTheirGradientIsNotComputed()
    {
        var result = TestCompilation.Run("""
            using System; using DiffGen; namespace T;
            public static partial class K
            {
                private static readonly double Damping = 0.9;
                private static readonly double[] Table = { 1.0, 2.0 };
                public static double Gain { get; set; } = 2;
                private static readonly int[] Offsets = { 0, 1 };
                [Differentiable]
                public static double F(double x) => Damping * x + Table[1] * Gain * x + Damping + Offsets[1];
            }
            """);
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var infos = result.GeneratorDiagnostics.Where(d => d.Id == "DG0302").Select(d => d.GetMessage()).OrderBy(m => m, StringComparer.Ordinal).ToList();
        Assert.Equal(3, infos.Count); // once per member, not for the int table
        Assert.StartsWith("'K.Damping' is read as a constant input: its gradient is not computed", infos[0], StringComparison.Ordinal);
        Assert.Contains("'K.Gain'", infos[1]);
        Assert.Contains("'K.Table'", infos[2]);
        Assert.All(result.GeneratorDiagnostics.Where(d => d.Id == "DG0302"), d => Assert.Equal(DiagnosticSeverity.Info, d.Severity));
    }

    [Theory]
    // A call that may write an active array is not inactive: it needs a derivative.
    [InlineData("public static class H { public static void Fill(double[] a) { a[0] = 1; } }", "H.Fill(x);", "DG0101")]
    // So is one with a ref argument.
    [InlineData("public static class H { public static void Bump(ref double v) { v += 1; } }", "H.Bump(ref s);", "DG0101")]
    // Or one given a lambda (which may write what it captures).
    [InlineData("", "Array.ForEach(x, v => s += v);", "DG0100")]
    public void CallsThatMayChangeAnActiveValue_AreNotForwardOnly(string helper, string call, string id)
    {
        var result = TestCompilation.Run("using System; using DiffGen; namespace T; " + helper
            + " public static partial class K { [Differentiable] public static double F(double[] x) { double s = x[0]; " + call + " return s * x[1]; } }");
        Assert.Contains(result.GeneratorDiagnostics, d => d.Id == id);
    }
}
