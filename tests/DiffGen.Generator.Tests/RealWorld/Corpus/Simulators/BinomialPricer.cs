// A Cox-Ross-Rubinstein binomial tree for European and American options, with the argument
// guards and the option-type enum a library would have.
using System;
using CorpusSupport;
using DiffGen;

namespace Pricing;

public enum OptionType
{
    Call,
    Put,
}

public static partial class BinomialTree
{
    [Differentiable]
    public static double Price(double spot, double strike, double rate, double volatility, double maturity,
        int steps, OptionType type, bool american)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        if (spot <= 0) throw new ArgumentOutOfRangeException(nameof(spot), spot, "Spot must be positive.");
        if (strike <= 0) throw new ArgumentOutOfRangeException(nameof(strike), strike, "Strike must be positive.");
        if (volatility <= 0) throw new ArgumentOutOfRangeException(nameof(volatility));
        if (maturity <= 0) throw new ArgumentOutOfRangeException(nameof(maturity));

        double dt = maturity / steps;
        double up = Math.Exp(volatility * Math.Sqrt(dt));
        double down = 1.0 / up;
        double growth = Math.Exp(rate * dt);
        double p = (growth - down) / (up - down);
        double discount = 1.0 / growth;
        if (p <= 0 || p >= 1) throw new ArgumentException("No-arbitrage violated: increase the number of steps.");

        var values = new double[steps + 1];
        for (int i = 0; i <= steps; i++)
        {
            double s = spot * Math.Pow(up, steps - i) * Math.Pow(down, i);
            values[i] = type == OptionType.Call ? Math.Max(s - strike, 0.0) : Math.Max(strike - s, 0.0);
        }

        for (int step = steps - 1; step >= 0; step--)
        {
            for (int i = 0; i <= step; i++)
            {
                double hold = discount * (p * values[i] + (1 - p) * values[i + 1]);
                if (american)
                {
                    double s = spot * Math.Pow(up, step - i) * Math.Pow(down, i);
                    double exercise = type == OptionType.Call ? s - strike : strike - s;
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
}

public static class Driver
{
    // spot, strike, rate, volatility, maturity
    private static readonly double[] P0 = [101.3, 97.0, 0.03, 0.25, 0.75];
    private const int Steps = 12;

    private static Func<double[], double> Loss(OptionType type, bool american) =>
        p => BinomialTree.Price(p[0], p[1], p[2], p[3], p[4], Steps, type, american);

#if DIFFGEN_PRIMAL_ONLY
    private static Func<double[], double[]>? Ad(OptionType type, bool american) => null;
#else
    private static Func<double[], double[]>? Ad(OptionType type, bool american) => p =>
    {
        double spotBar = 0, strikeBar = 0, rateBar = 0, volBar = 0, maturityBar = 0;
        double price = BinomialTree.PricePullback(p[0], p[1], p[2], p[3], p[4], Steps, type, american, 1.0,
            ref spotBar, ref strikeBar, ref rateBar, ref volBar, ref maturityBar);
        if (price != BinomialTree.Price(p[0], p[1], p[2], p[3], p[4], Steps, type, american))
            throw new InvalidOperationException("PricePullback returned a different price");
        return [spotBar, strikeBar, rateBar, volBar, maturityBar];
    };

    private static string? GuardIsKept()
    {
        double a = 0, b = 0, c = 0, d = 0, e = 0;
        try
        {
            BinomialTree.PricePullback(-1.0, 97.0, 0.03, 0.25, 0.75, Steps, OptionType.Call, false, 1.0, ref a, ref b, ref c, ref d, ref e);
            return "PricePullback accepted a negative spot: the argument guard was dropped";
        }
        catch (ArgumentOutOfRangeException ex) when (ex.ParamName == "spot")
        {
            return null;
        }
    }
#endif

    public static string? Check() => CorpusSupport.Check.All(
        CorpusSupport.Check.Gradient("BinomialTree.Price (European call)", Loss(OptionType.Call, false), Ad(OptionType.Call, false), P0),
        CorpusSupport.Check.Gradient("BinomialTree.Price (American put)", Loss(OptionType.Put, true), Ad(OptionType.Put, true), P0)
#if !DIFFGEN_PRIMAL_ONLY
        , GuardIsKept()
#endif
        );
}
