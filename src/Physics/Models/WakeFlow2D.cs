namespace DiffGen.Physics;

/// <summary>
/// Incompressible flow past a disc (EXPERIMENTS §3, wake flow): domain <c>width x height</c>
/// (default 100 x 200) on an nx x ny MAC grid, flow in +y; inflow velocity (0, <see cref="InflowVelocity"/>)
/// imposed on the faces with y &lt; <see cref="InflowDepth"/>; closed walls left and right and at the
/// bottom (where the inflow sets the velocity), open top; a solid disc. The Reynolds number is
/// <c>Re = U * 2R / nu</c>.
/// </summary>
/// <example>
/// <code>
/// var w = new WakeFlow2D(32, 64, reynolds: 100);
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

    /// <summary>Creates the model.</summary>
    /// <param name="nx">Cells in x.</param>
    /// <param name="ny">Cells in y (the flow direction).</param>
    /// <param name="reynolds">Re = U 2R / nu (ignored when <paramref name="viscosity"/> is given).</param>
    /// <param name="width">Domain width.</param>
    /// <param name="height">Domain height.</param>
    /// <param name="discX">Disc centre x.</param>
    /// <param name="discY">Disc centre y.</param>
    /// <param name="discRadius">Disc radius.</param>
    /// <param name="inflowVelocity">Inflow speed U (in +y).</param>
    /// <param name="inflowDepth">Faces below this height are set to (0, U) every step.</param>
    /// <param name="dt">Time step.</param>
    /// <param name="substeps">Explicit diffusion substeps.</param>
    /// <param name="tolerance">CG tolerance (max-norm of the divergence).</param>
    /// <param name="maxIterations">CG iteration limit.</param>
    /// <param name="boundary">Velocity boundary per side (default: closed left/right/bottom, open top).</param>
    /// <param name="forceSides">Also set v = U on the leftmost and rightmost column of y-faces every step (the
    /// PBDL notebook's free-stream sides).</param>
    /// <param name="viscosity">The viscosity directly (overrides <paramref name="reynolds"/>).</param>
    public WakeFlow2D(int nx = 32, int ny = 64, double reynolds = 100, double width = 100, double height = 200, double discX = 50, double discY = 50, double discRadius = 10,
        double inflowVelocity = 1, double inflowDepth = 5, double dt = 1, int substeps = 1, double tolerance = 1e-5, int maxIterations = 5000,
        Boundary2D? boundary = null, bool forceSides = false, double? viscosity = null)
    {
        Check.Positive(nx, nameof(nx));
        Check.Positive(ny, nameof(ny));
        Check.Positive(reynolds, nameof(reynolds));
        Check.Positive(width, nameof(width));
        Check.Positive(height, nameof(height));
        Check.Positive(discRadius, nameof(discRadius));
        Check.Positive(dt, nameof(dt));
        Check.Positive(substeps, nameof(substeps));
        Check.Positive(tolerance, nameof(tolerance));
        Check.Positive(maxIterations, nameof(maxIterations));
        Nx = nx; Ny = ny; Width = width; Height = height; Dx = width / nx; Dy = height / ny;
        InflowVelocity = inflowVelocity; InflowDepth = inflowDepth; Dt = dt; Substeps = substeps; Tolerance = tolerance; MaxIterations = maxIterations;
        DiscX = discX; DiscY = discY; DiscRadius = discRadius;
        Boundary = boundary ?? DefaultBoundary;
        Boundary.Validate(nameof(boundary));
        if (viscosity is double nuGiven) Check.NonNegative(nuGiven, nameof(viscosity));
        Viscosity = viscosity ?? Math.Abs(inflowVelocity) * 2 * discRadius / reynolds;
        Check.ExplicitDiffusion(Viscosity, dt, Dx, Dy, substeps, nameof(dt));
        _solid = new int[nx * ny];
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++)
            {
                double x = (i + 0.5) * Dx - discX, y = (j + 0.5) * Dy - discY;
                if (x * x + y * y <= discRadius * discRadius) _solid[j * nx + i] = 1;
            }
        _uMask = new double[(nx + 1) * ny];
        _vMask = new double[nx * (ny + 1)];
        for (int j = 0; j < ny; j++)
            for (int i = 0; i <= nx; i++)
                if ((j + 0.5) * Dy < inflowDepth) _uMask[j * (nx + 1) + i] = 1;
        for (int j = 0; j <= ny; j++)
            for (int i = 0; i < nx; i++)
                if (j * Dy < inflowDepth || (forceSides && (i == 0 || i == nx - 1))) _vMask[j * nx + i] = 1;
    }

    /// <summary>Cells in x.</summary>
    public int Nx { get; }
    /// <summary>Cells in y.</summary>
    public int Ny { get; }
    /// <summary>Domain width.</summary>
    public double Width { get; }
    /// <summary>Domain height.</summary>
    public double Height { get; }
    /// <summary>Cell width.</summary>
    public double Dx { get; }
    /// <summary>Cell height.</summary>
    public double Dy { get; }
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
    /// <summary>Viscosity from the Reynolds number.</summary>
    public double Viscosity { get; }
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Diffusion substeps.</summary>
    public int Substeps { get; }
    /// <summary>CG tolerance (max-norm of the divergence).</summary>
    public double Tolerance { get; }
    /// <summary>CG iteration limit.</summary>
    public int MaxIterations { get; }

    /// <summary>The default boundary: closed left, right and bottom (the bottom carries the inflow), open top.</summary>
    public static Boundary2D DefaultBoundary { get; } = new(BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.Zero, BoundaryKind.ZeroGradient);

    /// <summary>This model's velocity boundary per side.</summary>
    public Boundary2D Boundary { get; }

    /// <summary>The obstacle mask (nx x ny, 1 = solid).</summary>
    public ReadOnlySpan<int> Solid => _solid;

    /// <summary>
    /// The initial state: the inflow velocity everywhere outside the disc, with a small antisymmetric
    /// x-velocity bump behind the disc (<paramref name="perturbation"/>) that triggers shedding early.
    /// </summary>
    public (double[] U, double[] V) InitialState(double perturbation = 0.1)
    {
        var u = new double[(Nx + 1) * Ny];
        var v = new double[Nx * (Ny + 1)];
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
        CheckAll(u, v, uNext, vNext, pressure);
        ModelKernels.WakeStep(u, v, uNext, vNext, pressure, _solid, _uMask, _vMask, Nx, Ny, Dx, Dy, Dt, Viscosity, InflowVelocity, Substeps,
            Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode, Tolerance, MaxIterations);
    }

    /// <summary>The generated pullback of <see cref="Step"/>; accumulates <c>dL/dnu</c> into <paramref name="nuBar"/>.</summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uNext, Span<double> vNext, Span<double> pressure,
        Span<double> uBar, Span<double> vBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pressureBar, ref double nuBar)
    {
        CheckAll(u, v, uNext, vNext, pressure);
        CheckAll(uBar, vBar, uNextBar, vNextBar, pressureBar);
        double dtBar = 0, inflowBar = 0;
        var uMaskBar = new double[_uMask.Length];
        var vMaskBar = new double[_vMask.Length];
        ModelKernels.WakeStepPullback(u, v, uNext, vNext, pressure, _solid, _uMask, _vMask, Nx, Ny, Dx, Dy, Dt, Viscosity, InflowVelocity, Substeps,
            Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode, Tolerance, MaxIterations,
            uBar, vBar, uNextBar, vNextBar, pressureBar, uMaskBar, vMaskBar, ref dtBar, ref nuBar, ref inflowBar);
    }

    /// <summary>Length of the packed state <c>[u, v]</c> used by <see cref="StepPacked(ReadOnlySpan{double}, Span{double})"/>.</summary>
    public int PackedLength => (Nx + 1) * Ny + Nx * (Ny + 1);

    /// <summary>
    /// One step on the packed state <c>[u, v]</c> (the shape the runtime's <c>Lift.Op</c> expects); the
    /// pressure is an internal temporary. Thread-safe: batch items may run in parallel.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, Span<double> next)
    {
        int nu = (Nx + 1) * Ny;
        Check.Length(state.Length, PackedLength, nameof(state), "the packed state [u, v]");
        Check.Length(next.Length, PackedLength, nameof(next), "the packed state [u, v]");
        Step(state[..nu], state[nu..], next[..nu], next[nu..], new double[Nx * Ny]);
    }

    /// <summary>The pullback of <see cref="StepPacked(ReadOnlySpan{double}, Span{double})"/>.</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, Span<double> next, Span<double> stateBar, Span<double> nextBar)
    {
        int nu = (Nx + 1) * Ny;
        Check.Length(state.Length, PackedLength, nameof(state), "the packed state [u, v]");
        Check.Length(next.Length, PackedLength, nameof(next), "the packed state [u, v]");
        double nuBar = 0;
        StepBackward(state[..nu], state[nu..], next[..nu], next[nu..], new double[Nx * Ny], stateBar[..nu], stateBar[nu..], nextBar[..nu], nextBar[nu..], new double[Nx * Ny], ref nuBar);
    }

    /// <summary>
    /// <see cref="StepPacked(ReadOnlySpan{double}, Span{double})"/> recording on <paramref name="tape"/> what
    /// <see cref="StepPackedBackward(ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, Tape)"/> needs
    /// (the generated pullback's forward half), so the backward does not re-run the step and its pressure solve.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, Span<double> next, Tape tape)
    {
        int nu = (Nx + 1) * Ny;
        Check.Length(state.Length, PackedLength, nameof(state), "the packed state [u, v]");
        Check.Length(next.Length, PackedLength, nameof(next), "the packed state [u, v]");
        ArgumentNullException.ThrowIfNull(tape);
        tape.PushStep("WakeFlow2D.StepPacked", state);
        ModelKernels.WakeStepPullbackForward(state[..nu], state[nu..], next[..nu], next[nu..], new double[Nx * Ny], _solid, _uMask, _vMask, Nx, Ny, Dx, Dy, Dt, Viscosity, InflowVelocity, Substeps,
            Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode, Tolerance, MaxIterations, tape);
    }

    /// <summary>
    /// The reverse of a step recorded with <see cref="StepPacked(ReadOnlySpan{double}, Span{double}, Tape)"/>:
    /// the same state, the tape it recorded on; <paramref name="next"/> may be scratch. The seed in
    /// <paramref name="nextBar"/> is consumed, <paramref name="stateBar"/> accumulates.
    /// </summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, Span<double> next, Span<double> stateBar, Span<double> nextBar, Tape tape)
    {
        int nu = (Nx + 1) * Ny;
        Check.Length(state.Length, PackedLength, nameof(state), "the packed state [u, v]");
        Check.Length(next.Length, PackedLength, nameof(next), "the packed state [u, v]");
        Check.Length(stateBar.Length, PackedLength, nameof(stateBar), "the packed state [u, v]");
        Check.Length(nextBar.Length, PackedLength, nameof(nextBar), "the packed state [u, v]");
        ArgumentNullException.ThrowIfNull(tape);
        tape.PopStep("WakeFlow2D.StepPacked", state);
        double dtBar = 0, nuBar = 0, inflowBar = 0;
        ModelKernels.WakeStepPullbackReverse(state[..nu], state[nu..], next[..nu], next[nu..], new double[Nx * Ny], _solid, _uMask, _vMask, Nx, Ny, Dx, Dy, Dt, Viscosity, InflowVelocity, Substeps,
            Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode, Tolerance, MaxIterations,
            stateBar[..nu], stateBar[nu..], nextBar[..nu], nextBar[nu..], new double[Nx * Ny], new double[_uMask.Length], new double[_vMask.Length], ref dtBar, ref nuBar, ref inflowBar, tape);
    }

    private void CheckAll(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> pressure)
    {
        int fu = (Nx + 1) * Ny, fv = Nx * (Ny + 1);
        Check.Length(u.Length, fu, nameof(u), $"{Nx + 1}x{Ny} x-faces");
        Check.Length(v.Length, fv, nameof(v), $"{Nx}x{Ny + 1} y-faces");
        Check.Length(uNext.Length, fu, nameof(uNext), $"{Nx + 1}x{Ny} x-faces");
        Check.Length(vNext.Length, fv, nameof(vNext), $"{Nx}x{Ny + 1} y-faces");
        Check.Length(pressure.Length, Nx * Ny, nameof(pressure), $"{Nx}x{Ny} cells");
    }
}
