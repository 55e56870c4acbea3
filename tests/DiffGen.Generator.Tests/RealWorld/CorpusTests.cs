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

    /// <summary>
    /// The user-style files #11 does not accept yet, each with what blocks it (see docs/generated-code.md and
    /// the corpus report, RealWorld/report.sh). A file leaves this list when it is accepted: its test then
    /// fails until it is moved, so an accepted file is always checked against finite differences.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> NotYetAccepted = new Dictionary<string, string>
    {
        ["Methods/Arrays2D.cs"] = "returns double[,]",
        ["Methods/DenseLayer.cs"] = "returns double[]",
        ["Methods/JaggedArrays.cs"] = "returns double[][]",
        ["Methods/ReturnValues.cs"] = "returns T[] and tuples",
        ["Simulators/BlackScholes.cs"] = "returns a tuple",
        ["Simulators/HeatPlate.cs"] = "tuple swap of array fields",
        ["Simulators/JacobiSolver.cs"] = "returns double[]",
    };

    public static TheoryData<string> UserStyleFiles() =>
        Data(CorpusCompiler.Files().Where(f => !f.StartsWith("Flattened/", StringComparison.Ordinal) && !NotYetAccepted.ContainsKey(f)));

    public static TheoryData<string> PendingFiles() => Data(NotYetAccepted.Keys.OrderBy(f => f, StringComparer.Ordinal));

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

    /// <summary>A file not accepted yet is rejected with an error, never accepted with a wrong gradient; once accepted it must move.</summary>
    [Theory]
    [MemberData(nameof(PendingFiles))]
    public void PendingFile_IsRejected_NotMiscompiled(string file)
    {
        Assert.True(CorpusCompiler.Files().Contains(file), file + " is not in the corpus");
        var build = CorpusCompiler.Build(file, primalOnly: false);
        if (!build.Accepted) return;
        var failure = CorpusCompiler.RunDriver(build);
        Assert.Fail(failure == null
            ? file + " is accepted now and its gradients match: remove it from NotYetAccepted"
            : file + " is accepted but its gradients are wrong: " + failure);
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
