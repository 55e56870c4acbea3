using System;
using System.Threading.Tasks;
using DiffGen;

namespace Snap;

public static partial class ParallelHeat
{
    // A user's Parallel.For over arrays: the pullback runs the reverse in parallel, in gather form
    // (the periodic neighbours are peeled off as boundary iterations).
    [Differentiable]
    public static void Step(double[] u, double[] next, double nu)
    {
        int n = u.Length;
        Parallel.For(0, n, i =>
        {
            double lap = u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n];
            next[i] = u[i] + nu * lap;
        });
    }

    // A computed-index read (semi-Lagrangian): per-chunk adjoint buffers.
    [Differentiable]
    public static void Advect(double[] q, double[] vel, double[] result, double c)
    {
        int n = q.Length;
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            double x = i - c * vel[i];
            double fl = Math.Floor(x);
            int j = ((int)fl % n + n) % n;
            double t = x - fl;
            result[i] = (1 - t) * q[j] + t * q[(j + 1) % n];
        });
    }
}
