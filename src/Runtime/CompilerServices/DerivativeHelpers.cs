using System.ComponentModel;
using System.Numerics.Tensors;

namespace DiffGen.CompilerServices;

/// <summary>Small helpers that generated derivative code calls; not meant to be called by hand.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DerivativeHelpers
{
    /// <summary>The dot product of two equally long spans.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => TensorPrimitives.Dot(a, b);

    /// <summary>The dot product of two equally long spans.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);
}
