namespace DiffGen.Physics;

/// <summary>
/// 2D viscous Burgers' equation with forcing on a cell-centred nx x ny grid (velocity (u, v) both at
/// the cell centres, row-major <c>u[j*nx+i]</c>): explicit diffusion, semi-Lagrangian self-advection,
/// <c>+ dt * force</c>.
/// </summary>
/// <example>
/// <code>
/// var m = new Burgers2D(32, 32, 32.0, 32.0, viscosity: 0.1, dt: 0.1);   // EXPERIMENTS §3 source grid
/// m.Step(u, v, fu, fv, uNext, vNext);
/// m.StepBackward(u, v, fu, fv, uNext, vNext, uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, ref nuBar);
/// </code>
/// </example>
public sealed class Burgers2D
{
    /// <summary>Creates the model and validates its settings.</summary>
    public Burgers2D(int nx, int ny, double width, double height, double viscosity, double dt, int substeps = 1, Boundary2D? boundary = null)
    {
        Check.Positive(nx, nameof(nx));
        Check.Positive(ny, nameof(ny));
        Check.Positive(width, nameof(width));
        Check.Positive(height, nameof(height));
        Check.NonNegative(viscosity, nameof(viscosity));
        Check.Positive(dt, nameof(dt));
        Check.Positive(substeps, nameof(substeps));
        Boundary = boundary ?? Boundary2D.Periodic;
        Boundary.Validate(nameof(boundary));
        Nx = nx; Ny = ny; Width = width; Height = height; Viscosity = viscosity; Dt = dt; Substeps = substeps;
        Dx = width / nx; Dy = height / ny;
        Check.ExplicitDiffusion(viscosity, dt, Dx, Dy, substeps, nameof(dt));
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
    /// <summary>Viscosity.</summary>
    public double Viscosity { get; }
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Diffusion substeps per step.</summary>
    public int Substeps { get; }
    /// <summary>Boundary per side.</summary>
    public Boundary2D Boundary { get; }

    /// <summary>The cell-centred grid of this model.</summary>
    public Grid2D Grid => new(Nx, Ny, Width, Height, Boundary);

    /// <summary>One step; <paramref name="fu"/>, <paramref name="fv"/> are the force components (cell-centred).</summary>
    public void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, Span<double> uNext, Span<double> vNext)
    {
        CheckAll(u, v, fu, fv, uNext, vNext);
        ModelKernels.Burgers2DStep(u, v, fu, fv, uNext, vNext, Nx, Ny, Dx, Dy, Dt, Viscosity, Substeps, Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode);
    }

