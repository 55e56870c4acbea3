using System.Diagnostics;

namespace DiffGen.Packaging.Tests;

/// <summary>Runs command-line tools (dotnet, git) for the packaging tests.</summary>
public static class Processes
{
    /// <summary>Runs <paramref name="exe"/>; returns its exit code and output, or fails the test on a timeout.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string exe, string args, string dir)
    {
        var psi = new ProcessStartInfo(exe, args)
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // Build nodes end with their build instead of idling on after the test.
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"'{exe} {args}' timed out");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs the dotnet CLI in <paramref name="dir"/>, fails the test if it fails, and returns its output.</summary>
    public static string Dotnet(string dir, string args)
    {
        var (code, stdout, stderr) = Run("dotnet", args, dir);
        Assert.True(code == 0, $"'dotnet {args}' in {dir} failed ({code}):\n{stdout}\n{stderr}");
        return stdout;
    }
}
