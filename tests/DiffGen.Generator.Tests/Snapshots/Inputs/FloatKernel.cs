using System;
using DiffGen;

namespace Snap;

public static partial class Single
{
    [Differentiable]
    public static float Norm(ReadOnlySpan<float> v, float scale)
    {
        float s = 0f;
        for (int i = 0; i < v.Length; i++)
            s += v[i] * v[i];
        return scale * MathF.Sqrt(s);
    }
}
