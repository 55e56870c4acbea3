namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Local functions and lambdas that never escape the method (issue #11), inlined at each call: expression-
/// and block-bodied, static or capturing, called once or in loops, with early returns, writing captured
/// locals or an array argument, calling each other.
/// </summary>
public static partial class Quadrature
{
    [Differentiable]
    public static double Simpson(double a, double b, double k, int intervals)
    {
        if (intervals % 2 != 0) throw new ArgumentException("Simpson's rule needs an even number of intervals.", nameof(intervals));
        double F(double x) => Math.Exp(-k * x * x);

        double h = (b - a) / intervals;
        double sum = F(a) + F(b);
        for (int i = 1; i < intervals; i++)
            sum += (i % 2 == 1 ? 4 : 2) * F(a + i * h);
        return sum * h / 3;
    }

    [Differentiable]
    public static float SimpsonF(float a, float b, float k, int intervals)
    {
        float F(float x) => MathF.Exp(-k * x * x);

        float h = (b - a) / intervals;
        float sum = F(a) + F(b);
        for (int i = 1; i < intervals; i++)
            sum += (i % 2 == 1 ? 4 : 2) * F(a + i * h);
        return sum * h / 3;
    }

    [Differentiable]
    public static double ApplyMap(double[] values, double gain)
    {
        Func<double, double> squash = v => Math.Tanh(gain * v);
        double total = 0;
        for (int i = 0; i < values.Length; i++) total += squash(values[i]);
        return total;
    }

    [Differentiable]
    public static double Rms(double[] values)
    {
        return Math.Sqrt(MeanOfSquares(values));

        static double MeanOfSquares(double[] xs)
        {
            double s = 0;
            foreach (var x in xs) s += x * x;
            return s / xs.Length;
        }
    }

    /// <summary>A piecewise local function with early returns (one inside a loop), called in a loop.</summary>
    [Differentiable]
    public static double PiecewiseSum(double[] xs, double c)
    {
        double Soft(double x)
        {
            if (x < -c) return -c + 0.5 * (x + c) * (x + c);
            for (int m = 1; m <= 3; m++)
                if (x < m * c) return x * m;
            return Math.Log(1 + x * x) + c;
        }

        double s = 0;
        foreach (var x in xs) s += Soft(x);
        return s;
    }

    /// <summary>Local functions that write a captured local and an array argument, and call each other.</summary>
    [Differentiable]
    public static double Accumulated(double[] u, double w)
    {
        double total = 0;
        var smoothed = new double[u.Length];
        void Add(double v) { total += v * v; }
        void Smooth(double[] src, double[] dst)
        {
            for (int i = 1; i < src.Length - 1; i++) dst[i] = Blend(src[i - 1], src[i], src[i + 1]);
        }
        double Blend(double l, double m, double r) => w * (l + r) + (1 - 2 * w) * m;

        Smooth(u, smoothed);
        for (int i = 0; i < smoothed.Length; i++) Add(smoothed[i]);
        Func<double, double, double> hyp = (p, q) => Math.Sqrt(p * p + q * q);
        return hyp(total, w);
    }
}
