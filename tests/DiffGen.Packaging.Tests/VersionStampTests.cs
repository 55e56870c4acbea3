using System.Globalization;
using DiffGen.Generator.Tests.Infrastructure;

namespace DiffGen.Packaging.Tests;

/// <summary>
/// The package version <c>dotnet pack</c> stamps (Directory.Build.targets, docs/packaging.md) changes with
/// the code: the commit count and commit of a clean tree, the newest changed file's time in a dirty one,
/// the newest source file's time without git. Each case runs the stamping target in a small tree made of
/// the repository's build files and one project.
/// </summary>
public sealed class VersionStampTests : IDisposable
{
    private static readonly DateTime Old = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly string _tree = Directory.CreateTempSubdirectory("diffgen-version-").FullName;

    public VersionStampTests()
    {
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "global.json" })
            File.Copy(Path.Combine(RepoPaths.Root, file), Path.Combine(_tree, file));
        Write("src/Lib/Lib.csproj", """<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>""");
        Write("src/Lib/A.cs", "namespace Lib; public static class A { }");
        Write(".gitignore", "bin/\nobj/\n");
        foreach (var f in Directory.EnumerateFiles(_tree, "*", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(f, Old);
    }

    public void Dispose()
    {
        try { Directory.Delete(_tree, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public void WithoutGit_TheNewestSourceFilesTimeNamesTheVersion_OtherFilesDoNot()
    {
        var newest = new DateTime(2031, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Write("src/Lib/B.cs", "namespace Lib; public static class B { }"), newest);
        // Outside src (docs, pack outputs) and build outputs do not count, however new.
        Write("docs/notes.md", "later");
        Write("src/Lib/obj/scratch.txt", "later");
        Assert.Equal("0.2.0-src.20310203040506", Stamp());
    }

    [Fact]
    public void InGit_CleanTreeGivesCommitsAndSha_AnEditAddsItsTime()
    {
        Git("init -q");
        Git("add -A");
        Git("-c user.name=t -c user.email=t@t -c commit.gpgsign=false commit -q -m one");
        Write("src/Lib/B.cs", "namespace Lib; public static class B { }");
        Git("add -A");
        Git("-c user.name=t -c user.email=t@t -c commit.gpgsign=false commit -q -m two");
        string sha = Git("rev-parse --short=10 HEAD");
        Assert.Equal("0.2.0-dev.2+" + sha, Stamp());

        // An uncommitted edit (or a new file) in src makes the version newer, named by the edit's time;
        // a change outside the package inputs does not.
        var edited = new DateTime(2032, 6, 7, 8, 9, 10, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Write("src/Lib/A.cs", "namespace Lib; public static class A { public const int X = 1; }"), edited);
        Write("README.md", "not part of a package");
        Assert.Equal("0.2.0-dev.2.dirty.20320607080910+" + sha, Stamp());
    }

    private string Stamp() =>
        Processes.Dotnet(_tree, "msbuild src/Lib/Lib.csproj -t:DiffGenStampPackageVersion -getProperty:PackageVersion -nologo").Trim();

    private string Git(string args)
    {
        var (code, stdout, stderr) = Processes.Run("git", args, _tree);
        Assert.True(code == 0, $"git {args} failed: {stderr}");
        return stdout.Trim();
    }

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_tree, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}
