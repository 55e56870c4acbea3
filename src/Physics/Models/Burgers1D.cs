namespace DiffGen.Physics;

/// <summary>
/// 1D viscous Burgers' equation on a cell-centred grid of <see cref="Cells"/> cells on
/// [<see cref="XMin"/>, <see cref="XMax"/>]: one step is explicit diffusion (<see cref="Substeps"/>
/// substeps) followed by semi-Lagrangian self-advection, optionally plus <c>dt * force</c>.
/// Cell i sits at <c>XMin + (i + 0.5) dx</c>.
/// </summary>
/// <example>
/// <code>
/// var b = Burgers1D.PbdlOptimization();                 // EXPERIMENTS §1: 128 cells, [-1, 1], dt 1/32
/// var u = b.Evaluate(x => -Math.Sin(Math.PI * x));
/// var next = new double[b.Cells];
/// b.Step(u, next);
/// // gradient of a loss L(next): seed nextBar = dL/dnext, get uBar = dL/du and nuBar = dL/dnu
/// var uBar = new double[b.Cells]; double nuBar = 0;
/// b.StepBackward(u, next, uBar, nextBar, ref nuBar);
/// </code>
/// </example>
public sealed class Burgers1D
{
    /// <summary>Creates the model and validates its settings.</summary>
    /// <param name="cells">Number of cells (positive).</param>
    /// <param name="xMin">Left end of the domain.</param>
    /// <param name="xMax">Right end (greater than xMin).</param>
    /// <param name="viscosity">nu (non-negative).</param>
    /// <param name="dt">Time step (positive; explicit diffusion must be stable).</param>
    /// <param name="substeps">Diffusion substeps per step (positive).</param>
    /// <param name="lo">Left boundary.</param>
    /// <param name="hi">Right boundary.</param>
    /// <param name="implicitDiffusion">Use backward-Euler (CG) diffusion instead of explicit substeps; no stability limit.</param>
    public Burgers1D(int cells, double xMin, double xMax, double viscosity, double dt, int substeps = 1, BoundaryKind lo = BoundaryKind.Periodic, BoundaryKind hi = BoundaryKind.Periodic, bool implicitDiffusion = false)
    {
        Check.Positive(cells, nameof(cells));
        if (!(xMax > xMin)) throw new ArgumentException($"xMax ({xMax}) must be greater than xMin ({xMin}).", nameof(xMax));
        Check.NonNegative(viscosity, nameof(viscosity));
        Check.Positive(dt, nameof(dt));
        Check.Positive(substeps, nameof(substeps));
        if ((lo == BoundaryKind.Periodic) != (hi == BoundaryKind.Periodic))
            throw new ArgumentException("Periodic must be set on both sides or on neither.", nameof(hi));
        Cells = cells; XMin = xMin; XMax = xMax; Viscosity = viscosity; Dt = dt; Substeps = substeps; Lo = lo; Hi = hi;
        Dx = (xMax - xMin) / cells;
        ImplicitDiffusion = implicitDiffusion;
        if (!implicitDiffusion) Check.ExplicitDiffusion(viscosity, dt, Dx, double.PositiveInfinity, substeps, nameof(dt));
    }

    /// <summary>The setup of EXPERIMENTS §1: 128 cells on [-1, 1], periodic, nu = 0.01 / (128 pi), dt = 1/32, one substep.</summary>
    public static Burgers1D PbdlOptimization() => new(128, -1, 1, 0.01 / (128 * Math.PI), 1.0 / 32);

