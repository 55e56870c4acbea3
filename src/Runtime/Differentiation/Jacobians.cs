namespace DiffGen;

/// <summary>A map from one span to another, like a solver step <c>Step(u, next)</c>.</summary>
public delegate void SpanMap(ReadOnlySpan<double> x, Span<double> y);

/// <summary>The forward-mode derivative of a <see cref="SpanMap"/>: writes y and its tangent yDot for the input tangent xDot.</summary>
public delegate void SpanMapPushforward(ReadOnlySpan<double> x, ReadOnlySpan<double> xDot, Span<double> y, Span<double> yDot);

/// <summary>The reverse-mode derivative of a <see cref="SpanMap"/>: writes y, consumes the seed yBar and accumulates into xBar (generated-code contract).</summary>
public delegate void SpanMapPullback(ReadOnlySpan<double> x, Span<double> y, Span<double> xBar, Span<double> yBar);

/// <summary>The pullback of a scalar function of a span on dual numbers (a generated <c>{Name}PullbackDual</c> wrapped in a lambda).</summary>
public delegate void DualGradient(ReadOnlySpan<Dual> x, Span<Dual> gradient);

/// <summary>
/// Jacobian-vector and vector-Jacobian products and whole Jacobians of span-to-span maps, from the
/// generated pushforwards and pullbacks. Adapt a generated method with a lambda, e.g.
/// <c>(x, xd, y, yd) => Heat.StepPushforward(x, xd, y, yd, nu, 0)</c>.
/// </summary>
public static class Jacobians
{
    /// <summary>J·v: one forward pass.</summary>
    public static double[] Jvp(SpanMapPushforward pushforward, ReadOnlySpan<double> x, ReadOnlySpan<double> v, int outputLength)
    {
        ArgumentNullException.ThrowIfNull(pushforward);
        if (v.Length != x.Length) throw new ArgumentException($"v has {v.Length} entries but x has {x.Length}.", nameof(v));
        var y = new double[outputLength];
        var yDot = new double[outputLength];
        pushforward(x, v, y, yDot);
        return yDot;
    }

    /// <summary>wᵀ·J: one reverse pass.</summary>
    public static double[] Vjp(SpanMapPullback pullback, ReadOnlySpan<double> x, ReadOnlySpan<double> w)
    {
        ArgumentNullException.ThrowIfNull(pullback);
        var y = new double[w.Length];
        var xBar = new double[x.Length];
        pullback(x, y, xBar, w.ToArray());
        return xBar;
    }

    /// <summary>The m×n Jacobian by forward mode: one pushforward per input basis vector.</summary>
    public static double[,] ByForward(SpanMapPushforward pushforward, ReadOnlySpan<double> x, int outputLength)
    {
        ArgumentNullException.ThrowIfNull(pushforward);
        var j = new double[outputLength, x.Length];
        var e = new double[x.Length];
        var y = new double[outputLength];
        var yDot = new double[outputLength];
        for (int c = 0; c < x.Length; c++)
        {
            e[c] = 1;
            Array.Clear(yDot);
            pushforward(x, e, y, yDot);
            for (int r = 0; r < outputLength; r++) j[r, c] = yDot[r];
            e[c] = 0;
        }
        return j;
    }

    /// <summary>The m×n Jacobian by reverse mode: one pullback per output basis vector.</summary>
    public static double[,] ByReverse(SpanMapPullback pullback, ReadOnlySpan<double> x, int outputLength)
    {
        ArgumentNullException.ThrowIfNull(pullback);
        var j = new double[outputLength, x.Length];
        var y = new double[outputLength];
        var xBar = new double[x.Length];
        var seed = new double[outputLength];
        for (int r = 0; r < outputLength; r++)
        {
            Array.Clear(xBar);
            Array.Clear(seed);
            seed[r] = 1;
            pullback(x, y, xBar, seed);
            for (int c = 0; c < x.Length; c++) j[r, c] = xBar[c];
        }
        return j;
    }

    /// <summary>The m×n Jacobian by central finite differences.</summary>
    public static double[,] ByFiniteDifferences(SpanMap map, ReadOnlySpan<double> x, int outputLength, double step = GradCheck.Step)
    {
        ArgumentNullException.ThrowIfNull(map);
        var j = new double[outputLength, x.Length];
        var xp = x.ToArray();
        var yp = new double[outputLength];
        var ym = new double[outputLength];
        for (int c = 0; c < x.Length; c++)
        {
            double h = step * Math.Max(1, Math.Abs(x[c]));
            xp[c] = x[c] + h;
            map(xp, yp);
            xp[c] = x[c] - h;
            map(xp, ym);
            xp[c] = x[c];
            for (int r = 0; r < outputLength; r++) j[r, c] = (yp[r] - ym[r]) / (2 * h);
        }
        return j;
    }
}

/// <summary>Second derivatives of scalar functions from their dual pullbacks (forward over reverse).</summary>
public static class Hessians
{
    /// <summary>H·v: one dual pullback with the inputs' tangents set to v.</summary>
    public static double[] VectorProduct(DualGradient gradient, ReadOnlySpan<double> x, ReadOnlySpan<double> v)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        var g = new Dual[x.Length];
        gradient(Dual.Pack(x, v), g);
        return Dual.Tangents(g);
    }

    /// <summary>The dense n×n Hessian: one dual pullback per basis vector. For small problems.</summary>
    public static double[,] Dense(DualGradient gradient, ReadOnlySpan<double> x)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        int n = x.Length;
        var h = new double[n, n];
        var e = new double[n];
        for (int c = 0; c < n; c++)
        {
            e[c] = 1;
            var col = VectorProduct(gradient, x, e);
            for (int r = 0; r < n; r++) h[r, c] = col[r];
            e[c] = 0;
        }
        return h;
    }
}
