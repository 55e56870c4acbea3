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
    public static Span<T> AsSpan<T>(Array? array)
    {
        if (array is null) return default; // as a null T[] converts to an empty span
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

    /// <summary>A list of <paramref name="like"/>'s count holding zeros (the adjoint of a list has the list's type).</summary>
    public static List<T> ZerosLike<T>(List<T> like)
    {
        var result = new List<T>(like.Count);
        CollectionsMarshal.SetCount(result, like.Count);
        return result;
    }

    /// <summary>A copy of a list (its elements are values).</summary>
    public static List<T> Copy<T>(List<T> source) => new(source);

    /// <summary>Throws unless an adjoint of <paramref name="adjointCount"/> elements fits the list (a null list is left to the method).</summary>
    public static void RequireSameCount<T>(List<T>? list, int adjointCount, string listName, string adjointName)
    {
        if (list is not null && list.Count != adjointCount)
            throw new ArgumentException($"{adjointName} must have the count of {listName} ({list.Count}).", adjointName);
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
    public static bool Overlaps<T>(T[][]? a, T[][]? b)
    {
        if (a is null || b is null) return false;
        if (ReferenceEquals(a, b)) return a.Length > 0;
        var rows = new HashSet<T[]>(ReferenceEqualityComparer.Instance);
        foreach (var row in a)
            if (row is { Length: > 0 }) rows.Add(row);
        foreach (var row in b)
            if (row != null && rows.Contains(row)) return true;
        return false;
    }

    /// <summary>Whether a row of a jagged array overlaps a span (a flat array passed beside it).</summary>
    public static bool Overlaps<T>(T[][]? rows, ReadOnlySpan<T> other)
    {
        if (rows is null) return false;
        foreach (var row in rows)
            if (row != null && ((ReadOnlySpan<T>)row).Overlaps(other)) return true;
        return false;
    }

    /// <summary>Throws when two spans share memory that <paramref name="method"/> writes through <paramref name="writtenName"/>.</summary>
    public static void RequireDisjoint<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, string aName, string bName, string writtenName, string method)
    {
        if (a.Overlaps(b)) throw Aliased(aName, bName, writtenName, method);
    }

    /// <summary>Throws when two jagged arrays share a row (or are one array) that <paramref name="method"/> writes.</summary>
    public static void RequireDisjoint<T>(T[][]? a, T[][]? b, string aName, string bName, string writtenName, string method)
    {
        if (Overlaps(a, b)) throw Aliased(aName, bName, writtenName, method);
    }

    /// <summary>Throws when a row of a jagged array overlaps a span, and <paramref name="method"/> writes one of them.</summary>
    public static void RequireDisjoint<T>(T[][]? a, ReadOnlySpan<T> b, string aName, string bName, string writtenName, string method)
    {
        if (Overlaps(a, b)) throw Aliased(aName, bName, writtenName, method);
    }

    private static ArgumentException Aliased(string aName, string bName, string writtenName, string method) =>
        new($"{aName} and {bName} share memory, but {method} writes {writtenName}: pass arrays that do not overlap (a copy of {(writtenName == aName ? bName : aName)}).", writtenName);

    /// <summary>Throws when a jagged array holds the same row twice (writing one would change the other).</summary>
    public static void RequireDistinctRows<T>(T[][]? rows, string name)
    {
        if (rows is null) return;
        var seen = new HashSet<T[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < rows.Length; i++)
            if (rows[i] is { Length: > 0 } row && !seen.Add(row))
                throw new ArgumentException($"{name}[{i}] is the same array as an earlier row of {name}: rows that are written must be distinct arrays.", name);
    }

    private static string Shape(Array a)
    {
        var dims = new string[a.Rank];
        for (int d = 0; d < a.Rank; d++) dims[d] = a.GetLength(d).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return string.Join(" x ", dims);
    }
}
