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

    /// <summary>
    /// A driver for the real generator. <paramref name="modes"/> is the project's DiffGenDerivativeModes
    /// (null: not set, so Reverse); <paramref name="generator"/> replaces the default instance (to set its test hook).
    /// </summary>
    public static GeneratorDriver CreateDriver(bool trackSteps = false, string? modes = null, DifferentiableGenerator? generator = null) =>
        CSharpGeneratorDriver.Create(
            [(generator ?? new DifferentiableGenerator()).AsSourceGenerator()],
            parseOptions: ParseOptions,
            optionsProvider: new BuildProperties(modes == null ? [] : new Dictionary<string, string> { ["build_property.DiffGenDerivativeModes"] = modes }),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator with the project's default modes (Reverse only).</summary>
    public static GeneratorResult Run(params string[] sources) => Run(Create(sources), CreateDriver());

    /// <summary>Runs the generator with every mode asked for by the project (DiffGenDerivativeModes = All).</summary>
    public static GeneratorResult RunAllModes(params string[] sources) => Run(Create(sources), CreateDriver(modes: "All"));

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

/// <summary>The global analyzer-config options a project's CompilerVisibleProperty items produce (build_property.*).</summary>
public sealed class BuildProperties(IReadOnlyDictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
{
    private sealed class Options(IReadOnlyDictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }

    private readonly Options _global = new(values);
    private static readonly Options None = new(new Dictionary<string, string>());

    public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions => _global;

    public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => None;

    public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) => None;
}
