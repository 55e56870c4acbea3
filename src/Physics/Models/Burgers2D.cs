using ILGPU;
using ILGPU.Runtime;
using static System.FormattableString;

namespace DiffGen.Physics;

/// <summary>
/// 2D viscous Burgers' equation with forcing on a cell-centred <see cref="Grid2D"/> (velocity (u, v) both at
/// the cell centres, row-major <c>u[j*nx+i]</c>): explicit diffusion, semi-Lagrangian self-advection,
/// <c>+ dt * force</c>. The same shape as every model (see <see cref="Burgers1D"/>): plain, re-running pullback,
/// recorded and packed steps; packed state <c>[u, v]</c>, control <c>[fu, fv]</c>.
/// </summary>
/// <example>
/// <code>
/// var m = new Burgers2D(new Grid2D(32, 32, 32.0, 32.0), viscosity: 0.1, dt: 0.1);   // EXPERIMENTS §3 source grid
/// m.Step(u, v, fu, fv, uNext, vNext);
/// m.StepBackward(u, v, fu, fv, uNext, vNext, uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, ref nuBar);
/// </code>
/// </example>
public sealed class Burgers2D
{
    private readonly PackedLayout _state, _force;
    private readonly string _cells;

    /// <summary>Creates the model and validates its settings.</summary>
    /// <param name="grid">Cells, domain and boundary (of the velocity).</param>
    /// <param name="viscosity">nu (non-negative).</param>
    /// <param name="dt">Time step (positive; explicit diffusion must be stable).</param>
    /// <param name="substeps">Diffusion substeps per step (positive).</param>
    public Burgers2D(Grid2D grid, double viscosity, double dt, int substeps = 1)
    {
        grid.EnsureValid(nameof(grid));
        Check.NonNegative(viscosity, nameof(viscosity));
        Check.Positive(dt, nameof(dt));
        Check.Positive(substeps, nameof(substeps));
        Grid = grid; Viscosity = viscosity; Dt = dt; Substeps = substeps;
        Check.ExplicitDiffusion(viscosity, dt, Dx, Dy, substeps, nameof(dt));
        _state = new PackedLayout("state", ("u", grid.Count), ("v", grid.Count));
        _force = new PackedLayout("force", ("fu", grid.Count), ("fv", grid.Count));
        _cells = FormattableString.Invariant($"a {grid.Nx}x{grid.Ny} grid");
    }

    /// <summary>The cell-centred grid (cells, domain, boundary).</summary>
    public Grid2D Grid { get; }
    /// <summary>Cells in x.</summary>
    public int Nx => Grid.Nx;
    /// <summary>Cells in y.</summary>
    public int Ny => Grid.Ny;
    /// <summary>Cell width.</summary>
    public double Dx => Grid.Dx;
    /// <summary>Cell height.</summary>
    public double Dy => Grid.Dy;
    /// <summary>Viscosity.</summary>
    public double Viscosity { get; }
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Diffusion substeps per step.</summary>
    public int Substeps { get; }
    /// <summary>Boundary per side.</summary>
    public Boundary2D Boundary => Grid.Boundary;

