namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Methods returning arrays and value tuples (<see cref="Returns"/>): each pullback, seeded with a
/// resultBar of the result's own type, against central finite differences of L = Σ w_k result_k (double
/// 1e-6, float twins 1e-3 against the double twin's differences), the primal result it returns, and the
/// pushforwards' tangents against directional finite differences.
/// </summary>
public class ReturnTests
{
    private static double[] Data(int n, int seed, double lo = -1, double hi = 1)
    {
        var r = new Random(seed);
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * r.NextDouble();
        return x;
    }

    private static float[] F(double[] x) => x.Select(v => (float)v).ToArray();

    private static double[] D(float[] x) => x.Select(v => (double)v).ToArray();

    private static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();

    private static double[] Flat(double[,] a) => a.Cast<double>().ToArray();

    private static double[,] M(double[] p, int n, int m)
    {
        var a = new double[n, m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) a[i, j] = p[i * m + j];
        return a;
    }

    private static double[] Fd(Func<double[], double> f, double[] x) => GradCheck.FiniteDifferenceGradient(f, x);

    [Fact]
    public void ReturnedLocal_Pullback_MatchesFiniteDifferences_AndReturnsTheResult()
    {
        var x = Data(5, 1);
        var w = Data(5, 2);
        double Loss(double[] p) => Dot(w, Returns.Squares(p[..5], p[5]));
        var xBar = new double[5];
        double sBar = 0;
        var r = Returns.SquaresPullback(x, 1.5, (double[])w.Clone(), xBar, ref sBar);
        Assert.Equal(Returns.Squares(x, 1.5), r);
        GradCheck.AssertClose([.. xBar, sBar], Fd(Loss, [.. x, 1.5]), 1e-6, "dL/d(x, s)");
    }

    [Fact]
    public void LoopReadingItsOwnEarlierElements_DoubleAndFloat()
    {
        var x = Data(6, 3);
        var w = Data(6, 4);
        double Loss(double[] p) => Dot(w, Returns.RunningSum(p[..6], p[6]));
        var fd = Fd(Loss, [.. x, 0.7]);

        var xBar = new double[6];
        double cBar = 0;
        var r = Returns.RunningSumPullback(x, 0.7, (double[])w.Clone(), xBar, ref cBar);
        Assert.Equal(Returns.RunningSum(x, 0.7), r);
        GradCheck.AssertClose([.. xBar, cBar], fd, 1e-6, "dL/d(x, c)");

        var xBarF = new float[6];
        float cBarF = 0;
        var rf = Returns.RunningSumFPullback(F(x), 0.7f, F(w), xBarF, ref cBarF);
        Assert.Equal(Returns.RunningSumF(F(x), 0.7f), rf);
        GradCheck.AssertClose([.. D(xBarF), cBarF], fd, 1e-3, "float dL/d(x, c)");
    }

    /// <summary>
    /// The result is the input array itself: its adjoint and the input's (the adjoint of x's contents at
    /// return) add up, L = w·result + v·x_final = (w + v)·f(x0).
    /// </summary>
    [Fact]
    public void ReturnedInputArray_AdjointsOfResultAndInputAdd()
    {
        var x0 = Data(5, 5);
        var w = Data(5, 6);
        var v = Data(5, 7);
        double Loss(double[] p)
        {
            var x = p[..5];
            var r = Returns.ScaleInPlace(x, p[5]);
            return Dot(w, r) + Dot(v, x);
        }
        var fd = Fd(Loss, [.. x0, 1.3]);

        var x = (double[])x0.Clone();
        var xBar = (double[])v.Clone();
        double sBar = 0;
        var r = Returns.ScaleInPlacePullback(x, 1.3, (double[])w.Clone(), xBar, ref sBar);
        var expected = Returns.ScaleInPlace((double[])x0.Clone(), 1.3);
        Assert.Same(x, r); // the pullback returns the input array itself, as the method does
        Assert.Equal(expected, x); // and leaves it as the method does
        GradCheck.AssertClose([.. xBar, sBar], fd, 1e-6, "dL/d(x0, s)");

        var xf = F(x0);
        var xBarF = F(v);
        float sBarF = 0;
        Returns.ScaleInPlaceFPullback(xf, 1.3f, F(w), xBarF, ref sBarF);
        GradCheck.AssertClose([.. D(xBarF), sBarF], fd, 1e-3, "float dL/d(x0, s)");
    }

