namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// List&lt;double&gt; and List&lt;float&gt; parameters and fields against finite differences. The adjoint of a list
/// is a list of the same count with shadow semantics, like an array's: on entry the adjoint of the contents
/// the method leaves, on exit of the contents it found.
/// </summary>
public class ListTests
{
    private static readonly double[] Samples = [0.3, -1.2, 2.5, 0.8, -0.4, 1.7];
    private static readonly double[] Weights = [0.5, -1.5, 0.25, 2.0, -0.75, 1.0];

    private static List<float> ToFloat(IEnumerable<double> xs) => xs.Select(x => (float)x).ToList();

    private static double[] ToDouble(List<float> xs) => xs.Select(x => (double)x).ToArray();

    [Fact]
    public void Variance_ReadOnlyListParameter()
    {
        var bar = new List<double>(new double[Samples.Length]);
        double v = ListKernels.VariancePullback([.. Samples], 1.0, bar);
        Assert.Equal(ListKernels.Variance([.. Samples]), v);
        var fd = GradCheck.FiniteDifferenceGradient(p => ListKernels.Variance([.. p]), Samples);
        GradCheck.AssertClose([.. bar], fd);

        var (value, tangent) = ListKernels.VariancePushforward([.. Samples], [.. Weights]);
        Assert.Equal(v, value);
        GradCheck.AssertClose([tangent], [fd.Zip(Weights, (g, w) => g * w).Sum()], 1e-6, "tangent");

        var barF = new List<float>(new float[Samples.Length]);
        ListKernels.VarianceFPullback(ToFloat(Samples), 1f, barF);
        GradCheck.AssertClose(ToDouble(barF), fd, 1e-3, "float gradient");
    }

    [Fact]
    public void Softmax_ListUpdatedInPlace()
    {
        const double temperature = 0.8;
        double L(double[] p)
        {
            var l = new List<double>(p[..^1]);
            ListKernels.Softmax(l, p[^1]);
            return l.Zip(Weights, (x, w) => x * w).Sum();
        }
        double[] at = [.. Samples, temperature];
        var fd = GradCheck.FiniteDifferenceGradient(L, at);

        var logits = new List<double>(Samples);
        var bar = new List<double>(Weights);
        double tBar = 0;
        ListKernels.SoftmaxPullback(logits, temperature, bar, ref tBar);
        var expected = new List<double>(Samples);
        ListKernels.Softmax(expected, temperature);
        Assert.Equal(expected, logits);
        GradCheck.AssertClose([.. bar, tBar], fd);

        var logitsF = ToFloat(Samples);
        var barF = ToFloat(Weights);
        float tBarF = 0;
        ListKernels.SoftmaxFPullback(logitsF, (float)temperature, barF, ref tBarF);
        GradCheck.AssertClose([.. ToDouble(barF), tBarF], fd, 1e-3, "float gradient");
    }

    [Fact]
    public void Dot_ListAndArray_AndACallPassingTheList()
    {
        var wBar = new List<double>(new double[Samples.Length]);
        var xBar = new double[Samples.Length];
        ListKernels.DotPullback([.. Weights], Samples, 1.0, wBar, xBar);
        GradCheck.AssertClose([.. wBar, .. xBar], [.. Samples, .. Weights]);

        var sBar = new List<double>(new double[Samples.Length]);
        ListKernels.StandardDeviationPullback([.. Samples], 1.0, sBar);
        GradCheck.AssertClose([.. sBar], GradCheck.FiniteDifferenceGradient(p => ListKernels.StandardDeviation([.. p]), Samples));
    }

    [Fact]
    public void AdjointOfTheWrongCount_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => ListKernels.VariancePullback([.. Samples], 1.0, [1.0, 2.0]));
        Assert.Equal("samplesBar", ex.ParamName);
    }

    private static readonly double[] Coefficients = [0.7, -0.3, 1.1, 0.45, -0.8];

    [Fact]
    public void ListField_Evaluate_AndSmoothInPlace()
    {
        const double x = 0.85;
        double Eval(double[] p) { var q = new Polynomial(); q.Coefficients.AddRange(p[..^1]); return q.Evaluate(p[^1]); }
        var poly = new Polynomial();
        poly.Coefficients.AddRange(Coefficients);
        var bar = poly.CreateShadow();
        Assert.Equal(Coefficients.Length, bar.Coefficients.Count);
        double xBar = 0;
        poly.EvaluatePullback(x, 1.0, bar, ref xBar);
        var fd = GradCheck.FiniteDifferenceGradient(Eval, [.. Coefficients, x]);
        GradCheck.AssertClose([.. bar.Coefficients, xBar], fd);

        // Smooth: L = w . coefficients after, in (coefficients, decay).
        double SmoothLoss(double[] p)
        {
            var q = new Polynomial { Decay = p[^1] };
            q.Coefficients.AddRange(p[..^1]);
            q.Smooth();
            return q.Coefficients.Zip(Weights, (c, w) => c * w).Sum();
        }
        const double decay = 0.6;
        double[] at = [.. Coefficients, decay];
        var sfd = GradCheck.FiniteDifferenceGradient(SmoothLoss, at);
        var s = new Polynomial { Decay = decay };
        s.Coefficients.AddRange(Coefficients);
        var sBar = s.CreateShadow();
        for (int i = 0; i < Coefficients.Length; i++) sBar.Coefficients[i] = Weights[i];
        s.SmoothPullback(sBar);
        GradCheck.AssertClose([.. sBar.Coefficients, sBar.Decay], sfd);

        var f = new PolynomialF { Decay = (float)decay };
        f.Coefficients.AddRange(ToFloat(Coefficients));
        var fBar = f.CreateShadow();
        for (int i = 0; i < Coefficients.Length; i++) fBar.Coefficients[i] = (float)Weights[i];
        f.SmoothPullback(fBar);
        GradCheck.AssertClose([.. ToDouble(fBar.Coefficients), fBar.Decay], sfd, 1e-3, "float gradient");

        var e = new PolynomialF();
        e.Coefficients.AddRange(ToFloat(Coefficients));
        var eBar = e.CreateShadow();
        float xBarF = 0;
        e.EvaluatePullback((float)x, 1f, eBar, ref xBarF);
        GradCheck.AssertClose([.. ToDouble(eBar.Coefficients), xBarF], fd, 1e-3, "float gradient");
    }

    [Fact]
    public void ListField_Pushforward()
    {
        var poly = new Polynomial { Decay = 0.6 };
        poly.Coefficients.AddRange(Coefficients);
        var dot = poly.CreateShadow();
        dot.Coefficients[2] = 1.0;
        dot.Decay = 1.0;
        poly.SmoothPushforward(dot);
        double[] Smoothed(double[] p)
        {
            var q = new Polynomial { Decay = p[^1] };
            q.Coefficients.AddRange(p[..^1]);
            q.Smooth();
            return [.. q.Coefficients];
        }
        double[] dir = new double[Coefficients.Length + 1];
        dir[2] = 1; dir[^1] = 1;
        var fd = GradCheck.FiniteDifferenceDirectional(Smoothed, [.. Coefficients, 0.6], dir);
        GradCheck.AssertClose([.. dot.Coefficients], fd, 1e-6, "tangent");
    }
}
