// A mass-spring cloth: a grid of particles on Vector3 arrays, structural and shear springs as
// structs, the top corners pinned, semi-implicit Euler. Written as a game developer would; the
// only DiffGen changes are `using DiffGen;`, `partial` and [Differentiable].
using System;
using System.Collections.Generic;
using System.Numerics;
using CorpusSupport;
using DiffGen;

namespace ClothSim;

public struct Spring
{
    public int A;
    public int B;
    public float RestLength;
    public float Stiffness;

    public Spring(int a, int b, float restLength, float stiffness)
    {
        A = a;
        B = b;
        RestLength = restLength;
        Stiffness = stiffness;
    }
}

public partial class Cloth
{
    public Vector3[] Positions { get; }
    public Vector3[] Velocities { get; }
    public Spring[] Springs { get; }
    public bool[] Pinned { get; }
    public Vector3 Gravity = new(0f, -9.81f, 0f);
    public float Damping = 0.02f;
    public float ParticleMass = 1f;

    public Cloth(int width, int height, float spacing, float stiffness)
    {
        if (width < 2 || height < 2) throw new ArgumentException("A cloth needs at least 2x2 particles.");
        Positions = new Vector3[width * height];
        Velocities = new Vector3[width * height];
        Pinned = new bool[width * height];
        var springs = new List<Spring>();
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = y * width + x;
                Positions[i] = new Vector3(x * spacing, 0f, y * spacing);
                if (x + 1 < width) springs.Add(new Spring(i, i + 1, spacing, stiffness));
                if (y + 1 < height) springs.Add(new Spring(i, i + width, spacing, stiffness));
                if (x + 1 < width && y + 1 < height) springs.Add(new Spring(i, i + width + 1, spacing * MathF.Sqrt(2f), stiffness));
            }
        }
        Springs = springs.ToArray();
        Pinned[0] = true;
        Pinned[width - 1] = true;
    }

    [Differentiable]
    public void Step(float dt)
    {
        if (dt <= 0) throw new ArgumentOutOfRangeException(nameof(dt), dt, "The time step must be positive.");

        var forces = new Vector3[Positions.Length];
        for (int i = 0; i < forces.Length; i++)
            forces[i] = Gravity * ParticleMass;

        foreach (var spring in Springs)
        {
            Vector3 delta = Positions[spring.B] - Positions[spring.A];
            float length = delta.Length();
            Vector3 direction = delta / length;
            Vector3 force = spring.Stiffness * (length - spring.RestLength) * direction;
            forces[spring.A] += force;
            forces[spring.B] -= force;
        }

        for (int i = 0; i < Positions.Length; i++)
        {
            if (Pinned[i]) continue;
            Velocities[i] = Velocities[i] * (1f - Damping) + forces[i] / ParticleMass * dt;
            Positions[i] += Velocities[i] * dt;
        }
    }
}

public static class Driver
{
    private const int W = 3, H = 3;

    private static Cloth Make(double[] p, out float dt)
    {
        var c = new Cloth(W, H, 0.5f, 40f);
        var r = new Reader(p);
        for (int i = 0; i < c.Positions.Length; i++) c.Positions[i] = r.V3();
        for (int i = 0; i < c.Velocities.Length; i++) c.Velocities[i] = r.V3();
        for (int k = 0; k < c.Springs.Length; k++) { c.Springs[k].RestLength = r.F(); c.Springs[k].Stiffness = r.F(); }
        c.Gravity = r.V3();
        c.Damping = r.F();
        c.ParticleMass = r.F();
        dt = r.F();
        return c;
    }

    private static double[] Start()
    {
        var c = new Cloth(W, H, 0.5f, 40f);
        var w = new Writer();
        var noise = Data.Uniform(3 * c.Positions.Length, 11, -0.08, 0.08);
        for (int i = 0; i < c.Positions.Length; i++)
            w.Add(c.Positions[i] + new Vector3((float)noise[3 * i], (float)noise[3 * i + 1], (float)noise[3 * i + 2]));
        w.Add(Data.Uniform(3 * c.Velocities.Length, 12, -0.5, 0.5));
        foreach (var s in c.Springs) w.Add(s.RestLength).Add(s.Stiffness);
        w.Add(c.Gravity).Add(c.Damping).Add(c.ParticleMass).Add(0.05f);
        return w.ToArray();
    }

    private static double Loss(double[] p)
    {
        var c = Make(p, out float dt);
        c.Step(dt);
        return new Writer().Add(c.Positions).Add(c.Velocities).Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;

    private static double[] Gradient(double[] p)
    {
        var c = Make(p, out float dt);
        var bar = c.CreateShadow();
        var seeds = Reader.Seeds();
        for (int i = 0; i < bar.Positions.Length; i++) bar.Positions[i] = seeds.V3();
        for (int i = 0; i < bar.Velocities.Length; i++) bar.Velocities[i] = seeds.V3();
        float dtBar = 0;
        c.StepPullback(dt, bar, ref dtBar);
        var g = new Writer().Add(bar.Positions).Add(bar.Velocities);
        foreach (var s in bar.Springs) g.Add(s.RestLength).Add(s.Stiffness);
        return g.Add(bar.Gravity).Add(bar.Damping).Add(bar.ParticleMass).Add(dtBar).ToArray();
    }
#endif

    public static string? Check() =>
        CorpusSupport.Check.Gradient("Cloth.Step", Loss, Ad, Start(), CorpusSupport.Check.FloatTolerance, CorpusSupport.Check.FloatStep);
}
