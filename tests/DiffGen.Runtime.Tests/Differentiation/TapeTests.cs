namespace DiffGen.Runtime.Tests;

/// <summary>The shared tape of split pullbacks: per-thread reuse, and no reuse of a tape left unbalanced.</summary>
public class TapeTests
{
    [Fact]
    public void ReturnedEmptyTape_IsRentedAgainOnTheSameThread()
    {
        var t = Tape.Rent();
        t.Doubles.Push(1.5);
        t.DoubleArrays.Push([2.0]);
        Assert.Equal(2, t.Count);
        Assert.Equal(2.0, t.DoubleArrays.Pop()[0]);
        Assert.Equal(1.5, t.Doubles.Pop());
        t.Return();
        var again = Tape.Rent();
        Assert.Same(t, again);
        Assert.Equal(0, again.Count);
        again.Return();
    }

    [Fact]
    public void UnbalancedTape_IsNotReused()
    {
        var t = Tape.Rent();
        t.Ints.Push(3);
        t.Return();
        var next = Tape.Rent();
        Assert.NotSame(t, next);
        Assert.Equal(0, next.Count);
        next.Return();
    }
}

/// <summary>The tape's pool of large scratch arrays (array locals and adjoints of generated pullbacks).</summary>
public class TapeArrayPoolTests
{
    private const int Large = 4096; // 32 KB of doubles: pooled
    private const int Small = 16;   // left to the garbage collector

    [Fact]
    public void RecycledLargeArray_IsHandedOutAgainZeroed()
    {
        var t = new Tape();
        var a = t.NewArray<double>(Large);
        a.AsSpan().Fill(3.0);
        t.Recycle(a);
        Assert.Equal(Large * sizeof(double), t.RecycledBytes);
        var b = t.NewArray<double>(Large);
        Assert.Same(a, b);
        Assert.All(b, x => Assert.Equal(0.0, x));
        Assert.Equal(0, t.RecycledBytes);
    }

    [Fact]
    public void PoolMatchesExactLengthAndElementType()
    {
        var t = new Tape();
        var a = t.NewArray<double>(Large);
        t.Recycle(a);
        Assert.NotSame(a, t.NewArray<double>(Large + 1));
        Assert.Equal(Large * 2, t.NewArray<float>(Large * 2).Length);
        Assert.Same(a, t.NewArray<double>(Large));
    }

    [Fact]
    public void SmallArrays_AreNotKept()
    {
        var t = new Tape();
        var a = t.NewArray<double>(Small);
        t.Recycle(a);
        Assert.Equal(0, t.RecycledBytes);
        Assert.NotSame(a, t.NewArray<double>(Small));
    }

    [Fact]
    public void CopyOf_CopiesIntoAPooledArray()
    {
        var t = new Tape();
        var a = t.NewArray<double>(Large);
        t.Recycle(a);
        var src = Enumerable.Range(0, Large).Select(i => (double)i).ToArray();
        var copy = t.CopyOf<double>(src);
        Assert.Same(a, copy);
        Assert.Equal(src, copy);
    }

    [Fact]
    public void RecyclingAnArrayTwice_Throws()
    {
        var t = new Tape();
        var a = t.NewArray<double>(Large);
        t.Recycle(a);
        var e = Assert.Throws<InvalidOperationException>(() => t.Recycle(a));
        Assert.Contains("recycled twice", e.Message);
    }

    [Fact]
    public void Dispose_DropsThePool()
    {
        var t = new Tape();
        var a = t.NewArray<double>(Large);
        t.Recycle(a);
        t.Dispose();
        Assert.Equal(0, t.RecycledBytes);
        Assert.NotSame(a, t.NewArray<double>(Large));
    }
}

/// <summary>Misuse of the tape that used to run silently (issue #13): a double Return, use after Dispose, recorded steps reversed out of order or with other inputs.</summary>
public class TapeMisuseTests
{
    [Fact]
    public void ReturnTwice_Throws_SoTwoRentersNeverShareATape()
    {
        var t = Tape.Rent();
        t.Return();
        var e = Assert.Throws<InvalidOperationException>(() => t.Return());
        Assert.Contains("twice", e.Message);
        var a = Tape.Rent();
        var b = Tape.Rent();
        Assert.NotSame(a, b); // before: both were t
        a.Return();
        b.Return();
    }

    [Fact]
    public void UsingAReturnedTape_Throws()
    {
        var t = Tape.Rent();
        t.Return();
        Assert.Throws<InvalidOperationException>(() => t.Doubles.Push(1));
        Assert.Same(t, Tape.Rent());
        Tape.Rent().Return();
    }

    [Fact]
    public void DisposedTape_SaysSo_InsteadOfReportingAGeneratorBug()
    {
        var t = new Tape();
        t.Doubles.Push(1);
        t.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => t.Doubles.Pop());
        Assert.Contains("disposed", e.Message);
        Assert.DoesNotContain("generator bug", e.Message);
        t.Return(); // a disposed tape is not cached
        Assert.NotSame(t, Tape.Rent());
    }

    [Fact]
    public void RecordedSteps_ReversedLastFirst_WithTheirInputs_Pass()
    {
        var t = new Tape();
        double[] a = [1, 2], b = [3, 4];
        t.PushStep("step", a);
        t.PushStep("step", b);
        Assert.Equal(2, t.PendingSteps);
        t.PopStep("step", b);
        t.PopStep("step", a);
        Assert.Equal(0, t.PendingSteps);
    }

    [Fact]
    public void RecordedSteps_ReversedOutOfOrder_Throw()
    {
        var t = new Tape();
        double[] a = [1, 2], b = [3, 4];
        t.PushStep("step", a);
        t.PushStep("step", b);
        var e = Assert.Throws<InvalidOperationException>(() => t.PopStep("step", a));
        Assert.Contains("out of order", e.Message);
        Assert.Contains("#1", e.Message);
    }

    [Fact]
    public void RecordedStep_ReversedWithOtherInputs_Throws()
    {
        var t = new Tape();
        double[] a = [1, 2];
        t.PushStep("step", a);
        a[1] = 2.5; // changed after recording
        Assert.Contains("inputs other than", Assert.Throws<InvalidOperationException>(() => t.PopStep("step", a)).Message);
        Assert.Contains("next recorded step to reverse", Assert.Throws<InvalidOperationException>(() => t.PopStep("other", [1, 2.5])).Message);
        Assert.Contains("holds no recorded step", Assert.Throws<InvalidOperationException>(() => new Tape().PopStep("step", a)).Message);
    }

    [Fact]
    public void RecordedStep_FifthInputChanged_Throws()
    {
        // A 3D smoke step marks five inputs (smoke, u, v, w, inflow); a changed inflow must not pass unnoticed.
        var t = new Tape();
        double[] s = [1], u = [2], v = [3], w = [4], inflow = [5, 6];
        t.PushStep("step", s, u, v, w, inflow);
        inflow[0] = 5.5;
        Assert.Contains("inputs other than", Assert.Throws<InvalidOperationException>(() => t.PopStep("step", s, u, v, w, inflow)).Message);
        inflow[0] = 5;
        t.PopStep("step", s, u, v, w, inflow);
        Assert.Equal(0, t.PendingSteps);
    }
}
