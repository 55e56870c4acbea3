using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Runtime.ExceptionServices;

namespace DiffGen.CompilerServices;

/// <summary>
/// The worker threads of <see cref="ParallelLoops.For{T}"/>: a process-wide team of dedicated background
/// threads that, after a loop, spin for a short while waiting for the next one before they block.
/// </summary>
/// <remarks>
/// <para>Why not <c>Parallel.For</c> on the thread pool: a physics step runs tens to hundreds of parallel loops of
/// 0.1–5 ms with short serial stretches between them, and a pool worker that went to sleep since the previous
/// loop takes tens of microseconds or more to wake on a VM (benchmarks/README.md, "Issue 12 part 2"), which ate
/// most of the second thread's gain. A team worker is usually still spinning when the next loop starts.</para>
/// <para>How a loop runs: one caller at a time owns the team. It writes the job (body address, bounds, chunk
/// count, its execution context), then publishes it in <see cref="_state"/> (generation in the high 32 bits,
/// chunks not yet claimed in the low 32 bits), wakes the blocked workers it needs, and claims chunks itself
/// like the workers do (compare-and-swap on <see cref="_state"/>). Whoever runs a chunk counts
/// <see cref="_unfinished"/> down; the owner returns only when it reaches zero (a full barrier: no worker
/// touches the body afterwards, and the interlocked count orders the workers' writes before the owner's
/// reads). Which thread runs which chunk varies; what a chunk computes does not (its bounds come from
/// <see cref="ParallelLoops.ChunkStart"/>).</para>
/// <para>The job fields are only written while no chunk can be claimed (the low half of <see cref="_state"/>
/// is zero between jobs), and a claim succeeds only against the current generation, so a late worker can
/// never run a chunk of a job with the fields of another.</para>
/// </remarks>
internal sealed unsafe class LoopTeam
{
    /// <summary>The one team of the process.</summary>
    public static readonly LoopTeam Shared = new();

    /// <summary>
    /// How long a worker waiting for the next loop, and an owner waiting for the last chunk, spin before they
    /// block (ticks of <see cref="Stopwatch"/>). Chosen from the serial stretches between the loops of a physics
    /// step (benchmarks/README.md, "The worker team": 85–100 % of them are at most 200 µs, so the loops that still
    /// wake a worker cost under 1 % of a step), short enough that an idle process stops burning a core almost at once.
    /// </summary>
    internal static long SpinTicks = Stopwatch.Frequency * DefaultSpinMicroseconds / 1_000_000;

    /// <summary>The default spin budget, in microseconds.</summary>
    internal const int DefaultSpinMicroseconds = 200;

    /// <summary>At most this many workers (a chunk count above it is served by the workers there are).</summary>
    internal static readonly int MaxWorkers = Math.Max(3, 2 * Environment.ProcessorCount - 1);

    /// <summary>How deep the current thread is inside chunks of parallel loops (nested loops run serially).</summary>
    [ThreadStatic] private static int t_depth;

    private int _owned;
    private Worker[] _workers = [];

    // The current job: written by the owner only while _state has no unclaimed chunk.
    private nint _body;
    private delegate*<nint, int, int, int, void> _run;
    private int _from, _to, _chunks;
    private ExecutionContext? _context;
    private Exception? _error;

    private long _state;
    private int _unfinished;

    // The owner blocks on this once its spin budget is spent (same protocol as Worker.Sleeping).
    private int _ownerWaiting;
    private readonly SemaphoreSlim _ownerWake = new(0);

    /// <summary>Whether the current thread is running a chunk of a parallel loop.</summary>
    public static bool InChunk => t_depth > 0;

    /// <summary>Marks the current thread as running a chunk (nested loops then run serially); returns the previous depth.</summary>
    public static int Enter() => t_depth++;

    /// <summary>Undoes <see cref="Enter"/>.</summary>
    public static void Leave(int previous) => t_depth = previous;

    /// <summary>The number of worker threads started so far (tests).</summary>
    internal int WorkerCount => Volatile.Read(ref _workers).Length;

    /// <summary>
    /// Runs the job on the team when no other caller owns it; false (nothing run) when it does, and the caller
    /// runs the loop another way. Rethrows the first exception a chunk threw, as it was thrown.
    /// </summary>
    public bool TryRun(nint body, delegate*<nint, int, int, int, void> run, int from, int to, int chunks)
    {
        if (Interlocked.CompareExchange(ref _owned, 1, 0) != 0) return false;
        Exception? error;
        try
        {
            EnsureWorkers(Math.Min(chunks - 1, MaxWorkers));
            _body = body;
            _run = run;
            _from = from;
            _to = to;
            _chunks = chunks;
            _context = ExecutionContext.Capture();
            _error = null;
            Volatile.Write(ref _unfinished, chunks);
            long generation = ((_state >>> 32) + 1) & 0xFFFF_FFFF;
            // Publishing is a full fence: the job fields above are visible to whoever claims a chunk, and a
            // worker that announced it is going to sleep is seen below (it re-checks _state after announcing).
            Interlocked.Exchange(ref _state, (generation << 32) | (uint)chunks);
            var workers = _workers;
            for (int w = 0, n = Math.Min(chunks - 1, workers.Length); w < n; w++) workers[w].Wake();
            Work(onWorker: false);
            WaitUnfinished();
            error = _error;
            _error = null;
            _body = 0;
            _context = null;
        }
        finally
        {
            Volatile.Write(ref _owned, 0);
        }
        if (error is not null) ExceptionDispatchInfo.Capture(error).Throw();
        return true;
    }

