namespace DiffGen.Generator.Tests.Reverse;

public static partial class FromEnd
{
    /// <summary>Reads and writes with '^' indices, as a cash-flow schedule's last payment is written.</summary>
    [Differentiable]
    public static double LastTwo(double[] u, double[,] m)
    {
        u[^1] = u[^2] * u[^1] + m[1, 0];
        return u[^1] * u[0];
    }
}

public class FromEndIndexTests
{
    [Fact]
    public void HatIndices_ReadAndWrite()
    {
        double[] at = [0.5, -1.5, 2.0, 0.25, 0.75, -0.5, 1.25];
        double L(double[] p)
        {
            var u = p[..3];
            var m = new double[2, 2] { { p[3], p[4] }, { p[5], p[6] } };
            return FromEnd.LastTwo(u, m);
        }
        var u = at[..3];
        var m = new double[2, 2] { { at[3], at[4] }, { at[5], at[6] } };
        var uBar = new double[3];
        var mBar = new double[2, 2];
        double r = FromEnd.LastTwoPullback(u, m, 1.0, uBar, mBar);
        Assert.Equal(L(at), r);
        GradCheck.AssertClose([.. uBar, mBar[0, 0], mBar[0, 1], mBar[1, 0], mBar[1, 1]], GradCheck.FiniteDifferenceGradient(L, at));
    }
}
