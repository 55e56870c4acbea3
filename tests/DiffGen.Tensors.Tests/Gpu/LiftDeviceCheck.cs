using DiffGen.Tensors;

namespace DiffGen.Tensors.Tests.Gpu;

/// <summary>
/// The check every lifted device step gets: the same two-input op run on <see cref="Device.Cpu"/> and on
/// <see cref="Device.CpuKernels"/> (forward, a weighted-sum loss, <c>Backward()</c>), counting the host copies of
/// tensor memory the kernel device made; outputs and both gradients within 1e-4 of the CPU path, and the seed reached
/// both inputs.
/// </summary>
internal static class LiftDeviceCheck
{
    /// <summary>Runs <paramref name="step"/> on both devices and asserts: zero host copies on the kernel device, agreement, nonzero gradients.</summary>
    public static void MatchesCpuWithoutHostCopies(Func<Tensor, Tensor, Tensor> step, float[] state, float[] control, float[] weights,
        int batch, int stateLength, int controlLength, string controlName)
    {
        (float[] Y, float[] GS, float[] GC, long Copies) Run(Device device)
        {
            var s = Tensor.FromArray(device, state, batch, stateLength); s.RequiresGrad = true;
            var c = Tensor.FromArray(device, control, batch, controlLength); c.RequiresGrad = true;
            var w = Tensor.FromArray(device, weights, batch, weights.Length / batch); // the output's shape
            long before = Storage.HostCopies;
            var y = step(s, c);
            (y * w).Sum().Backward();
            long copies = Storage.HostCopies - before;
            Assert.Same(device, y.Device);
            return (y.ToArray(), s.Grad!.ToArray(), c.Grad!.ToArray(), copies);
        }

        var cpu = Run(Device.Cpu);
        var dev = Run(Device.CpuKernels);
        Assert.Equal(0, dev.Copies);
        Close(cpu.Y, dev.Y, "output");
        Close(cpu.GS, dev.GS, "state gradient");
        Close(cpu.GC, dev.GC, controlName + " gradient");
        Assert.Contains(dev.GS, v => v != 0);
        Assert.Contains(dev.GC, v => v != 0);
    }

    /// <summary>Element by element within 1e-4 of the largest expected magnitude.</summary>
    public static void Close(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1e-6, expected.Max(v => Math.Abs((double)v)));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * scale, $"{what} [{i}]: cpu {expected[i]:R}, device {actual[i]:R}");
    }
}
