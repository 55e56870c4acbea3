namespace DiffGen.Physics;

/// <summary>
/// A 3D smoke plume with Boussinesq buoyancy along +y: smoke on the cell centres of a
/// <see cref="StaggeredGrid3D"/>, velocity on its faces, pressure projection by the multigrid-preconditioned
/// CG that the 2D models use. The velocity follows the grid's boundary (a closed box by default in
/// <see cref="ClosedBox"/>); the smoke uses <see cref="Boundary3D.Scalar"/> of it. The same shape as every
/// model (see <see cref="Burgers1D"/>); packed state <c>[smoke, u, v, w]</c>, control the inflow.
/// </summary>
/// <example>
/// <code>
/// var s = Smoke3D.ClosedBox(24, 32, 24);                      // unit cells, dt 1, buoyancy 1
/// var inflow = s.Grid.Cells.Ball(12, 4, 12, 3, 1.0 / 3);
/// s.Step(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure);
/// </code>
/// </example>
public sealed class Smoke3D
{
    private readonly PackedLayout _state, _inflow;
    private readonly string _cellsText, _uText, _vText, _wText;

    /// <summary>Creates the model and validates its settings.</summary>
    /// <param name="grid">Cells, domain and the velocity's boundary.</param>
    /// <param name="dt">Time step (positive).</param>
    /// <param name="buoyancy">Buoyancy factor (force (0, buoyancy * smoke, 0); finite).</param>
    /// <param name="tolerance">CG tolerance on the max-norm of the divergence.</param>
    /// <param name="maxIterations">CG iteration limit.</param>
    public Smoke3D(StaggeredGrid3D grid, double dt = 1, double buoyancy = 1, double tolerance = 1e-3, int maxIterations = 2000)
    {
        grid.Cells.EnsureValid(nameof(grid));
        Check.Positive(dt, nameof(dt));
        Check.Finite(buoyancy, nameof(buoyancy));
        Check.Positive(tolerance, nameof(tolerance));
        Check.Positive(maxIterations, nameof(maxIterations));
        Grid = grid; Dt = dt; Buoyancy = buoyancy; Tolerance = tolerance; MaxIterations = maxIterations;
        _state = new PackedLayout("state", ("smoke", grid.Cells.Count), ("u", grid.UCount), ("v", grid.VCount), ("w", grid.WCount));
        _inflow = new PackedLayout("inflow", ("inflow", grid.Cells.Count));
        _cellsText = FormattableString.Invariant($"{Nx}x{Ny}x{Nz} cells");
        _uText = FormattableString.Invariant($"{Nx + 1}x{Ny}x{Nz} x-faces");
        _vText = FormattableString.Invariant($"{Nx}x{Ny + 1}x{Nz} y-faces");
        _wText = FormattableString.Invariant($"{Nx}x{Ny}x{Nz + 1} z-faces");
    }

    /// <summary>The 3D analogue of the book's plume: nx x ny x nz unit cells in a closed box, dt 1, buoyancy 1.</summary>
    public static Smoke3D ClosedBox(int nx, int ny, int nz, double tolerance = 1e-3) =>
        new(new StaggeredGrid3D(nx, ny, nz, nx, ny, nz, Boundary3D.Closed), tolerance: tolerance);

    /// <summary>The MAC grid (its boundary is the velocity's).</summary>
    public StaggeredGrid3D Grid { get; }
    /// <summary>Cells in x.</summary>
    public int Nx => Grid.Nx;
    /// <summary>Cells in y (up).</summary>
    public int Ny => Grid.Ny;
    /// <summary>Cells in z.</summary>
    public int Nz => Grid.Nz;
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Buoyancy factor.</summary>
    public double Buoyancy { get; }
    /// <summary>CG tolerance.</summary>
    public double Tolerance { get; }
    /// <summary>CG iteration limit.</summary>
    public int MaxIterations { get; }

