// The density and pressure pass of an SPH fluid (Muller et al. 2003 poly6 kernel) over an array of
// particle structs with Vector2 positions; the solver object holds the smoothing radius and mass.
using System;
using System.Numerics;
using CorpusSupport;
using DiffGen;

namespace Sph;

public struct Particle
{
    public Vector2 Position;
    public Vector2 Velocity;
    public float Density;
    public float Pressure;
}

public partial class SphSolver
{
    private static readonly float Poly6Factor = 4f / MathF.PI;

    private readonly float _h;
    private readonly float _mass;
    public float RestDensity = 1000f;
    public float Stiffness = 2000f;

    public SphSolver(float smoothingRadius, float particleMass)
    {
        if (smoothingRadius <= 0) throw new ArgumentOutOfRangeException(nameof(smoothingRadius));
        _h = smoothingRadius;
        _mass = particleMass;
    }

    public float SmoothingRadius => _h;
    public float ParticleMass => _mass;

    [Differentiable]
    public void ComputeDensityPressure(Particle[] particles)
    {
        float h2 = _h * _h;
        float poly6 = Poly6Factor / MathF.Pow(_h, 8);
        for (int i = 0; i < particles.Length; i++)
        {
            float density = 0f;
            for (int j = 0; j < particles.Length; j++)
            {
                float r2 = Vector2.DistanceSquared(particles[i].Position, particles[j].Position);
                if (r2 < h2)
                    density += _mass * poly6 * MathF.Pow(h2 - r2, 3f);
            }
            particles[i].Density = density;
            particles[i].Pressure = Stiffness * (density - RestDensity);
        }
    }
}

public static class Driver
{
    private const int N = 5;

    // Positions on a small cluster whose pair distances stay clear of the kernel radius.
    private static readonly double[] P0 = Data.Concat(
        [0.00, 0.00, 0.62, 0.10, -0.24, 0.54, 0.36, -0.58, 3.20, 3.10], // positions (the last one is isolated)
        [1.0, 1.0, 0.3, 5.0]);                                          // h, mass, rest density, stiffness

    private static Particle[] Particles(Reader r)
    {
        var ps = new Particle[N];
        for (int i = 0; i < N; i++) ps[i].Position = r.V2();
        return ps;
    }

    private static SphSolver Solver(Reader r)
    {
        var solver = new SphSolver(r.F(), r.F());
        solver.RestDensity = r.F();
        solver.Stiffness = r.F();
        return solver;
    }

    private static double Loss(double[] p)
    {
        var r = new Reader(p);
        var ps = Particles(r);
        Solver(r).ComputeDensityPressure(ps);
        var w = new Writer();
        foreach (var q in ps) w.Add(q.Density).Add(q.Pressure);
        return w.Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;

    private static double[] Gradient(double[] p)
    {
        var r = new Reader(p);
        var ps = Particles(r);
        var solver = Solver(r);
        var psBar = new Particle[N];
        var seeds = Reader.Seeds();
        for (int i = 0; i < N; i++) { psBar[i].Density = seeds.F(); psBar[i].Pressure = seeds.F(); }
        var bar = solver.CreateShadow();
        solver.ComputeDensityPressurePullback(ps, bar, psBar);
        var g = new Writer();
        foreach (var q in psBar) g.Add(q.Position);
        return g.Add(bar.SmoothingRadius).Add(bar.ParticleMass).Add(bar.RestDensity).Add(bar.Stiffness).ToArray();
    }
#endif

    public static string? Check() =>
        CorpusSupport.Check.Gradient("SphSolver.ComputeDensityPressure", Loss, Ad, P0, CorpusSupport.Check.FloatTolerance, CorpusSupport.Check.FloatStep);
}
