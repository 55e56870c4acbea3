using System.ComponentModel;

namespace DiffGen.CompilerServices;

/// <summary>
/// The <see cref="Math"/> functions on <see cref="Dual"/> numbers, with their derivatives: what generated
/// <c>{Name}PullbackDual</c> code calls in place of <see cref="Math"/>. Not meant to be called by hand.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DualMath
{
#pragma warning disable CS1591 // one line each, named as in System.Math
    public static Dual Sin(Dual x) => new(Math.Sin(x.Value), x.Tangent * Math.Cos(x.Value));
    public static Dual Cos(Dual x) => new(Math.Cos(x.Value), -x.Tangent * Math.Sin(x.Value));
    public static Dual Tan(Dual x) { double c = Math.Cos(x.Value); return new(Math.Tan(x.Value), x.Tangent / (c * c)); }
    public static Dual Exp(Dual x) { double e = Math.Exp(x.Value); return new(e, x.Tangent * e); }
    public static Dual Log(Dual x) => new(Math.Log(x.Value), x.Tangent / x.Value);
    public static Dual Log10(Dual x) => new(Math.Log10(x.Value), x.Tangent / (x.Value * Math.Log(10)));
    public static Dual Log2(Dual x) => new(Math.Log2(x.Value), x.Tangent / (x.Value * Math.Log(2)));
    public static Dual Sqrt(Dual x) { double s = Math.Sqrt(x.Value); return new(s, x.Tangent / (2 * s)); }
    public static Dual Cbrt(Dual x) { double c = Math.Cbrt(x.Value); return new(c, x.Tangent / (3 * c * c)); }
    public static Dual Tanh(Dual x) { double t = Math.Tanh(x.Value); return new(t, x.Tangent * (1 - t * t)); }
    public static Dual Sinh(Dual x) => new(Math.Sinh(x.Value), x.Tangent * Math.Cosh(x.Value));
    public static Dual Cosh(Dual x) => new(Math.Cosh(x.Value), x.Tangent * Math.Sinh(x.Value));
    public static Dual Atan(Dual x) => new(Math.Atan(x.Value), x.Tangent / (1 + x.Value * x.Value));
    public static Dual Asin(Dual x) => new(Math.Asin(x.Value), x.Tangent / Math.Sqrt(1 - x.Value * x.Value));
    public static Dual Acos(Dual x) => new(Math.Acos(x.Value), -x.Tangent / Math.Sqrt(1 - x.Value * x.Value));
    public static Dual Abs(Dual x) => x.Value < 0 ? -x : x;
    public static int Sign(Dual x) => Math.Sign(x.Value);
    public static Dual Min(Dual a, Dual b) => a.Value <= b.Value ? a : b;
    public static Dual Max(Dual a, Dual b) => a.Value >= b.Value ? a : b;
    public static Dual Clamp(Dual x, Dual lo, Dual hi) => x.Value < lo.Value ? lo : x.Value > hi.Value ? hi : x;
    public static Dual Atan2(Dual y, Dual x) => new(Math.Atan2(y.Value, x.Value), (x.Value * y.Tangent - y.Value * x.Tangent) / (x.Value * x.Value + y.Value * y.Value));
    public static Dual Pow(Dual b, Dual e)
    {
        double p = Math.Pow(b.Value, e.Value);
        double t = b.Tangent == 0 ? 0 : b.Tangent * e.Value * Math.Pow(b.Value, e.Value - 1);
        if (e.Tangent != 0 && b.Value > 0) t += e.Tangent * p * Math.Log(b.Value);
        return new(p, t);
    }
    public static Dual FusedMultiplyAdd(Dual a, Dual b, Dual c) => a * b + c;
    public static Dual Floor(Dual x) => Math.Floor(x.Value);
    public static Dual Ceiling(Dual x) => Math.Ceiling(x.Value);
    public static Dual Round(Dual x) => Math.Round(x.Value);
    public static Dual Truncate(Dual x) => Math.Truncate(x.Value);
#pragma warning restore CS1591
}
