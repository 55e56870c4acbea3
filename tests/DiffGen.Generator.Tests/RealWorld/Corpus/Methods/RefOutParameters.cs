// ref and out parameters of numeric, struct and array types: polar coordinates out, an in-place
// accumulation through ref, a normalisation returning the norm, a Try-pattern solver.
using System;
using System.Numerics;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.RefOut;

public static partial class Geometry
{
    [Differentiable]
    public static void ToPolar(double x, double y, out double radius, out double angle)
    {
        radius = Math.Sqrt(x * x + y * y);
        angle = Math.Atan2(y, x);
    }

    [Differentiable]
    public static void ToPolarF(float x, float y, out float radius, out float angle)
    {
        radius = MathF.Sqrt(x * x + y * y);
        angle = MathF.Atan2(y, x);
    }

    [Differentiable]
    public static void AccumulateSquares(ref double sum, double[] values)
    {
        foreach (var v in values) sum += v * v;
    }

    [Differentiable]
    public static double Normalize(ref double x, ref double y)
    {
        double length = Math.Sqrt(x * x + y * y);
        x /= length;
        y /= length;
        return length;
    }

    [Differentiable]
    public static bool TrySmallerRoot(double a, double b, double c, out double root)
    {
        double disc = b * b - 4 * a * c;
        if (disc < 0)
        {
            root = double.NaN;
            return false;
        }
        root = (-b - Math.Sqrt(disc)) / (2 * a);
        return true;
    }

    [Differentiable]
    public static void Reflect(ref Vector2 direction, Vector2 normal)
    {
        direction -= 2f * Vector2.Dot(direction, normal) * normal;
    }
}

public static class Driver
{
    private static double[] Polar(double[] p) { Geometry.ToPolar(p[0], p[1], out double r, out double a); return [r, a]; }

    private static double[] Reflected(double[] p)
    {
        var r = new Reader(p); var d = r.V2(); var n = r.V2();
        Geometry.Reflect(ref d, n);
        return [d.X, d.Y];
    }

    public static string? Check() => C.All(
        C.Gradient("Geometry.ToPolar", p => new Writer().Add(Polar(p)).Loss(), Ad.For("ToPolar"), [0.7, -1.3]),
        C.Gradient("Geometry.ToPolarF", p => new Writer().Add(Polar(p)).Loss(), Ad.For("ToPolarF"), [0.7, -1.3], C.FloatTolerance),
        C.Gradient("Geometry.AccumulateSquares", p => { double s = p[0]; Geometry.AccumulateSquares(ref s, p[1..]); return 0.7 * s; }, Ad.For("AccumulateSquares"), [0.5, 1.0, -2.0, 0.3]),
        C.Gradient("Geometry.Normalize", p => { double x = p[0], y = p[1]; double n = Geometry.Normalize(ref x, ref y); return new Writer().Add(n).Add(x).Add(y).Loss(); }, Ad.For("Normalize"), [3.0, -1.5]),
        C.Gradient("Geometry.TrySmallerRoot", p => { Geometry.TrySmallerRoot(p[0], p[1], p[2], out double x); return x; }, Ad.For("TrySmallerRoot"), [1.5, 4.0, 0.5]),
        C.Gradient("Geometry.Reflect", p => new Writer().Add(Reflected(p)).Loss(), Ad.For("Reflect"), [0.5, -1.0, 0.6, 0.8], C.FloatTolerance, C.FloatStep),
        C.Tangent("Geometry.ToPolarPushforward", Polar, Dot.For("ToPolar"), [0.7, -1.3], [0.4, 0.9]),
        Ad.Unused(), Dot.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
    private static readonly Tangents Dot = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["ToPolar"] = p =>
        {
            // out parameters: the bars hold the seeds on entry and are consumed.
            double xBar = 0, yBar = 0, rBar = Data.Weight(0), aBar = Data.Weight(1);
            Geometry.ToPolarPullback(p[0], p[1], out double r, out double a, ref xBar, ref yBar, ref rBar, ref aBar);
            if (rBar != 0 || aBar != 0) throw new InvalidOperationException("out-parameter seeds must be consumed");
            return [xBar, yBar];
        },
        ["ToPolarF"] = p =>
        {
            float xBar = 0, yBar = 0, rBar = (float)Data.Weight(0), aBar = (float)Data.Weight(1);
            Geometry.ToPolarFPullback((float)p[0], (float)p[1], out float r, out float a, ref xBar, ref yBar, ref rBar, ref aBar);
            return [xBar, yBar];
        },
        ["AccumulateSquares"] = p =>
        {
            double s = p[0]; double sBar = 0.7; var vBar = new double[p.Length - 1];
            Geometry.AccumulateSquaresPullback(ref s, p[1..], ref sBar, vBar);
            return [sBar, .. vBar];
        },
        ["Normalize"] = p =>
        {
            double x = p[0], y = p[1], xBar = Data.Weight(1), yBar = Data.Weight(2);
            Geometry.NormalizePullback(ref x, ref y, Data.Weight(0), ref xBar, ref yBar);
            return [xBar, yBar];
        },
        ["TrySmallerRoot"] = p =>
        {
            double aBar = 0, bBar = 0, cBar = 0, rootBar = 1.0;
            bool ok = Geometry.TrySmallerRootPullback(p[0], p[1], p[2], out double root, ref aBar, ref bBar, ref cBar, ref rootBar);
            if (!ok) throw new InvalidOperationException("TrySmallerRootPullback must return the primal result");
            return [aBar, bBar, cBar];
        },
        ["Reflect"] = p =>
        {
            var r = new Reader(p); var d = r.V2(); var n = r.V2();
            var s = Reader.Seeds(); var dBar = s.V2(); var nBar = Vector2.Zero;
            Geometry.ReflectPullback(ref d, n, ref dBar, ref nBar);
            return new Writer().Add(dBar).Add(nBar).ToArray();
        },
    };

    private static readonly Tangents Dot = new()
    {
        ["ToPolar"] = (p, v) =>
        {
            double rDot = 0, aDot = 0;
            Geometry.ToPolarPushforward(p[0], v[0], p[1], v[1], out double r, out rDot, out double a, out aDot);
            return [rDot, aDot];
        },
    };
#endif
}
