namespace DiffGen.Generator.Tests.Objects;

/// <summary>A heat plate holding its grid in a private 2D field, sized with GetLength, and a weight vector iterated with foreach.</summary>
public partial class Plate
{
    private readonly double[,] _temperature;
    public double[] Weights = [0.5, -0.25, 1.5];
    public double Diffusivity;

    public Plate(double[,] temperature, double diffusivity)
    {
        _temperature = temperature;
        Diffusivity = diffusivity;
    }

    public double this[int i, int j] => _temperature[i, j];

    /// <summary>One explicit step on the interior, then the mean square temperature.</summary>
    [Differentiable]
    public double StepEnergy(double dt)
    {
        int rows = _temperature.GetLength(0);
        int cols = _temperature.GetLength(1);
        double energy = 0;
        for (int i = 1; i < rows - 1; i++)
            for (int j = 1; j < cols - 1; j++)
            {
                double lap = _temperature[i - 1, j] + _temperature[i + 1, j] + _temperature[i, j - 1] + _temperature[i, j + 1] - 4 * _temperature[i, j];
                double next = _temperature[i, j] + dt * Diffusivity * lap;
                energy += next * next;
            }
        return energy / (rows * cols);
    }

    /// <summary>foreach over an array field.</summary>
    [Differentiable]
    public double WeightNorm(double scale)
    {
        double s = 0;
        foreach (var w in Weights) s += scale * w * w;
        return s;
    }
}

public class FieldArrayTests
{
    private static double[,] Grid(double[] p)
    {
        var g = new double[3, 4];
        for (int k = 0; k < 12; k++) g[k / 4, k % 4] = p[k];
        return g;
    }

    [Fact]
    public void GetLengthOfA2DField_AndForeachOverAnArrayField()
    {
        double[] at = [.. Enumerable.Range(0, 12).Select(k => Math.Sin(0.7 * k) + 1.0), 0.3, 0.1];
        double L(double[] p) => new Plate(Grid(p), p[12]).StepEnergy(p[13]);
        var plate = new Plate(Grid(at), at[12]);
        var bar = plate.CreateShadow();
        double dtBar = 0;
        double e = plate.StepEnergyPullback(at[13], 1.0, bar, ref dtBar);
        Assert.Equal(L(at), e);
        var tBar = new double[12];
        for (int k = 0; k < 12; k++) tBar[k] = bar[k / 4, k % 4];
        GradCheck.AssertClose([.. tBar, bar.Diffusivity, dtBar], GradCheck.FiniteDifferenceGradient(L, at));

        double W(double[] p) => new Plate(new double[1, 1], 0) { Weights = p[..3] }.WeightNorm(p[3]);
        double[] w = [0.5, -0.25, 1.5, 2.0];
        var wp = new Plate(new double[1, 1], 0) { Weights = w[..3] };
        var wBar = wp.CreateShadow();
        double sBar = 0;
        wp.WeightNormPullback(2.0, 1.0, wBar, ref sBar);
        GradCheck.AssertClose([.. wBar.Weights, sBar], GradCheck.FiniteDifferenceGradient(W, w));
    }
}
