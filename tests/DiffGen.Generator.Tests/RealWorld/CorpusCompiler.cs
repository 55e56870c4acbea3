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
    byte[]? CommonImage,
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
/// Compiles a file of RealWorld/Corpus in memory (referencing Corpus/Common, compiled once), with the real
/// generator or, for the primal-only build, without it and with DIFFGEN_PRIMAL_ONLY defined; loads the
/// assembly into a collectible context and runs its <c>Driver.Check()</c>. References are shared and the
/// common files compiled once, so each file costs one parse, one compilation and one emit.
/// </summary>
public static class CorpusCompiler
{
    public const string PrimalOnlySymbol = "DIFFGEN_PRIMAL_ONLY";

    /// <summary>The corpus folder copied beside the test assembly.</summary>
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "RealWorld", "Corpus");

    private static readonly CSharpParseOptions Full = TestCompilation.ParseOptions;
    private static readonly CSharpParseOptions PrimalOnly = TestCompilation.ParseOptions.WithPreprocessorSymbols(PrimalOnlySymbol);

    // The assemblies a corpus file may use, out of the ~160 of the shared framework: binding against
    // fewer references makes each compilation several times cheaper.
    private static readonly HashSet<string> Needed = new(StringComparer.OrdinalIgnoreCase)
    {
        "System.Private.CoreLib", "System.Runtime", "System.Collections", "System.Linq", "System.Console",
        "System.Numerics.Vectors", "System.Memory", "System.Runtime.Intrinsics", "System.Diagnostics.Debug",
        "System.Runtime.Extensions", "System.Collections.Concurrent", "System.Threading", "System.Threading.Tasks.Parallel",
        "System.Runtime.InteropServices", "System.Numerics.Tensors", "DiffGen.Runtime",
    };

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        [.. TestCompilation.DefaultReferences.Where(r => Needed.Contains(Path.GetFileNameWithoutExtension(r.Display ?? "")))]);

    // Corpus/Common is compiled once per mode into its own assembly and referenced, not re-bound
    // with every file.
    private static readonly Lazy<(MetadataReference Reference, byte[] Image)> CommonFull = new(() => CompileCommon(Full));
    private static readonly Lazy<(MetadataReference Reference, byte[] Image)> CommonPrimal = new(() => CompileCommon(PrimalOnly));

    private static (MetadataReference, byte[]) CompileCommon(CSharpParseOptions options)
    {
        var trees = Directory.GetFiles(Path.Combine(Root, "Common"), "*.cs").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, path: f));
        var compilation = CSharpCompilation.Create(CommonAssemblyName, trees, References.Value, Options);
        using var ms = new MemoryStream();
        var emit = compilation.Emit(ms);
        if (!emit.Success)
            throw new InvalidOperationException("Corpus/Common does not compile:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        var image = ms.ToArray();
        return (MetadataReference.CreateFromImage(image), image);
    }

    private const string CommonAssemblyName = "CorpusSupport";

    private static readonly CSharpCompilationOptions Options = new(OutputKind.DynamicallyLinkedLibrary,
        nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true, optimizationLevel: OptimizationLevel.Release);

    /// <summary>Corpus files relative to <see cref="Root"/> ("Simulators/Cloth.cs"), Common excluded.</summary>
    public static IReadOnlyList<string> Files(string? folder = null) =>
        Directory.GetFiles(folder == null ? Root : Path.Combine(Root, folder), "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("Common/", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, bool), Lazy<CorpusBuild>> Cache = new();

    /// <summary>
    /// The build of a corpus file, made once per test run: the acceptance theory and the report
    /// share it, so the report costs no second compilation.
    /// </summary>
    public static CorpusBuild Build(string name, bool primalOnly) =>
        Cache.GetOrAdd((name, primalOnly), key => new Lazy<CorpusBuild>(() => BuildFile(key.Item1, key.Item2))).Value;

    private static CorpusBuild BuildFile(string name, bool primalOnly)
    {
        var path = Path.Combine(Root, name);
        return Build(name, File.ReadAllText(path), path, primalOnly, withCommon: true);
    }

    /// <summary>Compiles one source text (with or without Corpus/Common), with the generator unless primal-only.</summary>
    public static CorpusBuild Build(string name, string source, string path, bool primalOnly, bool withCommon)
    {
        var sw = Stopwatch.StartNew();
        var options = primalOnly ? PrimalOnly : Full;
        var tree = CSharpSyntaxTree.ParseText(source, options, path: path);
        var common = primalOnly ? CommonPrimal : CommonFull;
        ImmutableArray<MetadataReference> references = withCommon ? [.. References.Value, common.Value.Reference] : References.Value;
        var input = CSharpCompilation.Create("Corpus_" + Path.GetFileNameWithoutExtension(name), [tree], references, Options);
        Compilation output = input;
        ImmutableArray<Diagnostic> generator = [];
        if (!primalOnly)
            TestCompilation.CreateDriver(modes: "All").RunGeneratorsAndUpdateCompilation(input, out output, out generator);
        using var ms = new MemoryStream();
        EmitResult emit = output.Emit(ms);
        var compiler = emit.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
        return new CorpusBuild(name, primalOnly, generator, compiler, emit.Success ? ms.ToArray() : null,
            withCommon ? common.Value.Image : null, sw.Elapsed);
    }

    /// <summary>Loads the built assembly and calls the public static parameterless method <paramref name="type"/>.<paramref name="method"/>.</summary>
    public static object? Invoke(CorpusBuild build, string type, string method) =>
        WithAssembly(build, assembly => Call(assembly.GetType(type, throwOnError: true)!, method));

    /// <summary>Loads the built assembly and runs <c>Driver.Check()</c>: null when every check passed.</summary>
    public static string? RunDriver(CorpusBuild build) => WithAssembly(build, assembly =>
    {
        var drivers = assembly.GetTypes().Where(t => t.Name == "Driver").ToList();
        if (drivers.Count != 1) return $"{build.Name}: expected one class named Driver, found {drivers.Count}";
        try
        {
            return (string?)Call(drivers[0], "Check");
        }
        catch (Exception ex)
        {
            return $"{build.Name}: the driver threw {ex.GetType().Name}: {ex.Message}";
        }
    });

    private static object? Call(Type type, string method)
    {
        var m = type.GetMethod(method, BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes)
            ?? throw new InvalidOperationException($"{type.FullName} has no public static {method}()");
        try { return m.Invoke(null, null); }
        catch (TargetInvocationException ex) when (ex.InnerException != null) { throw ex.InnerException; }
    }

    // A collectible context per build: hundreds of test assemblies are loaded and dropped in one run.
    private static T WithAssembly<T>(CorpusBuild build, Func<Assembly, T> use)
    {
        if (build.Image == null) throw new InvalidOperationException($"{build.Name} did not compile.");
        var context = new AssemblyLoadContext(build.Name, isCollectible: true);
        try
        {
            // The corpus assembly binds to CorpusSupport by name: load it into the same context first.
            if (build.CommonImage != null) context.LoadFromStream(new MemoryStream(build.CommonImage));
            return use(context.LoadFromStream(new MemoryStream(build.Image)));
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
