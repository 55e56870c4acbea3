using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace DiffGen.Tensors;

/// <summary>
/// Where a tensor's memory lives and how its ops run. Every tensor's storage is an ILGPU buffer on
/// the device's <see cref="Accelerator"/>. On <see cref="Cpu"/> (the default) ops run as native C#
/// over spans of that buffer's host memory; on any other device they run as ILGPU kernels.
/// </summary>
public sealed class Device
{
    private static readonly Lazy<Context> SharedContext = new(() => Context.Create(b => b.CPU().Cuda()), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<Device> CpuDevice = new(() => new Device(SharedContext.Value.CreateCPUAccelerator(0), runsKernels: false, "cpu"));
    private static readonly Lazy<Device> EmulatorDevice = new(() => new Device(SharedContext.Value.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel), runsKernels: true, "cpu-kernels"));
    private static readonly Lock CudaLock = new();
    private static readonly Dictionary<int, Device> CudaDevices = [];

    private Device(Accelerator accelerator, bool runsKernels, string name)
    {
        Accelerator = accelerator;
        RunsKernels = runsKernels;
        Name = name;
    }

    /// <summary>The shared CPU device: native span code, zero-copy host access. The default for new tensors.</summary>
    public static Device Cpu => CpuDevice.Value;

    /// <summary>
    /// ILGPU's CPU accelerator running the GPU kernels (an emulator, roughly 1000x slower than <see cref="Cpu"/>).
    /// Use it only to check kernels on small inputs without a GPU.
    /// </summary>
    public static Device CpuKernels => EmulatorDevice.Value;

    /// <summary>Whether a CUDA device is present.</summary>
    public static bool CudaAvailable => SharedContext.Value.GetCudaDevices().Count > 0;

    /// <summary>The CUDA device with the given index (shared, created on first use).</summary>
    /// <param name="index">Index among the CUDA devices ILGPU found.</param>
    /// <exception cref="NotSupportedException">No CUDA device with that index exists.</exception>
    public static Device Cuda(int index = 0)
    {
        var devices = SharedContext.Value.GetCudaDevices();
        if (index < 0 || index >= devices.Count)
            throw new NotSupportedException($"No CUDA device #{index}: ILGPU found {devices.Count} CUDA device(s). Use Device.Best() to fall back to the CPU.");
        lock (CudaLock)
        {
            if (!CudaDevices.TryGetValue(index, out var d))
            {
                d = new Device(SharedContext.Value.CreateCudaAccelerator(index), runsKernels: true, $"cuda:{index}");
                CudaDevices[index] = d;
            }
            return d;
        }
    }

    /// <summary>The first CUDA device if there is one, otherwise <see cref="Cpu"/>.</summary>
    public static Device Best() => CudaAvailable ? Cuda(0) : Cpu;

    /// <summary>The ILGPU accelerator that owns this device's buffers.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>True when ops run as ILGPU kernels; false on <see cref="Cpu"/>, where they run as span code.</summary>
    public bool RunsKernels { get; }

    /// <summary>Whether tensor memory can be read and written directly as a host span.</summary>
    public bool IsHost => !RunsKernels;

    /// <summary>A short name ("cpu", "cpu-kernels", "cuda:0").</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
