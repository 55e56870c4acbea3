using System.ComponentModel;
using System.Numerics;

namespace DiffGen.CompilerServices;

/// <summary>Small helpers that generated derivative code calls; not meant to be called by hand.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DerivativeHelpers
{
    /// <summary>The dot product of two equally long spans.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => DotOf(a, b);

    /// <summary>The dot product of two equally long spans.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => DotOf(a, b);

    // Vector<T> rather than TensorPrimitives: the DiffGen package has no dependencies (System.Numerics.Tensors
    // comes with DiffGen.Tensors only).
    private static T DotOf<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, INumber<T>
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"b has {b.Length} elements but a has {a.Length}; a dot product needs spans of equal length.", nameof(b));
        int i = 0;
        T sum = T.Zero;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<T>.Count)
        {
            var acc = Vector<T>.Zero;
            for (; i <= a.Length - Vector<T>.Count; i += Vector<T>.Count)
                acc += new Vector<T>(a[i..]) * new Vector<T>(b[i..]);
            sum = Vector.Sum(acc);
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
