// The classic n-body step on Body objects (a softened gravity, symplectic Euler), as in the
// benchmark programs people port to C#. Body is the user's plain class: it is not touched.
using System;
using System.Collections.Generic;
using System.Linq;
using CorpusSupport;
using DiffGen;

namespace Gravity;

public class Body
{
    public double X, Y, Z;
    public double Vx, Vy, Vz;
    public double Mass;

    public Body(double x, double y, double z, double vx, double vy, double vz, double mass)
    {
        X = x; Y = y; Z = z;
        Vx = vx; Vy = vy; Vz = vz;
        Mass = mass;
    }
}

public partial class NBodySystem
{
    public Body[] Bodies { get; }
    public double Softening { get; }

    public NBodySystem(IEnumerable<Body> bodies, double softening)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        Bodies = bodies.ToArray();
        if (softening < 0) throw new ArgumentOutOfRangeException(nameof(softening));
        Softening = softening;
    }

    [Differentiable]
    public void Advance(double dt)
    {
        int n = Bodies.Length;
        for (int i = 0; i < n; i++)
        {
            Body bi = Bodies[i];
            for (int j = i + 1; j < n; j++)
            {
                Body bj = Bodies[j];
                double dx = bi.X - bj.X;
                double dy = bi.Y - bj.Y;
                double dz = bi.Z - bj.Z;
                double d2 = dx * dx + dy * dy + dz * dz + Softening * Softening;
                double mag = dt / (d2 * Math.Sqrt(d2));
                bi.Vx -= dx * bj.Mass * mag;
                bi.Vy -= dy * bj.Mass * mag;
                bi.Vz -= dz * bj.Mass * mag;
                bj.Vx += dx * bi.Mass * mag;
                bj.Vy += dy * bi.Mass * mag;
                bj.Vz += dz * bi.Mass * mag;
            }
        }
        foreach (var body in Bodies)
        {
            body.X += dt * body.Vx;
            body.Y += dt * body.Vy;
            body.Z += dt * body.Vz;
        }
    }

    [Differentiable]
    public double Energy()
    {
        double e = 0.0;
        for (int i = 0; i < Bodies.Length; i++)
        {
            var b = Bodies[i];
            e += 0.5 * b.Mass * (b.Vx * b.Vx + b.Vy * b.Vy + b.Vz * b.Vz);
            for (int j = i + 1; j < Bodies.Length; j++)
            {
                var o = Bodies[j];
                double dx = b.X - o.X, dy = b.Y - o.Y, dz = b.Z - o.Z;
                e -= b.Mass * o.Mass / Math.Sqrt(dx * dx + dy * dy + dz * dz + Softening * Softening);
            }
        }
        return e;
    }
}

public static class Driver
{
    private const int N = 4;

    private static NBodySystem Make(double[] p, out double dt)
    {
        var r = new Reader(p);
        var bodies = new Body[N];
        for (int i = 0; i < N; i++) bodies[i] = new Body(r.D(), r.D(), r.D(), r.D(), r.D(), r.D(), r.D());
        var s = new NBodySystem(bodies, r.D());
        dt = r.D();
        return s;
    }

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

    private static Writer State(NBodySystem s)
    {
        var w = new Writer();
        foreach (var b in s.Bodies) w.Add(b.X).Add(b.Y).Add(b.Z).Add(b.Vx).Add(b.Vy).Add(b.Vz).Add(b.Mass);
        return w;
    }

    private static double AdvanceLoss(double[] p)
    {
        var s = Make(p, out double dt);
        s.Advance(dt);
        return State(s).Loss();
    }

    private static double EnergyLoss(double[] p) => Make(p, out _).Energy();

    private static double[] EnergyValues(double[] p) => [Make(p, out _).Energy()];

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? AdvanceAd = null, EnergyAd = null;
    private static readonly Func<double[], double[], double[]>? EnergyTangent = null;
#else
    private static readonly Func<double[], double[]>? AdvanceAd = AdvanceGradient, EnergyAd = EnergyGradient;
    private static readonly Func<double[], double[], double[]>? EnergyTangent = EnergyPushforward;

    private static void SetState(NBodySystem shadow, Reader r)
    {
        foreach (var b in shadow.Bodies) { b.X = r.D(); b.Y = r.D(); b.Z = r.D(); b.Vx = r.D(); b.Vy = r.D(); b.Vz = r.D(); b.Mass = r.D(); }
    }

    private static double[] AdvanceGradient(double[] p)
    {
        var s = Make(p, out double dt);
        var bar = s.CreateShadow();
        SetState(bar, Reader.Seeds());
        double dtBar = 0;
        s.AdvancePullback(dt, bar, ref dtBar);
        return State(bar).Add(bar.Softening).Add(dtBar).ToArray();
    }

    private static double[] EnergyGradient(double[] p)
    {
        var s = Make(p, out _);
        var bar = s.CreateShadow();
        double e = s.EnergyPullback(1.0, bar);
        if (e != Make(p, out _).Energy()) throw new InvalidOperationException("EnergyPullback returned a different energy");
        return State(bar).Add(bar.Softening).Add(0.0).ToArray();
    }

    // Forward mode: the tangent of `this` is a second instance holding the direction.
    private static double[] EnergyPushforward(double[] p, double[] v)
    {
        var s = Make(p, out _);
        var dot = s.CreateShadow();
        SetState(dot, new Reader(v));
        // Softening has no setter: its direction is the v entry that follows the bodies, set to 0 by the caller.
        var (value, tangent) = s.EnergyPushforward(dot);
        return [tangent];
    }
#endif

    public static string? Check()
    {
        var p = Start();
        var v = Data.Uniform(p.Length, 24, -1, 1);
        v[7 * N] = 0; // Softening is get-only: the tangent instance cannot carry a direction for it.
        v[7 * N + 1] = 0; // dt is not an input of Energy.
        return CorpusSupport.Check.All(
            CorpusSupport.Check.Gradient("NBodySystem.Advance", AdvanceLoss, AdvanceAd, p),
            CorpusSupport.Check.Gradient("NBodySystem.Energy", EnergyLoss, EnergyAd, p),
            CorpusSupport.Check.Tangent("NBodySystem.EnergyPushforward", EnergyValues, EnergyTangent, p, v));
    }
}
