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

        LiftDeviceCheck.MatchesCpuWithoutHostCopies(step, s0, c0, weights, batch, p, p, "force");
    }
}
