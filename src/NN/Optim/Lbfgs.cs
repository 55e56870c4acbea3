namespace DiffGen.NN.Optim;

/// <summary>The result of <see cref="Lbfgs.Minimize"/>.</summary>
/// <param name="X">The last accepted point.</param>
/// <param name="Value">f at <paramref name="X"/>.</param>
/// <param name="GradientNorm">‖∇f‖ at <paramref name="X"/> (of the projected gradient when there are bounds).</param>
/// <param name="Iterations">Accepted steps.</param>
/// <param name="Evaluations">Calls of f (each with its gradient).</param>
/// <param name="Converged">True when the gradient-norm or the relative-decrease test stopped it, false when the
/// iteration limit did or the line search found no decrease.</param>
/// <param name="Reason">Why it stopped, in words.</param>
public sealed record LbfgsResult(double[] X, double Value, double GradientNorm, int Iterations, int Evaluations, bool Converged, string Reason);

/// <summary>
/// Limited-memory BFGS for smooth deterministic objectives in double precision (a solver rollout's loss and its
/// adjoint gradient, not a mini-batch loss: its curvature pairs need the same function at every call). Two-loop
/// recursion over the last <see cref="History"/> pairs (s, y), initial scaling <c>sᵀy / yᵀy</c>, and a
/// backtracking line search to the Armijo condition <c>f(x + αd) ≤ f(x) + c₁ ∇fᵀ(x + αd − x)</c>; a pair with
/// <c>sᵀy ≤ 0</c> (which a backtracking search can produce) is skipped, so the two-loop matrix stays positive
/// definite. Optional box bounds: directions do not push coordinates that sit on a bound further out, and each trial
/// point is projected onto the box (the projected step is the one the Armijo test and the pair use); this is the
/// simple projected variant, not L-BFGS-B. When the line search fails along the quasi-Newton direction, the pairs are
/// dropped and steepest descent is tried once before giving up.
/// </summary>
/// <example>
/// <code>
/// var result = new Lbfgs().Minimize((x, g) => { g[0] = 2 * (x[0] - 3); return (x[0] - 3) * (x[0] - 3); }, [0.0], maxIterations: 20);
/// // result.X[0] == 3 (to rounding), result.Converged
/// </code>
/// </example>
public sealed class Lbfgs
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="history">Curvature pairs kept (m, typically 5–20).</param>
    /// <param name="gradientTolerance">Stop when ‖∇f‖₂ ≤ this.</param>
    /// <param name="relativeTolerance">Stop when an accepted step lowers f by at most this times max(|f|, 1).</param>
    /// <param name="armijo">c₁ of the sufficient-decrease test, in (0, 1).</param>
    /// <param name="maxBacktracks">Halvings of the step before the line search gives up.</param>
    /// <param name="firstStep">Length (in x) of the very first step, along −∇f (there is no curvature yet).</param>
    public Lbfgs(int history = 10, double gradientTolerance = 1e-8, double relativeTolerance = 1e-12, double armijo = 1e-4, int maxBacktracks = 30, double firstStep = 1e-2)
    {
        if (history < 1) throw new ArgumentOutOfRangeException(nameof(history), history, "At least one curvature pair must be kept.");
        if (!(gradientTolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(gradientTolerance), gradientTolerance, "Must be a non-negative number.");
        if (!(relativeTolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(relativeTolerance), relativeTolerance, "Must be a non-negative number.");
        if (!(armijo > 0 && armijo < 1)) throw new ArgumentOutOfRangeException(nameof(armijo), armijo, "c1 must be in (0, 1).");
        if (maxBacktracks < 1) throw new ArgumentOutOfRangeException(nameof(maxBacktracks), maxBacktracks, "At least one backtracking step is needed.");
        if (!(firstStep > 0) || double.IsInfinity(firstStep)) throw new ArgumentOutOfRangeException(nameof(firstStep), firstStep, "Must be a positive finite number.");
        History = history; GradientTolerance = gradientTolerance; RelativeTolerance = relativeTolerance; Armijo = armijo; MaxBacktracks = maxBacktracks; FirstStep = firstStep;
    }

    /// <summary>Curvature pairs kept.</summary>
    public int History { get; }
    /// <summary>Gradient-norm stopping tolerance.</summary>
    public double GradientTolerance { get; }
    /// <summary>Relative-decrease stopping tolerance.</summary>
    public double RelativeTolerance { get; }
    /// <summary>c₁ of the Armijo condition.</summary>
    public double Armijo { get; }
    /// <summary>Step halvings per line search.</summary>
    public int MaxBacktracks { get; }
    /// <summary>Length of the first step.</summary>
    public double FirstStep { get; }

    /// <summary>
    /// Minimises <paramref name="f"/> from <paramref name="x0"/> (not modified). <paramref name="f"/> writes ∇f(x)
    /// into its second argument (it need not clear it first: the buffer is zeroed before each call) and returns f(x).
    /// <paramref name="onIteration"/> sees (iteration, f, x) after every accepted step (iteration 0: the start).
    /// <paramref name="lower"/>/<paramref name="upper"/>, if given, bound every coordinate.
    /// </summary>
    public LbfgsResult Minimize(Func<double[], double[], double> f, ReadOnlySpan<double> x0, int maxIterations,
        Action<int, double, double[]>? onIteration = null, double lower = double.NegativeInfinity, double upper = double.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(f);
        if (x0.IsEmpty) throw new ArgumentException("x0 is empty.", nameof(x0));
        if (maxIterations < 0) throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "Must be non-negative.");
        if (!(lower <= upper)) throw new ArgumentException($"lower ({lower}) must not exceed upper ({upper}).", nameof(lower));
        int n = x0.Length;
        var x = x0.ToArray();
        Clip(x, lower, upper);
        var g = new double[n];
        int evaluations = 0;
        double Eval(double[] at, double[] grad)
        {
            Array.Clear(grad);
            evaluations++;
            double v = f(at, grad);
            if (!double.IsFinite(v)) throw new InvalidOperationException($"The objective is {v} at evaluation {evaluations}.");
            return v;
        }
        double fx = Eval(x, g);
        onIteration?.Invoke(0, fx, x);
        var s = new List<double[]>();
        var y = new List<double[]>();
        var rho = new List<double>();
        var d = new double[n];
        var xNew = new double[n];
        var gNew = new double[n];
        var alpha = new double[History];
        for (int it = 1; it <= maxIterations; it++)
        {
            double gNorm = ProjectedGradientNorm(x, g, lower, upper);
            if (gNorm <= GradientTolerance) return new LbfgsResult(x, fx, gNorm, it - 1, evaluations, true, "gradient norm below tolerance");

            // Two-loop recursion: d = -H g.
            for (int i = 0; i < n; i++) d[i] = -g[i];
            for (int k = s.Count - 1; k >= 0; k--)
            {
                alpha[k] = rho[k] * Dot(s[k], d);
                Axpy(-alpha[k], y[k], d);
            }
            double gamma = s.Count > 0 ? Dot(s[^1], y[^1]) / Dot(y[^1], y[^1]) : FirstStep / Math.Sqrt(Dot(g, g));
            for (int i = 0; i < n; i++) d[i] *= gamma;
            for (int k = 0; k < s.Count; k++)
            {
                double beta = rho[k] * Dot(y[k], d);
                Axpy(alpha[k] - beta, s[k], d);
            }
            // Coordinates on a bound that the direction pushes further out do not move: otherwise the projection
            // would drop them from the step and what is left may climb.
            BlockBounds(x, d, lower, upper);
            if (Dot(d, g) >= 0) SteepestDescent(x, g, d, lower, upper, s, y, rho);

            // Backtracking to the Armijo condition on the projected step.
            double fNew = double.NaN;
            bool LineSearch()
            {
                double step = 1;
                for (int b = 0; b < MaxBacktracks; b++, step *= 0.5)
                {
                    for (int i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
                    Clip(xNew, lower, upper);
                    double decrease = 0;
                    for (int i = 0; i < n; i++) decrease += g[i] * (xNew[i] - x[i]);
                    if (decrease >= 0) continue; // the projection removed the descent
                    fNew = Eval(xNew, gNew);
                    if (fNew <= fx + Armijo * decrease) return true;
                }
                return false;
            }
            bool accepted = LineSearch();
            if (!accepted && s.Count > 0)
            {
                // The curvature pairs led nowhere (a kink, a bound, stale curvature): forget them and try steepest descent once.
                SteepestDescent(x, g, d, lower, upper, s, y, rho);
                accepted = LineSearch();
            }
            if (!accepted) return new LbfgsResult(x, fx, gNorm, it - 1, evaluations, false, "line search found no sufficient decrease");

            var sk = new double[n];
            var yk = new double[n];
            for (int i = 0; i < n; i++) { sk[i] = xNew[i] - x[i]; yk[i] = gNew[i] - g[i]; }
            double sy = Dot(sk, yk);
            if (sy > 1e-12 * Math.Sqrt(Dot(sk, sk) * Dot(yk, yk)))
            {
                if (s.Count == History) { s.RemoveAt(0); y.RemoveAt(0); rho.RemoveAt(0); }
                s.Add(sk); y.Add(yk); rho.Add(1 / sy);
            }
            double previous = fx;
            Array.Copy(xNew, x, n);
            Array.Copy(gNew, g, n);
            fx = fNew;
            onIteration?.Invoke(it, fx, x);
            if (previous - fx <= RelativeTolerance * Math.Max(Math.Abs(fx), 1))
                return new LbfgsResult(x, fx, ProjectedGradientNorm(x, g, lower, upper), it, evaluations, true, "relative decrease below tolerance");
        }
        return new LbfgsResult(x, fx, ProjectedGradientNorm(x, g, lower, upper), maxIterations, evaluations, false, "iteration limit");
    }

    /// <summary>Zeroes the components of <paramref name="d"/> that push a coordinate on a bound further out.</summary>
    private static void BlockBounds(double[] x, double[] d, double lower, double upper)
    {
        for (int i = 0; i < x.Length; i++)
            if ((x[i] <= lower && d[i] < 0) || (x[i] >= upper && d[i] > 0)) d[i] = 0;
    }

    /// <summary>Clears the curvature pairs and sets <paramref name="d"/> to the projected steepest descent of length <see cref="FirstStep"/>.</summary>
    private void SteepestDescent(double[] x, double[] g, double[] d, double lower, double upper, List<double[]> s, List<double[]> y, List<double> rho)
    {
        s.Clear(); y.Clear(); rho.Clear();
        for (int i = 0; i < d.Length; i++) d[i] = -g[i];
        BlockBounds(x, d, lower, upper);
        double norm = Math.Sqrt(Dot(d, d));
        if (norm > 0) for (int i = 0; i < d.Length; i++) d[i] *= FirstStep / norm;
    }

    private static void Clip(double[] x, double lower, double upper)
    {
        for (int i = 0; i < x.Length; i++) x[i] = Math.Clamp(x[i], lower, upper);
    }

    /// <summary>‖∇f‖ without the components that push against an active bound.</summary>
    private static double ProjectedGradientNorm(double[] x, double[] g, double lower, double upper)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++)
        {
            bool blocked = (x[i] <= lower && g[i] > 0) || (x[i] >= upper && g[i] < 0);
            if (!blocked) s += g[i] * g[i];
        }
        return Math.Sqrt(s);
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++) y[i] += a * x[i];
    }
}
