using DiffGen.Tensors;

namespace DiffGen.NN;

/// <summary>
/// Weight initialisers. All draw from a <see cref="Random"/>; layers use <see cref="DefaultRandom"/>
/// unless given one, so <see cref="Seed"/> before building a model makes runs reproducible bit for bit.
/// </summary>
/// <remarks>
/// The default generator belongs to the logical flow of execution (an <see cref="AsyncLocal{T}"/>: it
/// follows <c>await</c> and <c>Task.Run</c> from where it was seeded): two models built at the same
/// time on different threads, e.g. two trainers or tests running in parallel, do not draw from one
/// shared sequence, which made their weights depend on the interleaving.
/// </remarks>
public static class Init
{
    private static readonly AsyncLocal<Random?> s_default = new();

    /// <summary>
    /// The generator layers draw from when none is given: the one <see cref="Seed"/> set in this flow of
    /// execution, or one seeded with 0 on first use in it.
    /// </summary>
    public static Random DefaultRandom => s_default.Value ??= new Random(0);

    /// <summary>Reseeds <see cref="DefaultRandom"/> for this flow of execution (like torch.manual_seed).</summary>
    public static void Seed(int seed) => s_default.Value = new Random(seed);

    /// <summary>(fan_in, fan_out) of a weight [out, in, k…] (or [out, in]).</summary>
    public static (int FanIn, int FanOut) Fans(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var s = weight.Shape;
        if (s.Length < 2) throw new ArgumentException($"A weight needs at least 2 dimensions [out, in, ...]; got [{string.Join(", ", s)}].", nameof(weight));
        int receptive = 1;
        for (int i = 2; i < s.Length; i++) receptive *= s[i];
        return (s[1] * receptive, s[0] * receptive);
    }

    /// <summary>Fills with U(lo, hi).</summary>
    public static void Uniform(Tensor t, double lo, double hi, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(t);
        var r = random ?? DefaultRandom;
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = (float)(lo + (hi - lo) * r.NextDouble());
    }

    /// <summary>Fills with N(0, std²).</summary>
    public static void Normal(Tensor t, double std, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(t);
        var r = random ?? DefaultRandom;
        var d = t.Data;
        for (int i = 0; i < d.Length; i++)
        {
            // Box-Muller; 1 - U keeps the log finite.
            double u1 = 1.0 - r.NextDouble(), u2 = r.NextDouble();
            d[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
    }

    /// <summary>Glorot/Xavier uniform: U(±gain·√(6 / (fan_in + fan_out))).</summary>
    public static void XavierUniform(Tensor weight, double gain = 1, Random? random = null)
    {
        var (fi, fo) = Fans(weight);
        double b = gain * Math.Sqrt(6.0 / (fi + fo));
        Uniform(weight, -b, b, random);
    }

    /// <summary>Glorot/Xavier normal: N(0, gain²·2 / (fan_in + fan_out)).</summary>
    public static void XavierNormal(Tensor weight, double gain = 1, Random? random = null)
    {
        var (fi, fo) = Fans(weight);
        Normal(weight, gain * Math.Sqrt(2.0 / (fi + fo)), random);
    }

    /// <summary>Kaiming/He uniform over fan_in: U(±gain·√(3 / fan_in)); gain √2 suits ReLU.</summary>
    public static void KaimingUniform(Tensor weight, double gain = 1.4142135623730951, Random? random = null)
    {
        var (fi, _) = Fans(weight);
        double b = gain * Math.Sqrt(3.0 / fi);
        Uniform(weight, -b, b, random);
    }

    /// <summary>Kaiming/He normal over fan_in: N(0, gain² / fan_in).</summary>
    public static void KaimingNormal(Tensor weight, double gain = 1.4142135623730951, Random? random = null)
    {
        var (fi, _) = Fans(weight);
        Normal(weight, gain / Math.Sqrt(fi), random);
    }

    /// <summary>Gain for an activation ("linear", "tanh", "relu", "leaky_relu", "sigmoid"), as torch.nn.init.calculate_gain.</summary>
    public static double Gain(string nonlinearity, double slope = 0.01) => nonlinearity switch
    {
        "linear" or "sigmoid" or "conv" => 1.0,
        "tanh" => 5.0 / 3,
        "relu" => Math.Sqrt(2.0),
        "leaky_relu" => Math.Sqrt(2.0 / (1 + slope * slope)),
        _ => throw new ArgumentException($"Unknown nonlinearity '{nonlinearity}'; use linear, sigmoid, tanh, relu or leaky_relu.", nameof(nonlinearity)),
    };
}
