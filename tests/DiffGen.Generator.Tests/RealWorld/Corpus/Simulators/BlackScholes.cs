// Black-Scholes prices of a call and a put from a model object holding the market's rate and
// volatility; the normal CDF is the usual Abramowitz-Stegun polynomial in a local function.
using System;
using CorpusSupport;
using DiffGen;

namespace Pricing;

public sealed partial class BlackScholesModel
{
    private static readonly double InvSqrt2Pi = 1.0 / Math.Sqrt(2.0 * Math.PI);

    public double Rate { get; set; }
    public double Volatility { get; set; }

    public BlackScholesModel(double rate, double volatility)
    {
        Rate = rate;
        Volatility = volatility;
    }

    [Differentiable]
    public (double Call, double Put) Price(double spot, double strike, double maturity)
    {
        if (spot <= 0 || strike <= 0)
            throw new ArgumentOutOfRangeException(spot <= 0 ? nameof(spot) : nameof(strike), "Prices must be positive.");
        if (maturity <= 0) throw new ArgumentOutOfRangeException(nameof(maturity));

        double sqrtT = Math.Sqrt(maturity);
        double d1 = (Math.Log(spot / strike) + (Rate + 0.5 * Volatility * Volatility) * maturity) / (Volatility * sqrtT);
        double d2 = d1 - Volatility * sqrtT;
        double discounted = strike * Math.Exp(-Rate * maturity);

        double call = spot * Cnd(d1) - discounted * Cnd(d2);
        double put = discounted * Cnd(-d2) - spot * Cnd(-d1);
        return (call, put);

        static double Cnd(double x)
        {
            const double a1 = 0.31938153, a2 = -0.356563782, a3 = 1.781477937, a4 = -1.821255978, a5 = 1.330274429;
            double l = Math.Abs(x);
            double k = 1.0 / (1.0 + 0.2316419 * l);
            double w = 1.0 - InvSqrt2Pi * Math.Exp(-l * l / 2) * k * (a1 + k * (a2 + k * (a3 + k * (a4 + k * a5))));
            return x < 0 ? 1.0 - w : w;
        }
    }
}

public static class Driver
{
    // rate, volatility, spot, strike, maturity
    private static readonly double[] P0 = [0.02, 0.3, 105.0, 100.0, 0.5];

    private static double Loss(double[] p)
    {
        var model = new BlackScholesModel(p[0], p[1]);
        var (call, put) = model.Price(p[2], p[3], p[4]);
        return new Writer().Add(call).Add(put).Loss();
    }

    private static double[] Values(double[] p)
    {
        var (call, put) = new BlackScholesModel(p[0], p[1]).Price(p[2], p[3], p[4]);
        return [call, put];
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
    private static readonly Func<double[], double[], double[]>? Tangent = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;
    private static readonly Func<double[], double[], double[]>? Tangent = Pushforward;

    private static double[] Gradient(double[] p)
    {
        var model = new BlackScholesModel(p[0], p[1]);
        var bar = model.CreateShadow();
        var seeds = Reader.Seeds();
        (double, double) resultBar = (seeds.D(), seeds.D());
        double spotBar = 0, strikeBar = 0, maturityBar = 0;
        var prices = model.PricePullback(p[2], p[3], p[4], resultBar, bar, ref spotBar, ref strikeBar, ref maturityBar);
        if (prices != model.Price(p[2], p[3], p[4])) throw new InvalidOperationException("PricePullback returned different prices");
        return [bar.Rate, bar.Volatility, spotBar, strikeBar, maturityBar];
    }

    // Forward mode on an instance method returning a tuple: thisDot first, then each parameter's tangent.
    private static double[] Pushforward(double[] p, double[] v)
    {
        var model = new BlackScholesModel(p[0], p[1]);
        var dot = model.CreateShadow();
        dot.Rate = v[0];
        dot.Volatility = v[1];
        var (value, tangent) = model.PricePushforward(dot, p[2], v[2], p[3], v[3], p[4], v[4]);
        return [tangent.Item1, tangent.Item2];
    }
#endif

    public static string? Check() => CorpusSupport.Check.All(
        CorpusSupport.Check.Gradient("BlackScholesModel.Price", Loss, Ad, P0),
        CorpusSupport.Check.Tangent("BlackScholesModel.PricePushforward", Values, Tangent, P0, [0.3, -0.5, 0.7, 0.2, -0.4]));
}
