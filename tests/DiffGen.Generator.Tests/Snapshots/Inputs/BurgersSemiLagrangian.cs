using System;
using DiffGen;

namespace Snap;

public static partial class Burgers
{
    [Differentiable]
    public static void Advect(ReadOnlySpan<double> u, Span<double> next, double dt, double dx)
    {
        int n = u.Length;
        for (int i = 0; i < n; i++)
        {
            double x = i - dt * u[i] / dx;
            int j = (int)Math.Floor(x);
            double f = x - j;
            int j0 = ((j % n) + n) % n;
            int j1 = (j0 + 1) % n;
            next[i] = (1 - f) * u[j0] + f * u[j1];
        }
    }
}
