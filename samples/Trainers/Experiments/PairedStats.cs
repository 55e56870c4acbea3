using System.Diagnostics;
using DiffGen.Trainers.Common;
using ScottPlot;

namespace DiffGen.Trainers.Experiments;

/// <summary>A mean with its bootstrap 95 % interval.</summary>
public sealed record Interval(double Value, double Low, double High);

/// <summary>
/// Uncertainty of results over training seeds and held-out cases. A result is a matrix
/// <c>values[seed][case]</c>; the bootstrap resamples seeds and cases independently (with
/// replacement) and takes the mean over the resampled grid, so both the training noise (seeds) and
/// the choice of held-out cases widen the interval. Ratios are paired: numerator and denominator use
/// the same resampled seeds and cases, as they were trained from the same initial weights and batch
/// order and tested on the same cases.
/// </summary>
public static class PairedStats
{
    /// <summary>Resamples per interval.</summary>
    public const int Resamples = 10000;

    // A fixed generator: the same results give the same intervals on every run.
    private const int BootstrapSeed = 20261001;

    /// <summary>The grand mean of <paramref name="values"/> and its percentile-bootstrap 95 % interval.</summary>
    public static Interval Mean(double[][] values)
    {
        Check(values, nameof(values));
        return Bootstrap(values, null);
    }

    /// <summary>mean(<paramref name="numerator"/>) / mean(<paramref name="denominator"/>) with a paired bootstrap 95 % interval.</summary>
    public static Interval Ratio(double[][] numerator, double[][] denominator)
    {
        Check(numerator, nameof(numerator));
        Check(denominator, nameof(denominator));
        if (numerator.Length != denominator.Length || numerator[0].Length != denominator[0].Length)
            throw new ArgumentException($"a paired ratio needs the same seeds and cases on both sides ({numerator.Length}x{numerator[0].Length} vs {denominator.Length}x{denominator[0].Length})", nameof(denominator));
        return Bootstrap(numerator, denominator);
    }

    private static Interval Bootstrap(double[][] a, double[][]? b)
    {
        int seeds = a.Length, cases = a[0].Length;
        double Stat(int[] si, int[] ci)
        {
            double sa = 0, sb = 0;
            foreach (int s in si)
                foreach (int c in ci)
                {
                    sa += a[s][c];
                    if (b != null) sb += b[s][c];
                }
            return b == null ? sa / (si.Length * ci.Length) : sa / sb;
        }
        double point = Stat(Enumerable.Range(0, seeds).ToArray(), Enumerable.Range(0, cases).ToArray());
        var rng = new Random(BootstrapSeed);
        var draws = new double[Resamples];
        var sIdx = new int[seeds];
        var cIdx = new int[cases];
        for (int r = 0; r < Resamples; r++)
        {
            for (int i = 0; i < seeds; i++) sIdx[i] = rng.Next(seeds);
            for (int i = 0; i < cases; i++) cIdx[i] = rng.Next(cases);
            draws[r] = Stat(sIdx, cIdx);
        }
        Array.Sort(draws);
        return new Interval(point, Quantile(draws, 0.025), Quantile(draws, 0.975));
    }

    /// <summary>Linear interpolation between order statistics of sorted values.</summary>
    internal static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private static void Check(double[][] values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Length == 0 || values[0].Length == 0) throw new ArgumentException("needs at least one seed and one case", name);
        if (values.Any(r => r.Length != values[0].Length)) throw new ArgumentException("every seed needs the same cases", name);
        if (values.Any(r => r.Any(v => !double.IsFinite(v)))) throw new ArgumentException("values must be finite", name);
    }

    /// <summary>
    /// One value per label with its interval as error bars: on a log axis for errors (they span
    /// decades), or on a linear one with a dashed line at <paramref name="referenceLine"/> (ratios, at 1).
    /// </summary>
    public static void WritePlot(RunOutput output, string file, string title, string yLabel, IReadOnlyList<(string Label, Interval Value)> points, bool logScale = true, double? referenceLine = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0) throw new ArgumentException("nothing to plot", nameof(points));
        Func<double, double> y = logScale ? v => Math.Log10(Math.Max(v, 1e-300)) : v => v;
        var plt = new Plot();
        double[] xs = Enumerable.Range(0, points.Count).Select(i => (double)i).ToArray();
        double[] ys = points.Select(p => y(p.Value.Value)).ToArray();
        if (referenceLine is { } r)
        {
            var line = plt.Add.HorizontalLine(y(r));
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Gray;
        }
        var bars = plt.Add.ErrorBar(xs, ys, new double[points.Count]);
        bars.YErrorNegative = points.Select(p => y(p.Value.Value) - y(p.Value.Low)).ToArray();
        bars.YErrorPositive = points.Select(p => y(p.Value.High) - y(p.Value.Value)).ToArray();
        bars.LineWidth = 2;
        var marks = plt.Add.Scatter(xs, ys);
        marks.LineWidth = 0;
        marks.MarkerSize = 9;
        marks.Color = bars.Color;
        plt.Axes.Bottom.SetTicks(xs, points.Select(p => p.Label).ToArray());
        plt.Axes.SetLimitsX(-0.6, points.Count - 0.4);
        plt.Title(title);
        plt.YLabel(logScale ? "log10 " + yLabel : yLabel);
        plt.SavePng(output.PathOf(file), 760, 450);
    }
}

/// <summary>
/// Training time of one run: wall time and the process's CPU time, both resumable from a checkpoint and
/// pausable around evaluations. On a shared machine the wall time measures the neighbours as much as the
/// run; the CPU time (all threads) is the steadier figure to compare variants by.
/// </summary>
internal sealed class TrainingClock
{
    private readonly Stopwatch _wall = new();
    private readonly double _wallBefore;
    private double _cpuBefore;
    private TimeSpan _cpuStart;

    /// <summary>Starts running, continuing from the seconds of an interrupted run.</summary>
    public TrainingClock(double wallSeconds = 0, double cpuSeconds = 0)
    {
        (_wallBefore, _cpuBefore) = (wallSeconds, cpuSeconds);
        Resume();
    }

    /// <summary>Wall seconds counted so far.</summary>
    public double WallSeconds => _wallBefore + _wall.Elapsed.TotalSeconds;

    /// <summary>CPU seconds counted so far.</summary>
    public double CpuSeconds => _cpuBefore + (_wall.IsRunning ? (Cpu() - _cpuStart).TotalSeconds : 0);

    /// <summary>Stops counting (e.g. during an evaluation).</summary>
    public void Pause()
    {
        if (!_wall.IsRunning) return;
        _cpuBefore += (Cpu() - _cpuStart).TotalSeconds;
        _wall.Stop();
    }

    /// <summary>Counts again.</summary>
    public void Resume()
    {
        if (_wall.IsRunning) return;
        _cpuStart = Cpu();
        _wall.Start();
    }

    private static TimeSpan Cpu() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
}
