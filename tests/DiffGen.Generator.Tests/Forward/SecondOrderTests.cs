using DiffGen.Generator.Tests.Reverse;

namespace DiffGen.Generator.Tests.Forward;

/// <summary>
/// Hessian-vector products by forward over reverse ({Name}PullbackDual) against central finite
/// differences of the gradient, on 11 methods; and the Jacobian helpers against each other.
/// </summary>
public class SecondOrderTests
{
    private static double[] Rand(int n, int seed, double lo = -1, double hi = 1)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.NextDouble();
        return a;
    }

    /// <summary>Checks H·v from the dual pullback against (g(x + h v) - g(x - h v)) / 2h.</summary>
    private static void CheckHvp(Func<double[], double[]> gradient, DualGradient dual, double[] x, int seed)
    {
        var v = Rand(x.Length, seed);
        var hv = Hessians.VectorProduct(dual, x, v);
        double h = 1e-5;
        var gp = gradient(x.Zip(v, (a, b) => a + h * b).ToArray());
        var gm = gradient(x.Zip(v, (a, b) => a - h * b).ToArray());
        var fd = gp.Zip(gm, (a, b) => (a - b) / (2 * h)).ToArray();
        GradCheck.AssertClose(hv, fd, 1e-6, "Hessian-vector product");
        // The value parts of the dual adjoints are the gradient itself.
        var g = new Dual[x.Length];
        dual(Dual.Pack(x, v), g);
        GradCheck.AssertClose(Dual.Values(g), gradient(x), 1e-12, "gradient part");
    }

    private static DualGradient Scalar2(Func<Dual, Dual, (Dual, Dual)> f) => (x, g) => { var (a, b) = f(x[0], x[1]); g[0] = a; g[1] = b; };

    [Fact]
    public void Poly() => CheckHvp(
        x => { double a = 0, b = 0; Kernels.PolyPullback(x[0], x[1], 1, ref a, ref b); return [a, b]; },
        Scalar2((x, y) => { Dual a = 0, b = 0; Kernels.PolyPullbackDual(x, y, 1, ref a, ref b); return (a, b); }),
        [0.3, 0.7], 1);

    [Fact]
    public void MathMix() => CheckHvp(
        x => { double a = 0, b = 0; SecondOrderKernels.MathMixPullback(x[0], x[1], 1, ref a, ref b); return [a, b]; },
        Scalar2((x, y) => { Dual a = 0, b = 0; SecondOrderKernels.MathMixPullbackDual(x, y, 1, ref a, ref b); return (a, b); }),
        [0.8, -0.4], 2);

    [Fact]
    public void Loops() => CheckHvp(
        x => { double a = 0; Kernels.LoopsPullback(x[0], 7, 1, ref a); return [a]; },
        (x, g) => { Dual a = 0; Kernels.LoopsPullbackDual(x[0], 7, 1, ref a); g[0] = a; },
        [1.1], 3);

    [Fact]
    public void Energy() => CheckHvp(
        x => { var g = new double[x.Length - 1]; double nb = 0; Kernels.EnergyPullback(x[..^1], x[^1], 1, g, ref nb); return [.. g, nb]; },
        (x, g) => { var ub = new Dual[x.Length - 1]; Dual nb = 0; Kernels.EnergyPullbackDual(x[..^1], x[^1], 1, ub, ref nb); ub.CopyTo(g); g[^1] = nb; },
        Rand(9, 4), 5);

    [Fact]
    public void Rosenbrock() => CheckHvp(
        x => { var g = new double[x.Length]; SecondOrderKernels.RosenbrockPullback(x, 1, g); return g; },
        (x, g) => SecondOrderKernels.RosenbrockPullbackDual(x, 1, g),
        Rand(6, 6), 7);

    [Fact]
    public void LogSumExp() => CheckHvp(
        x => { var g = new double[x.Length]; SecondOrderKernels.LogSumExpPullback(x, 1, g); return g; },
        (x, g) => SecondOrderKernels.LogSumExpPullbackDual(x, 1, g),
        Rand(5, 8), 9);

    [Fact]
    public void SoftplusSum() => CheckHvp(
        x => { var g = new double[x.Length - 1]; double bb = 0; SecondOrderKernels.SoftplusSumPullback(x[..^1], x[^1], 1, g, ref bb); return [.. g, bb]; },
        (x, g) => { var ub = new Dual[x.Length - 1]; Dual bb = 0; SecondOrderKernels.SoftplusSumPullbackDual(x[..^1], x[^1], 1, ub, ref bb); ub.CopyTo(g); g[^1] = bb; },
        [.. Rand(5, 10), 1.7], 11);

    [Fact]
    public void SemiLagrangian_SumOfSquares() => CheckHvp(
        x => { int n = x.Length - 1; var g = new double[n]; double db = 0; Kernels.SemiLagrangianPullback(x[..n], new double[n], x[n], 1, g, new double[n], ref db); return [.. g, db]; },
        (x, g) => { int n = x.Length - 1; var ub = new Dual[n]; Dual db = 0; Kernels.SemiLagrangianPullbackDual(x[..n], new Dual[n], x[n], 1, ub, new Dual[n], ref db); ub.CopyTo(g); g[n] = db; },
        [.. Rand(10, 12, 0.1, 0.9), 0.7], 13);

    [Fact]
    public void CallsOthers_ThroughDualPullbacksOfCallees() => CheckHvp(
        x => { int n = x.Length - 1; var g = new double[n]; double xb = 0; Kernels.CallsOthersPullback(x[n], x[..n], new double[n], 1, ref xb, g, new double[n]); return [.. g, xb]; },
        (x, g) => { int n = x.Length - 1; var ub = new Dual[n]; Dual xb = 0; Kernels.CallsOthersPullbackDual(x[n], x[..n], new Dual[n], 1, ref xb, ub, new Dual[n]); ub.CopyTo(g); g[n] = xb; },
        [.. Rand(8, 14), 0.2], 15);

    [Fact]
    public void BurgersInPlace_WeightedFinalState()
    {
        int n = 8;
        var w = Rand(n, 16);
        CheckHvp(
            x => { var u = x[..n]; var g = (double[])w.Clone(); double db = 0; Kernels.BurgersInPlacePullback(u, x[n], 4, g, ref db); return [.. g, db]; },
            (x, g) => { var u = x[..n].ToArray(); var ub = w.Select(v => (Dual)v).ToArray(); Dual db = 0; Kernels.BurgersInPlacePullbackDual(u, x[n], 4, ub, ref db); ub.CopyTo(g); g[n] = db; },
            [.. Rand(n, 17), 0.1], 18);
    }

    [Fact]
    public void HeatStep_BilinearInNuAndU()
    {
        int n = 8;
        var w = Rand(n, 19);
        CheckHvp(
            x => { var g = new double[n]; double nb = 0; Kernels.HeatStepPullback(x[..n], new double[n], x[n], g, (double[])w.Clone(), ref nb); return [.. g, nb]; },
            (x, g) => { var ub = new Dual[n]; Dual nb = 0; Kernels.HeatStepPullbackDual(x[..n], new Dual[n], x[n], ub, w.Select(v => (Dual)v).ToArray(), ref nb); ub.CopyTo(g); g[n] = nb; },
            [.. Rand(n, 20), 0.3], 21);
    }

    [Fact]
    public void DenseHessian_IsSymmetric_AndMatchesRosenbrockAnalytic()
    {
        double[] x = [0.5, -0.3];
        var h = Hessians.Dense((xx, g) => SecondOrderKernels.RosenbrockPullbackDual(xx, 1, g), x);
        // f = 100 (y - x^2)^2 + (1 - x)^2
        double hxx = 1200 * x[0] * x[0] - 400 * x[1] + 2, hxy = -400 * x[0], hyy = 200;
        GradCheck.AssertClose([h[0, 0], h[0, 1], h[1, 0], h[1, 1]], [hxx, hxy, hxy, hyy], 1e-12, "dense Hessian");
    }

    [Fact]
    public void Jacobians_ForwardReverseAndFiniteDifferencesAgree()
    {
        int n = 10;
        double nu = 0.2;
        JacobianCheck.AssertConsistent(
            (x, y) => Kernels.HeatStep(x, y, nu),
            (x, xd, y, yd) => Kernels.HeatStepPushforward(x, xd, y, yd, nu, 0),
            (x, y, xb, yb) => { double nb = 0; Kernels.HeatStepPullback(x, y, nu, xb, yb, ref nb); },
            Rand(n, 22), n);
        var x0 = Rand(n, 23, 0.1, 0.9);
        var v = Rand(n, 24);
        var jv = Jacobians.Jvp((x, xd, y, yd) => Kernels.SemiLagrangianPushforward(x, xd, y, yd, 0.7, 0), x0, v, n);
        var fd = Jacobians.ByFiniteDifferences((x, y) => Kernels.SemiLagrangian(x, y, 0.7), x0, n);
        var expected = new double[n];
        for (int r = 0; r < n; r++) for (int c = 0; c < n; c++) expected[r] += fd[r, c] * v[c];
        GradCheck.AssertClose(jv, expected, 1e-6, "Jvp");
        var wv = Jacobians.Vjp((x, y, xb, yb) => { double db = 0; Kernels.SemiLagrangianPullback(x, y, 0.7, 0, xb, yb, ref db); }, x0, v);
        var expectedT = new double[n];
        for (int r = 0; r < n; r++) for (int c = 0; c < n; c++) expectedT[c] += fd[r, c] * v[r];
        GradCheck.AssertClose(wv, expectedT, 1e-6, "Vjp");
    }
}
