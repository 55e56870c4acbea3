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
