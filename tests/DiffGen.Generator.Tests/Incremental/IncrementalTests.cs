using System.Collections;
using System.Reflection;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Pipeline;
using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace DiffGen.Generator.Tests.Incremental;

/// <summary>
/// The pipeline caches: edits that change no model re-run no output, an edit re-renders exactly the
/// methods whose model or callees' capabilities changed, and no model holds Roslyn objects (nor, on the
/// source side, source positions).
/// </summary>
public class IncrementalTests
{
    // Outer -> Middle -> Inner (a chain through a span), Other alone; Cube has a hand-written derivative.
    private const string Kernels = """
        using System;
        using DiffGen;
        namespace I;
        public static partial class K
        {
            [Differentiable]
            public static void Inner(ReadOnlySpan<double> u, Span<double> next, double nu)
            {
                for (int i = 1; i < u.Length - 1; i++)
                    next[i] = u[i] + nu * (u[i - 1] - 2 * u[i] + u[i + 1]);
            }

            [Differentiable]
            public static void Middle(ReadOnlySpan<double> u, Span<double> next, double nu) => Inner(u, next, nu);

            [Differentiable]
            public static double Outer(ReadOnlySpan<double> u, Span<double> work, double nu)
            {
                Middle(u, work, nu);
                double s = 0;
                for (int i = 0; i < work.Length; i++) s += work[i] * work[i];
                return s;
            }

            [Differentiable]
            public static double Other(double x) => Lib.Cube(x) + x;
        }
        public static class Lib
        {
            public static double Cube(double x) => x * x * x;
            [DerivativeOf(typeof(Lib), nameof(Cube))]
            public static double CubePullback(double x, double resultBar, ref double xBar) { xBar += 3 * x * x * resultBar; return Cube(x); }
        }
        """;

    private const string Unrelated = """
        namespace I;
        public static class Unrelated { public static int Answer() => 42; }
        """;

    /// <summary>The steps that lead to source: their values hold no source position.</summary>
    private static readonly string[] LocationFree =
    [
        TrackingNames.Model, TrackingNames.Summary, TrackingNames.ProjectModes, TrackingNames.Table, TrackingNames.Registry,
        TrackingNames.RenderInput, TrackingNames.Rendered, TrackingNames.RenderFailures,
    ];

    /// <summary>Lowering's output and the diagnostics side hold positions (diagnostics are reported on the exact syntax).</summary>
    private static readonly string[] Located = [TrackingNames.Lowered, TrackingNames.MethodDiagnostics, TrackingNames.Diagnostics];

    private static readonly string[] AllSteps = [.. LocationFree, .. Located];

    private static (GeneratorResult First, GeneratorResult Second) RunEdit(string edited, string? unrelated = null, string? modes = null)
    {
        Assert.True(edited != Kernels || unrelated != null, "the edit changed nothing");
        var compilation = TestCompilation.Create(Kernels, Unrelated);
        var first = TestCompilation.Run(compilation, TestCompilation.CreateDriver(trackSteps: true, modes: modes));
        Assert.Empty(first.GeneratorDiagnostics);
        var trees = compilation.SyntaxTrees.ToList();
        var next = compilation.ReplaceSyntaxTree(trees[0], CSharpSyntaxTree.ParseText(edited, TestCompilation.ParseOptions, path: trees[0].FilePath));
        if (unrelated != null)
            next = next.ReplaceSyntaxTree(trees[1], CSharpSyntaxTree.ParseText(unrelated, TestCompilation.ParseOptions, path: trees[1].FilePath));
        var second = TestCompilation.Run(next, first.Driver);
        Assert.Empty(second.GeneratorDiagnostics);
        return (first, second);
    }

