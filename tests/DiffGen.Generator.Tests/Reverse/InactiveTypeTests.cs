namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Values of [NoDiff] types (a grid struct, its boundary record, an enum, a string, an options class)
/// pass through [Differentiable] methods as inactive parameters: gradients against finite differences.
/// </summary>
public class InactiveTypeTests
{
    private static readonly double[] U = [0.3, -1.2, 2.5, 0.7, 1.1];

    public static TheoryData<Edge, Edge> SideCombinations => new()
    {
        { Edge.Periodic, Edge.Periodic },
        { Edge.Zero, Edge.Zero },
        { Edge.Zero, Edge.Clamp },
        { Edge.Clamp, Edge.Zero },
    };

    private static double Loss(ReadOnlySpan<double> r)
    {
        double s = 0;
        for (int i = 0; i < r.Length; i++) s += (i + 1) * r[i] * r[i];
        return s;
    }

    private static double[] LossGradient(ReadOnlySpan<double> r)
    {
        var g = new double[r.Length];
        for (int i = 0; i < r.Length; i++) g[i] = 2 * (i + 1) * r[i];
        return g;
    }

    [Theory]
    [MemberData(nameof(SideCombinations))]
    public void GridStruct_MembersAndMethods(Edge lo, Edge hi)
    {
        var grid = new Grid1(U.Length, 0.4, new Sides(lo, hi));
        double Primal(double[] u, double nu) { var r = new double[u.Length]; InactiveTypeKernels.Diffuse(u, r, grid, nu); return Loss(r); }
        var result = new double[U.Length];
        InactiveTypeKernels.Diffuse(U, result, grid, 0.07);
        var rBar = LossGradient(result);
        var uBar = new double[U.Length];
        double nuBar = 0;
        InactiveTypeKernels.DiffusePullback(U, result, grid, 0.07, uBar, rBar, ref nuBar);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(u => Primal(u, 0.07), U), 1e-6, "dL/du");
        GradCheck.AssertClose([nuBar], GradCheck.FiniteDifferenceGradient(v => Primal(U, v[0]), [0.07]), 1e-6, "dL/dnu");

