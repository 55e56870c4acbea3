using DiffGen.Physics;
using ILGPU;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The <see cref="Smoke2D"/> model's device API (<c>StepPackedDevice</c>, <c>StepPackedDeviceBackward</c>, <c>StepDevice</c>,
/// <c>StepDeviceBackward</c>) on ILGPU's CPU accelerator against the model's CPU packed step and its pullback: closed
/// boxes as in the smoke scene, with an inflow disc; the tolerance is tight so that the device's Jacobi CG and the
/// CPU's multigrid CG stop close to the same pressure.
/// </summary>
public class Smoke2DDeviceTests(DeviceFixture device) : IClassFixture<DeviceFixture>
{
    private static double[] Random(int n, int seed, double scale)
    {
        var rng = new Random(seed);
        var v = new double[n];
        for (int k = 0; k < n; k++) v[k] = scale * (rng.NextDouble() - 0.5);
        return v;
    }

    private static void Close(double[] expected, double[] actual, double rel, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(expected.Max(Math.Abs), 1e-300);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= rel * scale, $"{what}[{k}]: CPU {expected[k]:R}, device {actual[k]:R} (scale {scale:E3})");
    }

    private ArrayView<double> Up(double[] a) => device.Upload((double[])a.Clone());

    // A plume-like state: smoke in [0, 1], a random velocity, the inflow a disc low in the box.
    private static (Smoke2D Model, double[] State, double[] Inflow) Scene(int nx, int ny)
    {
        var model = new Smoke2D(new StaggeredGrid2D(nx, ny, nx, ny, Boundary2D.Closed), dt: 1, buoyancy: 1, tolerance: 1e-11);
        var state = new double[model.PackedLength];
        int c = nx * ny;
        var smoke = Random(c, 1, 1);
        var vel = Random(state.Length - c, 2, 0.6);
        for (int k = 0; k < c; k++) state[k] = smoke[k] + 0.5;
        vel.CopyTo(state, c);
        var inflow = model.DiscInflow(nx / 2.0, ny / 4.0, Math.Max(1.5, nx / 6.0), 1.0 / 3);
        Assert.Contains(inflow, x => x != 0);
        return (model, state, inflow);
    }

    [Theory]
    [InlineData(8, 6)]
    [InlineData(12, 10)]
    public void StepPackedDevice_AndBackward_MatchCpuPackedStep(int nx, int ny)
    {
        var (model, state, inflow) = Scene(nx, ny);
        int n = model.PackedLength, c = nx * ny;
        var next = new double[n];
        model.StepPacked(state, inflow, next);

        var acc = device.Accelerator;
        var (stateD, inflowD, nextD) = (Up(state), Up(inflow), Up(new double[n]));
        model.StepPackedDevice(acc, stateD, inflowD, nextD);
        Close(next, device.Download(nextD), 1e-6, "next");

        // Backward: the adjoints accumulate into nonzero starting values, the seed is consumed.
        var seed = Random(n, 5, 1);
        var (sBar0, iBar0) = (Random(n, 6, 0.1), Random(c, 7, 0.1));
        var (sBar, iBar, nBar) = ((double[])sBar0.Clone(), (double[])iBar0.Clone(), (double[])seed.Clone());
        model.StepPackedBackward(state, inflow, new double[n], sBar, iBar, nBar);
        Assert.All(nBar, x => Assert.Equal(0.0, x));

        var (sBarD, iBarD, nBarD, nextD2) = (Up(sBar0), Up(iBar0), Up(seed), Up(new double[n]));
        model.StepPackedDeviceBackward(acc, stateD, inflowD, nextD2, sBarD, iBarD, nBarD);
        // The backward leaves the step's output, as the CPU pullback does (ApplyWalls writes only the walls: its snapshot starts from the velocity).
        Close(next, device.Download(nextD2), 1e-6, "next (backward)");
        Close(sBar, device.Download(sBarD), 1e-6, "stateBar");
        Close(iBar, device.Download(iBarD), 1e-6, "inflowBar");
        Assert.All(device.Download(nBarD), x => Assert.Equal(0.0, x));
        // The gradient is not just the starting values (the comparison above would pass on a no-op otherwise).
        Assert.True(sBar.Zip(sBar0).Max(t => Math.Abs(t.First - t.Second)) > 1e-3);
        Assert.True(iBar.Zip(iBar0).Max(t => Math.Abs(t.First - t.Second)) > 1e-3);
        // The device inputs are untouched.
        Assert.Equal(state, device.Download(stateD));
        Assert.Equal(inflow, device.Download(inflowD));
    }

    [Fact]
    public void StepDevice_AndBackward_MatchCpuStep()
    {
        var (model, state, inflow) = Scene(8, 6);
        int c = model.Grid.Cells.Count, fu = model.Grid.UCount, fv = model.Grid.VCount;
        var (smoke, u, v) = (state[..c], state[c..(c + fu)], state[(c + fu)..]);
        var (so, uo, vo, p) = (new double[c], new double[fu], new double[fv], new double[c]);
        model.Step(smoke, u, v, inflow, so, uo, vo, p);

        var acc = device.Accelerator;
        var (smokeD, uD, vD, inflowD) = (Up(smoke), Up(u), Up(v), Up(inflow));
        // Garbage in the pressure view: the device solve starts from zero as the CPU one does.
        var (soD, uoD, voD, pD) = (Up(new double[c]), Up(new double[fu]), Up(new double[fv]), Up(Random(c, 9, 100)));
        model.StepDevice(acc, smokeD, uD, vD, inflowD, soD, uoD, voD, pD);
        Close(so, device.Download(soD), 1e-6, "smokeNext");
        Close(uo, device.Download(uoD), 1e-6, "uNext");
        Close(vo, device.Download(voD), 1e-6, "vNext");
        Close(p, device.Download(pD), 1e-6, "pressure");

        var (soBar, uoBar, voBar, pBar) = (Random(c, 5, 1), Random(fu, 6, 1), Random(fv, 7, 1), Random(c, 8, 1));
        var (sBar, uBar, vBar, iBar) = (new double[c], new double[fu], new double[fv], new double[c]);
        double bBar = 0;
        model.StepBackward(smoke, u, v, inflow, new double[c], new double[fu], new double[fv], new double[c],
            sBar, uBar, vBar, iBar, (double[])soBar.Clone(), (double[])uoBar.Clone(), (double[])voBar.Clone(), (double[])pBar.Clone(), ref bBar);
        var (sBarD, uBarD, vBarD, iBarD, bBarD) = (Up(new double[c]), Up(new double[fu]), Up(new double[fv]), Up(new double[c]), Up([0.0]));
        model.StepDeviceBackward(acc, smokeD, uD, vD, inflowD, Up(new double[c]), Up(new double[fu]), Up(new double[fv]), Up(new double[c]),
            sBarD, uBarD, vBarD, iBarD, Up(soBar), Up(uoBar), Up(voBar), Up(pBar), bBarD);
        Close(sBar, device.Download(sBarD), 1e-6, "smokeBar");
        Close(uBar, device.Download(uBarD), 1e-6, "uBar");
        Close(vBar, device.Download(vBarD), 1e-6, "vBar");
        Close(iBar, device.Download(iBarD), 1e-6, "inflowBar");
        Close([bBar], device.Download(bBarD), 1e-6, "buoyancyBar");
        Assert.NotEqual(0.0, bBar);
    }

    [Fact]
    public void DeviceSteps_CheckLengths_NamingTheArgument()
    {
        var (model, state, inflow) = Scene(8, 6);
        var acc = device.Accelerator;
        int n = model.PackedLength, c = model.Grid.Cells.Count;
        var (s, i, x) = (Up(state), Up(inflow), Up(new double[n]));
        var shortState = Up(new double[n - 1]);
        var shortCells = Up(new double[c - 1]);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => model.StepPackedDevice(acc, shortState, i, x)).ParamName);
        Assert.Equal("inflow", Assert.Throws<ArgumentException>(() => model.StepPackedDevice(acc, s, shortCells, x)).ParamName);
        Assert.Equal("next", Assert.Throws<ArgumentException>(() => model.StepPackedDevice(acc, s, i, shortState)).ParamName);
        Assert.Equal("stateBar", Assert.Throws<ArgumentException>(() => model.StepPackedDeviceBackward(acc, s, i, x, shortState, Up(new double[c]), Up(new double[n]))).ParamName);
        Assert.Equal("inflowBar", Assert.Throws<ArgumentException>(() => model.StepPackedDeviceBackward(acc, s, i, x, Up(new double[n]), shortCells, Up(new double[n]))).ParamName);
        Assert.Equal("nextBar", Assert.Throws<ArgumentException>(() => model.StepPackedDeviceBackward(acc, s, i, x, Up(new double[n]), Up(new double[c]), shortState)).ParamName);
        Assert.Equal("accelerator", Assert.Throws<ArgumentNullException>(() => model.StepPackedDevice(null!, s, i, x)).ParamName);

        int fu = model.Grid.UCount, fv = model.Grid.VCount;
        var (sm, u, v, p) = (Up(new double[c]), Up(new double[fu]), Up(new double[fv]), Up(new double[c]));
        Assert.Equal("u", Assert.Throws<ArgumentException>(() => model.StepDevice(acc, sm, Up(new double[fu + 1]), v, i, sm, u, v, p)).ParamName);
        Assert.Equal("pressure", Assert.Throws<ArgumentException>(() => model.StepDevice(acc, sm, u, v, i, sm, u, v, shortCells)).ParamName);
        Assert.Equal("vNextBar", Assert.Throws<ArgumentException>(() => model.StepDeviceBackward(acc, sm, u, v, i, sm, u, v, p,
            sm, u, v, i, sm, u, Up(new double[fv - 1]), p, Up([0.0]))).ParamName);
        Assert.Equal("buoyancyBar", Assert.Throws<ArgumentException>(() => model.StepDeviceBackward(acc, sm, u, v, i, sm, u, v, p,
            sm, u, v, i, sm, u, v, p, Up([0.0, 0.0]))).ParamName);
    }

    [Fact]
    public void DeviceMaxIterations_DefaultsAndValidates()
    {
        Assert.Equal(2000, Smoke2D.PbdlPlume(32, 40).DeviceMaxIterations);
        var wide = new Smoke2D(new StaggeredGrid2D(80, 60, 80, 60, Boundary2D.Closed), maxIterations: 100);
        Assert.Equal(20 * (80 + 60), wide.DeviceMaxIterations);
        Assert.Equal(7, new Smoke2D(wide.Grid) { DeviceMaxIterations = 7 }.DeviceMaxIterations);
        Assert.Equal("DeviceMaxIterations", Assert.Throws<ArgumentException>(() => new Smoke2D(wide.Grid) { DeviceMaxIterations = 0 }).ParamName);
    }

    // Too few device iterations: the solve throws instead of handing back an unconverged pressure.
    [Fact]
    public void StepPackedDevice_TooFewIterations_Throws()
    {
        var (model, state, inflow) = Scene(8, 6);
        var capped = new Smoke2D(model.Grid, tolerance: model.Tolerance) { DeviceMaxIterations = 2 };
        Assert.ThrowsAny<InvalidOperationException>(() => capped.StepPackedDevice(device.Accelerator, Up(state), Up(inflow), Up(new double[model.PackedLength])));
    }
}
