namespace DiffGen.Generator.Tests.Objects;

/// <summary>Instance methods that read a field, then call another method that changes it.</summary>
public partial class Accumulator
{
    public double X = 0.7;
    public double Y = 0.2;

    [Differentiable]
    public void Bump(double a) => X = X * X + a;

    [Differentiable]
    public double Run(double a)
    {
        double s = Math.Sin(X);
        Bump(a);
        Y *= X;
        return s * X;
    }
}

public partial class AccumulatorF
{
    public float[] U = [0.3f, -0.5f, 0.9f];
    public float Gain = 1.3f;

    [Differentiable]
    public void Square()
    {
        for (int i = 0; i < U.Length; i++) U[i] = U[i] * U[i] * Gain;
    }

    [Differentiable]
    public float Run()
    {
        float s = 0;
        for (int i = 0; i < U.Length; i++) s += MathF.Sin(U[i]);
        Square();
        Gain *= 0.5f;
        return s * U[1];
    }
}
