namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Gradients of the multi-dimensional and jagged kernels (<see cref="Grids"/>, <see cref="Rows"/>) against
/// central finite differences (double 1e-6, float twins 1e-3); tangents of the pushforwards against the
/// gradients; the dual pullback's values and Hessian-vector products for a few.
/// </summary>
public class MultiDimArrayTests
{
    private static double[] Data(int n, int seed)
    {
        var r = new Random(seed);
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.NextDouble() * 2 - 1;
        return x;
    }

    private static double[,] M(double[] p, int n, int m, int at = 0)
    {
        var a = new double[n, m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) a[i, j] = p[at + i * m + j];
        return a;
    }

    private static float[,] MF(double[] p, int n, int m)
    {
        var a = new float[n, m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) a[i, j] = (float)p[i * m + j];
        return a;
    }

    private static double[,,] C(double[] p, int n, int m, int l, int at = 0)
    {
        var a = new double[n, m, l];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) for (int k = 0; k < l; k++) a[i, j, k] = p[at + (i * m + j) * l + k];
        return a;
    }

    private static double[][] Jag(double[] p, int[] lengths, int at = 0)
    {
        var rows = new double[lengths.Length][];
        for (int i = 0; i < lengths.Length; i++)
        {
            rows[i] = p.AsSpan(at, lengths[i]).ToArray();
            at += lengths[i];
        }
        return rows;
    }

    private static double[] Flat(Array a)
    {
        var result = new List<double>();
        foreach (var x in a)
        {
            if (x is Array row) result.AddRange(Flat(row));
            else result.Add(Convert.ToDouble(x, System.Globalization.CultureInfo.InvariantCulture));
        }
        return [.. result];
    }

    /// <summary>The loss of an array output: sum of w_k out_k with fixed weights (the seed of its adjoint).</summary>
    private static double Weighted(Array output) => Flat(output).Select((x, k) => (k % 3 + 1) * 0.5 * x).Sum();

    private static double[] Seeds(int n) => Enumerable.Range(0, n).Select(k => (k % 3 + 1) * 0.5).ToArray();

    private static void Close(double[] actual, double[] expected, double tolerance = 1e-6, string what = "gradient") =>
        GradCheck.AssertClose(actual, expected, tolerance, what);

    [Fact]
    public void FrobeniusNorm_AndFloatTwin()
    {
        var p = Data(12, 1);
        var bar = new double[3, 4];
        double y = Grids.FrobeniusNormPullback(M(p, 3, 4), 1.0, bar);
        Assert.Equal(Grids.FrobeniusNorm(M(p, 3, 4)), y);
        var fd = GradCheck.FiniteDifferenceGradient(q => Grids.FrobeniusNorm(M(q, 3, 4)), p);
        Close(Flat(bar), fd);

        var barF = new float[3, 4];
        Grids.FrobeniusNormFPullback(MF(p, 3, 4), 1f, barF);
        Close(Flat(barF), fd, 1e-3, "float gradient");

        // Forward mode: the tangent along v is <gradient, v>.
        var v = Data(12, 2);
        var (value, tangent) = Grids.FrobeniusNormPushforward(M(p, 3, 4), M(v, 3, 4));
        Assert.Equal(y, value);
        Close([tangent], [fd.Zip(v, (g, d) => g * d).Sum()], 1e-6, "tangent");
    }

    [Fact]
    public void FrobeniusNorm_DualPullback_GivesHessianVectorProducts()
    {
        var p = Data(6, 3);
        var v = Data(6, 4);
        var a = new Dual[2, 3];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) a[i, j] = new Dual(p[i * 3 + j], v[i * 3 + j]);
        var bar = new Dual[2, 3];
        Grids.FrobeniusNormPullbackDual(a, 1.0, bar);
        double[] Gradient(double[] q) { var g = new double[2, 3]; Grids.FrobeniusNormPullback(M(q, 2, 3), 1.0, g); return Flat(g); }
        Close(bar.Cast<Dual>().Select(d => d.Value).ToArray(), Gradient(p), 1e-12, "dual value");
        var hv = GradCheck.FiniteDifferenceDirectional(Gradient, p, v);
        Close(bar.Cast<Dual>().Select(d => d.Tangent).ToArray(), hv, 1e-6, "H v");
    }

    [Fact]
    public void Trace_KeepsItsGuard()
    {
        var p = Data(9, 5);
        var bar = new double[3, 3];
        Grids.TracePullback(M(p, 3, 3), 1.0, bar);
        Close(Flat(bar), GradCheck.FiniteDifferenceGradient(q => Grids.Trace(M(q, 3, 3)), p));
        var ex = Assert.Throws<ArgumentException>(() => Grids.TracePullback(new double[2, 3], 1.0, new double[2, 3]));
        Assert.Equal("a", ex.ParamName);
    }

    [Fact]
    public void Transpose_ConsumesTheSeedOfItsOutput()
    {
        var p = Data(12, 6);
        var aBar = new double[3, 4];
        var tBar = M(Seeds(12), 4, 3);
        var t = new double[4, 3];
        Grids.TransposePullback(M(p, 3, 4), t, aBar, tBar);
        Assert.Equal(M(p, 3, 4)[1, 2], t[2, 1]);
        Close(Flat(aBar), GradCheck.FiniteDifferenceGradient(q => { var r = new double[4, 3]; Grids.Transpose(M(q, 3, 4), r); return Weighted(r); }, p));
        Assert.All(Flat(tBar), x => Assert.Equal(0.0, x));
    }

    [Fact]
    public void Laplacian_AndFloatTwin_AndPushforward()
    {
        var p = Data(21, 7);
        double h = p[20] + 1.5;
        double Loss(double[] q) { var lap = new double[4, 5]; Grids.Laplacian(M(q, 4, 5), lap, q[20] + 1.5); return Weighted(lap); }
        var fd = GradCheck.FiniteDifferenceGradient(Loss, p);

        var uBar = new double[4, 5];
        double hBar = 0;
        Grids.LaplacianPullback(M(p, 4, 5), new double[4, 5], h, uBar, M(Seeds(20), 4, 5), ref hBar);
        Close([.. Flat(uBar), hBar], fd);

        var uBarF = new float[4, 5];
        float hBarF = 0;
        var seedsF = new float[4, 5];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 5; j++) seedsF[i, j] = (float)Seeds(20)[i * 5 + j];
        Grids.LaplacianFPullback(MF(p, 4, 5), new float[4, 5], (float)h, uBarF, seedsF, ref hBarF);
        Close([.. Flat(uBarF), hBarF], fd, 1e-3, "float gradient");

        var v = Data(21, 8);
        var lapDot = new double[4, 5];
        Grids.LaplacianPushforward(M(p, 4, 5), M(v, 4, 5), new double[4, 5], lapDot, h, v[20]);
        Close([Weighted(lapDot)], [fd.Zip(v, (g, d) => g * d).Sum()], 1e-6, "tangent");
    }

    [Fact]
    public void AdjointOfTheWrongShape_IsRejectedUpFront()
    {
        var ex = Assert.Throws<ArgumentException>(() => Grids.FrobeniusNormPullback(new double[3, 4], 1.0, new double[4, 3]));
        Assert.Equal("aBar", ex.ParamName);
        Assert.Contains("3 x 4", ex.Message);
        var ragged = Assert.Throws<ArgumentException>(() => Rows.SumOfSquaresPullback([new double[2], new double[3]], 1.0, [new double[2], new double[2]]));
        Assert.Equal("rowsBar", ragged.ParamName);
    }

    [Fact]
    public void LaplacianEnergy_A2DLocalThroughACallRunAsHalves()
    {
        var p = Data(21, 9);
        var uBar = new double[4, 5];
        double hBar = 0;
        double y = Grids.LaplacianEnergyPullback(M(p, 4, 5), p[20] + 1.5, 1.0, uBar, ref hBar);
        Assert.Equal(Grids.LaplacianEnergy(M(p, 4, 5), p[20] + 1.5), y);
        Close([.. Flat(uBar), hBar], GradCheck.FiniteDifferenceGradient(q => Grids.LaplacianEnergy(M(q, 4, 5), q[20] + 1.5), p));
    }

    [Fact]
    public void ProductEnergy_ALocalMatrixProduct()
    {
        var p = Data(18, 10);
        double Loss(double[] q) => Grids.ProductEnergy(M(q, 2, 3), M(q, 3, 4, 6));
        var aBar = new double[2, 3];
        var bBar = new double[3, 4];
        Grids.ProductEnergyPullback(M(p, 2, 3), M(p, 3, 4, 6), 1.0, aBar, bBar);
        var fd = GradCheck.FiniteDifferenceGradient(Loss, p);
        Close([.. Flat(aBar), .. Flat(bBar)], fd);

        var v = Data(18, 11);
        var (_, tangent) = Grids.ProductEnergyPushforward(M(p, 2, 3), M(v, 2, 3), M(p, 3, 4, 6), M(v, 3, 4, 6));
        Close([tangent], [fd.Zip(v, (g, d) => g * d).Sum()], 1e-6, "tangent");

        var aD = new Dual[2, 3];
        var bD = new Dual[3, 4];
        for (int i = 0; i < 6; i++) aD[i / 3, i % 3] = new Dual(p[i], v[i]);
        for (int i = 0; i < 12; i++) bD[i / 4, i % 4] = new Dual(p[6 + i], v[6 + i]);
        var aDBar = new Dual[2, 3];
        var bDBar = new Dual[3, 4];
        Grids.ProductEnergyPullbackDual(aD, bD, 1.0, aDBar, bDBar);
        double[] Gradient(double[] q) { var ga = new double[2, 3]; var gb = new double[3, 4]; Grids.ProductEnergyPullback(M(q, 2, 3), M(q, 3, 4, 6), 1.0, ga, gb); return [.. Flat(ga), .. Flat(gb)]; }
        var hv = GradCheck.FiniteDifferenceDirectional(Gradient, p, v);
        Close([.. aDBar.Cast<Dual>().Select(d => d.Tangent), .. bDBar.Cast<Dual>().Select(d => d.Tangent)], hv, 1e-6, "H v");
    }

    [Fact]
    public void HeatSteps_InPlaceOnAPlate_RestoresWhatItNeeds()
    {
        var p = Data(20, 12);
        double r = 0.2;
        double Loss(double[] q) { var t = M(q, 4, 5); Grids.HeatSteps(t, r, 3); return Weighted(t); }
        var t0 = M(p, 4, 5);
        var tBar = M(Seeds(20), 4, 5);
        double rBar = 0;
        Grids.HeatStepsPullback(t0, r, 3, tBar, ref rBar);
        var expected = M(p, 4, 5);
        Grids.HeatSteps(expected, r, 3);
        Assert.Equal(Flat(expected), Flat(t0)); // the pullback leaves the plate as the method would
        Close(Flat(tBar), GradCheck.FiniteDifferenceGradient(Loss, p));
        double LossR(double[] q) { var t = M(p, 4, 5); Grids.HeatSteps(t, q[0], 3); return Weighted(t); }
        Close([rBar], GradCheck.FiniteDifferenceGradient(LossR, [r]), 1e-6, "dL/dr");
    }

    [Fact]
    public void MaskedSum_IntMatrixIsInactiveData()
    {
        var p = Data(12, 13);
        var mask = new int[3, 4];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) mask[i, j] = (i + j) % 3;
        var bar = new double[3, 4];
        double sBar = 0;
        Grids.MaskedSumPullback(M(p, 3, 4), mask, 1.3, 1.0, bar, ref sBar);
        Close([.. Flat(bar), sBar], GradCheck.FiniteDifferenceGradient(q => Grids.MaskedSum(M(q, 3, 4), mask, q[12]), [.. p, 1.3]));
    }

    [Fact]
    public void Integral_DivergenceNorm_Smooth_OnThreeDimensions()
    {
        var p = Data(3 * 27 + 1, 14);
        var fBar = new double[2, 3, 2];
        double dvBar = 0;
        Grids.IntegralPullback(C(p, 2, 3, 2), p[12] + 2, 1.0, fBar, ref dvBar);
        var fd = GradCheck.FiniteDifferenceGradient(q => Grids.Integral(C(q, 2, 3, 2), q[12] + 2), p[..13]);
        Close([.. Flat(fBar), dvBar], fd);
        var fBarF = new float[2, 3, 2];
        float dvBarF = 0;
        var f = new float[2, 3, 2];
        for (int i = 0; i < 12; i++) f[i / 6, i / 2 % 3, i % 2] = (float)p[i];
        Grids.IntegralFPullback(f, (float)(p[12] + 2), 1f, fBarF, ref dvBarF);
        Close([.. Flat(fBarF), dvBarF], fd, 1e-3, "float gradient");

        var uBar = new double[3, 3, 3];
        var vBar = new double[3, 3, 3];
        var wBar = new double[3, 3, 3];
        double hBar = 0;
        Grids.DivergenceNormPullback(C(p, 3, 3, 3), C(p, 3, 3, 3, 27), C(p, 3, 3, 3, 54), p[81] + 2, 1.0, uBar, vBar, wBar, ref hBar);
        Close([.. Flat(uBar), .. Flat(vBar), .. Flat(wBar), hBar],
            GradCheck.FiniteDifferenceGradient(q => Grids.DivergenceNorm(C(q, 3, 3, 3), C(q, 3, 3, 3, 27), C(q, 3, 3, 3, 54), q[81] + 2), p));

        var aBar = new double[3, 2, 2];
        double weightBar = 0;
        Grids.SmoothPullback(C(p, 3, 2, 2), new double[3, 2, 2], p[12], aBar, C(Seeds(12), 3, 2, 2), ref weightBar);
        Close([.. Flat(aBar), weightBar],
            GradCheck.FiniteDifferenceGradient(q => { var o = new double[3, 2, 2]; Grids.Smooth(C(q, 3, 2, 2), o, q[12]); return Weighted(o); }, p[..13]));
    }

    private static readonly int[] Ragged = [1, 2, 3];

    [Fact]
    public void SumOfSquares_RaggedRows_AndFloatTwin()
    {
        var p = Data(6, 15);
        double[][] bar = [new double[1], new double[2], new double[3]];
        Rows.SumOfSquaresPullback(Jag(p, Ragged), 1.0, bar);
        var fd = GradCheck.FiniteDifferenceGradient(q => Rows.SumOfSquares(Jag(q, Ragged)), p);
        Close(Flat(bar), fd);
        float[][] rowsF = [[(float)p[0]], [(float)p[1], (float)p[2]], [(float)p[3], (float)p[4], (float)p[5]]];
        float[][] barF = [new float[1], new float[2], new float[3]];
        Rows.SumOfSquaresFPullback(rowsF, 1f, barF);
        Close(Flat(barF), fd, 1e-3, "float gradient");
        var v = Data(6, 16);
        var (_, tangent) = Rows.SumOfSquaresPushforward(Jag(p, Ragged), Jag(v, Ragged));
        Close([tangent], [fd.Zip(v, (g, d) => g * d).Sum()], 1e-6, "tangent");
    }

    [Fact]
    public void Axpy_InPlaceOnJaggedRows()
    {
        var p = Data(13, 17);
        int[] shape = [3, 3];
        var yBar = Jag(Seeds(6), shape);
        double aBar = 0;
        double[][] xBar = [new double[3], new double[3]];
        Rows.AxpyPullback(Jag(p, shape), p[6], Jag(p, shape, 7), yBar, ref aBar, xBar);
        Close([.. Flat(yBar), aBar, .. Flat(xBar)],
            GradCheck.FiniteDifferenceGradient(q => { var y = Jag(q, shape); Rows.Axpy(y, q[6], Jag(q, shape, 7)); return Weighted(y); }, p));
    }

    [Fact]
    public void OuterEnergy_AJaggedLocalWithRowsAllocatedInALoop()
    {
        var p = Data(5, 18);
        var uBar = new double[3];
        var vBar = new double[2];
        Rows.OuterEnergyPullback(p[..3], p[3..], 1.0, uBar, vBar);
        var fd = GradCheck.FiniteDifferenceGradient(q => Rows.OuterEnergy(q[..3], q[3..]), p);
        Close([.. uBar, .. vBar], fd);
        var v = Data(5, 19);
        var (_, tangent) = Rows.OuterEnergyPushforward(p[..3], v[..3], p[3..], v[3..]);
        Close([tangent], [fd.Zip(v, (g, d) => g * d).Sum()], 1e-6, "tangent");
    }

    [Fact]
    public void JacobiResidual_OnAJaggedMatrix_WithGuardsAndAnAssertion()
    {
        const int n = 4;
        var p = Data(n * n + n, 20);
        for (int i = 0; i < n; i++) p[i * n + i] = 5.0 + i; // diagonally dominant
        int[] square = [n, n, n, n];
        double Loss(double[] q) => Rows.JacobiResidual(Jag(q, square), q[(n * n)..], 6);
        var aBar = Jag(new double[n * n], square);
        var bBar = new double[n];
        double y = Rows.JacobiResidualPullback(Jag(p, square), p[(n * n)..], 6, 1.0, aBar, bBar);
        Assert.Equal(Loss(p), y);
        var fd = GradCheck.FiniteDifferenceGradient(Loss, p);
        Close([.. Flat(aBar), .. bBar], fd);
        var mismatch = Assert.Throws<ArgumentException>(() => Rows.JacobiResidualPullback(Jag(p, square), new double[3], 6, 1.0, aBar, new double[3]));
        Assert.Equal("b", mismatch.ParamName);

        var v = Data(n * n + n, 21);
        var aD = Jag(p, square).Select((row, i) => row.Select((x, j) => new Dual(x, v[i * n + j])).ToArray()).ToArray();
        var bD = p[(n * n)..].Select((x, i) => new Dual(x, v[n * n + i])).ToArray();
        var aDBar = aD.Select(row => new Dual[row.Length]).ToArray();
        var bDBar = new Dual[n];
        Rows.JacobiResidualPullbackDual(aD, bD, 6, 1.0, aDBar, bDBar);
        double[] Gradient(double[] q) { var ga = Jag(new double[n * n], square); var gb = new double[n]; Rows.JacobiResidualPullback(Jag(q, square), q[(n * n)..], 6, 1.0, ga, gb); return [.. Flat(ga), .. gb]; }
        var hv = GradCheck.FiniteDifferenceDirectional(Gradient, p, v);
        Close([.. aDBar.SelectMany(r => r.Select(d => d.Tangent)), .. bDBar.Select(d => d.Tangent)], hv, 1e-5, "H v");
    }

    [Fact]
    public void TwoAxpys_SplitCallsOnTheSameJaggedOutput()
    {
        var p = Data(13, 22);
        int[] shape = [2, 4];
        var yBar = Jag(new double[6], shape);
        var y0 = Jag(p, shape);
        double aBar = 0;
        var xBar = Jag(new double[6], shape);
        Rows.TwoAxpysPullback(y0, p[6], Jag(p, shape, 7), 1.0, yBar, ref aBar, xBar);
        Close([.. Flat(yBar), aBar, .. Flat(xBar)],
            GradCheck.FiniteDifferenceGradient(q => Rows.TwoAxpys(Jag(q, shape), q[6], Jag(q, shape, 7)), p));
    }
}
