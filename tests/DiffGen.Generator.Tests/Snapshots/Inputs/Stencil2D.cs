using System;
using DiffGen;

namespace Snap;

public static partial class Stencil
{
    [Differentiable]
    public static void Jacobi(ReadOnlySpan<double> u, Span<double> next, int nx, int ny, double alpha)
    {
        for (int j = 1; j < ny - 1; j++)
        {
            for (int i = 1; i < nx - 1; i++)
            {
                int k = j * nx + i;
                next[k] = u[k] + alpha * (u[k - 1] + u[k + 1] + u[k - nx] + u[k + nx] - 4 * u[k]);
            }
        }
    }
}
