namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Calls outside loops run as the callee's two pullback halves (forward half in the caller's forward
/// sweep, reverse half in its reverse sweep). Each kernel stresses one thing that mode must get right.
/// </summary>
public static partial class SplitCalls
{
    /// <summary>Writes y, then reads it again to write w: the reverse half needs y's final contents.</summary>
    [Differentiable]
    public static void SquareThenSquare(ReadOnlySpan<double> x, Span<double> y, Span<double> w)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * x[i];
        for (int i = 0; i < x.Length; i++) w[i] = y[i] * y[i] + Math.Sin(y[i]);
    }

    /// <summary>Overwrites y after the split call, which the callee's reverse half reads.</summary>
    [Differentiable]
    public static double OverwriteAfterCall(ReadOnlySpan<double> x, Span<double> y, Span<double> w)
    {
        SquareThenSquare(x, y, w);
        for (int i = 0; i < y.Length; i++) y[i] = 2 * w[i] + y[i];
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += y[i] * w[i];
        return s;
    }

    /// <summary>Updates y in place (the callee tapes what it overwrites and restores it in its reverse half).</summary>
    [Differentiable]
    public static void CubeInPlace(Span<double> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] = y[i] * y[i] * y[i];
    }

    /// <summary>Calls an in-place callee twice on its own output: the output must hold the primal result after the pullback.</summary>
    [Differentiable]
    public static void CopyAndCubeTwice(ReadOnlySpan<double> x, Span<double> y, double a)
    {
        for (int i = 0; i < x.Length; i++) y[i] = a * x[i];
        CubeInPlace(y);
        CubeInPlace(y);
    }

    /// <summary>Split calls in both branches of an if (outside loops), one taking a local array.</summary>
    [Differentiable]
    public static void BranchCalls(ReadOnlySpan<double> x, Span<double> y, int mode, double a)
    {
        double[] t = new double[x.Length];
        if (mode == 0)
        {
            SquareThenSquare(x, t, y);
        }
        else
        {
            for (int i = 0; i < x.Length; i++) t[i] = a * x[i];
            CubeInPlace(t);
            for (int i = 0; i < x.Length; i++) y[i] = t[i] + x[i];
        }
    }

    /// <summary>A scalar argument reads a span the call writes: stays a re-run call.</summary>
    [Differentiable]
    public static void ScalarArgFromWrittenSpan(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i];
        ScaleInPlace(y, y[0]);
    }

    /// <summary>y *= a.</summary>
    [Differentiable]
    public static void ScaleInPlace(Span<double> y, double a)
    {
        for (int i = 0; i < y.Length; i++) y[i] = y[i] * a;
    }
}

/// <summary>A hand-written pullback with a registered reverse half (DerivativeKind.PullbackReverse).</summary>
public static partial class HandWrittenReverse
{
    /// <summary>How often <see cref="Double"/> ran (the reverse half must not re-run it).</summary>
    [ThreadStatic] public static int Runs;

    /// <summary>y = 2 x; not differentiated by the generator.</summary>
    public static void Double(ReadOnlySpan<double> x, Span<double> y)
    {
        Runs++;
        for (int i = 0; i < x.Length; i++) y[i] = 2 * x[i];
    }

    /// <summary>The full pullback: re-runs the primal, then the reverse half.</summary>
    [DerivativeOf(typeof(HandWrittenReverse), nameof(Double))]
    public static void DoublePullback(ReadOnlySpan<double> x, Span<double> y, Span<double> xBar, Span<double> yBar)
    {
        Double(x, y);
        DoubleReverse(x, y, xBar, yBar);
    }

    /// <summary>The reverse half: adjoints only.</summary>
    [DerivativeOf(typeof(HandWrittenReverse), nameof(Double), Kind = DerivativeKind.PullbackReverse)]
    public static void DoubleReverse(ReadOnlySpan<double> x, Span<double> y, Span<double> xBar, Span<double> yBar)
    {
        for (int i = 0; i < x.Length; i++) xBar[i] += 2 * yBar[i];
        yBar.Clear();
    }

    /// <summary>Calls the hand-written method outside a loop (its reverse half is used) and inside one (its pullback is).</summary>
    [Differentiable]
    public static double Loss(ReadOnlySpan<double> x, Span<double> y, Span<double> z, int repeats)
    {
        Double(x, y);
        for (int r = 0; r < repeats; r++) Double(y, z);
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += y[i] * y[i] * x[i] + z[i];
        return s;
    }
}
