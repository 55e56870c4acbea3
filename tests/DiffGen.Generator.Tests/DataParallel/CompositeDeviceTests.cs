using ILGPU;
using ILGPU.Runtime;

namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>
/// Device composites of the shapes in <see cref="CompositeKernels"/> on ILGPU's CPU accelerator: Run and Pullback
/// against the CPU primal and pullback (outputs 1e-12, adjoints 1e-6 relative in double, 1e-4 in float), and the
/// pullback against central differences of a weighted sum of the outputs along a random direction in every input.
/// </summary>
public class CompositeDeviceTests(CpuKernels cpu) : IClassFixture<CpuKernels>
{
    private readonly Accelerator _acc = cpu.Accelerator;

    private static double[] Rand(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => scale * (2 * r.NextDouble() - 1)).ToArray();
    }

    private static void Close(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1e-12, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"{what}[{i}]: cpu {expected[i]}, device {actual[i]}");
    }

    private static void Scalar(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1e-9, Math.Abs(expected)), $"{what}: expected {expected}, got {actual}");

    private static double Dot(double[] a, double[] b) => a.Select((x, i) => x * b[i]).Sum();

    /// <summary>Substeps in a branch and a loop of calls, copies, a struct's members, hs = dt / substeps chained into nu's and dt's adjoints.</summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(3, 0)]
    [InlineData(4, 1)]
    public void Diffuse_SubstepBranchesAndLoops_DeviceMatchesCpuAndCentralDifferences(int substeps, int code)
    {
        var mesh = new Mesh(8, 6, 0.9, code);
        int n = mesh.W * mesh.H;
        double nu = 0.07, dt = 0.5;
        var q = Rand(n, 1); var seed = Rand(n, 2);
        var r = new double[n]; var qBar = new double[n]; var rBar = (double[])seed.Clone(); double nuBar = 0, dtBar = 0;
        CompositeKernels.DiffusePullback(q, r, mesh, nu, dt, substeps, qBar, rBar, ref nuBar, ref dtBar);

        using var dq = _acc.Allocate1D(q); using var dr = _acc.Allocate1D<double>(n);
        CompositeKernels.DiffuseDevice.Run(_acc, dq.View, dr.View, mesh, nu, dt, substeps);
        Close(r, dr.GetAsArray1D(), 1e-12, "r (Run)");
        using var dqBar = _acc.Allocate1D<double>(n); using var drBar = _acc.Allocate1D(seed); using var dScalars = _acc.Allocate1D<double>(2);
        dqBar.MemSetToZero(); dScalars.MemSetToZero();
        using var dr2 = _acc.Allocate1D<double>(n);
        CompositeKernels.DiffuseDevice.Pullback(_acc, dq.View, dr2.View, mesh, nu, dt, substeps, dqBar.View, drBar.View, dScalars.View.SubView(0, 1), dScalars.View.SubView(1, 1));
        Close(r, dr2.GetAsArray1D(), 1e-12, "r (Pullback)");
        Close(qBar, dqBar.GetAsArray1D(), 1e-6, "qBar");
        Assert.All(drBar.GetAsArray1D(), x => Assert.Equal(0.0, x));
        var s = dScalars.GetAsArray1D();
        Scalar(nuBar, s[0], 1e-6, "nuBar");
        Scalar(dtBar, s[1], 1e-6, "dtBar");
        Assert.NotEqual(0.0, dtBar);

        var dir = Rand(n, 3);
        double Loss(double e)
        {
            var o = new double[n];
            CompositeKernels.Diffuse(q.Select((x, i) => x + e * dir[i]).ToArray(), o, mesh, nu + e, dt - 2 * e, substeps);
            return Dot(o, seed);
        }
        double fd = (Loss(1e-6) - Loss(-1e-6)) / 2e-6;
        Scalar(fd, Dot(dqBar.GetAsArray1D(), dir) + s[0] - 2 * s[1], 1e-6, "central differences");
    }

    /// <summary>In-place updates of an output, a nonlinear callee whose output a later call overwrites, dt * k and -dt arguments, an array passed twice.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Step_InPlaceAndOverwrittenArrays_DeviceMatchesCpuAndCentralDifferences(int substeps)
    {
        var mesh = new Mesh(8, 6, 1.1, 1);
        int n = mesh.W * mesh.H;
        double nu = 0.09, dt = 0.4, k = 0.7;
        var u = Rand(n, 11); var f = Rand(n, 12); var seed = Rand(n, 13);
        var next = new double[n]; var uBar = new double[n]; var fBar = new double[n]; var nextBar = (double[])seed.Clone();
        double nuBar = 0, dtBar = 0, kBar = 0;
        CompositeKernels.StepPullback(u, f, next, mesh, nu, dt, k, substeps, uBar, fBar, nextBar, ref nuBar, ref dtBar, ref kBar);

        using var du = _acc.Allocate1D(u); using var df = _acc.Allocate1D(f); using var dn = _acc.Allocate1D<double>(n);
        CompositeKernels.StepDevice.Run(_acc, du.View, df.View, dn.View, mesh, nu, dt, k, substeps);
        Close(next, dn.GetAsArray1D(), 1e-12, "next (Run)");
        using var duBar = _acc.Allocate1D<double>(n); using var dfBar = _acc.Allocate1D<double>(n); using var dnBar = _acc.Allocate1D(seed);
        using var dScalars = _acc.Allocate1D<double>(3);
        duBar.MemSetToZero(); dfBar.MemSetToZero(); dScalars.MemSetToZero();
        using var dn2 = _acc.Allocate1D<double>(n);
        CompositeKernels.StepDevice.Pullback(_acc, du.View, df.View, dn2.View, mesh, nu, dt, k, substeps, duBar.View, dfBar.View, dnBar.View,
            dScalars.View.SubView(0, 1), dScalars.View.SubView(1, 1), dScalars.View.SubView(2, 1));
        Close(next, dn2.GetAsArray1D(), 1e-12, "next (Pullback leaves the result)");
        Close(uBar, duBar.GetAsArray1D(), 1e-6, "uBar");
        Close(fBar, dfBar.GetAsArray1D(), 1e-6, "fBar");
        Assert.All(dnBar.GetAsArray1D(), x => Assert.Equal(0.0, x));
        var s = dScalars.GetAsArray1D();
        Scalar(nuBar, s[0], 1e-6, "nuBar");
        Scalar(dtBar, s[1], 1e-6, "dtBar");
        Scalar(kBar, s[2], 1e-6, "kBar");

        var du0 = Rand(n, 14); var df0 = Rand(n, 15);
        double Loss(double e)
        {
            var o = new double[n];
            CompositeKernels.Step(u.Select((x, i) => x + e * du0[i]).ToArray(), f.Select((x, i) => x + e * df0[i]).ToArray(), o, mesh, nu + e, dt + 0.5 * e, k - e, substeps);
            return Dot(o, seed);
        }
        double fd = (Loss(1e-6) - Loss(-1e-6)) / 2e-6;
        Scalar(fd, Dot(duBar.GetAsArray1D(), du0) + Dot(dfBar.GetAsArray1D(), df0) + s[0] + 0.5 * s[1] - s[2], 1e-6, "central differences");
    }

    [Fact]
    public void FloatComposite_ChainsExpressionArguments_WithinFloatTolerance()
    {
        int n = 37;
        var u = Rand(n, 21).Select(x => (float)x).ToArray(); var f = Rand(n, 22).Select(x => (float)x).ToArray(); var seed = Rand(n, 23).Select(x => (float)x).ToArray();
        float dt = 0.3f;
        var next = new float[n]; var uBar = new float[n]; var fBar = new float[n]; var nextBar = (float[])seed.Clone(); float dtBar = 0;
        CompositeKernels.StepFPullback(u, f, next, dt, uBar, fBar, nextBar, ref dtBar);

        using var du = _acc.Allocate1D(u); using var df = _acc.Allocate1D(f); using var dn = _acc.Allocate1D<float>(n);
        using var duBar = _acc.Allocate1D<float>(n); using var dfBar = _acc.Allocate1D<float>(n); using var dnBar = _acc.Allocate1D(seed); using var ddt = _acc.Allocate1D<float>(1);
        duBar.MemSetToZero(); dfBar.MemSetToZero(); ddt.MemSetToZero();
        CompositeKernels.StepFDevice.Pullback(_acc, du.View, df.View, dn.View, dt, duBar.View, dfBar.View, dnBar.View, ddt.View);
        Close(next.Select(x => (double)x).ToArray(), dn.GetAsArray1D().Select(x => (double)x).ToArray(), 1e-6, "next");
        Close(uBar.Select(x => (double)x).ToArray(), duBar.GetAsArray1D().Select(x => (double)x).ToArray(), 1e-4, "uBar");
        Close(fBar.Select(x => (double)x).ToArray(), dfBar.GetAsArray1D().Select(x => (double)x).ToArray(), 1e-4, "fBar");
        Scalar(dtBar, ddt.GetAsArray1D()[0], 1e-4, "dtBar");
        Assert.NotEqual(0f, dtBar);
    }

    /// <summary>A callee whose device form is hand-written ({Name}Device next to a [DerivativeOf] pullback) is called like a generated one.</summary>
    [Fact]
    public void HandWrittenDeviceForm_IsCalledByComposites_AndMatchesCpu()
    {
        var mesh = new Mesh(8, 6, 1.0, 0);
        int n = mesh.W * mesh.H;
        double sc = 1.3, a = 0.12;
        var q = Rand(n, 31); var seed = Rand(n, 32);
        var r = new double[n]; var qBar = new double[n]; var rBar = (double[])seed.Clone(); double sBar = 0, aBar = 0;
        CompositeKernels.UsesHandPullback(q, r, mesh, sc, a, qBar, rBar, ref sBar, ref aBar);

        using var dq = _acc.Allocate1D(q); using var dr = _acc.Allocate1D<double>(n);
        using var dqBar = _acc.Allocate1D<double>(n); using var drBar = _acc.Allocate1D(seed); using var dScalars = _acc.Allocate1D<double>(2);
        dqBar.MemSetToZero(); dScalars.MemSetToZero();
        int before = Hand.ScaleDevice.Pullbacks;
        CompositeKernels.UsesHandDevice.Pullback(_acc, dq.View, dr.View, mesh, sc, a, dqBar.View, drBar.View, dScalars.View.SubView(0, 1), dScalars.View.SubView(1, 1));
        Assert.True(Hand.ScaleDevice.Pullbacks > before); // the hand-written device pullback ran
        Close(r, dr.GetAsArray1D(), 1e-12, "r");
        Close(qBar, dqBar.GetAsArray1D(), 1e-6, "qBar");
        var s = dScalars.GetAsArray1D();
        Scalar(sBar, s[0], 1e-6, "sBar");
        Scalar(aBar, s[1], 1e-6, "aBar");

        var dir = Rand(n, 33);
        double Loss(double e)
        {
            var o = new double[n];
            CompositeKernels.UsesHand(q.Select((x, i) => x + e * dir[i]).ToArray(), o, mesh, sc + e, a - e);
            return Dot(o, seed);
        }
        double fd = (Loss(1e-6) - Loss(-1e-6)) / 2e-6;
        Scalar(fd, Dot(dqBar.GetAsArray1D(), dir) + s[0] - s[1], 1e-6, "central differences");
    }

    /// <summary>A branch whose callee has no device form: the other branch runs on the device, that one throws.</summary>
    [Fact]
    public void BranchWithoutDeviceForm_Throws_OtherBranchMatchesCpu()
    {
        int n = 20;
        var q = Rand(n, 41); var seed = Rand(n, 42);
        var r = new double[n]; var qBar = new double[n]; var rBar = (double[])seed.Clone(); double aBar = 0;
        CompositeKernels.BranchyPullback(q, r, 0, 0.3, qBar, rBar, ref aBar);
        using var dq = _acc.Allocate1D(q); using var dr = _acc.Allocate1D<double>(n);
        using var dqBar = _acc.Allocate1D<double>(n); using var drBar = _acc.Allocate1D(seed); using var da = _acc.Allocate1D<double>(1);
        dqBar.MemSetToZero(); da.MemSetToZero();
        CompositeKernels.BranchyDevice.Pullback(_acc, dq.View, dr.View, 0, 0.3, dqBar.View, drBar.View, da.View);
        Close(r, dr.GetAsArray1D(), 1e-12, "r");
        Close(qBar, dqBar.GetAsArray1D(), 1e-6, "qBar");
        Scalar(aBar, da.GetAsArray1D()[0], 1e-6, "aBar");
        var ex = Assert.Throws<NotSupportedException>(() => CompositeKernels.BranchyDevice.Run(_acc, dq.View, dr.View, 1, 0.3));
        Assert.Contains("'Cubes'", ex.Message);
        Assert.Null(typeof(CompositeKernels).GetNestedType("CubesDevice"));
    }

    /// <summary>
    /// A callee that writes some elements of an array and reads none, recorded through a composite: its snapshot
    /// must start from the array's values (a zeroed snapshot, copied back, wiped y and so the nonlinear call's adjoint).
    /// </summary>
    [Fact]
    public void PartialWriterThroughRecord_KeepsOutputsAndGradient()
    {
        int w = 7, h = 5, n = w * h;
        var x = Rand(n, 41); var seedY = Rand(n, 42); var seedZ = Rand(n, 43);
        var y = new double[n]; var z = new double[n]; var xBar = new double[n];
        var yBar = (double[])seedY.Clone(); var zBar = (double[])seedZ.Clone();
        CompositeKernels.WallsThenSquarePullback(x, y, z, w, h, xBar, yBar, zBar);
        Assert.Contains(z, v => v != 0);

        using var dx = _acc.Allocate1D(x); using var dy = _acc.Allocate1D<double>(n); using var dz = _acc.Allocate1D<double>(n);
        using var dxBar = _acc.Allocate1D<double>(n); using var dyBar = _acc.Allocate1D(seedY); using var dzBar = _acc.Allocate1D(seedZ);
        dxBar.MemSetToZero();
        CompositeKernels.WallsThenSquareDevice.Pullback(_acc, dx.View, dy.View, dz.View, w, h, dxBar.View, dyBar.View, dzBar.View);
        Close(y, dy.GetAsArray1D(), 1e-12, "y (Pullback)");
        Close(z, dz.GetAsArray1D(), 1e-12, "z (Pullback)");
        Close(xBar, dxBar.GetAsArray1D(), 1e-12, "xBar");
    }
}