    private static IEnumerable<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorResult r, string step) =>
        r.RunResult.Results[0].TrackedSteps.TryGetValue(step, out var steps) ? steps.SelectMany(s => s.Outputs) : [];

    /// <summary>Every value of the given steps was reused (Cached) or recomputed equal (Unchanged), and every output step was skipped.</summary>
    private static void AssertNothingReRendered(GeneratorResult first, GeneratorResult second, IEnumerable<string> steps)
    {
        var tracked = second.RunResult.Results[0].TrackedSteps;
        foreach (var name in steps)
        {
            Assert.True(tracked.ContainsKey(name), $"step {name} was not tracked");
            foreach (var (_, reason) in Outputs(second, name))
                Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {reason}");
        }
        var outputs = second.RunResult.Results[0].TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.Equal(first.Sources, second.Sources);
    }

    /// <summary>The methods whose file was rendered again (the Rendered step ran for them).</summary>
    private static string[] ReRendered(GeneratorResult second) =>
        [.. Outputs(second, TrackingNames.Rendered).Where(o => o.Reason != IncrementalStepRunReason.Cached)
            .Select(o => ((RenderedMethod)o.Value).HintName.Replace("I.K.", "").Replace(".g.cs", "")).OrderBy(x => x, StringComparer.Ordinal)];

    [Fact]
    public void EditInAnUnrelatedFile_ReRunsNothing()
    {
        var (first, second) = RunEdit(Kernels, unrelated: Unrelated.Replace("42", "43"));
        AssertNothingReRendered(first, second, AllSteps);
    }

    [Fact]
    public void WhitespaceEditInsideAMethod_ReRendersNothing()
    {
        var edited = Kernels.Replace("double s = 0;", "double  s =\n            0;   ");
        var (first, second) = RunEdit(edited);
        // Lowering ran again and its located half changed; nothing after the split re-ran.
        Assert.Contains(Outputs(second, TrackingNames.MethodDiagnostics), o => o.Reason == IncrementalStepRunReason.Modified);
        AssertNothingReRendered(first, second, [.. LocationFree, TrackingNames.Diagnostics]);
    }

    [Fact]
    public void BlankLineAboveTheType_ReRendersNothing()
    {
        var edited = Kernels.Replace("public static partial class K", "\n\npublic static partial class K");
        var (first, second) = RunEdit(edited);
        Assert.Equal(4, Outputs(second, TrackingNames.MethodDiagnostics).Count(o => o.Reason == IncrementalStepRunReason.Modified));
        AssertNothingReRendered(first, second, [.. LocationFree, TrackingNames.Diagnostics]);
    }

    [Fact]
    public void EditingOneMethod_ReRendersOnlyThatMethod_WhenNoCapabilityChanges()
    {
        var (first, second) = RunEdit(Kernels.Replace("s += work[i] * work[i];", "s += 2 * work[i] * work[i];"));
        Assert.Equal(["Outer"], ReRendered(second));
        Assert.NotEqual(first.Sources["I.K.Outer.g.cs"], second.Sources["I.K.Outer.g.cs"]);
        Assert.Equal(first.Sources["I.K.Inner.g.cs"], second.Sources["I.K.Inner.g.cs"]);

        // A callee's body changes but nothing its callers see: they are not rendered again either.
        (first, second) = RunEdit(Kernels.Replace("next[i] = u[i] + nu *", "next[i] = u[i] + 0.5 * nu *"));
        Assert.Equal(["Inner"], ReRendered(second));
        Assert.Equal(first.Sources["I.K.Middle.g.cs"], second.Sources["I.K.Middle.g.cs"]);
        Assert.Equal(first.Sources["I.K.Outer.g.cs"], second.Sources["I.K.Outer.g.cs"]);
    }

    [Fact]
    public void ChangingACalleesCapability_ReRendersItAndItsCallers()
    {
        // Inner now reads its output span: Middle passes its span on, so its own use changes; Outer calls Middle.
        var (first, second) = RunEdit(Kernels.Replace("next[i] = u[i] + nu *", "next[i] = next[i] + u[i] + nu *"));
        Assert.Equal(["Inner", "Middle", "Outer"], ReRendered(second));
        var table = (Analysis.CapabilityTable)Outputs(second, TrackingNames.Table).Single().Value;
        Assert.True(table.Entries.Single(e => e.Signature.Contains(".K.Middle(", StringComparison.Ordinal)).Params[1].Reads);
        Assert.NotEqual(first.Sources["I.K.Inner.g.cs"], second.Sources["I.K.Inner.g.cs"]);
        Assert.Equal(first.Sources["I.K.Other.g.cs"], second.Sources["I.K.Other.g.cs"]);
    }

    [Fact]
    public void AskingForAMode_ReRendersTheMethodAndTheCalleesThatMustProvideIt()
    {
        var (_, second) = RunEdit(Kernels.Replace("    [Differentiable]\n    public static double Outer(", "    [Differentiable(Modes = DerivativeModes.Forward)]\n    public static double Outer("));
        Assert.Equal(["Inner", "Middle", "Outer"], ReRendered(second));
        Assert.Contains("OuterPushforward", second.Sources["I.K.Outer.g.cs"]);
        Assert.Contains("InnerPushforward", second.Sources["I.K.Inner.g.cs"]);
        Assert.DoesNotContain("OtherPushforward", second.Sources["I.K.Other.g.cs"]);
    }

    [Fact]
    public void PipelineModels_HoldNoSymbolsSyntaxCompilationOrLocation()
    {
        var result = TestCompilation.Run(TestCompilation.Create(Kernels, Unrelated), TestCompilation.CreateDriver(trackSteps: true, modes: "All"));
        var steps = result.RunResult.Results[0].TrackedSteps;
        int inspected = 0;
        foreach (var name in AllSteps)
        {
            Assert.True(steps.ContainsKey(name), $"step {name} was not tracked");
            foreach (var step in steps[name])
                foreach (var (value, _) in step.Outputs)
                {
                    AssertHoldsNo(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance), allowLocationInfo: !LocationFree.Contains(name));
                    inspected++;
                }
        }
        Assert.True(inspected >= 20, $"only {inspected} values inspected");
    }

    [Fact]
    public void TheCheck_FindsALocationWhereItIsNotAllowed()
    {
        // The walk above would pass vacuously if it missed nested values: it must find the located half's positions.
        var result = TestCompilation.Run(TestCompilation.Create(Kernels), TestCompilation.CreateDriver(trackSteps: true));
        var located = Outputs(result, TrackingNames.MethodDiagnostics).First().Value;
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertHoldsNo(located, "located", new HashSet<object>(ReferenceEqualityComparer.Instance), allowLocationInfo: false));
    }

    private static void AssertHoldsNo(object? value, string path, HashSet<object> seen, bool allowLocationInfo)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        Assert.False(value is Compilation, $"{path} holds a Compilation");
        Assert.False(value is ISymbol, $"{path} holds an ISymbol");
        Assert.False(value is SyntaxNode, $"{path} holds a SyntaxNode");
        Assert.False(value is SyntaxTree, $"{path} holds a SyntaxTree");
        Assert.False(value is SemanticModel, $"{path} holds a SemanticModel");
        Assert.False(value is Location, $"{path} holds a Location");
        Assert.False(!allowLocationInfo && value is LocationInfo, $"{path} holds a source position ({value})");
        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (var item in items) AssertHoldsNo(item, $"{path}[{i++}]", seen, allowLocationInfo);
            if (value.GetType().Namespace?.StartsWith("System", StringComparison.Ordinal) == true) return;
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertHoldsNo(field.GetValue(value), $"{path}.{field.Name}", seen, allowLocationInfo);
    }
}
