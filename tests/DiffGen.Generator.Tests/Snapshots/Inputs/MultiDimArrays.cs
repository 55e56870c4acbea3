using System;
using DiffGen;

namespace Snap;

public static partial class Plate
{
    // A five-point Laplacian on double[,]: the adjoint of each array is an array of the same shape.
    [Differentiable]
    public static void Laplacian(double[,] u, double[,] lap, double h)
    {
        int nx = u.GetLength(0), ny = u.GetLength(1);
        double inv = 1.0 / (h * h);
        for (int i = 1; i < nx - 1; i++)
            for (int j = 1; j < ny - 1; j++)
                lap[i, j] = (u[i + 1, j] + u[i - 1, j] + u[i, j + 1] + u[i, j - 1] - 4 * u[i, j]) * inv;
    }

    // Ragged rows, foreach over them, and a jagged local whose rows are allocated in a loop.
    [Differentiable]
    public static double RowEnergy(double[][] rows, double scale)
    {
        var squares = new double[rows.Length][];
        for (int i = 0; i < rows.Length; i++)
        {
            squares[i] = new double[rows[i].Length];
            for (int j = 0; j < rows[i].Length; j++) squares[i][j] = rows[i][j] * rows[i][j];
        }
        double e = 0;
        foreach (double[] row in squares)
            for (int j = 0; j < row.Length; j++)
                e += scale * Math.Sqrt(1 + row[j]);
        return e;
    }
}
