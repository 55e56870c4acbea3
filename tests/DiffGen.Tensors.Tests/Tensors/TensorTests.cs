using DiffGen.Tensors;

namespace DiffGen.Tensors.Tests.Tensors;

/// <summary>Forward values, shapes, errors and tape behaviour.</summary>
public class TensorTests
{
    private static float[] NaiveMatMul(float[] a, float[] b, int m, int n, int k, bool ta, bool tb)
    {
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = (float)s;
            }
        return c;
    }

    [Theory]
    [InlineData(3, 5, 2)]
    [InlineData(37, 53, 29)]
    [InlineData(130, 70, 90)]
    [InlineData(64, 256, 64)]
    public void Gemm_MatchesNaive_ForAllTransposes(int m, int n, int k)
    {
        var rnd = new Random(m * 1000 + n);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var c = new float[m * n];
            Gemm.Multiply(a, b, c, m, n, k, ta, tb, accumulate: false);
            var expect = NaiveMatMul(a, b, m, n, k, ta, tb);
            for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c[i] - expect[i]) < 1e-4, $"ta={ta} tb={tb} [{i}]: {c[i]} vs {expect[i]}");
            Gemm.Multiply(a, b, c, m, n, k, ta, tb, accumulate: true);
            for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c[i] - 2 * expect[i]) < 2e-4, $"accumulate ta={ta} tb={tb} [{i}]");
        }
    }

    [Fact]
    public void Factories_AndAccessors()
    {
        var t = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal(2, t.Rank);
        Assert.Equal(6, t.Length);
        Assert.Same(Device.Cpu, t.Device);
        Assert.Equal(6f, t.Data[5]);
        Assert.Equal(21f, t.Sum().Item());
        Assert.Equal([0f, 0f], Tensor.Zeros(2).ToArray());
        Assert.Equal([1f, 1f], Tensor.Ones(2).ToArray());
        Assert.Equal([7f], Tensor.Full(7f, 1).ToArray());
        Assert.Equal([0f, 1f, 2f], Tensor.Arange(3).ToArray());
        Assert.Equal(Tensor.Randn(3, 4).ToArray(), Tensor.Randn(3, 4).ToArray());
        var r = Tensor.Randn(1, 10000).ToArray();
        Assert.InRange(r.Average(), -0.05, 0.05);
        Assert.InRange(r.Select(v => v * v).Average(), 0.95, 1.05);
    }

    [Fact]
    public void BadInput_GivesClearErrors()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f], 3));
        Assert.Equal("data", ex.ParamName);
        Assert.Contains("cannot be broadcast", Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3) + Tensor.Zeros(4)).Message);
        Assert.Contains("inner dimensions", Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Zeros(2, 3), Tensor.Zeros(2, 3))).Message);
        Assert.Contains("Backward() starts from a scalar", Assert.Throws<InvalidOperationException>(() =>
        {
            var x = Tensor.Zeros(3); x.RequiresGrad = true; (x * 2f).Backward();
        }).Message);
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(6).Reshape(4, -1));
        Assert.Throws<InvalidOperationException>(() => Tensor.Zeros(2).Item());
    }

    [Fact]
    public void ForwardValues()
    {
        var x = Tensor.FromArray([-1f, 0f, 2f], 3);
        Assert.Equal([0f, 0f, 2f], x.Relu().ToArray());
        Assert.Equal([-0.1f, 0f, 2f], x.LeakyRelu(0.1f).ToArray());
        // PyTorch: torch.nn.functional.gelu(torch.tensor([-1., 0., 2.])) = [-0.1587, 0.0000, 1.9545]
        var g = x.Gelu().ToArray();
        Assert.Equal(-0.158655f, g[0], 4);
        Assert.Equal(1.954500f, g[2], 4);
        Assert.Equal(MathF.Log(1 + MathF.Exp(2f)), x.Softplus().ToArray()[2], 5);
        var m = Tensor.FromArray([1f, 5f, 3f, 4f, 2f, 6f], 2, 3);
        Assert.Equal([5f, 6f], m.Max(1).ToArray());
        Assert.Equal([4f, 5f, 6f], m.Max(0).ToArray());
        Assert.Equal([1f, 4f, 5f, 2f, 3f, 6f], m.Transpose().ToArray());
        Assert.Equal([2.5f, 3.5f, 4.5f], m.Mean(0).ToArray());
        Assert.Equal([5f, 3f, 2f, 6f], m.Slice(1, 1, 2).ToArray());
        // PyTorch: F.interpolate([[[1., 2.]]], scale_factor=2, mode='linear') = [1.00, 1.25, 1.75, 2.00]
        Assert.Equal([1f, 1.25f, 1.75f, 2f], Tensor.UpsampleLinear(Tensor.FromArray([1f, 2f], 1, 1, 2), 2).ToArray());
        Assert.Equal([1f, 1f, 2f, 2f], Tensor.UpsampleNearest(Tensor.FromArray([1f, 2f], 1, 1, 2), 2).ToArray());
        Assert.Equal([1.5f, 3.5f], Tensor.AvgPool1d(Tensor.FromArray([1f, 2f, 3f, 4f], 1, 1, 4), 2).ToArray());
    }

    [Fact]
    public void Conv2d_MatchesDirectLoop()
    {
        var x = Tensor.Randn(1, 2, 3, 6, 7);
        var w = Tensor.Randn(2, 4, 3, 3, 3);
        var b = Tensor.Randn(3, 4);
        foreach (var mode in new[] { PaddingMode.Zeros, PaddingMode.Periodic, PaddingMode.Edge })
        {
            var y = Tensor.Conv2d(x, w, b, stride: 1, padding: 1, mode: mode).ToArray();
            var xd = x.ToArray(); var wd = w.ToArray(); var bd = b.ToArray();
            int idx = 0;
            for (int n = 0; n < 2; n++)
                for (int o = 0; o < 4; o++)
                    for (int i = 0; i < 6; i++)
                        for (int j = 0; j < 7; j++)
                        {
                            double s = bd[o];
                            for (int c = 0; c < 3; c++)
                                for (int ki = 0; ki < 3; ki++)
                                    for (int kj = 0; kj < 3; kj++)
                                    {
                                        int ii = i - 1 + ki, jj = j - 1 + kj;
                                        if (mode == PaddingMode.Zeros && (ii < 0 || ii >= 6 || jj < 0 || jj >= 7)) continue;
                                        if (mode == PaddingMode.Periodic) { ii = (ii + 6) % 6; jj = (jj + 7) % 7; }
                                        if (mode == PaddingMode.Edge) { ii = Math.Clamp(ii, 0, 5); jj = Math.Clamp(jj, 0, 6); }
                                        s += xd[((n * 3 + c) * 6 + ii) * 7 + jj] * wd[((o * 3 + c) * 3 + ki) * 3 + kj];
                                    }
                            Assert.True(Math.Abs(y[idx++] - s) < 1e-4, $"{mode} ({n},{o},{i},{j}): {y[idx - 1]} vs {s}");
                        }
        }
    }

    [Fact]
    public void Gradients_Accumulate_AcrossBackwardCalls_AndZeroGradClears()
    {
        var x = Tensor.FromArray([1f, 2f], 2);
        x.RequiresGrad = true;
        (x * x).Sum().Backward();
        Assert.Equal([2f, 4f], x.Grad!.ToArray());
        (x * 3f).Sum().Backward();
        Assert.Equal([5f, 7f], x.Grad!.ToArray());
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void SharedGradient_IsCopiedPerLeaf()
    {
        var a = Tensor.Ones(2); a.RequiresGrad = true;
        var b = Tensor.Ones(2); b.RequiresGrad = true;
        (a + b).Sum().Backward();
        a.Grad!.Data[0] = 100f;
        Assert.Equal(1f, b.Grad!.Data[0]);
    }

    [Fact]
    public void NoGrad_AndDetach_CutTheTape()
    {
        var x = Tensor.Ones(2); x.RequiresGrad = true;
        using (Autograd.NoGrad())
        {
            Assert.False(Autograd.IsGradEnabled);
            Assert.False((x * 2f).RequiresGrad);
        }
        Assert.True(Autograd.IsGradEnabled);
        var d = (x * 2f).Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        var y = (x * d).Sum();
        y.Backward();
        Assert.Equal([2f, 2f], x.Grad!.ToArray());
    }

    [Fact]
    public void DeepChain_DoesNotOverflowTheStack()
    {
        var x = Tensor.FromArray([1f], 1); x.RequiresGrad = true;
        var y = x;
        for (int i = 0; i < 20000; i++) y = y * 1.0001f;
        y.Sum().Backward();
        Assert.Equal(MathF.Pow(1.0001f, 20000), x.Grad!.Item(), 2);
    }

    [Fact]
    public void NonFiniteCheck_NamesTheFirstOp()
    {
        var x = Tensor.FromArray([1f, -1f], 2); x.RequiresGrad = true;
        using (Autograd.CheckNonFinite())
        {
            var ex = Assert.Throws<NonFiniteException>(() => ((x * 2f).Log() * 3f).Sum());
            Assert.Equal("Log", ex.OpName);
            Assert.Contains("Log produced NaN", ex.Message);
            var y = Tensor.FromArray([0f, 1f], 2); y.RequiresGrad = true;
            var s = y.Sqrt().Sum();
            var bex = Assert.Throws<NonFiniteException>(() => s.Backward());
            Assert.Equal("backward of Sqrt", bex.OpName);
        }
        Assert.False(Autograd.DetectNonFinite);
        Assert.True(float.IsNaN((x.Log()).ToArray()[1]));
    }

    [Fact]
    public void Data_OnKernelDevice_ThrowsAClearError()
    {
        var t = Tensor.Zeros(Device.CpuKernels, 3);
        Assert.Equal([0f, 0f, 0f], t.ToArray());
        var ex = Assert.Throws<InvalidOperationException>(() => t.Data[0]);
        Assert.Contains("ToArray()", ex.Message);
    }
}

