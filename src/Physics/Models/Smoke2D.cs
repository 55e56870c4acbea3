namespace DiffGen.Physics;

/// <summary>
/// Smoke plume with Boussinesq buoyancy (EXPERIMENTS §2): smoke on the cell centres of a
/// <see cref="StaggeredGrid2D"/>, velocity on its faces (u: (nx+1) x ny, v: nx x (ny+1)), buoyancy along +y,
/// pressure projection by multigrid-preconditioned CG. The velocity follows the grid's boundary (the book's
/// setup is a closed box, <see cref="PbdlPlume"/>); the smoke uses <see cref="Boundary2D.Scalar"/> of it.
/// The same shape as every model (see <see cref="Burgers1D"/>); packed state <c>[smoke, u, v]</c>, control the inflow.
/// </summary>
/// <example>
/// <code>
/// var s = Smoke2D.PbdlPlume(32, 40);                            // unit cells, closed box, dt = 1, buoyancy 1
/// var inflow = s.Grid.Cells.Disc(12, 4, 3, 1.0 / 3);
/// s.Step(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
/// s.StepBackward(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure,
///                smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar, ref buoyancyBar);
/// </code>
/// </example>
public sealed class Smoke2D
{
    private readonly PackedLayout _state, _inflow;
    private readonly string _cellsText, _uText, _vText;

    /// <summary>Creates the model and validates its settings.</summary>
    /// <param name="grid">Cells, domain and the velocity's boundary.</param>
    /// <param name="dt">Time step (positive).</param>
    /// <param name="buoyancy">Buoyancy factor (force (0, buoyancy * smoke); finite).</param>
    /// <param name="tolerance">CG tolerance on the max-norm of the divergence.</param>
    /// <param name="maxIterations">CG iteration limit.</param>
    public Smoke2D(StaggeredGrid2D grid, double dt = 1, double buoyancy = 1, double tolerance = 1e-3, int maxIterations = 2000)
    {
        grid.Cells.EnsureValid(nameof(grid));
        Check.Positive(dt, nameof(dt));
        Check.Finite(buoyancy, nameof(buoyancy));
        Check.Positive(tolerance, nameof(tolerance));
        Check.Positive(maxIterations, nameof(maxIterations));
        Grid = grid; Dt = dt; Buoyancy = buoyancy; Tolerance = tolerance; MaxIterations = maxIterations;
        _state = new PackedLayout("state", ("smoke", grid.Cells.Count), ("u", grid.UCount), ("v", grid.VCount));
        _inflow = new PackedLayout("inflow", ("inflow", grid.Cells.Count));
        _cellsText = FormattableString.Invariant($"{Nx}x{Ny} cells");
        _uText = FormattableString.Invariant($"{Nx + 1}x{Ny} x-faces");
        _vText = FormattableString.Invariant($"{Nx}x{Ny + 1} y-faces");
    }

    /// <summary>The book's setup (EXPERIMENTS §2): nx x ny unit cells in a closed box, dt 1, buoyancy 1.</summary>
    public static Smoke2D PbdlPlume(int nx = 32, int ny = 40, double tolerance = 1e-3) =>
        new(new StaggeredGrid2D(nx, ny, nx, ny, Boundary2D.Closed), tolerance: tolerance);

    /// <summary>The MAC grid (its boundary is the velocity's).</summary>
    public StaggeredGrid2D Grid { get; }
    /// <summary>Cells in x.</summary>
    public int Nx => Grid.Nx;
    /// <summary>Cells in y.</summary>
    public int Ny => Grid.Ny;
    /// <summary>Cell width.</summary>
    public double Dx => Grid.Dx;
    /// <summary>Cell height.</summary>
    public double Dy => Grid.Dy;
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Buoyancy factor.</summary>
    public double Buoyancy { get; }
    /// <summary>CG tolerance.</summary>
    public double Tolerance { get; }
    /// <summary>CG iteration limit.</summary>
    public int MaxIterations { get; }

