using DiffGen.Physics;

namespace DiffGen.Physics.Tests;

/// <summary>The field types (a grid and its data): construction, sampling, norms.</summary>
public class FieldTests
{
    [Fact]
    public void CenteredFieldsSampleLinearFunctionsExactlyAndMeasureNorms()
    {
        var g2 = new Grid2D(16, 12, 2, 3, Boundary2D.Open);
        var f2 = CenteredField2D.FromFunction(g2, (x, y) => 1 + 2 * x - 3 * y);
        Assert.Equal(1 + 2 * 0.7 - 3 * 1.3, f2.Sample(0.7, 1.3), 12);
        // sin(2 pi x) on a periodic unit square: L2 norm sqrt(1/2), mean 0, max |f| close to 1.
        var s2 = CenteredField2D.FromFunction(new Grid2D(64, 32, 1, 1), (x, y) => Math.Sin(2 * Math.PI * x));
        Assert.Equal(Math.Sqrt(0.5), s2.L2Norm(), 10);
        Assert.Equal(0, s2.Mean(), 12);
        Assert.InRange(s2.MaxAbs(), 0.99, 1.0);
        var g3 = new Grid3D(8, 6, 4, 1, 2, 3, Boundary3D.Open);
        var f3 = CenteredField3D.FromFunction(g3, (x, y, z) => x - 2 * y + 0.5 * z);
        Assert.Equal(0.4 - 2 * 1.1 + 0.5 * 1.7, f3.Sample(0.4, 1.1, 1.7), 12);
        Assert.Equal(Math.Sqrt(6.0 * 4 * 4), CenteredField3D.FromFunction(g3, (x, y, z) => 4).L2Norm(), 10);
        var f1 = CenteredField1D.FromFunction(new Grid1D(40, -1, 1, Boundary1D.All(BoundaryKind.ZeroGradient)), x => 3 * x);
        Assert.Equal(3 * 0.33, f1.Sample(0.33), 12);
        var c = f1.Clone();
        c.Values[0] = 99;
        Assert.NotEqual(99, f1.Values[0]);
    }

    [Fact]
    public void StaggeredFieldsMeasureDivergenceAndEnergy()
    {
        var g = new StaggeredGrid2D(32, 32, 2 * Math.PI, 2 * Math.PI);
        var tg = StaggeredField2D.FromFunction(g, (x, y) => Math.Sin(x) * Math.Cos(y), (x, y) => -Math.Cos(x) * Math.Sin(y));
        Assert.True(tg.Divergence().MaxAbs() < 1e-12);
        // Energy of the Taylor-Green field on [0, 2 pi)²: (1/2) (pi² + pi²) (its seam faces hold zeros).
        Assert.Equal(Math.PI * Math.PI, tg.KineticEnergy(), 10);
        var g3 = new StaggeredGrid3D(6, 5, 4, 6, 5, 4, Boundary3D.Closed);
        var f3 = StaggeredField3D.FromFunction(g3, (x, y, z) => x, (x, y, z) => -y, (x, y, z) => 0);
        Assert.True(f3.Divergence().MaxAbs() < 1e-12);
        Assert.Equal(6, f3.MaxAbs(), 12);
        // A magnitude, not the signed extreme (TensorPrimitives.MaxMagnitude's result, which these once returned).
        Assert.Equal(10, StaggeredField3D.FromFunction(g3, (x, y, z) => x, (x, y, z) => -2 * y, (x, y, z) => 0).MaxAbs(), 12);
        Assert.Equal(7, CenteredField1D.FromFunction(new Grid1D(9, 0, 1), x => -7).MaxAbs(), 12);
        Assert.Equal("v", Assert.Throws<ArgumentException>(() => new StaggeredField2D(g, null, new double[3])).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => new CenteredField3D(g3.Cells, new double[7])).ParamName);
        Assert.Equal("grid", Assert.Throws<ArgumentException>(() => new CenteredField2D(default, new double[4])).ParamName);
    }
}
