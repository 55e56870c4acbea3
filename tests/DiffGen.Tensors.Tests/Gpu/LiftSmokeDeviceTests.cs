using DiffGen.Physics;
using DiffGen.Tensors;

namespace DiffGen.Tensors.Tests.Gpu;

/// <summary>
/// The 2D smoke step (<see cref="Smoke2D"/>: its generated device composite with the device pressure solve) lifted with
/// <see cref="Lift.DeviceOp"/> on <see cref="Device.CpuKernels"/>: forward and backward on the tensors' buffers with no
/// host copy of tensor memory, output and both gradients within 1e-4 of the CPU path (<c>Lift.Op</c> over the CPU
/// packed step and pullback). A tiny closed box (every CG iteration is several emulated kernel launches).
/// </summary>
[Collection("HostCopies")]
public class LiftSmokeDeviceTests
{
    [Fact]
    public void Smoke2D_DeviceOp_MakesNoHostCopies_AndMatchesCpu()
    {
        const int batch = 2, nx = 8, ny = 6;
        var model = new Smoke2D(new StaggeredGrid2D(nx, ny, nx, ny, Boundary2D.Closed), dt: 1, buoyancy: 1, tolerance: 1e-9);
        int p = model.PackedLength, c = nx * ny;
        var step = Lift.DeviceOp(model.StepPacked, model.StepPackedBackward, model.StepPackedDevice, model.StepPackedDeviceBackward, name: "Smoke2D");
        var r = new Random(3);
        // Smoke in [0, 1], velocity in [-0.4, 0.4]; the inflow a disc, different per batch row.
        var s0 = new float[batch * p];
        for (int b = 0; b < batch; b++)
            for (int k = 0; k < p; k++)
                s0[b * p + k] = (float)(k < c ? r.NextDouble() : 0.8 * (r.NextDouble() - 0.5));
        var c0 = new float[batch * c];
        for (int b = 0; b < batch; b++)
        {
            var disc = model.DiscInflow(3 + b, 2, 1.6, 0.3);
            for (int k = 0; k < c; k++) c0[b * c + k] = (float)disc[k];
        }
        var weights = Enumerable.Range(0, batch * p).Select(i => MathF.Cos(0.7f * i)).ToArray();

        LiftDeviceCheck.MatchesCpuWithoutHostCopies(step, s0, c0, weights, batch, p, c, "inflow");
    }
}
