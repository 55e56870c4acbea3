using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DiffGen.CompilerServices;

/// <summary>
/// What generated derivatives of methods on multi-dimensional (<c>T[,]</c>, <c>T[,,]</c>) and jagged
/// (<c>T[][]</c>) arrays need: a rectangular array's elements as one span, arrays of the same shape, deep
/// copies, shape and overlap checks. Not meant to be called by hand.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ArrayHelpers
{
    /// <summary>The elements of a rectangular array of any rank, in row-major order, as one span (they are contiguous).</summary>
    public static Span<T> AsSpan<T>(Array array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.GetType().GetElementType() != typeof(T))
            throw new ArgumentException($"The array holds {array.GetType().GetElementType()}, not {typeof(T)}.", nameof(array));
        return MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(array)), array.Length);
    }

    /// <summary>A jagged array of zeros with the shape of <paramref name="like"/> (a missing row stays missing).</summary>
    public static T[][] ZerosLike<T>(T[][] like)
    {
        var result = new T[like.Length][];
        for (int i = 0; i < like.Length; i++)
            if (like[i] is { } row) result[i] = new T[row.Length];
        return result;
    }

    /// <summary>A copy of a jagged array and of each of its rows.</summary>
    public static T[][] Copy<T>(T[][] source)
    {
        var result = new T[source.Length][];
        for (int i = 0; i < source.Length; i++)
            if (source[i] is { } row) result[i] = (T[])row.Clone();
        return result;
    }

    /// <summary>Copies each row of <paramref name="source"/> into the row of <paramref name="destination"/> (same shape).</summary>
    public static void CopyInto<T>(T[][] source, T[][] destination)
    {
        for (int i = 0; i < source.Length; i++)
            if (source[i] is { } row) row.AsSpan().CopyTo(destination[i]);
    }

    /// <summary>Pushes every row's elements (first row first).</summary>
    public static void PushRows<T>(ValueStack<T> stack, T[][] array) where T : unmanaged
    {
        foreach (var row in array)
            if (row != null) stack.PushSpan(row);
    }

    /// <summary>Pops what <see cref="PushRows{T}"/> pushed back into the rows (last row first).</summary>
    public static void PopRows<T>(ValueStack<T> stack, T[][] array) where T : unmanaged
    {
        for (int i = array.Length - 1; i >= 0; i--)
            if (array[i] is { } row) stack.PopSpan(row);
    }

    /// <summary>Throws unless an adjoint of <paramref name="adjointLength"/> elements fits the array (a null array is left to the method).</summary>
    public static void RequireSameLength<T>(T[]? array, int adjointLength, string arrayName, string adjointName)
    {
        if (array is not null && array.Length != adjointLength)
            throw new ArgumentException($"{adjointName} must have the length of {arrayName} ({array.Length}).", adjointName);
    }

    /// <summary>Throws unless <paramref name="adjoint"/> has the rank and the dimensions of <paramref name="array"/>.</summary>
    public static void RequireSameShape(Array? array, Array adjoint, string arrayName, string adjointName)
    {
        if (array is null) return; // the method's own business: its guard, or the exception it would throw
        ArgumentNullException.ThrowIfNull(adjoint, adjointName);
        bool same = array.Rank == adjoint.Rank;
        for (int d = 0; same && d < array.Rank; d++) same = array.GetLength(d) == adjoint.GetLength(d);
        if (!same)
            throw new ArgumentException($"{adjointName} must have the shape of {arrayName} ({Shape(array)}), not {Shape(adjoint)}.", adjointName);
    }

    /// <summary>Throws unless the jagged <paramref name="adjoint"/> has as many rows as <paramref name="array"/>, each of the same length.</summary>
    public static void RequireSameShape<T>(T[][]? array, T[][] adjoint, string arrayName, string adjointName)
    {
        if (array is null) return; // the method's own business: its guard, or the exception it would throw
        ArgumentNullException.ThrowIfNull(adjoint, adjointName);
        if (adjoint.Length != array.Length)
            throw new ArgumentException($"{adjointName} must have the {array.Length} rows of {arrayName}, not {adjoint.Length}.", adjointName);
        for (int i = 0; i < array.Length; i++)
        {
            int expected = array[i]?.Length ?? 0, actual = adjoint[i]?.Length ?? 0;
            if (expected != actual)
                throw new ArgumentException($"{adjointName}[{i}] must have the length of {arrayName}[{i}] ({expected}), not {actual}.", adjointName);
        }
    }

    /// <summary>Whether two jagged arrays share a row (or are the same array): then one would alias the other's elements.</summary>
    public static bool Overlaps<T>(T[][] a, T[][] b)
    {
        if (ReferenceEquals(a, b)) return a.Length > 0;
        var rows = new HashSet<T[]>(ReferenceEqualityComparer.Instance);
        foreach (var row in a)
            if (row is { Length: > 0 }) rows.Add(row);
        foreach (var row in b)
            if (row != null && rows.Contains(row)) return true;
        return false;
    }

    private static string Shape(Array a)
    {
        var dims = new string[a.Rank];
        for (int d = 0; d < a.Rank; d++) dims[d] = a.GetLength(d).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return string.Join(" x ", dims);
    }
}
