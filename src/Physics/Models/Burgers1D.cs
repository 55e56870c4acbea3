namespace DiffGen.Physics;

/// <summary>
/// 1D viscous Burgers' equation on a cell-centred <see cref="Grid1D"/>: one step is diffusion (explicit in
/// <see cref="Substeps"/> substeps, or implicit) followed by semi-Lagrangian self-advection, optionally plus
/// <c>dt * force</c>.
/// </summary>
/// <remarks>
/// Every model has the same shape: <c>Step</c> and its re-running pullback <c>StepBackward</c>; the recorded
/// pair (<c>Step(…, tape)</c> records the pullback's forward half, <c>StepBackward(…, tape)</c> runs its reverse
/// half, so a recorded rollout is differentiated without re-running steps); and the same four on packed spans
/// (<see cref="StepPacked(ReadOnlySpan{double}, Span{double})"/> …), the shape of the runtime's <c>Lift.Op</c>.
/// Inputs are checked: lengths, and NaN or infinite entries in the state and the force.
/// </remarks>
/// <example>
/// <code>
/// var b = Burgers1D.PbdlOptimization();                 // EXPERIMENTS §1: 128 cells, [-1, 1], dt 1/32
/// var u = b.Grid.Evaluate(x => -Math.Sin(Math.PI * x));
/// var next = new double[b.Cells];
/// b.Step(u, next);
/// // gradient of a loss L(next): seed nextBar = dL/dnext, get uBar = dL/du and nuBar = dL/dnu
/// var uBar = new double[b.Cells]; double nuBar = 0;
/// b.StepBackward(u, next, uBar, nextBar, ref nuBar);
/// </code>
/// </example>
public sealed class Burgers1D
{
    private readonly PackedLayout _state, _force;

    /// <summary>Creates the model and validates its settings.</summary>
    /// <param name="grid">Cells, interval and boundary.</param>
    /// <param name="viscosity">nu (non-negative).</param>
    /// <param name="dt">Time step (positive; explicit diffusion must be stable).</param>
    /// <param name="substeps">Diffusion substeps per step (positive).</param>
    /// <param name="implicitDiffusion">Use backward-Euler (CG) diffusion instead of explicit substeps; no stability limit.</param>
    public Burgers1D(Grid1D grid, double viscosity, double dt, int substeps = 1, bool implicitDiffusion = false)
    {
        grid.EnsureValid(nameof(grid));
        Check.NonNegative(viscosity, nameof(viscosity));
        Check.Positive(dt, nameof(dt));
        Check.Positive(substeps, nameof(substeps));
        Grid = grid; Viscosity = viscosity; Dt = dt; Substeps = substeps; ImplicitDiffusion = implicitDiffusion;
        if (!implicitDiffusion) Check.ExplicitDiffusion(viscosity, dt, Dx, double.PositiveInfinity, substeps, nameof(dt));
        _state = new PackedLayout("state", ("u", grid.Cells));
        _force = new PackedLayout("force", ("force", grid.Cells));
    }

    /// <summary>The setup of EXPERIMENTS §1: 128 cells on [-1, 1], periodic, nu = 0.01 / (128 pi), dt = 1/32, one substep.</summary>
    public static Burgers1D PbdlOptimization() => new(new Grid1D(128, -1, 1), 0.01 / (128 * Math.PI), 1.0 / 32);

    /// <summary>The grid (cells, interval, boundary).</summary>
    public Grid1D Grid { get; }
    /// <summary>Number of cells.</summary>
    public int Cells => Grid.Cells;
    /// <summary>Cell width.</summary>
    public double Dx => Grid.Dx;
    /// <summary>Viscosity nu.</summary>
    public double Viscosity { get; }
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Diffusion substeps per step.</summary>
    public int Substeps { get; }
    /// <summary>Whether diffusion is implicit (CG, relative tolerance 1e-14).</summary>
    public bool ImplicitDiffusion { get; }

    /// <summary>Cell-centre coordinates.</summary>
    public double[] CellCenters() => Grid.CellCenters();

    /// <summary>A field with <c>f(x)</c> at every cell centre.</summary>
    public double[] Evaluate(Func<double, double> f) => Grid.Evaluate(f);

