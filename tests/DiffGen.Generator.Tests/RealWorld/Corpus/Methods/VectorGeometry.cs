// System.Numerics.Vector2/3 geometry and physics (float by type, so checked at the float
// tolerance against float finite differences): triangle area, reflection, a clamped lerp, point to
// segment distance, a spring force returning a Vector2, orbital energy.
using System;
using System.Numerics;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Vectors;

public static partial class VectorMath
{
    [Differentiable]
    public static float TriangleArea(Vector3 a, Vector3 b, Vector3 c) => 0.5f * Vector3.Cross(b - a, c - a).Length();

    [Differentiable]
    public static Vector3 Reflect(Vector3 direction, Vector3 normal)
    {
        Vector3 n = Vector3.Normalize(normal);
        return direction - 2f * Vector3.Dot(direction, n) * n;
    }

    [Differentiable]
    public static Vector3 ClampedLerp(Vector3 from, Vector3 to, float t) => Vector3.Lerp(from, to, Math.Clamp(t, 0f, 1f));

    [Differentiable]
    public static float DistanceToSegment(Vector2 p, Vector2 a, Vector2 b)
    {
        Vector2 ab = b - a;
        float t = Math.Clamp(Vector2.Dot(p - a, ab) / ab.LengthSquared(), 0f, 1f);
        return Vector2.Distance(p, a + t * ab);
    }

    [Differentiable]
    public static Vector2 SpringForce(Vector2 a, Vector2 b, float stiffness, float restLength)
    {
        Vector2 d = b - a;
        float length = d.Length();
        return stiffness * (length - restLength) * (d / length);
    }

    [Differentiable]
    public static float OrbitalEnergy(Vector3 position, Vector3 velocity, float mu)
    {
        return 0.5f * velocity.LengthSquared() - mu / position.Length();
    }
}

public static class Driver
{
    private static double L(Vector3 v) => new Writer().Add(v).Loss();
    private static double L(Vector2 v) => new Writer().Add(v).Loss();

    public static string? Check() => C.All(
        G("VectorMath.TriangleArea", p => { var r = new Reader(p); return VectorMath.TriangleArea(r.V3(), r.V3(), r.V3()); }, "TriangleArea", [0.1, 0.2, 0.3, 1.4, -0.2, 0.5, 0.3, 1.1, -0.7]),
        G("VectorMath.Reflect", p => { var r = new Reader(p); return L(VectorMath.Reflect(r.V3(), r.V3())); }, "Reflect", [0.6, -0.9, 0.3, 0.2, 1.3, 0.4]),
        G("VectorMath.ClampedLerp", p => { var r = new Reader(p); return L(VectorMath.ClampedLerp(r.V3(), r.V3(), r.F())); }, "ClampedLerp", [0.1, 0.2, 0.3, 1.4, -0.2, 0.5, 0.35]),
        G("VectorMath.DistanceToSegment", p => { var r = new Reader(p); return VectorMath.DistanceToSegment(r.V2(), r.V2(), r.V2()); }, "DistanceToSegment", [0.4, 1.1, -0.5, 0.1, 1.6, 0.3]),
        G("VectorMath.SpringForce", p => { var r = new Reader(p); return L(VectorMath.SpringForce(r.V2(), r.V2(), r.F(), r.F())); }, "SpringForce", [0.1, -0.3, 1.2, 0.5, 3.0, 0.8]),
        G("VectorMath.OrbitalEnergy", p => { var r = new Reader(p); return VectorMath.OrbitalEnergy(r.V3(), r.V3(), r.F()); }, "OrbitalEnergy", [1.0, 0.3, -0.2, 0.1, 0.9, 0.2, 1.5]),
        Ad.Unused());

    private static string? G(string what, Func<double[], double> loss, string name, double[] p) =>
        C.Gradient(what, loss, Ad.For(name), p, C.FloatTolerance, C.FloatStep);

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["TriangleArea"] = p =>
        {
            var r = new Reader(p); Vector3 a = r.V3(), b = r.V3(), c = r.V3(), aBar = default, bBar = default, cBar = default;
            VectorMath.TriangleAreaPullback(a, b, c, 1f, ref aBar, ref bBar, ref cBar);
            return new Writer().Add(aBar).Add(bBar).Add(cBar).ToArray();
        },
        ["Reflect"] = p =>
        {
            var r = new Reader(p); Vector3 d = r.V3(), n = r.V3(), dBar = default, nBar = default;
            VectorMath.ReflectPullback(d, n, Reader.Seeds().V3(), ref dBar, ref nBar);
            return new Writer().Add(dBar).Add(nBar).ToArray();
        },
        ["ClampedLerp"] = p =>
        {
            var r = new Reader(p); Vector3 a = r.V3(), b = r.V3(), aBar = default, bBar = default; float t = r.F(), tBar = 0;
            VectorMath.ClampedLerpPullback(a, b, t, Reader.Seeds().V3(), ref aBar, ref bBar, ref tBar);
            return new Writer().Add(aBar).Add(bBar).Add(tBar).ToArray();
        },
        ["DistanceToSegment"] = p =>
        {
            var r = new Reader(p); Vector2 q = r.V2(), a = r.V2(), b = r.V2(), qBar = default, aBar = default, bBar = default;
            VectorMath.DistanceToSegmentPullback(q, a, b, 1f, ref qBar, ref aBar, ref bBar);
            return new Writer().Add(qBar).Add(aBar).Add(bBar).ToArray();
        },
        ["SpringForce"] = p =>
        {
            var r = new Reader(p); Vector2 a = r.V2(), b = r.V2(), aBar = default, bBar = default; float k = r.F(), l = r.F(), kBar = 0, lBar = 0;
            VectorMath.SpringForcePullback(a, b, k, l, Reader.Seeds().V2(), ref aBar, ref bBar, ref kBar, ref lBar);
            return new Writer().Add(aBar).Add(bBar).Add(kBar).Add(lBar).ToArray();
        },
        ["OrbitalEnergy"] = p =>
        {
            var r = new Reader(p); Vector3 x = r.V3(), v = r.V3(), xBar = default, vBar = default; float mu = r.F(), muBar = 0;
            VectorMath.OrbitalEnergyPullback(x, v, mu, 1f, ref xBar, ref vBar, ref muBar);
            return new Writer().Add(xBar).Add(vBar).Add(muBar).ToArray();
        },
    };
#endif
}
