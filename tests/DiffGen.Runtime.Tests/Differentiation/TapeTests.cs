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
