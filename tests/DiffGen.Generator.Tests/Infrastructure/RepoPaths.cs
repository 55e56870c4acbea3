namespace DiffGen.Generator.Tests.Infrastructure;

/// <summary>Files of the repository that tests read (docs, README, sources to pack).</summary>
public static class RepoPaths
{
    /// <summary>The directory holding DiffGen.sln, found upwards from the test's output directory.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir != null && !File.Exists(Path.Combine(dir, "DiffGen.sln"))) dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("DiffGen.sln not found above " + AppContext.BaseDirectory);
    }
}
