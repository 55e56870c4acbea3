namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Pullbacks with array locals: gradients against finite differences, the same gradient on every call (a
/// pooled array must come back zeroed), and no large allocation per call once the pool holds the arrays.
/// </summary>
public class ScratchArrayTests
{
    private static double[] Input(int n) => Enumerable.Range(0, n).Select(i => Math.Sin(0.37 * i) + 0.1 * Math.Cos(1.3 * i)).ToArray();

    [Fact]
    public void SingleMethodPullback_WithArrayLocal_MatchesFiniteDifferences()
    {
        const double w = 0.2;
        var u = Input(9);
        var uBar = new double[u.Length];
        double wBar = 0;
        double value = ScratchArrays.SmoothedEnergyPullback(u, w, 1.0, uBar, ref wBar);
        Assert.Equal(ScratchArrays.SmoothedEnergy(u, w), value);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => ScratchArrays.SmoothedEnergy(x, w), u), 1e-6, "dE/du");
        GradCheck.AssertClose([wBar], GradCheck.FiniteDifferenceGradient(v => ScratchArrays.SmoothedEnergy(u, v[0]), [w]), 1e-6, "dE/dw");
    }

    [Fact]
    public void SplitCalleeWithArrayLocal_MatchesFiniteDifferences()
    {
        const double w = 0.3;
        var u = Input(9);
        double L(double[] x, double ww) => ScratchArrays.TwoStages(x, new double[x.Length], ww);
        var uBar = new double[u.Length];
        double wBar = 0;
        var r = new double[u.Length];
        double value = ScratchArrays.TwoStagesPullback(u, r, w, 1.0, uBar, new double[u.Length], ref wBar);
        Assert.Equal(L(u, w), value);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(x => L(x, w), u), 1e-6, "dL/du");
        GradCheck.AssertClose([wBar], GradCheck.FiniteDifferenceGradient(v => L(u, v[0]), [w]), 1e-6, "dL/dw");
    }

    [Fact]
    public void RepeatedPullbacks_OnPooledArrays_GiveTheSameGradient()
    {
        // 8192 doubles (64 KB) per array: pooled. A recycled adjoint array that kept its old contents
        // would add the first call's adjoints to the second call's.
        var u = Input(8192);
        double[] Grad()
        {
            var uBar = new double[u.Length];
            double wBar = 0;
            ScratchArrays.TwoStagesPullback(u, new double[u.Length], 0.3, 1.0, uBar, new double[u.Length], ref wBar);
            return [.. uBar, wBar];
        }
        double[] Grad2()
        {
            var uBar = new double[u.Length];
            double wBar = 0;
            ScratchArrays.SmoothedEnergyPullback(u, 0.3, 1.0, uBar, ref wBar);
            return [.. uBar, wBar];
        }
        var first = Grad();
        Assert.Equal(first, Grad());
        Assert.Equal(first, Grad());
        var firstEnergy = Grad2();
        Assert.Equal(firstEnergy, Grad2());
    }

    [Fact]
    public void Pullbacks_DoNotAllocateTheirLargeArrays_OnceWarm()
    {
        const int n = 8192;
        var u = Input(n);
        var r = new double[n]; var uBar = new double[n]; var rBar = new double[n];
        void Both()
        {
            double wBar = 0;
            ScratchArrays.TwoStagesPullback(u, r, 0.3, 1.0, uBar, rBar, ref wBar);
            ScratchArrays.SmoothedEnergyPullback(u, 0.3, 1.0, uBar, ref wBar);
        }
        for (int i = 0; i < 3; i++) Both();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Both();
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        // Without the pool each call allocates five 64 KB arrays (two locals, two adjoints, a saved output).
        Assert.True(perCall < n * sizeof(double), $"{perCall} bytes allocated per call; expected the tape's pool to supply the arrays");
    }
}
