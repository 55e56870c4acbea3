// Simulators/NBody.cs rewritten in the style the generator accepted before issue #11: static,
// the bodies as parallel spans (x, y, z, vx, vy, vz, mass), updated in place.
using System;
using CorpusSupport;
using DiffGen;

namespace Flat;

public static partial class NBodyFlat
{
    [Differentiable]
    public static void Advance(Span<double> x, Span<double> y, Span<double> z, Span<double> vx, Span<double> vy, Span<double> vz,
        ReadOnlySpan<double> mass, double softening, double dt)
    {
        int n = x.Length;
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double dx = x[i] - x[j];
                double dy = y[i] - y[j];
                double dz = z[i] - z[j];
                double d2 = dx * dx + dy * dy + dz * dz + softening * softening;
                double mag = dt / (d2 * Math.Sqrt(d2));
                vx[i] -= dx * mass[j] * mag;
                vy[i] -= dy * mass[j] * mag;
                vz[i] -= dz * mass[j] * mag;
                vx[j] += dx * mass[i] * mag;
                vy[j] += dy * mass[i] * mag;
                vz[j] += dz * mass[i] * mag;
            }
        }
        for (int i = 0; i < n; i++)
        {
            x[i] += dt * vx[i];
            y[i] += dt * vy[i];
            z[i] += dt * vz[i];
        }
    }

    [Differentiable]
    public static void AdvanceF(Span<float> x, Span<float> y, Span<float> z, Span<float> vx, Span<float> vy, Span<float> vz,
        ReadOnlySpan<float> mass, float softening, float dt)
    {
        int n = x.Length;
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                float dx = x[i] - x[j];
                float dy = y[i] - y[j];
                float dz = z[i] - z[j];
                float d2 = dx * dx + dy * dy + dz * dz + softening * softening;
                float mag = dt / (d2 * MathF.Sqrt(d2));
                vx[i] -= dx * mass[j] * mag;
                vy[i] -= dy * mass[j] * mag;
                vz[i] -= dz * mass[j] * mag;
                vx[j] += dx * mass[i] * mag;
                vy[j] += dy * mass[i] * mag;
                vz[j] += dz * mass[i] * mag;
            }
        }
        for (int i = 0; i < n; i++)
        {
            x[i] += dt * vx[i];
            y[i] += dt * vy[i];
            z[i] += dt * vz[i];
        }
    }
}

public static class Driver
{
    private const int N = 4;

    // The same point and parameter order as Simulators/NBody.cs: per body x, y, z, vx, vy, vz, mass; softening; dt.
    private static double[] Start()
    {
        var w = new Writer();
        var pos = Data.Uniform(3 * N, 21, -1.5, 1.5);
        var vel = Data.Uniform(3 * N, 22, -0.4, 0.4);
        var mass = Data.Uniform(N, 23, 0.5, 2.0);
        for (int i = 0; i < N; i++)
            w.Add(pos[3 * i]).Add(pos[3 * i + 1]).Add(pos[3 * i + 2]).Add(vel[3 * i]).Add(vel[3 * i + 1]).Add(vel[3 * i + 2]).Add(mass[i]);
        return w.Add(0.1).Add(0.01).ToArray();
    }

    // Unpacks body-major p into seven component arrays.
    private static double[][] Split(double[] p)
    {
        var c = new double[7][];
        for (int k = 0; k < 7; k++) { c[k] = new double[N]; for (int i = 0; i < N; i++) c[k][i] = p[7 * i + k]; }
        return c;
    }

    private static double[] Join(double[][] c, double softening, double dt)
    {
        var w = new Writer();
        for (int i = 0; i < N; i++) for (int k = 0; k < 7; k++) w.Add(c[k][i]);
        return w.Add(softening).Add(dt).ToArray();
    }

    private static double Loss(double[] p)
    {
        var c = Split(p);
        NBodyFlat.Advance(c[0], c[1], c[2], c[3], c[4], c[5], c[6], p[7 * N], p[7 * N + 1]);
        return new Writer().Add(Join(c, 0, 0).AsSpan(0, 7 * N).ToArray()).Loss();
    }

    private static double LossF(double[] p)
    {
        var c = Split(p);
        var f = new float[7][];
        for (int k = 0; k < 7; k++) f[k] = Data.ToFloat(c[k]);
        NBodyFlat.AdvanceF(f[0], f[1], f[2], f[3], f[4], f[5], f[6], (float)p[7 * N], (float)p[7 * N + 1]);
        var w = new Writer();
        for (int i = 0; i < N; i++) for (int k = 0; k < 7; k++) w.Add(f[k][i]);
        return w.Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null, AdF = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient, AdF = GradientF;

    private static double[] Gradient(double[] p)
    {
        var c = Split(p);
        var bar = Split(Reader.Seeds().Ds(7 * N));
        double sBar = 0, dtBar = 0;
        NBodyFlat.AdvancePullback(c[0], c[1], c[2], c[3], c[4], c[5], c[6], p[7 * N], p[7 * N + 1],
            bar[0], bar[1], bar[2], bar[3], bar[4], bar[5], bar[6], ref sBar, ref dtBar);
        return Join(bar, sBar, dtBar);
    }

    private static double[] GradientF(double[] p)
    {
        var c = Split(p);
        var seeds = Split(Reader.Seeds().Ds(7 * N));
        var f = new float[7][];
        var bar = new float[7][];
        for (int k = 0; k < 7; k++) { f[k] = Data.ToFloat(c[k]); bar[k] = Data.ToFloat(seeds[k]); }
        float sBar = 0, dtBar = 0;
        NBodyFlat.AdvanceFPullback(f[0], f[1], f[2], f[3], f[4], f[5], f[6], (float)p[7 * N], (float)p[7 * N + 1],
            bar[0], bar[1], bar[2], bar[3], bar[4], bar[5], bar[6], ref sBar, ref dtBar);
        var back = new double[7][];
        for (int k = 0; k < 7; k++) { back[k] = new double[N]; for (int i = 0; i < N; i++) back[k][i] = bar[k][i]; }
        return Join(back, sBar, dtBar);
    }
#endif

    public static string? Check()
    {
        var p = Start();
        return CorpusSupport.Check.All(
            CorpusSupport.Check.Gradient("NBodyFlat.Advance", Loss, Ad, p),
            CorpusSupport.Check.Gradient("NBodyFlat.AdvanceF vs double FD", Loss, AdF, p, CorpusSupport.Check.FloatTolerance),
            CorpusSupport.Check.Gradient("NBodyFlat.AdvanceF vs float FD", LossF, AdF, p, CorpusSupport.Check.FloatTolerance, CorpusSupport.Check.FloatStep));
    }
}
