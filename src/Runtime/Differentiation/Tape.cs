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
    public ValueStack<double> Doubles => _doubles ?? (_doubles = Live(new ValueStack<double>()));

    /// <summary>Saved <see cref="float"/> values.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueStack<float> Floats => _floats ?? (_floats = Live(new ValueStack<float>()));

    /// <summary>Saved <see cref="int"/> values (also loop trip counts).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueStack<int> Ints => _ints ?? (_ints = Live(new ValueStack<int>()));

    /// <summary>Saved <see cref="long"/> values.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueStack<long> Longs => _longs ?? (_longs = Live(new ValueStack<long>()));

    /// <summary>Saved <see cref="bool"/> values (also branch decisions).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ValueStack<bool> Bools => _bools ?? (_bools = Live(new ValueStack<bool>()));

    /// <summary>Saved references to <see cref="double"/> arrays (array locals).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<double[]> DoubleArrays => _doubleArrays ?? (_doubleArrays = Live(new RefStack<double[]>()));

    /// <summary>Saved references to <see cref="float"/> arrays.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<float[]> FloatArrays => _floatArrays ?? (_floatArrays = Live(new RefStack<float[]>()));

    /// <summary>Saved references to <see cref="int"/> arrays.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<int[]> IntArrays => _intArrays ?? (_intArrays = Live(new RefStack<int[]>()));

    /// <summary>Saved references to <see cref="long"/> arrays.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<long[]> LongArrays => _longArrays ?? (_longArrays = Live(new RefStack<long[]>()));

    /// <summary>Saved references to <see cref="bool"/> arrays.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<bool[]> BoolArrays => _boolArrays ?? (_boolArrays = Live(new RefStack<bool[]>()));

    /// <summary>
    /// Saved values of inactive types (a grid struct, an enum held in a local) that the reverse half of a
    /// pullback reads: boxed, once per call, not per loop iteration.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RefStack<object> Objects => _objects ?? (_objects = Live(new RefStack<object>()));

    /// <summary>Values currently saved, over all value stacks (zero after a balanced forward and reverse half).</summary>
    public int Count => (_doubles?.Count ?? 0) + (_floats?.Count ?? 0) + (_ints?.Count ?? 0) + (_longs?.Count ?? 0) + (_bools?.Count ?? 0)
        + (_doubleArrays?.Count ?? 0) + (_floatArrays?.Count ?? 0) + (_intArrays?.Count ?? 0) + (_longArrays?.Count ?? 0) + (_boolArrays?.Count ?? 0) + (_objects?.Count ?? 0);

    private bool _disposed;
    private bool _cached;

    /// <summary>The first use of a stack: refused once the tape is disposed (its buffers are back in the pool).</summary>
    private T Live<T>(T stack)
    {
        if (_disposed)
            throw new ObjectDisposedException(nameof(Tape), "This tape was disposed (or handed back with Return()); a recorded step can only be reversed on a live tape. Record the steps again on a new tape (Tape.Rent()).");
        if (_cached)
            throw new InvalidOperationException("This tape was handed back with Return() and sits in the reuse cache; rent a tape with Tape.Rent() instead of using one after returning it.");
        return stack;
    }

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
        tape._cached = false;
        return tape;
    }

    /// <summary>
    /// Hands a tape back for reuse by <see cref="Rent"/> on this thread, keeping its buffers; a tape that is
    /// not empty (a sweep failed half-way) is disposed instead, and so is a disposed one left alone.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tape was returned already (two later rentals would share it).</exception>
    public void Return()
    {
        if (_cached)
            throw new InvalidOperationException("Tape.Return() was called twice for one tape: the cache would hand it to two renters at once. Return each rented tape exactly once.");
        if (_disposed) return;
        s_cache ??= new Tape?[4];
        if (Count != 0 || _frames is { Count: > 0 } || s_cached == s_cache.Length) { Dispose(); return; }
        _cached = true;
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

    /// <summary>Returns the value stacks' buffers to the pool and drops the recycled arrays; the tape cannot be used afterwards.</summary>
    public void Dispose()
    {
        _disposed = true;
        _frames = null;
        _arrays = null;
        _pooledBytes = 0;
        _doubles?.Dispose();
        _floats?.Dispose();
        _ints?.Dispose();
        _longs?.Dispose();
        _bools?.Dispose();
        _doubles = null; _floats = null; _ints = null; _longs = null; _bools = null;
        _doubleArrays = null; _floatArrays = null; _intArrays = null; _longArrays = null; _boolArrays = null;
    }

    // The recorded steps not yet reversed, last on top: their names and input fingerprints.
    private Stack<(string Step, ulong Fingerprint, int Number)>? _frames;
    private int _framesRecorded;

    /// <summary>Recorded steps on this tape that are not reversed yet (see <see cref="PushStep"/>).</summary>
    public int PendingSteps => _frames?.Count ?? 0;

    /// <summary>
    /// Marks the start of a recorded step: a model's recording <c>Step(…, tape)</c> calls it before the
    /// generated forward half, with the step's name and inputs (up to five spans: a 3D smoke step has five).
    /// <see cref="PopStep"/> in the matching reverse then checks that the steps are reversed last-first and
    /// with the inputs they were recorded with; a reverse that pops another step's values would otherwise return a wrong gradient without a word.
    /// The check costs one pass over the inputs (a 64-bit fingerprint), not a copy.
    /// </summary>
    public void PushStep(string step, ReadOnlySpan<double> input, ReadOnlySpan<double> input2 = default, ReadOnlySpan<double> input3 = default, ReadOnlySpan<double> input4 = default, ReadOnlySpan<double> input5 = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        Live(this);
        (_frames ??= new()).Push((step, Fingerprint(input, input2, input3, input4, input5), ++_framesRecorded));
    }

    /// <summary>
    /// Called by a recorded step's reverse before the generated reverse half: throws unless the last recorded
    /// step not yet reversed is <paramref name="step"/> with these inputs, and consumes it.
    /// </summary>
    /// <exception cref="InvalidOperationException">No step is pending, the steps are reversed out of order, or the inputs differ.</exception>
    public void PopStep(string step, ReadOnlySpan<double> input, ReadOnlySpan<double> input2 = default, ReadOnlySpan<double> input3 = default, ReadOnlySpan<double> input4 = default, ReadOnlySpan<double> input5 = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        Live(this);
        if (_frames is not { Count: > 0 })
            throw new InvalidOperationException($"Reversing {step}, but this tape holds no recorded step that is not reversed yet: record the step on this tape first (each recorded step is reversed once).");
        ulong f = Fingerprint(input, input2, input3, input4, input5);
        var (top, topPrint, topNumber) = _frames.Peek();
        if (top == step && topPrint == f) { _frames.Pop(); return; }
        foreach (var (name, print, number) in _frames)
            if (name == step && print == f)
                throw new InvalidOperationException(
                    $"Reversing {step} out of order: these inputs are those of recorded step #{number}, but step #{topNumber} ({top}) was recorded after it and is not reversed yet. Reverse recorded steps last-first.");
        throw new InvalidOperationException(top == step
            ? $"Reversing {step} with inputs other than those of any recorded step (the next to reverse is step #{topNumber}): pass the same input spans, unchanged since the step was recorded."
            : $"Reversing {step}, but the next recorded step to reverse is step #{topNumber}, {top}: reverse recorded steps last-first, each with the method that matches its recording.");
    }

    private static ulong Fingerprint(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, ReadOnlySpan<double> d, ReadOnlySpan<double> e) =>
        Mix(Mix(Mix(Mix(Mix(14695981039346656037UL, a), b), c), d), e);

    // FNV-1a over 8-byte words: one dependent multiply per value, a few microseconds for a 2D state.
    private static ulong Mix(ulong h, ReadOnlySpan<double> values)
    {
        h = (h ^ (ulong)values.Length) * 1099511628211UL;
        foreach (double v in values) h = (h ^ (ulong)BitConverter.DoubleToInt64Bits(v)) * 1099511628211UL;
        return h;
    }
}
