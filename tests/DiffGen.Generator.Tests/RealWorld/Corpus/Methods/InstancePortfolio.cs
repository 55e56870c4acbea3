// Instance state with array fields, a double[,] argument, and instance methods calling each other:
// mean-variance portfolio utility as in a quant tutorial. A float twin of the utility too.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Finance;

public partial class Portfolio
{
    public double[] Weights { get; }
    public double[] ExpectedReturns { get; }
    public double RiskAversion { get; set; }

    public Portfolio(double[] weights, double[] expectedReturns, double riskAversion)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(expectedReturns);
        if (weights.Length != expectedReturns.Length) throw new ArgumentException("One expected return per asset.", nameof(expectedReturns));
        Weights = weights;
        ExpectedReturns = expectedReturns;
        RiskAversion = riskAversion;
    }

    [Differentiable]
    public double ExpectedReturn()
    {
        double r = 0;
        for (int i = 0; i < Weights.Length; i++) r += Weights[i] * ExpectedReturns[i];
        return r;
    }

    [Differentiable]
    public double Variance(double[,] covariance)
    {
        int n = Weights.Length;
        if (covariance.GetLength(0) != n || covariance.GetLength(1) != n)
            throw new ArgumentException("Covariance must be n x n.", nameof(covariance));
        double v = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                v += Weights[i] * covariance[i, j] * Weights[j];
        return v;
    }

    [Differentiable]
    public double Utility(double[,] covariance) => ExpectedReturn() - 0.5 * RiskAversion * Variance(covariance);
}

public partial class PortfolioF
{
    public float[] Weights { get; }
    public float[] ExpectedReturns { get; }
    public float RiskAversion { get; set; }

    public PortfolioF(float[] weights, float[] expectedReturns, float riskAversion)
    {
        Weights = weights;
        ExpectedReturns = expectedReturns;
        RiskAversion = riskAversion;
    }

    [Differentiable]
    public float Utility(float[,] covariance)
    {
        int n = Weights.Length;
        float mean = 0f, variance = 0f;
        for (int i = 0; i < n; i++)
        {
            mean += Weights[i] * ExpectedReturns[i];
            for (int j = 0; j < n; j++) variance += Weights[i] * covariance[i, j] * Weights[j];
        }
        return mean - 0.5f * RiskAversion * variance;
    }
}

public static class Driver
{
    private const int N = 4;
    private static readonly double[] P = Data.Concat(Data.Uniform(N, 101, 0.1, 0.4), Data.Uniform(N, 102, 0.01, 0.12), [3.0], Data.Uniform(N * N, 103, -0.02, 0.05));

    private static Portfolio Make(Reader r) => new(r.Ds(N), r.Ds(N), r.D());
    private static PortfolioF MakeF(Reader r) => new(r.Fs(N), r.Fs(N), r.F());

    private static double UtilityDouble(double[] p) { var r = new Reader(p); return Make(r).Utility(r.D2(N, N)); }

    public static string? Check() => C.All(
        C.Gradient("Portfolio.ExpectedReturn", p => Make(new Reader(p)).ExpectedReturn(), Ad.For("ExpectedReturn"), P[..(2 * N + 1)]),
        C.Gradient("Portfolio.Variance", p => { var r = new Reader(p); return Make(r).Variance(r.D2(N, N)); }, Ad.For("Variance"), P),
        C.Gradient("Portfolio.Utility", UtilityDouble, Ad.For("Utility"), P),
        C.Gradient("PortfolioF.Utility", UtilityDouble, Ad.For("UtilityF"), P, C.FloatTolerance),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static double[] Bar(Portfolio bar, double[,]? covBar) =>
        covBar == null ? new Writer().Add(bar.Weights).Add(bar.ExpectedReturns).Add(bar.RiskAversion).ToArray()
            : new Writer().Add(bar.Weights).Add(bar.ExpectedReturns).Add(bar.RiskAversion).Add(covBar).ToArray();

    private static readonly Gradients Ad = new()
    {
        ["ExpectedReturn"] = p => { var pf = Make(new Reader(p)); var bar = pf.CreateShadow(); pf.ExpectedReturnPullback(1.0, bar); return Bar(bar, null); },
        ["Variance"] = p =>
        {
            var r = new Reader(p); var pf = Make(r); var cov = r.D2(N, N);
            var bar = pf.CreateShadow(); var covBar = new double[N, N];
            pf.VariancePullback(cov, 1.0, bar, covBar);
            return Bar(bar, covBar);
        },
        ["Utility"] = p =>
        {
            var r = new Reader(p); var pf = Make(r); var cov = r.D2(N, N);
            var bar = pf.CreateShadow(); var covBar = new double[N, N];
            double u = pf.UtilityPullback(cov, 1.0, bar, covBar);
            if (u != pf.Utility(cov)) throw new InvalidOperationException("UtilityPullback returned a different utility");
            return Bar(bar, covBar);
        },
        ["UtilityF"] = p =>
        {
            var r = new Reader(p); var pf = MakeF(r); var cov = r.F2(N, N);
            var bar = pf.CreateShadow(); var covBar = new float[N, N];
            pf.UtilityPullback(cov, 1f, bar, covBar);
            return new Writer().Add(bar.Weights).Add(bar.ExpectedReturns).Add(bar.RiskAversion).Add(covBar).ToArray();
        },
    };
#endif
}
