namespace DiffGen.Generator.Tests.Objects;

/// <summary>A plain class as a simulation stores its particles (not partial: the generator does not touch it).</summary>
public class Bead
{
    public double Position;
    public double Velocity;
    public double Mass = 1.0;
    public bool Frozen;
}

public class BeadF
{
    public float Position;
    public float Velocity;
    public float Mass = 1f;
}

public static partial class ObjectArrayKernels
{
    /// <summary>Beads on a line pulled towards their neighbours; the objects' fields change in place, several times.</summary>
    [Differentiable]
    public static void Settle(Bead[] beads, double k, double dt, int steps)
    {
        for (int s = 0; s < steps; s++)
        {
            for (int i = 0; i < beads.Length; i++)
            {
                var b = beads[i];
                if (b.Frozen) continue;
                double f = 0;
                if (i > 0) f += k * (beads[i - 1].Position - b.Position);
                if (i + 1 < beads.Length) f += k * (beads[i + 1].Position - b.Position);
                b.Velocity += dt * f / b.Mass;
            }
            foreach (var b in beads) b.Position += dt * b.Velocity;
        }
    }

    [Differentiable]
    public static void SettleF(BeadF[] beads, float k, float dt, int steps)
    {
        for (int s = 0; s < steps; s++)
        {
            for (int i = 0; i < beads.Length; i++)
            {
                float f = 0;
                if (i > 0) f += k * (beads[i - 1].Position - beads[i].Position);
                if (i + 1 < beads.Length) f += k * (beads[i + 1].Position - beads[i].Position);
                beads[i].Velocity += dt * f / beads[i].Mass;
            }
            foreach (var b in beads) b.Position += dt * b.Velocity;
        }
    }
}

/// <summary>An array of objects passed to a callee that changes their fields, read before and after the call.</summary>
public static partial class ObjectArrayCallKernels
{
    [Differentiable]
    public static void Drift(Bead[] beads, double dt)
    {
        foreach (var b in beads) b.Position += dt * b.Velocity * b.Position;
    }

    [Differentiable]
    public static double Probe(Bead[] beads, double dt)
    {
        double before = 0;
        foreach (var b in beads) before += b.Position * b.Position;
        Drift(beads, dt);
        Drift(beads, dt);
        return before * beads[1].Position;
    }

    [Differentiable]
    public static void DriftF(BeadF[] beads, float dt)
    {
        foreach (var b in beads) b.Position += dt * b.Velocity * b.Position;
    }

    [Differentiable]
    public static float ProbeF(BeadF[] beads, float dt)
    {
        float before = 0;
        foreach (var b in beads) before += b.Position * b.Position;
        DriftF(beads, dt);
        return before * beads[1].Position;
    }
}

/// <summary>An object holding an array of objects, stepped by an instance method.</summary>
public partial class BeadChain
{
    public BeadF[] Beads { get; }
    public float Drag { get; set; } = 0.1f;

    public BeadChain(int n)
    {
        Beads = new BeadF[n];
        for (int i = 0; i < n; i++) Beads[i] = new BeadF();
    }

    [Differentiable]
    public void Coast(float dt)
    {
        foreach (var b in Beads)
        {
            b.Velocity -= dt * Drag * b.Velocity * MathF.Abs(b.Velocity);
            b.Position += dt * b.Velocity;
        }
    }
}
