using System;
using DiffGen;

namespace Snap;

public static partial class Model
{
    [Differentiable]
    public static double Square(double x) => x * x;

    [Differentiable]
    public static void Scale(ReadOnlySpan<double> u, Span<double> v, double a)
    {
        for (int i = 0; i < u.Length; i++)
            v[i] = a * u[i];
    }

    [Differentiable]
    public static double Loss(ReadOnlySpan<double> u, Span<double> work, double a)
    {
        Scale(u, work, a);
        double s = 0;
        for (int i = 0; i < work.Length; i++)
            s += Square(work[i] - 1);
        return s;
    }
}
