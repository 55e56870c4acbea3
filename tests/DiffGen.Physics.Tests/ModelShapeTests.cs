using DiffGen.Physics;

namespace DiffGen.Physics.Tests;

/// <summary>
/// Every model has the same shape: plain step, re-running pullback, recorded step and its reverse, and the four on
/// packed spans. The recorded and packed forms must give bitwise the results of the plain ones (the same arithmetic
/// in the same order), whichever form a model grew first.
/// </summary>
public class ModelShapeTests
{
    private static double[] Wave(int n, double a, double b) => [.. Enumerable.Range(0, n).Select(k => a * Math.Sin(b * k + 0.3) + 0.1 * Math.Cos(0.7 * k))];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Burgers1D_ForcedRecordedAndPackedStepsMatchThePlainOnes(bool implicitDiffusion)
    {
        var m = new Burgers1D(new Grid1D(24, 0, 1), implicitDiffusion ? 0.05 : 0.003, 0.03, implicitDiffusion: implicitDiffusion);
        int n = m.Cells;
        var u = Wave(n, 1, 0.4);
        var f = Wave(n, 0.2, 0.9);
        var seed = Wave(n, 1, 1.3);

        var next = new double[n];
        m.Step(u, f, next);
        double[] uBar = new double[n], fBar = new double[n], nextBar = (double[])seed.Clone();
        double nuBar = 0;
        m.StepBackward(u, f, new double[n], uBar, fBar, nextBar, ref nuBar);

        var tape = new Tape();
        var next2 = new double[n];
        m.Step(u, f, next2, tape);
        double[] uBar2 = new double[n], fBar2 = new double[n], nextBar2 = (double[])seed.Clone();
        double nuBar2 = 0;
        m.StepBackward(u, f, next2, uBar2, fBar2, nextBar2, ref nuBar2, tape);
        Assert.Equal(next, next2);
        Assert.Equal(uBar, uBar2);
        Assert.Equal(fBar, fBar2);
        Assert.Equal(nuBar, nuBar2);
        Assert.Equal(0, tape.Count);

        var next3 = new double[n];
        m.StepPacked(u, f, next3);
        double[] uBar3 = new double[n], fBar3 = new double[n];
        m.StepPackedBackward(u, f, new double[n], uBar3, fBar3, (double[])seed.Clone());
        Assert.Equal(next, next3);
        Assert.Equal(uBar, uBar3);
        Assert.Equal(fBar, fBar3);

        var tape2 = new Tape();
        var next4 = new double[n];
        m.StepPacked(u, f, next4, tape2);
        double[] uBar4 = new double[n], fBar4 = new double[n];
        m.StepPackedBackward(u, f, next4, uBar4, fBar4, (double[])seed.Clone(), tape2);
        Assert.Equal(uBar, uBar4);
        Assert.Equal(fBar, fBar4);

        // The unforced packed pair is the unforced step.
        var plain = new double[n];
        m.Step(u, plain);
        var packed = new double[n];
        m.StepPacked(u, packed);
        Assert.Equal(plain, packed);
        double[] a = new double[n], b = new double[n];
        double nb = 0;
        m.StepBackward(u, new double[n], a, (double[])seed.Clone(), ref nb);
        m.StepPackedBackward(u, new double[n], b, (double[])seed.Clone());
        Assert.Equal(a, b);
        var tape3 = new Tape();
        var c = new double[n];
        m.StepPacked(u, packed, tape3);
        m.StepPackedBackward(u, packed, c, (double[])seed.Clone(), tape3);
        Assert.Equal(a, c);
    }

    [Fact]
    public void Burgers2D_RecordedStepMatchesThePlainOne()
    {
        var m = new Burgers2D(new Grid2D(6, 5, 6, 5), 0.1, 0.1);
        int n = m.Grid.Count;
        double[] u = Wave(n, 1, 0.4), v = Wave(n, 0.8, 0.7), fu = Wave(n, 0.1, 0.2), fv = Wave(n, 0.1, 1.1);
        double[] su = Wave(n, 1, 1.3), sv = Wave(n, 1, 0.5);
        double[] un = new double[n], vn = new double[n];
        m.Step(u, v, fu, fv, un, vn);
        var g = new double[4][];
        for (int i = 0; i < 4; i++) g[i] = new double[n];
        double nu = 0;
        m.StepBackward(u, v, fu, fv, new double[n], new double[n], g[0], g[1], g[2], g[3], (double[])su.Clone(), (double[])sv.Clone(), ref nu);

        var tape = new Tape();
        double[] un2 = new double[n], vn2 = new double[n];
        m.Step(u, v, fu, fv, un2, vn2, tape);
        var h = new double[4][];
        for (int i = 0; i < 4; i++) h[i] = new double[n];
        double nu2 = 0;
        m.StepBackward(u, v, fu, fv, un2, vn2, h[0], h[1], h[2], h[3], (double[])su.Clone(), (double[])sv.Clone(), ref nu2, tape);
        Assert.Equal(un, un2);
        Assert.Equal(vn, vn2);
        for (int i = 0; i < 4; i++) Assert.Equal(g[i], h[i]);
        Assert.Equal(nu, nu2);
        Assert.Equal(0, tape.Count);
    }

