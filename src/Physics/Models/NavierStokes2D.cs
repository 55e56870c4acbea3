namespace DiffGen.Physics;

/// <summary>A circular obstacle given as fractions of the domain side (Mosaic's convention: centre (0.5, 0.5), radius 0.1).</summary>
/// <param name="CentreX">Centre x / side.</param>
/// <param name="CentreY">Centre y / side.</param>
/// <param name="Radius">Radius / side.</param>
public sealed record Cylinder(double CentreX = 0.5, double CentreY = 0.5, double Radius = 0.1);

/// <summary>
/// Which outputs of each step a loss reads directly: called for step k (whose outputs are the state k + 1 and the
/// pressure of step k) during the reverse sweep; add dL/d(outputs) to the spans (they hold the adjoint flowing
/// back from later steps).
/// </summary>
public delegate void StepSeed(int step, Span<double> uNextBar, Span<double> vNextBar, Span<double> pressureBar);

/// <summary>What a rollout's reverse sweep held: states (u and v of one step) and recorded steps at the peak.</summary>
/// <param name="StoredStates">Most states held at once (checkpoints and the recomputed segment).</param>
/// <param name="RecordedSteps">Most step tapes held at once.</param>
/// <param name="StepEvaluations">Forward step evaluations, recomputation included.</param>
public sealed record RolloutStats(int StoredStates, int RecordedSteps, int StepEvaluations);

/// <summary>
/// 2D incompressible Navier–Stokes on a square n x n MAC grid of side <see cref="Extent"/> (Mosaic's
/// <c>navier_stokes_grid</c> task: doubly periodic [0, 2π]² by default): semi-Lagrangian self-advection,
/// explicit diffusion, optional cylinder obstacle and inflow profile, pressure projection by multigrid-
/// preconditioned CG with its implicit adjoint. Gradients come from the generated pullback of
/// <see cref="NavierStokesKernels.Step"/>; <see cref="Backward"/> reverses a whole rollout, storing every step or
/// checkpointing every k-th state and recomputing the rest.
/// </summary>
/// <example>
/// <code>
/// var ns = new NavierStokes2D(32, viscosity: 0.01, dt: 0.05);           // periodic [0, 2π]²
/// var (u, v) = ns.TaylorGreen();
/// var (uT, vT) = ns.Run(u, v, steps: 20);
/// var ch = NavierStokes2D.Channel(64, 0.0025, 0.02, new Cylinder(0.5, 0.5, 0.05), periodicX: true);
/// double drag = ch.MeanDrag(ch.InflowProfile(0.5), steps: 200, initialSpeed: 0.5);
/// </code>
/// </example>
public sealed class NavierStokes2D
{
    private readonly int[] _solid;
    private readonly int _inflowMode;

