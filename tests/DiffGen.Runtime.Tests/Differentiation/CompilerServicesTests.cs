using System.ComponentModel;
using System.Reflection;
using DiffGen.CompilerServices;

namespace DiffGen.Runtime.Tests.Differentiation;

/// <summary>
/// The types only generated code calls live in <c>DiffGen.CompilerServices</c> and are hidden from
/// completion lists, so a user's <c>using DiffGen;</c> shows attributes, the tape, duals and checks only.
/// </summary>
public class CompilerServicesTests
{
    private static readonly Type[] SupportTypes =
        [typeof(ValueStack<>), typeof(RefStack<>), typeof(DerivativeHelpers), typeof(DualMath), typeof(ArrayHelpers)];

    [Fact]
    public void SupportTypes_AreInCompilerServices_AndHiddenFromCompletion()
    {
        foreach (var t in SupportTypes)
        {
            Assert.Equal("DiffGen.CompilerServices", t.Namespace);
            Assert.Equal(EditorBrowsableState.Never, t.GetCustomAttribute<EditorBrowsableAttribute>()?.State);
        }
    }

    [Fact]
    public void EveryPublicCompilerServicesType_IsHiddenFromCompletion()
    {
        var types = typeof(Tape).Assembly.GetExportedTypes().Where(t => t.Namespace == "DiffGen.CompilerServices").ToArray();
        Assert.Equal(SupportTypes.Length, types.Length);
        foreach (var t in types)
            Assert.True(t.GetCustomAttribute<EditorBrowsableAttribute>()?.State == EditorBrowsableState.Never, t.FullName + " is not marked [EditorBrowsable(Never)]");
    }

    [Fact]
    public void UserFacingNamespace_HasNoSupportTypes()
    {
        var names = typeof(Tape).Assembly.GetExportedTypes().Where(t => t.Namespace == "DiffGen").Select(t => t.Name).ToHashSet();
        Assert.Contains("Tape", names);
        Assert.Contains("Dual", names);
        foreach (var hidden in new[] { "ValueStack`1", "RefStack`1", "DerivativeHelpers", "DualMath", "ArrayHelpers" })
            Assert.DoesNotContain(hidden, names);
    }

    [Fact]
    public void TapeStacks_AreHiddenFromCompletion_ButRentAndReturnAreNot()
    {
        static EditorBrowsableState? State(MemberInfo m) => m.GetCustomAttribute<EditorBrowsableAttribute>()?.State;
        Assert.Equal(EditorBrowsableState.Never, State(typeof(Tape).GetProperty(nameof(Tape.Doubles))!));
        Assert.Equal(EditorBrowsableState.Never, State(typeof(Tape).GetMethod(nameof(Tape.NewArray))!));
        Assert.Null(State(typeof(Tape).GetMethod(nameof(Tape.Rent))!));
        Assert.Null(State(typeof(Tape).GetMethod(nameof(Tape.Return))!));
    }
}

/// <summary>The dot product generated forward-mode code calls (Vector&lt;T&gt; with a scalar tail).</summary>
public class DerivativeHelpersTests
{
    [Fact]
    public void Dot_MatchesTheSumOfProducts_ForEveryTailLength()
    {
        var r = new Random(7);
        for (int n = 0; n <= 37; n++)
        {
            var a = Enumerable.Range(0, n).Select(_ => r.NextDouble() - 0.5).ToArray();
            var b = Enumerable.Range(0, n).Select(_ => r.NextDouble() - 0.5).ToArray();
            double expected = 0;
            for (int i = 0; i < n; i++) expected += a[i] * b[i];
            Assert.Equal(expected, DerivativeHelpers.Dot(a, b), 1e-14);
            float expectedF = 0;
            for (int i = 0; i < n; i++) expectedF += (float)a[i] * (float)b[i];
            Assert.Equal(expectedF, DerivativeHelpers.Dot(a.Select(x => (float)x).ToArray(), b.Select(x => (float)x).ToArray()), 1e-5f);
        }
    }

    [Fact]
    public void Dot_OfSpansOfDifferentLengths_NamesTheArgument()
    {
        var ex = Assert.Throws<ArgumentException>(() => DerivativeHelpers.Dot(new double[3], new double[4]));
        Assert.Equal("b", ex.ParamName);
    }
}
