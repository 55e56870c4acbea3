namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// The reverse sweep assigns a loop-body local's adjoint on its first contribution: gradients against
/// finite differences where another contribution (a branch, a conditional expression, Math.Max and
/// Math.Clamp, an inner loop, a callee's ref) precedes the plain ones in the reverse sweep. The
/// snapshot BurgersSemiLagrangian.g.cs shows the assignment where it applies.
/// </summary>
public class ZeroAdjointTests
{
    private static readonly double[] U = [0.3, -0.7, 1.1, 0.45, -0.05, 0.2];
    private const double W = 0.8;

    public static TheoryData<string> Kernels() => new() { "BranchLast", "ConditionalLast", "MaxClampLast", "InnerLoopLast", "CalleeLast" };

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Gradients_MatchFiniteDifferences(string name)
    {
        var uBar = new double[U.Length];
        double wBar = 0;
        double value = name switch
        {
            "BranchLast" => ZeroAdjoints.BranchLastPullback(U, W, 1.0, uBar, ref wBar),
            "ConditionalLast" => ZeroAdjoints.ConditionalLastPullback(U, W, 1.0, uBar, ref wBar),
            "MaxClampLast" => ZeroAdjoints.MaxClampLastPullback(U, W, 1.0, uBar, ref wBar),
            "InnerLoopLast" => ZeroAdjoints.InnerLoopLastPullback(U, W, 1.0, uBar, ref wBar),
            _ => ZeroAdjoints.CalleeLastPullback(U, W, 1.0, uBar, ref wBar),
        };
        Assert.Equal(Eval(name, U, W), value);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => Eval(name, x, W), U), 1e-6, name + " d/du");
        GradCheck.AssertClose([wBar], GradCheck.FiniteDifferenceGradient(v => Eval(name, U, v[0]), [W]), 1e-6, name + " d/dw");
    }

    private static double Eval(string name, double[] u, double w) => name switch
    {
        "BranchLast" => ZeroAdjoints.BranchLast(u, w),
        "ConditionalLast" => ZeroAdjoints.ConditionalLast(u, w),
        "MaxClampLast" => ZeroAdjoints.MaxClampLast(u, w),
        "InnerLoopLast" => ZeroAdjoints.InnerLoopLast(u, w),
        _ => ZeroAdjoints.CalleeLast(u, w),
    };
}
