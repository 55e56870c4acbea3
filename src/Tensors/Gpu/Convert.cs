using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;

namespace DiffGen.Gpu;

/// <summary>
/// float/double conversion between a tensor's buffer and a solver's double buffer on the same accelerator
/// (the device form of <c>Lift</c>'s float-to-double boundary): one thread per element, no host copy.
/// </summary>
internal static class Convert
{
    private static readonly ConcurrentDictionary<Accelerator, Action<Index1D, ArrayView<float>, ArrayView<double>>> ToDoubleKernels = new();
    private static readonly ConcurrentDictionary<Accelerator, Action<Index1D, ArrayView<double>, ArrayView<float>>> ToFloatKernels = new();

    private static void ToDoubleKernel(Index1D i, ArrayView<float> from, ArrayView<double> to) => to[i] = from[i];

    private static void ToFloatKernel(Index1D i, ArrayView<double> from, ArrayView<float> to) => to[i] = (float)from[i];

    /// <summary>Queues <c>to[i] = from[i]</c> for the first <paramref name="length"/> elements on the accelerator's default stream.</summary>
    public static void ToDouble(Accelerator accelerator, ArrayView<float> from, ArrayView<double> to, int length)
    {
        if (length <= 0) return;
        ToDoubleKernels.GetOrAdd(accelerator, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>>(ToDoubleKernel))(length, from, to);
    }

    /// <summary>Queues <c>to[i] = (float)from[i]</c> for the first <paramref name="length"/> elements on the accelerator's default stream.</summary>
    public static void ToFloat(Accelerator accelerator, ArrayView<double> from, ArrayView<float> to, int length)
    {
        if (length <= 0) return;
        ToFloatKernels.GetOrAdd(accelerator, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>>(ToFloatKernel))(length, from, to);
    }
}
