// Instance methods that implement an interface: one uses no state (no thisBar), one reads a field
// (thisBar). Float twin of the stateless one.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Interfaces;

public interface IActivation
{
    double Apply(double x);
}

public interface IActivationF
{
    float Apply(float x);
}

public sealed partial class Swish : IActivation
{
    [Differentiable]
    public double Apply(double x) => x / (1 + Math.Exp(-x));
}

public sealed partial class SwishF : IActivationF
{
    [Differentiable]
    public float Apply(float x) => x / (1 + MathF.Exp(-x));
}

public sealed partial class ScaledElu : IActivation
{
    public double Alpha = 1.6732632423543772;
    public double Scale = 1.0507009873554805;

    [Differentiable]
    public double Apply(double x) => Scale * (x > 0 ? x : Alpha * (Math.Exp(x) - 1));
}

public static class Driver
{
    public static string? Check() => C.All(
        C.Gradient("Swish.Apply", p => new Swish().Apply(p[0]), Ad.For("Swish"), [0.8]),
        C.Gradient("SwishF.Apply", p => new Swish().Apply(p[0]), Ad.For("SwishF"), [0.8], C.FloatTolerance),
        C.Gradient("ScaledElu.Apply", p => new ScaledElu { Alpha = p[0], Scale = p[1] }.Apply(p[2]), Ad.For("ScaledElu"), [1.67, 1.05, -0.7]),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        // No state used: the pullback is an instance method without thisBar.
        ["Swish"] = p => { double xBar = 0; new Swish().ApplyPullback(p[0], 1.0, ref xBar); return [xBar]; },
        ["SwishF"] = p => { float xBar = 0; new SwishF().ApplyPullback((float)p[0], 1f, ref xBar); return [xBar]; },
        ["ScaledElu"] = p =>
        {
            var f = new ScaledElu { Alpha = p[0], Scale = p[1] };
            var bar = f.CreateShadow(); double xBar = 0;
            f.ApplyPullback(p[2], 1.0, bar, ref xBar);
            return [bar.Alpha, bar.Scale, xBar];
        },
    };
#endif
}