public class TensorUtilityTests
{
    [Fact]
    public void CopyFrom_OverwritesAcrossDevices_AndChecksLength()
    {
        var p = Tensor.Zeros(2, 2);
        p.CopyFrom(Tensor.FromArray([1f, 2f, 3f, 4f], 4));
        Assert.Equal([1f, 2f, 3f, 4f], p.ToArray());
        var k = Tensor.Zeros(Device.CpuKernels, 4);
        k.CopyFrom(p);
        Assert.Equal([1f, 2f, 3f, 4f], k.ToArray());
        var k2 = Tensor.Zeros(Device.CpuKernels, 4);
        k2.CopyFrom(k * 2f);
        Assert.Equal([2f, 4f, 6f, 8f], k2.ToArray());
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => p.CopyFrom(Tensor.Zeros(3))).ParamName);
    }

    [Fact]
    public void Clamp_ClampsAndPassesGradientInside()
    {
        var x = Tensor.FromArray([-2f, 0.5f, 3f], 3);
        x.RequiresGrad = true;
        var y = x.Clamp(-1f, 1f);
        Assert.Equal([-1f, 0.5f, 1f], y.ToArray());
        y.Sum().Backward();
        Assert.Equal([0f, 1f, 0f], x.Grad!.ToArray());
    }

    [Fact]
    public void LiftedOp_RunsOnAKernelDevice()
    {
        var step = Lift.Op((u, next) => { for (int i = 0; i < u.Length; i++) next[i] = u[i] * u[i]; },
            (u, next, uBar, nextBar) => { for (int i = 0; i < u.Length; i++) { next[i] = u[i] * u[i]; uBar[i] += 2 * u[i] * nextBar[i]; nextBar[i] = 0; } });
        var x = Tensor.FromArray(Device.CpuKernels, [1f, 2f, 3f, 4f], 2, 2);
        x.RequiresGrad = true;
        var y = step(x);
        Assert.Same(Device.CpuKernels, y.Device);
        Assert.Equal([1f, 4f, 9f, 16f], y.ToArray());
        y.Sum().Backward();
        Assert.Equal([2f, 4f, 6f, 8f], x.Grad!.ToArray());
    }

    [Fact]
    public void TrainingLoop_DoesNotAccumulateNativeMemory()
    {
        var w = Tensor.Randn(1, 256, 256) * 0.01f;
        w = w.Detach();
        w.RequiresGrad = true;
        var x = Tensor.Randn(2, 256, 256);
        long before = 0;
        for (int i = 0; i < 400; i++)
        {
            Tensor.Linear(x, w).Relu().Square().Mean().Backward();
            w.ZeroGrad();
            if (i == 50) before = Environment.WorkingSet;
        }
        // 350 more iterations allocate ~350 * 5 * 256 KB = 450 MB of temporaries; recycled, the working set barely moves.
        Assert.True(Environment.WorkingSet - before < 200L << 20, $"working set grew by {(Environment.WorkingSet - before) >> 20} MB");
    }
}

