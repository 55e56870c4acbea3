namespace DiffGen.Generator.Tests.Objects;

/// <summary>Physical constants as a positional readonly record struct (init-only properties).</summary>
public readonly record struct Material(double Density, double Stiffness, double Damping);

public readonly record struct MaterialF(float Density, float Stiffness, float Damping);

/// <summary>A readonly struct with readonly fields, set by its constructor.</summary>
public readonly struct Spring1D
{
    public readonly double K;
    public readonly double Rest;

    public Spring1D(double k, double rest)
    {
        K = k;
        Rest = rest;
    }
}

/// <summary>A struct with { get; init; } properties.</summary>
public struct Options
{
    public double Scale { get; init; }
    public double Offset { get; init; }
}

public static partial class InitOnlyKernels
{
    /// <summary>Wave speed and damping ratio from an `in` record struct.</summary>
    [Differentiable]
    public static double Response(double omega, in Material m)
    {
        double c = Math.Sqrt(m.Stiffness / m.Density);
        double zeta = m.Damping / (2 * Math.Sqrt(m.Stiffness * m.Density));
        return c * Math.Exp(-zeta * omega) + m.Damping * omega * omega;
    }

    [Differentiable]
    public static float ResponseF(float omega, in MaterialF m)
    {
        float c = MathF.Sqrt(m.Stiffness / m.Density);
        float zeta = m.Damping / (2 * MathF.Sqrt(m.Stiffness * m.Density));
        return c * MathF.Exp(-zeta * omega) + m.Damping * omega * omega;
    }

    /// <summary>A readonly struct by value and an init-only struct, passed on to another [Differentiable] method.</summary>
    [Differentiable]
    public static double Energy(Spring1D s, Options o, double x) => Scaled(o, 0.5 * s.K * (x - s.Rest) * (x - s.Rest));

    [Differentiable]
    public static double Scaled(Options o, double e) => o.Scale * e + o.Offset;

    /// <summary>A local of a record struct built from a parameter's members.</summary>
    [Differentiable]
    public static double Softened(in Material m, double x)
    {
        var soft = new Material(m.Density, 0.5 * m.Stiffness, m.Damping);
        return Response(x, soft) + soft.Stiffness * x;
    }
}

/// <summary>A record struct inside a struct and inside a record struct (accessors through two levels).</summary>
public readonly record struct Lens(double Focal, double Aperture);

public struct Camera
{
    public Lens Lens;
    public double Exposure;
}

public readonly record struct Rig(Lens Lens, double Height);

public readonly record struct LensF(float Focal, float Aperture);

public readonly record struct RigF(LensF Lens, float Height);

public static partial class NestedInitOnlyKernels
{
    [Differentiable]
    public static double Brightness(Camera c, double distance) => c.Lens.Aperture * c.Lens.Aperture * c.Exposure / (c.Lens.Focal * distance);

    [Differentiable]
    public static double Reach(in Rig r, double tilt) => r.Height * Math.Tan(tilt) + r.Lens.Focal * r.Lens.Aperture;

    [Differentiable]
    public static float ReachF(in RigF r, float tilt) => r.Height * MathF.Tan(tilt) + r.Lens.Focal * r.Lens.Aperture;
}
