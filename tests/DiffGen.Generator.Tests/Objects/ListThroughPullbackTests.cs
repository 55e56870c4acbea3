using DiffGen.Generator.Tests.Infrastructure;

namespace DiffGen.Generator.Tests.Objects;

/// <summary>A list passed to a method that has only a hand-written pullback: the forward mode goes through that pullback.</summary>
public class ListThroughHandWrittenPullbackTests
{
    [Fact]
    public void ForwardModeThroughAHandWrittenPullback_OfAListArgument_IsADiagnostic_NotACompileError()
    {
        var result = TestCompilation.Run("""
            using System;
            using System.Collections.Generic;
            using DiffGen;
            namespace T;
            public static class Ext
            {
                public static double Sum(List<double> xs) { double s = 0; foreach (var x in xs) s += x; return s; }
            }
            public static class ExtDerivatives
            {
                [DerivativeOf(typeof(Ext), nameof(Ext.Sum))]
                public static double SumPullback(List<double> xs, double resultBar, List<double> xsBar)
                {
                    for (int i = 0; i < xs.Count; i++) xsBar[i] += resultBar;
                    return Ext.Sum(xs);
                }
            }
            public static partial class K
            {
                [Differentiable(Modes = DerivativeModes.Forward)]
                public static double F(List<double> xs) => 2 * Ext.Sum(xs);
            }
            """);
        var errors = result.OutputDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, "generated code does not compile:\n  " + string.Join("\n  ", errors));
        var d = Assert.Single(result.GeneratorDiagnostics, x => x.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        Assert.Contains("is passed a List<T>: register its pushforward too", d.GetMessage());
    }
}
