using System.Globalization;
using System.CommandLine;
using System.CommandLine.Parsing;
using DiffGen.NN.IO;
using DiffGen.Physics;

namespace DiffGen.Trainers.Common;

/// <summary>Training stopped because a loss or gradient became NaN or infinite (exit code <see cref="Cli.Diverged"/>).</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// A test hook for the commit window: <see cref="At"/> is called at named points of a run ("checkpoint
/// &lt;n&gt;" after checkpoint n is written, "summary" before summary.json, "clear" before the checkpoints
/// are removed); a hook that throws there simulates a process killed at that point, without sleeping.
/// </summary>
public static class FaultInjection
{
    // AsyncLocal: a hook armed by one test does not fire in trainers other tests run in parallel.
    private static readonly AsyncLocal<Action<string>?> s_hook = new();

    /// <summary>Arms <paramref name="hook"/> for the current flow of execution until the result is disposed.</summary>
    public static IDisposable Arm(Action<string> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        var previous = s_hook.Value;
        s_hook.Value = hook;
        return new Disarm(previous);
    }

    /// <summary>Calls the armed hook, if any, with <paramref name="point"/>.</summary>
    public static void At(string point) => s_hook.Value?.Invoke(point);

    private sealed class Disarm(Action<string>? previous) : IDisposable
    {
        public void Dispose() => s_hook.Value = previous;
    }
}

/// <summary>
/// The non-finite policy of the trainers: a NaN or infinite loss or gradient stops training at the
/// iteration where it appears, before it reaches the parameters, with a message naming the iteration
/// and the likely cause; metrics.csv keeps the good iterations and the last checkpoint stays.
/// </summary>
public static class NonFinite
{
    /// <summary>Throws <see cref="TrainingDivergedException"/> unless <paramref name="loss"/> and <paramref name="gradientNorm"/> are finite.</summary>
    /// <param name="output">The run (its metrics are flushed, its checkpoint named).</param>
    /// <param name="iteration">The iteration (0-based) that produced the values.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="gradientNorm">The gradient's norm (NaN or infinite if any entry is).</param>
    /// <param name="learningRate">The --lr in use, for the message.</param>
    /// <param name="stage">What is being trained, e.g. "SOL-4" (null: the run); its iteration 0 has had no update yet.</param>
    /// <param name="learningRateOption">The option that sets <paramref name="learningRate"/>, as the message names it.</param>
    /// <param name="updated">Whether the parameters were updated before these values (null: iteration &gt; 0); an
    /// iteration of several updates, such as PPO's minibatches, is past its start after the first.</param>
    public static void Check(RunOutput output, int iteration, double loss, double gradientNorm, double learningRate, string? stage = null, string learningRateOption = "--lr", bool? updated = null)
    {
        if (double.IsFinite(loss) && double.IsFinite(gradientNorm)) return;
        ArgumentNullException.ThrowIfNull(output);
        output.FlushMetrics();
        string what = !double.IsFinite(loss) ? $"the loss is {Format(loss)}" : $"the gradient is not finite (norm {Format(gradientNorm)}, loss {Format(loss)})";
        string where = stage == null ? $"iteration {iteration}" : $"{stage} iteration {iteration}";
        string cause = !(updated ?? iteration > 0)
            ? "nothing was updated yet, so the initial state or the problem's settings (sizes, steps) produce it"
            : $"the learning rate ({learningRateOption} {Format(learningRate)}) is too large for this problem, so the updates overshot; start again with a smaller {learningRateOption}";
        string kept = Checkpoints.Describe(output);
        throw new TrainingDivergedException($"{what} at {where}; training stopped before applying it. Likely cause: {cause}. {kept} metrics.csv holds the iterations before.");
    }

    /// <summary>The L2 norm of several gradient arrays (NaN or infinite when any entry is).</summary>
    public static double Norm(params double[][] gradients)
    {
        double s = 0;
        foreach (var g in gradients) foreach (double v in g) s += v * v;
        return Math.Sqrt(s);
    }

