using DiffGen.Tensors;

namespace DiffGen.Tensors.Tests.Tensors;

/// <summary>
/// Checks an op's autograd gradients against central finite differences. The op runs in float, so the
/// reference loss L = Σ w ⊙ f(inputs) (random w) is accumulated in double and the step is large enough
/// (1e-2 relative) for float round-off to stay well below the tolerance.
/// </summary>
internal static class TensorGradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double tolerance = 2e-2, double step = 1e-2, string what = "op", int seed = 7)
    {
        foreach (var x in inputs) { x.RequiresGrad = true; x.ZeroGrad(); }
        var y = f(inputs);
        var w = Tensor.Randn(seed, y.Shape);
        (y * w).Sum().Backward();
        var wv = w.ToArray();
        double Loss()
        {
            using var _ = Autograd.NoGrad();
            var v = f(inputs).ToArray();
            double s = 0;
            for (int i = 0; i < v.Length; i++) s += (double)v[i] * wv[i];
            return s;
        }
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            Assert.True(x.Grad is not null, $"{what}: input {k} got no gradient");
            var analytic = x.Grad!.ToArray().Select(v => (double)v).ToArray();
            var fd = new double[x.Length];
            var data = x.Data;
            for (int i = 0; i < x.Length; i++)
            {
                float orig = data[i];
                float h = (float)(step * Math.Max(1.0, Math.Abs(orig)));
                data[i] = orig + h; double lp = Loss();
                data[i] = orig - h; double lm = Loss();
                data[i] = orig;
                fd[i] = (lp - lm) / ((double)(orig + h) - (orig - h));
            }
            GradCheck.AssertClose(analytic, fd, tolerance, $"{what} d/d input {k}", floor: 1e-1);
        }
    }

    /// <summary>Random values in [lo, hi] (away from kinks when the range excludes 0).</summary>
    public static Tensor Rand(int seed, float lo, float hi, params int[] shape) => Tensor.Rand(new Random(seed), lo, hi, shape);

    /// <summary>Random values with |x| in [0.2, 1.5] and random signs: away from 0 for relu/abs kinks.</summary>
    public static Tensor AwayFromZero(int seed, params int[] shape)
    {
        var r = new Random(seed);
        var t = Tensor.Rand(r, 0.2f, 1.5f, shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) if (r.Next(2) == 0) d[i] = -d[i];
        return t;
    }
}
