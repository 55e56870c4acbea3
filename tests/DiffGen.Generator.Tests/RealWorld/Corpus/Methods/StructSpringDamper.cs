// Instance methods of a user struct (ref thisBar), ref parameters updated in place, and a readonly
// member: a spring-damper element as a vehicle model would write it. Float twin of the force.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Suspension;

public partial struct SpringDamper
{
    public double Stiffness;
    public double Damping;
    public double RestLength;

    public SpringDamper(double stiffness, double damping, double restLength)
    {
        Stiffness = stiffness;
        Damping = damping;
        RestLength = restLength;
    }

    [Differentiable]
    public readonly double Force(double length, double rate) => -Stiffness * (length - RestLength) - Damping * rate;

    [Differentiable]
    public readonly double PotentialEnergy(double length)
    {
        double stretch = length - RestLength;
        return 0.5 * Stiffness * stretch * stretch;
    }

    [Differentiable]
    public void Integrate(ref double position, ref double velocity, double mass, double dt)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mass);
        for (int k = 0; k < 4; k++)
        {
            double a = Force(position, velocity) / mass;
            velocity += a * dt;
            position += velocity * dt;
        }
    }
}

public partial struct SpringDamperF
{
    public float Stiffness;
    public float Damping;
    public float RestLength;

    [Differentiable]
    public readonly float Force(float length, float rate) => -Stiffness * (length - RestLength) - Damping * rate;
}

public static class Driver
{
    private static readonly double[] P = [80.0, 4.0, 0.5, 0.62, -0.3, 1.5, 0.01];

    private static SpringDamper Make(Reader r) => new(r.D(), r.D(), r.D());

    private static double[] IntegrateValues(double[] p)
    {
        var r = new Reader(p); var s = Make(r);
        double x = r.D(), v = r.D();
        s.Integrate(ref x, ref v, r.D(), r.D());
        return [x, v];
    }

    public static string? Check() => C.All(
        C.Gradient("SpringDamper.Force", p => { var r = new Reader(p); return Make(r).Force(r.D(), r.D()); }, Ad.For("Force"), P[..5]),
        C.Gradient("SpringDamper.PotentialEnergy", p => { var r = new Reader(p); return Make(r).PotentialEnergy(r.D()); }, Ad.For("PotentialEnergy"), P[..4]),
        C.Gradient("SpringDamper.Integrate", p => new Writer().Add(IntegrateValues(p)).Loss(), Ad.For("Integrate"), P),
        C.Gradient("SpringDamperF.Force", p => { var r = new Reader(p); return Make(r).Force(r.D(), r.D()); }, Ad.For("ForceF"), P[..5], C.FloatTolerance),
        C.Tangent("SpringDamper.IntegratePushforward", IntegrateValues, Dot.For("Integrate"), P, [1.0, -0.5, 0.02, 0.1, 0.3, -0.2, 0.001]),
        Ad.Unused(), Dot.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
    private static readonly Tangents Dot = new();
#else
    private static double[] Bar(SpringDamper b) => [b.Stiffness, b.Damping, b.RestLength];

    private static readonly Gradients Ad = new()
    {
        ["Force"] = p =>
        {
            var r = new Reader(p); var s = Make(r); var bar = new SpringDamper(); double lBar = 0, vBar = 0;
            s.ForcePullback(r.D(), r.D(), 1.0, ref bar, ref lBar, ref vBar);
            return [.. Bar(bar), lBar, vBar];
        },
        ["PotentialEnergy"] = p =>
        {
            var r = new Reader(p); var s = Make(r); var bar = new SpringDamper(); double lBar = 0;
            s.PotentialEnergyPullback(r.D(), 1.0, ref bar, ref lBar);
            return [.. Bar(bar), lBar];
        },
        ["Integrate"] = p =>
        {
            var r = new Reader(p); var s = Make(r);
            double x = r.D(), v = r.D(), m = r.D(), dt = r.D();
            var bar = new SpringDamper();
            // ref parameters: the bars hold the adjoints of the values at return, and on exit those at entry.
            double xBar = Data.Weight(0), vBar = Data.Weight(1), mBar = 0, dtBar = 0;
            s.IntegratePullback(ref x, ref v, m, dt, ref bar, ref xBar, ref vBar, ref mBar, ref dtBar);
            return [.. Bar(bar), xBar, vBar, mBar, dtBar];
        },
        ["ForceF"] = p =>
        {
            var r = new Reader(p);
            var s = new SpringDamperF { Stiffness = r.F(), Damping = r.F(), RestLength = r.F() };
            var bar = new SpringDamperF(); float lBar = 0, vBar = 0;
            s.ForcePullback(r.F(), r.F(), 1f, ref bar, ref lBar, ref vBar);
            return [bar.Stiffness, bar.Damping, bar.RestLength, lBar, vBar];
        },
    };

    private static readonly Tangents Dot = new()
    {
        ["Integrate"] = (p, v) =>
        {
            var r = new Reader(p); var d = new Reader(v);
            var s = Make(r); var sDot = Make(d);
            double x = r.D(), vel = r.D(), xDot = d.D(), velDot = d.D();
            // ref parameters: the tangent holds the entry tangent on entry and the return tangent on exit.
            s.IntegratePushforward(ref sDot, ref x, ref xDot, ref vel, ref velDot, r.D(), d.D(), r.D(), d.D());
            return [xDot, velDot];
        },
    };
#endif
}
