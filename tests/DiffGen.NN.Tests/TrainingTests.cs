using DiffGen.NN;
using DiffGen.NN.Optim;
using DiffGen.Tensors;

namespace DiffGen.NN.Tests;

public class TrainingTests
{
    [Fact]
    public void Mlp_FitsSine_ToMseBelow1e3()
    {
        Init.Seed(1);
        int n = 128;
        var xs = new float[n];
        var ys = new float[n];
        for (int i = 0; i < n; i++) { xs[i] = (float)(-Math.PI + 2 * Math.PI * i / (n - 1)); ys[i] = MathF.Sin(xs[i]); }
        var x = Tensor.FromArray(xs, n, 1);
        var y = Tensor.FromArray(ys, n, 1);
        var net = new Sequential(new Linear(1, 32), new Tanh(), new Linear(32, 32), new Tanh(), new Linear(32, 1));
        var opt = new Adam(net.Parameters(), 1e-2);
        var schedule = new CosineSchedule(1e-2, 1500, 1e-4);
        double mse = 1;
        for (int it = 0; it < 1500; it++)
        {
            opt.Apply(schedule);
            opt.ZeroGrad();
            var loss = Losses.Mse(net.Forward(x), y);
            loss.Backward();
            opt.Step();
            mse = loss.Item();
        }
        Assert.True(mse < 1e-3, $"MSE {mse}");
    }

    [Fact]
    public void ConvNet_LearnsAFixedSmoothingKernel()
    {
        Init.Seed(2);
        var rnd = new Random(3);
        int batch = 8, len = 32;
        var data = new float[batch * len];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rnd.NextDouble() * 2 - 1);
        var x = Tensor.FromArray(data, batch, 1, len);
        // Target: periodic [0.25, 0.5, 0.25] smoothing.
        var kernel = Tensor.FromArray(new float[] { 0.25f, 0.5f, 0.25f }, 1, 1, 3);
        Tensor target;
        using (Autograd.NoGrad()) target = Tensor.Conv1d(x, kernel, null, 1, 1, PaddingMode.Periodic);
        var conv = new Conv1d(1, 1, 3, mode: PaddingMode.Periodic);
        var opt = new Adam(conv.Parameters(), 0.05);
        for (int it = 0; it < 400; it++)
        {
            opt.ZeroGrad();
            Losses.Mse(conv.Forward(x), target).Backward();
            opt.Step();
        }
        var w = conv.Weight.ToArray();
        Assert.Equal(0.25, w[0], 2);
        Assert.Equal(0.5, w[1], 2);
        Assert.Equal(0.25, w[2], 2);
        Assert.Equal(0, conv.Bias!.Item(), 2);
    }

    [Fact]
    public void ResBlock_And_Dropout_Behave()
    {
        Init.Seed(4);
        var block = new ResBlock(4, 3, PaddingMode.Periodic);
        var x = Tensor.Randn(5, 2, 4, 8, 8);
        var y = block.Forward(x);
        Assert.Equal(x.Shape, y.Shape);
        Assert.Equal(4, block.NamedParameters().Count());
        Assert.Equal(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"], block.NamedParameters().Select(p => p.Name));

        var drop = new Dropout(0.5, seed: 1);
        var ones = Tensor.Ones(1000);
        var d = drop.Forward(ones).ToArray();
        Assert.All(d, v => Assert.True(v == 0 || v == 2));
        Assert.InRange(d.Count(v => v == 0), 400, 600);
        drop.Eval();
        Assert.Equal(ones.ToArray(), drop.Forward(ones).ToArray());
    }

    [Fact]
    public void Losses_MatchTheirDefinitions()
    {
        var p = Tensor.FromArray(new float[] { 0f, 2f, -3f }, 3);
        var t = Tensor.FromArray(new float[] { 0.5f, 0f, 0f }, 3);
        Assert.Equal((0.25 + 4 + 9) / 3, Losses.Mse(p, t).Item(), 5);
        Assert.Equal((0.5 + 2 + 3) / 3.0, Losses.L1(p, t).Item(), 5);
        // Huber δ = 1: 0.5·0.25, 2 - 0.5, 3 - 0.5
        Assert.Equal((0.125 + 1.5 + 2.5) / 3, Losses.Huber(p, t).Item(), 5);
        Assert.Throws<ArgumentException>(() => Losses.Mse(p, Tensor.Zeros(2)));
    }
}
