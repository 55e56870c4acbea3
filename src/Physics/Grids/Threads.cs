using DiffGen.CompilerServices;

namespace DiffGen.Physics;

/// <summary>
/// Hand-written loops of the physics library (the pressure and implicit-diffusion solves: CG vector
/// operations, the stencil, multigrid smoothing, residual, restriction, prolongation) on threads, with
/// the chunking of generated parallel loops (<see cref="ParallelLoops"/>, so <see cref="Parallelism"/>'s
/// <c>MaxThreads</c> and <c>MinChunkWork</c> decide the threads and small loops stay serial).
/// </summary>
/// <remarks>
/// Element-wise loops give the same bits at every thread count (each element is computed the same way).
/// Reductions (sums, dot products) are cut into fixed blocks of <see cref="Block"/> elements, each summed
/// serially, and the block sums are added in block order: the partition does not depend on the thread
/// count, so neither do the bits. A field of at most one block sums exactly as the plain serial loop did,
/// which keeps the small grids (and the trainers' documented results) unchanged.
/// </remarks>
internal static class Threads
{
    /// <summary>Elements per reduction block (a fixed partition, independent of the thread count).</summary>
    public const int Block = 8192;

    /// <summary>
    /// Runs <paramref name="body"/> over [0, <paramref name="n"/>) in contiguous chunks, in parallel when
    /// the loop does at least twice <see cref="Parallelism.MinChunkWork"/> of <paramref name="workPerIteration"/>-sized iterations.
    /// </summary>
    public static void For<T>(int n, long workPerIteration, ref T body) where T : IParallelBody, allows ref struct
    {
        if (n <= 0) return;
        ParallelLoops.For(0, n, ParallelLoops.Chunks(n, n * Math.Max(1, workPerIteration)), ref body);
    }

    /// <summary>The number of reduction blocks of a field of <paramref name="n"/> elements.</summary>
    public static int Blocks(int n) => (n + Block - 1) / Block;

    /// <summary>The element range [<paramref name="from"/>, <paramref name="to"/>) of blocks [<paramref name="blockFrom"/>, <paramref name="blockTo"/>).</summary>
    public static void BlockRange(int n, int blockFrom, int blockTo, out int from, out int to)
    {
        from = (int)Math.Min((long)blockFrom * Block, n);
        to = (int)Math.Min((long)blockTo * Block, n);
    }

    /// <summary>
    /// Runs <paramref name="body"/> over the blocks of a field of <paramref name="n"/> elements: <c>Run(chunk, b0, b1)</c>
    /// gets block numbers, which <see cref="BlockRange"/> turns into elements.
    /// </summary>
    public static void ForBlocks<T>(int n, ref T body) where T : IParallelBody, allows ref struct
    {
        int blocks = Blocks(n);
        if (blocks <= 0) return;
        ParallelLoops.For(0, blocks, ParallelLoops.Chunks(blocks, n), ref body);
    }

    /// <summary>The block partial sums added in block order (from 0, as a serial loop starts).</summary>
    public static double SumInOrder(ReadOnlySpan<double> partials)
    {
        double s = 0;
        foreach (double p in partials) s += p;
        return s;
    }

    /// <summary>The largest of the block maxima (NaN if one is NaN, as <see cref="Math.Max(double, double)"/> propagates it).</summary>
    public static double MaxInOrder(ReadOnlySpan<double> partials)
    {
        double m = 0;
        foreach (double p in partials) m = Math.Max(m, p);
        return m;
    }
}
