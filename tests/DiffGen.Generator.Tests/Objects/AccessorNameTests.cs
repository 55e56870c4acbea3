using DiffGen.Generator.Tests.Infrastructure;

namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// The UnsafeAccessors that reach get-only and init-only storage are members of the user's partial type, so
/// their names must not collide: not between two overloads of one method (each file declares its own), and not
/// between two types of the same short name in different namespaces.
/// </summary>
public class AccessorNameTests
{
    private static void AssertGeneratedCodeCompiles(string source)
    {
        var result = TestCompilation.Run(source);
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        var errors = result.OutputDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, "generated code does not compile:\n  " + string.Join("\n  ", errors));
    }

    [Fact]
    public void Overloads_ReadingTheSameGetOnlyState_CompileTogether()
    {
        AssertGeneratedCodeCompiles("""
            using DiffGen;
            namespace T;
            public partial class Spring
            {
                public Spring(double k) { K = k; }
                public double K { get; }
                [Differentiable] public double Energy(double x) => 0.5 * K * x * x;
                [Differentiable] public float Energy(float x) => 0.5f * (float)K * x * x;
            }
            """);
    }

    [Fact]
    public void InitOnlyMembers_OfTwoTypesWithTheSameShortName_CompileTogether()
    {
        AssertGeneratedCodeCompiles("""
            using DiffGen;
            namespace A { public readonly record struct Lens(double Focal); }
            namespace B { public readonly record struct Lens(double Focal); }
            namespace T
            {
                public static partial class Optics
                {
                    [Differentiable]
                    public static double Power(A.Lens a, B.Lens b, double x) => x / a.Focal + x / b.Focal;
                }
            }
            """);
    }
}