public class TensorEdgeCaseTests
{
    [Fact]
    public void Max_TiedMaximaShareTheGradient()
    {
        var x = Tensor.FromArray([1f, 3f, 3f, 2f], 4);
        x.RequiresGrad = true;
        x.Max().Backward();
        Assert.Equal([0f, 0.5f, 0.5f, 0f], x.Grad!.ToArray());
    }

    [Fact]
    public void Conv_RejectsBadArguments_WithNames()
    {
        var x = Tensor.Zeros(1, 2, 4, 4);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Zeros(3, 5, 3, 3))).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Zeros(3, 2, 7, 7))).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Zeros(3, 2, 3, 3), Tensor.Zeros(4))).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Tensor.Conv1d(x, Tensor.Zeros(3, 2, 3))).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Conv2d(x, Tensor.Zeros(3, 2, 3, 3), null, stride: 0));
        Assert.Equal("kernel", Assert.Throws<ArgumentException>(() => Tensor.AvgPool2d(Tensor.Zeros(1, 1, 5, 4), 2)).ParamName);
    }

    [Fact]
    public void Checkpoint_RejectsBadArguments()
    {
        var u = Tensor.Zeros(1, 3);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => Checkpoint.Rollout(u, 0, (s, k) => s, 2)).ParamName);
        Assert.Equal("snapshots", Assert.Throws<ArgumentOutOfRangeException>(() => Checkpoint.Rollout(u, 3, (s, k) => s, 0)).ParamName);
    }

    [Fact]
    public void Cuda_WithoutAGpu_SaysSoClearly()
    {
        if (Device.CudaAvailable) return;
        var ex = Assert.Throws<NotSupportedException>(() => Device.Cuda());
        Assert.Contains("Device.Best()", ex.Message);
        Assert.Same(Device.Cpu, Device.Best());
    }
}

public class MaskTests
{
    [Fact]
    public void Masks_AreConstants()
    {
        var x = Tensor.FromArray([0.1f, 0.7f, 0.5f], 3);
        x.RequiresGrad = true;
        var m = Tensor.GreaterEqual(x, Tensor.Scalar(0.5f));
        Assert.Equal([0f, 1f, 1f], m.ToArray());
        Assert.False(m.RequiresGrad);
        Assert.Equal([0f, 0f, 1f], Tensor.Equal(x, Tensor.Scalar(0.5f)).ToArray());
        (x * m).Sum().Backward();
        Assert.Equal([0f, 1f, 1f], x.Grad!.ToArray());
    }
}
