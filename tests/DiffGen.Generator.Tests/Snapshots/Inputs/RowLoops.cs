using System;
using DiffGen;

namespace Snap;

public static partial class Rows
{
    /// <summary>A descending loop: counter used as a value, indices through locals, reads behind a data-dependent test.</summary>
    [Differentiable]
    public static void Sweep(double[] u, double[] next, double a)
    {
        int n = u.Length;
        for (int i = n - 3; i >= 2; i--)
        {
            int m = i - 1;
            int p = m + 2;
            double s = u[m] * a + u[p] * (i * 0.01) - u[i];
            next[i] = u[i] > 0 ? s * u[i + 2] : s - u[i - 2] * a;
        }
    }
}
