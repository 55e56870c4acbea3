using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.RealWorld;

/// <summary>
/// Issue #11: simulators and methods written as C# developers write them (Corpus/Simulators,
/// Corpus/Methods), with only `using DiffGen;`, `partial` and [Differentiable] added, must be accepted
/// unchanged and give gradients that match finite differences. Each file is compiled in memory with
/// the real generator and its Driver.Check() run. Corpus/Flattened holds three of the simulators
/// rewritten in the style the generator accepted before #11 (static, flat arrays); they cross-check
/// the drivers' finite differences and tolerances against gradients the generator already computes.
/// </summary>
public class CorpusTests
{
    public static TheoryData<string> AllFiles() => Data(CorpusCompiler.Files());

    public static TheoryData<string> UserStyleFiles() =>
        Data(CorpusCompiler.Files().Where(f => !f.StartsWith("Flattened/", StringComparison.Ordinal)));

    public static TheoryData<string> FlattenedFiles() => Data(CorpusCompiler.Files("Flattened"));

    private static TheoryData<string> Data(IEnumerable<string> files)
    {
        var data = new TheoryData<string>();
        foreach (var f in files) data.Add(f);
        return data;
    }

    [Theory]
    [MemberData(nameof(UserStyleFiles))]
    public void File_IsAcceptedUnchanged_AndItsGradientsMatchFiniteDifferences(string file) => AcceptedAndRight(file);

    /// <summary>
    /// Every user-style file is in the theory above (all 31 are accepted unchanged since #11 closed): a file lost from
    /// the corpus, or a folder renamed, would silently shrink it.
    /// </summary>
    [Fact]
    public void Corpus_HoldsTheTwelveSimulatorsAndNineteenMethodFiles()
    {
        var files = CorpusCompiler.Files().ToList();
        Assert.Equal(12, files.Count(f => f.StartsWith("Simulators/", StringComparison.Ordinal)));
        Assert.Equal(19, files.Count(f => f.StartsWith("Methods/", StringComparison.Ordinal)));
    }

    /// <summary>The pre-#11 rewrites: accepted today, their gradients validate the drivers' finite differences.</summary>
    [Theory]
    [MemberData(nameof(FlattenedFiles))]
    public void FlattenedFile_IsAccepted_AndItsGradientsMatchFiniteDifferences(string file) => AcceptedAndRight(file);

    private static void AcceptedAndRight(string file)
    {
        var build = CorpusCompiler.Build(file, primalOnly: false);
        var errors = build.Errors.Take(12).Select(CorpusCompiler.Describe).ToList();
        Assert.True(build.Accepted, $"{file} is not accepted unchanged:\n  " + string.Join("\n  ", errors));
        var failure = CorpusCompiler.RunDriver(build);
        Assert.True(failure == null, failure);
    }

    /// <summary>
    /// The finite-difference half of every driver, on the primal alone (no generator,
    /// DIFFGEN_PRIMAL_ONLY): the methods compile as plain C#, the loss runs, and its finite
    /// differences converge (steps h and 2h agree to a quarter of the tolerance) and are not all zero.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllFiles))]
    public void File_FiniteDifferenceHalf_RunsOnThePrimal(string file)
    {
        var build = CorpusCompiler.Build(file, primalOnly: true);
        var errors = build.CompilerDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(12).Select(CorpusCompiler.Describe).ToList();
        Assert.True(build.Image != null && errors.Count == 0, $"{file} does not compile as plain C#:\n  " + string.Join("\n  ", errors));
        var failure = CorpusCompiler.RunDriver(build);
        Assert.True(failure == null, failure);
    }
}
