using System.Globalization;
using DiffGen.NN;
using DiffGen.Physics;
using DiffGen.Plotting;
using DiffGen.Tensors;
using DiffGen.Trainers.Common;

namespace DiffGen.Trainers.Experiments;

/// <summary>One simulation of a sol scene: the solver's control input (forcing, or which Re) and the reference trajectory on the source grid.</summary>
internal sealed record SolCase(double[] Control, double[][] Reference);

/// <summary>
/// What differs between sol's scenes; the training loop, evaluation, checkpoints and outputs in
/// <see cref="Sol"/> only see packed states [B, StateLength] and controls [B, control length].
/// </summary>
internal abstract class SolScene
{
    /// <summary>Training simulations.</summary>
    public abstract IReadOnlyList<SolCase> Train { get; }

    /// <summary>Held-out simulations.</summary>
    public abstract IReadOnlyList<SolCase> Test { get; }

    /// <summary>The source solver step as a tape op: (state [B, n], control [B, m]) -> next state [B, n].</summary>
    public abstract Func<Tensor, Tensor, Tensor> Step { get; }

    /// <summary>The same step on one item, outside the tape.</summary>
    public abstract double[] SourceStep(double[] state, double[] control);

    /// <summary>A new correction network (its last layer zero, so training starts at the solver's accuracy).</summary>
    public abstract Module Network();

    /// <summary>The network's correction of packed states [B, n] (same shape).</summary>
    public abstract Tensor Correct(Module net, Tensor state, Tensor control);

    /// <summary>Writes source.png, corrected.png and reference.png for one held-out scene at the last step.</summary>
    public abstract void WritePictures(RunOutput output, double[] source, double[] corrected, double[] reference, int steps);

    /// <summary>The settings a checkpoint must match on --resume.</summary>
    public abstract string SettingsKey(SolSettings s);

    /// <summary>Title of loss.png.</summary>
    public abstract string LossCurveTitle { get; }
}

/// <summary>The paper's forced 2D Burgers scene: periodic, random sinusoidal forcings, held-out forcings.</summary>
internal sealed class BurgersSolScene : SolScene
{
    private readonly Burgers2D _coarse;
    private readonly int _n, _nf;
    private readonly CancellationToken _ct;

    public BurgersSolScene(SolSettings s, CancellationToken ct = default)
    {
        _n = s.Source;
        _nf = s.Source * s.Factor;
        // Diffusion substeps from the grid (one at the default sizes): finer grids stay stable.
        _coarse = new Burgers2D(new Grid2D(_n, _n, 32, 32), viscosity: 0.1, dt: 0.1, substeps: OptionChecks.DiffusionSubsteps(0.1, 0.1, 32.0 / _n, 32.0 / _n));
        var fine = new Burgers2D(new Grid2D(_nf, _nf, 32, 32), viscosity: 0.1, dt: 0.1 / s.Factor, substeps: OptionChecks.DiffusionSubsteps(0.1, 0.1 / s.Factor, 32.0 / _nf, 32.0 / _nf));
        _ct = ct;
        var rng = new Random(s.Seed);
        Train = Enumerable.Range(0, s.TrainScenes).Select(_ => MakeCase(fine, s, rng)).ToList();
        Test = Enumerable.Range(0, s.TestScenes).Select(_ => MakeCase(fine, s, rng)).ToList();
        // Recorded: the backward runs the pullback's reverse half on the tape the step recorded, not the step again.
        Step = Lift.RecordedOp(_coarse.StepPacked, _coarse.StepPacked, _coarse.StepPackedBackward, name: "Burgers2DStep");
    }

    public override IReadOnlyList<SolCase> Train { get; }
    public override IReadOnlyList<SolCase> Test { get; }
    public override Func<Tensor, Tensor, Tensor> Step { get; }
    public override string LossCurveTitle => "sol: mean relative test error per variant (NON, PRE, SOL-1, SOL-4, SOL-4-stop, SOL-16, SOL-16-stop)";

    public override string SettingsKey(SolSettings s) =>
        FormattableString.Invariant($"it={s.Iterations};lr={s.LearningRate:R};scenes={s.TrainScenes}/{s.TestScenes};steps={s.Steps};source={s.Source};factor={s.Factor};batch={s.Batch};seed={s.Seed};seeds={s.Seeds}");

