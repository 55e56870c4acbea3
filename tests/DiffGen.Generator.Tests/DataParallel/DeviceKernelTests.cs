using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>ILGPU's CPU accelerator (a kernel emulator), shared by the device tests.</summary>
public sealed class CpuKernels : IDisposable
{
    public CpuKernels()
    {
        Context = Context.Create(b => b.CPU());
        Accelerator = Context.CreateCPUAccelerator(0);
    }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}

/// <summary>
/// The generated ILGPU kernels ({Name}Device.Run / Pullback) of [DataParallel] kernels, run on ILGPU's CPU
/// accelerator against the CPU code: outputs and array adjoints within 1e-6 (double) or 1e-4 (float)
/// relative. What only a GPU can show (CUDA compilation of the kernels, speed) is not tested here.
/// </summary>
public class DeviceKernelTests(CpuKernels cpu) : IClassFixture<CpuKernels>
{
    private readonly Accelerator _acc = cpu.Accelerator;

    private static double[] Rand(int n, int seed, double lo = -1, double hi = 1)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.NextDouble();
        return a;
    }

    private static void Close(double[] expected, double[] actual, double tolerance)
    {
        double scale = Math.Max(1e-12, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"element {i}: expected {expected[i]}, device {actual[i]}");
    }

    private static void Scalar(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1e-12, Math.Abs(expected)), $"expected {expected}, device {actual}");

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 2)]
    [InlineData(2, 1)]
    public void Diffuse2D_DeviceMatchesCpu(int xCode, int yCode)
    {
        int w = 9, h = 7;
        var q = Rand(w * h, 1); var seed = Rand(w * h, 2); double nu = 0.2;
        var result = new double[w * h]; var qBar = Rand(w * h, 3); var resultBar = (double[])seed.Clone(); double nuBar = 0;
        var qBar0 = (double[])qBar.Clone();
        ParallelKernels.Diffuse2DPullback(q, result, w, h, nu, xCode, yCode, qBar, resultBar, ref nuBar);

        using var dq = _acc.Allocate1D(q);
        using var dr = _acc.Allocate1D<double>(w * h);
        using var dqBar = _acc.Allocate1D(qBar0);
        using var drBar = _acc.Allocate1D(seed);
        using var dnuBar = _acc.Allocate1D([0.25]); // the adjoint is added to what is there
        ParallelKernels.Diffuse2DDevice.Pullback(_acc, dq.View, dr.View, w, h, nu, xCode, yCode, dqBar.View, drBar.View, dnuBar.View);
        _acc.Synchronize();
        Close(result, dr.GetAsArray1D(), 1e-12);
        Close(qBar, dqBar.GetAsArray1D(), 1e-6);
        Assert.All(drBar.GetAsArray1D(), v => Assert.Equal(0.0, v)); // the seed is consumed
        Scalar(nuBar, dnuBar.GetAsArray1D()[0] - 0.25, 1e-6);
    }

    [Fact]
    public void Trace_AtomicScattersMatchCpu()
    {
        int nx = 8, ny = 6;
        var q = Rand(nx * ny, 4); var tu = Rand(nx * ny, 5, -2, 2); var tv = Rand(nx * ny, 6, -2, 2); var seed = Rand(nx * ny, 7); double dt = 0.8;
        var result = new double[nx * ny]; var qBar = new double[nx * ny]; var tuBar = new double[nx * ny]; var tvBar = new double[nx * ny]; var rBar = (double[])seed.Clone(); double dtBar = 0;
        ParallelKernels.TracePullback(q, tu, tv, result, nx, ny, dt, qBar, tuBar, tvBar, rBar, ref dtBar);

        using var dq = _acc.Allocate1D(q); using var dtu = _acc.Allocate1D(tu); using var dtv = _acc.Allocate1D(tv);
        using var dr = _acc.Allocate1D<double>(nx * ny);
        using var dqBar = _acc.Allocate1D<double>(nx * ny); using var dtuBar = _acc.Allocate1D<double>(nx * ny); using var dtvBar = _acc.Allocate1D<double>(nx * ny);
        using var drBar = _acc.Allocate1D(seed);
        dqBar.MemSetToZero(); dtuBar.MemSetToZero(); dtvBar.MemSetToZero();
        using var ddtBar = _acc.Allocate1D<double>(1);
        ddtBar.MemSetToZero();
        ParallelKernels.TraceDevice.Pullback(_acc, dq.View, dtu.View, dtv.View, dr.View, nx, ny, dt, dqBar.View, dtuBar.View, dtvBar.View, drBar.View, ddtBar.View);
        _acc.Synchronize();
        Scalar(dtBar, ddtBar.GetAsArray1D()[0], 1e-6);
        Close(result, dr.GetAsArray1D(), 1e-12);
        Close(qBar, dqBar.GetAsArray1D(), 1e-6);
        Close(tuBar, dtuBar.GetAsArray1D(), 1e-6);
        Close(tvBar, dtvBar.GetAsArray1D(), 1e-6);
    }

    [Fact]
    public void Blur_FloatKernelsMatchCpu()
    {
        int n = 37;
        var x = Rand(n, 8).Select(v => (float)v).ToArray(); var seed = Rand(n, 9).Select(v => (float)v).ToArray(); float a = 0.3f;
        var y = new float[n]; var xBar = new float[n]; var yBar = (float[])seed.Clone(); float aBar = 0;
        ParallelKernels.BlurPullback(x, y, a, xBar, yBar, ref aBar);

        using var dx = _acc.Allocate1D(x); using var dy = _acc.Allocate1D<float>(n);
        using var dxBar = _acc.Allocate1D<float>(n); using var dyBar = _acc.Allocate1D(seed);
        using var daBar = _acc.Allocate1D<float>(1);
        dxBar.MemSetToZero(); daBar.MemSetToZero();
        ParallelKernels.BlurDevice.Pullback(_acc, dx.View, dy.View, a, dxBar.View, dyBar.View, daBar.View);
        _acc.Synchronize();
        Scalar(aBar, daBar.GetAsArray1D()[0], 1e-4);
        Close(y.Select(v => (double)v).ToArray(), dy.GetAsArray1D().Select(v => (double)v).ToArray(), 1e-4);
        Close(xBar.Select(v => (double)v).ToArray(), dxBar.GetAsArray1D().Select(v => (double)v).ToArray(), 1e-4);
    }

    /// <summary>
    /// Scalar adjoints through the set-up (ax = nu dt / dx², ay = nu dt / dy²): summed on the device in a fixed
    /// order, then the set-up's reverse in a one-thread kernel. Against the CPU pullback, against central
    /// differences of the CPU primal, and bit-identical across two runs (no atomics in the sums).
    /// </summary>
    [Theory]
    [InlineData(0, 0, 16, 12)]
    [InlineData(1, 2, 9, 7)]
    [InlineData(2, 1, 40, 9)] // 360 threads: two reduction passes (blocks of 256)
    public void EulerStep2D_ScalarAdjointsReducedOnDevice(int xCode, int yCode, int w, int h)
    {
        var q = Rand(w * h, 11); var seed = Rand(w * h, 12);
        double nu = 0.3, dt = 0.4, dx = 1.1, dy = 0.9;
        var result = new double[w * h]; var qBar = new double[w * h]; var rBar = (double[])seed.Clone();
        double nuBar = 0, dtBar = 0, dxBar = 0, dyBar = 0;
        ParallelKernels.EulerStep2DPullback(q, result, w, h, nu, dt, dx, dy, xCode, yCode, qBar, rBar, ref nuBar, ref dtBar, ref dxBar, ref dyBar);

        double[] DeviceScalars(out double[] deviceQBar)
        {
            using var dq = _acc.Allocate1D(q); using var dr = _acc.Allocate1D<double>(w * h);
            using var dqBar = _acc.Allocate1D<double>(w * h); using var drBar = _acc.Allocate1D(seed);
            using var s = _acc.Allocate1D<double>(4);
            dqBar.MemSetToZero(); s.MemSetToZero();
            ParallelKernels.EulerStep2DDevice.Pullback(_acc, dq.View, dr.View, w, h, nu, dt, dx, dy, xCode, yCode, dqBar.View, drBar.View,
                s.View.SubView(0, 1), s.View.SubView(1, 1), s.View.SubView(2, 1), s.View.SubView(3, 1));
            _acc.Synchronize();
            deviceQBar = dqBar.GetAsArray1D();
            Close(result, dr.GetAsArray1D(), 1e-12);
            return s.GetAsArray1D();
        }
        var first = DeviceScalars(out var devQBar);
        var second = DeviceScalars(out _);
        Close(qBar, devQBar, 1e-6);
        double[] cpu = [nuBar, dtBar, dxBar, dyBar];
        for (int k = 0; k < 4; k++)
        {
            Scalar(cpu[k], first[k], 1e-6);
            Assert.Equal(first[k], second[k]); // a fixed order of additions
        }

        // Central differences of <seed, result> in each scalar.
        double Loss(double n, double t, double x, double y)
        {
            var r = new double[w * h];
            ParallelKernels.EulerStep2D(q, r, w, h, n, t, x, y, xCode, yCode);
            double sum = 0;
            for (int i = 0; i < r.Length; i++) sum += seed[i] * r[i];
            return sum;
        }
        const double e = 1e-6;
        double[] fd =
        [
            (Loss(nu + e, dt, dx, dy) - Loss(nu - e, dt, dx, dy)) / (2 * e),
            (Loss(nu, dt + e, dx, dy) - Loss(nu, dt - e, dx, dy)) / (2 * e),
            (Loss(nu, dt, dx + e, dy) - Loss(nu, dt, dx - e, dy)) / (2 * e),
            (Loss(nu, dt, dx, dy + e) - Loss(nu, dt, dx, dy - e)) / (2 * e),
        ];
        for (int k = 0; k < 4; k++) Scalar(fd[k], first[k], 1e-6);
    }

    /// <summary>
    /// A composite (a local array and two calls of a kernel-form method): its device form sequences the callee's
    /// device kernels, the intermediate on the accelerator, and its pullback runs the callees' device pullbacks
    /// in reverse order. Against the CPU pullback and central differences.
    /// </summary>
    [Fact]
    public void Composite_TwoSteps_DeviceMatchesCpu()
    {
        int w = 8, h = 6;
        var q = Rand(w * h, 21); var seed = Rand(w * h, 22); double nu = 0.15;
        var result = new double[w * h]; var qBar = new double[w * h]; var rBar = (double[])seed.Clone(); double nuBar = 0;
        ParallelKernels.TwoStepsPullback(q, result, w, h, nu, qBar, rBar, ref nuBar);

        using var dq = _acc.Allocate1D(q); using var dr = _acc.Allocate1D<double>(w * h);
        using var dqBar = _acc.Allocate1D<double>(w * h); using var drBar = _acc.Allocate1D(seed); using var dnuBar = _acc.Allocate1D<double>(1);
        dqBar.MemSetToZero(); dnuBar.MemSetToZero();
        ParallelKernels.TwoStepsDevice.Pullback(_acc, dq.View, dr.View, w, h, nu, dqBar.View, drBar.View, dnuBar.View);
        Close(result, dr.GetAsArray1D(), 1e-12);
        Close(qBar, dqBar.GetAsArray1D(), 1e-6);
        Assert.All(drBar.GetAsArray1D(), v => Assert.Equal(0.0, v)); // the seed is consumed
        Scalar(nuBar, dnuBar.GetAsArray1D()[0], 1e-6);

        using var dr2 = _acc.Allocate1D<double>(w * h);
        ParallelKernels.TwoStepsDevice.Run(_acc, dq.View, dr2.View, w, h, nu);
        Close(result, dr2.GetAsArray1D(), 1e-12);

        // Central differences of <seed, result> along a direction in q and in nu.
        var dir = Rand(w * h, 23);
        double Loss(double e)
        {
            var r = new double[w * h];
            ParallelKernels.TwoSteps(q.Select((x, i) => x + e * dir[i]).ToArray(), r, w, h, nu + e);
            return r.Select((x, i) => x * seed[i]).Sum();
        }
        const double step = 1e-6;
        double fd = (Loss(step) - Loss(-step)) / (2 * step);
        double ad = dqBar.GetAsArray1D().Select((x, i) => x * dir[i]).Sum() + dnuBar.GetAsArray1D()[0];
        Scalar(fd, ad, 1e-6);
    }

    [Fact]
    public void Composite_EmptyGrid_RunsNothing()
    {
        // w = 0: the local array is empty (a zero-length view of a one-element buffer); no kernel runs.
        using var one = _acc.Allocate1D<double>(1);
        using var nuBar = _acc.Allocate1D<double>(1);
        nuBar.MemSetToZero();
        var empty = one.View.SubView(0, 0);
        ParallelKernels.TwoStepsDevice.Run(_acc, empty, empty, 0, 6, 0.1);
        ParallelKernels.TwoStepsDevice.Pullback(_acc, empty, empty, 0, 6, 0.1, empty, empty, nuBar.View);
        Assert.Equal(0.0, nuBar.GetAsArray1D()[0]);
    }

    [Fact]
    public void Methods_OutsideTheDeviceShapes_GetNoKernels()
    {
        // SampleRows calls a method inside its loop: neither kernel form nor a composite of calls.
        Assert.Null(typeof(ParallelKernels).GetNestedType("SampleRowsDevice"));
        Assert.NotNull(typeof(ParallelKernels).GetNestedType("Diffuse2DDevice"));
        Assert.NotNull(typeof(ParallelKernels).GetNestedType("TwoStepsDevice"));
    }

    /// <summary>
    /// Bool parameters and set-up locals reach the kernels: they travel in the argument struct as ints (a bool field
    /// made ILGPU reject the kernel at load, "not blittable", which only a run shows).
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    public void BoolSetup_DeviceMatchesCpu(int code, bool flip)
    {
        int n = 23;
        var a = Rand(n, 31); var seed = Rand(n, 32); double scale = 0.7;
        var b = new double[n]; var aBar = new double[n]; var bBar = (double[])seed.Clone(); double scaleBar = 0;
        ParallelKernels.GatePullback(a, b, n, code, flip, scale, aBar, bBar, ref scaleBar);

        using var da = _acc.Allocate1D(a);
        using var db = _acc.Allocate1D<double>(n);
        using var daBar = _acc.Allocate1D<double>(n);
        using var dbBar = _acc.Allocate1D(seed);
        using var dScaleBar = _acc.Allocate1D<double>(1);
        daBar.MemSetToZero();
        dScaleBar.MemSetToZero();
        ParallelKernels.GateDevice.Pullback(_acc, da.View, db.View, n, code, flip, scale, daBar.View, dbBar.View, dScaleBar.View);
        _acc.Synchronize();
        Close(b, db.GetAsArray1D(), 1e-12);
        Close(aBar, daBar.GetAsArray1D(), 1e-12);
        Scalar(scaleBar, dScaleBar.GetAsArray1D()[0], 1e-12);
        Assert.Contains(b, v => v != 0);
    }
}
