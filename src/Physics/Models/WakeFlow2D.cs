namespace DiffGen.Physics;

/// <summary>
/// Incompressible flow past a disc (EXPERIMENTS §3, wake flow) on a <see cref="StaggeredGrid2D"/>, flow in +y:
/// inflow velocity (0, <see cref="InflowVelocity"/>) imposed on the faces with y &lt; <see cref="InflowDepth"/>;
/// the velocity boundary of the grid (the book's: closed left, right and bottom, open top,
/// <see cref="DefaultBoundary"/>); a solid disc. Each step: semi-Lagrangian self-advection, explicit diffusion,
/// walls, inflow, obstacle, pressure projection. The Reynolds number is <c>Re = U * 2R / nu</c>.
/// The same shape as every model (see <see cref="Burgers1D"/>); packed state <c>[u, v]</c>.
/// </summary>
/// <example>
/// <code>
/// var w = WakeFlow2D.PbdlWake(32, 64, reynolds: 100);        // 100 x 200, disc (50, 50) r 10, inflow 1 for y &lt; 5
/// var (u, v) = w.InitialState();
/// w.Step(u, v, uNext, vNext, pressure);
/// w.StepBackward(u, v, uNext, vNext, pressure, uBar, vBar, uNextBar, vNextBar, pressureBar, ref nuBar);
/// </code>
/// </example>
public sealed class WakeFlow2D
{
    private readonly int[] _solid;
    private readonly double[] _uMask;
    private readonly double[] _vMask;
    private readonly PackedLayout _state;
    private readonly string _cellsText, _uText, _vText;

    /// <summary>Creates the model and validates its settings.</summary>
    /// <param name="grid">Cells, domain and the velocity's boundary.</param>
    /// <param name="viscosity">nu (non-negative).</param>
    /// <param name="dt">Time step (positive; explicit diffusion must be stable).</param>
    /// <param name="discX">Disc centre x.</param>
    /// <param name="discY">Disc centre y.</param>
    /// <param name="discRadius">Disc radius (positive).</param>
    /// <param name="inflowVelocity">Inflow speed U (in +y).</param>
    /// <param name="inflowDepth">Faces below this height are set to (0, U) every step.</param>
    /// <param name="substeps">Explicit diffusion substeps.</param>
    /// <param name="tolerance">CG tolerance (max-norm of the divergence).</param>
    /// <param name="maxIterations">CG iteration limit.</param>
    /// <param name="forceSides">Also set v = U on the leftmost and rightmost column of y-faces every step (the
    /// PBDL notebook's free-stream sides).</param>
    public WakeFlow2D(StaggeredGrid2D grid, double viscosity, double dt, double discX, double discY, double discRadius, double inflowVelocity, double inflowDepth,
        int substeps = 1, double tolerance = 1e-5, int maxIterations = 5000, bool forceSides = false)
    {
        grid.Cells.EnsureValid(nameof(grid));
        Check.NonNegative(viscosity, nameof(viscosity));
        Check.Positive(dt, nameof(dt));
        Check.Finite(discX, nameof(discX));
        Check.Finite(discY, nameof(discY));
        Check.Positive(discRadius, nameof(discRadius));
        Check.Finite(inflowVelocity, nameof(inflowVelocity));
        Check.Finite(inflowDepth, nameof(inflowDepth));
        Check.Positive(substeps, nameof(substeps));
        Check.Positive(tolerance, nameof(tolerance));
        Check.Positive(maxIterations, nameof(maxIterations));
        Grid = grid; Viscosity = viscosity; Dt = dt; Substeps = substeps; Tolerance = tolerance; MaxIterations = maxIterations;
        InflowVelocity = inflowVelocity; InflowDepth = inflowDepth; DiscX = discX; DiscY = discY; DiscRadius = discRadius;
        Check.ExplicitDiffusion(Viscosity, dt, Dx, Dy, substeps, nameof(dt));
        _solid = grid.Cells.DiscMask(discX, discY, discRadius);
        int nx = Nx, ny = Ny;
        _uMask = new double[grid.UCount];
        _vMask = new double[grid.VCount];
        for (int j = 0; j < ny; j++)
            for (int i = 0; i <= nx; i++)
                if ((j + 0.5) * Dy < inflowDepth) _uMask[j * (nx + 1) + i] = 1;
        for (int j = 0; j <= ny; j++)
            for (int i = 0; i < nx; i++)
                if (j * Dy < inflowDepth || (forceSides && (i == 0 || i == nx - 1))) _vMask[j * nx + i] = 1;
        _state = new PackedLayout("state", ("u", grid.UCount), ("v", grid.VCount));
        _cellsText = FormattableString.Invariant($"{Nx}x{Ny} cells");
        _uText = FormattableString.Invariant($"{Nx + 1}x{Ny} x-faces");
        _vText = FormattableString.Invariant($"{Nx}x{Ny + 1} y-faces");
    }