    /// <summary>One step: <paramref name="next"/> = step(<paramref name="u"/>).</summary>
    public void Step(ReadOnlySpan<double> u, Span<double> next)
    {
        CheckInputs(u, default, false, next);
        double nuBar = 0;
        Run(StepMode.Primal, null, u, default, false, next, default, default, default, ref nuBar);
    }

    /// <summary>One forced step: step(u) + dt * force.</summary>
    public void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next)
    {
        CheckInputs(u, force, true, next);
        double nuBar = 0;
        Run(StepMode.Primal, null, u, force, true, next, default, default, default, ref nuBar);
    }

    /// <summary>
    /// The generated pullback of <see cref="Step(ReadOnlySpan{double}, Span{double})"/>: re-runs the step
    /// (writes <paramref name="next"/>), consumes the seed <paramref name="nextBar"/>, accumulates
    /// <c>dL/du</c> into <paramref name="uBar"/> and <c>dL/dnu</c> into <paramref name="nuBar"/>.
    /// </summary>
    public void StepBackward(ReadOnlySpan<double> u, Span<double> next, Span<double> uBar, Span<double> nextBar, ref double nuBar)
    {
        CheckInputs(u, default, false, next);
        CheckAdjoints(uBar, default, false, nextBar);
        Run(StepMode.Pullback, null, u, default, false, next, uBar, default, nextBar, ref nuBar);
    }

    /// <summary>The generated pullback of the forced step; also accumulates <c>dL/dforce</c>.</summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next, Span<double> uBar, Span<double> forceBar, Span<double> nextBar, ref double nuBar)
    {
        CheckInputs(u, force, true, next);
        CheckAdjoints(uBar, forceBar, true, nextBar);
        Run(StepMode.Pullback, null, u, force, true, next, uBar, forceBar, nextBar, ref nuBar);
    }

    /// <summary>
    /// One step that also records on <paramref name="tape"/> what the recorded <c>StepBackward</c> needs (it
    /// runs the generated pullback's forward half). Differentiating a recorded rollout runs each step once,
    /// where <see cref="StepBackward(ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, ref double)"/>
    /// re-runs it.
    /// </summary>
    public void Step(ReadOnlySpan<double> u, Span<double> next, Tape tape)
    {
        CheckInputs(u, default, false, next);
        ArgumentNullException.ThrowIfNull(tape);
        double nuBar = 0;
        Run(StepMode.Record, tape, u, default, false, next, default, default, default, ref nuBar);
    }

    /// <summary>The forced step, recording on <paramref name="tape"/> (see <see cref="Step(ReadOnlySpan{double}, Span{double}, Tape)"/>).</summary>
    public void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next, Tape tape)
    {
        CheckInputs(u, force, true, next);
        ArgumentNullException.ThrowIfNull(tape);
        double nuBar = 0;
        Run(StepMode.Record, tape, u, force, true, next, default, default, default, ref nuBar);
    }

    /// <summary>
    /// The reverse of a step recorded with <see cref="Step(ReadOnlySpan{double}, Span{double}, Tape)"/>: call it
    /// for the recorded steps in reverse order, with the same <paramref name="u"/> and <paramref name="next"/>
    /// (holding the step's result, which it keeps). Consumes the seed <paramref name="nextBar"/>, accumulates
    /// <c>dL/du</c> into <paramref name="uBar"/> and <c>dL/dnu</c> into <paramref name="nuBar"/>.
    /// </summary>
    public void StepBackward(ReadOnlySpan<double> u, Span<double> next, Span<double> uBar, Span<double> nextBar, ref double nuBar, Tape tape)
    {
        CheckInputs(u, default, false, next);
        CheckAdjoints(uBar, default, false, nextBar);
        ArgumentNullException.ThrowIfNull(tape);
        Run(StepMode.Reverse, tape, u, default, false, next, uBar, default, nextBar, ref nuBar);
    }

    /// <summary>The reverse of a forced step recorded with <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Tape)"/>; also accumulates <c>dL/dforce</c>.</summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next, Span<double> uBar, Span<double> forceBar, Span<double> nextBar, ref double nuBar, Tape tape)
    {
        CheckInputs(u, force, true, next);
        CheckAdjoints(uBar, forceBar, true, nextBar);
        ArgumentNullException.ThrowIfNull(tape);
        Run(StepMode.Reverse, tape, u, force, true, next, uBar, forceBar, nextBar, ref nuBar);
    }

    /// <summary>Length of the packed state (the state is u alone).</summary>
    public int PackedLength => _state.Length;

    /// <summary>The step on the packed state, the shape of the runtime's one-input <c>Lift.Op</c>.</summary>
    public void StepPacked(ReadOnlySpan<double> state, Span<double> next) => Packed(StepMode.Primal, null, false, state, default, next, default, default, default);

    /// <summary>The pullback of <see cref="StepPacked(ReadOnlySpan{double}, Span{double})"/> (seed in <paramref name="nextBar"/> consumed, <paramref name="stateBar"/> accumulates).</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, Span<double> next, Span<double> stateBar, Span<double> nextBar) =>
        Packed(StepMode.Pullback, null, false, state, default, next, stateBar, default, nextBar);

    /// <summary>The packed step recording on <paramref name="tape"/>.</summary>
    public void StepPacked(ReadOnlySpan<double> state, Span<double> next, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Record, tape, false, state, default, next, default, default, default);
    }

    /// <summary>The reverse of <see cref="StepPacked(ReadOnlySpan{double}, Span{double}, Tape)"/>.</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, Span<double> next, Span<double> stateBar, Span<double> nextBar, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Reverse, tape, false, state, default, next, stateBar, default, nextBar);
    }

    /// <summary>The forced step on packed spans (state u, control force), the shape of the two-input <c>Lift.Op</c>.</summary>
    public void StepPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next) =>
        Packed(StepMode.Primal, null, true, state, force, next, default, default, default);

    /// <summary>The pullback of <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/>.</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Span<double> stateBar, Span<double> forceBar, Span<double> nextBar) =>
        Packed(StepMode.Pullback, null, true, state, force, next, stateBar, forceBar, nextBar);

    /// <summary>The forced packed step recording on <paramref name="tape"/> (the shape of <c>Lift.RecordedOp</c>).</summary>
    public void StepPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Record, tape, true, state, force, next, default, default, default);
    }

    /// <summary>The reverse of <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Tape)"/>.</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Span<double> stateBar, Span<double> forceBar, Span<double> nextBar, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Reverse, tape, true, state, force, next, stateBar, forceBar, nextBar);
    }

    // The state is u itself, so the packed forms run the kernels on the spans as given.
    private void Packed(StepMode mode, Tape? tape, bool forced, ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next,
        Span<double> stateBar, Span<double> forceBar, Span<double> nextBar)
    {
        PackedLayout.CheckStep(mode, _state, forced ? _force : null, state, force, next, stateBar, forceBar, nextBar);
        double nuBar = 0;
        Run(mode, tape, state, force, forced, next, stateBar, forceBar, nextBar, ref nuBar);
    }

    // Tight, because CG's stopping point moves with the input and a loose solve shows up as noise in
    // finite-difference checks; 1D solves are cheap.
    private const double ImplicitTolerance = 1e-14;
    private const int ImplicitMaxIterations = 10000;

    /// <summary>Runs one of the four generated forms of this model's step kernel (the only place that calls them).</summary>
    private void Run(StepMode mode, Tape? tape, ReadOnlySpan<double> u, ReadOnlySpan<double> force, bool forced, Span<double> next,
        Span<double> uBar, Span<double> forceBar, Span<double> nextBar, ref double nuBar)
    {
        double nu = Viscosity, dt = Dt, tol = ImplicitTolerance, dtBar = 0;
        int sub = Substeps, it = ImplicitMaxIterations;
        var g = Grid;
        // A recorded step marks its tape frame (name and inputs), so a reverse out of order or with other inputs throws.
        string step = forced ? "Burgers1D.ForcedStep" : "Burgers1D.Step";
        if (mode == StepMode.Record) tape!.PushStep(step, u, force);
        else if (mode == StepMode.Reverse) tape!.PopStep(step, u, force);
        // The reverse halves restore no span they wrote, so next keeps the step's result (RecordedRolloutTests checks it).
        switch (mode, ImplicitDiffusion, forced)
        {
            case (StepMode.Primal, false, false): ModelKernels.Burgers1DStep(u, next, g, nu, dt, sub); break;
            case (StepMode.Primal, false, true): ModelKernels.Burgers1DForcedStep(u, force, next, g, nu, dt, sub); break;
            case (StepMode.Primal, true, false): ModelKernels.Burgers1DImplicitStep(u, next, g, nu, dt, tol, it); break;
            case (StepMode.Primal, true, true): ModelKernels.Burgers1DImplicitForcedStep(u, force, next, g, nu, dt, tol, it); break;
            case (StepMode.Pullback, false, false): ModelKernels.Burgers1DStepPullback(u, next, g, nu, dt, sub, uBar, nextBar, ref nuBar, ref dtBar); break;
            case (StepMode.Pullback, false, true): ModelKernels.Burgers1DForcedStepPullback(u, force, next, g, nu, dt, sub, uBar, forceBar, nextBar, ref nuBar, ref dtBar); break;
            case (StepMode.Pullback, true, false): ModelKernels.Burgers1DImplicitStepPullback(u, next, g, nu, dt, tol, it, uBar, nextBar, ref nuBar, ref dtBar); break;
            case (StepMode.Pullback, true, true): ModelKernels.Burgers1DImplicitForcedStepPullback(u, force, next, g, nu, dt, tol, it, uBar, forceBar, nextBar, ref nuBar, ref dtBar); break;
            case (StepMode.Record, false, false): ModelKernels.Burgers1DStepPullbackForward(u, next, g, nu, dt, sub, tape!); break;
            case (StepMode.Record, false, true): ModelKernels.Burgers1DForcedStepPullbackForward(u, force, next, g, nu, dt, sub, tape!); break;
            case (StepMode.Record, true, false): ModelKernels.Burgers1DImplicitStepPullbackForward(u, next, g, nu, dt, tol, it, tape!); break;
            case (StepMode.Record, true, true): ModelKernels.Burgers1DImplicitForcedStepPullbackForward(u, force, next, g, nu, dt, tol, it, tape!); break;
            case (StepMode.Reverse, false, false): ModelKernels.Burgers1DStepPullbackReverse(u, next, g, nu, dt, sub, uBar, nextBar, ref nuBar, ref dtBar, tape!); break;
            case (StepMode.Reverse, false, true): ModelKernels.Burgers1DForcedStepPullbackReverse(u, force, next, g, nu, dt, sub, uBar, forceBar, nextBar, ref nuBar, ref dtBar, tape!); break;
            case (StepMode.Reverse, true, false): ModelKernels.Burgers1DImplicitStepPullbackReverse(u, next, g, nu, dt, tol, it, uBar, nextBar, ref nuBar, ref dtBar, tape!); break;
            default: ModelKernels.Burgers1DImplicitForcedStepPullbackReverse(u, force, next, g, nu, dt, tol, it, uBar, forceBar, nextBar, ref nuBar, ref dtBar, tape!); break;
        }
    }

    private void CheckInputs(ReadOnlySpan<double> u, ReadOnlySpan<double> force, bool forced, ReadOnlySpan<double> next)
    {
        Check.Length(u.Length, Cells, nameof(u), "this grid");
        Check.Length(next.Length, Cells, nameof(next), "this grid");
        if (forced) Check.Length(force.Length, Cells, nameof(force), "the force on this grid");
        Check.FiniteField(u, nameof(u));
        if (forced) Check.FiniteField(force, nameof(force));
    }

    private void CheckAdjoints(ReadOnlySpan<double> uBar, ReadOnlySpan<double> forceBar, bool forced, ReadOnlySpan<double> nextBar)
    {
        Check.Length(uBar.Length, Cells, nameof(uBar), "the state adjoint");
        if (forced) Check.Length(forceBar.Length, Cells, nameof(forceBar), "the force adjoint");
        Check.Length(nextBar.Length, Cells, nameof(nextBar), "the state adjoint");
    }
}
