using DiffGen.Trainers.Experiments;

namespace DiffGen.Benchmarks;

/// <summary>
/// The mosaic group (`--only mosaic`, opt-in: several minutes): Mosaic's cost suite for its 2D Navier–Stokes task
/// (nu 0.01, dt 0.01, multi-mode IC): forward and VJP wall time vs N (64–256, 100 steps) and vs steps (10–1000 at
/// N 128), one warm-up and three trials each, as Mosaic times them. Peak memory is the mosaic sample's
/// (`mosaic --task cost`), which polls the heap and would disturb these timings.
/// </summary>
public static class MosaicCost
{
    public static void Run(Dictionary<string, double> r)
    {
        foreach (int n in new[] { 64, 128, 192, 256 })
        {
            var c = Mosaic.MeasureCost(n, 100, 0.01, 0.01, 3, 1e-9, 42, memory: false);
            r[$"mosaic.N{n}.steps100.forward"] = c.ForwardSeconds;
            r[$"mosaic.N{n}.steps100.vjp"] = c.VjpSeconds;
        }
        foreach (int steps in new[] { 10, 50, 500, 1000 })
        {
            var c = Mosaic.MeasureCost(128, steps, 0.01, 0.01, 3, 1e-9, 42, memory: false);
            r[$"mosaic.N128.steps{steps}.forward"] = c.ForwardSeconds;
            r[$"mosaic.N128.steps{steps}.vjp"] = c.VjpSeconds;
        }
    }
}
