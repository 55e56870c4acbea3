using System;
using DiffGen;

namespace Snap;

public static partial class Smooth
{
    [Differentiable]
    public static double TwoPasses(ReadOnlySpan<double> u, double w)
    {
        int n = u.Length;
        var tmp = new double[n];
        for (int i = 1; i < n - 1; i++)
            tmp[i] = w * u[i - 1] + (1 - 2 * w) * u[i] + w * u[i + 1];
        double e = 0;
        for (int i = 1; i < n - 1; i++)
            e += tmp[i] * tmp[i];
        return e;
    }
}
