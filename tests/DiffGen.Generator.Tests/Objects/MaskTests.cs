using System.Numerics;

namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// bool[] parameters, fields and locals are inactive arrays (masks, pinned flags): they select what is
/// differentiated and get no adjoint. Checked against finite differences in double and float.
/// </summary>
public class MaskTests
{
    private static readonly double[] X = [0.4, -1.6, 0.9, 2.3, -0.2, -0.7];
    private static readonly bool[] Active = [true, true, false, true, true, false];

    [Fact]
    public void MaskedEnergy_BoolArrayParameterAndLocal()
    {
        const double clip = 1.0;
        double L(double[] p) => MaskKernels.MaskedEnergy(p[..^1], Active, p[^1]);
        var fd = GradCheck.FiniteDifferenceGradient(L, [.. X, clip]);
        var xBar = new double[X.Length];
        double clipBar = 0;
        double e = MaskKernels.MaskedEnergyPullback(X, Active, clip, 1.0, xBar, ref clipBar);
        Assert.Equal(MaskKernels.MaskedEnergy(X, Active, clip), e);
        GradCheck.AssertClose([.. xBar, clipBar], fd);
        Assert.Equal(0.0, xBar[2]); // masked out

        var xBarF = new float[X.Length];
        float clipBarF = 0;
        MaskKernels.MaskedEnergyFPullback([.. X.Select(v => (float)v)], Active, (float)clip, 1f, xBarF, ref clipBarF);
        GradCheck.AssertClose([.. xBarF.Select(v => (double)v), clipBarF], fd, 1e-3, "float gradient");
    }

    private static readonly double[] Start = [0.0, 1.3, 2.1, 3.4, 4.2];
    private static readonly double[] Seeds = [0.5, -1.0, 0.75, 0.3, -0.6];

    private static PinnedChain Chain(double[] p)
    {
        var c = new PinnedChain(Start.Length) { Stiffness = p[^2] };
        p.AsSpan(0, Start.Length).CopyTo(c.Positions);
        c.Fixed[0] = true;
        c.Fixed[3] = true;
        return c;
    }

    [Fact]
    public void PinnedChain_BoolArrayField()
    {
        const double k = 2.0, dt = 0.1;
        double L(double[] p) { var c = Chain(p); c.Relax(p[^1]); return c.Positions.Zip(Seeds, (x, w) => x * w).Sum(); }
        double[] at = [.. Start, k, dt];
        var fd = GradCheck.FiniteDifferenceGradient(L, at);

        var chain = Chain(at);
        var bar = chain.CreateShadow();
        Assert.Equal(chain.Fixed, bar.Fixed); // inactive data is copied into the shadow
        Seeds.CopyTo(bar.Positions, 0);
        double dtBar = 0;
        chain.RelaxPullback(dt, bar, ref dtBar);
        GradCheck.AssertClose([.. bar.Positions, bar.Stiffness, dtBar], fd);

        var dotChain = Chain(at);
        var dot = dotChain.CreateShadow();
        dot.Positions[1] = 1.0;
        dotChain.RelaxPushforward(dot, dt, 1.0);
        var dir = new double[at.Length];
        dir[1] = 1; dir[^1] = 1;
        double[] Out(double[] p) { var c = Chain(p); c.Relax(p[^1]); return c.Positions; }
        GradCheck.AssertClose(dot.Positions, GradCheck.FiniteDifferenceDirectional(Out, at, dir), 1e-6, "tangent");
    }

    [Fact]
    public void PinnedChainF_BoolArrayField_AndLocalVector2Array()
    {
        // The same chain in 2D and float: positions (x, y) pairs, then stiffness and dt.
        double[] at = [0, 0, 1.2, 0.1, 2.3, -0.1, 3.1, 0.3, 4.4, 0.0, 2.0, 0.1];
        const int n = 5;
        PinnedChainF Make(double[] p)
        {
            var c = new PinnedChainF(n) { Stiffness = (float)p[2 * n] };
            for (int i = 0; i < n; i++) c.Positions[i] = new Vector2((float)p[2 * i], (float)p[2 * i + 1]);
            c.Fixed[0] = true;
            c.Fixed[3] = true;
            return c;
        }
        double L(double[] p)
        {
            var c = Make(p);
            c.Relax((float)p[^1]);
            double s = 0;
            for (int i = 0; i < n; i++) s += Seeds[i] * c.Positions[i].X - 0.5 * Seeds[n - 1 - i] * c.Positions[i].Y;
            return s;
        }
        // Finite differences of the float code: steps of 1e-2 keep float rounding below the tolerance.
        var fd = new double[at.Length];
        for (int j = 0; j < at.Length; j++)
        {
            var pp = (double[])at.Clone(); var pm = (double[])at.Clone();
            pp[j] += 1e-2; pm[j] -= 1e-2;
            fd[j] = (L(pp) - L(pm)) / 2e-2;
        }
        var chain = Make(at);
        var bar = chain.CreateShadow();
        for (int i = 0; i < n; i++) bar.Positions[i] = new Vector2((float)Seeds[i], (float)(-0.5 * Seeds[n - 1 - i]));
        float dtBar = 0;
        chain.RelaxPullback((float)at[^1], bar, ref dtBar);
        var ad = new List<double>();
        foreach (var v in bar.Positions) { ad.Add(v.X); ad.Add(v.Y); }
        ad.Add(bar.Stiffness);
        ad.Add(dtBar);
        GradCheck.AssertClose([.. ad], fd, 1e-3, "float gradient");
    }
}
