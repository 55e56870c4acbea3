using ILGPU;
using ILGPU.Runtime;

namespace DiffGen.Tensors;

/// <summary>
/// A solver step on an accelerator: state and control views (one batch item each) in, the output view written
/// (the shape of a generated <c>{Name}Device.Run</c> behind a lambda that supplies the step's scalar parameters).
/// Kernels are queued on the accelerator's default stream.
/// </summary>
public delegate void DeviceStep2(Accelerator accelerator, ArrayView<double> state, ArrayView<double> control, ArrayView<double> output);

/// <summary>
/// The pullback of a <see cref="DeviceStep2"/> on the accelerator (the shape of a generated <c>{Name}Device.Pullback</c>):
/// re-runs the step, consumes the seed in <c>outputBar</c> and adds to <c>stateBar</c> and <c>controlBar</c>.
/// </summary>
public delegate void DeviceStep2Pullback(Accelerator accelerator, ArrayView<double> state, ArrayView<double> control, ArrayView<double> output,
    ArrayView<double> stateBar, ArrayView<double> controlBar, ArrayView<double> outputBar);

public static partial class Lift
{
    /// <summary>
    /// <see cref="Op(SpanStep2, SpanStep2Pullback, int[], string)"/> with a device form: on a kernel device
    /// (<see cref="Device.RunsKernels"/>: CUDA, or <see cref="Device.CpuKernels"/>) the op runs
    /// <paramref name="deviceForward"/> and <paramref name="devicePullback"/> on the tensors' own buffers and
    /// never copies tensor memory to or from the host: the float-to-double boundary is a conversion kernel
    /// into double buffers allocated on the same accelerator, one batch item after another. On
    /// <see cref="Device.Cpu"/> it is exactly <see cref="Op(SpanStep2, SpanStep2Pullback, int[], string)"/>
    /// with <paramref name="forward"/> and <paramref name="pullback"/>.
    /// </summary>
    /// <remarks>
    /// Each forward and each backward waits for the accelerator before it returns (its double buffers are freed
    /// then). The gradient on the device equals the CPU path's up to the order of floating-point additions
    /// (atomic scatters in the device pullback add in any order).
    /// </remarks>
    public static Func<Tensor, Tensor, Tensor> DeviceOp(SpanStep2 forward, SpanStep2Pullback pullback, DeviceStep2 deviceForward, DeviceStep2Pullback devicePullback,
        int[]? outputItemShape = null, string name = "LiftedStep")
    {
        ArgumentNullException.ThrowIfNull(deviceForward);
        ArgumentNullException.ThrowIfNull(devicePullback);
        var host = Op(forward, pullback, outputItemShape, name);
        return (s, c) =>
        {
            ArgumentNullException.ThrowIfNull(s);
            ArgumentNullException.ThrowIfNull(c);
            if (!s.Device.RunsKernels) return host(s, c);
            var (batch, nS, nC, nOut, outShape) = Shapes(s, c, outputItemShape, name);
            var acc = s.Device.Accelerator;
            var y = Tensor.Empty(s.Device, outShape);
            using (var sd = Doubles(acc, s, batch * nS))
            using (var cd = Doubles(acc, c, batch * nC))
            using (var od = acc.Allocate1D<double>(Math.Max(batch * nOut, 1)))
            {
                for (int b = 0; b < batch; b++)
                    deviceForward(acc, Item(sd, b, nS), Item(cd, b, nC), Item(od, b, nOut));
                Gpu.Convert.ToFloat(acc, od.View, y.Storage.View, batch * nOut);
                acc.Synchronize();
            }
            return AutogradTape.Record(y, name, [s, c], g =>
            {
                Tensor? gs = s.RequiresGrad ? Tensor.Empty(s.Device, s.ShapeRef) : null;
                Tensor? gc = c.RequiresGrad ? Tensor.Empty(s.Device, c.ShapeRef) : null;
                using var sd = Doubles(acc, s, batch * nS);
                using var cd = Doubles(acc, c, batch * nC);
                using var od = acc.Allocate1D<double>(Math.Max(batch * nOut, 1));
                using var gd = Doubles(acc, g, batch * nOut);
                using var sBar = acc.Allocate1D<double>(Math.Max(batch * nS, 1));
                using var cBar = acc.Allocate1D<double>(Math.Max(batch * nC, 1));
                sBar.MemSetToZero();
                cBar.MemSetToZero();
                for (int b = 0; b < batch; b++)
                    devicePullback(acc, Item(sd, b, nS), Item(cd, b, nC), Item(od, b, nOut), Item(sBar, b, nS), Item(cBar, b, nC), Item(gd, b, nOut));
                if (gs is not null) Gpu.Convert.ToFloat(acc, sBar.View, gs.Storage.View, batch * nS);
                if (gc is not null) Gpu.Convert.ToFloat(acc, cBar.View, gc.Storage.View, batch * nC);
                acc.Synchronize();
                return [gs, gc];
            });
        };
    }

    /// <summary>A double copy of the tensor's elements in a new buffer on its accelerator (a conversion kernel).</summary>
    private static MemoryBuffer1D<double, Stride1D.Dense> Doubles(Accelerator acc, Tensor x, int length)
    {
        var buffer = acc.Allocate1D<double>(Math.Max(length, 1));
        Gpu.Convert.ToDouble(acc, x.Storage.View, buffer.View, length);
        return buffer;
    }

    private static ArrayView<double> Item(MemoryBuffer1D<double, Stride1D.Dense> buffer, int item, int length) =>
        buffer.View.SubView((long)item * length, length);
}
