using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace DiffGen.CompilerServices;

/// <summary>
/// One chunk of a generated parallel loop: a <c>ref struct</c> that holds the spans and values the loop
/// body reads (generated code cannot capture spans in a lambda) and runs the iterations of one chunk.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IParallelBody
{
    /// <summary>Runs the iterations [<paramref name="from"/>, <paramref name="to"/>), chunk number <paramref name="chunk"/>.</summary>
    void Run(int chunk, int from, int to);
}

/// <summary>
/// Runs the parallel loops of generated code (see <see cref="Parallelism"/>). A loop is cut into
/// <see cref="Chunks"/> contiguous chunks; what a chunk computes depends only on its bounds, and partial
/// results are combined in chunk order, so the result depends on the chunk count and never on which
/// thread ran which chunk.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class ParallelLoops
{
    /// <summary>
    /// The chunk count for a loop of <paramref name="iterations"/> iterations doing about
    /// <paramref name="work"/> elementary steps in all: at most <see cref="Parallelism.MaxThreads"/> (and at most
    /// <paramref name="maxThreads"/> when that is positive, a <c>ParallelOptions.MaxDegreeOfParallelism</c>),
    /// at most one per iteration, and at least <see cref="Parallelism.MinChunkWork"/> work per chunk.
    /// </summary>
    public static int Chunks(long iterations, long work, int maxThreads = 0)
    {
        long threads = Parallelism.MaxThreads;
        if (maxThreads > 0) threads = Math.Min(threads, maxThreads);
        if (threads <= 1 || iterations < 2) return 1;
        long byWork = Math.Max(1, work / Parallelism.MinChunkWork);
        return (int)Math.Max(1, Math.Min(threads, Math.Min(iterations, byWork)));
    }

    /// <summary>The first iteration of chunk <paramref name="chunk"/> of [from, to) cut into <paramref name="chunks"/> (the last chunk ends at <paramref name="to"/>).</summary>
    public static int ChunkStart(int from, int to, int chunks, int chunk) =>
        to <= from ? from : from + (int)((long)(to - from) * chunk / chunks);

    /// <summary>
    /// Runs <paramref name="body"/> over [<paramref name="from"/>, <paramref name="to"/>) in
    /// <paramref name="chunks"/> chunks (bounds from <see cref="ChunkStart"/>), in parallel when there are several.
    /// <paramref name="body"/> lives on the caller's stack, which does not move while this call waits, so the
    /// worker threads reach it through its address; the spans it holds stay tracked by the garbage collector
    /// through the caller's frame. The call returns when every chunk has finished (their writes are then visible
    /// to the caller). The first exception a chunk throws is rethrown as it is; chunks not started by then are
    /// skipped.
    /// </summary>
    /// <remarks>
    /// <para>The chunks run on a persistent team of background threads plus the calling thread, which runs
    /// chunks too (the internal <c>LoopTeam</c>): <paramref name="chunks"/> − 1 workers, started when first needed.
    /// After a loop the workers spin for about 200 µs waiting for the next one and then block, so the loops
    /// of one physics step find them awake, while an idle process burns no CPU. (The thread pool's
    /// <c>Parallel.For</c>, used before, woke a sleeping pool worker at almost every loop, which on a 2-core VM
    /// cost most of the second thread's gain: docs/physics.md, "Threads".)</para>
    /// <para>One caller at a time owns the team. A loop started while another thread's loop holds it runs on the
    /// thread pool (<c>Parallel.For</c>, as before); a loop started inside a chunk of another loop (nested) runs
    /// its chunks one after another on the current thread. Either way every chunk gets the same bounds, so the
    /// result is the same bits.</para>
    /// </remarks>
    public static void For<T>(int from, int to, int chunks, ref T body) where T : IParallelBody, allows ref struct
    {
        if (to <= from) return;
        if (chunks <= 1)
        {
            body.Run(0, from, to);
            return;
        }
        if (LoopTeam.InChunk)
        {
            // Nested: the threads are busy with the outer loop; the same chunks, in order, here.
            for (int c = 0; c < chunks; c++) body.Run(c, ChunkStart(from, to, chunks, c), ChunkStart(from, to, chunks, c + 1));
            return;
        }
        var log = ParallelLoopsEventSource.Log;
        bool logged = log.IsEnabled();
        if (logged) log.LoopBegin(chunks);
        try
        {
            if (!LoopTeam.Shared.TryRun((nint)Unsafe.AsPointer(ref body), &RunChunk<T>, from, to, chunks))
                PoolFor(new Job((nint)Unsafe.AsPointer(ref body), &RunChunk<T>, from, to, chunks), chunks);
        }
        finally
        {
            if (logged) log.LoopEnd(chunks);
        }
    }

    // Another thread's loop owns the team: this one runs on the thread pool.
    private static void PoolFor(Job job, int chunks)
    {
        try
        {
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, job.Run);
        }
        catch (AggregateException e)
        {
            ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
    }

    private static void RunChunk<T>(nint body, int chunk, int from, int to) where T : IParallelBody, allows ref struct =>
        Unsafe.AsRef<T>((void*)body).Run(chunk, from, to);

    /// <summary>What the pool's threads need: no type parameter, so the delegate does not capture a ref struct type.</summary>
    private sealed class Job(nint body, delegate*<nint, int, int, int, void> run, int from, int to, int chunks)
    {
        public void Run(int chunk)
        {
            int depth = LoopTeam.Enter();
            try
            {
                run(body, chunk, ChunkStart(from, to, chunks, chunk), ChunkStart(from, to, chunks, chunk + 1));
            }
            finally
            {
                LoopTeam.Leave(depth);
            }
        }
    }

    /// <summary>
    /// Adds per-chunk adjoint buffers into <paramref name="target"/> in chunk order:
    /// <c>target[e] += buffers[0][e]; target[e] += buffers[1][e]; …</c> for the <paramref name="count"/>
    /// buffers of <c>target.Length</c> elements laid out one after another in <paramref name="buffers"/>
    /// (chunk 0 accumulated into <paramref name="target"/> itself). The elements are split over
    /// <paramref name="chunks"/> threads; each element's sum has the same order whatever the split.
    /// </summary>
    public static void AddBuffers<T>(Span<T> target, T[] buffers, int count, int chunks) where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(buffers);
        if ((long)count * target.Length > buffers.Length)
            throw new ArgumentException($"{count} buffers of {target.Length} elements do not fit in {buffers.Length}.", nameof(buffers));
        if (count <= 0 || target.Length == 0) return;
        var body = new AddBody<T> { Target = target, Buffers = buffers, Count = count };
        For(0, target.Length, Math.Max(1, chunks), ref body);
    }

    private ref struct AddBody<T> : IParallelBody where T : unmanaged, INumberBase<T>
    {
        public Span<T> Target;
        public T[] Buffers;
        public int Count;

        public void Run(int chunk, int from, int to)
        {
            var target = Target.Slice(from, to - from);
            for (int c = 0; c < Count; c++)
            {
                var buffer = Buffers.AsSpan(c * Target.Length + from, to - from);
                for (int e = 0; e < target.Length; e++) target[e] += buffer[e];
            }
        }
    }

    /// <summary>
    /// The interior [<paramref name="lo"/>, <paramref name="hi"/>) of a loop [<paramref name="from"/>, <paramref name="to"/>):
    /// <paramref name="interiorFrom"/> and <paramref name="interiorTo"/> clamped so that the boundary ranges
    /// [from, lo) and [hi, to) and the interior cover the loop exactly once (empty where the loop is small).
    /// </summary>
    public static void Interior(int from, int to, int interiorFrom, int interiorTo, out int lo, out int hi)
    {
        if (to < from) to = from;
        lo = Math.Clamp(interiorFrom, from, to);
        hi = Math.Clamp(interiorTo, lo, to);
    }

    /// <summary>One tape per chunk, for a parallel loop whose body records values (its reverse pops them chunk by chunk).</summary>
    public static Tape[] RentTapes(int chunks)
    {
        var tapes = new Tape[Math.Max(1, chunks)];
        for (int c = 0; c < tapes.Length; c++) tapes[c] = new Tape();
        return tapes;
    }

    /// <summary>Disposes the chunk tapes of <see cref="RentTapes"/> once the reverse sweep has emptied them.</summary>
    public static void ReturnTapes(Tape[] tapes)
    {
        ArgumentNullException.ThrowIfNull(tapes);
        foreach (var t in tapes) t.Dispose();
    }
}
