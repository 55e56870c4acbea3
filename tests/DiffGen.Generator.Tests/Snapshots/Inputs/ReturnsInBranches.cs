using System;
using DiffGen;

namespace Snap;

public static partial class Scalar
{
    [Differentiable]
    public static double Piecewise(double x, double y)
    {
        double a = x * y;
        a = a * a + Math.Sin(x);
        if (a > 1)
            return a / y;
        else if (a < -1)
            return -a;
        return Math.Exp(a) * y;
    }
}
