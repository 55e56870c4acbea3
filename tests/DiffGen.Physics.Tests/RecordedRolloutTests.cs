using DiffGen.Physics;

namespace DiffGen.Physics.Tests;

/// <summary>
/// A rollout recorded on a tape (Burgers1D.Step with a Tape, the pullbacks' forward halves) and reversed
/// with the recorded StepBackward gives exactly the gradient of re-running each step's pullback.
/// </summary>
public class RecordedRolloutTests
{
    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    public void RecordedGradient_EqualsRerunGradient(bool implicitDiffusion, int substeps)
    {
        var model = new Burgers1D(48, -1, 1, implicitDiffusion ? 0.05 : 0.002, 1.0 / 32, substeps, implicitDiffusion: implicitDiffusion);
        const int steps = 6;
        var states = new double[steps + 1][];
        states[0] = model.Evaluate(x => -Math.Sin(Math.PI * x) + 0.3 * Math.Cos(3 * x));
        for (int k = 0; k < steps; k++) { states[k + 1] = new double[model.Cells]; model.Step(states[k], states[k + 1]); }
        var seed = states[steps].Select((v, i) => v - 0.1 * i / model.Cells).ToArray();

        // Re-run: each StepBackward re-runs its step.
        var grad = (double[])seed.Clone();
        double nuRerun = 0;
        for (int k = steps - 1; k >= 0; k--)
        {
            var uBar = new double[model.Cells];
            model.StepBackward(states[k], new double[model.Cells], uBar, grad, ref nuRerun);
            grad = uBar;
        }

        // Recorded: one forward pass on a tape, then the reverse halves in reverse order.
        var tape = new Tape();
        var recorded = new double[steps + 1][];
        recorded[0] = (double[])states[0].Clone();
        for (int k = 0; k < steps; k++) { recorded[k + 1] = new double[model.Cells]; model.Step(recorded[k], recorded[k + 1], tape); }
        Assert.Equal(states[steps], recorded[steps]);
        var final = (double[])recorded[steps].Clone();
        var grad2 = (double[])seed.Clone();
        double nuRecorded = 0;
        for (int k = steps - 1; k >= 0; k--)
        {
            var uBar = new double[model.Cells];
            model.StepBackward(recorded[k], recorded[k + 1], uBar, grad2, ref nuRecorded, tape);
            grad2 = uBar;
        }
        Assert.Equal(grad, grad2);
        Assert.Equal(nuRerun, nuRecorded);
        Assert.Equal(0, tape.Count);
        Assert.Equal(final, recorded[steps]);
    }
}