    /// <summary>Number of cells.</summary>
    public int Cells { get; }
    /// <summary>Left end.</summary>
    public double XMin { get; }
    /// <summary>Right end.</summary>
    public double XMax { get; }
    /// <summary>Cell width.</summary>
    public double Dx { get; }
    /// <summary>Viscosity nu.</summary>
    public double Viscosity { get; }
    /// <summary>Time step.</summary>
    public double Dt { get; }
    /// <summary>Diffusion substeps per step.</summary>
    public int Substeps { get; }
    /// <summary>Whether diffusion is implicit (CG, relative tolerance 1e-14).</summary>
    public bool ImplicitDiffusion { get; }
    /// <summary>Left boundary.</summary>
    public BoundaryKind Lo { get; }
    /// <summary>Right boundary.</summary>
    public BoundaryKind Hi { get; }

    /// <summary>Cell-centre coordinates.</summary>
    public double[] CellCenters()
    {
        var x = new double[Cells];
        for (int i = 0; i < Cells; i++) x[i] = XMin + (i + 0.5) * Dx;
        return x;
    }

    /// <summary>A field with <c>f(x)</c> at every cell centre.</summary>
    public double[] Evaluate(Func<double, double> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return Array.ConvertAll(CellCenters(), x => f(x));
    }

    /// <summary>One step: <paramref name="next"/> = step(<paramref name="u"/>).</summary>
    public void Step(ReadOnlySpan<double> u, Span<double> next)
    {
        CheckState(u, next);
        if (ImplicitDiffusion) ModelKernels.Burgers1DImplicitStep(u, next, Viscosity, Dt, Dx, (int)Lo, (int)Hi, ImplicitTolerance, ImplicitMaxIterations);
        else ModelKernels.Burgers1DStep(u, next, Viscosity, Dt, Dx, Substeps, (int)Lo, (int)Hi);
    }

