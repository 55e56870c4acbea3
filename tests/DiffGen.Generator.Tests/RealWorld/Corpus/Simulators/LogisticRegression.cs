// The regularised logistic-regression cost of a model object (weights array, bias, lambda) over
// a double[,] feature matrix and int labels, as in a machine-learning tutorial.
using System;
using CorpusSupport;
using DiffGen;

namespace Learning;

public sealed partial class LogisticModel
{
    private const double Epsilon = 1e-12;

    public double[] Weights { get; }
    public double Bias { get; set; }
    public double Lambda { get; set; }

    public LogisticModel(int features, double lambda)
    {
        Weights = new double[features];
        Lambda = lambda;
    }

    [Differentiable]
    public double Cost(double[,] x, int[] y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int m = x.GetLength(0);
        int n = x.GetLength(1);
        if (n != Weights.Length) throw new ArgumentException("Feature count does not match the model.", nameof(x));

        double Sigmoid(double z) => 1.0 / (1.0 + Math.Exp(-z));

        double cost = 0;
        for (int i = 0; i < m; i++)
        {
            double z = Bias;
            for (int j = 0; j < n; j++) z += Weights[j] * x[i, j];
            double h = Sigmoid(z);
            cost -= y[i] == 1 ? Math.Log(h + Epsilon) : Math.Log(1 - h + Epsilon);
        }
        cost /= m;

        double penalty = 0;
        foreach (double w in Weights) penalty += w * w;
        return cost + Lambda / (2.0 * m) * penalty;
    }
}

public static class Driver
{
    private const int M = 6, N = 3;
    private static readonly int[] Labels = [1, 0, 0, 1, 1, 0];

    private static readonly double[] P0 = Data.Concat(Data.Uniform(N, 61, -1, 1), [0.2, 0.1], Data.Uniform(M * N, 62, -2, 2));

    private static LogisticModel Make(Reader r)
    {
        var model = new LogisticModel(N, 0.0);
        for (int j = 0; j < N; j++) model.Weights[j] = r.D();
        model.Bias = r.D();
        model.Lambda = r.D();
        return model;
    }

    private static double Loss(double[] p)
    {
        var r = new Reader(p);
        var model = Make(r);
        return model.Cost(r.D2(M, N), Labels);
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;

    private static double[] Gradient(double[] p)
    {
        var r = new Reader(p);
        var model = Make(r);
        var x = r.D2(M, N);
        var bar = model.CreateShadow();
        var xBar = new double[M, N];
        model.CostPullback(x, Labels, 1.0, bar, xBar);
        return new Writer().Add(bar.Weights).Add(bar.Bias).Add(bar.Lambda).Add(xBar).ToArray();
    }
#endif

    public static string? Check() => CorpusSupport.Check.Gradient("LogisticModel.Cost", Loss, Ad, P0);
}
