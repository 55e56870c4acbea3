namespace DiffGen;

/// <summary>
/// Checks derivatives against central finite differences in double precision. Used by the test
/// suites and available to users who write a custom derivative and want to verify it.
/// </summary>
public static class GradCheck
{
    /// <summary>Default relative step: h = <c>Step * max(1, |x_i|)</c>.</summary>
    public const double Step = 1e-5;

    /// <summary>The central-difference gradient of a scalar function at <paramref name="x"/>.</summary>
    /// <param name="f">The function; it must not modify its argument.</param>
    /// <param name="x">The point (not modified).</param>
    /// <param name="relativeStep">Relative step size.</param>
    public static double[] FiniteDifferenceGradient(Func<double[], double> f, ReadOnlySpan<double> x, double relativeStep = Step)
    {
        ArgumentNullException.ThrowIfNull(f);
        var g = new double[x.Length];
        var xp = x.ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            double h = relativeStep * Math.Max(1.0, Math.Abs(x[i]));
            xp[i] = x[i] + h;
            double fp = f(xp);
            xp[i] = x[i] - h;
            double fm = f(xp);
            xp[i] = x[i];
            g[i] = (fp - fm) / (2 * h);
        }
        return g;
    }

    /// <summary>The central-difference directional derivative of a vector function along <paramref name="v"/>.</summary>
    public static double[] FiniteDifferenceDirectional(Func<double[], double[]> f, ReadOnlySpan<double> x, ReadOnlySpan<double> v, double step = Step)
    {
        ArgumentNullException.ThrowIfNull(f);
        if (x.Length != v.Length) throw new ArgumentException($"x has {x.Length} entries but the direction v has {v.Length}.", nameof(v));
        var xp = new double[x.Length];
        var xm = new double[x.Length];
        for (int i = 0; i < x.Length; i++) { xp[i] = x[i] + step * v[i]; xm[i] = x[i] - step * v[i]; }
        var fp = f(xp);
        var fm = f(xm);
        var d = new double[fp.Length];
        for (int i = 0; i < d.Length; i++) d[i] = (fp[i] - fm[i]) / (2 * step);
        return d;
    }

    /// <summary>
    /// The largest relative error between two vectors, entry by entry:
    /// <c>|a - b| / max(|a|, |b|, floor)</c>. The floor keeps entries that are both near zero from
    /// dominating through round-off.
    /// </summary>
    public static double MaxRelativeError(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, double floor = 1e-6)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"Lengths differ: actual has {actual.Length} entries, expected {expected.Length}.", nameof(expected));
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (double.IsNaN(a) || double.IsNaN(e) || double.IsInfinity(a) || double.IsInfinity(e))
                return double.PositiveInfinity;
            double scale = Math.Max(floor, Math.Max(Math.Abs(a), Math.Abs(e)));
            worst = Math.Max(worst, Math.Abs(a - e) / scale);
        }
        return worst;
    }

    /// <summary>
    /// Throws <see cref="GradCheckException"/> naming the worst entry when <paramref name="actual"/>
    /// and <paramref name="expected"/> differ by more than <paramref name="tolerance"/> (relative).
    /// </summary>
    public static void AssertClose(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, double tolerance = 1e-6, string what = "gradient", double floor = 1e-6)
    {
        double err = MaxRelativeError(actual, expected, floor);
        if (err <= tolerance) return;
        int worstIndex = 0;
        double worst = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double scale = Math.Max(floor, Math.Max(Math.Abs(actual[i]), Math.Abs(expected[i])));
            double e = Math.Abs(actual[i] - expected[i]) / scale;
            if (!(e <= worst)) { worst = e; worstIndex = i; }
        }
        throw new GradCheckException(
            $"{what}: relative error {err:E3} exceeds {tolerance:E1}; worst at [{worstIndex}]: actual {actual[worstIndex]:R}, expected {expected[worstIndex]:R}.");
    }
}

/// <summary>Thrown by <see cref="GradCheck.AssertClose"/> when a derivative disagrees with its reference.</summary>
public sealed class GradCheckException(string message) : Exception(message);

/// <summary>Checks of whole Jacobians: forward mode, reverse mode and finite differences must agree.</summary>
public static class JacobianCheck
{
    /// <summary>
    /// Builds the Jacobian of <paramref name="map"/> at <paramref name="x"/> three ways and throws
    /// <see cref="GradCheckException"/> naming the first disagreeing entry beyond the tolerance.
    /// </summary>
    public static void AssertConsistent(SpanMap map, SpanMapPushforward pushforward, SpanMapPullback pullback, ReadOnlySpan<double> x, int outputLength, double tolerance = 1e-6)
    {
        var fwd = Jacobians.ByForward(pushforward, x, outputLength);
        var rev = Jacobians.ByReverse(pullback, x, outputLength);
        var fd = Jacobians.ByFiniteDifferences(map, x, outputLength);
        GradCheck.AssertClose(Flatten(fwd), Flatten(rev), tolerance, "forward vs reverse Jacobian");
        GradCheck.AssertClose(Flatten(fwd), Flatten(fd), tolerance, "forward vs finite-difference Jacobian");
    }

    private static double[] Flatten(double[,] a)
    {
        var r = new double[a.Length];
        int k = 0;
        foreach (var v in a) r[k++] = v;
        return r;
    }
}
