// D2Q9 lattice-Boltzmann BGK collision on float[,,] distributions, with the lattice constants as
// static readonly tables and `const byte Q = 9`, as in the many small LBM ports to C#.
using System;
using CorpusSupport;
using DiffGen;

namespace Lbm;

public partial class D2Q9Lattice
{
    public const byte Q = 9;
    private static readonly int[] Ex = { 0, 1, 0, -1, 0, 1, -1, -1, 1 };
    private static readonly int[] Ey = { 0, 0, 1, 0, -1, 1, 1, -1, -1 };
    private static readonly float[] Weights = { 4f / 9f, 1f / 9f, 1f / 9f, 1f / 9f, 1f / 9f, 1f / 36f, 1f / 36f, 1f / 36f, 1f / 36f };

    public int Width { get; }
    public int Height { get; }
    public float[,,] F { get; }
    public float Omega { get; set; }

    public D2Q9Lattice(int width, int height, float tau)
    {
        if (tau <= 0.5f) throw new ArgumentOutOfRangeException(nameof(tau), "tau must exceed 1/2 for stability.");
        Width = width;
        Height = height;
        Omega = 1f / tau;
        F = new float[width, height, Q];
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
                for (int i = 0; i < Q; i++)
                    F[x, y, i] = Weights[i];
    }

    [Differentiable]
    public void Collide()
    {
        for (int x = 0; x < F.GetLength(0); x++)
        {
            for (int y = 0; y < F.GetLength(1); y++)
            {
                float rho = 0f, ux = 0f, uy = 0f;
                for (int i = 0; i < Q; i++)
                {
                    float fi = F[x, y, i];
                    rho += fi;
                    ux += fi * Ex[i];
                    uy += fi * Ey[i];
                }
                ux /= rho;
                uy /= rho;
                float usq = 1.5f * (ux * ux + uy * uy);
                for (int i = 0; i < Q; i++)
                {
                    float cu = 3f * (Ex[i] * ux + Ey[i] * uy);
                    float feq = Weights[i] * rho * (1f + cu + 0.5f * cu * cu - usq);
                    F[x, y, i] += Omega * (feq - F[x, y, i]);
                }
            }
        }
    }
}

public static class Driver
{
    private const int Nx = 3, Ny = 2;

    private static D2Q9Lattice Make(double[] p)
    {
        var lattice = new D2Q9Lattice(Nx, Ny, 0.8f);
        var r = new Reader(p);
        var f = r.F3(Nx, Ny, D2Q9Lattice.Q);
        for (int x = 0; x < Nx; x++) for (int y = 0; y < Ny; y++) for (int i = 0; i < D2Q9Lattice.Q; i++) lattice.F[x, y, i] = f[x, y, i];
        lattice.Omega = r.F();
        return lattice;
    }

    private static double[] Start()
    {
        var lattice = new D2Q9Lattice(Nx, Ny, 0.8f);
        var noise = Data.Uniform(lattice.F.Length, 31, -0.02, 0.02);
        var w = new Writer();
        int k = 0;
        foreach (var f in lattice.F) w.Add(f + noise[k++]);
        return w.Add(lattice.Omega).ToArray();
    }

    private static double Loss(double[] p)
    {
        var lattice = Make(p);
        lattice.Collide();
        return new Writer().Add(lattice.F).Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;

    private static double[] Gradient(double[] p)
    {
        var lattice = Make(p);
        var bar = lattice.CreateShadow();
        var seeds = Reader.Seeds();
        for (int x = 0; x < Nx; x++) for (int y = 0; y < Ny; y++) for (int i = 0; i < D2Q9Lattice.Q; i++) bar.F[x, y, i] = seeds.F();
        lattice.CollidePullback(bar);
        return new Writer().Add(bar.F).Add(bar.Omega).ToArray();
    }
#endif

    public static string? Check() =>
        CorpusSupport.Check.Gradient("D2Q9Lattice.Collide", Loss, Ad, Start(), CorpusSupport.Check.FloatTolerance, CorpusSupport.Check.FloatStep);
}
