// A rope of Vector2 points integrated with position Verlet and relaxed by distance constraints,
// the first point pinned: the classic game-physics rope.
using System;
using System.Numerics;
using CorpusSupport;
using DiffGen;

namespace Ropes;

public partial class VerletRope
{
    public Vector2[] Current { get; }
    public Vector2[] Previous { get; }
    public Vector2 Gravity { get; set; } = new(0f, -9.8f);
    public float SegmentLength { get; set; }

    public VerletRope(Vector2 anchor, int points, float segmentLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 2);
        Current = new Vector2[points];
        Previous = new Vector2[points];
        SegmentLength = segmentLength;
        for (int i = 0; i < points; i++)
        {
            Current[i] = anchor + new Vector2(i * segmentLength, 0f);
            Previous[i] = Current[i];
        }
    }

    [Differentiable]
    public void Step(float dt, int constraintIterations)
    {
        for (int i = 1; i < Current.Length; i++)
        {
            Vector2 temp = Current[i];
            Current[i] += Current[i] - Previous[i] + Gravity * (dt * dt);
            Previous[i] = temp;
        }

        for (int iteration = 0; iteration < constraintIterations; iteration++)
        {
            for (int i = 0; i < Current.Length - 1; i++)
            {
                Vector2 delta = Current[i + 1] - Current[i];
                float distance = delta.Length();
                float error = (distance - SegmentLength) / distance;
                Vector2 correction = delta * (0.5f * error);
                if (i != 0) Current[i] += correction;
                Current[i + 1] -= i != 0 ? correction : 2f * correction;
            }
        }
    }
}

public static class Driver
{
    private const int Points = 4;
    private const int Iterations = 3;

    private static VerletRope Make(double[] p, out float dt)
    {
        var r = new Reader(p);
        var rope = new VerletRope(new Vector2(-0.75f, 0f), Points, 0.5f);
        for (int i = 0; i < Points; i++) rope.Current[i] = r.V2();
        for (int i = 0; i < Points; i++) rope.Previous[i] = r.V2();
        rope.Gravity = r.V2();
        rope.SegmentLength = r.F();
        dt = r.F();
        return rope;
    }

    private static double[] Start()
    {
        var rope = new VerletRope(new Vector2(-0.75f, 0f), Points, 0.5f);
        var noise = Data.Uniform(4 * Points, 81, -0.1, 0.1);
        var w = new Writer();
        for (int i = 0; i < Points; i++) w.Add(rope.Current[i] + new Vector2((float)noise[2 * i], (float)noise[2 * i + 1]));
        for (int i = 0; i < Points; i++) w.Add(rope.Previous[i] + new Vector2((float)noise[2 * Points + 2 * i], (float)noise[2 * Points + 2 * i + 1]));
        return w.Add(rope.Gravity).Add(rope.SegmentLength).Add(0.05f).ToArray();
    }

    private static double Loss(double[] p)
    {
        var rope = Make(p, out float dt);
        rope.Step(dt, Iterations);
        return new Writer().Add(rope.Current).Add(rope.Previous).Loss();
    }

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Func<double[], double[]>? Ad = null;
#else
    private static readonly Func<double[], double[]>? Ad = Gradient;

    private static double[] Gradient(double[] p)
    {
        var rope = Make(p, out float dt);
        var bar = rope.CreateShadow();
        var seeds = Reader.Seeds();
        for (int i = 0; i < Points; i++) bar.Current[i] = seeds.V2();
        for (int i = 0; i < Points; i++) bar.Previous[i] = seeds.V2();
        float dtBar = 0;
        rope.StepPullback(dt, Iterations, bar, ref dtBar);
        return new Writer().Add(bar.Current).Add(bar.Previous).Add(bar.Gravity).Add(bar.SegmentLength).Add(dtBar).ToArray();
    }
#endif

    public static string? Check() =>
        CorpusSupport.Check.Gradient("VerletRope.Step", Loss, Ad, Start(), CorpusSupport.Check.FloatTolerance, 5e-3);
}
