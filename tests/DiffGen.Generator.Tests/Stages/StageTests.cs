using DiffGen.Generator.Analysis;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Lowering;
using DiffGen.Generator.Pipeline;
using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Tests.Stages;

// The generator's own enum (DiffGen.DerivativeModes, the runtime's, would be found first).
using DerivativeModes = DiffGen.Generator.Pipeline.DerivativeModes;

/// <summary>
/// The pipeline's stages called directly, without Roslyn's driver: lowering (from a compilation),
/// the summary, the capability table (from hand-written summaries), render-input preparation,
/// diagnostics, analysis and rendering.
/// </summary>
public class StageTests
{
    private const string Prelude = "using System;\nusing DiffGen;\nnamespace S;\n";

    /// <summary>Lowers one [Differentiable] method of the source, as the generator's transform does.</summary>
    private static LoweredMethod Lower(string source, string method)
    {
        var compilation = TestCompilation.Create(Prelude + source);
        var tree = compilation.SyntaxTrees.Single();
        var model = compilation.GetSemanticModel(tree);
        var syntax = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().Single(m => m.Identifier.ValueText == method);
        var symbol = (IMethodSymbol)model.GetDeclaredSymbol(syntax)!;
        var attribute = symbol.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == "DifferentiableAttribute");
        return Lowerer.Lower(syntax, symbol, model, attribute, CancellationToken.None);
    }

    private const string Chain = """
        public static partial class K
        {
            [Differentiable]
            public static void Fill(ReadOnlySpan<double> a, Span<double> b)
            {
                for (int i = 0; i < b.Length; i++) b[i] = 2 * a[i];
            }

            [Differentiable(Modes = DerivativeModes.Forward | DerivativeModes.Dual)]
            public static double Use(ReadOnlySpan<double> a, Span<double> b, Span<double> c, double[] d)
            {
                Fill(a, b);
                c[0] = c[1] * 3;
                double s = 0;
                for (int i = 0; i < d.Length; i++) s += b[i];
                return s + a.Length;
            }
        }
        """;

    [Fact]
    public void Lowering_GivesALocationFreeModel_ASummaryAndLocatedDiagnostics()
    {
        var lowered = Lower(Chain, "Use");
        Assert.Equal("Use", lowered.Model.Name);
        Assert.Equal("global::S.K.Use(global::System.ReadOnlySpan<double>, global::System.Span<double>, global::System.Span<double>, double[])", lowered.Model.Signature);
        Assert.False(lowered.Model.HasErrors);
        var fill = Assert.Single(lowered.Model.Callees);
        Assert.Equal("global::S.K.Fill(global::System.ReadOnlySpan<double>, global::System.Span<double>)", fill.Signature);
        // Lowering leaves a callee's conservative answers; the table replaces them.
        Assert.True(fill.Params[1].Reads);
        Assert.False(fill.DualCapable);

        var s = lowered.Summary;
        Assert.Equal(DerivativeModes.Forward | DerivativeModes.Dual, s.Requested);
        Assert.Equal(SpanUse.ReadOnly, s.Params[0]);                                                    // a: a read-only span
        // b: read in the loop, and passed to Fill (callee 0, parameter 1; lowering assumed Fill reads and writes it).
        Assert.Equal(new SpanUse(true, false, new[] { new PassedOn(0, 1, true, true) }.ToEquatableArray()), s.Params[1]);
        Assert.Equal(new SpanUse(true, true, EquatableArray<PassedOn>.Empty), s.Params[2]);              // c: c[0] = c[1] * 3
        Assert.Equal(new SpanUse(false, false, EquatableArray<PassedOn>.Empty), s.Params[3]);            // d: only its length
        Assert.False(s.HasHalves); // it returns a value

        Assert.Empty(lowered.Diagnostics.Lowering);
        Assert.Equal("Use", lowered.Diagnostics.Name);
        Assert.Equal(lowered.Model.HintName, lowered.Diagnostics.HintName);
        Assert.NotEqual(LocationInfo.None, lowered.Diagnostics.Identifier);
    }

    [Fact]
    public void Lowering_ReportsOnTheSyntax_AndMarksTheModel()
    {
        var lowered = Lower("public static partial class K { [Differentiable] public static double F(double x) { goto l; l: return x; } }", "F");
        Assert.True(lowered.Model.HasErrors);
        Assert.NotEmpty(lowered.Diagnostics.Lowering);
        Assert.All(lowered.Diagnostics.Lowering, d => Assert.True(d.Id == "DG0100" && d.Location.Length > 0));
        Assert.Null(Pipeline.Stages.Prepare(lowered.Model, CapabilityTable.Build([lowered.Summary], DerivativeModes.Reverse), EquatableArray<RegisteredDerivative>.Empty));
    }

    private static MethodSummary Summary(string name, string[]? calls = null, bool usesFloat = false, DerivativeModes? requested = null, params SpanUse[] ps) =>
        new(name, name, false, false, usesFloat, false, false, false,
            (calls ?? []).Select(c => new CalleeRef(c, c)).ToEquatableArray(), ps.ToEquatableArray(), requested);

    [Fact]
    public void Table_DualAndVectorNeedEveryCalleeToHaveThem_AndSayWhyNot()
    {
        var table = CapabilityTable.Build(
        [
            Summary("A", ["B"]), Summary("B", ["C"]), Summary("C", usesFloat: true),
            Summary("P", ["Q"]), Summary("Q", ["P"]),                 // a cycle: capable
            Summary("X", ["Y"]), Summary("Y", ["External", "X"]),      // a cycle through a method without an entry
        ], DerivativeModes.Reverse);
        Assert.Equal(new[] { false, false, false, true, true, false, false }, new[] { "A", "B", "C", "P", "Q", "X", "Y" }.Select(n => table[n]!.DualCapable));
        Assert.Equal("it uses float (dual numbers are double)", table["C"]!.NoDual);
        Assert.Contains("it calls 'C'", table["B"]!.NoDual);
        Assert.Contains("it calls 'B'", table["A"]!.NoDual);
        Assert.True(table["A"]!.VectorCapable); // float code has a vector pushforward
        Assert.False(table["Y"]!.VectorCapable);
        Assert.Contains("it calls 'External'", table["Y"]!.NoVector);
        Assert.Contains("it calls 'Y'", table["X"]!.NoVector);
        Assert.Null(table["External"]);
    }

    [Fact]
    public void Table_SpanUseFollowsSpansPassedOn()
    {
        var none = EquatableArray<PassedOn>.Empty;
        var table = CapabilityTable.Build(
        [
            Summary("Writer", null, false, null, new SpanUse(false, true, none)),
            // Passes its span to Writer (callee 0) and to a method without an entry (callee 1) that lowering assumed only reads it.
            Summary("Caller", ["Writer", "External"], false, null, new SpanUse(false, false, new[] { new PassedOn(0, 0, true, true) }.ToEquatableArray()),
                new SpanUse(false, false, new[] { new PassedOn(1, 0, true, false) }.ToEquatableArray())),
            // Recursion: a least fixpoint, not "read and written".
            Summary("Self", ["Self"], false, null, new SpanUse(false, true, new[] { new PassedOn(0, 0, true, true) }.ToEquatableArray())),
        ], DerivativeModes.Reverse);
        Assert.Equal(new ParamUse(false, true), table["Caller"]!.Params[0]);
        Assert.Equal(new ParamUse(true, false), table["Caller"]!.Params[1]);
        Assert.Equal(new ParamUse(false, true), table["Self"]!.Params[0]);
    }

    [Fact]
    public void Table_ModesAreWhatIsAskedForAndWhatCallersNeed()
    {
        var table = CapabilityTable.Build(
        [
            Summary("A", ["B"], requested: DerivativeModes.Forward | DerivativeModes.Dual),
            Summary("B", ["C"]),
            Summary("C"),
            Summary("F", ["C"], usesFloat: true, requested: DerivativeModes.Dual | DerivativeModes.Vector),
            Summary("D"),
        ], DerivativeModes.Reverse);
        var all = DerivativeModes.Reverse | DerivativeModes.Forward | DerivativeModes.Dual;
        Assert.Equal(all, table["A"]!.Emitted);
        Assert.Equal(all, table["B"]!.Emitted);
        // F asked for Dual, which float code cannot have: not emitted, not passed on; Vector is.
        Assert.Equal(DerivativeModes.Reverse | DerivativeModes.Vector, table["F"]!.Emitted);
        Assert.Equal(DerivativeModes.Dual | DerivativeModes.Vector | DerivativeModes.Reverse, table["F"]!.Requested);
        Assert.Equal(all | DerivativeModes.Vector, table["C"]!.Emitted);
        Assert.Equal(DerivativeModes.Reverse, table["D"]!.Emitted);

        var byDefault = CapabilityTable.Build([Summary("D"), Summary("E", requested: DerivativeModes.Reverse)], DerivativeModes.Forward);
        Assert.Equal(DerivativeModes.Reverse | DerivativeModes.Forward, byDefault["D"]!.Emitted);
        Assert.Equal(DerivativeModes.Reverse, byDefault["E"]!.Emitted);
    }

    [Fact]
    public void Table_IsEqualWhenNoCapabilityChanges()
    {
        var a = CapabilityTable.Build([Summary("A", ["B"]), Summary("B")], DerivativeModes.Reverse);
        var b = CapabilityTable.Build([Summary("B"), Summary("A", ["B"])], DerivativeModes.Reverse);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, CapabilityTable.Build([Summary("A", ["B"]), Summary("B", usesFloat: true)], DerivativeModes.Reverse));
    }

    [Fact]
    public void Prepare_TakesCapabilitiesFromTheTable_AndModesFromTheMethodsEntry()
    {
        var fill = Lower(Chain, "Fill");
        var use = Lower(Chain, "Use");
        var table = CapabilityTable.Build([fill.Summary, use.Summary], DerivativeModes.Reverse);
        var input = Pipeline.Stages.Prepare(use.Model, table, EquatableArray<RegisteredDerivative>.Empty)!;
        var callee = Assert.Single(input.Callees);
        Assert.False(callee.Params[1].Reads);   // Fill only writes b
        Assert.True(callee.Params[1].Writes);
        Assert.True(callee.DualCapable && callee.VectorCapable && callee.SplitCapable);
        Assert.Equal(DerivativeModes.Reverse | DerivativeModes.Forward | DerivativeModes.Dual, input.Modes);
        Assert.Equal(input.Modes, table[fill.Model.Signature]!.Emitted); // Fill provides what Use's forms call

        // The analysis stage sees the table's answers: the call, outside loops, runs as two halves.
        var analysis = MethodAnalysis.Of(use.Model, input.Callees);
        Assert.Single(analysis.SplitCalls);
        var conservative = MethodAnalysis.Of(use.Model, use.Model.Callees);
        Assert.Empty(conservative.SplitCalls);

        // Rendering prints the forms the modes ask for.
        var text = DifferentiableGenerator.Render(use.Model, input.Callees, input.Modes);
        Assert.Contains("UsePullback(", text);
        Assert.Contains("UsePushforward(", text);
        Assert.Contains("UsePullbackDual(", text);
        Assert.DoesNotContain("UsePushforwardVector(", text);
    }

    private const string WithRegistry = """
        public static class H { public static double G(double v) => v * 3; }
        public static partial class K { [Differentiable] public static double F(double x) => H.G(x) * x; }
        """;

    [Fact]
    public void PrepareAndDiagnose_ResolveCalleesAgainstTheRegistry()
    {
        var f = Lower(WithRegistry, "F");
        var table = CapabilityTable.Build([f.Summary], DerivativeModes.Reverse);
        var none = EquatableArray<RenderFailure>.Empty;

        // No registration: nothing to render, DG0101 on the call.
        Assert.Null(Pipeline.Stages.Prepare(f.Model, table, EquatableArray<RegisteredDerivative>.Empty));
        var missing = Assert.Single(Pipeline.Stages.Diagnose(f.Diagnostics, table, EquatableArray<RegisteredDerivative>.Empty, none));
        Assert.Equal("DG0101", missing.Id);
        Assert.Equal("H.G(x)".Length, missing.Location.Length);

        var registry = new[] { new RegisteredDerivative("global::S.H.G", 0, "global::S.D", "GPullback", 3) }.ToEquatableArray();
        var callee = Assert.Single(Pipeline.Stages.Prepare(f.Model, table, registry)!.Callees);
        Assert.Equal(("global::S.D", "GPullback"), (callee.PullbackType, callee.PullbackName));
        Assert.Empty(Pipeline.Stages.Diagnose(f.Diagnostics, table, registry, none));

        // A failure while rendering is reported on the method's name.
        var failed = Assert.Single(Pipeline.Stages.Diagnose(f.Diagnostics, table, registry, new[] { new RenderFailure(f.Model.HintName, "X: y") }.ToEquatableArray()));
        Assert.Equal(("DG0100", f.Diagnostics.Identifier), (failed.Id, failed.Location));
        Assert.Contains("X: y", failed.ToDiagnostic().GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Diagnose_NotesAFormThatWasAskedForAndCannotBeGenerated_OnTheAttribute()
    {
        var f = Lower("public static partial class K { [Differentiable(Modes = DerivativeModes.All)] public static float F(float x) => x * x; }", "F");
        var table = CapabilityTable.Build([f.Summary], DerivativeModes.Reverse);
        var note = Assert.Single(Pipeline.Stages.Diagnose(f.Diagnostics, table, EquatableArray<RegisteredDerivative>.Empty, EquatableArray<RenderFailure>.Empty));
        Assert.Equal(("DG0300", f.Diagnostics.Attribute), (note.Id, note.Location));
        var quiet = CapabilityTable.Build([f.Summary with { Requested = null }], DerivativeModes.Reverse);
        Assert.Empty(Pipeline.Stages.Diagnose(f.Diagnostics, quiet, EquatableArray<RegisteredDerivative>.Empty, EquatableArray<RenderFailure>.Empty));
    }

    [Fact]
    public void Render_ThrowingIsAFailure_NotAnException()
    {
        var f = Lower(WithRegistry.Replace("H.G(x) * x", "x * x"), "F");
        var input = Pipeline.Stages.Prepare(f.Model, CapabilityTable.Build([f.Summary], DerivativeModes.Reverse), EquatableArray<RegisteredDerivative>.Empty)!;
        var ok = Pipeline.Stages.Render(input);
        Assert.Null(ok.Failure);
        Assert.Contains("FPullback(", ok.Source);
        var failed = Pipeline.Stages.Render(input, _ => throw new FormatException("bad"));
        Assert.Null(failed.Source);
        Assert.Equal("FormatException: bad", failed.Failure);
    }

    [Fact]
    public void ProjectModes_AreParsedFromTheBuildProperty()
    {
        Assert.Equal(new ProjectModes(DerivativeModes.Reverse, null, null), Pipeline.Stages.ReadProjectModes(null));
        Assert.Equal(new ProjectModes(DerivativeModes.Reverse, null, null), Pipeline.Stages.ReadProjectModes(""));
        Assert.Equal(DerivativeModes.Reverse | DerivativeModes.Forward | DerivativeModes.Vector, Pipeline.Stages.ReadProjectModes("forward|Vector").Modes);
        Assert.Equal(DerivativeModes.All, Pipeline.Stages.ReadProjectModes(" All ").Modes);
        Assert.Equal(new ProjectModes(DerivativeModes.Reverse, "Forward;Hessian", "Hessian"), Pipeline.Stages.ReadProjectModes("Forward;Hessian"));
    }
}
