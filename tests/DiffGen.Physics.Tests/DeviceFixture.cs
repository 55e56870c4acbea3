using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace DiffGen.Physics.Tests;

/// <summary>
/// ILGPU's CPU accelerator (an emulator of the GPU kernels, hundreds of times slower than native code: small grids
/// only), shared by the device tests of one class, with helpers that move test data to and from its memory.
/// </summary>
public sealed class DeviceFixture : IDisposable
{
    public DeviceFixture()
    {
        Context = Context.Create(b => b.CPU());
        Accelerator = Context.CreateCPUAccelerator(0);
    }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    private readonly List<IDisposable> _buffers = [];

    /// <summary>A buffer on the accelerator holding <paramref name="values"/> (freed with the fixture).</summary>
    public ArrayView<T> Upload<T>(T[] values) where T : unmanaged
    {
        var b = Accelerator.Allocate1D<T>(Math.Max(values.Length, 0));
        _buffers.Add(b);
        if (values.Length > 0) b.View.CopyFromCPU(values);
        return b.View;
    }

    /// <summary>An empty view (an empty span's counterpart, e.g. no solid cells).</summary>
    public ArrayView<T> Empty<T>() where T : unmanaged => Upload(Array.Empty<T>());

    /// <summary>The view's values (waits for the queued kernels).</summary>
    public T[] Download<T>(ArrayView<T> view) where T : unmanaged
    {
        Accelerator.Synchronize();
        return view.Length == 0 ? [] : view.GetAsArray();
    }

    public void Dispose()
    {
        foreach (var b in _buffers) b.Dispose();
        Accelerator.Dispose();
        Context.Dispose();
    }
}
