using DiffGen.Physics;
using DiffGen.Tensors;

namespace DiffGen.Tensors.Tests.Gpu;

/// <summary>
/// The 2D Burgers step (<see cref="Burgers2D"/>, its generated device composite) lifted with <see cref="Lift.DeviceOp"/>
/// on <see cref="Device.CpuKernels"/>: forward and backward on the tensors' buffers with no host copy of tensor memory,
/// output and gradients within 1e-4 of the CPU path (<c>Lift.Op</c> over the CPU step and pullback).
/// </summary>
[Collection("HostCopies")]
public class LiftBurgersDeviceTests
{
    private static float[] Data(int seed, int n, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(scale * (r.NextDouble() * 2 - 1))).ToArray();
    }

    [Theory]
    [InlineData(8, 6, true, 1)]
    [InlineData(8, 6, false, 3)]
    public void Burgers2D_DeviceOp_MakesNoHostCopies_AndMatchesCpu(int nx, int ny, bool periodic, int substeps)
    {
        const int batch = 2;
        var model = new Burgers2D(new Grid2D(nx, ny, nx, ny, periodic ? Boundary2D.Periodic : Boundary2D.Closed), viscosity: 0.06, dt: 0.35, substeps: substeps);
        int p = model.PackedLength;
        var step = Lift.DeviceOp(model.StepPacked, model.StepPackedBackward, model.StepPackedDevice, model.StepPackedDeviceBackward, name: "Burgers2D");
        var s0 = Data(1, batch * p, 1.5);
        var c0 = Data(2, batch * p);
        var weights = Enumerable.Range(0, batch * p).Select(i => MathF.Cos(0.7f * i)).ToArray();

        (float[] Y, float[] GS, float[] GC, long Copies) Run(Device device)
        {
            var s = Tensor.FromArray(device, s0, batch, p); s.RequiresGrad = true;
            var c = Tensor.FromArray(device, c0, batch, p); c.RequiresGrad = true;
            var w = Tensor.FromArray(device, weights, batch, p);
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
        Close(cpu.GC, dev.GC, "force gradient");
        Assert.Contains(dev.GS, v => v != 0);
        Assert.Contains(dev.GC, v => v != 0);
    }

    private static void Close(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1e-6, expected.Max(v => Math.Abs((double)v)));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * scale, $"{what} [{i}]: cpu {expected[i]:R}, device {actual[i]:R}");
    }
}
