// Arrays of plain (non-partial) objects and List<T>: graph nodes relaxed towards their neighbours,
// weighted sums, statistics over a List<double>.
using System;
using System.Collections.Generic;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Graphs;

public class Node
{
    public double Value;
    public double Weight;
    public int Left = -1;
    public int Right = -1;
}

public static partial class NodeOps
{
    [Differentiable]
    public static double WeightedSum(Node[] nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        double s = 0;
        for (int i = 0; i < nodes.Length; i++) s += nodes[i].Weight * nodes[i].Value;
        return s;
    }

    [Differentiable]
    public static void Relax(Node[] nodes, double alpha, int sweeps)
    {
        for (int sweep = 0; sweep < sweeps; sweep++)
        {
            foreach (var node in nodes)
            {
                double neighbours = 0;
                int count = 0;
                if (node.Left >= 0) { neighbours += nodes[node.Left].Value; count++; }
                if (node.Right >= 0) { neighbours += nodes[node.Right].Value; count++; }
                if (count > 0) node.Value += alpha * (neighbours / count - node.Value);
            }
        }
    }

    [Differentiable]
    public static double Variance(List<double> samples)
    {
        if (samples.Count < 2) throw new ArgumentException("Need at least two samples.", nameof(samples));
        double mean = 0;
        for (int i = 0; i < samples.Count; i++) mean += samples[i];
        mean /= samples.Count;
        double ss = 0;
        foreach (double x in samples) ss += (x - mean) * (x - mean);
        return ss / (samples.Count - 1);
    }

    [Differentiable]
    public static void Normalize(List<double> values)
    {
        double norm = 0;
        for (int i = 0; i < values.Count; i++) norm += values[i] * values[i];
        norm = Math.Sqrt(norm);
        for (int i = 0; i < values.Count; i++) values[i] /= norm;
    }
}

public static class Driver
{
    private const int N = 5;
    private static readonly double[] P = Data.Concat(Data.Uniform(2 * N, 121, -1, 1), [0.4]);

    private static Node[] Read(Reader r)
    {
        var nodes = new Node[N];
        for (int i = 0; i < N; i++) nodes[i] = new Node { Value = r.D(), Weight = r.D(), Left = i - 1, Right = i + 1 < N ? i + 1 : -1 };
        return nodes;
    }

    private static Writer Write(Node[] nodes)
    {
        var w = new Writer();
        foreach (var n in nodes) w.Add(n.Value).Add(n.Weight);
        return w;
    }

    private static Node[] Shadows(Node[] nodes)
    {
        // Node is not partial: its shadow is a new Node whose double fields are zero (links copied).
        var bar = new Node[nodes.Length];
        for (int i = 0; i < nodes.Length; i++) bar[i] = new Node { Left = nodes[i].Left, Right = nodes[i].Right };
        return bar;
    }

    public static string? Check() => C.All(
        C.Gradient("NodeOps.WeightedSum", p => NodeOps.WeightedSum(Read(new Reader(p))), Ad.For("WeightedSum"), P[..(2 * N)]),
        C.Gradient("NodeOps.Relax", p => { var r = new Reader(p); var ns = Read(r); NodeOps.Relax(ns, r.D(), 3); return Write(ns).Loss(); }, Ad.For("Relax"), P),
        C.Gradient("NodeOps.Variance", p => NodeOps.Variance(new List<double>(p)), Ad.For("Variance"), P[..7]),
        C.Gradient("NodeOps.Normalize", p => { var l = new List<double>(p); NodeOps.Normalize(l); return new Writer().Add(l).Loss(); }, Ad.For("Normalize"), P[..6]),
        Ad.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["WeightedSum"] = p =>
        {
            var ns = Read(new Reader(p)); var bar = Shadows(ns);
            NodeOps.WeightedSumPullback(ns, 1.0, bar);
            return Write(bar).ToArray();
        },
        ["Relax"] = p =>
        {
            var r = new Reader(p); var ns = Read(r); double alpha = r.D();
            var bar = Shadows(ns); var s = Reader.Seeds();
            foreach (var b in bar) { b.Value = s.D(); b.Weight = s.D(); }
            double alphaBar = 0;
            NodeOps.RelaxPullback(ns, alpha, 3, bar, ref alphaBar);
            return Write(bar).Add(alphaBar).ToArray();
        },
        ["Variance"] = p =>
        {
            var bar = new List<double>(new double[p.Length]);
            NodeOps.VariancePullback(new List<double>(p), 1.0, bar);
            return bar.ToArray();
        },
        ["Normalize"] = p =>
        {
            var bar = Reader.Seeds().List(p.Length);
            NodeOps.NormalizePullback(new List<double>(p), bar);
            return bar.ToArray();
        },
    };
#endif
}