    /// <summary>Claims and runs chunks of the current job until none is left unclaimed.</summary>
    private void Work(bool onWorker)
    {
        // On a worker, the execution context the chunks run in (the loop of one owner can follow another's within
        // this call, so it is compared per chunk).
        ExecutionContext? current = onWorker ? Worker.IdleContext : null;
        while (true)
        {
            long s = Volatile.Read(ref _state);
            int left = (int)(uint)s;
            if (left == 0) break;
            if (Interlocked.CompareExchange(ref _state, s - 1, s) != s) continue;
            // Claimed: this job cannot finish before this chunk does, so its fields stay as they are.
            int chunks = _chunks, chunk = chunks - left;
            if (onWorker && (_context ?? Worker.IdleContext) is { } context && !ReferenceEquals(context, current))
            {
                // The caller's execution context (its Parallelism.Use scope, culture, …), as Parallel.For flows it.
                ExecutionContext.Restore(context);
                current = context;
            }
            int depth = Enter();
            try
            {
                if (Volatile.Read(ref _error) is null)
                    _run(_body, chunk, ParallelLoops.ChunkStart(_from, _to, chunks, chunk), ParallelLoops.ChunkStart(_from, _to, chunks, chunk + 1));
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            finally
            {
                Leave(depth);
            }
            if (Interlocked.Decrement(ref _unfinished) == 0 && onWorker) SignalOwner();
        }
        if (onWorker && !ReferenceEquals(current, Worker.IdleContext)) ExecutionContext.Restore(Worker.IdleContext!);
    }

    private void SignalOwner()
    {
        if (Volatile.Read(ref _ownerWaiting) == 1 && Interlocked.Exchange(ref _ownerWaiting, 0) == 1) _ownerWake.Release();
    }

    private void WaitUnfinished()
    {
        if (Volatile.Read(ref _unfinished) == 0) return;
        long start = Stopwatch.GetTimestamp(), budget = Volatile.Read(ref SpinTicks);
        var spinner = new SpinWait();
        while (Volatile.Read(ref _unfinished) != 0)
        {
            if (Stopwatch.GetTimestamp() - start > budget)
            {
                // Announce, re-check, block. A release meant for an earlier job's owner (a worker that counted that
                // job down to zero late) only costs one more round of this loop.
                Interlocked.Exchange(ref _ownerWaiting, 1);
                if (Volatile.Read(ref _unfinished) == 0)
                {
                    if (Interlocked.Exchange(ref _ownerWaiting, 0) == 0) _ownerWake.Wait(); // a release is on its way: take it
                    return;
                }
                _ownerWake.Wait();
                continue;
            }
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    private void EnsureWorkers(int count)
    {
        var workers = _workers;
        if (workers.Length >= count) return;
        var grown = new Worker[count];
        workers.CopyTo(grown, 0);
        for (int w = workers.Length; w < count; w++) grown[w] = new Worker(this, w);
        Volatile.Write(ref _workers, grown);
    }

    /// <summary>Whether a chunk is waiting to be claimed.</summary>
    private bool HasWork => (uint)Volatile.Read(ref _state) != 0;

    private sealed class Worker
    {
        [ThreadStatic] internal static ExecutionContext? IdleContext;

        private readonly LoopTeam _team;
        private readonly SemaphoreSlim _wake = new(0);
        private int _sleeping;

        public Worker(LoopTeam team, int index)
        {
            _team = team;
            // Not a thread-pool thread: it must not wait behind queued work items, and it must not be counted by
            // the pool's starvation logic while it spins.
            new Thread(Loop) { IsBackground = true, Name = $"DiffGen loop worker {index + 1}" }.Start();
        }

        /// <summary>Wakes the worker if it blocked (called by the owner after publishing a job).</summary>
        public void Wake()
        {
            if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        private void Loop()
        {
            IdleContext = ExecutionContext.Capture();
            while (true)
            {
                if (!SpinForWork())
                {
                    // Announce, re-check, block (the owner clears _sleeping and releases after it publishes).
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (_team.HasWork && Interlocked.Exchange(ref _sleeping, 0) == 1) { }
                    else _wake.Wait();
                }
                _team.Work(onWorker: true);
            }
        }

        private bool SpinForWork()
        {
            if (_team.HasWork) return true;
            long start = Stopwatch.GetTimestamp(), budget = Volatile.Read(ref SpinTicks);
            var spinner = new SpinWait();
            while (!_team.HasWork)
            {
                if (Stopwatch.GetTimestamp() - start > budget) return false;
                spinner.SpinOnce(sleep1Threshold: -1);
            }
            return true;
        }
    }
}

/// <summary>
/// Marks, on the calling thread, the parallel regions of <see cref="ParallelLoops.For{T}"/> (a loop in several
/// chunks, on the team or on the thread pool), so a profiler or the benchmarks can time the code outside them.
/// </summary>
[EventSource(Name = "DiffGen-ParallelLoops")]
internal sealed class ParallelLoopsEventSource : EventSource
{
    public static readonly ParallelLoopsEventSource Log = new();

    [Event(1, Level = EventLevel.Informational)]
    public void LoopBegin(int chunks) => WriteEvent(1, chunks);

    [Event(2, Level = EventLevel.Informational)]
    public void LoopEnd(int chunks) => WriteEvent(2, chunks);
}