    [Fact]
    public void WakeFlow2D_RecordedStepMatchesThePlainOne()
    {
        var w = WakeFlow2D.PbdlWake(8, 16, reynolds: 50, dt: 2, tolerance: 1e-10);
        var (u, v) = w.InitialState(0.2);
        int nc = w.Nx * w.Ny;
        double[] su = Wave(u.Length, 1, 0.3), sv = Wave(v.Length, 1, 0.6);
        double[] un = new double[u.Length], vn = new double[v.Length], p = new double[nc];
        w.Step(u, v, un, vn, p);
        double[] ub = new double[u.Length], vb = new double[v.Length];
        double nuBar = 0;
        w.StepBackward(u, v, new double[u.Length], new double[v.Length], new double[nc], ub, vb, (double[])su.Clone(), (double[])sv.Clone(), new double[nc], ref nuBar);

        var tape = new Tape();
        double[] un2 = new double[u.Length], vn2 = new double[v.Length], p2 = new double[nc];
        w.Step(u, v, un2, vn2, p2, tape);
        double[] ub2 = new double[u.Length], vb2 = new double[v.Length];
        double nuBar2 = 0;
        w.StepBackward(u, v, un2, vn2, p2, ub2, vb2, (double[])su.Clone(), (double[])sv.Clone(), new double[nc], ref nuBar2, tape);
        Assert.Equal(un, un2);
        Assert.Equal(vn, vn2);
        Assert.Equal(p, p2);
        Assert.Equal(ub, ub2);
        Assert.Equal(vb, vb2);
        Assert.Equal(nuBar, nuBar2);
        Assert.Equal(0, tape.Count);
        Assert.NotEqual(0.0, nuBar);
    }

    [Fact]
    public void Smoke2D_RecordedPackedStepMatchesThePackedOne()
    {
        var s = Smoke2D.PbdlPlume(6, 7, tolerance: 1e-10);
        int n = s.PackedLength, nc = s.Nx * s.Ny;
        var state = Wave(n, 0.3, 0.45);
        var inflow = s.DiscInflow(3, 2, 1.5, 0.5);
        var seed = Wave(n, 1, 0.8);
        var next = new double[n];
        s.StepPacked(state, inflow, next);
        double[] sb = new double[n], ib = new double[nc];
        s.StepPackedBackward(state, inflow, new double[n], sb, ib, (double[])seed.Clone());

        var tape = new Tape();
        var next2 = new double[n];
        s.StepPacked(state, inflow, next2, tape);
        double[] sb2 = new double[n], ib2 = new double[nc];
        s.StepPackedBackward(state, inflow, next2, sb2, ib2, (double[])seed.Clone(), tape);
        Assert.Equal(next, next2);
        Assert.Equal(sb, sb2);
        Assert.Equal(ib, ib2);
        Assert.Equal(0, tape.Count);
        Assert.NotEqual(0.0, ib.Sum(Math.Abs));
    }

    [Fact]
    public void WakeInflowMasksGetNoAdjoints()
    {
        // The masks are [NoDiff] constants: the generated pullback takes no adjoint for them (it used to allocate
        // and discard two face-sized arrays per call).
        var names = typeof(ModelKernels).GetMethod(nameof(ModelKernels.WakeStepPullback))!.GetParameters().Select(p => p.Name).ToArray();
        Assert.Contains("uBar", names);
        Assert.DoesNotContain(names, n => n!.Contains("MaskBar"));
    }

    [Fact]
    public void DiscRasterisationIsGrid2DOnly()
    {
        // The wake's obstacle and the smoke inflow both come from Grid2D's one rasteriser.
        var w = WakeFlow2D.PbdlWake(32, 64);
        Assert.Equal(w.Grid.Cells.DiscMask(50, 50, 10), w.Solid.ToArray());
        var s = Smoke2D.PbdlPlume(32, 40);
        var inflow = s.DiscInflow(12, 4, 3, 1.0 / 3);
        var disc = s.Grid.Cells.Disc(12, 4, 3, 1.0 / 3);
        Assert.Equal(disc, inflow);
        Assert.Equal(s.Grid.Cells.DiscMask(12, 4, 3).Select(m => m / 3.0), inflow);
    }
}
