using System;
using DiffGen;

namespace Snap;

public static partial class Select
{
    [Differentiable]
    public static double Activation(double x, int kind)
    {
        switch (kind)
        {
            case 0:
                return Math.Tanh(x);
            case 1:
            case 2:
                return x > 0 ? x : 0.01 * x;
            default:
                return Math.Log(1 + Math.Exp(x));
        }
    }
}
