using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using DiffGen.Generator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace DiffGen.Packaging.Tests;

/// <summary>
/// Packs the four packages once, from the outputs the solution's build made (no second build: this
/// project references the four for build order only), into a local folder that the tests' console apps
/// restore from. Nothing is written into the repository: packages and nuspecs go to a temporary folder.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    public static readonly string[] Packages = ["DiffGen", "DiffGen.Tensors", "DiffGen.NN", "DiffGen.Physics"];
    private static readonly string[] Projects = ["Runtime/DiffGen.Runtime.csproj", "Tensors/DiffGen.Tensors.csproj", "NN/DiffGen.NN.csproj", "Physics/DiffGen.Physics.csproj"];

    public string Work { get; }
    public string Feed { get; }
    public string Version { get; }
    public TimeSpan PackTime { get; }

    public PackedFeed()
    {
        Work = Directory.CreateTempSubdirectory("diffgen-pack-").FullName;
        Feed = Path.Combine(Work, "feed");
        // The configuration this test assembly was built in is the one its project references were built in.
        string configuration = typeof(PackedFeed).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Configuration").Value!;
        // One MSBuild run packs the four (a dotnet pack per project would start the CLI four times).
        var items = string.Join("\n", Projects.Select(p => $"""    <PackProject Include="{Path.Combine(RepoPaths.Root, "src", p)}" />"""));
        File.WriteAllText(Path.Combine(Work, "pack.proj"), $"""
            <Project>
              <ItemGroup>
            {items}
              </ItemGroup>
              <Target Name="PackAll">
                <MSBuild Projects="@(PackProject)" Targets="Pack" BuildInParallel="false"
                         Properties="Configuration={configuration};NoBuild=true;BuildProjectReferences=false;PackageOutputPath={Feed};NuspecOutputPath={Path.Combine(Work, "nuspec")}" />
              </Target>
            </Project>
            """);

        var clock = Stopwatch.StartNew();
        Processes.Dotnet(Work, "msbuild pack.proj -t:PackAll -nologo -v:m");
        PackTime = clock.Elapsed;

        var versions = Packages.Select(id => VersionOf(id)).Distinct().ToArray();
        Version = Assert.Single(versions);
    }

    /// <summary>The version in the file name of package <paramref name="id"/>'s only .nupkg.</summary>
    private string VersionOf(string id)
    {
        var pattern = new Regex("^" + Regex.Escape(id) + @"\.(\d+\.\d+\.\d+-.+)\.nupkg$");
        var match = Assert.Single(Directory.GetFiles(Feed, "*.nupkg").Select(f => pattern.Match(Path.GetFileName(f))), m => m.Success);
        return match.Groups[1].Value;
    }

    public string Nupkg(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    /// <summary>The package's nuspec metadata element.</summary>
    public XElement Metadata(string id)
    {
        using var zip = ZipFile.OpenRead(Nupkg(id));
        using var stream = zip.GetEntry(id + ".nuspec")!.Open();
        var doc = XDocument.Load(stream);
        return doc.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    public static IEnumerable<XElement> Dependencies(XElement metadata) =>
        metadata.Descendants().Where(e => e.Name.LocalName == "dependency");

    public void Dispose()
    {
        try { Directory.Delete(Work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// The packages as a user meets them: a console app with only <c>DiffGen</c> gets a working pullback (and
/// the pushforward its project asks for with DiffGenDerivativeModes) and downloads neither ILGPU nor
/// System.Numerics.Tensors; an app with DiffGen.Tensors, DiffGen.NN and
/// DiffGen.Physics uses each (and gets the generator through them).
/// </summary>
public class PackagingTests(PackedFeed feed, ITestOutputHelper output) : IClassFixture<PackedFeed>
{
    private const string MinimalProgram = """
        using System;
        using DiffGen;

        double xBar = 0;
        var uBar = new double[3];
        double y = Model.F(new double[] { 1, 2, 3 }, 0.5);
        double r = Model.FPullback(new double[] { 1, 2, 3 }, 0.5, 1.0, uBar, ref xBar);
        // Asked for by the project's DiffGenDerivativeModes (the package's build props make it visible).
        var (_, xTangent) = Model.FPushforward(new double[] { 1, 2, 3 }, new double[3], 0.5, 1.0);
        // F = x * sum(u_i^2): dF/dx = 14, dF/du = 2 x u.
        Console.WriteLine(FormattableString.Invariant($"{y} {r} {xBar} {uBar[0]} {uBar[1]} {uBar[2]} {xTangent}"));

        public static partial class Model
        {
            [Differentiable]
            public static double F(ReadOnlySpan<double> u, double x)
            {
                double s = 0;
                foreach (var v in u) s += v * v;
                return x * s;
            }
        }
        """;

    private const string FullProgram = """
        using System;
        using System.Linq;
        using DiffGen;
        using DiffGen.NN;
        using DiffGen.NN.Optim;
        using DiffGen.Physics;
        using DiffGen.Tensors;

        // DiffGen.Physics + DiffGen.Tensors: a Burgers step as a tape op; its input gradient against the model's pullback.
        var burgers = new Burgers1D(new Grid1D(16, -1, 1), 0.01, 0.05);
        double[] u0 = burgers.Evaluate(x => -Math.Sin(Math.PI * x));
        var step = Lift.Op((u, next) => burgers.Step(u, next),
                           (u, next, uBar, nextBar) => { double nuBar = 0; burgers.StepBackward(u, next, uBar, nextBar, ref nuBar); });
        var x0 = Tensor.FromArray(u0, 1, 16);
        x0.RequiresGrad = true;
        step(x0).Sum().Backward();
        var direct = new double[16];
        var seed = Enumerable.Repeat(1.0, 16).ToArray();
        double nuBarDirect = 0;
        burgers.StepBackward(u0, new double[16], direct, seed, ref nuBarDirect);
        double liftError = x0.Grad!.ToArray().Select((g, i) => Math.Abs(g - direct[i])).Max();
        double gradNorm = Math.Sqrt(direct.Sum(g => g * g));

        // DiffGen.NN (the package readme's example): Adam fits a small network; the loss falls.
        Init.Seed(42);
        var model = new Sequential(new Linear(1, 16), new Tanh(), new Linear(16, 1));
        var opt = new Adam(model.Parameters(), learningRate: 1e-2);
        var xs = Tensor.FromArray(new float[] { -1, -0.5f, 0, 0.5f, 1 }, 5, 1);
        var ys = Tensor.FromArray(new float[] { 1, 0.25f, 0, 0.25f, 1 }, 5, 1);
        double before = Losses.Mse(model.Forward(xs), ys).Item();
        for (int it = 0; it < 200; it++)
        {
            opt.ZeroGrad();
            var loss = Losses.Mse(model.Forward(xs), ys);
            loss.Backward();
            opt.Step();
        }
        double after = Losses.Mse(model.Forward(xs), ys).Item();

        // The generator reaches this project through the packages' dependency on DiffGen.
        double cBar = 0;
        double c = Own.CubePullback(2.0, 1.0, ref cBar);

        Console.WriteLine(FormattableString.Invariant($"{liftError} {gradNorm} {before} {after} {c} {cBar}"));

        public static partial class Own
        {
            [Differentiable]
            public static double Cube(double x)
            {
                return x * x * x;
            }
        }
        """;

    [Fact]
    public void Packages_ShareOneStampedVersion_AndCarryReadmeLicenseAndDescription()
    {
        output.WriteLine($"pack of the four packages: {feed.PackTime.TotalSeconds:F1} s, version {feed.Version}");
        // The stamped version (VersionStampTests checks its parts); the file name drops the +sha.
        Assert.Matches(@"^0\.2\.0-(dev\.\d+(\.dirty\.\d{14})?|src\.\d{14})$", feed.Version);
        foreach (var id in PackedFeed.Packages)
        {
            var metadata = feed.Metadata(id);
            string? Field(string name) => metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
            Assert.Equal("README.md", Field("readme"));
            Assert.Equal("MIT", Field("license"));
            Assert.False(string.IsNullOrWhiteSpace(Field("description")), id + " has no description");
            Assert.False(string.IsNullOrWhiteSpace(Field("tags")), id + " has no tags");
            using var zip = ZipFile.OpenRead(feed.Nupkg(id));
            Assert.Contains(zip.Entries, e => e.FullName == "README.md");
            // Our packages depend on each other at exactly the version packed beside them, with all assets
            // (so the DiffGen package's analyzer, the generator, flows to whoever references any of them).
            foreach (var dep in PackedFeed.Dependencies(metadata).Where(d => d.Attribute("id")!.Value.StartsWith("DiffGen", StringComparison.Ordinal)))
            {
                Assert.Equal(feed.Version, dep.Attribute("version")!.Value);
                Assert.Null(dep.Attribute("exclude"));
            }
        }
        using (var zip = ZipFile.OpenRead(feed.Nupkg("DiffGen")))
        {
            Assert.Contains(zip.Entries, e => e.FullName == "analyzers/dotnet/cs/DiffGen.Generator.dll");
            Assert.Contains(zip.Entries, e => e.FullName == "lib/net10.0/DiffGen.Runtime.dll");
            Assert.Contains(zip.Entries, e => e.FullName == "build/DiffGen.props");
            Assert.Contains(zip.Entries, e => e.FullName == "buildTransitive/DiffGen.props");
        }
        Assert.Empty(PackedFeed.Dependencies(feed.Metadata("DiffGen")));
        Assert.Equal(["DiffGen", "ILGPU", "System.Numerics.Tensors"], DependencyIds("DiffGen.Tensors"));
        Assert.Equal(["DiffGen.Tensors"], DependencyIds("DiffGen.NN"));
        // Physics' device forms (StepDevice, ...) take ILGPU views; it still does not depend on the tensor runtime.
        Assert.Equal(["DiffGen", "ILGPU"], DependencyIds("DiffGen.Physics"));
    }

    [Fact]
    public void MinimalSet_OnlyDiffGen_GivesAWorkingPullback_WithoutIlgpuOrTensors()
    {
        var (app, values) = BuildAndRun("minimal", MinimalProgram, ["DiffGen"], "<DiffGenDerivativeModes>Reverse,Forward</DiffGenDerivativeModes>");
        Assert.Equal([7.0, 7.0, 14.0, 1.0, 2.0, 3.0, 14.0], values);

        var libraries = RestoredLibraries(app);
        Assert.Contains(libraries, l => l.StartsWith("DiffGen/", StringComparison.Ordinal));
        Assert.DoesNotContain(libraries, l => l.StartsWith("ILGPU", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(libraries, l => l.StartsWith("System.Numerics.Tensors/", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void FullSet_TensorsNNAndPhysics_EachWork_AndTheGeneratorComesAlong()
    {
        var (app, values) = BuildAndRun("full", FullProgram, ["DiffGen.Tensors", "DiffGen.NN", "DiffGen.Physics"]);
        double liftError = values[0], gradNorm = values[1], before = values[2], after = values[3], cube = values[4], cubeBar = values[5];
        // The float32 tape op against the double pullback: single-precision rounding of O(1) values.
        Assert.True(gradNorm > 1, $"the Burgers gradient's norm is {gradNorm}");
        Assert.True(liftError < 1e-5, $"Lift's gradient differs from the pullback's by {liftError}");
        Assert.True(after < 0.5 * before, $"200 Adam steps did not halve the loss ({before} -> {after})");
        Assert.Equal(8.0, cube);
        Assert.Equal(12.0, cubeBar);

        var libraries = RestoredLibraries(app);
        Assert.Contains(libraries, l => l.StartsWith("DiffGen/", StringComparison.Ordinal));
        Assert.Contains(libraries, l => l.StartsWith("ILGPU/", StringComparison.Ordinal));
    }

    /// <summary>Builds and runs a console app referencing <paramref name="packages"/> from the local folder (<paramref name="properties"/>: extra MSBuild properties).</summary>
    private (string App, double[] Values) BuildAndRun(string name, string program, string[] packages, string properties = "")
    {
        var app = Path.Combine(feed.Work, name);
        Directory.CreateDirectory(app);
        var references = string.Join("\n", packages.Select(p => $"""    <PackageReference Include="{p}" Version="{feed.Version}" />"""));
        // Packages restore into a folder of this test (the test versions stay out of the user's cache); the
        // user's global packages folder is a fallback for the third-party dependencies (ILGPU, System.Numerics.Tensors,
        // all restored by the solution's own build), so nothing is downloaded or extracted again and the
        // only source is the local folder.
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <RestorePackagesPath>{Path.Combine(feed.Work, "packages")}</RestorePackagesPath>
                <RestoreFallbackFolders>{GlobalPackagesFolder.Value}</RestoreFallbackFolders>
                {properties}
              </PropertyGroup>
              <ItemGroup>
            {references}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="diffgen-local" value="{feed.Feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), program);
        var clock = Stopwatch.StartNew();
        var lines = Processes.Dotnet(app, "run -c Release").Trim().Split('\n');
        output.WriteLine($"{name} app: restore, build and run {clock.Elapsed.TotalSeconds:F1} s");
        var values = lines.Last().Trim().Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return (app, values);
    }

    /// <summary>The "id/version" keys of every library in the app's restore graph.</summary>
    private static string[] RestoredLibraries(string app)
    {
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "obj", "project.assets.json")));
        return [.. assets.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name)];
    }

    private string[] DependencyIds(string id) =>
        [.. PackedFeed.Dependencies(feed.Metadata(id)).Select(d => d.Attribute("id")!.Value).Order(StringComparer.Ordinal)];

    private static readonly Lazy<string> GlobalPackagesFolder = new(() =>
    {
        // "global-packages: /root/.nuget/packages/"
        var line = Processes.Dotnet(Path.GetTempPath(), "nuget locals global-packages --list").Trim();
        return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    });
}
