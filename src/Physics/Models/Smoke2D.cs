namespace DiffGen.Physics;

/// <summary>
/// Smoke plume with Boussinesq buoyancy in a closed box (EXPERIMENTS §2): smoke on the nx x ny cell
/// centres, velocity on the MAC faces (u: (nx+1) x ny, v: nx x (ny+1)), pressure projection by CG.
/// </summary>
/// <example>
/// <code>
/// var s = new Smoke2D(32, 40);                                   // unit cells, dt = 1, buoyancy 1
/// var inflow = s.DiscInflow(12, 4, 3, 1.0 / 3);
/// s.Step(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
/// s.StepBackward(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure,
///                smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar, ref buoyancyBar);
/// </code>
/// </example>
public sealed class Smoke2D
{
    /// <summary>Creates the model.</summary>
    /// <param name="nx">Cells in x.</param>
    /// <param name="ny">Cells in y.</param>
    /// <param name="width">Domain width (default: nx, unit cells).</param>
    /// <param name="height">Domain height (default: ny).</param>
    /// <param name="dt">Time step.</param>
    /// <param name="buoyancy">Buoyancy factor (force (0, buoyancy * smoke)).</param>
    /// <param name="tolerance">CG tolerance on the max-norm of the divergence.</param>
    /// <param name="maxIterations">CG iteration limit.</param>
    public Smoke2D(int nx, int ny, double width = 0, double height = 0, double dt = 1, double buoyancy = 1, double tolerance = 1e-3, int maxIterations = 2000)
    {
        Check.Positive(nx, nameof(nx));
        Check.Positive(ny, nameof(ny));
        if (width == 0) width = nx;
        if (height == 0) height = ny;
        Check.Positive(width, nameof(width));
        Check.Positive(height, nameof(height));
        Check.Positive(dt, nameof(dt));
        Check.Positive(tolerance, nameof(tolerance));
        Check.Positive(maxIterations, nameof(maxIterations));
        Nx = nx; Ny = ny; Dx = width / nx; Dy = height / ny; Dt = dt; Buoyancy = buoyancy; Tolerance = tolerance; MaxIterations = maxIterations;
    }

    /// <summary>Cells in x.</summary>
    public int Nx { get; }
    /// <summary>Cells in y.</summary>
    public int Ny { get; }
    /// <summary>Cell width.</summary>
    public double Dx { get; }
    /// <summary>Cell height.</summary>
    public double Dy { get; }
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Buoyancy factor.</summary>
    public double Buoyancy { get; }
    /// <summary>CG tolerance.</summary>
    public double Tolerance { get; }
    /// <summary>CG iteration limit.</summary>
    public int MaxIterations { get; }

    /// <summary>The MAC grid (closed box).</summary>
    public StaggeredGrid2D Grid => new(Nx, Ny, Nx * Dx, Ny * Dy, Boundary2D.Closed);

    /// <summary>
    /// An inflow field: <paramref name="amount"/> in every cell whose centre lies within
    /// <paramref name="radius"/> of (<paramref name="cx"/>, <paramref name="cy"/>) (physical units).
    /// </summary>
    public double[] DiscInflow(double cx, double cy, double radius, double amount)
    {
        Check.Positive(radius, nameof(radius));
        var f = new double[Nx * Ny];
        for (int j = 0; j < Ny; j++)
            for (int i = 0; i < Nx; i++)
            {
                double x = (i + 0.5) * Dx - cx, y = (j + 0.5) * Dy - cy;
                if (x * x + y * y <= radius * radius) f[j * Nx + i] = amount;
            }
        return f;
    }

