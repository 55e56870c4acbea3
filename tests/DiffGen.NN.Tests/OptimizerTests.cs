using DiffGen.NN.Optim;
using DiffGen.Tensors;

namespace DiffGen.NN.Tests;

/// <summary>Optimizers against updates computed by hand (PyTorch's formulas) for two steps.</summary>
public class OptimizerTests
{
    private static Tensor Param(params float[] v)
    {
        var t = Tensor.FromArray(v, v.Length);
        t.RequiresGrad = true;
        return t;
    }

    private static void SetGrad(Tensor p, params float[] g) => p.Grad = Tensor.FromArray(g, g.Length);

    [Fact]
    public void Sgd_WithMomentumAndWeightDecay_TwoSteps()
    {
        var p = Param(1f, -2f);
        var opt = new Sgd([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01);
        SetGrad(p, 0.5f, 0.25f);
        opt.Step();
        // g = grad + wd p = [0.51, 0.23]; buf = g; p -= 0.1 buf
        double p0 = 1 - 0.1 * 0.51, p1 = -2 - 0.1 * 0.23;
        Assert.Equal(p0, p.ToArray()[0], 5);
        Assert.Equal(p1, p.ToArray()[1], 5);
        SetGrad(p, 0.5f, 0.25f);
        opt.Step();
        double g0 = 0.5 + 0.01 * p0, g1 = 0.25 + 0.01 * p1;
        double b0 = 0.9 * 0.51 + g0, b1 = 0.9 * 0.23 + g1;
        Assert.Equal(p0 - 0.1 * b0, p.ToArray()[0], 5);
        Assert.Equal(p1 - 0.1 * b1, p.ToArray()[1], 5);
    }

    [Fact]
    public void Sgd_Nesterov_TwoSteps()
    {
        var p = Param(1f);
        var opt = new Sgd([p], 0.1, momentum: 0.5, nesterov: true);
        SetGrad(p, 1f);
        opt.Step();
        // buf = 1; g = 1 + 0.5·1 = 1.5
        Assert.Equal(1 - 0.15, p.Item(), 6);
        SetGrad(p, 2f);
        opt.Step();
        // buf = 0.5·1 + 2 = 2.5; g = 2 + 0.5·2.5 = 3.25
        Assert.Equal(0.85 - 0.325, p.Item(), 6);
    }

    [Fact]
    public void Adam_TwoSteps()
    {
        var p = Param(1f);
        var opt = new Adam([p], 0.1);
        SetGrad(p, 0.5f);
        opt.Step();
        // m = 0.05, v = 0.00025; mhat = 0.5, vhat = 0.25 -> step 0.1·0.5/(0.5 + 1e-8)
        double x = 1 - 0.1 * 0.5 / (0.5 + 1e-8);
        Assert.Equal(x, p.Item(), 6);
        SetGrad(p, -1f);
        opt.Step();
        double m = 0.9 * 0.05 + 0.1 * -1, v = 0.999 * 0.00025 + 0.001 * 1;
        double mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999);
        Assert.Equal(x - 0.1 * mh / (Math.Sqrt(vh) + 1e-8), p.Item(), 5);
    }

    [Theory]
    [InlineData(1, 0.0, false)]
    [InlineData(19, 0.0, false)]    // vector body and a scalar tail
    [InlineData(37, 0.05, false)]   // L2 weight decay
    [InlineData(37, 0.05, true)]    // AdamW
    public void Adam_FusedUpdate_MatchesTheFormulas_OverSeveralSteps(int n, double wd, bool decoupled)
    {
        var r = new Random(n);
        var init = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() * 2 - 1).ToArray();
        var p = Param(init);
        Optimizer opt = decoupled ? new AdamW([p], 0.01, weightDecay: wd) : new Adam([p], 0.01, weightDecay: wd);
        var x = init.Select(v => (double)v).ToArray();
        var m = new double[n]; var v = new double[n];
        for (int step = 1; step <= 4; step++)
        {
            var g = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
            SetGrad(p, g);
            opt.Step();
            for (int i = 0; i < n; i++)
            {
                if (decoupled) x[i] *= 1 - 0.01 * wd;
                double gi = g[i] + (decoupled ? 0 : wd * x[i]);
                m[i] = 0.9 * m[i] + 0.1 * gi;
                v[i] = 0.999 * v[i] + 0.001 * gi * gi;
                x[i] -= 0.01 * (m[i] / (1 - Math.Pow(0.9, step))) / (Math.Sqrt(v[i] / (1 - Math.Pow(0.999, step))) + 1e-8);
            }
            var got = p.ToArray();
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(got[i] - x[i]) < 1e-5, $"step {step}, [{i}]: {got[i]} vs {x[i]}");
        }
    }

    [Fact]
    public void AdamW_DecouplesWeightDecay()
    {
        var a = Param(2f);
        var w = Param(2f);
        var adam = new Adam([a], 0.1, weightDecay: 0.1);
        var adamw = new AdamW([w], 0.1, weightDecay: 0.1);
        SetGrad(a, 1f);
        SetGrad(w, 1f);
        adam.Step();
        adamw.Step();
        // AdamW: p·(1 - lr wd) then the Adam step with the raw gradient (|step| = lr).
        Assert.Equal(2 * (1 - 0.01) - 0.1, w.Item(), 5);
        // Adam with L2: g = 1 + 0.1·2 = 1.2, first step still lr·sign.
        Assert.Equal(2 - 0.1, a.Item(), 5);
    }

    [Fact]
    public void Clipping_ByNormAndValue()
    {
        var p = Param(0f, 0f);
        SetGrad(p, 3f, 4f);
        Assert.Equal(5, Gradients.ClipNorm([p], 1), 5);
        Assert.Equal(1, Gradients.Norm([p]), 4);
        SetGrad(p, 3f, -4f);
        Gradients.ClipValue([p], 2);
        Assert.Equal([2f, -2f], p.Grad!.ToArray());
    }

    [Fact]
    public void Schedules_GiveTheDocumentedValues()
    {
        var step = new StepSchedule(1.0, 10, 0.5);
        Assert.Equal(1.0, step.LearningRate(9));
        Assert.Equal(0.5, step.LearningRate(10));
        Assert.Equal(0.25, step.LearningRate(25));
        var cos = new CosineSchedule(1.0, 100, 0.1);
        Assert.Equal(1.0, cos.LearningRate(0), 12);
        Assert.Equal(0.55, cos.LearningRate(50), 12);
        Assert.Equal(0.1, cos.LearningRate(100), 12);
        Assert.Equal(0.1, cos.LearningRate(500), 12);
        var warm = new WarmupSchedule(4, new ConstantSchedule(2.0));
        Assert.Equal([0.5, 1.0, 1.5, 2.0, 2.0], Enumerable.Range(0, 5).Select(warm.LearningRate));
        var p = Param(1f);
        var opt = new Sgd([p], 1.0);
        opt.Apply(step);
        Assert.Equal(1.0, opt.LearningRate);
    }

    [Fact]
    public void BadSettings_NameTheArgument()
    {
        var p = Param(1f);
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], -1)).ParamName);
        Assert.Equal("beta1", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], 0.1, beta1: 1.5)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new Adam([], 0.1)).ParamName);
    }
}
