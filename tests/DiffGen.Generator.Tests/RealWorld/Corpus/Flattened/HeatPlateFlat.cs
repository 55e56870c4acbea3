// Simulators/HeatPlate.cs rewritten in the style the generator accepted before issue #11: static,
// a flat row-major span instead of double[,], the output in a second span, no swap. Its gradients
// come from today's generator and cross-check the drivers' finite differences and tolerances.
using System;
using CorpusSupport;
using DiffGen;

namespace Flat;

public static partial class HeatFlat
{
    [Differentiable]
    public static void Step(ReadOnlySpan<double> t, Span<double> next, int nx, int ny, double diffusivity, double dt, double dx)
    {
        double r = diffusivity * dt / (dx * dx);
        for (int i = 0; i < nx; i++)
        {
            for (int j = 0; j < ny; j++)
            {
                int k = i * ny + j;
                if (i == 0 || j == 0 || i == nx - 1 || j == ny - 1)
                {
                    next[k] = t[k];
                }
                else
                {
                    next[k] = t[k] + r * (t[k + ny] + t[k - ny] + t[k + 1] + t[k - 1] - 4.0 * t[k]);
                }
            }
        }
    }

    [Differentiable]
    public static void StepF(ReadOnlySpan<float> t, Span<float> next, int nx, int ny, float diffusivity, float dt, float dx)
    {
        float r = diffusivity * dt / (dx * dx);
        for (int i = 0; i < nx; i++)
        {
            for (int j = 0; j < ny; j++)
            {
                int k = i * ny + j;
                if (i == 0 || j == 0 || i == nx - 1 || j == ny - 1)
                {
                    next[k] = t[k];
                }
                else
                {
                    next[k] = t[k] + r * (t[k + ny] + t[k - ny] + t[k + 1] + t[k - 1] - 4f * t[k]);
                }
            }
        }
    }
}

public static class Driver
{
    private const int Nx = 5, Ny = 4, N = Nx * Ny;
    // The same point as Simulators/HeatPlate.cs: temperatures, diffusivity, dt, dx.
    private static readonly double[] P0 = Data.Concat(Data.Uniform(N, 41, 10, 90), [0.8, 0.02, 0.5]);

    private static double Loss(double[] p)
    {
        var mid = new double[N];
        var end = new double[N];
        HeatFlat.Step(p.AsSpan(0, N), mid, Nx, Ny, p[N], p[N + 1], p[N + 2]);
        HeatFlat.Step(mid, end, Nx, Ny, p[N], p[N + 1], p[N + 2]);
        return new Writer().Add(end).Loss();
    }

    private static double LossF(double[] pd)
    {
        var p = Data.ToFloat(pd);
        var mid = new float[N];
        var end = new float[N];
        HeatFlat.StepF(p.AsSpan(0, N), mid, Nx, Ny, p[N], p[N + 1], p[N + 2]);
        HeatFlat.StepF(mid, end, Nx, Ny, p[N], p[N + 1], p[N + 2]);
        return new Writer().Add(end).Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null, AdF = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient, AdF = GradientF;

    private static double[] Gradient(double[] p)
    {
        var mid = new double[N];
        HeatFlat.Step(p.AsSpan(0, N), mid, Nx, Ny, p[N], p[N + 1], p[N + 2]);
        var endBar = Reader.Seeds().Ds(N);
        var midBar = new double[N];
        var tBar = new double[N];
        double kBar = 0, dtBar = 0, dxBar = 0;
        HeatFlat.StepPullback(mid, new double[N], Nx, Ny, p[N], p[N + 1], p[N + 2], midBar, endBar, ref kBar, ref dtBar, ref dxBar);
        HeatFlat.StepPullback(p.AsSpan(0, N), new double[N], Nx, Ny, p[N], p[N + 1], p[N + 2], tBar, midBar, ref kBar, ref dtBar, ref dxBar);
        return new Writer().Add(tBar).Add(kBar).Add(dtBar).Add(dxBar).ToArray();
    }

    private static double[] GradientF(double[] pd)
    {
        var p = Data.ToFloat(pd);
        var mid = new float[N];
        HeatFlat.StepF(p.AsSpan(0, N), mid, Nx, Ny, p[N], p[N + 1], p[N + 2]);
        var endBar = Reader.Seeds().Fs(N);
        var midBar = new float[N];
        var tBar = new float[N];
        float kBar = 0, dtBar = 0, dxBar = 0;
        HeatFlat.StepFPullback(mid, new float[N], Nx, Ny, p[N], p[N + 1], p[N + 2], midBar, endBar, ref kBar, ref dtBar, ref dxBar);
        HeatFlat.StepFPullback(p.AsSpan(0, N), new float[N], Nx, Ny, p[N], p[N + 1], p[N + 2], tBar, midBar, ref kBar, ref dtBar, ref dxBar);
        return new Writer().Add(tBar).Add(kBar).Add(dtBar).Add(dxBar).ToArray();
    }
#endif

    public static string? Check() => CorpusSupport.Check.All(
        CorpusSupport.Check.Gradient("HeatFlat.Step", Loss, Ad, P0),
        // The float twin against the double loss's finite differences (the same maths at the same point).
        CorpusSupport.Check.Gradient("HeatFlat.StepF vs double FD", Loss, AdF, P0, CorpusSupport.Check.FloatTolerance),
        // ... and against its own float finite differences, as the Vector2/3 simulators are checked.
        CorpusSupport.Check.Gradient("HeatFlat.StepF vs float FD", LossF, AdF, P0, CorpusSupport.Check.FloatTolerance, CorpusSupport.Check.FloatStep));
}
