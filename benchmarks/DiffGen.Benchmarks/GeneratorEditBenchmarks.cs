using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using DiffGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace DiffGen.Benchmarks;

/// <summary>
/// Generator time per edit over src/Physics/Kernels (issue 14): the generator runs once on the kernels,
/// then each invocation applies one edit to the previous state and re-runs the driver incrementally, as
/// the IDE and `dotnet build` after an edit do. The edits alternate between two versions of one file, so
/// every invocation is an edit; every compilation is new (no binding is reused from a previous run).
/// Run: <c>dotnet run -c Release --project benchmarks/DiffGen.Benchmarks -- --filter '*GeneratorEdit*'</c>.
/// </summary>
[Config(typeof(InProcessMonitoring))]
[MemoryDiagnoser]
public class GeneratorEditBenchmarks
{
    /// <summary>
    /// One invocation per iteration (each is a whole edit), in this process: the benchmark needs no
    /// generated boilerplate project, whose build times out on a loaded machine.
    /// </summary>
    private sealed class InProcessMonitoring : ManualConfig
    {
        public InProcessMonitoring() =>
            AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(15)
                .WithToolchain(InProcessEmitToolchain.Instance));
    }

    private const string AdvectionType = "public static partial class Advection";
    private const string EditedStatement = "double back = i - c * vel[i];";

    private CSharpCompilation _compilation = null!;
    private GeneratorDriver _driver = null!;
    private SyntaxTree[] _blank = null!, _body = null!, _unrelated = null!;
    private int _edits;
    private bool _track;
    private bool _floor, _bind;

    /// <summary>The repository whose src/Physics is read (another checkout, to compare generator versions).</summary>
    private static string? _root;

    /// <summary>
    /// Floors: a generator that only finds the [Differentiable] methods (the driver's attribute search on a
    /// new compilation) or also binds every expression of their bodies (what any generator that reads
    /// their semantics pays: the driver re-runs every transform on every new compilation), and generates nothing.
    /// </summary>
    private sealed class FindOnly(bool bind) : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var found = context.SyntaxProvider.ForAttributeWithMetadataName("DiffGen.DifferentiableAttribute",
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax, (ctx, ct) =>
                {
                    int n = 0;
                    if (bind)
                    {
                        // As the generator's lowering binds: without nullable analysis.
#pragma warning disable RSEXPERIMENTAL001
                        var model = ctx.SemanticModel.Compilation.GetSemanticModel(ctx.TargetNode.SyntaxTree, SemanticModelOptions.DisableNullableAnalysis);
#pragma warning restore RSEXPERIMENTAL001
                        foreach (var e in ctx.TargetNode.DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ExpressionSyntax>())
                            n += (model.GetSymbolInfo(e, ct).Symbol != null ? 1 : 0) + (model.GetTypeInfo(e, ct).Type != null ? 1 : 0);
                    }
                    return ctx.TargetSymbol.Name + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                });
            context.RegisterSourceOutput(found.Collect(), static (_, _) => { });
        }
    }

    /// <summary>
    /// <c>--generator-edits [n] [repository]</c>: each edit n times (after 3 warm-up edits), printing the median wall and
    /// process CPU time per edit (CPU time is the steadier figure on a shared machine) and, from one run with
    /// step tracking, how many source outputs re-ran and how many generated files changed.
    /// </summary>
    public static void PrintEdits(int n, string? repoRoot = null)
    {
        _root = repoRoot;
        var edits = new (string Name, Func<GeneratorEditBenchmarks, GeneratorDriver> Edit)[]
        {
            ("floor: a generator that only finds the methods; one statement edited", b => b.EditOneMethod()),
            ("floor: a generator that finds the methods and binds their bodies; one statement edited", b => b.EditOneMethod()),
            ("blank line above a type (Advection.cs)", b => b.BlankLineAboveType()),
            ("one statement of one method (Advection.cs)", b => b.EditOneMethod()),
            ("unrelated file (Krylov.cs)", b => b.EditUnrelatedFile()),
        };
        Console.WriteLine("| edit | wall ms (median) | CPU ms (median) | source outputs re-run | generated files changed |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, edit) in edits)
        {
            var b = new GeneratorEditBenchmarks { _floor = name.StartsWith("floor", StringComparison.Ordinal), _bind = name.Contains("binds", StringComparison.Ordinal) };
            b.Setup();
            for (int i = 0; i < 3; i++) edit(b);
            var wall = new double[n];
            var cpu = new double[n];
            var process = System.Diagnostics.Process.GetCurrentProcess();
            for (int i = 0; i < n; i++)
            {
                process.Refresh();
                var c0 = process.TotalProcessorTime;
                var sw = System.Diagnostics.Stopwatch.StartNew();
                edit(b);
                wall[i] = sw.Elapsed.TotalMilliseconds;
                process.Refresh();
                cpu[i] = (process.TotalProcessorTime - c0).TotalMilliseconds;
            }
            Array.Sort(wall);
            Array.Sort(cpu);

            var t = new GeneratorEditBenchmarks { _track = true, _floor = b._floor, _bind = b._bind };
            t.Setup();
            var before = t._driver.GetRunResult().GeneratedTrees.ToDictionary(x => x.FilePath, x => x.ToString());
            var after = edit(t).GetRunResult();
            int rerun = after.Results[0].TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs)
                .Count(o => o.Reason != IncrementalStepRunReason.Cached);
            int changed = after.GeneratedTrees.Count(x => !before.TryGetValue(x.FilePath, out var old) || old != x.ToString());
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"| {name} | {wall[n / 2]:F1} | {cpu[n / 2]:F1} | {rerun} | {changed} |"));
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var dir = Path.Combine(_root ?? RepoRoot(), "src", "Physics");
        // The kernels and the few project files they use (grids, argument checks).
        var files = Directory.GetFiles(Path.Combine(dir, "Kernels"), "*.cs").Concat(Directory.GetFiles(Path.Combine(dir, "Grids"), "*.cs"))
            .Append(Path.Combine(dir, "Models", "Check.cs")).OrderBy(f => f, StringComparer.Ordinal).ToList();
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, path: f)).ToList();
        // The project's implicit usings.
        trees.Add(CSharpSyntaxTree.ParseText("global using System; global using System.Collections.Generic; global using System.Linq; global using System.Threading.Tasks;", options, path: "GlobalUsings.g.cs"));
        // The framework and DiffGen.Runtime (not this process's other assemblies: DiffGen.Physics would clash).
        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = Directory.GetFiles(framework, "*.dll").Where(IsManaged).Append(typeof(DifferentiableAttribute).Assembly.Location)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
        _compilation = CSharpCompilation.Create("DiffGen.Physics", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        var errors = _compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
            throw new InvalidOperationException("The kernels do not compile on their own: " + string.Join("; ", errors.Take(3)));

        IIncrementalGenerator generator = _floor ? new FindOnly(_bind) : new DifferentiableGenerator();
        _driver = CSharpGeneratorDriver.Create([generator.AsSourceGenerator()], parseOptions: options,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: _track));
        _driver = _driver.RunGenerators(_compilation);
        var generated = _driver.GetRunResult();
        if (generated.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) || !_floor && generated.GeneratedTrees.Length < 40)
            throw new InvalidOperationException("The generator did not run cleanly on the kernels: " + string.Join("; ", generated.Diagnostics.Take(3)));

        _blank = Versions(trees, "Advection.cs", t => t.Replace(AdvectionType, "\n" + AdvectionType), options);
        _body = Versions(trees, "Advection.cs", t => ReplaceFirst(t, EditedStatement, "double back = i - 1.0 * c * vel[i];"), options);
        _unrelated = Versions(trees, "Krylov.cs", t => t + "\n// an edit\n", options);
    }

    /// <summary>A blank line above the [Differentiable] type of Advection.cs (14 methods).</summary>
    [Benchmark]
    public GeneratorDriver BlankLineAboveType() => Edit(_blank);

    /// <summary>One statement of one method of Advection.cs (SemiLagrangian1DEuler, called by SemiLagrangian1D) changes.</summary>
    [Benchmark]
    public GeneratorDriver EditOneMethod() => Edit(_body);

    /// <summary>An edit in Krylov.cs, which has no [Differentiable] method.</summary>
    [Benchmark]
    public GeneratorDriver EditUnrelatedFile() => Edit(_unrelated);

    private GeneratorDriver Edit(SyntaxTree[] versions)
    {
        // The current compilation holds versions[0] after an even number of edits of this file, versions[1]
        // after an odd one; replacing the tree makes a new compilation (nothing bound is reused).
        var (from, to) = (_edits++ & 1) == 0 ? (versions[0], versions[1]) : (versions[1], versions[0]);
        _compilation = _compilation.ReplaceSyntaxTree(from, to);
        _driver = _driver.RunGenerators(_compilation);
        return _driver;
    }

    private static bool IsManaged(string path)
    {
        try { System.Reflection.AssemblyName.GetAssemblyName(path); return true; }
        catch (BadImageFormatException) { return false; }
    }

    private static SyntaxTree[] Versions(List<SyntaxTree> trees, string file, Func<string, string> edit, CSharpParseOptions options)
    {
        var original = trees.Single(t => Path.GetFileName(t.FilePath) == file);
        var text = original.ToString();
        var changed = edit(text);
        if (changed == text) throw new InvalidOperationException("the edit of " + file + " changed nothing");
        return [original, CSharpSyntaxTree.ParseText(changed, options, path: original.FilePath)];
    }

    private static string ReplaceFirst(string text, string find, string replacement)
    {
        int i = text.IndexOf(find, StringComparison.Ordinal);
        if (i < 0) throw new InvalidOperationException("'" + find + "' not found");
        return text.Substring(0, i) + replacement + text.Substring(i + find.Length);
    }

    private static string RepoRoot([CallerFilePath] string path = "")
    {
        var dir = Path.GetDirectoryName(path);
        while (dir != null && !File.Exists(Path.Combine(dir, "DiffGen.sln"))) dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("DiffGen.sln not found above " + path);
    }
}
