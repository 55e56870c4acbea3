using System;
using DiffGen;

namespace Snap;

public static partial class Heat
{
    [Differentiable]
    public static void Step(ReadOnlySpan<double> u, Span<double> next, double nu)
    {
        int n = u.Length;
        for (int i = 0; i < n; i++)
            next[i] = u[i] + nu * (u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n]);
    }
}
