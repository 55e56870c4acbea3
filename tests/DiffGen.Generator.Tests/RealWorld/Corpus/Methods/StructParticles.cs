// Arrays and spans of a user struct with double fields: drift, energy, centre of mass, an elastic
// collision returning a struct, foreach over the array. A float twin of the kinetic energy.
using System;
using System.Diagnostics;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Particles;

public struct Particle
{
    public double X, Y;
    public double Vx, Vy;
    public double Mass;
}

public struct ParticleF
{
    public float X, Y, Vx, Vy, Mass;
}

public static partial class ParticleOps
{
    [Differentiable]
    public static void Drift(Particle[] particles, double dt)
    {
        for (int i = 0; i < particles.Length; i++)
        {
            particles[i].X += particles[i].Vx * dt;
            particles[i].Y += particles[i].Vy * dt;
        }
    }

    [Differentiable]
    public static double KineticEnergy(ReadOnlySpan<Particle> particles)
    {
        double e = 0;
        foreach (var p in particles)
            e += 0.5 * p.Mass * (p.Vx * p.Vx + p.Vy * p.Vy);
        return e;
    }

    [Differentiable]
    public static float KineticEnergyF(ParticleF[] particles)
    {
        float e = 0;
        foreach (var p in particles)
            e += 0.5f * p.Mass * (p.Vx * p.Vx + p.Vy * p.Vy);
        return e;
    }

    [Differentiable]
    public static double CenterOfMassX(Particle[] particles)
    {
        double m = 0, mx = 0;
        foreach (Particle p in particles)
        {
            m += p.Mass;
            mx += p.Mass * p.X;
        }
        Debug.Assert(m > 0);
        return mx / m;
    }

    // One-dimensional elastic collision along x: returns the first particle after the impact.
    [Differentiable]
    public static Particle Collide(Particle a, Particle b)
    {
        double total = a.Mass + b.Mass;
        var result = a;
        result.Vx = ((a.Mass - b.Mass) * a.Vx + 2 * b.Mass * b.Vx) / total;
        return result;
    }
}

public static class Driver
{
    private const int N = 4;
    private static readonly double[] P = Data.Concat(Data.Uniform(5 * N, 111, 0.3, 2.0), [0.05]);

    private static Particle[] Read(Reader r, int n)
    {
        var ps = new Particle[n];
        for (int i = 0; i < n; i++) ps[i] = new Particle { X = r.D(), Y = r.D(), Vx = r.D(), Vy = r.D(), Mass = r.D() };
        return ps;
    }

    private static Writer Write(Writer w, Particle[] ps)
    {
        foreach (var p in ps) w.Add(p.X).Add(p.Y).Add(p.Vx).Add(p.Vy).Add(p.Mass);
        return w;
    }

    private static Particle One(Reader r) => Read(r, 1)[0];

    public static string? Check() => C.All(
        C.Gradient("ParticleOps.Drift", p => { var r = new Reader(p); var ps = Read(r, N); ParticleOps.Drift(ps, r.D()); return Write(new Writer(), ps).Loss(); }, Ad.For("Drift"), P),
        C.Gradient("ParticleOps.KineticEnergy", p => ParticleOps.KineticEnergy(Read(new Reader(p), N)), Ad.For("KineticEnergy"), P[..(5 * N)]),
        C.Gradient("ParticleOps.KineticEnergyF", p => ParticleOps.KineticEnergy(Read(new Reader(p), N)), Ad.For("KineticEnergyF"), P[..(5 * N)], C.FloatTolerance),
        C.Gradient("ParticleOps.CenterOfMassX", p => ParticleOps.CenterOfMassX(Read(new Reader(p), N)), Ad.For("CenterOfMassX"), P[..(5 * N)]),
        C.Gradient("ParticleOps.Collide", p => { var r = new Reader(p); return Write(new Writer(), [ParticleOps.Collide(One(r), One(r))]).Loss(); }, Ad.For("Collide"), P[..10]),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["Drift"] = p =>
        {
            var r = new Reader(p); var ps = Read(r, N); double dt = r.D();
            var bar = Read(Reader.Seeds(), N); double dtBar = 0;
            ParticleOps.DriftPullback(ps, dt, bar, ref dtBar);
            return Write(new Writer(), bar).Add(dtBar).ToArray();
        },
        ["KineticEnergy"] = p =>
        {
            var ps = Read(new Reader(p), N); var bar = new Particle[N];
            ParticleOps.KineticEnergyPullback(ps, 1.0, bar);
            return Write(new Writer(), bar).ToArray();
        },
        ["KineticEnergyF"] = p =>
        {
            var r = new Reader(p); var ps = new ParticleF[N];
            for (int i = 0; i < N; i++) ps[i] = new ParticleF { X = r.F(), Y = r.F(), Vx = r.F(), Vy = r.F(), Mass = r.F() };
            var bar = new ParticleF[N];
            ParticleOps.KineticEnergyFPullback(ps, 1f, bar);
            var w = new Writer();
            foreach (var b in bar) w.Add(b.X).Add(b.Y).Add(b.Vx).Add(b.Vy).Add(b.Mass);
            return w.ToArray();
        },
        ["CenterOfMassX"] = p =>
        {
            var ps = Read(new Reader(p), N); var bar = new Particle[N];
            ParticleOps.CenterOfMassXPullback(ps, 1.0, bar);
            return Write(new Writer(), bar).ToArray();
        },
        ["Collide"] = p =>
        {
            var r = new Reader(p); var a = One(r); var b = One(r);
            var resultBar = One(Reader.Seeds());
            var aBar = new Particle(); var bBar = new Particle();
            var after = ParticleOps.CollidePullback(a, b, resultBar, ref aBar, ref bBar);
            if (after.Vx != ParticleOps.Collide(a, b).Vx) throw new InvalidOperationException("CollidePullback returned a different particle");
            return Write(new Writer(), [aBar, bBar]).ToArray();
        },
    };
#endif
}
