using DiffGen.Generator.Tests.Infrastructure;

namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// Arrays of class objects whose fields the method changes in place: the pullback saves and restores the
/// objects' fields (not the references), leaves them as the method leaves them, and its adjoints are shadows
/// made by the caller (zeroed numbers, inactive fields copied). Checked against finite differences.
/// </summary>
public class ObjectArrayTests
{
    // (position, velocity) per bead, then k and dt
    private static readonly double[] At = [0.0, 0.2, 1.1, -0.3, 1.9, 0.1, 3.2, 0.0, 2.0, 0.05];
    private static readonly double[] W = [0.7, -0.4, 1.2, 0.3, -0.9, 0.5, 0.25, -1.1];
    private const int N = 4, Steps = 5;

    private static Bead[] Beads(double[] p)
    {
        var b = new Bead[N];
        for (int i = 0; i < N; i++) b[i] = new Bead { Position = p[2 * i], Velocity = p[2 * i + 1], Mass = 1.0 + 0.5 * i, Frozen = i == 2 };
        return b;
    }

    private static double Loss(Bead[] b)
    {
        double s = 0;
        for (int i = 0; i < N; i++) s += W[2 * i] * b[i].Position + W[2 * i + 1] * b[i].Velocity;
        return s;
    }

    [Fact]
    public void Settle_ObjectFieldsChangedInPlace()
    {
        double L(double[] p) { var b = Beads(p); ObjectArrayKernels.Settle(b, p[^2], p[^1], Steps); return Loss(b); }
        var fd = GradCheck.FiniteDifferenceGradient(L, At);

        var beads = Beads(At);
        var bar = new Bead[N];
        for (int i = 0; i < N; i++) bar[i] = new Bead { Position = W[2 * i], Velocity = W[2 * i + 1], Mass = 0, Frozen = beads[i].Frozen };
        double kBar = 0, dtBar = 0;
        ObjectArrayKernels.SettlePullback(beads, At[^2], At[^1], Steps, bar, ref kBar, ref dtBar);

        // The objects are left as the method leaves them.
        var expected = Beads(At);
        ObjectArrayKernels.Settle(expected, At[^2], At[^1], Steps);
        for (int i = 0; i < N; i++)
        {
            Assert.Equal(expected[i].Position, beads[i].Position);
            Assert.Equal(expected[i].Velocity, beads[i].Velocity);
        }
        var ad = new List<double>();
        foreach (var b in bar) { ad.Add(b.Position); ad.Add(b.Velocity); }
        GradCheck.AssertClose([.. ad, kBar, dtBar], fd);
    }

    [Fact]
    public void SettleF_AndAnInstanceArrayOfObjects()
    {
        // The double kernel without the frozen bead and with unit masses is the float kernel's twin.
        double Twin(double[] p)
        {
            var b = Beads(p);
            foreach (var x in b) { x.Frozen = false; x.Mass = 1.0; }
            ObjectArrayKernels.Settle(b, p[^2], p[^1], Steps);
            return Loss(b);
        }
        var fd = GradCheck.FiniteDifferenceGradient(Twin, At);
        var beads = new BeadF[N];
        var bar = new BeadF[N];
        for (int i = 0; i < N; i++)
        {
            beads[i] = new BeadF { Position = (float)At[2 * i], Velocity = (float)At[2 * i + 1] };
            bar[i] = new BeadF { Position = (float)W[2 * i], Velocity = (float)W[2 * i + 1], Mass = 0 };
        }
        float kBar = 0, dtBar = 0;
        ObjectArrayKernels.SettleFPullback(beads, (float)At[^2], (float)At[^1], Steps, bar, ref kBar, ref dtBar);
        var ad = new List<double>();
        foreach (var b in bar) { ad.Add(b.Position); ad.Add(b.Velocity); }
        GradCheck.AssertClose([.. ad, kBar, dtBar], fd, 1e-3, "float gradient");

        // Coast: L = sum w . (position, velocity) after, in (positions/velocities, drag, dt).
        double CoastLoss(double[] p)
        {
            var c = Chain(p);
            c.Coast((float)p[^1]);
            double s = 0;
            for (int i = 0; i < N; i++) s += W[2 * i] * c.Beads[i].Position + W[2 * i + 1] * c.Beads[i].Velocity;
            return s;
        }
        double[] at = [.. At[..(2 * N)], 0.3, 0.1];
        var cfd = new double[at.Length];
        for (int j = 0; j < at.Length; j++)
        {
            // Central differences of the float code itself, with a step float rounding does not swamp.
            var pp = (double[])at.Clone(); var pm = (double[])at.Clone();
            pp[j] += 1e-2; pm[j] -= 1e-2;
            cfd[j] = (CoastLoss(pp) - CoastLoss(pm)) / 2e-2;
        }
        var chain = Chain(at);
        var cbar = chain.CreateShadow();
        for (int i = 0; i < N; i++) { cbar.Beads[i].Position = (float)W[2 * i]; cbar.Beads[i].Velocity = (float)W[2 * i + 1]; }
        float cdt = 0;
        chain.CoastPullback((float)at[^1], cbar, ref cdt);
        var cad = new List<double>();
        foreach (var b in cbar.Beads) { cad.Add(b.Position); cad.Add(b.Velocity); }
        GradCheck.AssertClose([.. cad, cbar.Drag, cdt], cfd, 1e-3, "float gradient (instance)");
    }

