// Static pricing formulas with guards and int/long counts: annuity, NPV over a span, bond price
// with a coupon schedule array, continuously compounded forward rate. Float twins of two.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Rates;

public static partial class Formulas
{
    [Differentiable]
    public static double AnnuityPayment(double principal, double ratePerPeriod, int periods)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(periods);
        if (ratePerPeriod == 0) return principal / periods;
        return principal * ratePerPeriod / (1 - Math.Pow(1 + ratePerPeriod, -periods));
    }

    [Differentiable]
    public static float AnnuityPaymentF(float principal, float ratePerPeriod, int periods)
    {
        return principal * ratePerPeriod / (1 - MathF.Pow(1 + ratePerPeriod, -periods));
    }

    [Differentiable]
    public static double NetPresentValue(double rate, ReadOnlySpan<double> cashflows)
    {
        double npv = 0;
        double discount = 1;
        for (int t = 0; t < cashflows.Length; t++)
        {
            npv += cashflows[t] * discount;
            discount /= 1 + rate;
        }
        return npv;
    }

    [Differentiable]
    public static float NetPresentValueF(float rate, float[] cashflows)
    {
        float npv = 0;
        float discount = 1;
        for (int t = 0; t < cashflows.Length; t++)
        {
            npv += cashflows[t] * discount;
            discount /= 1 + rate;
        }
        return npv;
    }

    [Differentiable]
    public static double BondPrice(double faceValue, double[] couponTimes, double couponRate, double yield)
    {
        ArgumentNullException.ThrowIfNull(couponTimes);
        double price = 0;
        for (int i = 0; i < couponTimes.Length; i++)
            price += faceValue * couponRate * Math.Exp(-yield * couponTimes[i]);
        return price + faceValue * Math.Exp(-yield * couponTimes[^1]);
    }

    [Differentiable]
    public static double ForwardRate(double r1, double t1, double r2, double t2)
    {
        if (t2 <= t1) throw new ArgumentException("t2 must be after t1.", nameof(t2));
        return (r2 * t2 - r1 * t1) / (t2 - t1);
    }
}

public static class Driver
{
    private static readonly double[] Flows = [-100.0, 30.0, 40.0, 50.0, 20.0];

    public static string? Check() => C.All(
        C.Gradient("Formulas.AnnuityPayment", p => Formulas.AnnuityPayment(p[0], p[1], 24), Ad.For("Annuity"), [25000.0, 0.004]),
        C.Gradient("Formulas.AnnuityPaymentF", p => Formulas.AnnuityPayment(p[0], p[1], 24), Ad.For("AnnuityF"), [25000.0, 0.004], C.FloatTolerance),
        C.Gradient("Formulas.NetPresentValue", p => Formulas.NetPresentValue(p[0], p[1..]), Ad.For("Npv"), [0.07, .. Flows]),
        C.Gradient("Formulas.NetPresentValueF", p => Formulas.NetPresentValue(p[0], p[1..]), Ad.For("NpvF"), [0.07, .. Flows], C.FloatTolerance),
        C.Gradient("Formulas.BondPrice", p => Formulas.BondPrice(p[0], p[1..5], p[5], p[6]), Ad.For("Bond"), [100.0, 0.5, 1.0, 1.5, 2.0, 0.025, 0.031]),
        C.Gradient("Formulas.ForwardRate", p => Formulas.ForwardRate(p[0], p[1], p[2], p[3]), Ad.For("Forward"), [0.02, 1.0, 0.027, 3.0]),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["Annuity"] = p => { double a = 0, b = 0; Formulas.AnnuityPaymentPullback(p[0], p[1], 24, 1.0, ref a, ref b); return [a, b]; },
        ["AnnuityF"] = p => { float a = 0, b = 0; Formulas.AnnuityPaymentFPullback((float)p[0], (float)p[1], 24, 1f, ref a, ref b); return [a, b]; },
        ["Npv"] = p => { double rBar = 0; var cBar = new double[p.Length - 1]; Formulas.NetPresentValuePullback(p[0], p[1..], 1.0, ref rBar, cBar); return [rBar, .. cBar]; },
        ["NpvF"] = p =>
        {
            float rBar = 0; var cBar = new float[p.Length - 1];
            Formulas.NetPresentValueFPullback((float)p[0], Data.ToFloat(p[1..]), 1f, ref rBar, cBar);
            return new Writer().Add(rBar).Add(cBar).ToArray();
        },
        ["Bond"] = p =>
        {
            double fBar = 0, cBar = 0, yBar = 0; var tBar = new double[4];
            Formulas.BondPricePullback(p[0], p[1..5], p[5], p[6], 1.0, ref fBar, tBar, ref cBar, ref yBar);
            return [fBar, .. tBar, cBar, yBar];
        },
        ["Forward"] = p =>
        {
            double a = 0, b = 0, c = 0, d = 0;
            Formulas.ForwardRatePullback(p[0], p[1], p[2], p[3], 1.0, ref a, ref b, ref c, ref d);
            return [a, b, c, d];
        },
    };
#endif
}