    /// <summary>
    /// An inflow field: <paramref name="amount"/> in every cell whose centre lies within
    /// <paramref name="radius"/> of (<paramref name="cx"/>, <paramref name="cy"/>) (physical units); the same as
    /// <c>Grid.Cells.Disc</c>.
    /// </summary>
    public double[] DiscInflow(double cx, double cy, double radius, double amount) => Grid.Cells.Disc(cx, cy, radius, amount);

    /// <summary>One step (see <see cref="ModelKernels.SmokeStep"/>).</summary>
    public void Step(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> pressure)
    {
        CheckInputs(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
        double bBar = 0;
        Run(StepMode.Primal, null, smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, default, default, default, default, default, default, default, default, ref bBar);
    }

    /// <summary>The generated pullback of <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, Span{double})"/> (re-runs the step): seeds on the outputs are consumed, input adjoints accumulate.</summary>
    public void StepBackward(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> pressure,
        Span<double> smokeBar, Span<double> uBar, Span<double> vBar, Span<double> inflowBar,
        Span<double> smokeNextBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pressureBar, ref double buoyancyBar)
    {
        CheckInputs(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
        CheckLengths(smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar, "Bar");
        Run(StepMode.Pullback, null, smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar, ref buoyancyBar);
    }

    /// <summary>
    /// One step that also records on <paramref name="tape"/> what the recorded <c>StepBackward</c> needs (the
    /// generated pullback's forward half): a recorded rollout is reversed without re-running its steps and
    /// their pressure solves.
    /// </summary>
    public void Step(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> pressure, Tape tape)
    {
        CheckInputs(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
        ArgumentNullException.ThrowIfNull(tape);
        double bBar = 0;
        Run(StepMode.Record, tape, smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, default, default, default, default, default, default, default, default, ref bBar);
    }

    /// <summary>
    /// The reverse of a step recorded with <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, Span{double}, Tape)"/>:
    /// call it for the recorded steps in reverse order, with the same inputs; the output spans may be
    /// scratch (what the reverse needs of them is on the tape). Seeds on the outputs are consumed, input
    /// adjoints accumulate.
    /// </summary>
    public void StepBackward(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> pressure,
        Span<double> smokeBar, Span<double> uBar, Span<double> vBar, Span<double> inflowBar,
        Span<double> smokeNextBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pressureBar, ref double buoyancyBar, Tape tape)
    {
        CheckInputs(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
        CheckLengths(smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar, "Bar");
        ArgumentNullException.ThrowIfNull(tape);
        Run(StepMode.Reverse, tape, smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar, ref buoyancyBar);
    }

    /// <summary>Length of the packed state <c>[smoke, u, v]</c> used by the packed steps.</summary>
    public int PackedLength => _state.Length;

    /// <summary>
    /// One step on the packed state <c>[smoke, u, v]</c> with the inflow as a second input (the shape of the
    /// runtime's two-input <c>Lift.Op</c>); the pressure is an internal temporary. Thread-safe.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> inflow, Span<double> next) =>
        Packed(StepMode.Primal, null, state, inflow, next, default, default, default);

    /// <summary>The pullback of <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/>.</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, ReadOnlySpan<double> inflow, Span<double> next, Span<double> stateBar, Span<double> inflowBar, Span<double> nextBar) =>
        Packed(StepMode.Pullback, null, state, inflow, next, stateBar, inflowBar, nextBar);

    /// <summary>The packed step recording on <paramref name="tape"/> (the shape of <c>Lift.RecordedOp</c>).</summary>
    public void StepPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> inflow, Span<double> next, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Record, tape, state, inflow, next, default, default, default);
    }

    /// <summary>The reverse of <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Tape)"/>; <paramref name="next"/> may be scratch.</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, ReadOnlySpan<double> inflow, Span<double> next, Span<double> stateBar, Span<double> inflowBar, Span<double> nextBar, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Reverse, tape, state, inflow, next, stateBar, inflowBar, nextBar);
    }

    private void Packed(StepMode mode, Tape? tape, ReadOnlySpan<double> state, ReadOnlySpan<double> inflow, Span<double> next, Span<double> stateBar, Span<double> inflowBar, Span<double> nextBar)
    {
        PackedLayout.CheckStep(mode, _state, _inflow, state, inflow, next, stateBar, inflowBar, nextBar);
        bool adjoint = mode is StepMode.Pullback or StepMode.Reverse;
        ReadOnlySpan<double> s = _state.Part(state, 0), u = _state.Part(state, 1), v = _state.Part(state, 2);
        Span<double> sn = _state.Part(next, 0), un = _state.Part(next, 1), vn = _state.Part(next, 2);
        // The pressure is a temporary here; its adjoint starts at zero.
        double[] p = new double[Grid.Cells.Count], pBar = adjoint ? new double[Grid.Cells.Count] : [];
        double bBar = 0;
        if (adjoint)
            Run(mode, tape, s, u, v, inflow, sn, un, vn, p, _state.Part(stateBar, 0), _state.Part(stateBar, 1), _state.Part(stateBar, 2), inflowBar,
                _state.Part(nextBar, 0), _state.Part(nextBar, 1), _state.Part(nextBar, 2), pBar, ref bBar);
        else
            Run(mode, tape, s, u, v, inflow, sn, un, vn, p, default, default, default, default, default, default, default, default, ref bBar);
    }

    /// <summary>Runs one of the four generated forms of the step kernel (the only place that calls them).</summary>
    private void Run(StepMode mode, Tape? tape, ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> p,
        Span<double> smokeBar, Span<double> uBar, Span<double> vBar, Span<double> inflowBar,
        Span<double> smokeNextBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pBar, ref double buoyancyBar)
    {
        double dtBar = 0;
        // A recorded step marks its tape frame (name and inputs), so a reverse out of order or with other inputs throws.
        if (mode == StepMode.Record) tape!.PushStep("Smoke2D.Step", smoke, u, v, inflow);
        else if (mode == StepMode.Reverse) tape!.PopStep("Smoke2D.Step", smoke, u, v, inflow);
        switch (mode)
        {
            case StepMode.Primal:
                ModelKernels.SmokeStepParallel(smoke, u, v, inflow, smokeNext, uNext, vNext, p, Grid, Dt, Buoyancy, Tolerance, MaxIterations);
                break;
            case StepMode.Pullback:
                ModelKernels.SmokeStepPullback(smoke, u, v, inflow, smokeNext, uNext, vNext, p, Grid, Dt, Buoyancy, Tolerance, MaxIterations,
                    smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pBar, ref dtBar, ref buoyancyBar);
                break;
            case StepMode.Record:
                ModelKernels.SmokeStepPullbackForward(smoke, u, v, inflow, smokeNext, uNext, vNext, p, Grid, Dt, Buoyancy, Tolerance, MaxIterations, tape!);
                break;
            default:
                ModelKernels.SmokeStepPullbackReverse(smoke, u, v, inflow, smokeNext, uNext, vNext, p, Grid, Dt, Buoyancy, Tolerance, MaxIterations,
                    smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pBar, ref dtBar, ref buoyancyBar, tape!);
                break;
        }
    }

    private void CheckInputs(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        ReadOnlySpan<double> smokeNext, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> pressure)
    {
        CheckLengths(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, "");
        Check.FiniteField(smoke, nameof(smoke));
        Check.FiniteField(u, nameof(u));
        Check.FiniteField(v, nameof(v));
        Check.FiniteField(inflow, nameof(inflow));
    }

    // suffix "" for the fields, "Bar" for their adjoints (the names in messages).
    private void CheckLengths(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        ReadOnlySpan<double> smokeNext, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> pressure, string suffix)
    {
        int c = Grid.Cells.Count, fu = Grid.UCount, fv = Grid.VCount;
        Check.Length(smoke.Length, c, "smoke" + suffix, _cellsText);
        Check.Length(u.Length, fu, "u" + suffix, _uText);
        Check.Length(v.Length, fv, "v" + suffix, _vText);
        Check.Length(inflow.Length, c, "inflow" + suffix, _cellsText);
        Check.Length(smokeNext.Length, c, "smokeNext" + suffix, _cellsText);
        Check.Length(uNext.Length, fu, "uNext" + suffix, _uText);
        Check.Length(vNext.Length, fv, "vNext" + suffix, _vText);
        Check.Length(pressure.Length, c, "pressure" + suffix, _cellsText);
    }
}
