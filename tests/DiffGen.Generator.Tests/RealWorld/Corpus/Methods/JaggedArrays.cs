// Jagged double[][] (rows of possibly different length): a ragged sum of squares, an in-place
// axpy, an outer product returned as a new jagged array. Float twin of the sum of squares.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Jagged;

public static partial class Rows
{
    [Differentiable]
    public static double SumOfSquares(double[][] rows)
    {
        double s = 0;
        foreach (double[] row in rows)
            for (int j = 0; j < row.Length; j++)
                s += row[j] * row[j];
        return s;
    }

    [Differentiable]
    public static float SumOfSquaresF(float[][] rows)
    {
        float s = 0;
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < rows[i].Length; j++)
                s += rows[i][j] * rows[i][j];
        return s;
    }

    [Differentiable]
    public static void Axpy(double[][] y, double a, double[][] x)
    {
        for (int i = 0; i < y.Length; i++)
            for (int j = 0; j < y[i].Length; j++)
                y[i][j] += a * x[i][j];
    }

    [Differentiable]
    public static double[][] Outer(double[] u, double[] v)
    {
        var result = new double[u.Length][];
        for (int i = 0; i < u.Length; i++)
        {
            result[i] = new double[v.Length];
            for (int j = 0; j < v.Length; j++) result[i][j] = u[i] * v[j];
        }
        return result;
    }
}

public static class Driver
{
    private static readonly double[] P = Data.Uniform(21, 151, -1, 1);

    // A ragged shape: rows of 1, 2 and 3 entries.
    private static double[][] Ragged(Reader r) => [r.Ds(1), r.Ds(2), r.Ds(3)];

    public static string? Check() => C.All(
        C.Gradient("Rows.SumOfSquares", p => Rows.SumOfSquares(Ragged(new Reader(p))), Ad.For("SumOfSquares"), P[..6]),
        C.Gradient("Rows.SumOfSquaresF", p => Rows.SumOfSquares(Ragged(new Reader(p))), Ad.For("SumOfSquaresF"), P[..6], C.FloatTolerance),
        C.Gradient("Rows.Axpy", p => { var r = new Reader(p); var y = r.Jag(2, 3); double a = r.D(); Rows.Axpy(y, a, r.Jag(2, 3)); return new Writer().Add(y).Loss(); }, Ad.For("Axpy"), P[..13]),
        C.Gradient("Rows.Outer", p => { var r = new Reader(p); return new Writer().Add(Rows.Outer(r.Ds(3), r.Ds(2))).Loss(); }, Ad.For("Outer"), P[..5]),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["SumOfSquares"] = p =>
        {
            var rows = Ragged(new Reader(p)); double[][] bar = [new double[1], new double[2], new double[3]];
            Rows.SumOfSquaresPullback(rows, 1.0, bar);
            return new Writer().Add(bar).ToArray();
        },
        ["SumOfSquaresF"] = p =>
        {
            var r = new Reader(p); float[][] rows = [r.Fs(1), r.Fs(2), r.Fs(3)]; float[][] bar = [new float[1], new float[2], new float[3]];
            Rows.SumOfSquaresFPullback(rows, 1f, bar);
            var w = new Writer(); foreach (var row in bar) w.Add(row);
            return w.ToArray();
        },
        ["Axpy"] = p =>
        {
            var r = new Reader(p); var y = r.Jag(2, 3); double a = r.D(); var x = r.Jag(2, 3);
            var yBar = Reader.Seeds().Jag(2, 3); double aBar = 0; double[][] xBar = [new double[3], new double[3]];
            Rows.AxpyPullback(y, a, x, yBar, ref aBar, xBar);
            return new Writer().Add(yBar).Add(aBar).Add(xBar).ToArray();
        },
        ["Outer"] = p =>
        {
            var r = new Reader(p); var u = r.Ds(3); var v = r.Ds(2);
            var uBar = new double[3]; var vBar = new double[2];
            var m = Rows.OuterPullback(u, v, Reader.Seeds().Jag(3, 2), uBar, vBar);
            if (m.Length != 3) throw new InvalidOperationException("OuterPullback must return the product");
            return new Writer().Add(uBar).Add(vBar).ToArray();
        },
    };
#endif
}