    /// <summary>One step (see <see cref="ModelKernels.SmokeStep"/>).</summary>
    public void Step(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> pressure)
    {
        CheckAll(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
        ModelKernels.SmokeStep(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, Nx, Ny, Dx, Dy, Dt, Buoyancy, Tolerance, MaxIterations);
    }

    /// <summary>The generated pullback of <see cref="Step(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, Span{double})"/> (re-runs the step): seeds on the outputs are consumed, input adjoints accumulate.</summary>
    public void StepBackward(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> pressure,
        Span<double> smokeBar, Span<double> uBar, Span<double> vBar, Span<double> inflowBar,
        Span<double> smokeNextBar, Span<double> uNextBar, Span<double> vNextBar, Span<double> pressureBar, ref double buoyancyBar)
    {
        CheckAll(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
        CheckAll(smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar);
        double dtBar = 0;
        ModelKernels.SmokeStepPullback(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, Nx, Ny, Dx, Dy, Dt, Buoyancy, Tolerance, MaxIterations,
            smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar, ref dtBar, ref buoyancyBar);
    }

    /// <summary>
    /// One step that also records on <paramref name="tape"/> what the recorded <c>StepBackward</c> needs (the
    /// generated pullback's forward half): a recorded rollout is reversed without re-running its steps and
    /// their pressure solves.
    /// </summary>
    public void Step(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeNext, Span<double> uNext, Span<double> vNext, Span<double> pressure, Tape tape)
    {
        CheckAll(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
        ArgumentNullException.ThrowIfNull(tape);
        tape.PushStep("Smoke2D.Step", smoke, u, v, inflow);
        ModelKernels.SmokeStepPullbackForward(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, Nx, Ny, Dx, Dy, Dt, Buoyancy, Tolerance, MaxIterations, tape);
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
        CheckAll(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure);
        CheckAll(smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar);
        ArgumentNullException.ThrowIfNull(tape);
        tape.PopStep("Smoke2D.Step", smoke, u, v, inflow);
        double dtBar = 0;
        ModelKernels.SmokeStepPullbackReverse(smoke, u, v, inflow, smokeNext, uNext, vNext, pressure, Nx, Ny, Dx, Dy, Dt, Buoyancy, Tolerance, MaxIterations,
            smokeBar, uBar, vBar, inflowBar, smokeNextBar, uNextBar, vNextBar, pressureBar, ref dtBar, ref buoyancyBar, tape);
    }

    /// <summary>Length of the packed state <c>[smoke, u, v]</c> used by <see cref="StepPacked"/>.</summary>
    public int PackedLength => Nx * Ny + (Nx + 1) * Ny + Nx * (Ny + 1);

    /// <summary>
    /// One step on the packed state <c>[smoke, u, v]</c> with the inflow as a second input (the shape of the
    /// runtime's two-input <c>Lift.Op</c>); the pressure is an internal temporary. Thread-safe.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> inflow, Span<double> next)
    {
        int c = Nx * Ny, fu = (Nx + 1) * Ny;
        Check.Length(state.Length, PackedLength, nameof(state), "the packed state [smoke, u, v]");
        Check.Length(next.Length, PackedLength, nameof(next), "the packed state [smoke, u, v]");
        Step(state[..c], state.Slice(c, fu), state[(c + fu)..], inflow, next[..c], next.Slice(c, fu), next[(c + fu)..], new double[c]);
    }

    /// <summary>The pullback of <see cref="StepPacked"/>.</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, ReadOnlySpan<double> inflow, Span<double> next, Span<double> stateBar, Span<double> inflowBar, Span<double> nextBar)
    {
        int c = Nx * Ny, fu = (Nx + 1) * Ny;
        Check.Length(state.Length, PackedLength, nameof(state), "the packed state [smoke, u, v]");
        Check.Length(next.Length, PackedLength, nameof(next), "the packed state [smoke, u, v]");
        Check.Length(stateBar.Length, PackedLength, nameof(stateBar), "the packed state adjoint");
        Check.Length(nextBar.Length, PackedLength, nameof(nextBar), "the packed state adjoint");
        double bBar = 0;
        StepBackward(state[..c], state.Slice(c, fu), state[(c + fu)..], inflow, next[..c], next.Slice(c, fu), next[(c + fu)..], new double[c],
            stateBar[..c], stateBar.Slice(c, fu), stateBar[(c + fu)..], inflowBar, nextBar[..c], nextBar.Slice(c, fu), nextBar[(c + fu)..], new double[c], ref bBar);
    }

    private void CheckAll(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        ReadOnlySpan<double> smokeNext, ReadOnlySpan<double> uNext, ReadOnlySpan<double> vNext, ReadOnlySpan<double> pressure)
    {
        int c = Nx * Ny, fu = (Nx + 1) * Ny, fv = Nx * (Ny + 1);
        Check.Length(smoke.Length, c, nameof(smoke), $"{Nx}x{Ny} cells");
        Check.Length(u.Length, fu, nameof(u), $"{Nx + 1}x{Ny} x-faces");
        Check.Length(v.Length, fv, nameof(v), $"{Nx}x{Ny + 1} y-faces");
        Check.Length(inflow.Length, c, nameof(inflow), $"{Nx}x{Ny} cells");
        Check.Length(smokeNext.Length, c, nameof(smokeNext), $"{Nx}x{Ny} cells");
        Check.Length(uNext.Length, fu, nameof(uNext), $"{Nx + 1}x{Ny} x-faces");
        Check.Length(vNext.Length, fv, nameof(vNext), $"{Nx}x{Ny + 1} y-faces");
        Check.Length(pressure.Length, c, nameof(pressure), $"{Nx}x{Ny} cells");
    }
}
