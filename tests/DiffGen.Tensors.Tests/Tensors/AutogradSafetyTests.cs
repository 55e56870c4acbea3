using DiffGen.Tensors;

namespace DiffGen.Tensors.Tests.Tensors;

/// <summary>
/// What the autograd refuses instead of returning a wrong gradient (issue #13): a second backward through a
/// freed graph, a saved tensor modified in place, shapes whose size overflows; and how errors of lifted
/// steps arrive.
/// </summary>
public class AutogradSafetyTests
{
    private static Tensor Leaf(params float[] values)
    {
        var t = Tensor.FromArray(values, values.Length);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void SecondBackward_ThroughAFreedGraph_Throws_AndAddsNothing()
    {
        var x = Leaf(1f, 2f);
        var loss = (x * x).Sum();
        loss.Backward();
        Assert.Equal([2f, 4f], x.Grad!.ToArray());
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("second time", e.Message);
        Assert.Contains("retainGraph", e.Message);
        Assert.Equal([2f, 4f], x.Grad!.ToArray()); // before: silently [4, 8]
    }

    [Fact]
    public void NewLoss_OnAFreedPart_IsRefusedBeforeAnyGradientIsAdded()
    {
        var x = Leaf(1f, 2f);
        var w = Leaf(3f, 4f);
        var y = x * x;
        y.Sum().Backward();
        // (y * w): w's gradient is reachable without the freed node, x's only through it. Nothing may be
        // added to either when the pass is refused.
        Assert.Throws<InvalidOperationException>(() => (y * w).Sum().Backward());
        Assert.Null(w.Grad);
        Assert.Equal([2f, 4f], x.Grad!.ToArray());
    }

    [Fact]
    public void RetainGraph_AllowsASecondBackward_ThatAddsTheSameGradient()
    {
        var x = Leaf(1f, 2f);
        var loss = (x * x * 3f).Sum();
        loss.Backward(retainGraph: true);
        Assert.Equal([6f, 12f], x.Grad!.ToArray());
        loss.Backward();
        Assert.Equal([12f, 24f], x.Grad!.ToArray());
        Assert.Throws<InvalidOperationException>(() => loss.Backward());
    }

    [Fact]
    public void InputModifiedInPlace_BetweenForwardAndBackward_IsDetected()
    {
        var x = Leaf(1f, 2f);
        var loss = (x * x).Sum(); // its backward reads x: with x changed, the gradient would be 2·(new x)
        x.Data[0] = 10f;
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("modified in place", e.Message);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void ModificationThroughAnotherViewOrCopyFrom_IsDetected_AndAFreshForwardIsFine()
    {
        var x = Leaf(1f, 2f, 3f, 4f);
        var loss = x.Reshape(2, 2).Exp().Sum();
        x.Detach().Reshape(4).CopyFrom(Tensor.Zeros(4)); // shares x's memory
        Assert.Throws<InvalidOperationException>(() => loss.Backward());

        int before = x.Version;
        var again = x.Reshape(2, 2).Exp().Sum();
        again.Backward();
        Assert.Equal(before, x.Version);
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(1f, g, 1e-6f)); // exp(0), x was zeroed
    }

    [Fact]
    public void ResultModifiedInPlace_IsDetected()
    {
        var x = Leaf(0f, 1f);
        var y = x.Exp(); // Exp's backward uses its result
        var loss = y.Sum();
        y.Data[1] = 0f;
        Assert.Throws<InvalidOperationException>(() => loss.Backward());
    }

    [Fact]
    public void ReadingGradientsAndUpdatingAfterBackward_IsNotAModification()
    {
        // The optimizer's pattern: backward, then write the parameters; the next forward records new versions.
        var w = Leaf(1f, 2f);
        for (int step = 0; step < 3; step++)
        {
            w.ZeroGrad();
            (w * w).Sum().Backward();
            var g = w.Grad!.ToArray();
            var d = w.Data;
            for (int i = 0; i < d.Length; i++) d[i] -= 0.1f * g[i];
        }
        Assert.Equal(1f * 0.8f * 0.8f * 0.8f, w.ToArray()[0], 5);
    }

    [Fact]
    public void ShapeWhoseElementCountOverflows_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(65536, 65536, 65536, 65536));
        Assert.Contains("[65536, 65536, 65536, 65536]", e.Message);
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(1 << 16, 1 << 16));
    }

    [Fact]
    public void ExceptionInALiftedStep_ArrivesOnce_AsItself()
    {
        var step = Lift.Op((u, next) => throw new ArgumentException("bad state", "u"),
            (u, next, uBar, nextBar) => { });
        var x = Tensor.Zeros(4, 3);
        var e = Assert.Throws<ArgumentException>(() => step(x)); // before: an AggregateException with 4 copies
        Assert.Equal("u", e.ParamName);
    }

    [Fact]
    public void RecordedOp_WithRetainedGraph_ReversesTwice()
    {
        // A recorded step consumes its tapes on the first backward; a retained graph records again.
        var step = Lift.RecordedOp(
            (s, c, o) => { for (int i = 0; i < s.Length; i++) o[i] = s[i] * s[i] * c[0]; },
            (s, c, o, tape) => { tape.PushStep("square", s, c); for (int i = 0; i < s.Length; i++) o[i] = s[i] * s[i] * c[0]; },
            (s, c, o, sBar, cBar, oBar, tape) =>
            {
                tape.PopStep("square", s, c);
                for (int i = 0; i < s.Length; i++) { sBar[i] += 2 * s[i] * c[0] * oBar[i]; cBar[0] += s[i] * s[i] * oBar[i]; oBar[i] = 0; }
            });
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        x.RequiresGrad = true;
        var c = Tensor.FromArray([2f, 3f], 2, 1);
        var loss = step(x, c).Sum();
        loss.Backward(retainGraph: true);
        Assert.Equal([4f, 8f, 18f, 24f], x.Grad!.ToArray());
        loss.Backward();
        Assert.Equal([8f, 16f, 36f, 48f], x.Grad!.ToArray());
    }
}
