using ILGPU;
using ILGPU.Runtime;

namespace DiffGen.Tensors;

/// <summary>
/// The memory behind one or more tensors (a reshape or detach shares it): an ILGPU buffer of floats.
/// Native memory is invisible to the GC, so the storage reports it as memory pressure; otherwise a
/// training loop that allocates temporaries could run out of memory before a collection happens.
/// </summary>
internal sealed class Storage
{
    private MemoryBuffer1D<float, Stride1D.Dense>? _buffer;
    private readonly long _bytes;

    public Storage(Device device, int length)
    {
        Device = device;
        Length = length;
        _buffer = device.Accelerator.Allocate1D<float>(Math.Max(length, 1));
        _bytes = (long)Math.Max(length, 1) * sizeof(float);
        GC.AddMemoryPressure(_bytes);
    }

    ~Storage()
    {
        // The buffer has its own finalizer; releasing our reference and the pressure is enough here.
        GC.RemoveMemoryPressure(_bytes);
    }

    public Device Device { get; }

    public int Length { get; }

    public MemoryBuffer1D<float, Stride1D.Dense> Buffer => _buffer ?? throw new ObjectDisposedException(nameof(Tensor));

    public ArrayView1D<float, Stride1D.Dense> View => Buffer.View;

    public unsafe Span<float> HostSpan
    {
        get
        {
            if (Device.RunsKernels)
                throw new InvalidOperationException($"Tensor data lives on device '{Device.Name}', which is not host memory. Call ToArray() to copy it to the host, or To(Device.Cpu) first.");
            return new Span<float>((void*)Buffer.NativePtr, Length);
        }
    }
}
