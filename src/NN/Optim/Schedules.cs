namespace DiffGen.NN.Optim;

/// <summary>A learning rate as a function of the step (0-based).</summary>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate at <paramref name="step"/>.</summary>
    double LearningRate(int step);
}

/// <summary>lr·gamma^⌊step / stepSize⌋.</summary>
public sealed class StepSchedule(double learningRate, int stepSize, double gamma = 0.1) : ILearningRateSchedule
{
    /// <inheritdoc />
    public double LearningRate(int step) =>
        stepSize < 1 ? throw new InvalidOperationException("stepSize must be at least 1.") : learningRate * Math.Pow(gamma, step / stepSize);
}

/// <summary>Cosine annealing from lr to minimum over <c>totalSteps</c>, then constant.</summary>
public sealed class CosineSchedule(double learningRate, int totalSteps, double minimum = 0) : ILearningRateSchedule
{
    /// <inheritdoc />
    public double LearningRate(int step)
    {
        if (totalSteps < 1) throw new InvalidOperationException("totalSteps must be at least 1.");
        double t = Math.Min(step, totalSteps) / (double)totalSteps;
        return minimum + 0.5 * (learningRate - minimum) * (1 + Math.Cos(Math.PI * t));
    }
}

/// <summary>Linear warm-up from 0 over <c>warmupSteps</c>, then <c>after</c> (shifted to start at 0).</summary>
public sealed class WarmupSchedule(int warmupSteps, ILearningRateSchedule after) : ILearningRateSchedule
{
    /// <inheritdoc />
    public double LearningRate(int step) =>
        step < warmupSteps ? after.LearningRate(0) * (step + 1) / warmupSteps : after.LearningRate(step - warmupSteps);
}

/// <summary>A constant learning rate.</summary>
public sealed class ConstantSchedule(double learningRate) : ILearningRateSchedule
{
    /// <inheritdoc />
    public double LearningRate(int step) => learningRate;
}
