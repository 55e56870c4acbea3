namespace DiffGen.Generator.Tests.Reverse;

/// <summary>Control-flow and naming edge cases, each a scalar function of one variable.</summary>
public static partial class EdgeCases
{
    [Differentiable] public static double InfiniteForWithBreak(double x) { for (;;) { if (x > 10) break; x = x * 2; } return x; }

    [Differentiable] public static double DoWhile(double x) { do { x = x * 1.5; } while (x < 10); return x; }

    // Regression (#11): a long bound made the reverse trip count long, and 'int _trips = …' did not compile.
    [Differentiable] public static double LongBound(double x, long n) { double s = 0; for (int i = 0; i < n; i++) s = s * x + i; return s; }

    [Differentiable] public static double ConstLongBound(double x) { const long n = 4; const byte k = 3; double s = 0; for (int i = 0; i < n; i++) s = s * x + k; return s; }

    [Differentiable] public static double TwoLoopVariables(double x, int n) { double s = 0; for (int i = 0, j = n; i < j; i++, j--) s += x * i * j; return s; }

    [Differentiable] public static double NegativeStride(double x) { double s = 0; for (int i = 9; i >= 0; i -= 2) s = s * x + i; return s; }

    [Differentiable] public static double ReturnFromInfiniteWhile(double x) { while (true) { x = x * 0.5 + Math.Sin(x); if (x < 1) return x * x; } }

    [Differentiable] public static double CompoundOnParameter(double x) { x *= x; x /= 3; x -= 1; x += x; return x; }

    [Differentiable] public static double NestedBreakContinue(double x) { for (int i = 0; i < 3; i++) { for (int j = 0; j < 3; j++) { if (j == i) continue; if (j > 1) break; x = x * 1.1 + j * x * x * 0.01; } } return x; }

    [Differentiable] public static double Recursive(double x, int depth) { if (depth <= 0) return x; return Math.Sin(Recursive(x, depth - 1)) + x; }

    [Differentiable] public static double SameNameInSiblingBlocks(double x) { double y = x; { double z = y * 2; y = z * y; } { double z = y * 3; y = z + y; } return y; }

    [Differentiable] public static double ArrayScratch(double x) { double[] t = new double[3]; t[0] = x; t[1] = t[0] * t[0]; t[2] = t[1] * t[0]; return t[2]; }

    [Differentiable] public static double LocalRedefinedPerIteration(double x) { double s = 0; for (int i = 0; i < 3; i++) { double z = i; z = z * x; s += z * z; } return s; }

    [Differentiable] public static double SwitchWithLocals(double x, int mode)
    {
        double r = 0;
        switch (mode)
        {
            case 0: r = x * x; break;
            case 1: { double t = Math.Exp(x); r = t * x; break; }
            default: r = Math.Log(1 + x * x); break;
        }
        return r;
    }

    [Differentiable] public static double ShortCircuit(double x) { bool b = x > 1; if (b && x < 3 || !b) return x * x * x; return x; }

    [Differentiable] public static double WhileWithDataDependentTrips(double x) { double y = x; int k = 0; while (y < 100 && k < 50) { y = y * 1.3 + 0.1 * y * y; k++; } return y + k; }
}

/// <summary>Regressions reported by the physics engineer.</summary>
public static partial class Regressions
{
    /// <summary>A bool local overwritten inside nested branches in a loop (tape order of branch flags).</summary>
    [Differentiable]
    public static double Pick(ReadOnlySpan<double> f, int lo)
    {
        double s = 0;
        for (int c = 0; c < 2; c++)
        {
            int i = c - 1;
            bool zero = false;
            if (i < 0) { if (lo == 0) { i = 0; } else { zero = true; i = 0; } }
            double val = zero ? 0.0 : f[i];
            s += val * val;
        }
        return s;
    }

    /// <summary>A running maximum that flips a bool flag: bool values are taped inside a taped branch.</summary>
    [Differentiable]
    public static double RunningMaxFlag(ReadOnlySpan<double> x)
    {
        double th = -1e9;
        bool flag = false;
        double s = 0;
        for (int c = 0; c < x.Length; c++)
        {
            if (x[c] > th) { th = x[c]; flag = !flag; }
            s += flag ? x[c] * x[c] : 3 * x[c];
        }
        return s + th;
    }

    /// <summary>A conditional with a constant branch inside a compound assignment.</summary>
    [Differentiable]
    public static double ConditionalAccumulate(ReadOnlySpan<double> f, bool zeroFlag)
    {
        double s = 0;
        for (int i = 0; i < f.Length; i++) s += zeroFlag ? 0.0 : f[i] * f[i];
        return s;
    }
}
