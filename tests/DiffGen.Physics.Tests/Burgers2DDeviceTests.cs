using ILGPU;
using ILGPU.Runtime;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The 2D Burgers step on an ILGPU accelerator (the generated <c>ModelKernels.Burgers2DStepDevice</c>, a composite of
/// the diffusion, advection and forcing kernels' device forms) against the CPU step and its generated pullback:
/// outputs and every adjoint (u, v, fu, fv, the consumed seeds, nu) within 1e-6 relative in double.
/// </summary>
public class Burgers2DDeviceTests(DeviceFixture cpu) : IClassFixture<DeviceFixture>
{
    private readonly Accelerator _acc = cpu.Accelerator;

    private static double[] Rand(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => scale * (2 * r.NextDouble() - 1)).ToArray();
    }

    private static void Close(double[] expected, double[] actual, double rel, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1e-300, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= rel * scale, $"{what}[{i}]: {expected[i]} vs {actual[i]} (scale {scale})");
    }

    public static TheoryData<int, int, bool, int> Cases => new()
    {
        { 8, 6, true, 1 },
        { 8, 6, false, 3 },
        { 12, 10, true, 3 },
        { 12, 10, false, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_OnDevice_MatchesCpu_ForwardAndPullback(int nx, int ny, bool periodic, int substeps)
    {
        var grid = new Grid2D(nx, ny, nx * 1.0, ny * 0.8, periodic ? Boundary2D.Periodic : Boundary2D.Closed);
        var m = new Burgers2D(grid, viscosity: 0.08, dt: 0.3, substeps: substeps);
        int n = grid.Count;
        var u = Rand(n, 1, 1.5); var v = Rand(n, 2, 1.5); var fu = Rand(n, 3); var fv = Rand(n, 4);
        var uSeed = Rand(n, 5); var vSeed = Rand(n, 6);

        var uNext = new double[n]; var vNext = new double[n];
        m.Step(u, v, fu, fv, uNext, vNext);
        var uBar = new double[n]; var vBar = new double[n]; var fuBar = new double[n]; var fvBar = new double[n];
        var uNextBar = (double[])uSeed.Clone(); var vNextBar = (double[])vSeed.Clone(); double nuBar = 0;
        var uNext2 = new double[n]; var vNext2 = new double[n];
        m.StepBackward(u, v, fu, fv, uNext2, vNext2, uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, ref nuBar);

        using var du = _acc.Allocate1D(u); using var dv = _acc.Allocate1D(v); using var dfu = _acc.Allocate1D(fu); using var dfv = _acc.Allocate1D(fv);
        using var dun = _acc.Allocate1D<double>(n); using var dvn = _acc.Allocate1D<double>(n);
        m.StepDevice(_acc, du.View, dv.View, dfu.View, dfv.View, dun.View, dvn.View);
        Close(uNext, dun.GetAsArray1D(), 1e-12, "uNext");
        Close(vNext, dvn.GetAsArray1D(), 1e-12, "vNext");

        using var duBar = _acc.Allocate1D<double>(n); using var dvBar = _acc.Allocate1D<double>(n);
        using var dfuBar = _acc.Allocate1D<double>(n); using var dfvBar = _acc.Allocate1D<double>(n);
        using var dunBar = _acc.Allocate1D(uSeed); using var dvnBar = _acc.Allocate1D(vSeed); using var dnuBar = _acc.Allocate1D<double>(1);
        duBar.MemSetToZero(); dvBar.MemSetToZero(); dfuBar.MemSetToZero(); dfvBar.MemSetToZero(); dnuBar.MemSetToZero();
        using var dun2 = _acc.Allocate1D<double>(n); using var dvn2 = _acc.Allocate1D<double>(n);
        m.StepDeviceBackward(_acc, du.View, dv.View, dfu.View, dfv.View, dun2.View, dvn2.View, duBar.View, dvBar.View, dfuBar.View, dfvBar.View, dunBar.View, dvnBar.View, dnuBar.View);
        Close(uNext, dun2.GetAsArray1D(), 1e-12, "uNext (pullback)");
        Close(vNext, dvn2.GetAsArray1D(), 1e-12, "vNext (pullback)");
        Close(uBar, duBar.GetAsArray1D(), 1e-6, "uBar");
        Close(vBar, dvBar.GetAsArray1D(), 1e-6, "vBar");
        Close(fuBar, dfuBar.GetAsArray1D(), 1e-6, "fuBar");
        Close(fvBar, dfvBar.GetAsArray1D(), 1e-6, "fvBar");
        Close(uNextBar, dunBar.GetAsArray1D(), 1e-6, "uNextBar (consumed)");
        Close(vNextBar, dvnBar.GetAsArray1D(), 1e-6, "vNextBar (consumed)");
        Assert.True(Math.Abs(nuBar - dnuBar.GetAsArray1D()[0]) <= 1e-6 * Math.Max(1, Math.Abs(nuBar)), $"nuBar {nuBar} vs {dnuBar.GetAsArray1D()[0]}");
        Assert.NotEqual(0.0, nuBar);
        Assert.Contains(uBar, x => x != 0);
    }

    /// <summary>The packed device step (Lift.DeviceOp's delegate shapes) against the packed CPU step and pullback.</summary>
    [Fact]
    public void PackedStep_OnDevice_MatchesCpu()
    {
        var grid = new Grid2D(8, 6, 8.0, 6.0, Boundary2D.Periodic);
        var m = new Burgers2D(grid, viscosity: 0.05, dt: 0.4, substeps: 2);
        int p = m.PackedLength;
        var state = Rand(p, 11); var force = Rand(p, 12); var seed = Rand(p, 13);
        var next = new double[p]; var stateBar = new double[p]; var forceBar = new double[p]; var nextBar = (double[])seed.Clone();
        m.StepPackedBackward(state, force, next, stateBar, forceBar, nextBar);

        using var ds = _acc.Allocate1D(state); using var df = _acc.Allocate1D(force); using var dn = _acc.Allocate1D<double>(p);
        m.StepPackedDevice(_acc, ds.View, df.View, dn.View);
        Close(next, dn.GetAsArray1D(), 1e-12, "next");
        using var dsBar = _acc.Allocate1D<double>(p); using var dfBar = _acc.Allocate1D<double>(p); using var dnBar = _acc.Allocate1D(seed);
        dsBar.MemSetToZero(); dfBar.MemSetToZero();
        m.StepPackedDeviceBackward(_acc, ds.View, df.View, dn.View, dsBar.View, dfBar.View, dnBar.View);
        Close(stateBar, dsBar.GetAsArray1D(), 1e-6, "stateBar");
        Close(forceBar, dfBar.GetAsArray1D(), 1e-6, "forceBar");
    }

    [Fact]
    public void DeviceStep_ChecksLengths_NamingTheArgument()
    {
        var m = new Burgers2D(new Grid2D(8, 6, 8.0, 6.0), viscosity: 0.05, dt: 0.4);
        using var ok = _acc.Allocate1D<double>(m.PackedLength);
        using var shortBuf = _acc.Allocate1D<double>(m.PackedLength - 1);
        var ex = Assert.Throws<ArgumentException>(() => m.StepPackedDevice(_acc, ok.View, shortBuf.View, ok.View));
        Assert.Equal("force", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => m.StepPackedDeviceBackward(_acc, ok.View, ok.View, ok.View, ok.View, ok.View, shortBuf.View));
        Assert.Equal("nextBar", ex.ParamName);
        using var cells = _acc.Allocate1D<double>(48);
        ex = Assert.Throws<ArgumentException>(() => m.StepDevice(_acc, cells.View, cells.View, cells.View, shortBuf.View.SubView(0, 47), cells.View, cells.View));
        Assert.Equal("fv", ex.ParamName);
        Assert.Throws<ArgumentNullException>(() => m.StepPackedDevice(null!, ok.View, ok.View, ok.View));
    }

    /// <summary>
    /// Other field-layer methods that got device forms with the Burgers step's composite shapes (a staggered grid's
    /// members, substep loops in 3D, two calls with face extents): device pullback against the CPU pullback.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void OtherComposites_OnDevice_MatchCpu(int substeps)
    {
        var sg = new StaggeredGrid2D(6, 5, 6.0, 5.0, Boundary2D.Closed);
        int nu = (sg.Nx + 1) * sg.Ny, nv = sg.Nx * (sg.Ny + 1);
        var u = Rand(nu, 51); var v = Rand(nv, 52); var su = Rand(nu, 53); var sv = Rand(nv, 54);
        var uo = new double[nu]; var vo = new double[nv]; var uBar = new double[nu]; var vBar = new double[nv];
        var uoBar = (double[])su.Clone(); var voBar = (double[])sv.Clone(); double nuBar = 0, dtBar = 0;
        Diffuse2D.ExplicitVelocityPullback(u, v, uo, vo, sg, 0.07, 0.4, substeps, uBar, vBar, uoBar, voBar, ref nuBar, ref dtBar);
        using var du = _acc.Allocate1D(u); using var dv = _acc.Allocate1D(v); using var duo = _acc.Allocate1D<double>(nu); using var dvo = _acc.Allocate1D<double>(nv);
        using var duBar = _acc.Allocate1D<double>(nu); using var dvBar = _acc.Allocate1D<double>(nv); using var duoBar = _acc.Allocate1D(su); using var dvoBar = _acc.Allocate1D(sv);
        using var dScalars = _acc.Allocate1D<double>(2);
        duBar.MemSetToZero(); dvBar.MemSetToZero(); dScalars.MemSetToZero();
        Diffuse2D.ExplicitVelocityDevice.Pullback(_acc, du.View, dv.View, duo.View, dvo.View, sg, 0.07, 0.4, substeps, duBar.View, dvBar.View, duoBar.View, dvoBar.View,
            dScalars.View.SubView(0, 1), dScalars.View.SubView(1, 1));
        Close(uo, duo.GetAsArray1D(), 1e-12, "uOut");
        Close(vo, dvo.GetAsArray1D(), 1e-12, "vOut");
        Close(uBar, duBar.GetAsArray1D(), 1e-6, "uBar");
        Close(vBar, dvBar.GetAsArray1D(), 1e-6, "vBar");
        var sc = dScalars.GetAsArray1D();
        Assert.True(Math.Abs(nuBar - sc[0]) <= 1e-6 * Math.Abs(nuBar) && Math.Abs(dtBar - sc[1]) <= 1e-6 * Math.Abs(dtBar), $"nuBar {nuBar} vs {sc[0]}, dtBar {dtBar} vs {sc[1]}");

        var g3 = new Grid3D(4, 3, 3, 4.0, 3.0, 3.0, Boundary3D.Periodic);
        int n3 = g3.Count;
        var q = Rand(n3, 55); var seed = Rand(n3, 56);
        var r = new double[n3]; var qBar = new double[n3]; var rBar = (double[])seed.Clone(); double nuBar3 = 0, dtBar3 = 0;
        Diffuse3D.ExplicitPullback(q, r, g3, 0.05, 0.5, substeps, qBar, rBar, ref nuBar3, ref dtBar3);
        using var dq = _acc.Allocate1D(q); using var dr = _acc.Allocate1D<double>(n3); using var dqBar = _acc.Allocate1D<double>(n3); using var drBar = _acc.Allocate1D(seed);
        using var d3 = _acc.Allocate1D<double>(2);
        dqBar.MemSetToZero(); d3.MemSetToZero();
        Diffuse3D.ExplicitDevice.Pullback(_acc, dq.View, dr.View, g3, 0.05, 0.5, substeps, dqBar.View, drBar.View, d3.View.SubView(0, 1), d3.View.SubView(1, 1));
        Close(r, dr.GetAsArray1D(), 1e-12, "3D result");
        Close(qBar, dqBar.GetAsArray1D(), 1e-6, "3D qBar");
        var s3 = d3.GetAsArray1D();
        Assert.True(Math.Abs(nuBar3 - s3[0]) <= 1e-6 * Math.Abs(nuBar3) && Math.Abs(dtBar3 - s3[1]) <= 1e-6 * Math.Abs(dtBar3), $"3D nuBar {nuBar3} vs {s3[0]}, dtBar {dtBar3} vs {s3[1]}");
    }
}
