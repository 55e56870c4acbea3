namespace DiffGen.Generator.Tests.Objects;

/// <summary>[Differentiable] methods calling others that take numbers by ref and out, as integrators are written.</summary>
public static partial class RefCallKernels
{
    /// <summary>One symplectic Euler step, state updated in place.</summary>
    [Differentiable]
    public static void Kick(ref double x, ref double v, double k, double dt)
    {
        v -= k * x * dt;
        x += v * dt;
    }

    /// <summary>Two results through out.</summary>
    [Differentiable]
    public static void Split(double a, out double square, out double wave)
    {
        square = a * a;
        wave = Math.Sin(a);
    }

    /// <summary>Steps a local state by ref in a loop, then splits it through out into declared locals.</summary>
    [Differentiable]
    public static double Simulate(double x0, double v0, double k, double dt, int steps)
    {
        double x = x0, v = v0;
        for (int s = 0; s < steps; s++) Kick(ref x, ref v, k, dt);
        Split(x, out double square, out var wave);
        return square * v + wave;
    }

    /// <summary>Passes its own ref parameter on (ref through two levels) and reads it before and after.</summary>
    [Differentiable]
    public static double Drive(ref double x, double v, double k)
    {
        double before = x * x;
        Kick(ref x, ref v, k, 0.1);
        Kick(ref x, ref v, k, 0.1);
        return before + x * v;
    }

    [Differentiable]
    public static void KickF(ref float x, ref float v, float k, float dt)
    {
        v -= k * x * dt;
        x += v * dt;
    }

    [Differentiable]
    public static float SimulateF(float x0, float v0, float k, float dt, int steps)
    {
        float x = x0, v = v0;
        for (int s = 0; s < steps; s++) KickF(ref x, ref v, k, dt);
        return x * x + v;
    }
}

/// <summary>An object passing its own fields by ref.</summary>
public partial class Oscillator
{
    public double Position = 0.5;
    public double Velocity;
    public double Stiffness = 4.0;

    [Differentiable]
    public void Advance(double dt, int steps)
    {
        for (int s = 0; s < steps; s++) RefCallKernels.Kick(ref Position, ref Velocity, Stiffness, dt);
    }
}