    [Fact]
    public void DifferentArraysOnDifferentPaths_EachGradientMatches()
    {
        var x = Data(4, 8, 0.2, 1.5);
        var w = Data(4, 9);
        foreach (bool normalize in new[] { false, true })
        {
            double Loss(double[] p) => Dot(w, Returns.NormalizedOrSame((double[])p.Clone(), normalize));
            var xBar = new double[4];
            var r = Returns.NormalizedOrSamePullback((double[])x.Clone(), normalize, (double[])w.Clone(), xBar);
            Assert.Equal(Returns.NormalizedOrSame((double[])x.Clone(), normalize), r);
            GradCheck.AssertClose(xBar, Fd(Loss, x), 1e-6, "dL/dx, normalize = " + normalize);
        }
    }

    [Fact]
    public void CallsOfArrayReturningMethods_DoubleAndFloat()
    {
        var z = Data(5, 10);
        var t = Data(5, 11, 0, 1);
        double Loss(double[] p) => Returns.CrossEntropy(p[..5], p[5..]);
        var fd = Fd(Loss, [.. z, .. t]);
        var zBar = new double[5];
        var tBar = new double[5];
        double y = Returns.CrossEntropyPullback(z, t, 1.0, zBar, tBar);
        Assert.Equal(Returns.CrossEntropy(z, t), y);
        GradCheck.AssertClose([.. zBar, .. tBar], fd, 1e-6, "dL/d(z, t)");

        var zBarF = new float[5];
        var tBarF = new float[5];
        Returns.CrossEntropyFPullback(F(z), F(t), 1f, zBarF, tBarF);
        GradCheck.AssertClose([.. D(zBarF), .. D(tBarF)], fd, 1e-3, "float dL/d(z, t)");

        // A callee's array returned as the caller's own result, and a call in the return statement.
        var w = Data(5, 12);
        var qBar = new double[5];
        var q = Returns.SquaresOfSoftmaxPullback(z, (double[])w.Clone(), qBar);
        Assert.Equal(Returns.SquaresOfSoftmax(z), q);
        GradCheck.AssertClose(qBar, Fd(p => Dot(w, Returns.SquaresOfSoftmax(p)), z), 1e-6, "dL/dz through two callees");
        var dBar = new double[5];
        var d = Returns.DoubledSquaresPullback(z, (double[])w.Clone(), dBar);
        Assert.Equal(Returns.DoubledSquares(z), d);
        GradCheck.AssertClose(dBar, Fd(p => Dot(w, Returns.DoubledSquares(p)), z), 1e-6, "dL/dz of a returned call");
        var nBar = new double[5];
        var n = Returns.NestedSquaresPullback(z, (double[])w.Clone(), nBar);
        Assert.Equal(Returns.NestedSquares(z), n);
        GradCheck.AssertClose(nBar, Fd(p => Dot(w, Returns.NestedSquares(p)), z), 1e-6, "dL/dz of nested calls");
        var (nv, nDot) = Returns.NestedSquaresPushforward(z, w);
        Assert.Equal(Returns.NestedSquares(z), nv);
        GradCheck.AssertClose(nDot, GradCheck.FiniteDifferenceDirectional(Returns.NestedSquares, z, w), 1e-6, "tangent of nested calls");
    }

