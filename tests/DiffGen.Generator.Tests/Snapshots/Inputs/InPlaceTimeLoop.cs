using System;
using DiffGen;

namespace Snap;

public static partial class GaussSeidel
{
    [Differentiable]
    public static void Sweeps(Span<double> u, double omega, int sweeps)
    {
        for (int s = 0; s < sweeps; s++)
            for (int i = 1; i < u.Length - 1; i++)
                u[i] = (1 - omega) * u[i] + omega * 0.5 * (u[i - 1] + u[i + 1]) * u[i];
    }
}
