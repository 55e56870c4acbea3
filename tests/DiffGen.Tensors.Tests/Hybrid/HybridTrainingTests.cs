using DiffGen.Tensors;

namespace DiffGen.Tensors.Tests.Hybrid;

/// <summary>The bridge: network output → lifted solver steps → loss, and binomial checkpointing.</summary>
public class HybridTrainingTests
{
    private const double Nu = 0.2, Dt = 0.1;
    private const int N = 8, B = 3;

    private static readonly Func<Tensor, Tensor, Tensor> SolverStep = Lift.Op(
        (u, f, next) => HybridSolver.Step(u, f, next, Nu, Dt),
        (u, f, next, uBar, fBar, nextBar) =>
        {
            double nuBar = 0, dtBar = 0;
            HybridSolver.StepPullback(u, f, next, Nu, Dt, uBar, fBar, nextBar, ref nuBar, ref dtBar);
        });

    private static (Tensor W, Tensor Bias, Tensor U0, Tensor Target) Setup()
    {
        var w = Tensor.Randn(1, N, N) * 0.4f;
        var b = Tensor.Randn(2, N) * 0.1f;
        var u0 = Tensor.Randn(3, B, N) * 0.5f;
        var target = Tensor.Randn(4, B, N) * 0.3f;
        w.RequiresGrad = true;
        b.RequiresGrad = true;
        return (w.Detach(), b.Detach(), u0, target);
    }

    /// <summary>Float loss accumulated in double, for finite differences.</summary>
    private static double[] FiniteDifferences(Tensor p, Func<double> loss, double h = 1e-2)
    {
        var fd = new double[p.Length];
        var d = p.Data;
        for (int i = 0; i < p.Length; i++)
        {
            float orig = d[i];
            d[i] = orig + (float)h; double lp = loss();
            d[i] = orig - (float)h; double lm = loss();
            d[i] = orig;
            fd[i] = (lp - lm) / (2 * h);
        }
        return fd;
    }

    private static double[] D(Tensor t) => t.ToArray().Select(v => (double)v).ToArray();

    [Fact]
    public void NetworkThroughSolverSteps_ParameterGradientsMatchFiniteDifferences()
    {
        var (w, b, u0, target) = Setup();
        w.RequiresGrad = true; b.RequiresGrad = true;
        Tensor Forward()
        {
            var f = Tensor.Linear(u0, w, b).Tanh();          // the network's control, [B, N]
            var u = u0;
            for (int k = 0; k < 4; k++) u = SolverStep(u, f);
            return (u - target).Square().Mean();
        }
        Forward().Backward();
        double Loss() { using var _ = Autograd.NoGrad(); return Forward().Item(); }
        GradCheck.AssertClose(D(w.Grad!), FiniteDifferences(w, Loss), 2e-2, "dL/dW", floor: 1e-2);
        GradCheck.AssertClose(D(b.Grad!), FiniteDifferences(b, Loss), 2e-2, "dL/db", floor: 1e-2);
    }

    [Fact]
    public void OneInputLift_GradientMatchesFiniteDifferences()
    {
        var step = Lift.Op((u, next) => HybridSolver.Diffuse(u, next, Nu), (u, next, uBar, nextBar) =>
        {
            double nuBar = 0;
            HybridSolver.DiffusePullback(u, next, Nu, uBar, nextBar, ref nuBar);
        });
        var u0 = Tensor.Randn(5, 2, 6);
        u0.RequiresGrad = true;
        var w = Tensor.Randn(6, 2, 6);
        Tensor F() => (step(step(u0.Square())) * w).Sum();
        F().Backward();
        double Loss() { using var _ = Autograd.NoGrad(); return F().Item(); }
        GradCheck.AssertClose(D(u0.Grad!), FiniteDifferences(u0, Loss), 2e-2, "dL/du0", floor: 1e-1);
    }

