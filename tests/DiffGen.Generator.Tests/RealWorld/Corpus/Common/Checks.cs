// Shared by every corpus file (compiled beside it, never into the test project). A driver packs a
// simulator's differentiable inputs into one double[] p, defines a loss L(p) = sum_k w_k * out_k
// over the outputs (w_k fixed pseudo-random weights), and compares the gradient it gets from the
// generated pullback with fourth-order central differences of L.
// In a DIFFGEN_PRIMAL_ONLY build (no generator) drivers pass no AD gradient: only the finite
// differences run, and their convergence is checked (steps h and 2h must agree to a quarter of the
// tolerance), which validates the FD half of every driver on today's compiler.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace CorpusSupport;

/// <summary>Reads values in order from a flat parameter vector (or from the seed weights).</summary>
public sealed class Reader
{
    private readonly Func<int, double> _at;
    private int _i;

    public Reader(double[] p) { _at = k => p[k]; }
    private Reader(Func<int, double> at) { _at = at; }

    /// <summary>The loss weights w_0, w_1, ... in the order the outputs were written.</summary>
    public static Reader Seeds() => new(Data.Weight);

    public int Count => _i;
    public double D() => _at(_i++);
    public float F() => (float)_at(_i++);
    public Vector2 V2() { float x = F(); return new Vector2(x, F()); }
    public Vector3 V3() { float x = F(); float y = F(); return new Vector3(x, y, F()); }
    public double[] Ds(int n) { var a = new double[n]; for (int i = 0; i < n; i++) a[i] = D(); return a; }
    public float[] Fs(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = F(); return a; }
    public Vector2[] V2s(int n) { var a = new Vector2[n]; for (int i = 0; i < n; i++) a[i] = V2(); return a; }
    public Vector3[] V3s(int n) { var a = new Vector3[n]; for (int i = 0; i < n; i++) a[i] = V3(); return a; }
    public double[,] D2(int n, int m) { var a = new double[n, m]; for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) a[i, j] = D(); return a; }
    public float[,] F2(int n, int m) { var a = new float[n, m]; for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) a[i, j] = F(); return a; }
    public double[,,] D3(int n, int m, int l) { var a = new double[n, m, l]; for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) for (int k = 0; k < l; k++) a[i, j, k] = D(); return a; }
    public float[,,] F3(int n, int m, int l) { var a = new float[n, m, l]; for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) for (int k = 0; k < l; k++) a[i, j, k] = F(); return a; }
    public double[][] Jag(int n, int m) { var a = new double[n][]; for (int i = 0; i < n; i++) a[i] = Ds(m); return a; }
    public List<double> List(int n) => new(Ds(n));
    public List<Vector3> ListV3(int n) => new(V3s(n));
}

/// <summary>Collects values in order into a flat vector (outputs, or adjoints in parameter order).</summary>
public sealed class Writer
{
    private readonly List<double> _v = new();

    public int Count => _v.Count;
    public Writer Add(double x) { _v.Add(x); return this; }
    public Writer Add(Vector2 x) { _v.Add(x.X); _v.Add(x.Y); return this; }
    public Writer Add(Vector3 x) { _v.Add(x.X); _v.Add(x.Y); _v.Add(x.Z); return this; }
    public Writer Add(IEnumerable<double> xs) { foreach (var x in xs) _v.Add(x); return this; }
    public Writer Add(IEnumerable<float> xs) { foreach (var x in xs) _v.Add(x); return this; }
    public Writer Add(IEnumerable<Vector2> xs) { foreach (var x in xs) Add(x); return this; }
    public Writer Add(IEnumerable<Vector3> xs) { foreach (var x in xs) Add(x); return this; }
    public Writer Add(double[,] a) { foreach (var x in a) _v.Add(x); return this; }
    public Writer Add(float[,] a) { foreach (var x in a) _v.Add(x); return this; }
    public Writer Add(double[,,] a) { foreach (var x in a) _v.Add(x); return this; }
    public Writer Add(float[,,] a) { foreach (var x in a) _v.Add(x); return this; }
    public Writer Add(double[][] a) { foreach (var r in a) Add(r); return this; }
    public double[] ToArray() => _v.ToArray();

    /// <summary>The loss: sum_k w_k * value_k with the fixed weights of <see cref="Data.Weight"/>.</summary>
    public double Loss() { double s = 0; for (int k = 0; k < _v.Count; k++) s += Data.Weight(k) * _v[k]; return s; }
}