        // Forward mode: the tangent of the loss along (uDot, nuDot) against the same gradient.
        var uDot = new double[] { 0.5, -0.1, 0.2, 0.9, -0.4 };
        var rDot = new double[U.Length];
        InactiveTypeKernels.DiffusePushforward(U, uDot, result, rDot, grid, 0.07, 0.3);
        double tangent = 0;
        for (int i = 0; i < U.Length; i++) tangent += LossGradient(result)[i] * rDot[i];
        double expected = 0.3 * nuBar;
        for (int i = 0; i < U.Length; i++) expected += uBar[i] * uDot[i];
        GradCheck.AssertClose([tangent], [expected], 1e-10, "tangent");
    }

    [Theory]
    [InlineData(Edge.Periodic)]
    [InlineData(Edge.Zero)]
    [InlineData(Edge.Clamp)]
    public void EnumAndStringParameters_AreInactive(Edge mode)
    {
        var uBar = new double[U.Length];
        double scaleBar = 0;
        double y = InactiveTypeKernels.WeightedPullback(U, mode, "run", 1.7, 1.0, uBar, ref scaleBar);
        Assert.Equal(InactiveTypeKernels.Weighted(U, mode, "run", 1.7), y);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(u => InactiveTypeKernels.Weighted(u, mode, "run", 1.7), U));
        GradCheck.AssertClose([scaleBar], GradCheck.FiniteDifferenceGradient(s => InactiveTypeKernels.Weighted(U, mode, "run", s[0]), [1.7]));
    }

    [Theory]
    [MemberData(nameof(SideCombinations))]
    public void GridPassedToSplitCallees(Edge lo, Edge hi)
    {
        var grid = new Grid1(U.Length, 0.5, new Sides(lo, hi));
        double Primal(double[] u, double nu)
        {
            var t = new double[u.Length]; var r = new double[u.Length];
            InactiveTypeKernels.TwoSteps(u, t, r, grid, nu);
            return Loss(r);
        }
        var tmp = new double[U.Length];
        var result = new double[U.Length];
        InactiveTypeKernels.TwoSteps(U, tmp, result, grid, 0.05);
        var uBar = new double[U.Length];
        var tmpBar = new double[U.Length];
        double nuBar = 0;
        InactiveTypeKernels.TwoStepsPullback(U, tmp, result, grid, 0.05, uBar, tmpBar, LossGradient(result), ref nuBar);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(u => Primal(u, 0.05), U), 1e-6, "dL/du");
        GradCheck.AssertClose([nuBar], GradCheck.FiniteDifferenceGradient(v => Primal(U, v[0]), [0.05]), 1e-6, "dL/dnu");
    }

    [Theory]
    [MemberData(nameof(SideCombinations))]
    public void GridPassedToJointCalleeInALoop(Edge lo, Edge hi)
    {
        var grid = new Grid1(U.Length, 0.5, new Sides(lo, hi));
        var uBar = new double[U.Length];
        double shiftBar = 0;
        double y = InactiveTypeKernels.SampleAllPullback(U, grid, 0.13, 1.0, uBar, ref shiftBar);
        Assert.Equal(InactiveTypeKernels.SampleAll(U, grid, 0.13), y);
        GradCheck.AssertClose(uBar, GradCheck.FiniteDifferenceGradient(u => InactiveTypeKernels.SampleAll(u, grid, 0.13), U));
        // On a periodic grid the sum of a shifted sample is shift-invariant: the derivative is 0 and FD
        // returns rounding noise, so the comparison is scaled by the loss (floor), not by the noise.
        GradCheck.AssertClose([shiftBar], GradCheck.FiniteDifferenceGradient(s => InactiveTypeKernels.SampleAll(U, grid, s[0]), [0.13]), 1e-6, "dL/dshift", floor: 1e-3);
    }

    [Fact]
    public void NoDiffClassParameter_AndStaticPropertyOfInactiveType()
    {
        var options = new SolverOptions { Substeps = 3 };
        double xBar = 0;
        double y = InactiveTypeKernels.RepeatPullback(0.8, options, 1.0, ref xBar);
        Assert.Equal(InactiveTypeKernels.Repeat(0.8, options), y);
        GradCheck.AssertClose([xBar], GradCheck.FiniteDifferenceGradient(x => InactiveTypeKernels.Repeat(x[0], options), [0.8]));
        var (value, tangent) = InactiveTypeKernels.RepeatPushforward(0.8, 1.0, options);
        Assert.Equal(y, value);
        GradCheck.AssertClose([tangent], [xBar], 1e-12);
    }

    [Fact]
    public void DualAndVectorModes_AreGeneratedForMethodsWithInactiveTypes()
    {
        // Second order through the grid kernel: H·v of the sample sum w.r.t. shift, against FD of the gradient.
        var grid = new Grid1(U.Length, 0.5, new Sides(Edge.Periodic, Edge.Periodic));
        var uBar = new Dual[U.Length];
        var uD = U.Select(x => new Dual(x, 0)).ToArray();
        Dual shiftBar = default;
        InactiveTypeKernels.SampleAllPullbackDual(uD, grid, new Dual(0.13, 1), new Dual(1, 0), uBar, ref shiftBar);
        double Grad(double s) { var ub = new double[U.Length]; double sb = 0; InactiveTypeKernels.SampleAllPullback(U, grid, s, 1.0, ub, ref sb); return ub.Sum(); }
        double fd = (Grad(0.13 + 1e-6) - Grad(0.13 - 1e-6)) / 2e-6;
        GradCheck.AssertClose([uBar.Sum(d => d.Tangent)], [fd], 1e-5, "d/dshift of sum(dL/du)");

        var dots = new double[2 * U.Length];
        for (int i = 0; i < U.Length; i++) { dots[2 * i] = 1; dots[2 * i + 1] = i; }
        var tangents = new double[2];
        InactiveTypeKernels.SampleAllPushforwardVector(2, U, dots, grid, 0.13, [0.0, 0.0], tangents);
        var g = new double[U.Length];
        double unused = 0;
        InactiveTypeKernels.SampleAllPullback(U, grid, 0.13, 1.0, g, ref unused);
        GradCheck.AssertClose(tangents, [g.Sum(), g.Select((x, i) => x * i).Sum()], 1e-12, "two tangents");
    }
}