    /// <summary>A random forcing, its reference trajectory on the source grid (the control is the forcing).</summary>
    private SolCase MakeCase(Burgers2D fine, SolSettings s, Random rng)
    {
        int nf = _nf, n = _n;
        // A random sinusoidal forcing (sum of 4 modes per component), and a smooth random initial state.
        double[] Field(int cells, double amp, int modes)
        {
            var f = new double[cells * cells];
            for (int m = 0; m < modes; m++)
            {
                int kx = rng.Next(1, 4), ky = rng.Next(1, 4);
                double a = amp * (2 * rng.NextDouble() - 1), ph = 2 * Math.PI * rng.NextDouble();
                for (int j = 0; j < cells; j++)
                    for (int i = 0; i < cells; i++)
                        f[j * cells + i] += a * Math.Sin(2 * Math.PI * (kx * (i + 0.5) + ky * (j + 0.5)) / cells + ph);
            }
            return f;
        }
        var fu = Field(nf, 0.1, 4); var fv = Field(nf, 0.1, 4);
        var u = Field(nf, 1.0, 3); var v = Field(nf, 1.0, 3);
        var un = new double[u.Length]; var vn = new double[v.Length];
        var reference = new double[s.Steps + 1][];
        reference[0] = Down(u, v, n, s.Factor);
        for (int t = 1; t <= s.Steps; t++)
        {
            Interrupt.DuringSetup(_ct);
            for (int k = 0; k < s.Factor; k++)
            {
                fine.Step(u, v, fu, fv, un, vn);
                (u, un) = (un, u);
                (v, vn) = (vn, v);
            }
            reference[t] = Down(u, v, n, s.Factor);
        }
        return new SolCase(Down(fu, fv, n, s.Factor), reference);
    }

    /// <summary>Averages a fine (u, v) down to the source grid and packs it [u; v].</summary>
    private static double[] Down(double[] u, double[] v, int n, int factor)
    {
        var packed = new double[2 * n * n];
        Interpolation.Downsample2D(u, packed.AsSpan(0, n * n), n, n, factor);
        Interpolation.Downsample2D(v, packed.AsSpan(n * n, n * n), n, n, factor);
        return packed;
    }

    public override double[] SourceStep(double[] state, double[] control)
    {
        var next = new double[state.Length];
        _coarse.StepPacked(state, control, next);
        return next;
    }

    public override Module Network()
    {
        var last = new Conv2d(16, 2, 3, mode: PaddingMode.Periodic);
        // A zero correction at the start: training begins from the source solver's accuracy.
        last.Weight.Data.Clear();
        last.Bias!.Data.Clear();
        return new Sequential(new Conv2d(2, 16, 3, mode: PaddingMode.Periodic), new ReLU(),
            new ResBlock(16, 3, PaddingMode.Periodic), new ResBlock(16, 3, PaddingMode.Periodic), last);
    }

    public override Tensor Correct(Module net, Tensor state, Tensor control)
    {
        int b = state.Shape[0];
        return net.Forward(state.Reshape(b, 2, _n, _n)).Reshape(b, 2 * _n * _n);
    }

    public override void WritePictures(RunOutput output, double[] source, double[] corrected, double[] reference, int steps)
    {
        int n = _n;
        FieldImage.WriteScalar(output.PathOf("source.png"), source.AsSpan(0, n * n), n, n, $"source solver (NON), u at step {steps}", colormap: "balance");
        FieldImage.WriteScalar(output.PathOf("corrected.png"), corrected.AsSpan(0, n * n), n, n, $"SOL-16 corrected, u at step {steps}", colormap: "balance");
        FieldImage.WriteScalar(output.PathOf("reference.png"), reference.AsSpan(0, n * n), n, n, $"reference ({_nf}² averaged), u at step {steps}", colormap: "balance");
    }
}

/// <summary>
/// The book's wake-flow scene: incompressible flow past a disc (<see cref="WakeFlow2D"/>, domain
/// 100 x 200, disc at (50, 50) radius 10, inflow 1 for y &lt; 5) on an n x 2n MAC grid with dt 1; the
/// reference runs the same model <c>Factor</c> times finer in space and time, after a warm-up so that
/// shedding has begun. One scene per Reynolds number; the control of a scene is its index into the
/// source models (so each batch item steps with its own viscosity), and the network sees the
/// normalised log Re as a third constant channel.
/// </summary>
internal sealed class WakeSolScene : SolScene
{
    private readonly WakeFlow2D[] _models;
    private readonly double[] _reInput;
    private readonly int _nx, _ny, _nu, _nv, _factor, _warmup;
    private readonly double[] _trainRe, _testRe;
    private readonly CancellationToken _ct;

