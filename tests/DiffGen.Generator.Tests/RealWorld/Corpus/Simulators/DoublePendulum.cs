// RK4 for the double pendulum on a state struct with its own + and * operators, the physical
// parameters passed as an `in` record struct, the next state returned by value.
using System;
using CorpusSupport;
using DiffGen;

namespace Pendulum;

public readonly record struct PendulumParameters(double Length1, double Length2, double Mass1, double Mass2, double Gravity);

public partial struct PendulumState
{
    public double Theta1;
    public double Theta2;
    public double Omega1;
    public double Omega2;

    public PendulumState(double theta1, double theta2, double omega1, double omega2)
    {
        Theta1 = theta1; Theta2 = theta2; Omega1 = omega1; Omega2 = omega2;
    }

    [Differentiable]
    public static PendulumState operator +(PendulumState a, PendulumState b) =>
        new(a.Theta1 + b.Theta1, a.Theta2 + b.Theta2, a.Omega1 + b.Omega1, a.Omega2 + b.Omega2);

    [Differentiable]
    public static PendulumState operator *(double k, PendulumState s) =>
        new(k * s.Theta1, k * s.Theta2, k * s.Omega1, k * s.Omega2);
}

public static partial class DoublePendulum
{
    [Differentiable]
    public static PendulumState Derivative(PendulumState s, in PendulumParameters p)
    {
        double delta = s.Theta1 - s.Theta2;
        double den = 2 * p.Mass1 + p.Mass2 - p.Mass2 * Math.Cos(2 * delta);
        double a1 = (-p.Gravity * (2 * p.Mass1 + p.Mass2) * Math.Sin(s.Theta1)
                     - p.Mass2 * p.Gravity * Math.Sin(s.Theta1 - 2 * s.Theta2)
                     - 2 * Math.Sin(delta) * p.Mass2 * (s.Omega2 * s.Omega2 * p.Length2 + s.Omega1 * s.Omega1 * p.Length1 * Math.Cos(delta)))
                    / (p.Length1 * den);
        double a2 = 2 * Math.Sin(delta) * (s.Omega1 * s.Omega1 * p.Length1 * (p.Mass1 + p.Mass2)
                     + p.Gravity * (p.Mass1 + p.Mass2) * Math.Cos(s.Theta1)
                     + s.Omega2 * s.Omega2 * p.Length2 * p.Mass2 * Math.Cos(delta))
                    / (p.Length2 * den);
        return new PendulumState(s.Omega1, s.Omega2, a1, a2);
    }

    [Differentiable]
    public static PendulumState Step(PendulumState s, double dt, in PendulumParameters p)
    {
        var k1 = Derivative(s, p);
        var k2 = Derivative(s + (dt / 2) * k1, p);
        var k3 = Derivative(s + (dt / 2) * k2, p);
        var k4 = Derivative(s + dt * k3, p);
        return s + (dt / 6) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
}

public static class Driver
{
    // theta1, theta2, omega1, omega2, dt, then the parameters
    private static readonly double[] P0 = [1.1, -0.4, 0.3, -0.8, 0.02, 1.0, 0.7, 1.2, 0.9, 9.81];

    private static PendulumState State(Reader r) => new(r.D(), r.D(), r.D(), r.D());

    private static double[] Values(double[] p)
    {
        var r = new Reader(p);
        var s = State(r);
        double dt = r.D();
        var next = DoublePendulum.Step(s, dt, new PendulumParameters(r.D(), r.D(), r.D(), r.D(), r.D()));
        return [next.Theta1, next.Theta2, next.Omega1, next.Omega2];
    }

    private static double Loss(double[] p) => new Writer().Add(Values(p)).Loss();

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
    private static readonly Func<double[], double[], double[]>? Tangent = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;
    private static readonly Func<double[], double[], double[]>? Tangent = Pushforward;

    private static double[] Gradient(double[] p)
    {
        var r = new Reader(p);
        var s = State(r);
        double dt = r.D();
        var parameters = new PendulumParameters(r.D(), r.D(), r.D(), r.D(), r.D());
        var seeds = Reader.Seeds();
        var resultBar = new PendulumState(seeds.D(), seeds.D(), seeds.D(), seeds.D());
        var sBar = new PendulumState();
        double dtBar = 0;
        var pBar = new PendulumParameters();
        DoublePendulum.StepPullback(s, dt, parameters, resultBar, ref sBar, ref dtBar, ref pBar);
        return [sBar.Theta1, sBar.Theta2, sBar.Omega1, sBar.Omega2, dtBar,
            pBar.Length1, pBar.Length2, pBar.Mass1, pBar.Mass2, pBar.Gravity];
    }

    private static double[] Pushforward(double[] p, double[] v)
    {
        var r = new Reader(p);
        var d = new Reader(v);
        var s = State(r);
        var sDot = State(d);
        double dt = r.D(), dtDot = d.D();
        var parameters = new PendulumParameters(r.D(), r.D(), r.D(), r.D(), r.D());
        var pDot = new PendulumParameters(d.D(), d.D(), d.D(), d.D(), d.D());
        var (value, tangent) = DoublePendulum.StepPushforward(s, sDot, dt, dtDot, parameters, pDot);
        return [tangent.Theta1, tangent.Theta2, tangent.Omega1, tangent.Omega2];
    }
#endif

    public static string? Check() => CorpusSupport.Check.All(
        CorpusSupport.Check.Gradient("DoublePendulum.Step", Loss, Ad, P0),
        CorpusSupport.Check.Tangent("DoublePendulum.StepPushforward", Values, Tangent, P0, Data.Uniform(P0.Length, 71, -1, 1)));
}