    /// <summary>One forced step: step(u) + dt * force.</summary>
    public void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next)
    {
        CheckState(u, next);
        Check.Length(force.Length, Cells, nameof(force), "the force on this grid");
        if (ImplicitDiffusion) ModelKernels.Burgers1DImplicitForcedStep(u, force, next, Viscosity, Dt, Dx, (int)Lo, (int)Hi, ImplicitTolerance, ImplicitMaxIterations);
        else ModelKernels.Burgers1DForcedStep(u, force, next, Viscosity, Dt, Dx, Substeps, (int)Lo, (int)Hi);
    }

    /// <summary>
    /// The generated pullback of <see cref="Step(ReadOnlySpan{double}, Span{double})"/>: re-runs the step
    /// (writes <paramref name="next"/>), consumes the seed <paramref name="nextBar"/>, accumulates
    /// <c>dL/du</c> into <paramref name="uBar"/> and <c>dL/dnu</c> into <paramref name="nuBar"/>.
    /// </summary>
    public void StepBackward(ReadOnlySpan<double> u, Span<double> next, Span<double> uBar, Span<double> nextBar, ref double nuBar)
    {
        CheckState(u, next);
        Check.Length(uBar.Length, Cells, nameof(uBar), "the state adjoint");
        Check.Length(nextBar.Length, Cells, nameof(nextBar), "the state adjoint");
        double dtBar = 0;
        if (ImplicitDiffusion) ModelKernels.Burgers1DImplicitStepPullback(u, next, Viscosity, Dt, Dx, (int)Lo, (int)Hi, ImplicitTolerance, ImplicitMaxIterations, uBar, nextBar, ref nuBar, ref dtBar);
        else ModelKernels.Burgers1DStepPullback(u, next, Viscosity, Dt, Dx, Substeps, (int)Lo, (int)Hi, uBar, nextBar, ref nuBar, ref dtBar);
    }

    /// <summary>
    /// One step that also records on <paramref name="tape"/> what the recorded <c>StepBackward</c> needs (it
    /// runs the generated pullback's forward half). Differentiating a recorded rollout runs each step once,
    /// where <see cref="StepBackward(ReadOnlySpan{double}, Span{double}, Span{double}, Span{double}, ref double)"/>
    /// re-runs it.
    /// </summary>
    public void Step(ReadOnlySpan<double> u, Span<double> next, Tape tape)
    {
        CheckState(u, next);
        ArgumentNullException.ThrowIfNull(tape);
        tape.PushStep("Burgers1D.Step", u);
        if (ImplicitDiffusion) ModelKernels.Burgers1DImplicitStepPullbackForward(u, next, Viscosity, Dt, Dx, (int)Lo, (int)Hi, ImplicitTolerance, ImplicitMaxIterations, tape);
        else ModelKernels.Burgers1DStepPullbackForward(u, next, Viscosity, Dt, Dx, Substeps, (int)Lo, (int)Hi, tape);
    }

    /// <summary>
    /// The reverse of a step recorded with <see cref="Step(ReadOnlySpan{double}, Span{double}, Tape)"/>: call it
    /// for the recorded steps in reverse order, with the same <paramref name="u"/> and <paramref name="next"/>
    /// (holding the step's result, which it keeps). Consumes the seed <paramref name="nextBar"/>, accumulates
    /// <c>dL/du</c> into <paramref name="uBar"/> and <c>dL/dnu</c> into <paramref name="nuBar"/>.
    /// </summary>
    public void StepBackward(ReadOnlySpan<double> u, Span<double> next, Span<double> uBar, Span<double> nextBar, ref double nuBar, Tape tape)
    {
        CheckState(u, next);
        Check.Length(uBar.Length, Cells, nameof(uBar), "the state adjoint");
        Check.Length(nextBar.Length, Cells, nameof(nextBar), "the state adjoint");
        ArgumentNullException.ThrowIfNull(tape);
        tape.PopStep("Burgers1D.Step", u);
        double dtBar = 0;
        // These steps' reverse halves restore no span they wrote, so next keeps the step's result
        // (RecordedRolloutTests checks it).
        if (ImplicitDiffusion) ModelKernels.Burgers1DImplicitStepPullbackReverse(u, next, Viscosity, Dt, Dx, (int)Lo, (int)Hi, ImplicitTolerance, ImplicitMaxIterations, uBar, nextBar, ref nuBar, ref dtBar, tape);
        else ModelKernels.Burgers1DStepPullbackReverse(u, next, Viscosity, Dt, Dx, Substeps, (int)Lo, (int)Hi, uBar, nextBar, ref nuBar, ref dtBar, tape);
    }

    /// <summary>The generated pullback of the forced step; also accumulates <c>dL/dforce</c>.</summary>
    public void StepBackward(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next, Span<double> uBar, Span<double> forceBar, Span<double> nextBar, ref double nuBar)
    {
        CheckState(u, next);
        Check.Length(force.Length, Cells, nameof(force), "the force on this grid");
        Check.Length(uBar.Length, Cells, nameof(uBar), "the state adjoint");
        Check.Length(forceBar.Length, Cells, nameof(forceBar), "the force adjoint");
        Check.Length(nextBar.Length, Cells, nameof(nextBar), "the state adjoint");
        double dtBar = 0;
        if (ImplicitDiffusion) ModelKernels.Burgers1DImplicitForcedStepPullback(u, force, next, Viscosity, Dt, Dx, (int)Lo, (int)Hi, ImplicitTolerance, ImplicitMaxIterations, uBar, forceBar, nextBar, ref nuBar, ref dtBar);
        else ModelKernels.Burgers1DForcedStepPullback(u, force, next, Viscosity, Dt, Dx, Substeps, (int)Lo, (int)Hi, uBar, forceBar, nextBar, ref nuBar, ref dtBar);
    }

    // Tight, because CG's stopping point moves with the input and a loose solve shows up as noise in
    // finite-difference checks; 1D solves are cheap.
    private const double ImplicitTolerance = 1e-14;
    private const int ImplicitMaxIterations = 10000;

    private void CheckState(ReadOnlySpan<double> u, ReadOnlySpan<double> next)
    {
        Check.Length(u.Length, Cells, nameof(u), "this grid");
        Check.Length(next.Length, Cells, nameof(next), "this grid");
    }
}