    /// <summary>The generated pullback of <see cref="Step"/> (seeds uNextBar/vNextBar are consumed; the other adjoints accumulate).</summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, Span<double> uNext, Span<double> vNext,
        Span<double> uBar, Span<double> vBar, Span<double> fuBar, Span<double> fvBar, Span<double> uNextBar, Span<double> vNextBar, ref double nuBar)
    {
        CheckAll(u, v, fu, fv, uNext, vNext);
        CheckAll(uBar, vBar, fuBar, fvBar, uNextBar, vNextBar);
        double dtBar = 0;
        ModelKernels.Burgers2DStepPullback(u, v, fu, fv, uNext, vNext, Nx, Ny, Dx, Dy, Dt, Viscosity, Substeps, Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode,
            uBar, vBar, fuBar, fvBar, uNextBar, vNextBar, ref dtBar, ref nuBar);
    }

    /// <summary>Length of the packed state <c>[u, v]</c> (2 nx ny) used by <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/>.</summary>
    public int PackedLength => 2 * Nx * Ny;

    /// <summary>
    /// One step on packed spans, the shape the runtime's <c>Lift.Op</c> (two-input form) expects:
    /// state <c>[u, v]</c>, control <c>[fu, fv]</c>, output <c>[u', v']</c>.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next)
    {
        int n = Nx * Ny;
        CheckPacked(state, force, next);
        Step(state[..n], state[n..], force[..n], force[n..], next[..n], next[n..]);
    }

    /// <summary>The pullback of <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/> (seeds in <paramref name="nextBar"/> are consumed).</summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Span<double> stateBar, Span<double> forceBar, Span<double> nextBar)
    {
        int n = Nx * Ny;
        CheckPacked(state, force, next);
        double nuBar = 0;
        StepBackward(state[..n], state[n..], force[..n], force[n..], next[..n], next[n..], stateBar[..n], stateBar[n..], forceBar[..n], forceBar[n..], nextBar[..n], nextBar[n..], ref nuBar);
    }

    /// <summary>
    /// <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/> recording on
    /// <paramref name="tape"/> what the recorded <c>StepPackedBackward</c> needs (the generated pullback's
    /// forward half), so the backward does not re-run the step.
    /// </summary>
    public void StepPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Tape tape)
    {
        int n = Nx * Ny;
        CheckPacked(state, force, next);
        ArgumentNullException.ThrowIfNull(tape);
        tape.PushStep("Burgers2D.StepPacked", state, force);
        ModelKernels.Burgers2DStepPullbackForward(state[..n], state[n..], force[..n], force[n..], next[..n], next[n..], Nx, Ny, Dx, Dy, Dt, Viscosity, Substeps,
            Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode, tape);
    }

    /// <summary>
    /// The reverse of a step recorded with <see cref="StepPacked(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Tape)"/>:
    /// the same inputs, the tape it recorded on; <paramref name="next"/> may be scratch. The seed in
    /// <paramref name="nextBar"/> is consumed, <paramref name="stateBar"/> and <paramref name="forceBar"/> accumulate.
    /// </summary>
    public void StepPackedBackward(ReadOnlySpan<double> state, ReadOnlySpan<double> force, Span<double> next, Span<double> stateBar, Span<double> forceBar, Span<double> nextBar, Tape tape)
    {
        int n = Nx * Ny;
        CheckPacked(state, force, next);
        Check.Length(stateBar.Length, 2 * n, nameof(stateBar), "the packed state [u, v]");
        Check.Length(forceBar.Length, 2 * n, nameof(forceBar), "the packed force [fu, fv]");
        Check.Length(nextBar.Length, 2 * n, nameof(nextBar), "the packed state [u, v]");
        ArgumentNullException.ThrowIfNull(tape);
        tape.PopStep("Burgers2D.StepPacked", state, force);
        double dtBar = 0, nuBar = 0;
        ModelKernels.Burgers2DStepPullbackReverse(state[..n], state[n..], force[..n], force[n..], next[..n], next[n..], Nx, Ny, Dx, Dy, Dt, Viscosity, Substeps,
            Boundary.XLoCode, Boundary.XHiCode, Boundary.YLoCode, Boundary.YHiCode,
            stateBar[..n], stateBar[n..], forceBar[..n], forceBar[n..], nextBar[..n], nextBar[n..], ref dtBar, ref nuBar, tape);
    }

    private void CheckPacked(ReadOnlySpan<double> state, ReadOnlySpan<double> force, ReadOnlySpan<double> next)
    {
        int n = Nx * Ny;
        Check.Length(state.Length, 2 * n, nameof(state), "the packed state [u, v]");
        Check.Length(force.Length, 2 * n, nameof(force), "the packed force [fu, fv]");
        Check.Length(next.Length, 2 * n, nameof(next), "the packed state [u, v]");
    }

    private void CheckAll(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, ReadOnlySpan<double> d, ReadOnlySpan<double> e, ReadOnlySpan<double> f)
    {
        int n = Nx * Ny;
        Check.Length(a.Length, n, "u", $"a {Nx}x{Ny} grid");
        Check.Length(b.Length, n, "v", $"a {Nx}x{Ny} grid");
        Check.Length(c.Length, n, "fu", $"a {Nx}x{Ny} grid");
        Check.Length(d.Length, n, "fv", $"a {Nx}x{Ny} grid");
        Check.Length(e.Length, n, "uNext", $"a {Nx}x{Ny} grid");
        Check.Length(f.Length, n, "vNext", $"a {Nx}x{Ny} grid");
    }
}
