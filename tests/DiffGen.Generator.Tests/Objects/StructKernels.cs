using System.Numerics;

namespace DiffGen.Generator.Tests.Objects;

/// <summary>A spring between two particles, as a cloth simulator stores it: indices and float parameters.</summary>
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

/// <summary>A small state struct with its own operators, as an RK4 integrator's author writes it.</summary>
public partial struct State2
{
    public double Position;
    public double Velocity;

    public State2(double position, double velocity)
    {
        Position = position;
        Velocity = velocity;
    }

    [Differentiable]
    public static State2 operator +(State2 a, State2 b) => new(a.Position + b.Position, a.Velocity + b.Velocity);

    [Differentiable]
    public static State2 operator *(double k, State2 s) => new(k * s.Position, k * s.Velocity);
}

public static partial class StructKernels
{
    /// <summary>Spring forces on Vector3 particles: vector operators, Length, a struct array, compound vector assignment.</summary>
    [Differentiable]
    public static void SpringForces(Vector3[] positions, Spring[] springs, Vector3[] forces, Vector3 gravity)
    {
        for (int i = 0; i < forces.Length; i++)
            forces[i] = gravity;
        foreach (var spring in springs)
        {
            Vector3 delta = positions[spring.B] - positions[spring.A];
            float length = delta.Length();
            Vector3 direction = delta / length;
            Vector3 force = spring.Stiffness * (length - spring.RestLength) * direction;
            forces[spring.A] += force;
            forces[spring.B] -= force;
        }
    }

    /// <summary>A scalar of vectors: Dot, Cross, Normalize, Distance, Lerp.</summary>
    [Differentiable]
    public static float Geometry(Vector3 a, Vector3 b, float t)
    {
        Vector3 n = Vector3.Normalize(Vector3.Cross(a, b));
        Vector3 m = Vector3.Lerp(a, b, t);
        return Vector3.Dot(n, m + a) + Vector3.Distance(a, b) * t + m.LengthSquared();
    }

    [Differentiable]
    public static State2 Derivative(State2 s, double k) => new State2(s.Velocity, -k * s.Position);

    /// <summary>One RK4 step on a struct state: struct-valued calls and user operators marked [Differentiable].</summary>
    [Differentiable]
    public static State2 Rk4(State2 s, double k, double dt)
    {
        var k1 = Derivative(s, k);
        var k2 = Derivative(s + (dt / 2) * k1, k);
        var k3 = Derivative(s + (dt / 2) * k2, k);
        var k4 = Derivative(s + dt * k3, k);
        return s + (dt / 6) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }

    [Differentiable]
    public static double Energy(State2 s, double k, double dt, int steps)
    {
        var x = s;
        for (int i = 0; i < steps; i++) x = Rk4(x, k, dt);
        return 0.5 * x.Velocity * x.Velocity + 0.5 * k * x.Position * x.Position;
    }
}