    /// <summary>
    /// The book's wake flow (EXPERIMENTS §3): a <paramref name="nx"/> x <paramref name="ny"/> MAC grid on 100 x 200, a disc
    /// of radius 10 at (50, 50), inflow 1 for y &lt; 5, viscosity from <paramref name="reynolds"/> (Re = U 2R / nu),
    /// <paramref name="boundary"/> by default <see cref="DefaultBoundary"/>.
    /// </summary>
    public static WakeFlow2D PbdlWake(int nx = 32, int ny = 64, double reynolds = 100, double dt = 1, int substeps = 1, double tolerance = 1e-5, int maxIterations = 5000,
        Boundary2D? boundary = null, bool forceSides = false)
    {
        Check.Positive(reynolds, nameof(reynolds));
        const double inflowVelocity = 1, discRadius = 10;
        var grid = new StaggeredGrid2D(nx, ny, 100, 200, boundary ?? DefaultBoundary);
        return new WakeFlow2D(grid, Math.Abs(inflowVelocity) * 2 * discRadius / reynolds, dt, 50, 50, discRadius, inflowVelocity, 5,
            substeps, tolerance, maxIterations, forceSides);
    }

    /// <summary>The MAC grid (its boundary is the velocity's).</summary>
    public StaggeredGrid2D Grid { get; }
    /// <summary>Cells in x.</summary>
    public int Nx => Grid.Nx;
    /// <summary>Cells in y (the flow direction).</summary>
    public int Ny => Grid.Ny;
    /// <summary>Domain width.</summary>
    public double Width => Grid.Width;
    /// <summary>Domain height.</summary>
    public double Height => Grid.Height;
    /// <summary>Cell width.</summary>
    public double Dx => Grid.Dx;
    /// <summary>Cell height.</summary>
    public double Dy => Grid.Dy;
    /// <summary>Disc centre x.</summary>
    public double DiscX { get; }
    /// <summary>Disc centre y.</summary>
    public double DiscY { get; }
    /// <summary>Disc radius.</summary>
    public double DiscRadius { get; }
    /// <summary>Inflow speed (in +y).</summary>
    public double InflowVelocity { get; }
    /// <summary>Faces below this height get the inflow velocity.</summary>
    public double InflowDepth { get; }
    /// <summary>Viscosity.</summary>
    public double Viscosity { get; }
    /// <summary>The Reynolds number U 2R / nu.</summary>
    public double Reynolds => Math.Abs(InflowVelocity) * 2 * DiscRadius / Viscosity;
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Diffusion substeps.</summary>
    public int Substeps { get; }
    /// <summary>CG tolerance (max-norm of the divergence).</summary>
    public double Tolerance { get; }
    /// <summary>CG iteration limit.</summary>
    public int MaxIterations { get; }

    /// <summary>The book's boundary: closed left, right and bottom (the bottom carries the inflow), open top.</summary>
    public static Boundary2D DefaultBoundary { get; } = new(BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.ZeroGradient);

    /// <summary>This model's velocity boundary per side.</summary>
    public Boundary2D Boundary => Grid.Boundary;

    /// <summary>The obstacle mask (nx x ny, 1 = solid).</summary>
    public ReadOnlySpan<int> Solid => _solid;

