namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>Data-parallel loops bounded by the length of the span they write, as users write them.</summary>
public static partial class LengthBoundKernels
{
    /// <summary>f[k] = s a[k]² + f[k] over f's own length: element writes do not change f.Length.</summary>
    [Differentiable, DataParallel]
    public static void Accumulate(ReadOnlySpan<double> a, Span<double> f, double s)
    {
        for (int k = 0; k < f.Length; k++) f[k] = s * a[k] * a[k] + f[k];
    }
}
