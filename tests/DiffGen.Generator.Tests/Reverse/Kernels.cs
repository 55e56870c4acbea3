namespace DiffGen.Generator.Tests.Reverse;

public static partial class Kernels
{
    [Differentiable]
    public static void HeatStep(ReadOnlySpan<double> u, Span<double> next, double nu)
    {
        int n = u.Length;
        for (int i = 0; i < n; i++)
            next[i] = u[i] + nu * (u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n]);
    }

    [Differentiable]
    public static double Energy(ReadOnlySpan<double> u, double nu)
    {
        double e = 0;
        for (int i = 1; i < u.Length - 1; i++)
            e += nu * (u[i + 1] - u[i]) * (u[i + 1] - u[i]);
        return e;
    }

    [Differentiable]
    public static double Poly(double x, double y)
    {
        double a = x * y;
        a = a * a + Math.Sin(x);
        if (a > 1) return a / y;
        return Math.Exp(a) * y;
    }

    [Differentiable]
    public static void BurgersInPlace(Span<double> u, double dt, int steps)
    {
        int n = u.Length;
        for (int t = 0; t < steps; t++)
        {
            for (int i = 1; i < n; i++)
                u[i] = u[i] - dt * u[i] * (u[i] - u[i - 1]);
        }
    }

    [Differentiable]
    public static double SemiLagrangian(ReadOnlySpan<double> u, Span<double> next, double dt)
    {
        int n = u.Length;
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            double x = i - dt * u[i];
            int j = (int)Math.Floor(x);
            double f = x - j;
            int j0 = ((j % n) + n) % n;
            int j1 = (j0 + 1) % n;
            next[i] = (1 - f) * u[j0] + f * u[j1];
            s += next[i] * next[i];
        }
        return s;
    }

    [Differentiable]
    public static double CallsOthers(double x, ReadOnlySpan<double> u, Span<double> tmp)
    {
        HeatStep(u, tmp, x);
        double e = Energy(tmp, 0.5);
        return e * Poly(x, 2.0);
    }

    [Differentiable]
    public static double Loops(double x, int n)
    {
        double s = 0;
        int k = 0;
        while (k < n)
        {
            k++;
            if (k == 3) continue;
            if (s > 100) break;
            s = s * x + k;
        }
        return s;
    }
}

public static partial class TimeLoops
{
    [Differentiable]
    public static void Diffuse(ReadOnlySpan<double> u, Span<double> next, double nu)
    {
        int n = u.Length;
        for (int i = 0; i < n; i++)
            next[i] = u[i] + nu * (u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n]) - 0.1 * u[i] * u[i];
    }

    /// <summary>A solver time loop in the common style: step into a buffer, copy back.</summary>
    [Differentiable]
    public static double Run(double[] u, double nu, int steps)
    {
        var tmp = new double[u.Length];
        for (int t = 0; t < steps; t++)
        {
            Diffuse(u, tmp, nu);
            tmp.CopyTo(u);
        }
        double e = 0;
        foreach (var v in u) e += v * v;
        Array.Fill(tmp, 0.5);
        Array.Clear(tmp);
        return e;
    }
}
