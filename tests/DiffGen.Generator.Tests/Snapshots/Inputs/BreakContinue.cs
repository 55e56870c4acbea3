using System;
using DiffGen;

namespace Snap;

public static partial class Control
{
    [Differentiable]
    public static double Series(double x, int n)
    {
        double s = 0;
        double term = 1;
        for (int k = 1; k <= n; k++)
        {
            term *= x / k;
            if (k % 2 == 0) continue;
            if (Math.Abs(term) < 1e-12) break;
            s += term;
        }
        return s;
    }
}
