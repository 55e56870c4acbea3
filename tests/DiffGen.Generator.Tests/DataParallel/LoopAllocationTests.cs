using DiffGen.Generator.Tests.Infrastructure;

namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>
/// [DataParallel] methods that allocate arrays inside loops (a kernel's per-row scratch, a composite's per-step
/// temporary): no device form, a reason in the summary, and CPU forms their callers compile against.
/// </summary>
public class LoopAllocationTests
{
    [Fact]
    public void AllocationInsideLoops_NoDeviceForm_SaysWhy_AndCallersCompile()
    {
        var result = TestCompilation.Run("""
            using System;
            using DiffGen;

            public static partial class K
            {
                [Differentiable, DataParallel]
                public static void Rows(ReadOnlySpan<double> q, Span<double> r, int w, int h)
                {
                    for (int j = 0; j < h; j++)
                    {
                        double[] row = new double[w];
                        for (int i = 0; i < w; i++) row[i] = q[j * w + i] * q[j * w + i];
                        for (int i = 0; i < w; i++) r[j * w + i] = row[i] + row[(i + 1) % w];
                    }
                }

                [Differentiable, DataParallel]
                public static void Smooth(ReadOnlySpan<double> q, Span<double> r, double a)
                {
                    int n = q.Length;
                    for (int i = 0; i < n; i++) r[i] = q[i] + a * (q[(i + n - 1) % n] - 2 * q[i] + q[(i + 1) % n]);
                }

                [Differentiable, DataParallel]
                public static void Steps(ReadOnlySpan<double> q, Span<double> r, double a, int steps)
                {
                    Smooth(q, r, a);
                    for (int s = 0; s < steps; s++)
                    {
                        double[] t = new double[q.Length];
                        Smooth(r, t, a);
                        Smooth(t, r, a);
                    }
                }

                [Differentiable, DataParallel]
                public static void UsesSteps(ReadOnlySpan<double> q, Span<double> r, double a)
                {
                    double[] t = new double[q.Length];
                    Steps(q, t, a, 2);
                    Smooth(t, r, a);
                }

                [Differentiable, DataParallel]
                public static void Twice(ReadOnlySpan<double> q, Span<double> r, int w, int h)
                {
                    double[] t = new double[q.Length];
                    Rows(q, t, w, h);
                    Rows(t, r, w, h);
                }
            }
            """);
        var errors = result.OutputDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors) + "\n" + string.Join("\n", result.GeneratorDiagnostics));
        string Summary(string name) => result.Sources.Single(kv => kv.Key.EndsWith("K." + name + ".g.cs", StringComparison.Ordinal)).Value;
        Assert.Contains("no ILGPU kernels: a loop allocates an array", Summary("Rows"));
        Assert.Contains("no ILGPU kernels: it allocates an array inside a loop", Summary("Steps"));
        Assert.Contains("no ILGPU kernels: it calls 'Steps', which has no ILGPU kernels", Summary("UsesSteps"));
        Assert.Contains("public static class SmoothDevice", Summary("Smooth"));
        // The CPU forms exist for every method, so callers compile (the pullbacks and {Name}Parallel they call).
        foreach (var name in new[] { "Rows", "Steps", "UsesSteps", "Twice" })
            Assert.Contains(name + "Pullback(", Summary(name));
    }
}