    /// <summary>Creates the model.</summary>
    /// <param name="n">Cells per side.</param>
    /// <param name="viscosity">Kinematic viscosity ν (≥ 0).</param>
    /// <param name="dt">Time step.</param>
    /// <param name="extent">Side of the square domain (Mosaic: 2π; its drag task: 1).</param>
    /// <param name="boundary">Velocity boundary per side (default periodic).</param>
    /// <param name="cylinder">An obstacle, or null.</param>
    /// <param name="inflow">Whether steps take an inflow profile <c>u_x(y)</c> (n values) imposed at x = 0: after the
    /// projection on a periodic x axis (Mosaic's PhiFlow channel), before it when the left side is a wall
    /// (<see cref="BoundaryKind.Zero"/>), which the projection then keeps.</param>
    /// <param name="substeps">Explicit diffusion substeps; 0 picks the fewest stable ones.</param>
    /// <param name="rk2">RK2 (midpoint) backtrace in the semi-Lagrangian advection instead of Euler.</param>
    /// <param name="macCormack">MacCormack advection (second order, <see cref="NavierStokesKernels.MacCormackVelocity2D"/>) instead of semi-Lagrangian.</param>
    /// <param name="tolerance">Pressure CG tolerance (max-norm of the divergence left).</param>
    /// <param name="maxIterations">Pressure CG iteration limit.</param>
    public NavierStokes2D(int n, double viscosity, double dt, double extent = 2 * Math.PI, Boundary2D? boundary = null, Cylinder? cylinder = null,
        bool inflow = false, int substeps = 0, bool rk2 = true, double tolerance = 1e-9, int maxIterations = 2000, bool macCormack = false)
    {
        if (n < 4) throw new ArgumentException($"n must be at least 4 (got {n}).", nameof(n));
        Check.NonNegative(viscosity, nameof(viscosity));
        Check.Positive(dt, nameof(dt));
        Check.Positive(extent, nameof(extent));
        Check.Positive(tolerance, nameof(tolerance));
        Check.Positive(maxIterations, nameof(maxIterations));
        if (substeps < 0) throw new ArgumentException($"substeps must be 0 (automatic) or positive (got {substeps}).", nameof(substeps));
        Boundary = boundary ?? Boundary2D.Periodic;
        Boundary.Validate(nameof(boundary));
        N = n; Extent = extent; Dx = extent / n; Viscosity = viscosity; Dt = dt; Rk2 = rk2; MacCormack = macCormack; Tolerance = tolerance; MaxIterations = maxIterations;
        double stable = Diffusion.MaxStableExplicitDt(viscosity, Dx, Dx, 1);
        Substeps = substeps > 0 ? substeps : Math.Max(1, (int)Math.Ceiling(dt / stable * (1 + 1e-12)));
        Check.ExplicitDiffusion(viscosity, dt, Dx, Dx, Substeps, nameof(dt));
        Cylinder = cylinder;
        if (cylinder != null)
        {
            Check.Positive(cylinder.Radius, nameof(cylinder));
            _solid = new Grid2D(n, n, extent, extent).DiscMask(cylinder.CentreX * extent, cylinder.CentreY * extent, cylinder.Radius * extent);
            if (!_solid.Contains(1)) throw new ArgumentException($"The cylinder {cylinder} covers no cell centre of a {n}x{n} grid; use a larger radius or grid.", nameof(cylinder));
        }
        else _solid = [];
        if (inflow)
        {
            if (Boundary.XLo == BoundaryKind.Periodic) _inflowMode = NavierStokesKernels.InflowAfterProjection;
            else if (Boundary.XLo == BoundaryKind.Zero) _inflowMode = NavierStokesKernels.InflowBeforeProjection;
            else throw new ArgumentException("An inflow needs a periodic x axis or a closed left side (BoundaryKind.Zero) whose faces carry the profile.", nameof(boundary));
        }
        Grid = new StaggeredGrid2D(n, n, extent, extent, Boundary);
    }

    /// <summary>
    /// Mosaic's channel for the drag task: no-slip walls at y = 0 and y = side, the inflow profile at x = 0, and
    /// either a periodic x axis (<paramref name="periodicX"/>, Mosaic's declared boundary) or an open right side.
    /// </summary>
    public static NavierStokes2D Channel(int n, double viscosity, double dt, Cylinder cylinder, bool periodicX = true, double extent = 1, double tolerance = 1e-9, bool macCormack = false)
    {
        ArgumentNullException.ThrowIfNull(cylinder);
        var b = periodicX
            ? new Boundary2D(BoundaryKind.Periodic, BoundaryKind.Periodic, BoundaryKind.Zero, BoundaryKind.Zero)
            : new Boundary2D(BoundaryKind.Zero, BoundaryKind.ZeroGradient, BoundaryKind.Zero, BoundaryKind.Zero);
        return new NavierStokes2D(n, viscosity, dt, extent, b, cylinder, inflow: true, tolerance: tolerance, macCormack: macCormack);
    }

