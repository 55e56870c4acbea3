using System.Diagnostics;

namespace DiffGen.Benchmarks;

/// <summary>
/// `--stencil [rounds]`: the 256² 5-point stencil's primal, its generated pullback (timed as in the
/// comparison: seed filled with ones, then the pullback) and a hand-written adjoint of the same stencil
/// (the floor of safe scalar C# on this machine), interleaved round by round so that a busy machine
/// slows all three alike; each round takes the fastest of 5 batches of at least 3 ms.
/// </summary>
public static class StencilReverse
{
    public static void Run(int rounds)
    {
        int m = 256;
        var u = new double[m * m]; var next = new double[m * m]; var uBar = new double[m * m]; var nextBar = new double[m * m];
        var rnd = new Random(1);
        for (int i = 0; i < u.Length; i++) u[i] = rnd.NextDouble();

        // The hand-written adjoint against the generated one first (same seeds, same results up to rounding).
        var seed = new double[m * m];
        for (int i = 0; i < seed.Length; i++) seed[i] = Math.Sin(i);
        var g = new double[m * m]; var gSeed = (double[])seed.Clone(); double ga = 0;
        BenchKernels.StencilPullback(u, next, m, m, 0.1, g, gSeed, ref ga);
        var h = new double[m * m]; var hSeed = (double[])seed.Clone(); double ha = 0;
        Reverse(u, m, m, 0.1, h, hSeed, ref ha);
        double diff = Math.Abs(ga - ha);
        for (int i = 0; i < g.Length; i++) diff = Math.Max(diff, Math.Abs(g[i] - h[i]) + Math.Abs(gSeed[i] - hSeed[i]));
        Console.WriteLine($"hand-written vs generated adjoint: max difference {diff:E1}");

        var cases = new (string Name, Action Run)[]
        {
            ("primal", () => BenchKernels.Stencil(u, next, m, m, 0.1)),
            ("generated pullback", () => { nextBar.AsSpan().Fill(1); double a = 0; BenchKernels.StencilPullback(u, next, m, m, 0.1, uBar, nextBar, ref a); }),
            ("hand-written pullback", () => { nextBar.AsSpan().Fill(1); double a = 0; Forward(u, next, m, m, 0.1); Reverse(u, m, m, 0.1, uBar, nextBar, ref a); }),
        };
        var times = cases.Select(_ => new List<double>()).ToArray();
        foreach (var c in cases) { var w = Stopwatch.StartNew(); do c.Run(); while (w.Elapsed.TotalSeconds < 0.5); }
        for (int r = 0; r < rounds; r++)
            for (int k = 0; k < cases.Length; k++) times[k].Add(Fastest(cases[k].Run));
        Console.WriteLine("| case | fastest µs | median µs | fastest / primal | median / primal |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        double p0 = times[0].Min(), p1 = Median(times[0]);
        for (int k = 0; k < cases.Length; k++)
            Console.WriteLine($"| {cases[k].Name} | {times[k].Min() * 1e6:F1} | {Median(times[k]) * 1e6:F1} | {times[k].Min() / p0:F2} | {Median(times[k]) / p1:F2} |");
    }

    private static double Median(List<double> x) { var s = x.OrderBy(v => v).ToList(); return s[s.Count / 2]; }

    private static double Fastest(Action a)
    {
        int reps = 1;
        while (true) { var sw = Stopwatch.StartNew(); for (int i = 0; i < reps; i++) a(); if (sw.Elapsed.TotalSeconds >= 0.003) break; reps *= 2; }
        double best = double.MaxValue;
        for (int b = 0; b < 5; b++) { var sw = Stopwatch.StartNew(); for (int i = 0; i < reps; i++) a(); best = Math.Min(best, sw.Elapsed.TotalSeconds / reps); }
        return best;
    }

    /// <summary>The primal as the hand-written pullback runs it: per row, spans of the rows it reads.</summary>
    public static void Forward(ReadOnlySpan<double> u, Span<double> next, int nx, int ny, double alpha)
    {
        for (int j = 1; j < ny - 1; j++)
        {
            int n = nx - 2, row = j * nx + 1;
            if (n <= 0) continue;
            var o = next.Slice(row, n); var c = u.Slice(row, n); var w = u.Slice(row - 1, n); var e = u.Slice(row + 1, n); var s = u.Slice(row - nx, n); var no = u.Slice(row + nx, n);
            for (int t = 0; t < n; t++) o[t] = c[t] + alpha * (w[t] + e[t] + s[t] + no[t] - 4 * c[t]);
        }
    }

    /// <summary>
    /// The reverse of <see cref="BenchKernels.Stencil"/> by hand: uBar gathered per row (rim elements
    /// with tests, the core through row spans), alphaBar per interior row in a loop of its own, then
    /// the seeds of the interior cleared.
    /// </summary>
    public static void Reverse(ReadOnlySpan<double> u, int nx, int ny, double alpha, Span<double> uBar, Span<double> nextBar, ref double alphaBar)
    {
        int lo = 1, hi = ny - 1, lo2 = 1, hi2 = nx - 1;
        double alphaAdj = 0;
        for (int e = lo - 1; e < hi + 1; e++)
        {
            bool inCore = e >= lo + 1 && e < hi - 1;
            int c0 = inCore ? lo2 + 1 : hi2 + 1, c1 = inCore ? hi2 - 1 : hi2 + 1;
            for (int e2 = lo2 - 1; e2 < Math.Min(c0, hi2 + 1); e2++) Rim(uBar, nextBar, e, e2, lo, hi, lo2, hi2, nx, alpha);
            if (c1 > c0) Core(uBar, nextBar, e * nx, nx, c0, c1 - c0, alpha);
            for (int e2 = Math.Max(c0, c1); e2 < hi2 + 1; e2++) Rim(uBar, nextBar, e, e2, lo, hi, lo2, hi2, nx, alpha);
            if (e >= lo && e < hi && hi2 > lo2) alphaAdj += AlphaRow(u, nextBar, e * nx + lo2, nx, hi2 - lo2);
        }
        for (int j = lo; j < hi; j++) nextBar.Slice(j * nx + lo2, Math.Max(0, hi2 - lo2)).Clear();
        alphaBar += alphaAdj;
    }

    // The row loops are methods of their own: written inline in Reverse (one method with both loops and
    // eleven spans) the JIT's code ran the whole pullback at 5.5× the primal instead of 3.1×.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Core(Span<double> uBar, Span<double> nextBar, int row, int nx, int c0, int n, double alpha)
    {
        var ub = uBar.Slice(row + c0, n);
        var nN = nextBar.Slice(row + nx + c0, n); var nE = nextBar.Slice(row + c0 + 1, n); var nC = nextBar.Slice(row + c0, n);
        var nW = nextBar.Slice(row + c0 - 1, n); var nS = nextBar.Slice(row - nx + c0, n);
        for (int t = 0; t < n; t++) ub[t] += (nN[t] + nE[t] + nW[t] + nS[t]) * alpha + (nC[t] - nC[t] * alpha * 4);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static double AlphaRow(ReadOnlySpan<double> u, Span<double> nextBar, int row, int nx, int n)
    {
        var b = nextBar.Slice(row, n);
        var uC = u.Slice(row, n); var uE = u.Slice(row + 1, n); var uW = u.Slice(row - 1, n); var uN = u.Slice(row + nx, n); var uS = u.Slice(row - nx, n);
        double s = 0;
        for (int t = 0; t < n; t++) s += b[t] * (uW[t] + uE[t] + uS[t] + uN[t] - 4 * uC[t]);
        return s;
    }

    private static void Rim(Span<double> uBar, Span<double> nextBar, int e, int e2, int lo, int hi, int lo2, int hi2, int nx, double alpha)
    {
        double a = 0; bool hit = false;
        for (int s = 0; s < 5; s++)
        {
            int j = e + (s == 0 ? 1 : s == 4 ? -1 : 0), i = e2 + (s == 1 ? 1 : s == 3 ? -1 : 0);
            if (j < lo || j >= hi || i < lo2 || i >= hi2) continue;
            hit = true;
            double t0 = nextBar[j * nx + i];
            a += s == 2 ? t0 - t0 * alpha * 4 : t0 * alpha;
        }
        if (hit) uBar[e * nx + e2] += a;
    }
}