    [Fact]
    public void TwoDimensionalAndJaggedResults()
    {
        var u = Data(3, 13);
        var v = Data(4, 14);
        var w = Data(12, 15);
        double Loss(double[] p) => Dot(w, Flat(Returns.Outer(p[..3], p[3..])));
        var fd = Fd(Loss, [.. u, .. v]);
        var uBar = new double[3];
        var vBar = new double[4];
        var m = Returns.OuterPullback(u, v, M(w, 3, 4), uBar, vBar);
        Assert.Equal(Flat(Returns.Outer(u, v)), Flat(m));
        GradCheck.AssertClose([.. uBar, .. vBar], fd, 1e-6, "dL/d(u, v)");
        var uBarF = new float[3];
        var vBarF = new float[4];
        var wf = new float[3, 4];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) wf[i, j] = (float)w[i * 4 + j];
        Returns.OuterFPullback(F(u), F(v), wf, uBarF, vBarF);
        GradCheck.AssertClose([.. D(uBarF), .. D(vBarF)], fd, 1e-3, "float dL/d(u, v)");

        // A wrong-shaped resultBar is refused before any adjoint is touched.
        Assert.Throws<ArgumentException>(() => Returns.OuterPullback(u, v, new double[4, 3], new double[3], new double[4]));

        // A returned two-dimensional input (updated in place): the pullback returns it, with the method's contents.
        var a0 = Data(6, 16);
        var w2 = Data(6, 17);
        double Loss2(double[] p) => Dot(w2, Flat(Returns.SquareEntries(M(p, 2, 3))));
        var aBar = new double[2, 3];
        var a = M(a0, 2, 3);
        var sq = Returns.SquareEntriesPullback(a, M(w2, 2, 3), aBar);
        Assert.Same(a, sq);
        Assert.Equal(Flat(Returns.SquareEntries(M(a0, 2, 3))), Flat(sq));
        GradCheck.AssertClose(Flat(aBar), Fd(Loss2, a0), 1e-6, "dL/da of a returned input matrix");

        // Jagged rows of different lengths, each reading the element before it.
        var x = Data(4, 18);
        var seeds = Data(10, 19);
        double[][] Rows(double[] s) { var rows = new double[4][]; int at = 0; for (int i = 0; i < 4; i++) { rows[i] = s.AsSpan(at, i + 1).ToArray(); at += i + 1; } return rows; }
        double Loss3(double[] p) => Dot(seeds, Returns.Triangle(p).SelectMany(r => r).ToArray());
        var xBar = new double[4];
        var tri = Returns.TrianglePullback(x, Rows(seeds), xBar);
        Assert.Equal(Returns.Triangle(x).SelectMany(r => r), tri.SelectMany(r => r));
        GradCheck.AssertClose(xBar, Fd(Loss3, x), 1e-6, "dL/dx of jagged rows");

