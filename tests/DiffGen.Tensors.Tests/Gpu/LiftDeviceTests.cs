using DiffGen.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace DiffGen.Tensors.Tests.Gpu;

/// <summary>A forced, nonlinear 2D diffusion step in kernel form: the generator gives it ILGPU kernels (ForcedDiffusionDevice).</summary>
public static partial class DeviceSteps
{
    /// <summary>
    /// <c>next = u + nu dt (1 + u/10) Laplacian(u) + dt f u</c> on a periodic w x h grid (state u, control f).
    /// </summary>
    [Differentiable, DataParallel]
    public static void ForcedDiffusion(ReadOnlySpan<double> u, ReadOnlySpan<double> f, Span<double> next, int w, int h, double nu, double dt)
    {
        double a = nu * dt;
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int il = i > 0 ? i - 1 : w - 1;
                int ir = i < w - 1 ? i + 1 : 0;
                int jb = j > 0 ? j - 1 : h - 1;
                int jt = j < h - 1 ? j + 1 : 0;
                double c = u[j * w + i];
                next[j * w + i] = c + a * (1 + 0.1 * c) * (u[j * w + il] + u[j * w + ir] + u[jb * w + i] + u[jt * w + i] - 4 * c) + dt * f[j * w + i] * c;
            }
        }
    }
}

/// <summary>The host-copy counter runs alone: other tests copying tensors on a kernel device at the same time would move it.</summary>
[CollectionDefinition("HostCopies", DisableParallelization = true)]
public sealed class HostCopiesCollection;

/// <summary>
/// <see cref="Lift.DeviceOp"/> on <see cref="Device.CpuKernels"/> (ILGPU's CPU accelerator, an emulator): a lifted
/// step's forward and backward run the generated device kernels on the tensors' buffers with no host copy of
/// tensor memory (<see cref="Storage.HostCopies"/>), and agree with the CPU path (<see cref="Lift.Op(SpanStep2, SpanStep2Pullback, int[], string)"/>).
/// </summary>
[Collection("HostCopies")]
public class LiftDeviceTests
{
    private const int W = 8, H = 6, N = W * H, Batch = 2;
    private const double Nu = 0.2, Dt = 0.5;

    private static Func<Tensor, Tensor, Tensor> Step(Accelerator scratchOn)
    {
        // The device pullback adds nu's and dt's adjoints to one-element views; the lifted op gives scalars no gradient.
        var scalars = scratchOn.Allocate1D<double>(2);
        return Lift.DeviceOp(
            (u, f, next) => DeviceSteps.ForcedDiffusion(u, f, next, W, H, Nu, Dt),
            (u, f, next, uBar, fBar, nextBar) => { double nuBar = 0, dtBar = 0; DeviceSteps.ForcedDiffusionPullback(u, f, next, W, H, Nu, Dt, uBar, fBar, nextBar, ref nuBar, ref dtBar); },
            (acc, u, f, next) => DeviceSteps.ForcedDiffusionDevice.Run(acc, u, f, next, W, H, Nu, Dt),
            (acc, u, f, next, uBar, fBar, nextBar) => DeviceSteps.ForcedDiffusionDevice.Pullback(acc, u, f, next, W, H, Nu, Dt, uBar, fBar, nextBar,
                scalars.View.SubView(0, 1), scalars.View.SubView(1, 1)),
            name: "ForcedDiffusion");
    }

    private static float[] Data(int seed, int n)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Fact]
    public void HostCopies_CountsCopiesOnAKernelDevice()
    {
        long before = Storage.HostCopies;
        var t = Tensor.FromArray(Device.CpuKernels, Data(1, 12), 3, 4);   // host -> device
        _ = t.ToArray();                                                   // device -> host
        Assert.Equal(before + 2, Storage.HostCopies);
        var c = Tensor.FromArray(Device.Cpu, Data(1, 12), 3, 4);
        _ = c.ToArray();                                                   // host memory: not a device copy
        Assert.Equal(before + 2, Storage.HostCopies);
    }

    [Fact]
    public void DeviceOp_ForwardAndBackward_MakeNoHostCopies_AndMatchCpu()
    {
        var u0 = Data(2, Batch * N);
        var f0 = Data(3, Batch * N);
        var weights = Enumerable.Range(0, Batch * N).Select(i => MathF.Sin(i + 1f)).ToArray();

        // One step serves both devices: on Device.Cpu the op runs the span forms and never touches the device scratch.
        LiftDeviceCheck.MatchesCpuWithoutHostCopies(Step(Device.CpuKernels.Accelerator), u0, f0, weights, Batch, N, N, "control");
    }

    /// <summary>The step's generated CPU pullback (the reference above) against central differences, in double.</summary>
    [Fact]
    public void ForcedDiffusion_PullbackMatchesCentralDifferences()
    {
        var r = new Random(4);
        double[] Rand() => Enumerable.Range(0, N).Select(_ => r.NextDouble() * 2 - 1).ToArray();
        double[] u = Rand(), f = Rand(), seed = Rand(), du = Rand(), df = Rand();
        var next = new double[N];
        var uBar = new double[N];
        var fBar = new double[N];
        var nextBar = (double[])seed.Clone();
        double nuBar = 0, dtBar = 0;
        DeviceSteps.ForcedDiffusionPullback(u, f, next, W, H, Nu, Dt, uBar, fBar, nextBar, ref nuBar, ref dtBar);
        double Loss(double e)
        {
            var o = new double[N];
            DeviceSteps.ForcedDiffusion(u.Select((x, i) => x + e * du[i]).ToArray(), f.Select((x, i) => x + e * df[i]).ToArray(), o, W, H, Nu + e, Dt + e);
            return o.Select((x, i) => x * seed[i]).Sum();
        }
        const double h = 1e-6;
        double fd = (Loss(h) - Loss(-h)) / (2 * h);
        double ad = uBar.Select((x, i) => x * du[i]).Sum() + fBar.Select((x, i) => x * df[i]).Sum() + nuBar + dtBar;
        Assert.True(Math.Abs(fd - ad) <= 1e-6 * Math.Max(1, Math.Abs(fd)), $"central differences {fd:R}, pullback {ad:R}");
    }
}
