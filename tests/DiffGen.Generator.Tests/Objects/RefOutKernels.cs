using System.Numerics;

namespace DiffGen.Generator.Tests.Objects;

/// <summary>A particle as a game-physics author stores it: a struct updated in place through ref.</summary>
public struct Particle2
{
    public Vector2 Position;
    public Vector2 Velocity;
    public float Mass;
}

/// <summary>ref, out and in parameters written the way integrators and solvers use them.</summary>
public static partial class RefOutKernels
{
    /// <summary>Symplectic Euler on an oscillator, state updated in place through ref.</summary>
    [Differentiable(Modes = DerivativeModes.Reverse | DerivativeModes.Forward)]
    public static void Oscillate(ref double x, ref double v, double k, double dt, int steps)
    {
        for (int s = 0; s < steps; s++)
        {
            v -= k * x * dt;
            x += v * dt;
        }
    }

    /// <summary>Two results through out, one of them from a branch.</summary>
    [Differentiable(Modes = DerivativeModes.Reverse | DerivativeModes.Forward)]
    public static void Roots(double b, double c, out double small, out double large)
    {
        double d = Math.Sqrt(b * b - 4 * c);
        if (b > 0)
        {
            large = (-b - d) / 2;
            small = c / large;
        }
        else
        {
            large = (-b + d) / 2;
            small = c / large;
        }
    }

    /// <summary>A ref struct kicked by a force (drag on the velocity it reads), returning the kinetic energy.</summary>
    [Differentiable(Modes = DerivativeModes.Reverse | DerivativeModes.Forward)]
    public static float Kick(ref Particle2 p, Vector2 force, float drag, float dt)
    {
        Vector2 accel = force / p.Mass - drag * p.Velocity;
        p.Velocity += accel * dt;
        p.Position += p.Velocity * dt;
        return 0.5f * p.Mass * p.Velocity.LengthSquared();
    }

    /// <summary>in parameters (a read-only struct and a number) are inputs passed by reference.</summary>
    [Differentiable(Modes = DerivativeModes.Reverse | DerivativeModes.Forward)]
    public static double Project(in Vector3 v, in double scale, ref double accumulated)
    {
        double d = scale * Vector3.Dot(v, new Vector3(1f, 2f, 3f));
        accumulated += d * d;
        return d;
    }
}
