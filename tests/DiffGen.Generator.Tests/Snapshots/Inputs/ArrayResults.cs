using System;
using DiffGen;

namespace Snap;

public static partial class Series
{
    // A returned local array written by a loop that reads its own earlier elements.
    [Differentiable]
    public static double[] Running(double[] x, double c)
    {
        var r = new double[x.Length];
        r[0] = x[0];
        for (int i = 1; i < x.Length; i++) r[i] = r[i - 1] * c + x[i] * x[i];
        return r;
    }

    // A returned input array, updated in place.
    [Differentiable]
    public static double[] Damp(double[] x, double k)
    {
        for (int i = 0; i < x.Length; i++) x[i] *= Math.Exp(-k * i);
        return x;
    }

    // A caller of a method returning an array.
    [Differentiable]
    public static double Energy(double[] x, double c)
    {
        var r = Running(x, c);
        double e = 0;
        for (int i = 0; i < r.Length; i++) e += r[i] * r[i];
        return e;
    }
}
