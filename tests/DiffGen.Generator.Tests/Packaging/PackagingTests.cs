using System.Diagnostics;
using System.IO.Compression;

namespace DiffGen.Generator.Tests.Packaging;

/// <summary>
/// Packs DiffGen from a copy of the sources and builds a fresh console project that references it
/// by one PackageReference, restored from the local folder; its [Differentiable] method must get a
/// working pullback, and the pushforward its project asks for with DiffGenDerivativeModes.
/// </summary>
public class PackagingTests
{
    private const string Program = """
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

    [Fact]
    public void Package_WorksFromOnePackageReference()
    {
        var root = FindRepoRoot();
        var work = Directory.CreateTempSubdirectory("diffgen-pack-").FullName;
        try
        {
            // Pack from a copy so the build does not touch the outputs this test run is using.
            var src = Path.Combine(work, "src");
            foreach (var project in new[] { "Runtime", "Generator" })
                CopySources(Path.Combine(root, "src", project), Path.Combine(src, "src", project));
            foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "global.json" })
                File.Copy(Path.Combine(root, file), Path.Combine(src, file));

            string version = "0.1.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
            var feed = Path.Combine(work, "feed");
            Run(src, "dotnet", $"pack src/Runtime/DiffGen.Runtime.csproj -c Release -o \"{feed}\" -p:Version={version}");

            var nupkg = Directory.GetFiles(feed, "DiffGen.*.nupkg").Single();
            using (var zip = ZipFile.OpenRead(nupkg))
            {
                Assert.Contains(zip.Entries, e => e.FullName == "analyzers/dotnet/cs/DiffGen.Generator.dll");
                Assert.Contains(zip.Entries, e => e.FullName == "lib/net10.0/DiffGen.Runtime.dll");
                Assert.Contains(zip.Entries, e => e.FullName == "build/DiffGen.props");
                Assert.Contains(zip.Entries, e => e.FullName == "buildTransitive/DiffGen.props");
            }

            var app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <RestorePackagesPath>{Path.Combine(work, "packages")}</RestorePackagesPath>
                    <DiffGenDerivativeModes>Reverse,Forward</DiffGenDerivativeModes>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="DiffGen" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="diffgen-local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), Program);
            var output = Run(app, "dotnet", "run -c Release").Trim().Split('\n').Last().Split(' ');
            var values = output.Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal([7.0, 7.0, 14.0, 1.0, 2.0, 3.0, 14.0], values);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private static void CopySources(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(from, file);
            if (rel.StartsWith("bin", StringComparison.Ordinal) || rel.StartsWith("obj", StringComparison.Ordinal)) continue;
            var dest = Path.Combine(to, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }
    }

    private static string Run(string dir, string exe, string args)
    {
        var psi = new ProcessStartInfo(exe, args)
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"'{exe} {args}' timed out");
        }
        Assert.True(p.ExitCode == 0, $"'{exe} {args}' failed ({p.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    private static string FindRepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir != null && !File.Exists(Path.Combine(dir, "DiffGen.sln"))) dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("DiffGen.sln not found above " + AppContext.BaseDirectory);
    }
}
