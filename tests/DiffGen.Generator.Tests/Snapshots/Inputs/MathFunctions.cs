using System;
using DiffGen;

namespace Snap;

public static partial class Functions
{
    [Differentiable]
    public static double Mix(double x, double y)
    {
        double a = Math.Min(x, y) + Math.Max(x * y, 0.5);
        double b = Math.Clamp(x, -1.0, 1.0) * Math.Pow(y, 3) + Math.Pow(2.0, x);
        double c = Math.Atan2(y, x) + Math.Sqrt(x * x + 1) + Math.Abs(y);
        return a * b + c + Math.Floor(x) * Math.Cos(y);
    }
}
