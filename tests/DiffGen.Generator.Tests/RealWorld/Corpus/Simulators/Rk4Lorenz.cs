// A classical RK4 integrator object holding its state vector, its time and a parameter object:
// the Lorenz system, as in numerical-methods course code.
using System;
using CorpusSupport;
using DiffGen;

namespace Ode;

public sealed class LorenzParameters
{
    public double Sigma = 10.0;
    public double Rho = 28.0;
    public double Beta = 8.0 / 3.0;
}

public partial class Rk4Integrator
{
    public double[] State { get; }
    public double Time { get; private set; }
    public LorenzParameters Parameters { get; }

    public Rk4Integrator(double[] initialState, LorenzParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(initialState);
        ArgumentNullException.ThrowIfNull(parameters);
        if (initialState.Length != 3) throw new ArgumentException("The Lorenz system has three variables.", nameof(initialState));
        State = (double[])initialState.Clone();
        Parameters = parameters;
    }

    [Differentiable]
    private void Derivative(double[] y, double[] dydt)
    {
        var p = Parameters;
        dydt[0] = p.Sigma * (y[1] - y[0]);
        dydt[1] = y[0] * (p.Rho - y[2]) - y[1];
        dydt[2] = y[0] * y[1] - p.Beta * y[2];
    }

    [Differentiable]
    public void Step(double h)
    {
        if (h <= 0) throw new ArgumentOutOfRangeException(nameof(h), "The step size must be positive.");
        int n = State.Length;
        double[] k1 = new double[n], k2 = new double[n], k3 = new double[n], k4 = new double[n];
        double[] tmp = new double[n];

        Derivative(State, k1);
        for (int i = 0; i < n; i++) tmp[i] = State[i] + 0.5 * h * k1[i];
        Derivative(tmp, k2);
        for (int i = 0; i < n; i++) tmp[i] = State[i] + 0.5 * h * k2[i];
        Derivative(tmp, k3);
        for (int i = 0; i < n; i++) tmp[i] = State[i] + h * k3[i];
        Derivative(tmp, k4);

        for (int i = 0; i < n; i++)
            State[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        Time += h;
    }
}

public static class Driver
{
    private static Rk4Integrator Make(double[] p, out double h)
    {
        var r = new Reader(p);
        var integrator = new Rk4Integrator(r.Ds(3), new LorenzParameters { Sigma = r.D(), Rho = r.D(), Beta = r.D() });
        h = r.D();
        return integrator;
    }

    private static readonly double[] P0 = [1.2, -0.7, 20.5, 10.0, 28.0, 8.0 / 3.0, 0.01];

    private static double Loss(double[] p)
    {
        var integrator = Make(p, out double h);
        integrator.Step(h);
        // Time (private setter) is not part of the loss: the driver could not seed its adjoint.
        return new Writer().Add(integrator.State).Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;

    private static double[] Gradient(double[] p)
    {
        var integrator = Make(p, out double h);
        var bar = integrator.CreateShadow();
        var seeds = Reader.Seeds();
        for (int i = 0; i < 3; i++) bar.State[i] = seeds.D();
        double hBar = 0;
        integrator.StepPullback(h, bar, ref hBar);
        return new Writer().Add(bar.State).Add(bar.Parameters.Sigma).Add(bar.Parameters.Rho).Add(bar.Parameters.Beta).Add(hBar).ToArray();
    }
#endif

    public static string? Check() => CorpusSupport.Check.Gradient("Rk4Integrator.Step", Loss, Ad, P0);
}
