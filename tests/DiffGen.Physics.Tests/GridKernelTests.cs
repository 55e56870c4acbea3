using DiffGen.Physics;

namespace DiffGen.Physics.Tests;

/// <summary>
/// The field layer (kernels on grid values) computes exactly what the span kernels underneath compute with the
/// grid's sizes, spacings and boundary codes, forward and backward (the grid is a constant to the derivative).
/// </summary>
public class GridKernelTests
{
    private static double[] Wave(int n, double a, double b) => [.. Enumerable.Range(0, n).Select(k => a * Math.Sin(b * k + 0.3) + 0.05 * Math.Cos(1.7 * k))];

    [Fact]
    public void MacCormackOnAGridIsTheSpanKernel()
    {
        var g = new StaggeredGrid2D(7, 6, 3.5, 2.4, new Boundary2D(BoundaryKind.Zero, BoundaryKind.ZeroGradient, BoundaryKind.Periodic, BoundaryKind.Periodic));
        var qb = g.Boundary.Scalar;
        double[] q = Wave(g.Cells.Count, 1, 0.7), u = Wave(g.UCount, 0.3, 0.4), v = Wave(g.VCount, 0.2, 0.9), seed = Wave(g.Cells.Count, 1, 1.1);
        double[] a = new double[q.Length], b = new double[q.Length];
        Advect2D.MacCormack(q, u, v, a, g, qb, 0.4);
        Advection.MacCormackScalar2D(q, u, v, b, g.Nx, g.Ny, g.Dx, g.Dy, 0.4, qb.XLoCode, qb.XHiCode, qb.YLoCode, qb.YHiCode, g.Boundary.XLoCode, g.Boundary.XHiCode, g.Boundary.YLoCode, g.Boundary.YHiCode);
        Assert.Equal(b, a);
        double[] qa = new double[q.Length], ua = new double[u.Length], va = new double[v.Length];
        double[] qc = new double[q.Length], uc = new double[u.Length], vc = new double[v.Length];
        double dta = 0, dtc = 0, dxBar = 0, dyBar = 0;
        Advect2D.MacCormackPullback(q, u, v, a, g, qb, 0.4, qa, ua, va, (double[])seed.Clone(), ref dta);
        Advection.MacCormackScalar2DPullback(q, u, v, b, g.Nx, g.Ny, g.Dx, g.Dy, 0.4, qb.XLoCode, qb.XHiCode, qb.YLoCode, qb.YHiCode, g.Boundary.XLoCode, g.Boundary.XHiCode, g.Boundary.YLoCode, g.Boundary.YHiCode,
            qc, uc, vc, (double[])seed.Clone(), ref dxBar, ref dyBar, ref dtc);
        Assert.Equal(qc, qa);
        Assert.Equal(uc, ua);
        Assert.Equal(vc, va);
        Assert.Equal(dtc, dta);
    }

    [Fact]
    public void DiffusionAndProjectionOnGridsAreTheSpanKernels()
    {
        var g1 = new Grid1D(20, -1, 1, Boundary1D.All(BoundaryKind.Zero));
        double[] q = Wave(20, 1, 0.5), a = new double[20], b = new double[20];
        Diffuse1D.Explicit(q, a, g1, 0.01, 0.02, 3);
        Diffusion.Explicit1D(q, b, 0.01, 0.02, g1.Dx, 3, Bc.Zero, Bc.Zero);
        Assert.Equal(b, a);

        var g = new StaggeredGrid2D(9, 8, 9, 8, new Boundary2D(BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.ZeroGradient));
        var solid = g.Cells.DiscMask(4.5, 4, 1.5);
        double[] u = Wave(g.UCount, 0.5, 0.3), v = Wave(g.VCount, 0.5, 0.8);
        double[] u1 = new double[u.Length], v1 = new double[v.Length], p1 = new double[g.Cells.Count];
        double[] u2 = new double[u.Length], v2 = new double[v.Length], p2 = new double[g.Cells.Count];
        Fluid2D.Project(u, v, u1, v1, p1, solid, g, 1e-9, 500);
        Pressure.Project(u, v, u2, v2, p2, solid, g.Nx, g.Ny, g.Dx, g.Dy, Bc.Zero, Bc.Zero, Bc.Zero, Bc.ZeroGradient, 1e-9, 500);
        Assert.Equal(u2, u1);
        Assert.Equal(v2, v1);
        Assert.Equal(p2, p1);
        double[] ub1 = new double[u.Length], vb1 = new double[v.Length], ub2 = new double[u.Length], vb2 = new double[v.Length];
        Fluid2D.ProjectPullback(u, v, u1, v1, p1, solid, g, 1e-9, 500, ub1, vb1, Wave(u.Length, 1, 0.2), Wave(v.Length, 1, 0.6), new double[p1.Length]);
        Pressure.ProjectPullback(u, v, u2, v2, p2, solid, g.Nx, g.Ny, g.Dx, g.Dy, Bc.Zero, Bc.Zero, Bc.Zero, Bc.ZeroGradient, 1e-9, 500,
            ub2, vb2, Wave(u.Length, 1, 0.2), Wave(v.Length, 1, 0.6), new double[p1.Length]);
        Assert.Equal(ub2, ub1);
        Assert.Equal(vb2, vb1);
    }
}
