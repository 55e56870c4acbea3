using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace DiffGen.Generator.Tests.Infrastructure;

/// <summary>The outcome of running the generator over source text.</summary>
public sealed record GeneratorResult(
    GeneratorDriver Driver,
    Compilation Input,
    Compilation Output,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> OutputDiagnostics,
    IReadOnlyDictionary<string, string> Sources,
    GeneratorDriverRunResult RunResult);

/// <summary>Compiles test sources with the real generator (CSharpGeneratorDriver), in memory.</summary>
public static class TestCompilation
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var refs = paths.Where(p => p.EndsWith(".dll", StringComparison.Ordinal)).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
        refs.Add(MetadataReference.CreateFromFile(typeof(DifferentiableAttribute).Assembly.Location));
        return [.. refs];
    });

    /// <summary>The framework assemblies and DiffGen.Runtime, loaded once and shared by every compilation.</summary>
    public static ImmutableArray<MetadataReference> DefaultReferences => References.Value;

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    public static CSharpCompilation Create(params string[] sources) =>
        CSharpCompilation.Create("TestAssembly",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));

    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new DifferentiableGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    public static GeneratorResult Run(params string[] sources) => Run(Create(sources), CreateDriver());

    public static GeneratorResult Run(Compilation input, GeneratorDriver driver)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(input, out var output, out var diagnostics);
        var run = driver.GetRunResult();
        var generated = run.Results.SelectMany(r => r.GeneratedSources)
            .ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        var outputDiagnostics = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
        return new GeneratorResult(driver, input, output, diagnostics, outputDiagnostics, generated, run);
    }
}
