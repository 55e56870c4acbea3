using DiffGen;
using DiffGen.Physics;

double[] dye0 = DyeModel.Blob(0.3, 0.5), grad = new double[dye0.Length], scratch = new double[dye0.Length];
double loss = DyeModel.Loss(dye0, 1e-3, grad, out double kappaBar), fdKappa = (DyeModel.Loss(dye0, 1.001e-3, scratch, out _) - DyeModel.Loss(dye0, 0.999e-3, scratch, out _)) / 2e-6;
GradCheck.AssertClose(grad, GradCheck.FiniteDifferenceGradient(d => DyeModel.Loss(d, 1e-3, scratch, out _), dye0, 1e-2), 1e-6, "dL/ddye0", 1e-6 * grad.Max(Math.Abs));
GradCheck.AssertClose([kappaBar], [fdKappa], 1e-6, "dL/dkappa");
Console.WriteLine(FormattableString.Invariant($"loss {loss:F6}, dL/dkappa {kappaBar:F4} (finite differences {fdKappa:F4}): gradients agree to 1e-6"));

// A new model from the public API: dye carried by a rotating flow and diffused.
public static partial class DyeModel
{
    [Differentiable]
    public static void Step(ReadOnlySpan<double> dye, ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> next, StaggeredGrid2D grid, double kappa, [NoDiff] double dt)
    {
        double[] carried = new double[dye.Length];
        Advect2D.SemiLagrangian(dye, u, v, carried, grid, grid.Boundary.Scalar, dt);
        Diffuse2D.Explicit(carried, next, grid.Cells.WithBoundary(grid.Boundary.Scalar), kappa, dt, 1);
    }

    static readonly StaggeredGrid2D Grid = new(16, 16, 1, 1, Boundary2D.Closed);
    static readonly StaggeredField2D Flow = StaggeredField2D.FromFunction(Grid, (x, y) => 0.5 - y, (x, y) => x - 0.5);
    public static double[] Blob(double cx, double cy) => Grid.Cells.Evaluate((x, y) => Math.Exp(-40 * ((x - cx) * (x - cx) + (y - cy) * (y - cy))));

    // Returns L = Σ (dye after 10 steps − a blob at (0.5, 0.3))², adds dL/ddye0 to dye0Bar, sets kappaBar = dL/dkappa.
    public static double Loss(double[] dye0, double kappa, double[] dye0Bar, out double kappaBar)
    {
        double[][] s = [dye0, .. Enumerable.Range(0, 10).Select(_ => new double[dye0.Length])];
        for (int k = 0; k < 10; k++) Step(s[k], Flow.U, Flow.V, s[k + 1], Grid, kappa, 0.05);
        var bar = s[10].Zip(Blob(0.5, 0.3), (a, b) => 2 * (a - b)).ToArray();
        kappaBar = 0;
        for (int k = 9; k >= 0; k--) // the step's generated pullback, last step first: bar is the seed, prev gets dL/ds[k]
        {
            var prev = k == 0 ? dye0Bar : new double[bar.Length];
            StepPullback(s[k], Flow.U, Flow.V, new double[bar.Length], Grid, kappa, 0.05, prev, new double[Flow.U.Length], new double[Flow.V.Length], bar, ref kappaBar);
            bar = prev;
        }
        return s[10].Zip(Blob(0.5, 0.3), (a, b) => (a - b) * (a - b)).Sum();
    }
}