    public WakeSolScene(SolSettings s, SolWakeSettings w, CancellationToken ct = default)
    {
        _ct = ct;
        _nx = s.Source;
        _ny = 2 * s.Source;
        _factor = s.Factor;
        _nu = (_nx + 1) * _ny;
        _nv = _nx * (_ny + 1);
        _trainRe = w.TrainReynolds;
        _testRe = w.TestReynolds;
        _warmup = w.Warmup;
        var all = w.TrainReynolds.Concat(w.TestReynolds).ToArray();
        _models = all.Select(re => Model(_nx, _ny, re, 1.0)).ToArray();
        // The network's Re channel: log Re standardised over the training set (Re spans decades).
        var logs = w.TrainReynolds.Select(r => Math.Log(r)).ToArray();
        double mean = logs.Average(), sd = Math.Sqrt(logs.Select(l => (l - mean) * (l - mean)).Average());
        _reInput = all.Select(re => (Math.Log(re) - mean) / (sd > 0 ? sd : 1)).ToArray();
        var cases = all.Select((re, i) => MakeCase(re, i, s)).ToList();
        Train = cases.Take(w.TrainReynolds.Length).ToList();
        Test = cases.Skip(w.TrainReynolds.Length).ToList();
        // Recorded: the backward does the adjoint pressure solve only, not the step and its solve again.
        Step = Lift.RecordedOp(
            (state, control, next) => _models[(int)control[0]].StepPacked(state, next),
            (state, control, next, tape) => _models[(int)control[0]].StepPacked(state, next, tape),
            (state, control, next, stateBar, controlBar, nextBar, tape) => _models[(int)control[0]].StepPackedBackward(state, next, stateBar, nextBar, tape),
            name: "WakeFlow2DStep");
    }

    public override IReadOnlyList<SolCase> Train { get; }
    public override IReadOnlyList<SolCase> Test { get; }
    public override Func<Tensor, Tensor, Tensor> Step { get; }
    public override string LossCurveTitle => "sol, wake flow: mean relative test error per variant (NON, PRE, SOL-1, SOL-4, SOL-4-stop, SOL-16, SOL-16-stop)";

    public override string SettingsKey(SolSettings s) =>
        FormattableString.Invariant($"scene=wake;it={s.Iterations};lr={s.LearningRate:R};steps={s.Steps};source={s.Source};factor={s.Factor};batch={s.Batch};seed={s.Seed};seeds={s.Seeds};")
        + "re=" + string.Join(",", _trainRe.Select(r => r.ToString("R", CultureInfo.InvariantCulture)))
        + "/" + string.Join(",", _testRe.Select(r => r.ToString("R", CultureInfo.InvariantCulture)))
        + FormattableString.Invariant($";warmup={_warmup}");

    /// <summary>The wake model at a resolution, with enough diffusion substeps to be stable at that Re.</summary>
    private static WakeFlow2D Model(int nx, int ny, double re, double dt)
    {
        double nu = 20 / re; // U 2R / Re with U = 1, R = 10
        double max = Diffusion.MaxStableExplicitDt(nu, 100.0 / nx, 200.0 / ny, 1);
        int substeps = Math.Max(1, (int)Math.Ceiling(dt / max * (1 + 1e-9)));
        return WakeFlow2D.PbdlWake(nx, ny, reynolds: re, dt: dt, substeps: substeps);
    }

    private SolCase MakeCase(double re, int index, SolSettings s)
    {
        int f = s.Factor;
        var fine = Model(_nx * f, _ny * f, re, 1.0 / f);
        var (u, v) = fine.InitialState();
        var state = u.Concat(v).ToArray();
        var next = new double[state.Length];
        var reference = new double[s.Steps + 1][];
        for (int t = 0; t < _warmup * f; t++)
        {
            Interrupt.DuringSetup(_ct);
            fine.StepPacked(state, next);
            (state, next) = (next, state);
        }
        reference[0] = Down(state, fine);
        for (int t = 1; t <= s.Steps; t++)
        {
            Interrupt.DuringSetup(_ct);
            for (int k = 0; k < f; k++)
            {
                fine.StepPacked(state, next);
                (state, next) = (next, state);
            }
            reference[t] = Down(state, fine);
        }
        return new SolCase([index], reference);
    }

    /// <summary>
    /// Restricts a fine MAC state to the source grid: a coarse face is the mean of the fine faces
    /// that tile it (a flux-conserving average, so a divergence-free fine field stays divergence-free).
    /// </summary>
    private double[] Down(double[] fine, WakeFlow2D fm)
    {
        int f = _factor, nx = _nx, ny = _ny, fnx = fm.Nx, fnu = (fnx + 1) * fm.Ny;
        var packed = new double[_nu + _nv];
        for (int j = 0; j < ny; j++)
            for (int i = 0; i <= nx; i++)
            {
                double sum = 0;
                for (int m = 0; m < f; m++) sum += fine[(j * f + m) * (fnx + 1) + i * f];
                packed[j * (nx + 1) + i] = sum / f;
            }
        for (int j = 0; j <= ny; j++)
            for (int i = 0; i < nx; i++)
            {
                double sum = 0;
                for (int m = 0; m < f; m++) sum += fine[fnu + j * f * fnx + i * f + m];
                packed[_nu + j * nx + i] = sum / f;
            }
        return packed;
    }

