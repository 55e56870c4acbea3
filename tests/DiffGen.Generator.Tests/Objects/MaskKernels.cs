using System.Numerics;

namespace DiffGen.Generator.Tests.Objects;

/// <summary>bool[] masks and flags (inactive arrays) next to the values they select, and a local array of structs.</summary>
public static partial class MaskKernels
{
    /// <summary>Sum of squares over the unmasked entries; the mask of clipped entries is built in a local bool[].</summary>
    [Differentiable]
    public static double MaskedEnergy(double[] x, bool[] active, double clip)
    {
        var clipped = new bool[x.Length];
        for (int i = 0; i < x.Length; i++) clipped[i] = Math.Abs(x[i]) > clip;
        double e = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (!active[i]) continue;
            e += clipped[i] ? clip * Math.Abs(x[i]) : 0.5 * x[i] * x[i];
        }
        return e;
    }

    [Differentiable]
    public static float MaskedEnergyF(float[] x, bool[] active, float clip)
    {
        var clipped = new bool[x.Length];
        for (int i = 0; i < x.Length; i++) clipped[i] = MathF.Abs(x[i]) > clip;
        float e = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (!active[i]) continue;
            e += clipped[i] ? clip * MathF.Abs(x[i]) : 0.5f * x[i] * x[i];
        }
        return e;
    }
}

/// <summary>Particles on a line, some held fixed by a bool[] field, relaxed by springs; forces gathered in a local Vector2[].</summary>
public partial class PinnedChain
{
    public double[] Positions { get; }
    public bool[] Fixed { get; }
    public double Stiffness = 2.0;

    public PinnedChain(int n)
    {
        Positions = new double[n];
        Fixed = new bool[n];
    }

    [Differentiable]
    public void Relax(double dt)
    {
        var forces = new double[Positions.Length];
        for (int i = 0; i + 1 < Positions.Length; i++)
        {
            double f = Stiffness * (Positions[i + 1] - Positions[i] - 1.0);
            forces[i] += f;
            forces[i + 1] -= f;
        }
        for (int i = 0; i < Positions.Length; i++)
            if (!Fixed[i]) Positions[i] += dt * forces[i];
    }
}

public partial class PinnedChainF
{
    public Vector2[] Positions { get; }
    public bool[] Fixed { get; }
    public float Stiffness = 2f;

    public PinnedChainF(int n)
    {
        Positions = new Vector2[n];
        Fixed = new bool[n];
    }

    [Differentiable]
    public void Relax(float dt)
    {
        var forces = new Vector2[Positions.Length];
        for (int i = 0; i + 1 < Positions.Length; i++)
        {
            Vector2 d = Positions[i + 1] - Positions[i];
            float len = d.Length();
            Vector2 f = Stiffness * (len - 1f) * d / len;
            forces[i] += f;
            forces[i + 1] -= f;
        }
        for (int i = 0; i < Positions.Length; i++)
        {
            if (Fixed[i]) continue;
            Positions[i] += dt * forces[i];
        }
    }
}
