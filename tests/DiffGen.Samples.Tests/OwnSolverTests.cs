namespace DiffGen.Samples.Tests;

/// <summary>
/// docs/physics.md "Write your own solver": the sample runs, its gradient check passes, and the page shows exactly
/// the sample's code in at most 40 lines.
/// </summary>
public sealed class OwnSolverTests
{
    private static string RepoFile(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "DiffGen.sln"))) dir = dir.Parent;
        Assert.True(dir != null, "the repository root (DiffGen.sln) was not found above the test's folder");
        return Path.Combine([dir!.FullName, .. parts]);
    }

    [Fact]
    public void TheSampleRunsAndItsGradientsAgreeWithFiniteDifferences()
    {
        var entry = typeof(DyeModel).Assembly.EntryPoint!;
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try { entry.Invoke(null, [Array.Empty<string>()]); }
        finally { Console.SetOut(previous); }
        Assert.Contains("gradients agree to 1e-6", output.ToString());
    }

    [Fact]
    public void TheSampleIsAModelOfTheRightShape()
    {
        // The step moves the dye: a blob left of the centre of the rotating flow ends up below it after 10 steps.
        var dye0 = DyeModel.Blob(0.3, 0.5);
        var grad = new double[dye0.Length];
        double loss = DyeModel.Loss(dye0, 1e-3, grad, out double kappaBar);
        double stay = DyeModel.Loss(DyeModel.Blob(0.5, 0.3), 1e-3, new double[dye0.Length], out _);
        Assert.True(stay < loss, $"a blob already at the target should score better ({stay} vs {loss})");
        Assert.True(kappaBar != 0 && grad.Any(g => g != 0));
    }

    [Fact]
    public void ThePhysicsPageShowsTheSampleVerbatimInAtMost40Lines()
    {
        string page = File.ReadAllText(RepoFile("docs", "physics.md")).ReplaceLineEndings("\n");
        string sample = File.ReadAllText(RepoFile("samples", "OwnSolver", "Program.cs")).ReplaceLineEndings("\n").TrimEnd('\n');
        int start = page.IndexOf("## Write your own solver", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/physics.md has no 'Write your own solver' section");
        int open = page.IndexOf("```csharp\n", start, StringComparison.Ordinal) + "```csharp\n".Length;
        int close = page.IndexOf("\n```", open, StringComparison.Ordinal);
        string shown = page[open..close];
        Assert.Equal(sample, shown);
        Assert.True(shown.Split('\n').Length <= 40, $"the sample has {shown.Split('\n').Length} lines");
    }
}
