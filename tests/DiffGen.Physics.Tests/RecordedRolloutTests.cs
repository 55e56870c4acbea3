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
        var model = new Burgers1D(new Grid1D(48, -1, 1), implicitDiffusion ? 0.05 : 0.002, 1.0 / 32, substeps, implicitDiffusion: implicitDiffusion);
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

    [Fact]
    public void RecordedSmokeGradient_EqualsRerunGradient()
    {
        var sim = Smoke2D.PbdlPlume(12, 14);
        int nc = sim.Nx * sim.Ny, nu = (sim.Nx + 1) * sim.Ny, nv = sim.Nx * (sim.Ny + 1);
        var inflow = sim.DiscInflow(6, 3, 2, 0.5);
        var rng = new Random(5);
        var u0 = Enumerable.Range(0, nu).Select(_ => 0.1 * (rng.NextDouble() - 0.5)).ToArray();
        var v0 = Enumerable.Range(0, nv).Select(_ => 0.1 * (rng.NextDouble() - 0.5)).ToArray();
        const int steps = 4;

        (double[] UBar, double[] VBar) Gradient(Tape? tape)
        {
            var s = new double[steps + 1][]; var u = new double[steps + 1][]; var v = new double[steps + 1][];
            (s[0], u[0], v[0]) = (new double[nc], (double[])u0.Clone(), (double[])v0.Clone());
            var p = new double[nc];
            for (int k = 0; k < steps; k++)
            {
                (s[k + 1], u[k + 1], v[k + 1]) = (new double[nc], new double[nu], new double[nv]);
                if (tape == null) sim.Step(s[k], u[k], v[k], inflow, s[k + 1], u[k + 1], v[k + 1], p);
                else sim.Step(s[k], u[k], v[k], inflow, s[k + 1], u[k + 1], v[k + 1], p, tape);
            }
            double[] sBar = s[steps].Select((x, i) => x * (1 + i % 3)).ToArray(), uBar = new double[nu], vBar = new double[nv];
            for (int k = steps - 1; k >= 0; k--)
            {
                double[] sb = new double[nc], ub = new double[nu], vb = new double[nv];
                double bb = 0;
                if (tape == null)
                    sim.StepBackward(s[k], u[k], v[k], inflow, new double[nc], new double[nu], new double[nv], new double[nc], sb, ub, vb, new double[nc], sBar, uBar, vBar, new double[nc], ref bb);
                else
                    sim.StepBackward(s[k], u[k], v[k], inflow, new double[nc], new double[nu], new double[nv], new double[nc], sb, ub, vb, new double[nc], sBar, uBar, vBar, new double[nc], ref bb, tape);
                (sBar, uBar, vBar) = (sb, ub, vb);
            }
            return (uBar, vBar);
        }

        var rerun = Gradient(null);
        var tape = new Tape();
        var recorded = Gradient(tape);
        Assert.Equal(rerun.UBar, recorded.UBar);
        Assert.Equal(rerun.VBar, recorded.VBar);
        Assert.Equal(0, tape.Count);
        Assert.NotEqual(0.0, rerun.UBar.Sum(Math.Abs) + rerun.VBar.Sum(Math.Abs));
    }

    [Fact]
    public void RecordedSteps_ReversedOutOfOrderOrWithOtherInputs_Throw()
    {
        // Before: the reverse popped another step's saved values and returned a wrong gradient without a word.
        var model = new Burgers1D(new Grid1D(32, -1, 1), 0.002, 1.0 / 32);
        var states = new double[4][];
        states[0] = model.Evaluate(x => -Math.Sin(Math.PI * x));
        var tape = new Tape();
        for (int k = 0; k < 3; k++) { states[k + 1] = new double[model.Cells]; model.Step(states[k], states[k + 1], tape); }
        double nuBar = 0;
        var e = Assert.Throws<InvalidOperationException>(() => model.StepBackward(states[0], states[1], new double[32], new double[32], ref nuBar, tape));
        Assert.Contains("out of order", e.Message);

        var changed = (double[])states[2].Clone();
        changed[5] += 1e-3;
        Assert.Contains("inputs other than", Assert.Throws<InvalidOperationException>(() => model.StepBackward(changed, states[3], new double[32], new double[32], ref nuBar, tape)).Message);

        // The right order still works after the refused calls (they consumed nothing).
        for (int k = 2; k >= 0; k--) model.StepBackward(states[k], states[k + 1], new double[32], new double[32], ref nuBar, tape);
        Assert.Equal(0, tape.Count);
        Assert.Equal(0, tape.PendingSteps);
    }
}
