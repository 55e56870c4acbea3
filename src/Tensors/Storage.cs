using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;

namespace DiffGen.Tensors;

/// <summary>
/// The memory behind one or more tensors (a reshape or detach shares it): an ILGPU buffer of floats.
/// Buffers are recycled through <see cref="BufferPool"/> when the storage is finalized. Native memory is
/// invisible to the GC, so the storage counts live bytes itself and triggers a young-generation
/// collection when they pass an adaptive budget; a training loop's temporaries are then recycled
/// instead of piling up between collections. (GC.AddMemoryPressure would do this with full, slow collections.)
/// </summary>
internal sealed class Storage
{
    // 128 MB: a conv net's training step keeps tens of MB alive on its tape; at 64 MB every step
    // forced a gen-1 and often a full collection (tenths of a millisecond, serial).
    private const long MinBudget = 128L << 20;
    private static long s_liveBytes;
    private static long s_budget = MinBudget;
    private static readonly Lock CollectLock = new();

    private readonly MemoryBuffer1D<float, Stride1D.Dense> _buffer;
    private readonly long _bytes;

    public Storage(Device device, int length)
    {
        Device = device;
        Length = length;
        _buffer = BufferPool.Rent(device, Math.Max(length, 1));
        _bytes = _buffer.LengthInBytes;
        if (Interlocked.Add(ref s_liveBytes, _bytes) > Volatile.Read(ref s_budget)) Collect();
    }

    ~Storage()
    {
        Interlocked.Add(ref s_liveBytes, -_bytes);
        BufferPool.Return(Device, _buffer);
    }

    private int _released;

    /// <summary>
    /// Returns the buffer to the pool immediately. Only for an op's internal temporaries that no
    /// tensor outlives, and only on the host (kernels may still be queued to read the buffer).
    /// Reusing warm memory at once avoids page faults on fresh allocations.
    /// </summary>
    public void ReleaseTemporary()
    {
        if (Device.RunsKernels || Interlocked.Exchange(ref _released, 1) != 0) return;
        GC.SuppressFinalize(this);
        Interlocked.Add(ref s_liveBytes, -_bytes);
        BufferPool.Return(Device, _buffer);
    }

    private static void Collect()
    {
        lock (CollectLock)
        {
            if (Volatile.Read(ref s_liveBytes) <= s_budget) return;
            GC.Collect(1, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            if (Volatile.Read(ref s_liveBytes) > s_budget / 2)
            {
                // Long-lived tensors that died in gen 2 (e.g. a finished tape) need a full collection.
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            s_budget = Math.Max(MinBudget, 2 * Volatile.Read(ref s_liveBytes));
        }
    }

    public Device Device { get; }

    public int Length { get; }

    private int _version;

    /// <summary>
    /// Counts writes that bypass the ops (through <see cref="Tensor.Data"/>, <see cref="Tensor.CopyFrom"/>):
    /// shared by every tensor on this storage (a reshape, a detached copy), as PyTorch's version counter.
    /// </summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>Records a possible write.</summary>
    public void BumpVersion() => Interlocked.Increment(ref _version);

    public MemoryBuffer1D<float, Stride1D.Dense> Buffer => _buffer;

    /// <summary>The tensor's elements (the pooled buffer may be longer).</summary>
    public ArrayView1D<float, Stride1D.Dense> View => _buffer.View.SubView(0, Math.Max(Length, 1));

    private static long s_hostCopies;

    /// <summary>
    /// Diagnostic: copies of tensor memory between the host and a kernel device (<see cref="Device.RunsKernels"/>)
    /// since the process started, counted by <see cref="CopyToHost"/> and <see cref="CopyFromHost"/> (every such
    /// copy the tensor runtime makes goes through them). Memory of <see cref="Device.Cpu"/> is host memory and never counts.
    /// </summary>
    internal static long HostCopies => Interlocked.Read(ref s_hostCopies);

    /// <summary>Copies the first <paramref name="destination"/>.Length elements to host memory (one counted copy on a kernel device).</summary>
    public void CopyToHost(float[] destination)
    {
        if (Device.IsHost)
        {
            HostSpan[..destination.Length].CopyTo(destination);
            GC.KeepAlive(this); // the span points into memory the finalizer recycles
            return;
        }
        Interlocked.Increment(ref s_hostCopies);
        View.SubView(0, destination.Length).CopyToCPU(destination);
    }

    /// <summary>Overwrites the first <paramref name="source"/>.Length elements from host memory (one counted copy on a kernel device).</summary>
    public void CopyFromHost(float[] source)
    {
        if (Device.IsHost)
        {
            source.CopyTo(HostSpan);
            GC.KeepAlive(this);
            return;
        }
        Interlocked.Increment(ref s_hostCopies);
        View.SubView(0, source.Length).CopyFromCPU(source);
    }

    public unsafe Span<float> HostSpan
    {
        get
        {
            if (Device.RunsKernels)
                throw new InvalidOperationException($"Tensor data lives on device '{Device.Name}', which is not host memory. Call ToArray() to copy it to the host, or To(Device.Cpu) first.");
            return new Span<float>((void*)_buffer.NativePtr, Length);
        }
    }
}

/// <summary>Per-device pools of float buffers keyed by exact length (training loops repeat the same shapes).</summary>
internal static class BufferPool
{
    private const long MaxPooledBytes = 1L << 30;
    private static readonly ConcurrentDictionary<(Device, long), ConcurrentBag<MemoryBuffer1D<float, Stride1D.Dense>>> Pools = new();
    private static long s_pooledBytes;

    public static MemoryBuffer1D<float, Stride1D.Dense> Rent(Device device, int length)
    {
        if (Pools.TryGetValue((device, length), out var bag) && bag.TryTake(out var buffer))
        {
            Interlocked.Add(ref s_pooledBytes, -buffer.LengthInBytes);
            return buffer;
        }
        var fresh = device.Accelerator.Allocate1D<float>(length);
        // The pool owns the buffer's lifetime: its own finalizer would free the memory while the pool
        // still hands it out (storage and buffer die in the same collection). The typed buffer wraps a raw
        // buffer with a finalizer of its own.
        GC.SuppressFinalize(fresh);
        GC.SuppressFinalize(((IArrayView)fresh.View.BaseView).Buffer);
        return fresh;
    }

    public static void Return(Device device, MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        if (Interlocked.Add(ref s_pooledBytes, buffer.LengthInBytes) > MaxPooledBytes)
        {
            Interlocked.Add(ref s_pooledBytes, -buffer.LengthInBytes);
            buffer.Dispose();
            return;
        }
        Pools.GetOrAdd((device, buffer.Length), _ => []).Add(buffer);
    }
}
