using System.Diagnostics;

namespace DiffGen.Generator.Tests.Reverse;

public enum OptionKind
{
    Call,
    Put,
}

public enum Reduction
{
    Sum,
    Mean,
}

/// <summary>A logger a library would pass around: no float or double data, so an inactive value.</summary>
public sealed class RunLog
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines => _lines;

    public void Info(string message) => _lines.Add(message);
}

/// <summary>
/// Calls that cannot change the result, written as a library would (issue #11): argument guards, throws
/// with interpolated messages and nameof, Debug.Assert on an active value, Console and logger calls.
/// They run in the forward sweep only.
/// </summary>
public static partial class Guarded
{
    /// <summary>A Cox-Ross-Rubinstein binomial tree with the guards and the option enum of a pricing library.</summary>
    [Differentiable]
    public static double BinomialPrice(double spot, double strike, double rate, double volatility, double maturity, int steps, OptionKind type, bool american)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        if (spot <= 0) throw new ArgumentOutOfRangeException(nameof(spot), spot, "Spot must be positive.");
        if (strike <= 0) throw new ArgumentOutOfRangeException(nameof(strike), strike, "Strike must be positive.");
        if (volatility <= 0) throw new ArgumentOutOfRangeException(nameof(volatility));
        double dt = maturity / steps;
        double up = Math.Exp(volatility * Math.Sqrt(dt));
        double down = 1.0 / up;
        double growth = Math.Exp(rate * dt);
        double p = (growth - down) / (up - down);
        double discount = 1.0 / growth;
        if (p <= 0 || p >= 1) throw new ArgumentException($"No-arbitrage violated (p = {p}): increase the number of steps.");
        var values = new double[steps + 1];
        for (int i = 0; i <= steps; i++)
        {
            double s = spot * Math.Pow(up, steps - i) * Math.Pow(down, i);
            values[i] = type == OptionKind.Call ? Math.Max(s - strike, 0.0) : Math.Max(strike - s, 0.0);
        }
        for (int step = steps - 1; step >= 0; step--)
        {
            for (int i = 0; i <= step; i++)
            {
                double hold = discount * (p * values[i] + (1 - p) * values[i + 1]);
                if (american)
                {
                    double s = spot * Math.Pow(up, step - i) * Math.Pow(down, i);
                    double exercise = type == OptionKind.Call ? s - strike : strike - s;
                    values[i] = Math.Max(hold, exercise);
                }
                else
                {
                    values[i] = hold;
                }
            }
        }
        return values[0];
    }

    [Differentiable]
    public static double Huber(double[] prediction, double[] target, double delta, Reduction reduction, bool verbose)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (prediction.Length != target.Length)
            throw new ArgumentException($"prediction has {prediction.Length} entries, target {target.Length}.", nameof(target));
        double total = 0;
        for (int i = 0; i < prediction.Length; i++)
        {
            double e = prediction[i] - target[i];
            double a = Math.Abs(e);
            total += a <= delta ? 0.5 * e * e : delta * (a - 0.5 * delta);
        }
        if (verbose) Console.WriteLine($"huber total {total}");
        return reduction == Reduction.Mean ? total / prediction.Length : total;
    }

    [Differentiable]
    public static float HuberF(float[] prediction, float[] target, float delta, Reduction reduction, bool verbose)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        float total = 0;
        for (int i = 0; i < prediction.Length; i++)
        {
            float e = prediction[i] - target[i];
            float a = MathF.Abs(e);
            total += a <= delta ? 0.5f * e * e : delta * (a - 0.5f * delta);
        }
        if (verbose) Console.WriteLine($"huber total {total}");
        return reduction == Reduction.Mean ? total / prediction.Length : total;
    }

    /// <summary>An explicit diffusion step that asserts its stability condition on an active value and logs.</summary>
    [Differentiable]
    public static void DiffuseChecked(double[] u, double[] next, double diffusivity, double dt, double dx, RunLog log)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(u.Length, 3);
        double r = diffusivity * dt / (dx * dx);
        Debug.Assert(r <= 0.5, "explicit scheme unstable");
        log.Info($"diffusing {u.Length} cells with r = {r:F3}");
        for (int i = 1; i < u.Length - 1; i++)
            next[i] = u[i] + r * (u[i - 1] - 2 * u[i] + u[i + 1]);
        next[0] = u[0];
        next[u.Length - 1] = u[u.Length - 1];
        Trace(r, next[1]);
    }

    /// <summary>A plain helper with by-value arguments and no result: nothing it does can reach the derivative.</summary>
    private static void Trace(double r, double first)
    {
        if (double.IsNaN(r) || double.IsNaN(first)) Console.Error.WriteLine("NaN in the diffusion step");
    }
}