    /// <summary>Cells per side.</summary>
    public int N { get; }
    /// <summary>Side of the domain.</summary>
    public double Extent { get; }
    /// <summary>Cell size.</summary>
    public double Dx { get; }
    /// <summary>Viscosity ν.</summary>
    public double Viscosity { get; }
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Explicit diffusion substeps per step.</summary>
    public int Substeps { get; }
    /// <summary>Whether the semi-Lagrangian backtrace is RK2.</summary>
    public bool Rk2 { get; }
    /// <summary>Whether the advection is MacCormack.</summary>
    public bool MacCormack { get; }
    /// <summary>Pressure CG tolerance.</summary>
    public double Tolerance { get; }
    /// <summary>Pressure CG iteration limit.</summary>
    public int MaxIterations { get; }
    /// <summary>Velocity boundary per side.</summary>
    public Boundary2D Boundary { get; }
    /// <summary>The obstacle, or null.</summary>
    public Cylinder? Cylinder { get; }
    /// <summary>Whether steps take an inflow profile.</summary>
    public bool HasInflow => _inflowMode != NavierStokesKernels.NoInflow;
    /// <summary>The MAC grid.</summary>
    public StaggeredGrid2D Grid { get; }
    /// <summary>The obstacle mask (n x n, 1 = solid; empty without an obstacle).</summary>
    public ReadOnlySpan<int> Solid => _solid;
    /// <summary>Number of x-faces, (n + 1) n.</summary>
    public int UCount => (N + 1) * N;
    /// <summary>Number of y-faces, n (n + 1).</summary>
    public int VCount => N * (N + 1);

    // ---------------------------------------------------------------- initial conditions

    /// <summary>Taylor–Green vortex <c>u = sin x cos y, v = -cos x sin y</c> (scaled to the domain) at the faces, times <c>exp(-2 ν t)</c> (Mosaic's analytic reference; exact on [0, 2π]²).</summary>
    public (double[] U, double[] V) TaylorGreen(double time = 0)
    {
        double k = 2 * Math.PI / Extent, decay = Math.Exp(-2 * Viscosity * k * k * time);
        return Grid.Evaluate((x, y) => decay * Math.Sin(k * x) * Math.Cos(k * y), (x, y) => -decay * Math.Cos(k * x) * Math.Sin(k * y));
    }

    /// <summary>
    /// Mosaic's multi-mode initial condition: a streamfunction with energy in a ring at wavenumber 2 (Gaussian
    /// envelope, σ = 0.5) and seeded random phases, its velocity scaled to a maximum speed of 0.3 over the cell
    /// centres. Returned at the faces (exactly divergence-free: the streamfunction's differences) and at the cell
    /// centres (Mosaic's collocated input). The phases come from <see cref="Random"/>, not JAX's generator.
    /// </summary>
    public (double[] U, double[] V, double[] CentredU, double[] CentredV) MultiMode(int seed)
    {
        var rng = new Random(seed);
        double k0 = 2 * Math.PI / Extent;
        var modes = new List<(int Kx, int Ky, double A, double Phase)>();
        int kMax = Math.Min(N / 2, 5);
        for (int kx = 0; kx <= kMax; kx++)
            for (int ky = -kMax; ky <= kMax; ky++)
            {
                if (kx == 0 && ky <= 0) continue; // half plane: the other half is the complex conjugate
                double kk = Math.Sqrt(kx * kx + ky * ky);
                modes.Add((kx, ky, Math.Exp(-0.5 * Math.Pow((kk - 2) / 0.5, 2)), rng.NextDouble() * 2 * Math.PI));
            }
        double Psi(double x, double y)
        {
            double s = 0;
            foreach (var m in modes) s += m.A * Math.Cos(k0 * (m.Kx * x + m.Ky * y) + m.Phase);
            return s;
        }
        double UC(double x, double y) { double s = 0; foreach (var m in modes) s -= m.A * k0 * m.Ky * Math.Sin(k0 * (m.Kx * x + m.Ky * y) + m.Phase); return s; }
        double VC(double x, double y) { double s = 0; foreach (var m in modes) s += m.A * k0 * m.Kx * Math.Sin(k0 * (m.Kx * x + m.Ky * y) + m.Phase); return s; }
        int n = N;
        var cu = new double[n * n];
        var cv = new double[n * n];
        double vmax = 0;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
            {
                double x = (i + 0.5) * Dx, y = (j + 0.5) * Dx;
                cu[j * n + i] = UC(x, y);
                cv[j * n + i] = VC(x, y);
                vmax = Math.Max(vmax, Math.Sqrt(cu[j * n + i] * cu[j * n + i] + cv[j * n + i] * cv[j * n + i]));
            }
        double scale = vmax > 0 ? 0.3 / vmax : 1;
        for (int k = 0; k < cu.Length; k++) { cu[k] *= scale; cv[k] *= scale; }
        // Faces from the streamfunction at the nodes: u = dpsi/dy, v = -dpsi/dx by differences, so D u = 0 exactly.
        var u = new double[UCount];
        var v = new double[VCount];
        for (int j = 0; j < n; j++)
            for (int i = 0; i <= n; i++)
                u[j * (n + 1) + i] = scale * (Psi(i * Dx, (j + 1) * Dx) - Psi(i * Dx, j * Dx)) / Dx;
        for (int j = 0; j <= n; j++)
            for (int i = 0; i < n; i++)
                v[j * n + i] = -scale * (Psi((i + 1) * Dx, j * Dx) - Psi(i * Dx, j * Dx)) / Dx;
        return (u, v, cu, cv);
    }

