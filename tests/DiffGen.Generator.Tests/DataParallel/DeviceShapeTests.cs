using DiffGen.Generator.Tests.Infrastructure;

namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>
/// Which [DataParallel] methods get ILGPU forms ({Name}Device) when ILGPU is referenced: kernel-form methods,
/// and composites of calls whose callees have them. The decision is made from the capability table before a
/// caller is rendered, so a composite never names a callee's device class that does not exist: every case
/// here must compile without errors, with the device classes present exactly where expected.
/// </summary>
public class DeviceShapeTests
{
    private const string Kernels = """
        using System;
        using DiffGen;

        public static partial class K
        {
            [Differentiable, DataParallel]
            public static void Smooth(ReadOnlySpan<double> q, Span<double> r, double a)
            {
                int n = q.Length;
                for (int i = 0; i < n; i++) r[i] = q[i] + a * (q[(i + n - 1) % n] - 2 * q[i] + q[(i + 1) % n]);
            }

            [Differentiable]
            public static double Square(double x) => x * x;

            /// <summary>A loop that calls a method: not in kernel form.</summary>
            [Differentiable, DataParallel]
            public static void Squares(ReadOnlySpan<double> q, Span<double> r)
            {
                for (int i = 0; i < q.Length; i++) r[i] = Square(q[i]);
            }

            /// <summary>Reads and writes r: an in-place update (its own kernel is fine; a composite calling it is not).</summary>
            [Differentiable, DataParallel]
            public static void AddTo(Span<double> r, ReadOnlySpan<double> f, double s)
            {
                for (int i = 0; i < r.Length; i++) r[i] = r[i] + s * f[i];
            }
        }
        """;

    private static string Generated(GeneratorResult result) => string.Concat(result.Sources.Values);

    private static GeneratorResult Compile(string composite)
    {
        var result = TestCompilation.Run(Kernels, composite);
        Assert.Empty(result.OutputDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        return result;
    }

    [Fact]
    public void CompositeOfKernels_AndCompositeOfComposites_GetDeviceForms()
    {
        var result = Compile("""
            using System;
            using DiffGen;

            public static partial class C
            {
                [Differentiable, DataParallel]
                public static void Twice(ReadOnlySpan<double> q, Span<double> r, double a)
                {
                    int n = q.Length;
                    double[] mid = new double[n];
                    K.Smooth(q, mid, a);
                    K.Smooth(mid, r, a);
                }

                [Differentiable, DataParallel]
                public static void FourTimes(ReadOnlySpan<double> q, Span<double> r, double a)
                {
                    double[] mid = new double[q.Length];
                    Twice(q, mid, a);
                    Twice(mid, r, 0.5);
                }
            }
            """);
        string code = Generated(result);
        Assert.Contains("public static class SmoothDevice", code);
        Assert.Contains("public static class TwiceDevice", code);
        Assert.Contains("public static class FourTimesDevice", code);
    }

    [Theory]
    [InlineData("K.Squares(q, mid); K.Smooth(mid, r, a);", "no ILGPU kernels: it calls 'Squares', which has no ILGPU kernels")]
    [InlineData("K.Smooth(q, mid, a); K.AddTo(mid, q, a); K.Smooth(mid, r, a);", "no ILGPU kernels: a callee updates an array in place")]
    [InlineData("K.Smooth(q, mid, a * 2); K.Smooth(mid, r, a);", "is an expression of a differentiable value")]
    [InlineData("K.Smooth(q, mid, a); K.Smooth(mid, r, a); K.Smooth(q, mid, a);", "no ILGPU kernels: an array is written after another call wrote or read it")]
    [InlineData("for (int s = 0; s < 2; s++) K.Smooth(q, mid, a); K.Smooth(mid, r, a);", "no ILGPU kernels: its body is not scalar set-up, local arrays and calls")]
    public void Composites_OutsideTheShape_GetNoDeviceForm_AndSayWhy(string calls, string why)
    {
        var result = Compile($$"""
            using System;
            using DiffGen;

            public static partial class C
            {
                [Differentiable, DataParallel]
                public static void Step(ReadOnlySpan<double> q, Span<double> r, double a)
                {
                    double[] mid = new double[q.Length];
                    {{calls}}
                }

                [Differentiable, DataParallel]
                public static void Outer(ReadOnlySpan<double> q, Span<double> r, double a)
                {
                    double[] mid = new double[q.Length];
                    Step(q, mid, a);
                    K.Smooth(mid, r, a);
                }
            }
            """);
        string code = Generated(result);
        Assert.DoesNotContain("class StepDevice", code);
        Assert.DoesNotContain("class OuterDevice", code); // its callee has none
        var notes = string.Join(" | ", code.Split('\n').Where(l => l.Contains("no ILGPU kernels")));
        Assert.True(notes.Contains(why), notes);
    }

    /// <summary>The rule both the table and the emitter apply to a composite's calls, on (reads, writes) of each array argument.</summary>
    [Fact]
    public void CompositeValid_RejectsInPlaceUpdates_RewritesAndWritesAfterReads()
    {
        static Generator.Reverse.DeviceCall C(int callee, params int[] arrays) => new(callee, global::DiffGen.Generator.Ir.EquatableArrayExtensions.ToEquatableArray(arrays));
        // Callee 0: (reads p0, writes p1); callee 1: reads and writes p0 (in place).
        (bool, bool) Use(int callee, int p) => callee == 1 ? (true, true) : p == 0 ? (true, false) : (false, true);
        Assert.True(Generator.Reverse.DeviceShapes.CompositeValid([C(0, 10, 11), C(0, 11, 12)], Use, out _));
        Assert.False(Generator.Reverse.DeviceShapes.CompositeValid([C(0, 10, 11), C(1, 11)], Use, out var why));
        Assert.Equal("a callee updates an array in place", why);
        Assert.False(Generator.Reverse.DeviceShapes.CompositeValid([C(0, 10, 11), C(0, 12, 11)], Use, out why)); // 11 written twice
        Assert.False(Generator.Reverse.DeviceShapes.CompositeValid([C(0, 11, 12), C(0, 10, 11)], Use, out why)); // 11 read, then written
        Assert.Equal("an array is written after another call wrote or read it", why);
    }
}