        // A caller of a method returning a matrix.
        var uBar2 = new double[3];
        var vBar2 = new double[4];
        Returns.OuterTracePullback(u, v, 1.0, uBar2, vBar2);
        GradCheck.AssertClose([.. uBar2, .. vBar2], Fd(p => Returns.OuterTrace(p[..3], p[3..]), [.. u, .. v]), 1e-6, "dL/d(u, v) of a trace");
    }

    [Fact]
    public void TupleResults_Pullback_DoubleAndFloat()
    {
        var x = Data(6, 20);
        double Loss(double[] p) { var (m, v) = Returns.Moments(p); return 0.3 * m - 1.7 * v; }
        var fd = Fd(Loss, x);
        var xBar = new double[6];
        var mv = Returns.MomentsPullback(x, (0.3, -1.7), xBar);
        Assert.Equal(Returns.Moments(x), mv);
        GradCheck.AssertClose(xBar, fd, 1e-6, "dL/dx of moments");

        var xBarF = new float[6];
        var mvf = Returns.MomentsFPullback(F(x), (0.3f, -1.7f), xBarF);
        Assert.Equal(Returns.MomentsF(F(x)), mvf);
        GradCheck.AssertClose(D(xBarF), fd, 1e-3, "float dL/dx of moments");

        double xb = 0, yb = 0;
        var polar = Returns.PolarPullback(0.6, -0.8, (0.5, 2.0), ref xb, ref yb);
        Assert.Equal(Returns.Polar(0.6, -0.8), polar);
        GradCheck.AssertClose([xb, yb], Fd(p => { var (r, a) = Returns.Polar(p[0], p[1]); return 0.5 * r + 2.0 * a; }, [0.6, -0.8]), 1e-6, "dL/d(x, y) of polar");
    }

    [Fact]
    public void TupleCallsDeconstructionAndSwaps()
    {
        var x = Data(6, 21);
        var xBar = new double[6];
        double vBar = 0;
        Returns.StandardScorePullback(x, 0.9, 1.0, xBar, ref vBar);
        GradCheck.AssertClose([.. xBar, vBar], Fd(p => Returns.StandardScore(p[..6], p[6]), [.. x, 0.9]), 1e-6, "dL/d(x, value)");

        var xBarF = new float[6];
        float vBarF = 0;
        Returns.StandardScoreFPullback(F(x), 0.9f, 1f, xBarF, ref vBarF);
        GradCheck.AssertClose([.. D(xBarF), vBarF], Fd(p => Returns.StandardScore(p[..6], p[6]), [.. x, 0.9]), 1e-3, "float dL/d(x, value)");

        var xsBar = new double[6];
        double aBar = 0, bBar = 0;
        Returns.PolarMixPullback(x, 0.4, 0.7, 1.0, xsBar, ref aBar, ref bBar);
        GradCheck.AssertClose([.. xsBar, aBar, bBar], Fd(p => Returns.PolarMix(p[..6], p[6], p[7]), [.. x, 0.4, 0.7]), 1e-6, "dL/d(xs, x, y)");

        double Loss(double[] p) { var ((a, b), c) = Returns.SwapAndNest(p[0], p[1]); return 0.7 * a - 0.2 * b + 1.1 * c; }
        double sa = 0, sb = 0;
        var nested = Returns.SwapAndNestPullback(0.8, 0.6, ((0.7, -0.2), 1.1), ref sa, ref sb);
        Assert.Equal(Returns.SwapAndNest(0.8, 0.6), nested);
        GradCheck.AssertClose([sa, sb], Fd(Loss, [0.8, 0.6]), 1e-6, "dL/d(a, b) through swaps");

        var w = Data(5, 22);
        var eBar = new double[5];
        var ends = Returns.EndsPullback(w, (0.4, -0.9), eBar);
        Assert.Equal(Returns.Ends(w), ends);
        GradCheck.AssertClose(eBar, Fd(p => { var (f, l) = Returns.Ends(p); return 0.4 * f - 0.9 * l; }, w), 1e-6, "dL/dx of a tuple from an array");
    }

    [Fact]
    public void TupleParametersLocalsAndArrays()
    {
        double Loss(double[] q) => Returns.TupleParameter((q[0], q[1]), q[2]);
        (double X, double Y) pBar = default;
        double sBar = 0;
        double y = Returns.TupleParameterPullback((0.4, -0.7), 1.3, 1.0, ref pBar, ref sBar);
        Assert.Equal(Returns.TupleParameter((0.4, -0.7), 1.3), y);
        GradCheck.AssertClose([pBar.X, pBar.Y, sBar], Fd(Loss, [0.4, -0.7, 1.3]), 1e-6, "dL/d(p, s)");

        var xs = Data(5, 28);
        var xsBar = new double[5];
        double yBar = 0;
        Returns.PolarSumPullback(xs, 0.8, 1.0, xsBar, ref yBar);
        GradCheck.AssertClose([.. xsBar, yBar], Fd(q => Returns.PolarSum(q[..5], q[5]), [.. xs, 0.8]), 1e-6, "dL/d(xs, y) of tuple calls in a loop");

        var pairs = new (double A, double B)[] { (0.5, -1.0), (2.0, 0.25), (-0.3, 0.8) };
        var pairsBar = new (double A, double B)[3];
        Returns.SumOfProductsPullback(pairs, 1.0, pairsBar);
        double Loss2(double[] q) => Returns.SumOfProducts([(q[0], q[1]), (q[2], q[3]), (q[4], q[5])]);
        GradCheck.AssertClose(pairsBar.SelectMany(t => new[] { t.A, t.B }).ToArray(), Fd(Loss2, pairs.SelectMany(t => new[] { t.A, t.B }).ToArray()), 1e-6, "dL/dpairs");
    }

    [Fact]
    public void Pushforwards_OfArrayAndTupleResults()
    {
        var x = Data(6, 23);
        var dx = Data(6, 24);
        double[] Fd1(Func<double[], double[]> f, double[] at, double[] dir) => GradCheck.FiniteDifferenceDirectional(f, at, dir);

        var (r, rDot) = Returns.RunningSumPushforward(x, dx, 0.7, 0.3);
        Assert.Equal(Returns.RunningSum(x, 0.7), r);
        GradCheck.AssertClose(rDot, Fd1(p => Returns.RunningSum(p[..6], p[6]), [.. x, 0.7], [.. dx, 0.3]), 1e-6, "tangent of a running sum");

        var (rf, rfDot) = Returns.RunningSumFPushforward(F(x), F(dx), 0.7f, 0.3f);
        Assert.Equal(Returns.RunningSumF(F(x), 0.7f), rf);
        GradCheck.AssertClose(D(rfDot), Fd1(p => Returns.RunningSum(p[..6], p[6]), [.. x, 0.7], [.. dx, 0.3]), 1e-3, "float tangent of a running sum");
        var (mf, mfDot) = Returns.MomentsFPushforward(F(x), F(dx));
        Assert.Equal(Returns.MomentsF(F(x)), mf);
        GradCheck.AssertClose([mfDot.Mean, mfDot.Variance], Fd1(q => { var (a, b) = Returns.Moments(q); return [a, b]; }, x, dx), 1e-3, "float tangent of moments");

        var (p, pDot) = Returns.SoftmaxPushforward(x, dx);
        Assert.Equal(Returns.Softmax(x), p);
        GradCheck.AssertClose(pDot, Fd1(Returns.Softmax, x, dx), 1e-6, "tangent of softmax");

        var t = Data(6, 25, 0, 1);
        var (ce, ceDot) = Returns.CrossEntropyPushforward(x, dx, t, new double[6]);
        Assert.Equal(Returns.CrossEntropy(x, t), ce);
        GradCheck.AssertClose([ceDot], Fd1(q => [Returns.CrossEntropy(q, t)], x, dx), 1e-6, "tangent through a called softmax");

        var u = Data(3, 26);
        var v = Data(2, 27);
        var (m, mDot) = Returns.OuterPushforward(u, dx[..3], v, dx[3..5]);
        Assert.Equal(Flat(Returns.Outer(u, v)), Flat(m));
        GradCheck.AssertClose(Flat(mDot), Fd1(q => Flat(Returns.Outer(q[..3], q[3..])), [.. u, .. v], dx[..5]), 1e-6, "tangent of an outer product");

        var (mv, mvDot) = Returns.MomentsPushforward(x, dx);
        Assert.Equal(Returns.Moments(x), mv);
        GradCheck.AssertClose([mvDot.Mean, mvDot.Variance], Fd1(q => { var (a, b) = Returns.Moments(q); return [a, b]; }, x, dx), 1e-6, "tangent of moments");

        // A returned input: the tangent of the result is the input's tangent at return.
        var x2 = (double[])x.Clone();
        var dx2 = (double[])dx.Clone();
        var (s, sDot) = Returns.ScaleInPlacePushforward(x2, dx2, 1.3, 0.4);
        Assert.Same(x2, s);
        Assert.Equal(Returns.ScaleInPlace((double[])x.Clone(), 1.3), s);
        GradCheck.AssertClose(sDot, Fd1(q => Returns.ScaleInPlace(q[..6], q[6]), [.. x, 1.3], [.. dx, 0.4]), 1e-6, "tangent of a returned input");
    }
}
