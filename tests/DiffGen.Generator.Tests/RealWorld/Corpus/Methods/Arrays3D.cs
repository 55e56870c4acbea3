// Three-dimensional arrays (double[,,], float[,,]) with GetLength: a volume integral, a divergence
// on a staggered-free grid, a box smoothing into an output. Float twin of the integral.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Volumes;

public static partial class Volume
{
    [Differentiable]
    public static double Integral(double[,,] f, double cellVolume)
    {
        double s = 0;
        for (int i = 0; i < f.GetLength(0); i++)
            for (int j = 0; j < f.GetLength(1); j++)
                for (int k = 0; k < f.GetLength(2); k++)
                    s += f[i, j, k];
        return s * cellVolume;
    }

    [Differentiable]
    public static float IntegralF(float[,,] f, float cellVolume)
    {
        float s = 0;
        for (int i = 0; i < f.GetLength(0); i++)
            for (int j = 0; j < f.GetLength(1); j++)
                for (int k = 0; k < f.GetLength(2); k++)
                    s += f[i, j, k];
        return s * cellVolume;
    }

    [Differentiable]
    public static double DivergenceNorm(double[,,] u, double[,,] v, double[,,] w, double h)
    {
        double total = 0;
        for (int i = 1; i < u.GetLength(0) - 1; i++)
            for (int j = 1; j < u.GetLength(1) - 1; j++)
                for (int k = 1; k < u.GetLength(2) - 1; k++)
                {
                    double div = (u[i + 1, j, k] - u[i - 1, j, k] + v[i, j + 1, k] - v[i, j - 1, k] + w[i, j, k + 1] - w[i, j, k - 1]) / (2 * h);
                    total += div * div;
                }
        return total;
    }

    [Differentiable]
    public static void Smooth(double[,,] input, double[,,] output, double weight)
    {
        int nx = input.GetLength(0), ny = input.GetLength(1), nz = input.GetLength(2);
        for (int i = 0; i < nx; i++)
            for (int j = 0; j < ny; j++)
                for (int k = 0; k < nz; k++)
                {
                    double s = input[i, j, k];
                    int count = 1;
                    if (i > 0) { s += weight * input[i - 1, j, k]; count++; }
                    if (i < nx - 1) { s += weight * input[i + 1, j, k]; count++; }
                    if (k > 0) { s += weight * input[i, j, k - 1]; count++; }
                    output[i, j, k] = s / count;
                }
    }
}

public static class Driver
{
    private static readonly double[] P = Data.Uniform(3 * 27 + 1, 141, -1, 1);

    public static string? Check() => C.All(
        C.Gradient("Volume.Integral", p => { var r = new Reader(p); return Volume.Integral(r.D3(2, 3, 2), r.D() + 2); }, Ad.For("Integral"), P[..13]),
        C.Gradient("Volume.IntegralF", p => { var r = new Reader(p); return Volume.Integral(r.D3(2, 3, 2), r.D() + 2); }, Ad.For("IntegralF"), P[..13], C.FloatTolerance),
        C.Gradient("Volume.DivergenceNorm", p => { var r = new Reader(p); return Volume.DivergenceNorm(r.D3(3, 3, 3), r.D3(3, 3, 3), r.D3(3, 3, 3), r.D() + 2); }, Ad.For("DivergenceNorm"), P),
        C.Gradient("Volume.Smooth", p => { var r = new Reader(p); var o = new double[3, 2, 2]; Volume.Smooth(r.D3(3, 2, 2), o, r.D()); return new Writer().Add(o).Loss(); }, Ad.For("Smooth"), P[..13]),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["Integral"] = p =>
        {
            var r = new Reader(p); var f = r.D3(2, 3, 2); double dv = r.D() + 2;
            var fBar = new double[2, 3, 2]; double dvBar = 0;
            Volume.IntegralPullback(f, dv, 1.0, fBar, ref dvBar);
            return new Writer().Add(fBar).Add(dvBar).ToArray();
        },
        ["IntegralF"] = p =>
        {
            var r = new Reader(p); var f = r.F3(2, 3, 2); float dv = (float)(r.D() + 2);
            var fBar = new float[2, 3, 2]; float dvBar = 0;
            Volume.IntegralFPullback(f, dv, 1f, fBar, ref dvBar);
            return new Writer().Add(fBar).Add(dvBar).ToArray();
        },
        ["DivergenceNorm"] = p =>
        {
            var r = new Reader(p); var u = r.D3(3, 3, 3); var v = r.D3(3, 3, 3); var w = r.D3(3, 3, 3); double h = r.D() + 2;
            var uBar = new double[3, 3, 3]; var vBar = new double[3, 3, 3]; var wBar = new double[3, 3, 3]; double hBar = 0;
            Volume.DivergenceNormPullback(u, v, w, h, 1.0, uBar, vBar, wBar, ref hBar);
            return new Writer().Add(uBar).Add(vBar).Add(wBar).Add(hBar).ToArray();
        },
        ["Smooth"] = p =>
        {
            var r = new Reader(p); var a = r.D3(3, 2, 2); double wgt = r.D();
            var aBar = new double[3, 2, 2]; var oBar = Reader.Seeds().D3(3, 2, 2); double wBar = 0;
            Volume.SmoothPullback(a, new double[3, 2, 2], wgt, aBar, oBar, ref wBar);
            return new Writer().Add(aBar).Add(wBar).ToArray();
        },
    };
#endif
}