    [Fact]
    public void ArrayOfObjects_PassedToACalleeThatWritesIt()
    {
        // (position, velocity) per bead, then dt; L = Probe + w . (positions after).
        double L(double[] p)
        {
            var b = Beads(p);
            double r = ObjectArrayCallKernels.Probe(b, p[^1]);
            for (int i = 0; i < N; i++) r += W[2 * i] * b[i].Position;
            return r;
        }
        double[] at = [.. At[..(2 * N)], 0.1];
        var fd = GradCheck.FiniteDifferenceGradient(L, at);
        var beads = Beads(at);
        var bar = new Bead[N];
        for (int i = 0; i < N; i++) bar[i] = new Bead { Position = W[2 * i], Mass = 0, Frozen = beads[i].Frozen };
        double dtBar = 0;
        ObjectArrayCallKernels.ProbePullback(beads, at[^1], 1.0, bar, ref dtBar);
        var expected = Beads(at);
        ObjectArrayCallKernels.Probe(expected, at[^1]);
        for (int i = 0; i < N; i++) Assert.Equal(expected[i].Position, beads[i].Position);
        var ad = new List<double>();
        foreach (var b in bar) { ad.Add(b.Position); ad.Add(b.Velocity); }
        GradCheck.AssertClose([.. ad, dtBar], fd);

        // Float: one drift, against the double kernels' finite differences with one drift.
        double LF(double[] p)
        {
            var b = Beads(p);
            double before = 0;
            foreach (var x in b) before += x.Position * x.Position;
            ObjectArrayCallKernels.Drift(b, p[^1]);
            return before * b[1].Position;
        }
        var ffd = GradCheck.FiniteDifferenceGradient(LF, at);
        var fb = new BeadF[N];
        var fbar = new BeadF[N];
        for (int i = 0; i < N; i++) { fb[i] = new BeadF { Position = (float)at[2 * i], Velocity = (float)at[2 * i + 1] }; fbar[i] = new BeadF { Mass = 0 }; }
        float fdt = 0;
        ObjectArrayCallKernels.ProbeFPullback(fb, (float)at[^1], 1f, fbar, ref fdt);
        var fad = new List<double>();
        foreach (var b in fbar) { fad.Add(b.Position); fad.Add(b.Velocity); }
        GradCheck.AssertClose([.. fad, fdt], ffd, 1e-3, "float gradient");
    }

    [Fact]
    public void LocalArrayOfObjects_IsNamedOnTheLocal()
    {
        const string source = """
            using DiffGen;
            public class Bead { public double P; }
            public static partial class K
            {
                [Differentiable]
                public static double Sum(Bead[] beads)
                {
                    var copy = new Bead[beads.Length];
                    double s = 0;
                    foreach (var b in beads) s += b.P * b.P;
                    return s;
                }
            }
            """;
        var result = TestCompilation.Run(source);
        var d = Assert.Single(result.GeneratorDiagnostics, x => x.Id == "DG0103");
        Assert.Contains("array of objects", d.GetMessage());
        Assert.Equal(7, d.Location.GetLineSpan().StartLinePosition.Line); // 0-based: the declaration
        Assert.Empty(result.OutputDiagnostics.Where(x => x.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true));
    }

    private static BeadChain Chain(double[] p)
    {
        var c = new BeadChain(N) { Drag = (float)p[^2] };
        for (int i = 0; i < N; i++) { c.Beads[i].Position = (float)p[2 * i]; c.Beads[i].Velocity = (float)p[2 * i + 1]; }
        return c;
    }
}
