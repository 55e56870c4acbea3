using System.Buffers;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace DiffGen.CompilerServices;

/// <summary>
/// The tape that generated pullbacks use: a last-in-first-out stack of values saved by the forward
/// sweep (values that are overwritten and read again by the reverse sweep) and restored by the reverse
/// sweep. Buffers come from <see cref="ArrayPool{T}"/> and go back on <see cref="Dispose"/>.
/// </summary>
/// <typeparam name="T">An unmanaged element type (double, float, int, …).</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ValueStack<T> : IDisposable where T : unmanaged
{
    private T[] _items;
    private int _count;

    /// <summary>Creates an empty stack.</summary>
    public ValueStack() => _items = ArrayPool<T>.Shared.Rent(64);

    /// <summary>Number of values currently on the stack.</summary>
    public int Count => _count;

    /// <summary>The largest number of values the stack has held at once (what a tape cost in memory).</summary>
    public int PeakCount { get; private set; }

    /// <summary>Pushes one value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(T value)
    {
        if (_count == _items.Length) Grow(1);
        _items[_count++] = value;
        if (_count > PeakCount) PeakCount = _count;
    }

    /// <summary>Pops the value pushed last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Pop()
    {
        if (_count == 0) ThrowEmpty();
        return _items[--_count];
    }

    /// <summary>Pushes the contents of a span (used for whole-array saves).</summary>
    public void PushSpan(ReadOnlySpan<T> values)
    {
        if (_count + values.Length > _items.Length) Grow(values.Length);
        values.CopyTo(_items.AsSpan(_count));
        _count += values.Length;
        if (_count > PeakCount) PeakCount = _count;
    }

    /// <summary>Pops <c>destination.Length</c> values pushed by <see cref="PushSpan"/> into <paramref name="destination"/>.</summary>
    public void PopSpan(Span<T> destination)
    {
        if (destination.Length > _count) ThrowEmpty();
        _count -= destination.Length;
        _items.AsSpan(_count, destination.Length).CopyTo(destination);
    }

    private void Grow(int extra)
    {
        var bigger = ArrayPool<T>.Shared.Rent(Math.Max(_items.Length * 2, _count + extra));
        _items.AsSpan(0, _count).CopyTo(bigger);
        ArrayPool<T>.Shared.Return(_items);
        _items = bigger;
    }

    private static void ThrowEmpty() =>
        throw new InvalidOperationException("ValueStack underflow: the reverse sweep popped more values than the forward sweep pushed (a generator bug; please report it).");

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        if (_items.Length > 0) ArrayPool<T>.Shared.Return(_items);
        _items = [];
        _count = 0;
    }
}

/// <summary>A last-in-first-out stack of object references (array locals re-allocated inside loops).</summary>
/// <typeparam name="T">A reference type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RefStack<T> where T : class
{
    private readonly Stack<T> _items = new();

    /// <summary>Pushes one reference.</summary>
    public void Push(T value) => _items.Push(value);

    /// <summary>Pops the reference pushed last.</summary>
    public T Pop() => _items.Pop();

    /// <summary>Number of references on the stack.</summary>
    public int Count => _items.Count;
}
