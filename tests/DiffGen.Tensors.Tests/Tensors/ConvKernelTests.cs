using DiffGen.Tensors;

namespace DiffGen.Tensors.Tests.Tensors;

/// <summary>
/// The host convolution paths (implicit GEMM forward, transposed-convolution input gradient, weight
/// gradient, fused bias) against a direct-loop reference, on shapes that hit the vector fast path, the
/// ragged last panel, output channels that are not a multiple of the micro-tile, and the fallbacks.
/// </summary>
public class ConvKernelTests
{
    /// <summary>Input index read by output position o through tap t, or -1 for a zero.</summary>
    private static int Source(int o, int t, int n, int s, int p, int d, PaddingMode mode)
    {
        int i = o * s - p + t * d;
        return mode switch
        {
            PaddingMode.Zeros => i >= 0 && i < n ? i : -1,
            PaddingMode.Periodic => ((i % n) + n) % n,
            _ => Math.Clamp(i, 0, n - 1),
        };
    }

    /// <summary>Forward, and the gradients of sum(y * seed), by direct loops in double.</summary>
    private static (double[] Y, double[] Gx, double[] Gw, double[] Gb) Reference(float[] x, float[] w, float[] b, float[] seed,
        int n, int c, int h, int wd, int co, int kh, int kw, (int H, int W) s, (int H, int W) p, (int H, int W) d, PaddingMode mode, int ho, int wo)
    {
        var y = new double[n * co * ho * wo];
        var gx = new double[x.Length];
        var gw = new double[w.Length];
        var gb = new double[co];
        for (int b0 = 0; b0 < n; b0++)
            for (int o = 0; o < co; o++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                    {
                        int yi = ((b0 * co + o) * ho + i) * wo + j;
                        double acc = b[o];
                        double g = seed[yi];
                        gb[o] += g;
                        for (int ci = 0; ci < c; ci++)
                            for (int ki = 0; ki < kh; ki++)
                                for (int kj = 0; kj < kw; kj++)
                                {
                                    int ii = Source(i, ki, h, s.H, p.H, d.H, mode), jj = Source(j, kj, wd, s.W, p.W, d.W, mode);
                                    if (ii < 0 || jj < 0) continue;
                                    int xi = ((b0 * c + ci) * h + ii) * wd + jj, wi = ((o * c + ci) * kh + ki) * kw + kj;
                                    acc += (double)x[xi] * w[wi];
                                    gx[xi] += g * w[wi];
                                    gw[wi] += g * x[xi];
                                }
                        y[yi] = acc;
                    }
        return (y, gx, gw, gb);
    }

    private static float[] Random(Random r, int len) => Enumerable.Range(0, len).Select(_ => (float)r.NextDouble() * 2 - 1).ToArray();

    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"{what}[{i}]: {actual[i]} vs {expected[i]}");
    }

    [Theory]
    // n, c, h, w, co, kh, kw, stride, padH, padW, dilation, mode
    [InlineData(2, 3, 5, 37, 5, 3, 3, 1, 1, 1, 1, PaddingMode.Zeros)]      // fast path + ragged panel, co % 8 != 0
    [InlineData(3, 8, 16, 40, 9, 3, 3, 1, 1, 1, 1, PaddingMode.Zeros)]     // large enough to run in parallel
    [InlineData(2, 4, 6, 33, 3, 3, 3, 1, 1, 1, 1, PaddingMode.Periodic)]   // periodic: transposed conv path
    [InlineData(2, 4, 6, 33, 3, 3, 3, 1, 1, 1, 1, PaddingMode.Edge)]       // edge: col2im fallback for dx
    [InlineData(1, 2, 9, 35, 4, 3, 5, 1, 1, 2, 1, PaddingMode.Zeros)]      // non-square kernel
    [InlineData(2, 3, 11, 41, 6, 3, 3, 1, 2, 2, 2, PaddingMode.Zeros)]     // dilation
    [InlineData(2, 3, 11, 41, 6, 3, 3, 2, 1, 1, 1, PaddingMode.Zeros)]     // stride 2: col2im fallback
    [InlineData(2, 3, 7, 20, 2, 3, 3, 1, 3, 3, 1, PaddingMode.Zeros)]      // padding beyond d(k-1): fallback
    [InlineData(1, 1, 3, 5, 1, 3, 3, 1, 0, 0, 1, PaddingMode.Zeros)]       // tiny, valid convolution
    [InlineData(2, 32, 4, 64, 32, 3, 3, 1, 1, 1, 1, PaddingMode.Zeros)]    // the ResNet's layer shape, fewer rows
    [InlineData(2, 32, 4, 64, 2, 3, 3, 1, 1, 1, 1, PaddingMode.Zeros)]     // the ResNet's output layer: few-channel kernels
    [InlineData(2, 6, 5, 48, 11, 3, 3, 1, 1, 1, 1, PaddingMode.Periodic)]  // whole-row panels, partial strips (11 and 6 rows)
    [InlineData(2, 5, 4, 16, 4, 3, 3, 1, 2, 2, 2, PaddingMode.Zeros)]      // four channels, one 16-wide block per row, dilation
    [InlineData(1, 3, 6, 23, 1, 3, 5, 1, 1, 2, 1, PaddingMode.Edge)]       // one channel, shifted last block, edge padding
    public void Conv2d_ForwardAndGradients_MatchDirectLoops(int n, int c, int h, int wd, int co, int kh, int kw, int stride, int ph, int pw, int dil, PaddingMode mode)
    {
        var r = new Random(n * 7919 + c * 31 + h * 7 + wd + co);
        int ho = (h + 2 * ph - dil * (kh - 1) - 1) / stride + 1, wo = (wd + 2 * pw - dil * (kw - 1) - 1) / stride + 1;
        var xs = Random(r, n * c * h * wd); var ws = Random(r, co * c * kh * kw); var bs = Random(r, co); var seed = Random(r, n * co * ho * wo);
        var x = Tensor.FromArray(xs, n, c, h, wd); var w = Tensor.FromArray(ws, co, c, kh, kw); var b = Tensor.FromArray(bs, co);
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        var y = Tensor.Conv2d(x, w, b, (stride, stride), (ph, pw), mode, (dil, dil));
        Assert.Equal([n, co, ho, wo], y.Shape);
        y.Backward(Tensor.FromArray(seed, n, co, ho, wo));
        var (ey, egx, egw, egb) = Reference(xs, ws, bs, seed, n, c, h, wd, co, kh, kw, (stride, stride), (ph, pw), (dil, dil), mode, ho, wo);
        AssertClose(ey, y.ToArray(), "y");
        AssertClose(egx, x.Grad!.ToArray(), "dx");
        AssertClose(egw, w.Grad!.ToArray(), "dw");
        AssertClose(egb, b.Grad!.ToArray(), "db");
    }

    [Theory]
    [InlineData(2, 4, 50, 3, 5, 2, PaddingMode.Periodic)]
    [InlineData(3, 2, 17, 9, 3, 1, PaddingMode.Zeros)]
    public void Conv1d_ForwardAndGradients_MatchDirectLoops(int n, int c, int len, int co, int k, int pad, PaddingMode mode)
    {
        var r = new Random(len * 13 + co);
        int lo = len + 2 * pad - k + 1;
        var xs = Random(r, n * c * len); var ws = Random(r, co * c * k); var bs = Random(r, co); var seed = Random(r, n * co * lo);
        var x = Tensor.FromArray(xs, n, c, len); var w = Tensor.FromArray(ws, co, c, k); var b = Tensor.FromArray(bs, co);
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        var y = Tensor.Conv1d(x, w, b, 1, pad, mode);
        y.Backward(Tensor.FromArray(seed, n, co, lo));
        var (ey, egx, egw, egb) = Reference(xs, ws, bs, seed, n, c, 1, len, co, 1, k, (1, 1), (0, pad), (1, 1), mode, 1, lo);
        AssertClose(ey, y.ToArray(), "y");
        AssertClose(egx, x.Grad!.ToArray(), "dx");
        AssertClose(egw, w.Grad!.ToArray(), "dw");
        AssertClose(egb, b.Grad!.ToArray(), "db");
    }

    [Fact]
    public void Conv2d_WithoutBias_AndFrozenWeights_GivesOnlyTheInputGradient()
    {
        var r = new Random(5);
        var x = Tensor.FromArray(Random(r, 2 * 3 * 6 * 20), 2, 3, 6, 20);
        var w = Tensor.FromArray(Random(r, 4 * 3 * 9), 4, 3, 3, 3);
        x.RequiresGrad = true;
        var y = Tensor.Conv2d(x, w, null, 1, 1);
        y.Sum().Backward(retainGraph: true); // a second backward through y follows
        Assert.Null(w.Grad);
        var seed = Enumerable.Repeat(1f, 2 * 4 * 6 * 20).ToArray();
        var (_, egx, egw, _) = Reference(x.ToArray(), w.ToArray(), new float[4], seed, 2, 3, 6, 20, 4, 3, 3, (1, 1), (1, 1), (1, 1), PaddingMode.Zeros, 6, 20);
        AssertClose(egx, x.Grad!.ToArray(), "dx");
        // The weight asks for a gradient only after the forward pass: the backward re-pads the input.
        w.RequiresGrad = true;
        y.Sum().Backward();
        AssertClose(egw, w.Grad!.ToArray(), "dw");
    }
}
