using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.Diagnostics;

/// <summary>
/// Rendering runs on the location-free model: when it fails, the failure travels to the diagnostics
/// output, which reports DG0100 ("internal error") on the method's name. The build never sees an exception.
/// </summary>
public class InternalErrorTests
{
    private const string Source = """
        using System;
        using DiffGen;
        namespace E;
        public static partial class K
        {
            [Differentiable]
            public static double Good(double x) => x * x;

            [Differentiable]
            public static double Broken(double x) => Good(x) + x;
        }
        """;

    [Fact]
    public void AnExceptionWhileRendering_IsAnInternalErrorOnTheMethodsName_AndTheOthersStillGenerate()
    {
        var generator = new DifferentiableGenerator { BeforeRender = m => { if (m.Name == "Broken") throw new InvalidOperationException("boom"); } };
        var result = TestCompilation.Run(TestCompilation.Create(Source), TestCompilation.CreateDriver(generator: generator));

        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Id is "CS8784" or "CS8785");
        var error = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("DG0100", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal("Broken", Source.Substring(error.Location.SourceSpan.Start, error.Location.SourceSpan.Length));
        var message = error.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("internal error", message);
        Assert.Contains("InvalidOperationException: boom", message);
        Assert.Equal(["E.K.Good.g.cs"], result.Sources.Keys);
    }

    [Fact]
    public void TheInternalError_GoesAwayWhenRenderingSucceedsAgain()
    {
        bool fail = true;
        var generator = new DifferentiableGenerator { BeforeRender = m => { if (fail && m.Name == "Broken") throw new InvalidOperationException("boom"); } };
        var compilation = TestCompilation.Create(Source);
        var first = TestCompilation.Run(compilation, TestCompilation.CreateDriver(generator: generator));
        Assert.Contains(first.GeneratorDiagnostics, d => d.Id == "DG0100");

        // An edit of the broken method renders it again; this time it works, and the error is withdrawn.
        fail = false;
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(
            Source.Replace("Good(x) + x", "Good(x) + 2 * x"), TestCompilation.ParseOptions, path: tree.FilePath));
        var second = TestCompilation.Run(edited, first.Driver);
        Assert.Empty(second.GeneratorDiagnostics);
        Assert.Equal(["E.K.Broken.g.cs", "E.K.Good.g.cs"], second.Sources.Keys.OrderBy(k => k, StringComparer.Ordinal));
    }
}