    /// <summary>
    /// The initial state: the inflow velocity everywhere outside the disc, with a small antisymmetric
    /// x-velocity bump behind the disc (<paramref name="perturbation"/>) that triggers shedding early.
    /// </summary>
    public (double[] U, double[] V) InitialState(double perturbation = 0.1)
    {
        Check.Finite(perturbation, nameof(perturbation));
        var u = new double[Grid.UCount];
        var v = new double[Grid.VCount];
        Array.Fill(v, InflowVelocity);
        for (int j = 0; j < Ny; j++)
            for (int i = 0; i <= Nx; i++)
            {
                double y = (j + 0.5) * Dy - (DiscY + 2 * DiscRadius);
                u[j * (Nx + 1) + i] = perturbation * Math.Exp(-y * y / (2 * DiscRadius * DiscRadius));
            }
        Fluids.ApplyWalls(u, v, Nx, Ny, Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode);
        Fluids.ApplyInflow(u, v, _uMask, _vMask, 0, InflowVelocity);
        Fluids.ApplyObstacle(u, v, _solid, Nx, Ny);
        return (u, v);
    }

    /// <summary>One step (see <see cref="ModelKernels.WakeStep"/>).</summary>
    public void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uNext, Span<double> vNext, Span<double> pressure)
    {
        CheckInputs(u, v, uNext, vNext, pressure);
        double nuBar = 0;
        Run(StepMode.Primal, null, u, v, uNext, vNext, pressure, default, default, default, default, default, ref nuBar);
    }

    /// <summary>The generated pullback of <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double}, Span{double})"/> (re-runs the step); accumulates <c>dL/dnu</c> into <paramref name="nuBar"/>.</summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uNext, Span<double> vNext, Span<double> pressure,
        Span<double> uBar, Span<double> vBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pressureBar, ref double nuBar)
    {
        CheckInputs(u, v, uNext, vNext, pressure);
        CheckLengths(uBar, vBar, uNextBar, vNextBar, pressureBar, "Bar");
        Run(StepMode.Pullback, null, u, v, uNext, vNext, pressure, uBar, vBar, uNextBar, vNextBar, pressureBar, ref nuBar);
    }

    /// <summary>One step recording on <paramref name="tape"/> what the recorded <c>StepBackward</c> needs (the pullback's forward half).</summary>
    public void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uNext, Span<double> vNext, Span<double> pressure, Tape tape)
    {
        CheckInputs(u, v, uNext, vNext, pressure);
        ArgumentNullException.ThrowIfNull(tape);
        double nuBar = 0;
        Run(StepMode.Record, tape, u, v, uNext, vNext, pressure, default, default, default, default, default, ref nuBar);
    }

    /// <summary>
    /// The reverse of a step recorded with <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, Tape)"/>:
    /// call it for the recorded steps in reverse order with the same inputs; the outputs may be scratch.
    /// </summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uNext, Span<double> vNext, Span<double> pressure,
        Span<double> uBar, Span<double> vBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pressureBar, ref double nuBar, Tape tape)
    {
        CheckInputs(u, v, uNext, vNext, pressure);
        CheckLengths(uBar, vBar, uNextBar, vNextBar, pressureBar, "Bar");
        ArgumentNullException.ThrowIfNull(tape);
        Run(StepMode.Reverse, tape, u, v, uNext, vNext, pressure, uBar, vBar, uNextBar, vNextBar, pressureBar, ref nuBar);
    }

    /// <summary>Length of the packed state <c>[u, v]</c> used by the packed steps.</summary>
    public int PackedLength => _state.Length;

    /// <summary>
    /// One step on the packed state <c>[u, v]</c> (the shape the runtime's <c>Lift.Op</c> expects); the
    /// pressure is an internal temporary. Thread-safe: batch items may run in parallel.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, Span<double> next) => Packed(StepMode.Primal, null, state, next, default, default);

    /// <summary>The pullback of <see cref="StepPacked(ReadOnlySpan{double}, Span{double})"/>.</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, Span<double> next, Span<double> stateBar, Span<double> nextBar) =>
        Packed(StepMode.Pullback, null, state, next, stateBar, nextBar);

    /// <summary>
    /// <see cref="StepPacked(ReadOnlySpan{double}, Span{double})"/> recording on <paramref name="tape"/> what
    /// <see cref="StepPackedBackward(ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, Tape)"/> needs
    /// (the generated pullback's forward half), so the backward does not re-run the step and its pressure solve.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, Span<double> next, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Record, tape, state, next, default, default);
    }

    /// <summary>
    /// The reverse of a step recorded with <see cref="StepPacked(ReadOnlySpan{double}, Span{double}, Tape)"/>:
    /// the same state, the tape it recorded on; <paramref name="next"/> may be scratch. The seed in
    /// <paramref name="nextBar"/> is consumed, <paramref name="stateBar"/> accumulates.
    /// </summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, Span<double> next, Span<double> stateBar, Span<double> nextBar, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Packed(StepMode.Reverse, tape, state, next, stateBar, nextBar);
    }

    private void Packed(StepMode mode, Tape? tape, ReadOnlySpan<double> state, Span<double> next, Span<double> stateBar, Span<double> nextBar)
    {
        PackedLayout.CheckStep(mode, _state, null, state, default, next, stateBar, default, nextBar);
        bool adjoint = mode is StepMode.Pullback or StepMode.Reverse;
        ReadOnlySpan<double> u = _state.Part(state, 0), v = _state.Part(state, 1);
        // The pressure is a temporary here; its adjoint starts at zero.
        double[] p = new double[Grid.Cells.Count], pBar = adjoint ? new double[Grid.Cells.Count] : [];
        double nuBar = 0;
        if (adjoint)
            Run(mode, tape, u, v, _state.Part(next, 0), _state.Part(next, 1), p, _state.Part(stateBar, 0), _state.Part(stateBar, 1), _state.Part(nextBar, 0), _state.Part(nextBar, 1), pBar, ref nuBar);
        else
            Run(mode, tape, u, v, _state.Part(next, 0), _state.Part(next, 1), p, default, default, default, default, default, ref nuBar);
    }

    /// <summary>Runs one of the four generated forms of the step kernel (the only place that calls them).</summary>
    private void Run(StepMode mode, Tape? tape, ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uNext, Span<double> vNext, Span<double> p,
        Span<double> uBar, Span<double> vBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pBar, ref double nuBar)
    {
        double dtBar = 0, inflowBar = 0;
        // A recorded step marks its tape frame (name and inputs), so a reverse out of order or with other inputs throws.
        if (mode == StepMode.Record) tape!.PushStep("WakeFlow2D.Step", u, v);
        else if (mode == StepMode.Reverse) tape!.PopStep("WakeFlow2D.Step", u, v);
        switch (mode)
        {
            case StepMode.Primal:
                ModelKernels.WakeStepParallel(u, v, uNext, vNext, p, _solid, _uMask, _vMask, Grid, Dt, Viscosity, InflowVelocity, Substeps, Tolerance, MaxIterations);
                break;
            case StepMode.Pullback:
                ModelKernels.WakeStepPullback(u, v, uNext, vNext, p, _solid, _uMask, _vMask, Grid, Dt, Viscosity, InflowVelocity, Substeps, Tolerance, MaxIterations,
                    uBar, vBar, uNextBar, vNextBar, pBar, ref dtBar, ref nuBar, ref inflowBar);
                break;
            case StepMode.Record:
                ModelKernels.WakeStepPullbackForward(u, v, uNext, vNext, p, _solid, _uMask, _vMask, Grid, Dt, Viscosity, InflowVelocity, Substeps, Tolerance, MaxIterations, tape!);
                break;
            default:
                ModelKernels.WakeStepPullbackReverse(u, v, uNext, vNext, p, _solid, _uMask, _vMask, Grid, Dt, Viscosity, InflowVelocity, Substeps, Tolerance, MaxIterations,
                    uBar, vBar, uNextBar, vNextBar, pBar, ref dtBar, ref nuBar, ref inflowBar, tape!);
                break;
        }
    }

    private void CheckInputs(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> pressure)
    {
        CheckLengths(u, v, uNext, vNext, pressure, "");
        Check.FiniteField(u, nameof(u));
        Check.FiniteField(v, nameof(v));
    }

    // suffix "" for the fields, "Bar" for their adjoints (the names in messages).
    private void CheckLengths(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> pressure, string suffix)
    {
        Check.Length(u.Length, Grid.UCount, "u" + suffix, _uText);
        Check.Length(v.Length, Grid.VCount, "v" + suffix, _vText);
        Check.Length(uNext.Length, Grid.UCount, "uNext" + suffix, _uText);
        Check.Length(vNext.Length, Grid.VCount, "vNext" + suffix, _vText);
        Check.Length(pressure.Length, Grid.Cells.Count, "pressure" + suffix, _cellsText);
    }
}