    [Fact]
    public void LearnablePhysicalParameter_GoesThroughTheControlInput()
    {
        // A learnable viscosity: broadcast to one value per batch item and fed as the "control" input;
        // the pullback's scalar adjoint (ref nuBar) becomes that input's adjoint.
        var step = Lift.Op(
            (u, p, next) => HybridSolver.Diffuse(u, next, p[0]),
            (u, p, next, uBar, pBar, nextBar) =>
            {
                double nuBar = 0;
                HybridSolver.DiffusePullback(u, next, p[0], uBar, nextBar, ref nuBar);
                pBar[0] += nuBar;
            });
        var nu = Tensor.FromArray([0.15f], 1);
        nu.RequiresGrad = true;
        var u0 = Tensor.Randn(8, B, N);
        var target = Tensor.Randn(9, B, N) * 0.2f;
        Tensor F()
        {
            var p = nu.Reshape(1, 1).BroadcastTo(B, 1);
            var u = u0;
            for (int k = 0; k < 3; k++) u = step(u, p);
            return (u - target).Square().Mean();
        }
        F().Backward();
        double Loss() { using var _ = Autograd.NoGrad(); return F().Item(); }
        GradCheck.AssertClose(D(nu.Grad!), FiniteDifferences(nu, Loss, 1e-3), 2e-2, "dL/dnu", floor: 1e-2);
    }

    [Fact]
    public void Lift_RejectsMismatchedBatches()
    {
        var ex = Assert.Throws<ArgumentException>(() => SolverStep(Tensor.Zeros(3, N), Tensor.Zeros(2, N)));
        Assert.Equal("control", ex.ParamName);
    }

    [Theory]
    [InlineData(30, 4)]
    [InlineData(17, 2)]
    [InlineData(9, 1)]
    public void CheckpointedRollout_MatchesFullTape_WithFewStoredStates(int steps, int snapshots)
    {
        var (w, b, u0, target) = Setup();
        Tensor Step(Tensor u, int k) => SolverStep(u, Tensor.Linear(u, w, b).Tanh() * 0.5f);

        // Full tape.
        w.RequiresGrad = true; b.RequiresGrad = true; u0.RequiresGrad = true;
        var u = u0;
        for (int k = 0; k < steps; k++) u = Step(u, k);
        (u - target).Square().Mean().Backward();
        var (gw, gb, gu) = (D(w.Grad!), D(b.Grad!), D(u0.Grad!));
        w.ZeroGrad(); b.ZeroGrad(); u0.ZeroGrad();

        // Checkpointed.
        var stats = new CheckpointStats();
        var uc = Checkpoint.Rollout(u0, steps, Step, snapshots, [w, b], stats);
        Assert.Equal(u.ToArray(), uc.ToArray());
        (uc - target).Square().Mean().Backward();
        GradCheck.AssertClose(D(w.Grad!), gw, 1e-4, "checkpointed dL/dW", floor: 1e-4);
        GradCheck.AssertClose(D(b.Grad!), gb, 1e-4, "checkpointed dL/db", floor: 1e-4);
        GradCheck.AssertClose(D(u0.Grad!), gu, 1e-4, "checkpointed dL/du0", floor: 1e-4);

        // A plain tape keeps every step's input (steps states); revolve keeps at most snapshots + 1.
        Assert.InRange(stats.PeakStoredStates, 1, snapshots + 1);
        Assert.True(stats.PeakStoredStates <= snapshots || snapshots == 1, $"peak {stats.PeakStoredStates}");
        Assert.True(stats.PeakStoredStates < steps);
        // The initial state takes one snapshot; s - 1 free snapshots reverse beta(s - 1, t) steps with
        // at most t recomputations of each step (with none free, every step is recomputed from u0).
        int t = 0;
        if (snapshots == 1) t = steps;
        else while (Checkpoint.Beta(snapshots - 1, t) < steps) t++;
        // Forward sweep + at most t recomputations per step + one taped re-run per step.
        Assert.InRange(stats.StepEvaluations, 2 * steps, steps * (t + 2));
    }
}