/// <summary>
/// Constants of every numeric type, narrow integer loop counters, long loop bounds, static readonly
/// tables and static properties read as inputs (DG0302 says their gradient is not computed).
/// </summary>
public static partial class Series
{
    private const byte Terms = 5;
    private const short Substeps = 3;
    private const long Repeats = 2L;
    private const float Half = 0.5f;
    private static readonly double[] Coefficients = { 1.0, -0.5, 0.25, -0.125, 0.0625 };
    private static readonly double Damping = 0.9;

    public static double Gain { get; set; } = 1.5;

    public static int Order { get; } = 3;

    [Differentiable]
    public static double Polynomial(double x)
    {
        double result = 0;
        double power = 1;
        for (byte k = 0; k < Terms; k++)
        {
            result += Coefficients[k] * power;
            power *= x;
        }
        return result;
    }

    [Differentiable]
    public static float PolynomialF(float x)
    {
        float result = 0;
        float power = 1;
        for (int k = 0; k < Terms; k++)
        {
            result += (float)Coefficients[k] * power;
            power *= x;
        }
        return result;
    }

    [Differentiable]
    public static double DampedIterate(double x, double rate)
    {
        for (long r = 0; r < Repeats; r++)
            for (short s = 0; s < Substeps; s++)
                x = Damping * x + Half * rate * Math.Sin(x);
        return x;
    }

    [Differentiable]
    public static double Geometric(double ratio, long n)
    {
        double sum = 0, term = 1;
        for (long k = 0; k < n; k++)
        {
            sum += term;
            term *= ratio;
        }
        return sum;
    }

    /// <summary>Local constants of every numeric type, folded where they are used.</summary>
    [Differentiable]
    public static double Constants(double x)
    {
        const sbyte a = -2;
        const byte b = 3;
        const short c = -4;
        const ushort d = 5;
        const int e = 6;
        const uint f = 7;
        const long g = 8;
        const ulong h = 9;
        const float i = 0.25f;
        const double j = 0.125;
        const decimal k = 0.5m;
        return a * x + b * x * x + c * Math.Sin(x) + d + e * x + f * x + g + h * x + i * x * x * x + j + (double)k * x;
    }

    /// <summary>A static property read as a gain, another as a loop bound.</summary>
    [Differentiable]
    public static double Gained(double[] values)
    {
        double s = 0;
        for (int p = 0; p < Order; p++)
            for (int i = 0; i < values.Length; i++)
                s += Gain * values[i] * values[i] / (p + 1);
        return s;
    }
}

/// <summary>A D2Q9 lattice-Boltzmann BGK collision on float[,,] distributions with the lattice constants as static tables.</summary>
public static partial class Lattice
{
    public const byte Q = 9;
    private static readonly int[] Ex = { 0, 1, 0, -1, 0, 1, -1, -1, 1 };
    private static readonly int[] Ey = { 0, 0, 1, 0, -1, 1, 1, -1, -1 };
    private static readonly float[] Weights = { 4f / 9f, 1f / 9f, 1f / 9f, 1f / 9f, 1f / 9f, 1f / 36f, 1f / 36f, 1f / 36f, 1f / 36f };
    private static readonly double[] WeightsD = { 4.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 36, 1.0 / 36, 1.0 / 36, 1.0 / 36 };

    [Differentiable]
    public static void Collide(float[,,] f, float omega)
    {
        for (int x = 0; x < f.GetLength(0); x++)
        {
            for (int y = 0; y < f.GetLength(1); y++)
            {
                float rho = 0f, ux = 0f, uy = 0f;
                for (int i = 0; i < Q; i++)
                {
                    float fi = f[x, y, i];
                    rho += fi;
                    ux += fi * Ex[i];
                    uy += fi * Ey[i];
                }
                ux /= rho;
                uy /= rho;
                float usq = 1.5f * (ux * ux + uy * uy);
                for (int i = 0; i < Q; i++)
                {
                    float cu = 3f * (Ex[i] * ux + Ey[i] * uy);
                    float feq = Weights[i] * rho * (1f + cu + 0.5f * cu * cu - usq);
                    f[x, y, i] += omega * (feq - f[x, y, i]);
                }
            }
        }
    }

    [Differentiable]
    public static void CollideD(double[,,] f, double omega)
    {
        for (int x = 0; x < f.GetLength(0); x++)
        {
            for (int y = 0; y < f.GetLength(1); y++)
            {
                double rho = 0, ux = 0, uy = 0;
                for (int i = 0; i < Q; i++)
                {
                    double fi = f[x, y, i];
                    rho += fi;
                    ux += fi * Ex[i];
                    uy += fi * Ey[i];
                }
                ux /= rho;
                uy /= rho;
                double usq = 1.5 * (ux * ux + uy * uy);
                for (int i = 0; i < Q; i++)
                {
                    double cu = 3 * (Ex[i] * ux + Ey[i] * uy);
                    double feq = WeightsD[i] * rho * (1 + cu + 0.5 * cu * cu - usq);
                    f[x, y, i] += omega * (feq - f[x, y, i]);
                }
            }
        }
    }
}