    /// <summary>One step (see <see cref="ModelKernels.Smoke3DStep"/>).</summary>
    public void Step(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> wNext, Span<double> pressure)
    {
        CheckInputs(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure);
        double bBar = 0;
        Run(StepMode.Primal, null, smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure, default, default, default, default, default, default, default, default, default, default, ref bBar);
    }

    /// <summary>The generated pullback of the step (re-runs it): seeds on the outputs are consumed, input adjoints accumulate.</summary>
    public void StepBackward(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> wNext, Span<double> pressure,
        Span<double> smokeBar, Span<double> uBar, Span<double> vBar, Span<double> wBar, Span<double> inflowBar,
        Span<double> smokeNextBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> wNextBar, Span<double> pressureBar, ref double buoyancyBar)
    {
        CheckInputs(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure);
        CheckLengths(smokeBar, uBar, vBar, wBar, inflowBar, smokeNextBar, uNextBar, vNextBar, wNextBar, pressureBar, "Bar");
        Run(StepMode.Pullback, null, smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure,
            smokeBar, uBar, vBar, wBar, inflowBar, smokeNextBar, uNextBar, vNextBar, wNextBar, pressureBar, ref buoyancyBar);
    }

    /// <summary>One step recording on <paramref name="tape"/> what the recorded <c>StepBackward</c> needs (the pullback's forward half).</summary>
    public void Step(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> wNext, Span<double> pressure, Tape tape)
    {
        CheckInputs(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure);
        ArgumentNullException.ThrowIfNull(tape);
        double bBar = 0;
        Run(StepMode.Record, tape, smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure, default, default, default, default, default, default, default, default, default, default, ref bBar);
    }

    /// <summary>The reverse of a recorded step: call it for the recorded steps in reverse order with the same inputs; the outputs may be scratch.</summary>
    public void StepBackward(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> wNext, Span<double> pressure,
        Span<double> smokeBar, Span<double> uBar, Span<double> vBar, Span<double> wBar, Span<double> inflowBar,
        Span<double> smokeNextBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> wNextBar, Span<double> pressureBar, ref double buoyancyBar, Tape tape)
    {
        CheckInputs(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure);
        CheckLengths(smokeBar, uBar, vBar, wBar, inflowBar, smokeNextBar, uNextBar, vNextBar, wNextBar, pressureBar, "Bar");
        ArgumentNullException.ThrowIfNull(tape);
        Run(StepMode.Reverse, tape, smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure,
            smokeBar, uBar, vBar, wBar, inflowBar, smokeNextBar, uNextBar, vNextBar, wNextBar, pressureBar, ref buoyancyBar);
    }

    /// <summary>Length of the packed state <c>[smoke, u, v, w]</c>.</summary>
    public int PackedLength => _state.Length;

