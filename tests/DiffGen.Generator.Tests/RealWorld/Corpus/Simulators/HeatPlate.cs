// Explicit heat diffusion on a plate (double[,] with GetLength), fixed-temperature edges, and the
// usual double buffer swapped after each step.
using System;
using System.Diagnostics;
using CorpusSupport;
using DiffGen;

namespace Thermal;

public partial class HeatPlate
{
    private double[,] _temperature;
    private double[,] _scratch;

    public double Diffusivity { get; set; }
    public double[,] Temperature => _temperature;

    public HeatPlate(int nx, int ny, double diffusivity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nx, 3);
        ArgumentOutOfRangeException.ThrowIfLessThan(ny, 3);
        _temperature = new double[nx, ny];
        _scratch = new double[nx, ny];
        Diffusivity = diffusivity;
    }

    [Differentiable]
    public void Step(double dt, double dx)
    {
        int nx = _temperature.GetLength(0);
        int ny = _temperature.GetLength(1);
        double r = Diffusivity * dt / (dx * dx);
        Debug.Assert(r <= 0.25, "explicit scheme unstable");

        for (int i = 0; i < nx; i++)
        {
            for (int j = 0; j < ny; j++)
            {
                if (i == 0 || j == 0 || i == nx - 1 || j == ny - 1)
                {
                    _scratch[i, j] = _temperature[i, j];
                    continue;
                }
                double laplacian = _temperature[i + 1, j] + _temperature[i - 1, j] + _temperature[i, j + 1] + _temperature[i, j - 1]
                    - 4.0 * _temperature[i, j];
                _scratch[i, j] = _temperature[i, j] + r * laplacian;
            }
        }
        (_temperature, _scratch) = (_scratch, _temperature);
    }
}

public static class Driver
{
    private const int Nx = 5, Ny = 4;

    private static HeatPlate Make(double[] p, out double dt, out double dx)
    {
        var r = new Reader(p);
        var plate = new HeatPlate(Nx, Ny, 1.0);
        var t = r.D2(Nx, Ny);
        for (int i = 0; i < Nx; i++) for (int j = 0; j < Ny; j++) plate.Temperature[i, j] = t[i, j];
        plate.Diffusivity = r.D();
        dt = r.D();
        dx = r.D();
        return plate;
    }

    private static readonly double[] P0 = Data.Concat(Data.Uniform(Nx * Ny, 41, 10, 90), [0.8, 0.02, 0.5]);

    private static double Loss(double[] p)
    {
        var plate = Make(p, out double dt, out double dx);
        plate.Step(dt, dx);
        plate.Step(dt, dx);
        return new Writer().Add(plate.Temperature).Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;

    // Two steps: the second step's pullback runs on the plate as it was after the first step (a
    // copy kept before it ran); its thisBar, now the adjoint of that intermediate state, seeds the first.
    private static double[] Gradient(double[] p)
    {
        var plate = Make(p, out double dt, out double dx);
        var afterFirst = Make(p, out _, out _);
        afterFirst.Step(dt, dx);
        var bar = plate.CreateShadow();
        var seeds = Reader.Seeds();
        for (int i = 0; i < Nx; i++) for (int j = 0; j < Ny; j++) bar.Temperature[i, j] = seeds.D();
        double dtBar = 0, dxBar = 0;
        afterFirst.StepPullback(dt, dx, bar, ref dtBar, ref dxBar);
        plate.StepPullback(dt, dx, bar, ref dtBar, ref dxBar);
        return new Writer().Add(bar.Temperature).Add(bar.Diffusivity).Add(dtBar).Add(dxBar).ToArray();
    }
#endif

    public static string? Check() => CorpusSupport.Check.Gradient("HeatPlate.Step (two steps)", Loss, Ad, P0);
}
