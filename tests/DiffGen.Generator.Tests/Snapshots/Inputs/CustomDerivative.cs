using System;
using DiffGen;

namespace Snap;

public static class Solver
{
    public static double Cube(double x) => x * x * x;

    [DerivativeOf(typeof(Solver), nameof(Cube))]
    public static double CubePullback(double x, double resultBar, ref double xBar)
    {
        xBar += 3 * x * x * resultBar;
        return x * x * x;
    }
}

public static partial class User
{
    [Differentiable]
    public static double F(double x) => Math.Sin(Solver.Cube(x));
}
