using System;
using DiffGen;

namespace Snap;

public static partial class Arrays
{
    [Differentiable]
    public static double Accumulate(double[] a, double x)
    {
        double p = 1;
        for (int i = 0; i < a.Length; i++)
        {
            a[i] *= x;
            a[i] -= 0.5;
            p *= 1 + a[i];
        }
        p /= a.Length;
        return p;
    }
}
