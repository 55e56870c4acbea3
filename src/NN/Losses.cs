using DiffGen.Tensors;

namespace DiffGen.NN;

/// <summary>Losses as tape ops (mean over all elements).</summary>
public static class Losses
{
    /// <summary>mean((pred - target)²).</summary>
    public static Tensor Mse(Tensor prediction, Tensor target) => Square(Diff(prediction, target)).Mean();

    /// <summary>mean(|pred - target|).</summary>
    public static Tensor L1(Tensor prediction, Tensor target) => Diff(prediction, target).Abs().Mean();

    /// <summary>Huber: 0.5 d² for |d| ≤ δ, δ(|d| - δ/2) beyond (smooth L1 with δ = 1).</summary>
    public static Tensor Huber(Tensor prediction, Tensor target, float delta = 1f)
    {
        if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "delta must be positive.");
        var a = Diff(prediction, target).Abs();
        // With q = min(|d|, δ): 0.5 q² + δ(|d| - q) is exactly the piecewise definition.
        var q = Tensor.Minimum(a, Tensor.Full(delta, 1));
        return (0.5f * Square(q) + delta * (a - q)).Mean();
    }

    private static Tensor Square(Tensor x) => x * x;

    private static Tensor Diff(Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (!prediction.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException($"prediction [{string.Join(", ", prediction.Shape)}] and target [{string.Join(", ", target.Shape)}] differ in shape.", nameof(target));
        return prediction - target;
    }
}
