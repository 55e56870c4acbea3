using System.Numerics;

namespace DiffGen.Physics;

/// <summary>
/// Reductions over a field's values (sum, sum of squares, largest magnitude) with <see cref="Vector{T}"/>:
/// the DiffGen.Physics package depends on DiffGen alone, so no System.Numerics.Tensors here.
/// </summary>
internal static class SpanSums
{
    /// <summary>The sum; NaN or infinite when an entry is (or when finite entries overflow).</summary>
    public static double Sum(ReadOnlySpan<double> x)
    {
        int i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            for (; i <= x.Length - Vector<double>.Count; i += Vector<double>.Count) acc += new Vector<double>(x[i..]);
            sum = Vector.Sum(acc);
        }
        for (; i < x.Length; i++) sum += x[i];
        return sum;
    }

    /// <summary>The sum of squares.</summary>
    public static double SumOfSquares(ReadOnlySpan<double> x)
    {
        int i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            for (; i <= x.Length - Vector<double>.Count; i += Vector<double>.Count)
            {
                var v = new Vector<double>(x[i..]);
                acc += v * v;
            }
            sum = Vector.Sum(acc);
        }
        for (; i < x.Length; i++) sum += x[i] * x[i];
        return sum;
    }

    /// <summary>The largest absolute value (0 for an empty span; NaN if an entry is NaN).</summary>
    public static double MaxAbs(ReadOnlySpan<double> x)
    {
        double max = 0;
        foreach (double v in x)
        {
            double a = Math.Abs(v);
            if (a > max || double.IsNaN(a)) max = a;
            if (double.IsNaN(max)) return max;
        }
        return max;
    }
}
