using System;
using DiffGen;

namespace Snap;

public static partial class Iterate
{
    [Differentiable]
    public static double Newton(double a, int iterations)
    {
        double x = a;
        int k = 0;
        while (k < iterations)
        {
            x = 0.5 * (x + a / x);
            k++;
        }
        return x;
    }
}
