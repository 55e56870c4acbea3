using System;
using DiffGen;

namespace Snap;

public static partial class Masked
{
    [Differentiable]
    public static void Apply(ReadOnlySpan<double> u, [NoDiff] ReadOnlySpan<double> mask, Span<double> output, bool flip, int offset)
    {
        for (int i = 0; i < u.Length; i++)
        {
            double m = flip ? 1 - mask[i] : mask[i];
            output[i] = m * u[(i + offset) % u.Length];
        }
    }
}
