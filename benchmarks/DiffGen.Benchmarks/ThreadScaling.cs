using System.Globalization;
using System.Text;
using DiffGen.Physics;

namespace DiffGen.Benchmarks;

/// <summary>
/// Issue 12 part 2, group <c>threads</c>: the smoke step and the 2D Burgers step at 128² and 512², primal and
/// gradient, at 1 thread and at <c>--threads</c> threads in one run (the 1-thread rows under
/// <c>Parallelism.Use(1)</c>, the same process, inputs and warm-up), the fastest of 7 alternating batches of each.
/// Rows are named <c>{case}@{threads}t</c>.
/// </summary>
public static class ThreadScaling
{
    private static readonly int[] Sizes = [128, 512];

    /// <summary>Measures every case at 1 and at <paramref name="threads"/> threads.</summary>
    public static void Run(Dictionary<string, double> r, int threads)
    {
        foreach (int n in Sizes)
        {
            var (smokePrimal, smokeGrad) = SmokeCase(n);
            var (burgersPrimal, burgersGrad) = Burgers2DCase(n);
            foreach (var (name, action) in new (string, Action)[]
            {
                ($"smoke{n}x{n}.primal", smokePrimal), ($"smoke{n}x{n}.grad", smokeGrad),
                ($"burgers2d{n}.primal", burgersPrimal), ($"burgers2d{n}.gradient", burgersGrad),
            })
            {
                // Warm-up at both settings, longer than Measure's half second: the parallel forms run one
                // generic ParallelLoops.For instantiation per loop body, each tiered up on its own, and on a
                // loaded machine the tier-1 compiles lag (the first case's 2-thread rows measured tier-0 code).
                foreach (int t in new[] { 1, threads })
                    using (Parallelism.Use(t))
                    {
                        var warm = System.Diagnostics.Stopwatch.StartNew();
                        for (int i = 0; i < 40 || warm.Elapsed.TotalSeconds < 2; i++) action();
                    }
                // Alternate the thread counts batch by batch, so that a change in the machine's load hits both
                // alike, and keep each one's fastest batch: on a shared machine the median measures the other
                // processes as much as this code (the least disturbed batch is the closest to a quiet machine's).
                double t1 = double.MaxValue, tn = double.MaxValue;
                for (int round = 0; round < Rounds; round++)
                {
                    using (Parallelism.Use(1)) t1 = Math.Min(t1, Batch(action));
                    using (Parallelism.Use(threads)) tn = Math.Min(tn, Batch(action));
                }
                r[$"{name}@1t"] = t1;
                r[$"{name}@{threads}t"] = tn;
                r[$"{name}.serial"] = SerialFraction(action, threads);
            }
        }
    }

    private const int Rounds = 7;

