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
        ParallelKernels.Diffuse2DDevice.Pullback(_acc, dq.View, dr.View, w, h, nu, xCode, yCode, dqBar.View, drBar.View);
        _acc.Synchronize();
        Close(result, dr.GetAsArray1D(), 1e-12);
        Close(qBar, dqBar.GetAsArray1D(), 1e-6);
        Assert.All(drBar.GetAsArray1D(), v => Assert.Equal(0.0, v)); // the seed is consumed
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
        ParallelKernels.TraceDevice.Pullback(_acc, dq.View, dtu.View, dtv.View, dr.View, nx, ny, dt, dqBar.View, dtuBar.View, dtvBar.View, drBar.View);
        _acc.Synchronize();
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
        dxBar.MemSetToZero();
        ParallelKernels.BlurDevice.Pullback(_acc, dx.View, dy.View, a, dxBar.View, dyBar.View);
        _acc.Synchronize();
        Close(y.Select(v => (double)v).ToArray(), dy.GetAsArray1D().Select(v => (double)v).ToArray(), 1e-4);
        Close(xBar.Select(v => (double)v).ToArray(), dxBar.GetAsArray1D().Select(v => (double)v).ToArray(), 1e-4);
    }

    [Fact]
    public void Composite_WithCallsAndArrays_GetsNoKernels()
    {
        // TwoSteps allocates and calls: not in kernel form, so no TwoStepsDevice (the summary says why).
        Assert.Null(typeof(ParallelKernels).GetNestedType("TwoStepsDevice"));
        Assert.NotNull(typeof(ParallelKernels).GetNestedType("Diffuse2DDevice"));
    }
}
