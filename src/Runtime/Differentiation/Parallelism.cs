namespace DiffGen;

/// <summary>
/// How many threads the parallel loops of generated code use: the loops a user wrote with
/// <c>Parallel.For</c> inside a <c>[Differentiable]</c> method (their forward and reverse sweeps in the
/// pullback) and the loops of <see cref="DataParallelAttribute"/> methods. A loop is split into a number
/// of contiguous chunks that depends only on <see cref="MaxThreads"/> and the loop's size, and partial
/// results are combined in chunk order, so the same thread setting gives the same bits at every run,
/// whichever threads happen to run the chunks.
/// </summary>
/// <example>
/// <code>
/// Parallelism.MaxThreads = 4;                 // process-wide default (initially Environment.ProcessorCount)
/// using (Parallelism.Use(1)) { … }            // this flow of execution only (tests, benchmarks)
/// </code>
/// </example>
public static class Parallelism
{
    private static int s_maxThreads = Math.Max(1, Environment.ProcessorCount);
    private static int s_minChunkWork = 4096;
    private static readonly AsyncLocal<Settings?> s_scoped = new();

    private sealed record Settings(int MaxThreads, int MinChunkWork);

    /// <summary>
    /// The most chunks (and so threads) a generated parallel loop is split into; 1 runs every loop serially.
    /// A value set with <see cref="Use"/> takes precedence in its flow of execution.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int MaxThreads
    {
        get => s_scoped.Value?.MaxThreads ?? Volatile.Read(ref s_maxThreads);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MaxThreads));
            Volatile.Write(ref s_maxThreads, value);
        }
    }

    /// <summary>
    /// The least work (loop iterations times the iterations of the loops inside, an estimate of the
    /// elements touched) that one chunk gets: smaller loops run on fewer threads, the smallest serially,
    /// because starting a thread costs more than they do. Default 4096. A value set with <see cref="Use"/>
    /// takes precedence in its flow of execution.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int MinChunkWork
    {
        get => s_scoped.Value?.MinChunkWork ?? Volatile.Read(ref s_minChunkWork);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MinChunkWork));
            Volatile.Write(ref s_minChunkWork, value);
        }
    }

    /// <summary>
    /// Sets <see cref="MaxThreads"/> (and, when given, <see cref="MinChunkWork"/>) for the current flow of
    /// execution (this thread and the tasks it starts) until the returned scope is disposed; other flows keep
    /// their settings.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxThreads"/> or <paramref name="minChunkWork"/> is less than 1.</exception>
    public static IDisposable Use(int maxThreads, int? minChunkWork = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1, nameof(maxThreads));
        if (minChunkWork is int w) ArgumentOutOfRangeException.ThrowIfLessThan(w, 1, nameof(minChunkWork));
        var scope = new Scope(s_scoped.Value);
        s_scoped.Value = new Settings(maxThreads, minChunkWork ?? MinChunkWork);
        return scope;
    }

    private sealed class Scope(Settings? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            s_scoped.Value = previous;
        }
    }
}
