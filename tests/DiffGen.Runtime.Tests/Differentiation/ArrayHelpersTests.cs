using DiffGen.CompilerServices;

namespace DiffGen.Runtime.Tests.Differentiation;

/// <summary>The helpers generated code calls for multi-dimensional and jagged arrays, lists, and for aliasing checks.</summary>
public class ArrayHelpersTests
{
    [Fact]
    public void AsSpan_SeesARectangularArrayInRowMajorOrder_AndChecksTheElementType()
    {
        var a = new double[2, 3];
        a[1, 2] = 7;
        var span = ArrayHelpers.AsSpan<double>(a);
        Assert.Equal(6, span.Length);
        Assert.Equal(7, span[5]);
        span[0] = 3;
        Assert.Equal(3, a[0, 0]);
        Assert.Equal(0, ArrayHelpers.AsSpan<double>(null).Length);
        Assert.Throws<ArgumentException>(() => ArrayHelpers.AsSpan<float>(a));
    }

    [Fact]
    public void ZerosLike_Copy_CopyInto_KeepTheRaggedShape()
    {
        double[][] rows = [[1], [2, 3], null!];
        var zeros = ArrayHelpers.ZerosLike(rows);
        Assert.Equal([1, 2], zeros.Take(2).Select(r => r.Length));
        Assert.Null(zeros[2]);
        var copy = ArrayHelpers.Copy(rows);
        Assert.NotSame(rows[1], copy[1]);
        copy[1][1] = 9;
        Assert.Equal(3, rows[1][1]);
        ArrayHelpers.CopyInto(copy, rows);
        Assert.Equal(9, rows[1][1]);
    }

    [Fact]
    public void Lists_ZerosLike_Copy_RequireSameCount()
    {
        var list = new List<double> { 1.5, -2.0, 3.25 };
        var zeros = ArrayHelpers.ZerosLike(list);
        Assert.Equal(new double[3], zeros);
        var copy = ArrayHelpers.Copy(list);
        copy[0] = 9;
        Assert.Equal(1.5, list[0]);
        Assert.Equal([9, -2.0, 3.25], copy);
        var ex = Assert.Throws<ArgumentException>(() => ArrayHelpers.RequireSameCount(list, 2, "xs", "xsBar"));
        Assert.Equal("xsBar", ex.ParamName);
        ArrayHelpers.RequireSameCount(list, 3, "xs", "xsBar");
        ArrayHelpers.RequireSameCount<double>(null, 2, "xs", "xsBar"); // a null list is the method's business
    }

    [Fact]
    public void PushRows_PopRows_RoundTrip()
    {
        using var stack = new ValueStack<double>();
        double[][] rows = [[1, 2], [3]];
        ArrayHelpers.PushRows(stack, rows);
        rows[0][1] = 0;
        rows[1][0] = 0;
        ArrayHelpers.PopRows(stack, rows);
        Assert.Equal([1, 2], rows[0]);
        Assert.Equal([3], rows[1]);
        Assert.Equal(0, stack.Count);
    }

    [Fact]
    public void ShapeChecks_NameTheArgument()
    {
        ArrayHelpers.RequireSameShape(new double[2, 3], new double[2, 3], "a", "aBar");
        var ex = Assert.Throws<ArgumentException>(() => ArrayHelpers.RequireSameShape(new double[2, 3], new double[3, 2], "a", "aBar"));
        Assert.Equal("aBar", ex.ParamName);
        Assert.Contains("(2 x 3), not 3 x 2", ex.Message);
        var ragged = Assert.Throws<ArgumentException>(() => ArrayHelpers.RequireSameShape<double>([new double[1], new double[2]], [new double[1], new double[3]], "r", "rBar"));
        Assert.Contains("rBar[1] must have the length of r[1] (2), not 3", ragged.Message);
        ArrayHelpers.RequireSameShape(null, new double[1, 1], "a", "aBar"); // a null array is the method's business
        var length = Assert.Throws<ArgumentException>(() => ArrayHelpers.RequireSameLength(new double[3], 2, "u", "uBar"));
        Assert.Equal("uBar", length.ParamName);
        ArrayHelpers.RequireSameLength<double>(null, 2, "u", "uBar");
    }

    [Fact]
    public void OverlapChecks_FindSharedMemory_AndNameBothArrays()
    {
        var buffer = new double[6];
        ArrayHelpers.RequireDisjoint<double>(buffer.AsSpan(0, 3), buffer.AsSpan(3, 3), "a", "b", "b", "M");
        var ex = Assert.Throws<ArgumentException>(() => ArrayHelpers.RequireDisjoint<double>(buffer.AsSpan(0, 4), buffer.AsSpan(3, 3), "a", "b", "b", "M"));
        Assert.Equal("b", ex.ParamName);
        Assert.Equal("a and b share memory, but M writes b: pass arrays that do not overlap (a copy of a). (Parameter 'b')", ex.Message);

        var row = new double[2];
        double[][] y = [row, new double[2]];
        Assert.Throws<ArgumentException>(() => ArrayHelpers.RequireDisjoint(y, new[] { new double[2], row }, "y", "x", "y", "M"));
        Assert.Throws<ArgumentException>(() => ArrayHelpers.RequireDisjoint(y, row.AsSpan(), "y", "v", "y", "M"));
        ArrayHelpers.RequireDisjoint(y, new double[2].AsSpan(), "y", "v", "y", "M");
        Assert.Throws<ArgumentException>(() => ArrayHelpers.RequireDistinctRows<double>([row, row], "y"));
        ArrayHelpers.RequireDistinctRows<double>([new double[0], new double[0], row], "y"); // empty rows share nothing
    }
}