    public override double[] SourceStep(double[] state, double[] control)
    {
        var next = new double[state.Length];
        _models[(int)control[0]].StepPacked(state, next);
        return next;
    }

    /// <summary>
    /// The book's ResNet (PhiFlow's res_net(3, 2, [32, 32, 32])): three residual blocks of 3x3
    /// convolutions (the first with a 1x1 projection skip, 3 -> 32), then a 1x1 convolution to 2
    /// channels; 47,330 parameters. Zero padding: the domain is closed, not periodic.
    /// </summary>
    public override Module Network()
    {
        var last = new Conv2d(32, 2, 1);
        // A zero correction at the start: training begins from the source solver's accuracy.
        last.Weight.Data.Clear();
        last.Bias!.Data.Clear();
        return new Sequential(new ProjectedResBlock(3, 32), new ResBlock(32), new ResBlock(32), last);
    }

    /// <summary>
    /// The packed MAC state [u ((nx+1) x ny); v (nx x (ny+1))] laid on one (ny+1) x (nx+1) grid (u gets
    /// a zero top row, v a zero right column, as PhiFlow's staggered tensors), with the Re channel; the
    /// network's two output channels are cropped back to the faces.
    /// </summary>
    public override Tensor Correct(Module net, Tensor state, Tensor control)
    {
        int b = state.Shape[0], h = _ny + 1, w = _nx + 1;
        var u = Tensor.Pad(state.Slice(1, 0, _nu).Reshape(b, 1, _ny, w), [(0, 1), (0, 0)]);
        var v = Tensor.Pad(state.Slice(1, _nu, _nv).Reshape(b, 1, h, _nx), [(0, 0), (0, 1)]);
        var ids = control.ToArray();
        var re = new float[b * h * w];
        for (int i = 0; i < b; i++) re.AsSpan(i * h * w, h * w).Fill((float)_reInput[(int)ids[i]]);
        var x = Tensor.Concat([u, v, Tensor.FromArray(re, b, 1, h, w)], 1);
        var y = net.Forward(x);
        var cu = y.Slice(1, 0, 1).Slice(2, 0, _ny).Reshape(b, _nu);
        var cv = y.Slice(1, 1, 1).Slice(3, 0, _nx).Reshape(b, _nv);
        return Tensor.Concat([cu, cv], 1);
    }

    public override void WritePictures(RunOutput output, double[] source, double[] corrected, double[] reference, int steps)
    {
        string re = _testRe[0].ToString("G", CultureInfo.InvariantCulture);
        FieldImage.WriteScalar(output.PathOf("source.png"), Vorticity(source), _nx - 1, _ny - 1, $"NON vorticity, Re {re}, step {steps}", W, H, colormap: "balance");
        FieldImage.WriteScalar(output.PathOf("corrected.png"), Vorticity(corrected), _nx - 1, _ny - 1, $"SOL-16 vorticity, Re {re}, step {steps}", W, H, colormap: "balance");
        FieldImage.WriteScalar(output.PathOf("reference.png"), Vorticity(reference), _nx - 1, _ny - 1, $"reference vorticity, Re {re}, step {steps}", W, H, colormap: "balance");
    }

    // Pixel size of the pictures: the domain is twice as tall as wide.
    private const int W = 440, H = 720;

    /// <summary>dv/dx - du/dy at the interior grid nodes ((nx-1) x (ny-1)).</summary>
    private double[] Vorticity(double[] packed)
    {
        double dx = 100.0 / _nx, dy = 200.0 / _ny;
        var w = new double[(_nx - 1) * (_ny - 1)];
        for (int j = 1; j < _ny; j++)
            for (int i = 1; i < _nx; i++)
            {
                double dvdx = (packed[_nu + j * _nx + i] - packed[_nu + j * _nx + i - 1]) / dx;
                double dudy = (packed[j * (_nx + 1) + i] - packed[(j - 1) * (_nx + 1) + i]) / dy;
                w[(j - 1) * (_nx - 1) + i - 1] = dvdx - dudy;
            }
        return w;
    }

    /// <summary>A residual block that changes the channel count: act(conv2(act(conv1(x))) + skip(x)), skip a 1x1 convolution.</summary>
    private sealed class ProjectedResBlock : Module
    {
        private readonly Conv2d _conv1, _conv2, _skip;

        public ProjectedResBlock(int inChannels, int outChannels)
        {
            _conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3));
            _conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3));
            _skip = RegisterModule("skip", new Conv2d(inChannels, outChannels, 1));
        }

        public override Tensor Forward(Tensor x) => (_conv2.Forward(_conv1.Forward(x).Relu()) + _skip.Forward(x)).Relu();
    }
}
