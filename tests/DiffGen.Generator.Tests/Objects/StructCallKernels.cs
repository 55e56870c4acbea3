namespace DiffGen.Generator.Tests.Objects;

/// <summary>A struct whose [Differentiable] methods call each other on this (their pullbacks take ref thisBar).</summary>
public partial struct Damper
{
    public double Stiffness;
    public double Damping;
    public double Rest;

    [Differentiable]
    public readonly double Force(double x, double v) => -Stiffness * (x - Rest) - Damping * v;

    /// <summary>Explicit-Euler steps calling Force each step; the state comes back as the result.</summary>
    [Differentiable]
    public readonly double Settle(double x, double v, double dt, int steps)
    {
        for (int s = 0; s < steps; s++)
        {
            double a = Force(x, v);
            v += a * dt;
            x += v * dt;
        }
        return x + 0.5 * v;
    }

    /// <summary>Changes its own state from what another method on this computes.</summary>
    [Differentiable]
    public void Stiffen(double x)
    {
        double f = Force(x, 0.0);
        Stiffness += 0.1 * f * f;
        Rest = 0.5 * Rest + 0.25 * x;
    }
}

public partial struct DamperF
{
    public float Stiffness;
    public float Damping;
    public float Rest;

    [Differentiable]
    public readonly float Force(float x, float v) => -Stiffness * (x - Rest) - Damping * v;

    [Differentiable]
    public readonly float Settle(float x, float v, float dt, int steps)
    {
        for (int s = 0; s < steps; s++)
        {
            float a = Force(x, v);
            v += a * dt;
            x += v * dt;
        }
        return x + 0.5f * v;
    }
}
