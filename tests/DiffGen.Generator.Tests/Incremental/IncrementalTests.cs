using System.Collections;
using System.Reflection;
using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace DiffGen.Generator.Tests.Incremental;

/// <summary>The pipeline caches: unrelated edits re-run nothing, and models hold no Roslyn objects.</summary>
public class IncrementalTests
{
    private const string Kernels = """
        using System;
        using DiffGen;
        namespace I;
        public static partial class K
        {
            [Differentiable]
            public static void Step(ReadOnlySpan<double> u, Span<double> next, double nu)
            {
                for (int i = 1; i < u.Length - 1; i++)
                    next[i] = u[i] + nu * (u[i - 1] - 2 * u[i] + u[i + 1]);
            }

            [Differentiable]
            public static double Loss(ReadOnlySpan<double> u, Span<double> work, double nu)
            {
                Step(u, work, nu);
                double s = 0;
                for (int i = 0; i < work.Length; i++) s += work[i] * work[i];
                return s;
            }
        }
        public static class Lib
        {
            public static double Cube(double x) => x * x * x;
            [DerivativeOf(typeof(Lib), nameof(Cube))]
            public static double CubePullback(double x, double resultBar, ref double xBar) { xBar += 3 * x * x * resultBar; return Cube(x); }
        }
        """;

    private const string Other = """
        namespace I;
        public static class Unrelated { public static int Answer() => 42; }
        """;

    private static readonly string[] Tracked = [TrackingNames.Lowered, TrackingNames.Registry, TrackingNames.Combined];

    [Fact]
    public void UnrelatedEdit_LeavesEveryTrackedStepCachedOrUnchanged()
    {
        var compilation = TestCompilation.Create(Kernels, Other);
        var driver = TestCompilation.CreateDriver(trackSteps: true);
        var first = TestCompilation.Run(compilation, driver);
        Assert.Equal(2, first.Sources.Count);

        var otherTree = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(otherTree,
            CSharpSyntaxTree.ParseText(Other.Replace("42", "43"), TestCompilation.ParseOptions, path: otherTree.FilePath));
        var second = TestCompilation.Run(edited, first.Driver);

        var steps = second.RunResult.Results[0].TrackedSteps;
        foreach (var name in Tracked)
        {
            Assert.True(steps.ContainsKey(name), $"step {name} was not tracked");
            foreach (var step in steps[name])
                foreach (var (_, reason) in step.Outputs)
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {reason}");
        }
        var outputs = second.RunResult.Results[0].TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs);
        Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.Equal(first.Sources, second.Sources);
    }

    [Fact]
    public void EditingOneMethod_RegeneratesOnlyThatMethod()
    {
        var compilation = TestCompilation.Create(Kernels, Other);
        var first = TestCompilation.Run(compilation, TestCompilation.CreateDriver(trackSteps: true));
        var tree = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(tree,
            CSharpSyntaxTree.ParseText(Kernels.Replace("s += work[i] * work[i];", "s += 2 * work[i] * work[i];"), TestCompilation.ParseOptions, path: tree.FilePath));
        var second = TestCompilation.Run(edited, first.Driver);
        var lowered = second.RunResult.Results[0].TrackedSteps[TrackingNames.Lowered].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Modified, lowered);
        Assert.Single(lowered, r => r == IncrementalStepRunReason.Modified);
        Assert.Single(lowered, r => r is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached);
        Assert.NotEqual(first.Sources["I.K.Loss.g.cs"], second.Sources["I.K.Loss.g.cs"]);
        Assert.Equal(first.Sources["I.K.Step.g.cs"], second.Sources["I.K.Step.g.cs"]);
    }

    [Fact]
    public void PipelineModels_HoldNoSymbolsSyntaxOrCompilation()
    {
        var result = TestCompilation.Run(TestCompilation.Create(Kernels, Other), TestCompilation.CreateDriver(trackSteps: true));
        var steps = result.RunResult.Results[0].TrackedSteps;
        int inspected = 0;
        foreach (var name in Tracked)
            foreach (var step in steps[name])
                foreach (var (value, _) in step.Outputs)
                {
                    AssertNoRoslynObjects(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
                    inspected++;
                }
        Assert.True(inspected >= 3);
    }

    private static void AssertNoRoslynObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        Assert.False(value is Compilation, $"{path} holds a Compilation");
        Assert.False(value is ISymbol, $"{path} holds an ISymbol");
        Assert.False(value is SyntaxNode, $"{path} holds a SyntaxNode");
        Assert.False(value is SemanticModel, $"{path} holds a SemanticModel");
        Assert.False(value is Location, $"{path} holds a Location");
        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (var item in items) AssertNoRoslynObjects(item, $"{path}[{i++}]", seen);
            if (value.GetType().Namespace?.StartsWith("System", StringComparison.Ordinal) == true) return;
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertNoRoslynObjects(field.GetValue(value), $"{path}.{field.Name}", seen);
    }
}
