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

    /// <summary>Saved <see cref="double"/> values.</summary>
    public ValueStack<double> Doubles => _doubles ??= new();

    /// <summary>Saved <see cref="float"/> values.</summary>
    public ValueStack<float> Floats => _floats ??= new();

    /// <summary>Saved <see cref="int"/> values (also loop trip counts).</summary>
    public ValueStack<int> Ints => _ints ??= new();

    /// <summary>Saved <see cref="long"/> values.</summary>
    public ValueStack<long> Longs => _longs ??= new();

    /// <summary>Saved <see cref="bool"/> values (also branch decisions).</summary>
    public ValueStack<bool> Bools => _bools ??= new();

    /// <summary>Saved references to <see cref="double"/> arrays (array locals).</summary>
    public RefStack<double[]> DoubleArrays => _doubleArrays ??= new();

    /// <summary>Saved references to <see cref="float"/> arrays.</summary>
    public RefStack<float[]> FloatArrays => _floatArrays ??= new();

    /// <summary>Saved references to <see cref="int"/> arrays.</summary>
    public RefStack<int[]> IntArrays => _intArrays ??= new();

    /// <summary>Saved references to <see cref="long"/> arrays.</summary>
    public RefStack<long[]> LongArrays => _longArrays ??= new();

    /// <summary>Saved references to <see cref="bool"/> arrays.</summary>
    public RefStack<bool[]> BoolArrays => _boolArrays ??= new();

    /// <summary>Values currently saved, over all value stacks (zero after a balanced forward and reverse half).</summary>
    public int Count => (_doubles?.Count ?? 0) + (_floats?.Count ?? 0) + (_ints?.Count ?? 0) + (_longs?.Count ?? 0) + (_bools?.Count ?? 0)
        + (_doubleArrays?.Count ?? 0) + (_floatArrays?.Count ?? 0) + (_intArrays?.Count ?? 0) + (_longArrays?.Count ?? 0) + (_boolArrays?.Count ?? 0);

    /// <summary>Returns the value stacks' buffers to the pool.</summary>
    public void Dispose()
    {
        _doubles?.Dispose();
        _floats?.Dispose();
        _ints?.Dispose();
        _longs?.Dispose();
        _bools?.Dispose();
    }
}