    /// <summary>One step; <paramref name="fu"/>, <paramref name="fv"/> are the force components (cell-centred).</summary>
    public void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, Span<double> uNext, Span<double> vNext)
    {
        CheckInputs(u, v, fu, fv, uNext, vNext);
        double nuBar = 0;
        Run(StepMode.Primal, null, u, v, fu, fv, uNext, vNext, default, default, default, default, default, default, ref nuBar);
    }

    /// <summary>The generated pullback of <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double})"/> (re-runs the step; seeds uNextBar/vNextBar are consumed, the other adjoints accumulate).</summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, Span<double> uNext, Span<double> vNext,
        Span<double> uBar, Span<double> vBar, Span<double> fuBar, Span<double> fvBar, Span<double> uNextBar, Span<double> vNextBar, ref double nuBar)
    {
        CheckInputs(u, v, fu, fv, uNext, vNext);
        CheckAdjoints(uBar, vBar, fuBar, fvBar, uNextBar, vNextBar);
        Run(StepMode.Pullback, null, u, v, fu, fv, uNext, vNext, uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, ref nuBar);
    }

    /// <summary>One step recording on <paramref name="tape"/> what the recorded <c>StepBackward</c> needs (the pullback's forward half).</summary>
    public void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, Span<double> uNext, Span<double> vNext, Tape tape)
    {
        CheckInputs(u, v, fu, fv, uNext, vNext);
        ArgumentNullException.ThrowIfNull(tape);
        double nuBar = 0;
        Run(StepMode.Record, tape, u, v, fu, fv, uNext, vNext, default, default, default, default, default, default, ref nuBar);
    }

    /// <summary>
    /// The reverse of a step recorded with <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double}, Tape)"/>:
    /// call it for the recorded steps in reverse order with the same inputs; the outputs may be scratch.
    /// </summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, Span<double> uNext, Span<double> vNext,
        Span<double> uBar, Span<double> vBar, Span<double> fuBar, Span<double> fvBar, Span<double> uNextBar, Span<double> vNextBar, ref double nuBar, Tape tape)
    {
        CheckInputs(u, v, fu, fv, uNext, vNext);
        CheckAdjoints(uBar, vBar, fuBar, fvBar, uNextBar, vNextBar);
        ArgumentNullException.ThrowIfNull(tape);
        Run(StepMode.Reverse, tape, u, v, fu, fv, uNext, vNext, uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, ref nuBar);
    }

    /// <summary>Length of the packed state <c>[u, v]</c> (and of the packed force <c>[fu, fv]</c>).</summary>
    public int PackedLength => _state.Length;

    /// <summary>
    /// One step on packed spans, the shape the runtime's <c>Lift.Op</c> (two-input form) expects:
    /// state <c>[u, v]</c>, control <c>[fu, fv]</c>, output <c>[u', v']</c>.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next) =>
        Packed(StepMode.Primal, null, state, force, next, default, default, default);

    /// <summary>The pullback of <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/> (seeds in <paramref name="nextBar"/> are consumed).</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Span<double> stateBar, Span<double> forceBar, Span<double> nextBar) =>
        Packed(StepMode.Pullback, null, state, force, next, stateBar, forceBar, nextBar);

    /// <summary>
    /// <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/> recording on
    /// <paramref name="tape"/> what the recorded <c>StepPackedBackward</c> needs (the generated pullback's
    /// forward half), so the backward does not re-run the step.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Record, tape, state, force, next, default, default, default);
    }

    /// <summary>
    /// The reverse of a step recorded with <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Tape)"/>:
    /// the same inputs, the tape it recorded on; <paramref name="next"/> may be scratch. The seed in
    /// <paramref name="nextBar"/> is consumed, <paramref name="stateBar"/> and <paramref name="forceBar"/> accumulate.
    /// </summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Span<double> stateBar, Span<double> forceBar, Span<double> nextBar, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Reverse, tape, state, force, next, stateBar, forceBar, nextBar);
    }

    /// <summary>
    /// <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double})"/> on
    /// an ILGPU accelerator: the arrays are views in its memory (no host copy); the generated
    /// <c>ModelKernels.Burgers2DStepDevice.Run</c>. Returns when the device is done.
    /// </summary>
    public void StepDevice(Accelerator accelerator, ArrayView<double> u, ArrayView<double> v, ArrayView<double> fu, ArrayView<double> fv, ArrayView<double> uNext, ArrayView<double> vNext)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        CheckViews(u, v, fu, fv, uNext, vNext, "u", "v", "fu", "fv", "uNext", "vNext");
        ModelKernels.Burgers2DStepDevice.Run(accelerator, u, v, fu, fv, uNext, vNext, Grid, Dt, Viscosity, Substeps);
    }

    /// <summary>
    /// The pullback of <see cref="StepDevice"/> on the accelerator (the generated <c>ModelKernels.Burgers2DStepDevice.Pullback</c>):
    /// re-runs the step into <paramref name="uNext"/>, <paramref name="vNext"/>; the seeds in <paramref name="uNextBar"/> and
    /// <paramref name="vNextBar"/> are consumed, the other adjoints accumulate; <paramref name="nuBar"/> is a one-element
    /// view the viscosity's adjoint is added to. Returns when the device is done.
    /// </summary>
    public void StepDeviceBackward(Accelerator accelerator, ArrayView<double> u, ArrayView<double> v, ArrayView<double> fu, ArrayView<double> fv, ArrayView<double> uNext, ArrayView<double> vNext,
        ArrayView<double> uBar, ArrayView<double> vBar, ArrayView<double> fuBar, ArrayView<double> fvBar, ArrayView<double> uNextBar, ArrayView<double> vNextBar, ArrayView<double> nuBar)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        CheckViews(u, v, fu, fv, uNext, vNext, "u", "v", "fu", "fv", "uNext", "vNext");
        CheckViews(uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, "uBar", "vBar", "fuBar", "fvBar", "uNextBar", "vNextBar");
        if (nuBar.Length != 1) throw new ArgumentException(Invariant($"nuBar has {nuBar.Length} entries but must be a one-element view."), nameof(nuBar));
        using var dtBar = accelerator.Allocate1D<double>(1);
        dtBar.MemSetToZero();
        ModelKernels.Burgers2DStepDevice.Pullback(accelerator, u, v, fu, fv, uNext, vNext, Grid, Dt, Viscosity, Substeps,
            uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, dtBar.View, nuBar);
    }

    /// <summary>
    /// <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/> on an ILGPU accelerator (packed views
    /// <c>[u, v]</c>, <c>[fu, fv]</c>, <c>[u', v']</c> in its memory); the shape of <c>DiffGen.Tensors.DeviceStep2</c>, for <c>Lift.DeviceOp</c>.
    /// Returns when the device is done.
    /// </summary>
    public void StepPackedDevice(Accelerator accelerator, ArrayView<double> state, ArrayView<double> force, ArrayView<double> next)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        CheckPackedViews(state, force, next, "state", "force", "next");
        int n = Grid.Count;
        ModelKernels.Burgers2DStepDevice.Run(accelerator, state.SubView(0, n), state.SubView(n, n), force.SubView(0, n), force.SubView(n, n), next.SubView(0, n), next.SubView(n, n),
            Grid, Dt, Viscosity, Substeps);
    }

    /// <summary>
    /// The pullback of <see cref="StepPackedDevice"/> (the shape of <c>DiffGen.Tensors.DeviceStep2Pullback</c>): re-runs the step into
    /// <paramref name="next"/>; the seed in <paramref name="nextBar"/> is consumed, <paramref name="stateBar"/> and
    /// <paramref name="forceBar"/> accumulate (as <see cref="StepPackedBackward(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, Span{double})"/>).
    /// Returns when the device is done.
    /// </summary>
    public void StepPackedDeviceBackward(Accelerator accelerator, ArrayView<double> state, ArrayView<double> force, ArrayView<double> next,
        ArrayView<double> stateBar, ArrayView<double> forceBar, ArrayView<double> nextBar)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        CheckPackedViews(state, force, next, "state", "force", "next");
        CheckPackedViews(stateBar, forceBar, nextBar, "stateBar", "forceBar", "nextBar");
        int n = Grid.Count;
        // The step's dt and nu adjoints are not wanted here (the CPU packed pullback drops them too).
        using var scalarBars = accelerator.Allocate1D<double>(2);
        scalarBars.MemSetToZero();
        ModelKernels.Burgers2DStepDevice.Pullback(accelerator, state.SubView(0, n), state.SubView(n, n), force.SubView(0, n), force.SubView(n, n), next.SubView(0, n), next.SubView(n, n),
            Grid, Dt, Viscosity, Substeps,
            stateBar.SubView(0, n), stateBar.SubView(n, n), forceBar.SubView(0, n), forceBar.SubView(n, n), nextBar.SubView(0, n), nextBar.SubView(n, n),
            scalarBars.View.SubView(0, 1), scalarBars.View.SubView(1, 1));
    }

    private void CheckPackedViews(ArrayView<double> state, ArrayView<double> force, ArrayView<double> next, string ns, string nf, string nn)
    {
        Check.Length(checked((int)state.Length), _state.Length, ns, _state.Description);
        Check.Length(checked((int)force.Length), _force.Length, nf, _force.Description);
        Check.Length(checked((int)next.Length), _state.Length, nn, _state.Description);
    }

    private void CheckViews(ArrayView<double> a, ArrayView<double> b, ArrayView<double> c, ArrayView<double> d, ArrayView<double> e, ArrayView<double> f,
        string na, string nb, string nc, string nd, string ne, string nf)
    {
        int n = Grid.Count;
        Check.Length(checked((int)a.Length), n, na, _cells);
        Check.Length(checked((int)b.Length), n, nb, _cells);
        Check.Length(checked((int)c.Length), n, nc, _cells);
        Check.Length(checked((int)d.Length), n, nd, _cells);
        Check.Length(checked((int)e.Length), n, ne, _cells);
        Check.Length(checked((int)f.Length), n, nf, _cells);
    }

    private void Packed(StepMode mode, Tape? tape, ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Span<double> stateBar, Span<double> forceBar, Span<double> nextBar)
    {
        PackedLayout.CheckStep(mode, _state, _force, state, force, next, stateBar, forceBar, nextBar);
        double nuBar = 0;
        if (mode is StepMode.Pullback or StepMode.Reverse)
            Run(mode, tape, _state.Part(state, 0), _state.Part(state, 1), _force.Part(force, 0), _force.Part(force, 1), _state.Part(next, 0), _state.Part(next, 1),
                _state.Part(stateBar, 0), _state.Part(stateBar, 1), _force.Part(forceBar, 0), _force.Part(forceBar, 1), _state.Part(nextBar, 0), _state.Part(nextBar, 1), ref nuBar);
        else
            Run(mode, tape, _state.Part(state, 0), _state.Part(state, 1), _force.Part(force, 0), _force.Part(force, 1), _state.Part(next, 0), _state.Part(next, 1),
                default, default, default, default, default, default, ref nuBar);
    }

    /// <summary>Runs one of the four generated forms of the step kernel (the only place that calls them).</summary>
    private void Run(StepMode mode, Tape? tape, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, Span<double> uNext, Span<double> vNext,
        Span<double> uBar, Span<double> vBar, Span<double> fuBar, Span<double> fvBar, Span<double> uNextBar, Span<double> vNextBar, ref double nuBar)
    {
        double dtBar = 0;
        // A recorded step marks its tape frame (name and inputs), so a reverse out of order or with other inputs throws.
        if (mode == StepMode.Record) tape!.PushStep("Burgers2D.Step", u, v, fu, fv);
        else if (mode == StepMode.Reverse) tape!.PopStep("Burgers2D.Step", u, v, fu, fv);
        switch (mode)
        {
            case StepMode.Primal:
                ModelKernels.Burgers2DStepParallel(u, v, fu, fv, uNext, vNext, Grid, Dt, Viscosity, Substeps);
                break;
            case StepMode.Pullback:
                ModelKernels.Burgers2DStepPullback(u, v, fu, fv, uNext, vNext, Grid, Dt, Viscosity, Substeps,
                    uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, ref dtBar, ref nuBar);
                break;
            case StepMode.Record:
                ModelKernels.Burgers2DStepPullbackForward(u, v, fu, fv, uNext, vNext, Grid, Dt, Viscosity, Substeps, tape!);
                break;
            default:
                ModelKernels.Burgers2DStepPullbackReverse(u, v, fu, fv, uNext, vNext, Grid, Dt, Viscosity, Substeps,
                    uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, ref dtBar, ref nuBar, tape!);
                break;
        }
    }

    private void CheckInputs(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext)
    {
        CheckLengths(u, v, fu, fv, uNext, vNext, "u", "v", "fu", "fv", "uNext", "vNext");
        Check.FiniteField(u, nameof(u));
        Check.FiniteField(v, nameof(v));
        Check.FiniteField(fu, nameof(fu));
        Check.FiniteField(fv, nameof(fv));
    }

    private void CheckAdjoints(ReadOnlySpan<double> uBar, ReadOnlySpan<double> vBar, ReadOnlySpan<double> fuBar, ReadOnlySpan<double> fvBar, ReadOnlySpan<double> uNextBar, ReadOnlySpan<double> vNextBar) =>
        CheckLengths(uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, "uBar", "vBar", "fuBar", "fvBar", "uNextBar", "vNextBar");

    private void CheckLengths(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, ReadOnlySpan<double> d, ReadOnlySpan<double> e, ReadOnlySpan<double> f,
        string na, string nb, string nc, string nd, string ne, string nf)
    {
        int n = Grid.Count;
        string what = _cells;
        Check.Length(a.Length, n, na, what);
        Check.Length(b.Length, n, nb, what);
        Check.Length(c.Length, n, nc, what);
        Check.Length(d.Length, n, nd, what);
        Check.Length(e.Length, n, ne, what);
        Check.Length(f.Length, n, nf, what);
    }
}
