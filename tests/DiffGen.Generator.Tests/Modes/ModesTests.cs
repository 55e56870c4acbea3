using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace DiffGen.Generator.Tests.Modes;

/// <summary>
/// Modes on request: the pullback by default; pushforward, vector pushforward and dual pullback when the
/// method's attribute or the project (DiffGenDerivativeModes) asks, or when a caller's form needs them.
/// </summary>
public class ModesTests
{
    private const string Prelude = "using System;\nusing DiffGen;\nnamespace M;\n";

    // Top -> Mid -> Leaf; Alone calls nothing.
    private static string Source(string topAttribute = "[Differentiable]", string aloneAttribute = "[Differentiable]") => Prelude + $$"""
        public static partial class K
        {
            [Differentiable]
            public static double Leaf(double x) => Math.Sin(x) * x;

            [Differentiable]
            public static double Mid(double x) => Leaf(x) + x * x;

            {{topAttribute}}
            public static double Top(double x, double y) => Mid(x) * y;

            {{aloneAttribute}}
            public static double Alone(double x) => Math.Exp(x);
        }
        """;

    private static readonly string[] Forms = ["Pushforward(", "PushforwardVector(", "PullbackDual("];

    private static GeneratorResult Run(string source, string? projectModes = null)
    {
        var result = TestCompilation.Run(TestCompilation.Create(source), TestCompilation.CreateDriver(modes: projectModes));
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error || d.Id is "CS8784" or "CS8785");
        Assert.True(result.OutputDiagnostics.IsEmpty, string.Join("\n", result.OutputDiagnostics));
        return result;
    }

    /// <summary>Which forms beyond the pullback each method's file declares, e.g. "Mid: Pushforward".</summary>
    private static string[] Generated(GeneratorResult r) =>
        [.. r.Sources.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv =>
        {
            string name = kv.Key.Replace("M.K.", "").Replace(".g.cs", "");
            Assert.Contains(" " + name + "Pullback(", kv.Value);
            var forms = Forms.Where(f => kv.Value.Contains(" " + name + f, StringComparison.Ordinal)).Select(f => f.TrimEnd('('));
            return name + ":" + string.Concat(forms.Select(f => " " + f));
        })];

    [Fact]
    public void ByDefault_OnlyThePullbackIsGenerated()
    {
        var r = Run(Source());
        Assert.Equal(["Alone:", "Leaf:", "Mid:", "Top:"], Generated(r));
        Assert.Contains("(reverse: TopPullback)", r.Sources["M.K.Top.g.cs"]);
    }

    [Fact]
    public void AModeAskedForByAMethod_IsGeneratedForItAndEveryMethodItCalls()
    {
        Assert.Equal(["Alone:", "Leaf: Pushforward", "Mid: Pushforward", "Top: Pushforward"],
            Generated(Run(Source("[Differentiable(Modes = DerivativeModes.Forward)]"))));
        Assert.Equal(["Alone:", "Leaf: PullbackDual", "Mid: PullbackDual", "Top: PullbackDual"],
            Generated(Run(Source("[Differentiable(Modes = DerivativeModes.Dual)]"))));
        Assert.Equal(["Alone:", "Leaf: PushforwardVector", "Mid: PushforwardVector", "Top: PushforwardVector"],
            Generated(Run(Source("[Differentiable(Modes = DerivativeModes.Vector)]"))));
        Assert.Equal(["Alone: Pushforward PushforwardVector PullbackDual", "Leaf:", "Mid:", "Top:"],
            Generated(Run(Source(aloneAttribute: "[Differentiable(Modes = DerivativeModes.All)]"))));
    }

    [Fact]
    public void TheProjectDefault_AppliesWhereTheAttributeNamesNoModes()
    {
        Assert.Equal(["Alone: Pushforward PullbackDual", "Leaf: Pushforward PullbackDual", "Mid: Pushforward PullbackDual", "Top: Pushforward PullbackDual"],
            Generated(Run(Source(), projectModes: "Forward, dual")));
        // A method's own Modes replace the default for it; its callees still follow the default (and its needs).
        Assert.Equal(["Alone: Pushforward PushforwardVector PullbackDual", "Leaf: Pushforward PushforwardVector PullbackDual", "Mid: Pushforward PushforwardVector PullbackDual", "Top:"],
            Generated(Run(Source("[Differentiable(Modes = DerivativeModes.Reverse)]"), projectModes: "All")));
    }

    [Fact]
    public void AnInvalidProjectDefault_IsAnErrorNamingTheWord_AndTheDefaultIsReverse()
    {
        var result = TestCompilation.Run(TestCompilation.Create(Source()), TestCompilation.CreateDriver(modes: "Reverse,Fwd"));
        var error = Assert.Single(result.GeneratorDiagnostics, d => d.Id == "DG0007");
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Contains("'Fwd' is not a derivative mode", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("DiffGenDerivativeModes = 'Reverse,Fwd'", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["Alone:", "Leaf:", "Mid:", "Top:"], Generated(result));
    }

    [Fact]
    public void AFormAMethodCannotHave_IsANoteOnlyWhenAskedFor()
    {
        const string floatCode = Prelude + "public static partial class C { [Differentiable] public static float F(float x) => x * x; }";
        var quiet = Run(floatCode);
        Assert.DoesNotContain(quiet.GeneratorDiagnostics, d => d.Id is "DG0300" or "DG0301");
        var asked = Run(floatCode, projectModes: "All");
        var note = Assert.Single(asked.GeneratorDiagnostics, d => d.Id == "DG0300");
        Assert.Equal(DiagnosticSeverity.Info, note.Severity);
        Assert.Equal("Differentiable", floatCode.Substring(note.Location.SourceSpan.Start, note.Location.SourceSpan.Length));
        Assert.DoesNotContain("FPullbackDual", asked.Sources.Values.Single());
        Assert.Contains("FPushforwardVector", asked.Sources.Values.Single());
    }

    [Fact]
    public void ACallerAskingForADualPullback_DoesNotGetOneWhenACalleeCannot_AndSaysWhy()
    {
        var source = Prelude + """
            public static partial class K
            {
                [Differentiable]
                public static double Leaf(double x) => (double)MathF.Sin((float)x);

                [Differentiable(Modes = DerivativeModes.Dual)]
                public static double Top(double x) => Leaf(x) * x;
            }
            """;
        var r = Run(source);
        var note = Assert.Single(r.GeneratorDiagnostics, d => d.Id == "DG0300");
        Assert.Contains("it calls 'Leaf'", note.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["Leaf:", "Top:"], Generated(r));
    }

    [Fact]
    public void ACalleeOfAnotherAssembly_WithoutAPushforward_IsDifferentiatedThroughItsPullback()
    {
        // The library asked for nothing but the pullback; a caller's pushforward still compiles (and is exact).
        var lib = TestCompilation.Run(TestCompilation.Create(Prelude.Replace("namespace M;", "namespace Lib;") + """
            public static partial class L
            {
                [Differentiable]
                public static double Sq(double x) => x * x;
            }
            """), TestCompilation.CreateDriver());
        Assert.DoesNotContain("SqPushforward", lib.Sources.Values.Single());
        var libReference = lib.Output.ToMetadataReference();

        var app = CSharpCompilation.Create("App",
            [CSharpSyntaxTree.ParseText(Prelude + "public static partial class A { [Differentiable(Modes = DerivativeModes.Forward)] public static double F(double x) => Lib.L.Sq(x) * 3; }", TestCompilation.ParseOptions, path: "App.cs")],
            TestCompilation.Create().References.Append(libReference),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var result = TestCompilation.Run(app, TestCompilation.CreateDriver());
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.True(result.OutputDiagnostics.IsEmpty, string.Join("\n", result.OutputDiagnostics));
        var source = result.Sources.Values.Single();
        Assert.Contains("FPushforward", source);
        Assert.Contains("global::Lib.L.SqPullback(", source);
        Assert.DoesNotContain("SqPushforward", source);
    }
}
