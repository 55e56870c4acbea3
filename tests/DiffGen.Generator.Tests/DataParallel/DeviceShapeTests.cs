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

    /// <summary>
    /// Shapes the composites take since they run their body on the host and reverse recorded calls on snapshots: an
    /// in-place callee, an array written after it was read, a loop of calls, an if/else, an argument that is an
    /// expression of a differentiable scalar, and a branch whose callee has no device form (that branch throws).
    /// </summary>
    [Theory]
    [InlineData("K.Smooth(q, mid, a); K.AddTo(mid, q, a); K.Smooth(mid, r, a);", null)]
    [InlineData("K.Smooth(q, mid, a); K.Smooth(mid, r, a); K.Smooth(q, mid, a);", null)]
    [InlineData("for (int s = 0; s < 2; s++) K.Smooth(q, mid, a); K.Smooth(mid, r, a);", null)]
    [InlineData("if (q.Length > 3) K.Smooth(q, r, a); else { K.Smooth(q, mid, a); K.Smooth(mid, r, -a); }", null)]
    [InlineData("double h = a / q.Length; K.Smooth(q, mid, a * 2); K.Smooth(mid, r, h * h - a);", null)]
    [InlineData("if (q.Length > 3) K.Smooth(q, r, a); else K.Squares(q, r);", "ILGPU kernels:  throw NotSupportedException in the branch that calls 'Squares' (no ILGPU kernels)")]
    public void Composites_WidenedShapes_GetDeviceForms(string calls, string? caveat)
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
            }
            """);
        string code = Generated(result);
        Assert.Contains("public static class StepDevice", code);
        if (caveat != null) Assert.Contains(caveat, code);
        else Assert.DoesNotContain("ILGPU kernels:  throw", code);
    }

    [Theory]
    [InlineData("K.Squares(q, mid); K.Smooth(mid, r, a);", "no ILGPU kernels: it calls 'Squares', which has no ILGPU kernels")]
    [InlineData("K.Smooth(q, mid, Math.Sqrt(a)); K.Smooth(mid, r, a);", "is an expression whose derivative the device composite cannot chain")]
    [InlineData("int s = 0; while (s < 2) { K.Smooth(q, mid, a); s++; } K.Smooth(mid, r, a);", "no ILGPU kernels: its body is not host control flow over scalar set-up, local arrays and calls")]
    [InlineData("double x = q[0]; K.Smooth(q, mid, 0.1); K.Smooth(mid, r, 0.2);", "no ILGPU kernels: its body is not host control flow over scalar set-up, local arrays and calls")]
    [InlineData("double b = a; b = b * 2; K.Smooth(q, mid, b); K.Smooth(mid, r, a);", "carries a derivative more than once or inside a branch or loop")]
    [InlineData("K.Smooth(q, mid, a); K.AddTo(mid, mid, a); K.Smooth(mid, r, a);", "an array is passed to 'AddTo' twice, and written")]
    [InlineData("if (q.Length > 3) K.Squares(q, mid); else K.Squares(mid, r);", "no ILGPU kernels: it calls 'Squares', which has no ILGPU kernels")]
    [InlineData("K.Smooth(q, mid, a); K.Smooth(mid, r, a); if (q.Length > 1) return;", "no ILGPU kernels: its body is not host control flow over scalar set-up, local arrays and calls")]
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

    [Fact]
    public void Composite_ReturningAValue_GetsNoDeviceForm()
    {
        var result = Compile("""
            using System;
            using DiffGen;

            public static partial class C
            {
                [Differentiable, DataParallel]
                public static double Step(ReadOnlySpan<double> q, Span<double> r, double a)
                {
                    double[] mid = new double[q.Length];
                    K.Smooth(q, mid, a);
                    K.Smooth(mid, r, a);
                    return a * 2;
                }
            }
            """);
        string code = Generated(result);
        Assert.DoesNotContain("class StepDevice", code);
        Assert.Contains("no ILGPU kernels: it returns a value", code);
    }

    /// <summary>
    /// A hand-written <c>{Name}Device</c> next to a method with a [DerivativeOf] pullback is that method's device form
    /// only with the convention's exact signatures (docs/generated-code.md, "Hand-written device forms"): here
    /// Pullback without the scalar's one-element adjoint view is ignored, and the composite says why.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HandWrittenDeviceClass_CountsOnlyWithTheConventionsSignatures(bool matching)
    {
        string sBar = matching ? ", ArrayView<double> sBar" : "";
        var result = Compile($$"""
            using System;
            using DiffGen;
            using ILGPU;
            using ILGPU.Runtime;

            public static class H
            {
                public static void Scale(ReadOnlySpan<double> q, Span<double> r, double s)
                {
                    for (int k = 0; k < r.Length; k++) r[k] = s * q[k];
                }

                [DerivativeOf(typeof(H), nameof(Scale))]
                public static void ScalePullback(ReadOnlySpan<double> q, Span<double> r, double s, Span<double> qBar, Span<double> rBar, ref double sBar)
                {
                    for (int k = 0; k < r.Length; k++) { r[k] = s * q[k]; qBar[k] += s * rBar[k]; sBar += q[k] * rBar[k]; rBar[k] = 0; }
                }

                /// <summary>The pressure solve's kind of signature: an int mask, a [NoDiff] double, an int (no adjoints for them).</summary>
                public static void Masked(ReadOnlySpan<double> q, Span<double> r, ReadOnlySpan<int> mask, [NoDiff] double tol, int n)
                {
                    for (int k = 0; k < r.Length; k++) r[k] = mask[k] == 0 ? q[k] : 0;
                }

                [DerivativeOf(typeof(H), nameof(Masked))]
                public static void MaskedPullback(ReadOnlySpan<double> q, Span<double> r, ReadOnlySpan<int> mask, double tol, int n, Span<double> qBar, Span<double> rBar)
                {
                    for (int k = 0; k < r.Length; k++) { r[k] = mask[k] == 0 ? q[k] : 0; qBar[k] += mask[k] == 0 ? rBar[k] : 0; rBar[k] = 0; }
                }

                public static class MaskedDevice
                {
                    public static void Run(Accelerator accelerator, ArrayView<double> q, ArrayView<double> r, ArrayView<int> mask, double tol, int n) { }

                    public static void Pullback(Accelerator accelerator, ArrayView<double> q, ArrayView<double> r, ArrayView<int> mask, double tol, int n, ArrayView<double> qBar, ArrayView<double> rBar) { }
                }

                public static class ScaleDevice
                {
                    public static void Run(Accelerator accelerator, ArrayView<double> q, ArrayView<double> r, double s) { }

                    public static void Pullback(Accelerator accelerator, ArrayView<double> q, ArrayView<double> r, double s, ArrayView<double> qBar, ArrayView<double> rBar{{sBar}}) { }
                }
            }

            public static partial class C
            {
                [Differentiable, DataParallel]
                public static void Step(ReadOnlySpan<double> q, Span<double> r, double a)
                {
                    double[] mid = new double[q.Length];
                    double[] mid2 = new double[q.Length];
                    int[] mask = new int[q.Length];
                    H.Scale(q, mid, a);
                    H.Masked(mid, mid2, mask, 1e-8, 3);
                    K.Smooth(mid2, r, a);
                }
            }
            """);
        string code = Generated(result);
        if (matching)
        {
            Assert.Contains("public static class StepDevice", code);
            Assert.Contains("global::H.ScaleDevice.Pullback(", code);
            Assert.Contains("global::H.MaskedDevice.Pullback(", code);
        }
        else
        {
            Assert.DoesNotContain("class StepDevice", code);
            Assert.Contains("no ILGPU kernels: it calls 'Scale', which has no ILGPU kernels", code);
        }
    }
}
