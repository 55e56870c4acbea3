using DiffGen.NN.Optim;

namespace DiffGen.NN.Tests;

/// <summary>L-BFGS on a quadratic, the Rosenbrock function, with bounds, and its argument checks.</summary>
public class LbfgsTests
{
    [Fact]
    public void Quadratic_IllConditioned_ConvergesToTheMinimiser()
    {
        // f = ½ Σ c_i (x_i - i)², condition number 100: gradient descent with the best fixed step needs about
        // κ ln(1e9) ≈ 2000 steps for this accuracy; L-BFGS about 70.
        int n = 20;
        double F(double[] x, double[] g)
        {
            double f = 0;
            for (int i = 0; i < n; i++)
            {
                double c = Math.Pow(10, 2.0 * i / (n - 1)), r = x[i] - i;
                f += 0.5 * c * r * r;
                g[i] = c * r;
            }
            return f;
        }
        var r = new Lbfgs(history: 10, gradientTolerance: 1e-8, relativeTolerance: 0).Minimize(F, new double[n], maxIterations: 200);
        Assert.True(r.Converged, $"{r.Reason}: |g| {r.GradientNorm}, f {r.Value}, {r.Evaluations} evaluations");
        for (int i = 0; i < n; i++) Assert.Equal(i, r.X[i], 6);
        Assert.True(r.Iterations < 100, $"{r.Iterations} iterations");
    }

    [Fact]
    public void Rosenbrock_ConvergesToOneOne()
    {
        double F(double[] x, double[] g)
        {
            double a = 1 - x[0], b = x[1] - x[0] * x[0];
            g[0] = -2 * a - 400 * x[0] * b;
            g[1] = 200 * b;
            return a * a + 100 * b * b;
        }
        var values = new List<double>();
        var r = new Lbfgs(history: 5, gradientTolerance: 1e-10).Minimize(F, [-1.2, 1.0], maxIterations: 500, (_, f, _) => values.Add(f));
        Assert.True(r.Converged, r.Reason);
        Assert.Equal(1.0, r.X[0], 6);
        Assert.Equal(1.0, r.X[1], 6);
        Assert.True(r.Iterations < 100, $"{r.Iterations} iterations");
        for (int i = 1; i < values.Count; i++) Assert.True(values[i] <= values[i - 1], "every accepted step lowers f");
    }

    [Fact]
    public void Bounds_StopAtTheBoundary()
    {
        // min (x - 3)² over [0, 1]: the answer is the bound 1, where the projected gradient vanishes.
        var r = new Lbfgs().Minimize((x, g) => { g[0] = 2 * (x[0] - 3); return (x[0] - 3) * (x[0] - 3); }, [0.2], 50, lower: 0, upper: 1);
        Assert.True(r.Converged, r.Reason);
        Assert.Equal(1.0, r.X[0], 12);
    }

    [Fact]
    public void Bounds_Coupled_ReachTheConstrainedMinimiser()
    {
        // min (x0 - 3)² + 5 (x0 - x1)² over [0, 1]²: the minimiser (1, 1) has x0 on its bound and x1 pulled there by the coupling.
        double F(double[] x, double[] g)
        {
            g[0] = 2 * (x[0] - 3) + 10 * (x[0] - x[1]);
            g[1] = -10 * (x[0] - x[1]);
            return (x[0] - 3) * (x[0] - 3) + 5 * (x[0] - x[1]) * (x[0] - x[1]);
        }
        var r = new Lbfgs(gradientTolerance: 1e-10, relativeTolerance: 0).Minimize(F, [0.2, 0.0], 100, lower: 0, upper: 1);
        Assert.True(r.Converged, $"{r.Reason}: x = ({r.X[0]}, {r.X[1]}), |g| {r.GradientNorm}");
        Assert.Equal(1.0, r.X[0], 9);
        Assert.Equal(1.0, r.X[1], 9);
    }

    [Fact]
    public void BadArguments_AreNamed()
    {
        Assert.Equal("history", Assert.Throws<ArgumentOutOfRangeException>(() => new Lbfgs(history: 0)).ParamName);
        Assert.Equal("armijo", Assert.Throws<ArgumentOutOfRangeException>(() => new Lbfgs(armijo: 1)).ParamName);
        Assert.Equal("x0", Assert.Throws<ArgumentException>(() => new Lbfgs().Minimize((_, _) => 0, ReadOnlySpan<double>.Empty, 1)).ParamName);
        Assert.Throws<InvalidOperationException>(() => new Lbfgs().Minimize((_, _) => double.NaN, [1.0], 1));
    }
}