    /// <summary>
    /// The fraction of the 1-thread time spent in code that stays serial: at <paramref name="threads"/> threads,
    /// every loop that runs in several chunks is one parallel region of ParallelLoops.For, whose begin and end
    /// its event source reports on the calling thread; the wall time outside them is the serial code (it runs
    /// the same on one thread at any setting). Divided by the 1-thread time of the same number of calls, measured
    /// just before; the median of 5 such pairs.
    /// </summary>
    private static double SerialFraction(Action action, int threads)
    {
        var fractions = new List<double>();
        using var clock = new ParallelRegionClock();
        for (int round = 0; round < 5; round++)
        {
            double t1;
            int calls;
            using (Parallelism.Use(1))
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                calls = 0;
                do { action(); calls++; } while (sw.Elapsed.TotalSeconds < 0.05);
                t1 = sw.Elapsed.TotalSeconds;
            }
            using (Parallelism.Use(threads))
            {
                clock.Reset();
                var sw = System.Diagnostics.Stopwatch.StartNew();
                for (int i = 0; i < calls; i++) action();
                double total = sw.Elapsed.TotalSeconds;
                fractions.Add(Math.Max(0, total - clock.Seconds) / t1);
            }
        }
        fractions.Sort();
        return fractions[fractions.Count / 2];
    }

    /// <summary>Wall time inside the parallel regions of ParallelLoops.For (its LoopBegin/End events, raised on the calling thread).</summary>
    private sealed class ParallelRegionClock : System.Diagnostics.Tracing.EventListener
    {
        private long _begin, _ticks;

        public double Seconds => (double)Interlocked.Read(ref _ticks) / System.Diagnostics.Stopwatch.Frequency;

        public void Reset() => Interlocked.Exchange(ref _ticks, 0);

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            // The runtime's own event source (ParallelLoopsEventSource): a loop in several chunks, on its worker team
            // or, when another thread holds the team, on the thread pool.
            if (source.Name == "DiffGen-ParallelLoops")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Informational, System.Diagnostics.Tracing.EventKeywords.All);
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventName == "LoopBegin") _begin = System.Diagnostics.Stopwatch.GetTimestamp();
            else if (e.EventName == "LoopEnd") Interlocked.Add(ref _ticks, System.Diagnostics.Stopwatch.GetTimestamp() - _begin);
        }
    }

    // Seconds per call over a batch of at least 50 ms.
    private static double Batch(Action action)
    {
        int reps = 0;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        do { action(); reps++; } while (sw.Elapsed.TotalSeconds < 0.05);
        return sw.Elapsed.TotalSeconds / reps;
    }

    // The smoke step of Compare's smoke group: a smoke block at rest in a closed box (benchmarks/torch/physics.py's setup).
    private static (Action Primal, Action Gradient) SmokeCase(int sn)
    {
        var sim = Smoke2D.PbdlPlume(sn, sn);
        var smoke = new double[sn * sn];
        for (int j = sn / 10; j < sn / 5; j++)
            for (int i = 2 * sn / 5; i < 3 * sn / 5; i++) smoke[j * sn + i] = 1;
        var inflow = new double[sn * sn];
        double[] su = new double[(sn + 1) * sn], sv = new double[sn * (sn + 1)];
        double[] s1 = new double[sn * sn], su1 = new double[su.Length], sv1 = new double[sv.Length], pr = new double[sn * sn];
        double[] sB = new double[s1.Length], uB = new double[su.Length], vB = new double[sv.Length], iB = new double[s1.Length], pB = new double[s1.Length];
        var s1B = new double[s1.Length];
        Array.Fill(s1B, 1.0);
        double[] u1B = new double[su.Length], v1B = new double[sv.Length];
        return (() => sim.Step(smoke, su, sv, inflow, s1, su1, sv1, pr),
            () =>
            {
                double bb = 0;
                sim.StepBackward(smoke, su, sv, inflow, s1, su1, sv1, pr, sB, uB, vB, iB, (double[])s1B.Clone(), (double[])u1B.Clone(), (double[])v1B.Clone(), pB, ref bb);
            });
    }

    /// <summary>The 2D Burgers step at s x s, primal and gradient (Compare's burgers2d group and the threads group):
    /// the cell size of EXPERIMENTS §3 (domain 32 on 32 cells) on a larger domain.</summary>
    internal static (Action Primal, Action Gradient) Burgers2DCase(int s)
    {
        var model = new Burgers2D(new Grid2D(s, s, s, s), viscosity: 0.1, dt: 0.1);
        int c = s * s;
        var uu = new double[c]; var vv = new double[c]; var fu = new double[c]; var fv = new double[c];
        for (int i = 0; i < c; i++) { uu[i] = Math.Sin(i * 0.01); vv[i] = Math.Cos(i * 0.013); }
        var un = new double[c]; var vn = new double[c];
        var ub = new double[c]; var vb = new double[c]; var fub = new double[c]; var fvb = new double[c]; var unb = new double[c]; var vnb = new double[c];
        return (() => model.Step(uu, vv, fu, fv, un, vn),
            () =>
            {
                unb.AsSpan().Fill(1); vnb.AsSpan().Fill(1);
                double nb = 0;
                model.StepBackward(uu, vv, fu, fv, un, vn, ub, vb, fub, fvb, unb, vnb, ref nb);
            });
    }

    /// <summary>
    /// The speed-up table: per case the 1-thread and N-thread times, the speed-up S, the serial fraction it
    /// implies (Karp-Flatt: <c>e = (N/S - 1) / (N - 1)</c>: serial code, and also load, bandwidth and fork/join
    /// costs), the timed serial fraction (<see cref="SerialFraction"/>) and the Amdahl projection
    /// <c>1 / (e + (1 - e) / P)</c> from the timed one at 16 and 64 cores.
    /// </summary>
    public static void Report(StringBuilder sb, Dictionary<string, double> d, int threads)
    {
        if (threads < 2 || !d.Keys.Any(k => k.EndsWith("@1t", StringComparison.Ordinal))) return;
        string F2(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
        string Us(double s) => (s * 1e6).ToString("F0", CultureInfo.InvariantCulture);
        sb.AppendLine();
        sb.AppendLine($"| case (issue 12 part 2) | 1 thread (us) | {threads} threads (us) | speed-up | target | e from speed-up | e timed | Amdahl 16 / 64 cores (e timed) |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var key in d.Keys.Where(k => k.EndsWith("@1t", StringComparison.Ordinal)).ToList())
        {
            string name = key[..^3];
            if (!d.TryGetValue($"{name}@{threads}t", out var tn)) continue;
            double t1 = d[key], s = t1 / tn;
            double e = Math.Clamp((threads / s - 1) / (threads - 1), 0, 1);
            double timed = Math.Clamp(d.GetValueOrDefault($"{name}.serial", double.NaN), 0, 1);
            double Amdahl(int p) => 1 / (timed + (1 - timed) / p);
            string target = name.Contains("512", StringComparison.Ordinal) ? "≥ 1.7" : "";
            sb.AppendLine($"| {name} | {Us(t1)} | {Us(tn)} | {F2(s)} | {target} | {F2(e)} | {F2(timed)} | {F2(Amdahl(16))} / {F2(Amdahl(64))} |");
        }
    }
}
