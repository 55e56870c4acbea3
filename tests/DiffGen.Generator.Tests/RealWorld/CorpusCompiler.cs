using System.Collections.Immutable;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;

namespace DiffGen.Generator.Tests.RealWorld;

/// <summary>What compiling one corpus file gave.</summary>
public sealed record CorpusBuild(
    string Name,
    bool PrimalOnly,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> CompilerDiagnostics,
    byte[]? Image,
    TimeSpan CompileTime)
{
    /// <summary>Generator errors first (they explain the compiler's missing-member errors that follow), then compiler errors.</summary>
    public IEnumerable<Diagnostic> Errors =>
        GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)
            .Concat(CompilerDiagnostics.Where(IsError));

    public bool Accepted => !Errors.Any() && Image != null;

    // Users build with TreatWarningsAsErrors: a warning in generated code is an error for them.
    private static bool IsError(Diagnostic d) =>
        d.Severity == DiagnosticSeverity.Error
        || (d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
}

/// <summary>
/// Compiles a file of RealWorld/Corpus in memory (with Corpus/Common beside it), with the real
/// generator or, for the primal-only build, without it and with DIFFGEN_PRIMAL_ONLY defined; loads the
/// assembly into a collectible context and runs its <c>Driver.Check()</c>. References and the parsed
/// common files are shared, so each file costs one parse, one compilation and one emit.
/// </summary>
public static class CorpusCompiler
{
    public const string PrimalOnlySymbol = "DIFFGEN_PRIMAL_ONLY";

    /// <summary>The corpus folder copied beside the test assembly.</summary>
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "RealWorld", "Corpus");

    private static readonly CSharpParseOptions Full = TestCompilation.ParseOptions;
    private static readonly CSharpParseOptions PrimalOnly = TestCompilation.ParseOptions.WithPreprocessorSymbols(PrimalOnlySymbol);

    private static readonly Lazy<ImmutableArray<SyntaxTree>> CommonFull = new(() => ParseCommon(Full));
    private static readonly Lazy<ImmutableArray<SyntaxTree>> CommonPrimal = new(() => ParseCommon(PrimalOnly));

    private static ImmutableArray<SyntaxTree> ParseCommon(CSharpParseOptions options) =>
        [.. Directory.GetFiles(Path.Combine(Root, "Common"), "*.cs").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, path: f))];

    /// <summary>Corpus files relative to <see cref="Root"/> ("Simulators/Cloth.cs"), Common excluded.</summary>
    public static IReadOnlyList<string> Files(string? folder = null) =>
        Directory.GetFiles(folder == null ? Root : Path.Combine(Root, folder), "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("Common/", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();

    public static CorpusBuild Build(string name, bool primalOnly)
    {
        var sw = Stopwatch.StartNew();
        var options = primalOnly ? PrimalOnly : Full;
        var path = Path.Combine(Root, name);
        var tree = CSharpSyntaxTree.ParseText(File.ReadAllText(path), options, path: path);
        var input = CSharpCompilation.Create("Corpus_" + Path.GetFileNameWithoutExtension(name),
            [tree, .. (primalOnly ? CommonPrimal : CommonFull).Value],
            TestCompilation.DefaultReferences,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                allowUnsafe: true, optimizationLevel: OptimizationLevel.Release));
        Compilation output = input;
        ImmutableArray<Diagnostic> generator = [];
        if (!primalOnly)
            TestCompilation.CreateDriver().RunGeneratorsAndUpdateCompilation(input, out output, out generator);
        using var ms = new MemoryStream();
        EmitResult emit = output.Emit(ms);
        var compiler = emit.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
        var build = new CorpusBuild(name, primalOnly, generator, compiler, emit.Success ? ms.ToArray() : null, sw.Elapsed);
        return build;
    }

    /// <summary>Loads the built assembly and runs <c>Driver.Check()</c>: null when every check passed.</summary>
    public static string? RunDriver(CorpusBuild build)
    {
        if (build.Image == null) throw new InvalidOperationException($"{build.Name} did not compile.");
        var context = new AssemblyLoadContext(build.Name, isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(new MemoryStream(build.Image));
            var drivers = assembly.GetTypes().Where(t => t.Name == "Driver").ToList();
            if (drivers.Count != 1) return $"{build.Name}: expected one class named Driver, found {drivers.Count}";
            var check = drivers[0].GetMethod("Check", BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes)
                ?? throw new InvalidOperationException($"{build.Name}: Driver has no public static Check()");
            try
            {
                return (string?)check.Invoke(null, null);
            }
            catch (TargetInvocationException ex) when (ex.InnerException != null)
            {
                return $"{build.Name}: the driver threw {ex.InnerException.GetType().Name}: {ex.InnerException.Message}";
            }
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>A diagnostic as one line: id, file:line, message.</summary>
    public static string Describe(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        var file = Path.GetFileName(span.Path);
        return $"{d.Id} {file}:{span.StartLinePosition.Line + 1}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }
}