    /// <summary>Uniform flow <c>(U, 0)</c> with the walls and the obstacle applied (Mosaic's <c>uniform</c> background flow).</summary>
    public (double[] U, double[] V) Uniform(double speed)
    {
        var u = new double[UCount];
        var v = new double[VCount];
        Array.Fill(u, speed);
        Fluid2D.ApplyWalls(u, v, Grid);
        Fluid2D.ApplyObstacle(u, v, _solid, Grid);
        return (u, v);
    }

    /// <summary>Mosaic's flat inflow profile: <paramref name="speed"/> in each of the n rows.</summary>
    public double[] InflowProfile(double speed)
    {
        var p = new double[N];
        Array.Fill(p, speed);
        return p;
    }

    // ---------------------------------------------------------------- one step

    /// <summary>One step (see <see cref="NavierStokesKernels.Step"/>); <paramref name="profile"/> is empty without an inflow.</summary>
    public void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> profile, Span<double> uNext, Span<double> vNext, Span<double> pressure)
    {
        CheckStep(u, v, profile, uNext, vNext, pressure);
        CheckFinite(u, v, profile);
        NavierStokesKernels.Step(u, v, profile, uNext, vNext, pressure, _solid, Grid, Dt, Viscosity, Substeps, Rk2 ? 1 : 0, MacCormack ? 1 : 0, _inflowMode, Tolerance, MaxIterations);
    }

    /// <summary>
    /// The generated pullback of <see cref="Step"/> (re-runs the step): the seeds in <paramref name="uNextBar"/>,
    /// <paramref name="vNextBar"/> and <paramref name="pressureBar"/> are consumed; <paramref name="uBar"/>,
    /// <paramref name="vBar"/>, <paramref name="profileBar"/> and <paramref name="nuBar"/> accumulate.
    /// </summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> profile, Span<double> uNext, Span<double> vNext, Span<double> pressure,
        Span<double> uBar, Span<double> vBar, Span<double> profileBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pressureBar, ref double nuBar)
    {
        CheckStep(u, v, profile, uNext, vNext, pressure);
        CheckFinite(u, v, profile);
        CheckStep(uBar, vBar, profileBar, uNextBar, vNextBar, pressureBar);
        double dtBar = 0;
        NavierStokesKernels.StepPullback(u, v, profile, uNext, vNext, pressure, _solid, Grid, Dt, Viscosity, Substeps, Rk2 ? 1 : 0, MacCormack ? 1 : 0, _inflowMode, Tolerance, MaxIterations,
            uBar, vBar, profileBar, uNextBar, vNextBar, pressureBar, ref dtBar, ref nuBar);
    }

    // Recorded steps mark their tape frames (name and inputs) like the other models', so a reverse with other inputs throws.
    private void StepRecord(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> profile, Span<double> uNext, Span<double> vNext, Span<double> pressure, Tape tape)
    {
        tape.PushStep("NavierStokes2D.Step", u, v, profile);
        NavierStokesKernels.StepPullbackForward(u, v, profile, uNext, vNext, pressure, _solid, Grid, Dt, Viscosity, Substeps, Rk2 ? 1 : 0, MacCormack ? 1 : 0, _inflowMode, Tolerance, MaxIterations, tape);
    }

    private void StepReverse(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> profile, Scratch s,
        Span<double> uBar, Span<double> vBar, Span<double> profileBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pressureBar, ref double nuBar, Tape tape)
    {
        double dtBar = 0;
        tape.PopStep("NavierStokes2D.Step", u, v, profile);
        NavierStokesKernels.StepPullbackReverse(u, v, profile, s.U, s.V, s.P, _solid, Grid, Dt, Viscosity, Substeps, Rk2 ? 1 : 0, MacCormack ? 1 : 0, _inflowMode, Tolerance, MaxIterations,
            uBar, vBar, profileBar, uNextBar, vNextBar, pressureBar, ref dtBar, ref nuBar, tape);
    }

    // ---------------------------------------------------------------- rollouts

    /// <summary>
    /// Runs <paramref name="steps"/> steps from (u0, v0); <paramref name="observe"/>, if given, sees each step's
    /// index, output velocity and pressure.
    /// </summary>
    public (double[] U, double[] V) Run(ReadOnlySpan<double> u0, ReadOnlySpan<double> v0, int steps, ReadOnlySpan<double> profile = default, Action<int, double[], double[], double[]>? observe = null)
    {
        Check.Positive(steps, nameof(steps));
        var u = u0.ToArray();
        var v = v0.ToArray();
        var un = new double[UCount];
        var vn = new double[VCount];
        var p = new double[N * N];
        for (int k = 0; k < steps; k++)
        {
            Step(u, v, profile, un, vn, p);
            (u, un) = (un, u);
            (v, vn) = (vn, v);
            observe?.Invoke(k, u, v, p);
        }
        return (u, v);
    }

    /// <summary>
    /// Reverse mode through a whole rollout of <paramref name="steps"/> steps from (u0, v0): the adjoint of the final
    /// state (<paramref name="uFinalBar"/>, <paramref name="vFinalBar"/>; may be empty for zero) plus whatever
    /// <paramref name="seed"/> adds per step flows back; <paramref name="u0Bar"/>, <paramref name="v0Bar"/>,
    /// <paramref name="profileBar"/> accumulate. With <paramref name="checkpointEvery"/> = 0 every step is recorded
    /// during the forward sweep (memory grows with the steps); with k &gt; 0 only every k-th state is kept and each
    /// segment of k steps is re-run, recording, when the reverse sweep reaches it (about steps / k + k states and k
    /// step tapes; √steps minimises it). <paramref name="observe"/>, if given, sees every step's output velocity and
    /// pressure once, in time order, before the first <paramref name="seed"/> call (so a loss can be computed from the
    /// forward sweep the reverse sweep needs anyway). Returns what was held.
    /// </summary>
    public RolloutStats Backward(ReadOnlySpan<double> u0, ReadOnlySpan<double> v0, int steps, ReadOnlySpan<double> profile,
        ReadOnlySpan<double> uFinalBar, ReadOnlySpan<double> vFinalBar, StepSeed? seed, Span<double> u0Bar, Span<double> v0Bar, Span<double> profileBar, int checkpointEvery = 0,
        Action<int, double[], double[], double[]>? observe = null)
    {
        Check.Positive(steps, nameof(steps));
        if (checkpointEvery < 0) throw new ArgumentException($"checkpointEvery must be 0 (record every step) or positive (got {checkpointEvery}).", nameof(checkpointEvery));
        CheckState(u0, v0, nameof(u0), nameof(v0));
        CheckState(u0Bar, v0Bar, nameof(u0Bar), nameof(v0Bar));
        CheckProfile(profile, nameof(profile));
        CheckFinite(u0, v0, profile, nameof(u0), nameof(v0));
        CheckProfile(profileBar, nameof(profileBar));
        if (!uFinalBar.IsEmpty) Check.Length(uFinalBar.Length, UCount, nameof(uFinalBar), "the x-faces");
        if (!vFinalBar.IsEmpty) Check.Length(vFinalBar.Length, VCount, nameof(vFinalBar), "the y-faces");
        int segment = checkpointEvery == 0 ? steps : Math.Min(checkpointEvery, steps);
        int evaluations = 0, peakStates, peakTapes;
        var scratch = new Scratch(UCount, VCount, N * N);

        // Checkpoints: the states at the start of each segment (k = 0, segment, 2 segment, ...).
        var checkpoints = new List<(double[] U, double[] V)> { (u0.ToArray(), v0.ToArray()) };
        var states = new (double[] U, double[] V)[segment + 1];
        var tapes = new Tape[segment];
        if (checkpointEvery > 0)
        {
            var (u, v) = checkpoints[0];
            int last = (steps - 1) / segment * segment;
            for (int k = 0; k < last; k++)
            {
                var un = new double[UCount];
                var vn = new double[VCount];
                Step(u, v, profile, un, vn, scratch.P);
                evaluations++;
                observe?.Invoke(k, un, vn, scratch.P);
                (u, v) = (un, vn);
                if ((k + 1) % segment == 0) checkpoints.Add((u, v));
            }
        }
        peakStates = checkpoints.Count + segment;
        peakTapes = segment;

        var uBar = new double[UCount];
        var vBar = new double[VCount];
        var pBar = new double[N * N];
        if (!uFinalBar.IsEmpty) uFinalBar.CopyTo(uBar);
        if (!vFinalBar.IsEmpty) vFinalBar.CopyTo(vBar);
        var uPrevBar = new double[UCount];
        var vPrevBar = new double[VCount];
        double nuBar = 0;
        for (int c = checkpoints.Count - 1; c >= 0; c--)
        {
            int k0 = c * segment, len = Math.Min(segment, steps - k0);
            states[0] = checkpoints[c];
            for (int j = 0; j < len; j++)
            {
                var un = new double[UCount];
                var vn = new double[VCount];
                tapes[j] = new Tape();
                StepRecord(states[j].U, states[j].V, profile, un, vn, scratch.P, tapes[j]);
                evaluations++;
                if (c == checkpoints.Count - 1) observe?.Invoke(k0 + j, un, vn, scratch.P);
                states[j + 1] = (un, vn);
            }
            for (int j = len - 1; j >= 0; j--)
            {
                pBar.AsSpan().Clear();
                seed?.Invoke(k0 + j, uBar, vBar, pBar);
                uPrevBar.AsSpan().Clear();
                vPrevBar.AsSpan().Clear();
                StepReverse(states[j].U, states[j].V, profile, scratch, uPrevBar, vPrevBar, profileBar, uBar, vBar, pBar, ref nuBar, tapes[j]);
                tapes[j].Dispose();
                tapes[j] = null!;
                states[j + 1] = default;
                (uBar, uPrevBar) = (uPrevBar, uBar);
                (vBar, vPrevBar) = (vPrevBar, vBar);
            }
            if (c > 0) checkpoints[c] = default;
        }
        for (int k = 0; k < uBar.Length; k++) u0Bar[k] += uBar[k];
        for (int k = 0; k < vBar.Length; k++) v0Bar[k] += vBar[k];
        return new RolloutStats(peakStates, peakTapes, evaluations);
    }

    // ---------------------------------------------------------------- Mosaic's losses

    /// <summary>
    /// Mosaic's gradient-check loss <c>L = Σ |u_T|²</c> of the collocated (cell-centred) final velocity, with the
    /// collocated initial velocity (cu0, cv0) as the input (turned into faces by averaging, as PhiFlow does).
    /// </summary>
    public double SumOfSquares(ReadOnlySpan<double> cu0, ReadOnlySpan<double> cv0, int steps)
    {
        var (u0, v0) = Grid.FromCentered(cu0, cv0);
        var (u, v) = Run(u0, v0, steps);
        var (cu, cv) = Grid.ToCentered(u, v);
        double s = 0;
        for (int k = 0; k < cu.Length; k++) s += cu[k] * cu[k] + cv[k] * cv[k];
        return s;
    }

    /// <summary><see cref="SumOfSquares"/> and its gradient with respect to (cu0, cv0) (accumulated into the spans).</summary>
    public double SumOfSquaresGradient(ReadOnlySpan<double> cu0, ReadOnlySpan<double> cv0, int steps, Span<double> cu0Bar, Span<double> cv0Bar, int checkpointEvery = 0)
    {
        Check.Length(cu0Bar.Length, N * N, nameof(cu0Bar), $"a {N}x{N} grid");
        Check.Length(cv0Bar.Length, N * N, nameof(cv0Bar), $"a {N}x{N} grid");
        var (u0, v0) = Grid.FromCentered(cu0, cv0);
        var (u, v) = Run(u0, v0, steps);
        var (cu, cv) = Grid.ToCentered(u, v);
        double s = 0;
        var cuBar = new double[cu.Length];
        var cvBar = new double[cv.Length];
        for (int k = 0; k < cu.Length; k++) { s += cu[k] * cu[k] + cv[k] * cv[k]; cuBar[k] = 2 * cu[k]; cvBar[k] = 2 * cv[k]; }
        var uBar = new double[UCount];
        var vBar = new double[VCount];
        Interpolation.StaggeredToCenteredPullback(u, v, cu, cv, N, N, uBar, vBar, cuBar, cvBar);
        var u0Bar = new double[UCount];
        var v0Bar = new double[VCount];
        Backward(u0, v0, steps, default, uBar, vBar, null, u0Bar, v0Bar, default, checkpointEvery);
        Interpolation.CenteredToStaggeredPullback(cu0, cv0, u0, v0, N, N, Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode, cu0Bar, cv0Bar, u0Bar, v0Bar);
        return s;
    }

    /// <summary>Mosaic's averaging window for the drag: the last half of the steps (at least one).</summary>
    public static int DragWindow(int steps) => Math.Max(1, steps / 2);

    /// <summary>
    /// Mosaic's drag: <see cref="NavierStokesKernels.Drag"/> of the velocity and pressure averaged over the last
    /// half of <paramref name="steps"/> steps from the uniform flow <c>(U, 0)</c> (<paramref name="initialSpeed"/>,
    /// Mosaic's U_mean), with the inflow <paramref name="profile"/> imposed every step.
    /// </summary>
    public double MeanDrag(ReadOnlySpan<double> profile, int steps, double initialSpeed)
    {
        RequireDragSetup(profile);
        var (u0, v0) = Uniform(initialSpeed);
        var (uMean, pMean) = (new double[UCount], new double[N * N]);
        int window = DragWindow(steps);
        Run(u0, v0, steps, profile, (k, u, _, p) =>
        {
            if (k < steps - window) return;
            for (int i = 0; i < u.Length; i++) uMean[i] += u[i] / window;
            for (int i = 0; i < p.Length; i++) pMean[i] += p[i] / window;
        });
        return NavierStokesKernels.Drag(uMean, pMean, _solid, N, N, Dx, Viscosity);
    }

    /// <summary>
    /// <see cref="MeanDrag"/> and its gradient with respect to the profile (accumulated into
    /// <paramref name="profileBar"/>), through every step.
    /// </summary>
    public double MeanDragGradient(ReadOnlySpan<double> profile, int steps, double initialSpeed, Span<double> profileBar, int checkpointEvery = 0)
    {
        RequireDragSetup(profile);
        CheckProfile(profileBar, nameof(profileBar));
        // The drag is linear in the averaged fields: its adjoint is one pullback, spread evenly over the window.
        var uW = new double[UCount];
        var pW = new double[N * N];
        double nuBarDrag = 0;
        NavierStokesKernels.DragPullback(new double[UCount], new double[N * N], _solid, N, N, Dx, Viscosity, 1.0, uW, pW, ref nuBarDrag);
        int window = DragWindow(steps);
        var (u0, v0) = Uniform(initialSpeed);
        var u0Bar = new double[UCount];
        var v0Bar = new double[VCount];
        double drag = 0;
        Backward(u0, v0, steps, profile, default, default, (k, uNextBar, _, pBar) =>
        {
            if (k < steps - window) return;
            for (int i = 0; i < uW.Length; i++) uNextBar[i] += uW[i] / window;
            for (int i = 0; i < pW.Length; i++) pBar[i] += pW[i] / window;
        }, u0Bar, v0Bar, profileBar, checkpointEvery, (k, u, _, p) =>
        {
            // The drag is linear: the weights of the averaged fields, summed step by step.
            if (k < steps - window) return;
            for (int i = 0; i < u.Length; i++) drag += uW[i] * u[i] / window;
            for (int i = 0; i < p.Length; i++) drag += pW[i] * p[i] / window;
        });
        return drag;
    }

    // ---------------------------------------------------------------- diagnostics

    /// <summary>Mosaic's kinetic energy ½⟨|u|²⟩ of the cell-centred velocity.</summary>
    public double KineticEnergy(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        var (cu, cv) = Grid.ToCentered(u, v);
        double s = 0;
        for (int k = 0; k < cu.Length; k++) s += cu[k] * cu[k] + cv[k] * cv[k];
        return 0.5 * s / cu.Length;
    }

    /// <summary>
    /// Mosaic's divergence RMS: central differences of the cell-centred velocity, wrapping around (its periodic
    /// definition), <c>√⟨(∂x u + ∂y v)²⟩</c>. The MAC divergence the projection removes is <see cref="MacDivergenceMax"/>.
    /// </summary>
    public double DivergenceRms(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        var (cu, cv) = Grid.ToCentered(u, v);
        int n = N;
        double s = 0;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
            {
                double d = (cu[j * n + (i + 1) % n] - cu[j * n + (i + n - 1) % n] + cv[(j + 1) % n * n + i] - cv[(j + n - 1) % n * n + i]) / (2 * Dx);
                s += d * d;
            }
        return Math.Sqrt(s / (n * n));
    }

    /// <summary>The largest |divergence| of the MAC velocity over the cells.</summary>
    public double MacDivergenceMax(ReadOnlySpan<double> u, ReadOnlySpan<double> v) => Grid.Divergence(u, v).Max(Math.Abs);

    /// <summary>Relative L2 error ‖a − b‖ / ‖b‖ over both velocity components (Mosaic's <c>l2_error_rel</c>).</summary>
    public static double RelativeL2(ReadOnlySpan<double> ua, ReadOnlySpan<double> va, ReadOnlySpan<double> ub, ReadOnlySpan<double> vb)
    {
        if (ua.Length != ub.Length || va.Length != vb.Length) throw new ArgumentException("The two velocities have different sizes.", nameof(ub));
        double num = 0, den = 0;
        for (int k = 0; k < ua.Length; k++) { num += (ua[k] - ub[k]) * (ua[k] - ub[k]); den += ub[k] * ub[k]; }
        for (int k = 0; k < va.Length; k++) { num += (va[k] - vb[k]) * (va[k] - vb[k]); den += vb[k] * vb[k]; }
        return Math.Sqrt(num / den);
    }

    private void RequireDragSetup(ReadOnlySpan<double> profile)
    {
        if (Cylinder == null || !HasInflow) throw new InvalidOperationException("The drag needs a model with a cylinder and an inflow (see NavierStokes2D.Channel).");
        CheckProfile(profile, nameof(profile));
    }

    private void CheckProfile(ReadOnlySpan<double> profile, string name)
    {
        if (HasInflow) Check.Length(profile.Length, N, name, "the inflow profile (one value per row)");
        else if (!profile.IsEmpty) throw new ArgumentException($"{name} must be empty: this model has no inflow.", name);
    }

    private void CheckState(ReadOnlySpan<double> u, ReadOnlySpan<double> v, string uName, string vName)
    {
        Check.Length(u.Length, UCount, uName, $"{N + 1}x{N} x-faces");
        Check.Length(v.Length, VCount, vName, $"{N}x{N + 1} y-faces");
    }

    private void CheckStep(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> profile, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> pressure)
    {
        CheckState(u, v, nameof(u), nameof(v));
        CheckState(uNext, vNext, nameof(uNext), nameof(vNext));
        CheckProfile(profile, nameof(profile));
        Check.Length(pressure.Length, N * N, nameof(pressure), $"{N}x{N} cells");
    }

    // NaN or infinite inputs are refused with their name (the other models do the same) instead of surfacing as a solver error.
    private static void CheckFinite(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> profile, string uName = "u", string vName = "v")
    {
        Check.FiniteField(u, uName);
        Check.FiniteField(v, vName);
        Check.FiniteField(profile, nameof(profile));
    }

    /// <summary>Outputs the reverse half does not read (it starts from the tape).</summary>
    private sealed class Scratch(int uCount, int vCount, int cells)
    {
        public double[] U { get; } = new double[uCount];
        public double[] V { get; } = new double[vCount];
        public double[] P { get; } = new double[cells];
    }
}
