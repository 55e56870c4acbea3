namespace DiffGen.Generator.Tests.Reverse;

/// <summary>Extra smooth scalar functions for the second-order tests.</summary>
public static partial class SecondOrderKernels
{
    [Differentiable]
    public static double Rosenbrock(ReadOnlySpan<double> x)
    {
        double s = 0;
        for (int i = 0; i < x.Length - 1; i++)
        {
            double a = x[i + 1] - x[i] * x[i];
            double b = 1 - x[i];
            s += 100 * a * a + b * b;
        }
        return s;
    }

    [Differentiable]
    public static double LogSumExp(ReadOnlySpan<double> x)
    {
        double m = x[0];
        for (int i = 1; i < x.Length; i++) m = Math.Max(m, x[i]);
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += Math.Exp(x[i] - m);
        return m + Math.Log(s);
    }

    [Differentiable]
    public static double MathMix(double x, double y)
    {
        double r = Math.Sqrt(x * x + y * y + 1);
        return Math.Atan2(y, x) * Math.Tanh(r) + Math.Pow(r, 1.5) + Math.Cos(x * y) / r;
    }

    [Differentiable]
    public static double SoftplusSum(ReadOnlySpan<double> x, double beta)
    {
        double s = 0;
        foreach (var v in x) s += Math.Log(1 + Math.Exp(beta * v)) / beta;
        return s;
    }
}