    private static string Format(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}

/// <summary>Stopping on Ctrl+C or SIGTERM outside the training loop.</summary>
public static class Interrupt
{
    /// <summary>
    /// Call in the set-up's long loops (reference simulations): a cancelled set-up stops at once, with
    /// nothing to checkpoint, instead of running to the first iteration.
    /// </summary>
    public static void DuringSetup(CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
            throw new OperationCanceledException("stopped during set-up, before the first iteration: nothing was trained, so there is nothing to resume (run again to start over)", ct);
    }
}

/// <summary>Up-front checks of option values that would otherwise fail deep inside a run.</summary>
public static class OptionChecks
{
    /// <summary>A positive, finite number (learning rates): a usage error naming <paramref name="option"/> otherwise.</summary>
    public static void PositiveFinite(string option, double value)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new UsageException($"{option} must be a positive finite number (got {value.ToString(CultureInfo.InvariantCulture)})");
    }

    /// <summary>
    /// Refuses sizes whose memory estimate exceeds what this machine has (or whose arrays would exceed .NET's
    /// array limit), before anything is allocated: a usage error naming the options to lower.
    /// </summary>
    /// <param name="experiment">The experiment, for the message.</param>
    /// <param name="bytes">Estimated peak bytes (a double: products of options may overflow a long).</param>
    /// <param name="largestArray">Elements of the largest single array.</param>
    /// <param name="options">The options that set the size, as the user types them.</param>
    public static void Memory(string experiment, double bytes, double largestArray, string options)
    {
        double available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (largestArray > Array.MaxLength)
            throw new UsageException(FormattableString.Invariant($"{experiment}: these sizes need arrays of {largestArray:G3} elements, above .NET's limit of {Array.MaxLength}; lower {options}"));
        if (bytes > 0.8 * available)
            throw new UsageException(FormattableString.Invariant($"{experiment}: these sizes need about {bytes / (1 << 30):G3} GB, more than this machine's {available / (1 << 30):F1} GB allow; lower {options}"));
    }

    /// <summary>
    /// Explicit-diffusion substeps that keep a step of <paramref name="dt"/> stable on this grid (1 when one
    /// step is stable already, so default settings are unchanged).
    /// </summary>
    public static int DiffusionSubsteps(double viscosity, double dt, double dx, double dy = double.PositiveInfinity)
    {
        double max = Diffusion.MaxStableExplicitDt(viscosity, dx, dy, 1);
        return Math.Max(1, (int)Math.Ceiling(dt / max * (1 - 1e-12)));
    }
}

/// <summary>Numbers on the command line are read in the invariant culture (a '.' decimal point), whatever the user's locale.</summary>
public static class InvariantNumbers
{
    /// <summary>Gives every int, double and nullable option of <paramref name="command"/> and its subcommands an invariant-culture parser.</summary>
    public static void Apply(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var o in command.Options)
        {
            switch (o)
            {
                case Option<double> d: d.CustomParser = r => Parse(r, o.Name, "a number written with a '.' decimal point and no thousands separators", s => (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v), v)); break;
                case Option<double?> d: d.CustomParser = r => Parse(r, o.Name, "a number written with a '.' decimal point and no thousands separators", s => (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v), (double?)v)); break;
                case Option<int> i: i.CustomParser = r => Parse(r, o.Name, "a whole number", s => (int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v), v)); break;
                case Option<int?> i: i.CustomParser = r => Parse(r, o.Name, "a whole number", s => (int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v), (int?)v)); break;
            }
        }
        foreach (var c in command.Subcommands) Apply(c);
    }

    private static T? Parse<T>(ArgumentResult result, string option, string kind, Func<string, (bool Ok, T Value)> parse)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        var (ok, value) = parse(text.Trim());
        if (ok) return value;
        result.AddError($"{option} must be {kind} (got '{text}')");
        return default;
    }
}