public static class Data
{
    /// <summary>Fixed pseudo-random loss weight of output k, in [-1.1, 1.1], never near 0 for long.</summary>
    public static double Weight(int k) => 0.8 * Math.Sin(0.9 * k + 0.4) + 0.3;

    /// <summary>Deterministic values in [lo, hi), rounded to float so double and float twins share the point.</summary>
    public static double[] Uniform(int n, int seed, double lo, double hi)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * r.NextDouble());
        return a;
    }

    public static double[] Concat(params double[][] parts)
    {
        var w = new Writer();
        foreach (var p in parts) w.Add(p);
        return w.ToArray();
    }

    public static float[] ToFloat(double[] a) { var r = new float[a.Length]; for (int i = 0; i < a.Length; i++) r[i] = (float)a[i]; return r; }
}

/// <summary>Finite differences and comparisons; each check returns null or a description of the failure.</summary>
public static class Check
{
    public const double DoubleTolerance = 1e-6;
    public const double FloatTolerance = 1e-3;
    /// <summary>Relative step for a double loss: fourth-order truncation ~h^4, round-off ~1e-16/h.</summary>
    public const double DoubleStep = 1e-4;
    /// <summary>Relative step for a loss computed in float (Vector2/3 code): round-off ~6e-8/h.</summary>
    public const double FloatStep = 1e-2;

    /// <summary>
    /// Fourth-order central difference of <paramref name="f"/> along coordinate i, step
    /// h*max(|p_i|, floor): floor 0.1 for a double loss, 1 for a float one (whose round-off
    /// needs the larger step).
    /// </summary>
    public static double[] FdGradient(Func<double[], double> f, double[] p, double step, double floor)
    {
        var g = new double[p.Length];
        var x = (double[])p.Clone();
        for (int i = 0; i < p.Length; i++)
        {
            double h = step * Math.Max(floor, Math.Abs(p[i]));
            x[i] = p[i] + h; double f1 = f(x);
            x[i] = p[i] - h; double m1 = f(x);
            x[i] = p[i] + 2 * h; double f2 = f(x);
            x[i] = p[i] - 2 * h; double m2 = f(x);
            x[i] = p[i];
            g[i] = (8 * (f1 - m1) - (f2 - m2)) / (12 * h);
        }
        return g;
    }

    /// <summary>Fourth-order central difference of a vector function along direction v.</summary>
    public static double[] FdDirectional(Func<double[], double[]> f, double[] p, double[] v, double h)
    {
        double[] At(double t) { var x = new double[p.Length]; for (int i = 0; i < p.Length; i++) x[i] = p[i] + t * v[i]; return f(x); }
        var f1 = At(h); var m1 = At(-h); var f2 = At(2 * h); var m2 = At(-2 * h);
        var d = new double[f1.Length];
        for (int k = 0; k < d.Length; k++) d[k] = (8 * (f1[k] - m1[k]) - (f2[k] - m2[k])) / (12 * h);
        return d;
    }

    /// <summary>
    /// Largest entry-wise relative error |a-e| / max(|a|, |e|, floor) with floor = sqrt(tol) * max|e|:
    /// entries much smaller than the gradient's largest are judged against that scale instead of
    /// against their own round-off.
    /// </summary>
    public static (double Error, int Index) RelativeError(double[] a, double[] e, double tol)
    {
        double scale = 0;
        foreach (var x in e) scale = Math.Max(scale, Math.Abs(x));
        double floor = Math.Max(Math.Sqrt(tol) * scale, 1e-12);
        double worst = 0; int at = -1;
        for (int i = 0; i < a.Length; i++)
        {
            if (!double.IsFinite(a[i]) || !double.IsFinite(e[i])) return (double.PositiveInfinity, i);
            double r = Math.Abs(a[i] - e[i]) / Math.Max(floor, Math.Max(Math.Abs(a[i]), Math.Abs(e[i])));
            if (r > worst) { worst = r; at = i; }
        }
        return (worst, at);
    }

