using ILGPU;
using ILGPU.Runtime;
using static System.FormattableString;

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
        _deviceMaxIterations = (int)Math.Min(int.MaxValue, Math.Max(maxIterations, 20L * (grid.Nx + grid.Ny)));
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

    private int _deviceMaxIterations;

    /// <summary>
    /// CG iteration limit of the device steps (<see cref="StepDevice"/> and the others on an accelerator), whose
    /// pressure solve is Jacobi-preconditioned CG (<c>Pressure.SolvePressureDevice</c>) rather than the CPU's
    /// multigrid-preconditioned CG: to the same tolerance it needs many more iterations, a count that grows with
    /// the grid's width, where the multigrid one stays nearly flat. Default
    /// <c>max(MaxIterations, 20 * (Nx + Ny))</c>: <see cref="MaxIterations"/> is kept as the floor (the limit a
    /// caller chose), the second term keeps a wide grid from failing where the CPU step converges (measured on
    /// closed boxes up to 64x64 at tolerance 1e-10: below 5 iterations per cell across; the term allows 20).
    /// It is only a cap: a solve stops as soon as it meets the tolerance, so a larger cap costs nothing on a
    /// converging solve. Settable (positive) for a grid or tolerance that needs more.
    /// </summary>
    public int DeviceMaxIterations
    {
        get => _deviceMaxIterations;
        init { Check.Positive(value, nameof(DeviceMaxIterations)); _deviceMaxIterations = value; }
    }

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

    /// <summary>
    /// <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, Span{double})"/>
    /// on an ILGPU accelerator: the arrays are views in its memory (no host copy); the generated
    /// <c>ModelKernels.SmokeStepDevice.Run</c>, whose pressure solve is Jacobi CG to <see cref="Tolerance"/> within
    /// <see cref="DeviceMaxIterations"/> (it agrees with the CPU step to about the tolerance, not bit for bit).
    /// The pressure is solved from zero, as on the CPU (no warm start from <paramref name="pressure"/>'s contents).
    /// The inputs are not scanned for NaN (that would read them back to the host): a non-finite state reaches the
    /// solve, which throws a <see cref="SolverException"/>. Returns when the device is done.
    /// </summary>
    public void StepDevice(Accelerator accelerator, ArrayView<double> smoke, ArrayView<double> u, ArrayView<double> v, ArrayView<double> inflow,
        ArrayView<double> smokeNext, ArrayView<double> uNext, ArrayView<double> vNext, ArrayView<double> pressure)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        CheckLengths(smoke.IntLength, u.IntLength, v.IntLength, inflow.IntLength, smokeNext.IntLength, uNext.IntLength, vNext.IntLength, pressure.IntLength, "");
        ModelKernels.SmokeStepDevice.Run(accelerator, smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, Grid, Dt, Buoyancy, Tolerance, DeviceMaxIterations);
    }

    /// <summary>
    /// The pullback of <see cref="StepDevice"/> on the accelerator (the generated <c>ModelKernels.SmokeStepDevice.Pullback</c>):
    /// the seeds in <paramref name="smokeNextBar"/>, <paramref name="uNextBar"/>, <paramref name="vNextBar"/> and
    /// <paramref name="pressureBar"/> are consumed, the other adjoints accumulate; <paramref name="buoyancyBar"/> is a
    /// one-element view the buoyancy's adjoint is added to. Returns when the device is done.
    /// Like the CPU pullback, it leaves the step's outputs in <paramref name="smokeNext"/>, <paramref name="uNext"/>,
    /// <paramref name="vNext"/> and <paramref name="pressure"/>.
    /// </summary>
    public void StepDeviceBackward(Accelerator accelerator, ArrayView<double> smoke, ArrayView<double> u, ArrayView<double> v, ArrayView<double> inflow,
        ArrayView<double> smokeNext, ArrayView<double> uNext, ArrayView<double> vNext, ArrayView<double> pressure,
        ArrayView<double> smokeBar, ArrayView<double> uBar, ArrayView<double> vBar, ArrayView<double> inflowBar,
        ArrayView<double> smokeNextBar, ArrayView<double> uNextBar, ArrayView<double> vNextBar, ArrayView<double> pressureBar, ArrayView<double> buoyancyBar)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        CheckLengths(smoke.IntLength, u.IntLength, v.IntLength, inflow.IntLength, smokeNext.IntLength, uNext.IntLength, vNext.IntLength, pressure.IntLength, "");
        CheckLengths(smokeBar.IntLength, uBar.IntLength, vBar.IntLength, inflowBar.IntLength, smokeNextBar.IntLength, uNextBar.IntLength, vNextBar.IntLength, pressureBar.IntLength, "Bar");
        if (buoyancyBar.Length != 1) throw new ArgumentException(Invariant($"buoyancyBar has {buoyancyBar.Length} entries but must be a one-element view."), nameof(buoyancyBar));
        using var dtBar = accelerator.Allocate1D<double>(1);
        dtBar.MemSetToZero();
        ModelKernels.SmokeStepDevice.Pullback(accelerator, smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, Grid, Dt, Buoyancy, Tolerance, DeviceMaxIterations,
            smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar, dtBar.View, buoyancyBar);
    }

    /// <summary>
    /// <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/> on an ILGPU accelerator (packed views
    /// <c>[smoke, u, v]</c>, the inflow, <c>[smoke', u', v']</c> in its memory); the shape of <c>DiffGen.Tensors.DeviceStep2</c>,
    /// for <c>Lift.DeviceOp</c>. As on the CPU the pressure is an internal temporary, solved from zero every step (nothing is
    /// kept between steps); it lives on the device. Solver settings as in <see cref="StepDevice"/>. Returns when the device is done.
    /// </summary>
    public void StepPackedDevice(Accelerator accelerator, ArrayView<double> state, ArrayView<double> inflow, ArrayView<double> next)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        CheckPackedViews(state, inflow, next, "state", "inflow", "next");
        int c = Grid.Cells.Count;
        using var p = accelerator.Allocate1D<double>(c);
        p.MemSetToZero();
        var (s, u, v) = Parts(state);
        var (sn, un, vn) = Parts(next);
        ModelKernels.SmokeStepDevice.Run(accelerator, s, u, v, inflow, sn, un, vn, p.View, Grid, Dt, Buoyancy, Tolerance, DeviceMaxIterations);
    }

    /// <summary>
    /// The pullback of <see cref="StepPackedDevice"/> (the shape of <c>DiffGen.Tensors.DeviceStep2Pullback</c>): the seed in
    /// <paramref name="nextBar"/> is consumed, <paramref name="stateBar"/> and <paramref name="inflowBar"/> accumulate (as
    /// <see cref="StepPackedBackward(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, Span{double})"/>;
    /// the temporary pressure's adjoint starts at zero); it leaves the step's output in <paramref name="next"/>, as the CPU
    /// pullback does. Returns when the device is done.
    /// </summary>
    public void StepPackedDeviceBackward(Accelerator accelerator, ArrayView<double> state, ArrayView<double> inflow, ArrayView<double> next,
        ArrayView<double> stateBar, ArrayView<double> inflowBar, ArrayView<double> nextBar)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        CheckPackedViews(state, inflow, next, "state", "inflow", "next");
        CheckPackedViews(stateBar, inflowBar, nextBar, "stateBar", "inflowBar", "nextBar");
        int c = Grid.Cells.Count;
        // [p, pBar, dtBar, buoyancyBar]: the pressure and its adjoint are temporaries, the scalar adjoints are dropped (as on the CPU).
        using var scratch = accelerator.Allocate1D<double>(2L * c + 2);
        scratch.MemSetToZero();
        var (s, u, v) = Parts(state);
        var (sn, un, vn) = Parts(next);
        var (sBar, uBar, vBar) = Parts(stateBar);
        var (snBar, unBar, vnBar) = Parts(nextBar);
        var w = scratch.View;
        ModelKernels.SmokeStepDevice.Pullback(accelerator, s, u, v, inflow, sn, un, vn, w.SubView(0, c), Grid, Dt, Buoyancy, Tolerance, DeviceMaxIterations,
            sBar, uBar, vBar, inflowBar, snBar, unBar, vnBar, w.SubView(c, c), w.SubView(2L * c, 1), w.SubView(2L * c + 1, 1));
    }

    // The [smoke, u, v] parts of a packed view.
    private (ArrayView<double> Smoke, ArrayView<double> U, ArrayView<double> V) Parts(ArrayView<double> packed)
    {
        int c = Grid.Cells.Count, fu = Grid.UCount, fv = Grid.VCount;
        return (packed.SubView(0, c), packed.SubView(c, fu), packed.SubView(c + fu, fv));
    }

    private void CheckPackedViews(ArrayView<double> state, ArrayView<double> inflow, ArrayView<double> next, string ns, string ni, string nn)
    {
        Check.Length(checked((int)state.Length), _state.Length, ns, _state.Description);
        Check.Length(checked((int)inflow.Length), _inflow.Length, ni, _inflow.Description);
        Check.Length(checked((int)next.Length), _state.Length, nn, _state.Description);
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
        ReadOnlySpan<double> smokeNext, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> pressure, string suffix) =>
        CheckLengths(smoke.Length, u.Length, v.Length, inflow.Length, smokeNext.Length, uNext.Length, vNext.Length, pressure.Length, suffix);

    // The same on lengths (spans or device views).
    private void CheckLengths(int smoke, int u, int v, int inflow, int smokeNext, int uNext, int vNext, int pressure, string suffix)
    {
        int c = Grid.Cells.Count, fu = Grid.UCount, fv = Grid.VCount;
        Check.Length(smoke, c, "smoke" + suffix, _cellsText);
        Check.Length(u, fu, "u" + suffix, _uText);
        Check.Length(v, fv, "v" + suffix, _vText);
        Check.Length(inflow, c, "inflow" + suffix, _cellsText);
        Check.Length(smokeNext, c, "smokeNext" + suffix, _cellsText);
        Check.Length(uNext, fu, "uNext" + suffix, _uText);
        Check.Length(vNext, fv, "vNext" + suffix, _vText);
        Check.Length(pressure, c, "pressure" + suffix, _cellsText);
    }
}
