using System.ComponentModel;
using System.Runtime.CompilerServices;
using DiffGen.CompilerServices;

namespace DiffGen;

/// <summary>
/// The tape that the two halves of a generated pullback share with their callers
/// (<c>{M}PullbackForward</c> records on it, <c>{M}PullbackReverse</c> consumes it): one stack per
/// value type and per array type, created on first use. A pullback that calls another generated
/// method outside loops runs that callee's forward half in its own forward sweep and the callee's
/// reverse half in its reverse sweep, so the callee runs once instead of once per nesting level.
/// </summary>
public sealed class Tape : IDisposable
{
    private ValueStack<double>? _doubles;
    private ValueStack<float>? _floats;
    private ValueStack<int>? _ints;
    private ValueStack<long>? _longs;
    private ValueStack<bool>? _bools;
    private RefStack<double[]>? _doubleArrays;
    private RefStack<float[]>? _floatArrays;
    private RefStack<int[]>? _intArrays;
    private RefStack<long[]>? _longArrays;
    private RefStack<bool[]>? _boolArrays;
    private RefStack<object>? _objects;

    /// <summary>Saved <see cref="double"/> values.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueStack<double> Doubles => _doubles ??= new();

    /// <summary>Saved <see cref="float"/> values.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueStack<float> Floats => _floats ??= new();

    /// <summary>Saved <see cref="int"/> values (also loop trip counts).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueStack<int> Ints => _ints ??= new();

    /// <summary>Saved <see cref="long"/> values.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueStack<long> Longs => _longs ??= new();

    /// <summary>Saved <see cref="bool"/> values (also branch decisions).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueStack<bool> Bools => _bools ??= new();

    /// <summary>Saved references to <see cref="double"/> arrays (array locals).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<double[]> DoubleArrays => _doubleArrays ??= new();

    /// <summary>Saved references to <see cref="float"/> arrays.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<float[]> FloatArrays => _floatArrays ??= new();

    /// <summary>Saved references to <see cref="int"/> arrays.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<int[]> IntArrays => _intArrays ??= new();

    /// <summary>Saved references to <see cref="long"/> arrays.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<long[]> LongArrays => _longArrays ??= new();

    /// <summary>Saved references to <see cref="bool"/> arrays.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<bool[]> BoolArrays => _boolArrays ??= new();

    /// <summary>
    /// Saved values of inactive types (a grid struct, an enum held in a local) that the reverse half of a
    /// pullback reads: boxed, once per call, not per loop iteration.
    /// </summary>
    public RefStack<object> Objects => _objects ??= new();

    /// <summary>Values currently saved, over all value stacks (zero after a balanced forward and reverse half).</summary>
    public int Count => (_doubles?.Count ?? 0) + (_floats?.Count ?? 0) + (_ints?.Count ?? 0) + (_longs?.Count ?? 0) + (_bools?.Count ?? 0)
        + (_doubleArrays?.Count ?? 0) + (_floatArrays?.Count ?? 0) + (_intArrays?.Count ?? 0) + (_longArrays?.Count ?? 0) + (_boolArrays?.Count ?? 0) + (_objects?.Count ?? 0);

    // A few tapes per thread are kept for reuse: a solver step's pullback is called thousands of times
    // per training run, and a fresh tape costs several allocations and pool rentals per call.
    [ThreadStatic] private static Tape?[]? s_cache;
    [ThreadStatic] private static int s_cached;

    /// <summary>An empty tape: one this thread returned with <see cref="Return"/>, or a new one.</summary>
    public static Tape Rent()
    {
        var cache = s_cache;
        if (cache is null || s_cached == 0) return new Tape();
        var tape = cache[--s_cached]!;
        cache[s_cached] = null;
        return tape;
    }

    /// <summary>
    /// Hands a tape back for reuse by <see cref="Rent"/> on this thread, keeping its buffers; a tape that is
    /// not empty (a sweep failed half-way) is disposed instead.
    /// </summary>
    public void Return()
    {
        s_cache ??= new Tape?[4];
        if (Count != 0 || s_cached == s_cache.Length) { Dispose(); return; }
        s_cache[s_cached++] = this;
    }

    // Scratch arrays of generated pullbacks (array locals, their adjoints, saved outputs), kept by exact
    // length for the next call on this tape. Only large ones: a grid-sized double[] is a large-object-heap
    // allocation, and a solver's gradient that allocates a few per step spends much of its time in
    // full garbage collections and fresh pages; small arrays are cheaper to allocate than to look up.
    private const int PooledBytes = 16 * 1024;
    private const long MaxPooledBytes = 256L << 20;
    private Dictionary<(Type Type, int Length), Stack<Array>>? _arrays;
    private long _pooledBytes;

    /// <summary>Bytes held in recycled arrays, ready for <see cref="NewArray{T}"/> (at most 256 MB per tape).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public long RecycledBytes => _pooledBytes;

    /// <summary>
    /// A zeroed array of exactly <paramref name="length"/> elements, as <c>new T[length]</c>: a recycled one of
    /// that length when the tape holds one (arrays of 16 KB and more), otherwise a new one.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public T[] NewArray<T>(int length) where T : unmanaged
    {
        var a = TakeRecycled<T>(length);
        if (a is null) return new T[length];
        Array.Clear(a);
        return a;
    }

    /// <summary>A copy of <paramref name="values"/> in an array from <see cref="NewArray{T}"/>'s pool.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public T[] CopyOf<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        var a = TakeRecycled<T>(values.Length) ?? GC.AllocateUninitializedArray<T>(values.Length);
        values.CopyTo(a);
        return a;
    }

    /// <summary>
    /// Hands an array that nothing references any more back for <see cref="NewArray{T}"/> (small arrays, and
    /// arrays beyond the tape's 256 MB, are left to the garbage collector).
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Recycle<T>(T[] array) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(array);
        long bytes = (long)array.Length * Unsafe.SizeOf<T>();
        if (bytes < PooledBytes || _pooledBytes + bytes > MaxPooledBytes) return;
        _arrays ??= new();
        var key = (typeof(T), array.Length);
        if (!_arrays.TryGetValue(key, out var stack)) _arrays[key] = stack = new Stack<Array>();
        // Two renters of one array would silently share it; the stacks are short, so check.
        foreach (var held in stack)
            if (ReferenceEquals(held, array)) throw new InvalidOperationException("An array was recycled twice on the same tape (a generator bug; please report it).");
        stack.Push(array);
        _pooledBytes += bytes;
    }

    private T[]? TakeRecycled<T>(int length) where T : unmanaged
    {
        if (_arrays is null || (long)length * Unsafe.SizeOf<T>() < PooledBytes) return null;
        if (!_arrays.TryGetValue((typeof(T), length), out var stack) || stack.Count == 0) return null;
        _pooledBytes -= (long)length * Unsafe.SizeOf<T>();
        return (T[])stack.Pop();
    }

    /// <summary>Returns the value stacks' buffers to the pool and drops the recycled arrays.</summary>
    public void Dispose()
    {
        _arrays = null;
        _pooledBytes = 0;
        _doubles?.Dispose();
        _floats?.Dispose();
        _ints?.Dispose();
        _longs?.Dispose();
        _bools?.Dispose();
        _doubles = null; _floats = null; _ints = null; _longs = null; _bools = null;
    }
}