    /// <summary>
    /// The gradient of <paramref name="loss"/> at p from <paramref name="ad"/> (null in a primal-only
    /// build) against finite differences. Also fails when the finite differences themselves have not
    /// converged (steps h and 2h disagree by more than tol/4): then the driver, not the generator, is wrong.
    /// </summary>
    public static string? Gradient(string what, Func<double[], double> loss, Func<double[], double[]>? ad, double[] p,
        double tol = DoubleTolerance, double step = DoubleStep)
    {
        double floor = tol >= FloatTolerance ? 1.0 : 0.1;
        var fd = FdGradient(loss, p, step, floor);
        var fd2 = FdGradient(loss, p, 2 * step, floor);
        var (ce, ci) = RelativeError(fd2, fd, tol);
        if (ce > tol / 4)
            return F($"{what}: finite differences not converged (h vs 2h relative error {ce:E2} at [{ci}]: {fd[ci]:R} vs {fd2[ci]:R})");
        bool allZero = true;
        foreach (var x in fd) if (x != 0) allZero = false;
        if (allZero) return F($"{what}: the finite-difference gradient is identically zero; the driver checks nothing");
        if (ad is null) return null;
        double[] g;
        try { g = ad((double[])p.Clone()); }
        catch (Exception ex) { return F($"{what}: the AD gradient threw {ex.GetType().Name}: {ex.Message}"); }
        if (g.Length != fd.Length) return F($"{what}: AD gradient has {g.Length} entries, expected {fd.Length}");
        var (err, at) = RelativeError(g, fd, tol);
        return err <= tol ? null
            : F($"{what}: relative error {err:E2} > {tol:E0} at [{at}]: AD {g[at]:R}, FD {fd[at]:R}");
    }

    /// <summary>A tangent (forward mode) of the outputs of f at p along v against finite differences.</summary>
    public static string? Tangent(string what, Func<double[], double[]> f, Func<double[], double[], double[]>? jvp, double[] p, double[] v,
        double tol = DoubleTolerance, double step = DoubleStep)
    {
        var fd = FdDirectional(f, p, v, step);
        var fd2 = FdDirectional(f, p, v, 2 * step);
        var (ce, ci) = RelativeError(fd2, fd, tol);
        if (ce > tol / 4)
            return F($"{what}: directional finite differences not converged (h vs 2h {ce:E2} at [{ci}])");
        if (jvp is null) return null;
        double[] t;
        try { t = jvp((double[])p.Clone(), (double[])v.Clone()); }
        catch (Exception ex) { return F($"{what}: the tangent threw {ex.GetType().Name}: {ex.Message}"); }
        if (t.Length != fd.Length) return F($"{what}: tangent has {t.Length} entries, expected {fd.Length}");
        var (err, at) = RelativeError(t, fd, tol);
        return err <= tol ? null : F($"{what}: tangent relative error {err:E2} > {tol:E0} at [{at}]: AD {t[at]:R}, FD {fd[at]:R}");
    }

    /// <summary>A value the pullback returns or writes must equal what the method itself computes.</summary>
    public static string? Same(string what, double actual, double expected, double tol = 1e-12)
    {
        double scale = Math.Max(1e-300, Math.Max(Math.Abs(actual), Math.Abs(expected)));
        return Math.Abs(actual - expected) <= tol * scale ? null : F($"{what}: {actual:R} but the method computes {expected:R}");
    }

    /// <summary>The first failure of several checks (all are evaluated), or null.</summary>
    public static string? All(params string?[] results)
    {
        var sb = new StringBuilder();
        foreach (var r in results)
            if (r != null) sb.Append(sb.Length > 0 ? "; " : "").Append(r);
        return sb.Length == 0 ? null : sb.ToString();
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Whether this build is the primal-only one (no generator; drivers pass no AD derivatives).</summary>
public static class Modes
{
#if DIFFGEN_PRIMAL_ONLY
    public static readonly bool PrimalOnly = true;
#else
    public static readonly bool PrimalOnly = false;
#endif
}

/// <summary>
/// A driver's AD derivatives by method name (empty in the primal-only build). <see cref="For"/>
/// throws on a name that has none, and <see cref="Unused"/> names entries no check asked for, so a
/// typo can never turn a check into one that compares nothing.
/// </summary>
public class Derivatives<TFunc> : Dictionary<string, TFunc> where TFunc : class
{
    private readonly HashSet<string> _used = new();

    public TFunc? For(string name)
    {
        if (Modes.PrimalOnly) return null;
        _used.Add(name);
        return TryGetValue(name, out var f) ? f : throw new KeyNotFoundException($"the driver has no derivative named {name}");
    }

    public string? Unused()
    {
        var missing = new List<string>();
        foreach (var k in Keys) if (!_used.Contains(k)) missing.Add(k);
        return missing.Count == 0 ? null : "derivatives never checked: " + string.Join(", ", missing);
    }
}

/// <summary>Reverse mode: p -> dL/dp through the generated pullbacks.</summary>
public sealed class Gradients : Derivatives<Func<double[], double[]>>;

/// <summary>Forward mode: (p, v) -> the outputs' tangent through the generated pushforwards.</summary>
public sealed class Tangents : Derivatives<Func<double[], double[], double[]>>;