    /// <summary>One step on the packed state with the inflow as a second input (the shape of the two-input <c>Lift.Op</c>). Thread-safe.</summary>
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
        // The pressure is a temporary here; its adjoint starts at zero.
        double[] p = new double[Grid.Cells.Count], pBar = adjoint ? new double[Grid.Cells.Count] : [];
        double bBar = 0;
        if (adjoint)
            Run(mode, tape, _state.Part(state, 0), _state.Part(state, 1), _state.Part(state, 2), _state.Part(state, 3), inflow,
                _state.Part(next, 0), _state.Part(next, 1), _state.Part(next, 2), _state.Part(next, 3), p,
                _state.Part(stateBar, 0), _state.Part(stateBar, 1), _state.Part(stateBar, 2), _state.Part(stateBar, 3), inflowBar,
                _state.Part(nextBar, 0), _state.Part(nextBar, 1), _state.Part(nextBar, 2), _state.Part(nextBar, 3), pBar, ref bBar);
        else
            Run(mode, tape, _state.Part(state, 0), _state.Part(state, 1), _state.Part(state, 2), _state.Part(state, 3), inflow,
                _state.Part(next, 0), _state.Part(next, 1), _state.Part(next, 2), _state.Part(next, 3), p,
                default, default, default, default, default, default, default, default, default, default, ref bBar);
    }

    /// <summary>Runs one of the four generated forms of the step kernel (the only place that calls them).</summary>
    private void Run(StepMode mode, Tape? tape, ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> wNext, Span<double> p,
        Span<double> smokeBar, Span<double> uBar, Span<double> vBar, Span<double> wBar, Span<double> inflowBar,
        Span<double> smokeNextBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> wNextBar, Span<double> pBar, ref double buoyancyBar)
    {
        double dtBar = 0;
        // A recorded step marks its tape frame (name and inputs), so a reverse out of order or with other inputs throws.
        if (mode == StepMode.Record) tape!.PushStep("Smoke3D.Step", smoke, u, v, w, inflow);
        else if (mode == StepMode.Reverse) tape!.PopStep("Smoke3D.Step", smoke, u, v, w, inflow);
        switch (mode)
        {
            case StepMode.Primal:
                ModelKernels.Smoke3DStepParallel(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, p, Grid, Dt, Buoyancy, Tolerance, MaxIterations);
                break;
            case StepMode.Pullback:
                ModelKernels.Smoke3DStepPullback(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, p, Grid, Dt, Buoyancy, Tolerance, MaxIterations,
                    smokeBar, uBar, vBar, wBar, inflowBar, smokeNextBar, uNextBar, vNextBar, wNextBar, pBar, ref dtBar, ref buoyancyBar);
                break;
            case StepMode.Record:
                ModelKernels.Smoke3DStepPullbackForward(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, p, Grid, Dt, Buoyancy, Tolerance, MaxIterations, tape!);
                break;
            default:
                ModelKernels.Smoke3DStepPullbackReverse(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, p, Grid, Dt, Buoyancy, Tolerance, MaxIterations,
                    smokeBar, uBar, vBar, wBar, inflowBar, smokeNextBar, uNextBar, vNextBar, wNextBar, pBar, ref dtBar, ref buoyancyBar, tape!);
                break;
        }
    }

    private void CheckInputs(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> inflow,
        ReadOnlySpan<double> smokeNext, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> wNext, ReadOnlySpan<double> pressure)
    {
        CheckLengths(smoke, u, v, w, inflow, smokeNext, uNext, vNext, wNext, pressure, "");
        Check.FiniteField(smoke, nameof(smoke));
        Check.FiniteField(u, nameof(u));
        Check.FiniteField(v, nameof(v));
        Check.FiniteField(w, nameof(w));
        Check.FiniteField(inflow, nameof(inflow));
    }

    // suffix "" for the fields, "Bar" for their adjoints (the names in messages).
    private void CheckLengths(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> inflow,
        ReadOnlySpan<double> smokeNext, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> wNext, ReadOnlySpan<double> pressure, string suffix)
    {
        int c = Grid.Cells.Count;
        Check.Length(smoke.Length, c, "smoke" + suffix, _cellsText);
        Check.Length(u.Length, Grid.UCount, "u" + suffix, _uText);
        Check.Length(v.Length, Grid.VCount, "v" + suffix, _vText);
        Check.Length(w.Length, Grid.WCount, "w" + suffix, _wText);
        Check.Length(inflow.Length, c, "inflow" + suffix, _cellsText);
        Check.Length(smokeNext.Length, c, "smokeNext" + suffix, _cellsText);
        Check.Length(uNext.Length, Grid.UCount, "uNext" + suffix, _uText);
        Check.Length(vNext.Length, Grid.VCount, "vNext" + suffix, _vText);
        Check.Length(wNext.Length, Grid.WCount, "wNext" + suffix, _wText);
        Check.Length(pressure.Length, c, "pressure" + suffix, _cellsText);
    }
}
