using DiffGen.CompilerServices;

namespace DiffGen.Runtime.Tests.Differentiation;

/// <summary>
/// <see cref="ParallelLoops.For{T}"/> on its worker team: nested loops, concurrent callers, exceptions, bit-identical
/// results, every element written once, and a thread setting that changes between calls.
/// </summary>
/// <remarks>The tests share the process-wide team, so they run one after another (one collection).</remarks>
[Collection(nameof(LoopTeamTests))]
[CollectionDefinition(nameof(LoopTeamTests), DisableParallelization = true)]
public class LoopTeamTests
{
    /// <summary>Adds 1 to every element of its chunk and records the chunk's bounds and thread.</summary>
    private ref struct CountBody : IParallelBody
    {
        public Span<int> Hits;
        public Span<int> ChunkFrom, ChunkTo, ChunkThread;

        public void Run(int chunk, int from, int to)
        {
            for (int i = from; i < to; i++) Hits[i]++;
            ChunkFrom[chunk] = from;
            ChunkTo[chunk] = to;
            ChunkThread[chunk] = Environment.CurrentManagedThreadId;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void EveryElement_IsWrittenOnce_InTheChunksOfChunkStart(int chunks)
    {
        for (int round = 0; round < 200; round++)
        {
            int from = round % 5, to = from + 1000 + round;
            var hits = new int[to];
            int[] cf = new int[chunks], ct = new int[chunks], th = new int[chunks];
            var body = new CountBody { Hits = hits, ChunkFrom = cf, ChunkTo = ct, ChunkThread = th };
            ParallelLoops.For(from, to, chunks, ref body);
            for (int i = 0; i < to; i++) Assert.Equal(i < from ? 0 : 1, hits[i]);
            for (int c = 0; c < chunks; c++)
            {
                Assert.Equal(ParallelLoops.ChunkStart(from, to, chunks, c), cf[c]);
                Assert.Equal(ParallelLoops.ChunkStart(from, to, chunks, c + 1), ct[c]);
            }
        }
    }

    [Fact]
    public void Chunks_RunOnSeveralThreads_AndTheTeamGrowsToTheChunkCount()
    {
        // A chunk that waits until another chunk has started can only finish when two threads run at once.
        var body = new RendezvousBody { Started = new int[1] };
        ParallelLoops.For(0, 2, 2, ref body);
        Assert.Equal(2, body.Started[0]);
        var wide = new RendezvousBody { Started = new int[1], Wanted = 3 };
        ParallelLoops.For(0, 3, 3, ref wide);
        Assert.Equal(3, wide.Started[0]);
        // (A loop that found the team held by another test's loop ran on the pool instead: try a few times.)
        for (int k = 0; k < 100 && LoopTeam.Shared.WorkerCount < 2; k++)
        {
            var again = new RendezvousBody { Started = new int[1], Wanted = 3 };
            ParallelLoops.For(0, 3, 3, ref again);
        }
        Assert.True(LoopTeam.Shared.WorkerCount >= 2);
    }

    private ref struct RendezvousBody : IParallelBody
    {
        public int[] Started;
        public int Wanted;

        public void Run(int chunk, int from, int to)
        {
            Interlocked.Increment(ref Started[0]);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Volatile.Read(ref Started[0]) < Math.Max(2, Wanted))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("the chunks did not run at the same time");
                Thread.Yield();
            }
        }
    }

    /// <summary>A sum over blocks of the data, one partial per chunk, combined in chunk order (as generated reductions do).</summary>
    private ref struct SumBody : IParallelBody
    {
        public ReadOnlySpan<double> Data;
        public Span<double> Partials;

        public void Run(int chunk, int from, int to)
        {
            double s = 0;
            for (int i = from; i < to; i++) s += Data[i] * Math.Sin(Data[i]);
            Partials[chunk] = s;
        }
    }

    private static double ChunkedSum(double[] data, int chunks)
    {
        var partials = new double[chunks];
        var body = new SumBody { Data = data, Partials = partials };
        ParallelLoops.For(0, data.Length, chunks, ref body);
        double sum = 0;
        foreach (double p in partials) sum += p;
        return sum;
    }

    private static double SerialChunkedSum(double[] data, int chunks)
    {
        double sum = 0;
        for (int c = 0; c < chunks; c++)
        {
            double s = 0;
            for (int i = ParallelLoops.ChunkStart(0, data.Length, chunks, c); i < ParallelLoops.ChunkStart(0, data.Length, chunks, c + 1); i++)
                s += data[i] * Math.Sin(data[i]);
            sum += s;
        }
        return sum;
    }

    private static double[] Data(int n)
    {
        var rng = new Random(12);
        var d = new double[n];
        for (int i = 0; i < n; i++) d[i] = rng.NextDouble() * 1e3 - 500;
        return d;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Results_AreBitIdentical_Over50Runs_AndEqualToTheSerialChunkedSum(int threads)
    {
        var data = Data(100_003);
        using (Parallelism.Use(threads, minChunkWork: 1000))
        {
            int chunks = ParallelLoops.Chunks(data.Length, data.Length);
            Assert.Equal(threads, chunks);
            double expected = SerialChunkedSum(data, chunks);
            for (int run = 0; run < 50; run++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(ChunkedSum(data, chunks)));
        }
    }

    [Fact]
    public void MaxThreads_ChangedBetweenCalls_GivesEachSettingsChunks()
    {
        var data = Data(50_001);
        int saved = Parallelism.MaxThreads;
        try
        {
            foreach (int threads in new[] { 3, 1, 2, 3, 2, 1, 3 })
            {
                Parallelism.MaxThreads = threads;
                int chunks = ParallelLoops.Chunks(data.Length, data.Length);
                Assert.Equal(threads, chunks);
                Assert.Equal(BitConverter.DoubleToInt64Bits(SerialChunkedSum(data, chunks)), BitConverter.DoubleToInt64Bits(ChunkedSum(data, chunks)));
                var hits = new int[data.Length];
                int[] cf = new int[chunks], ct = new int[chunks], th = new int[chunks];
                var body = new CountBody { Hits = hits, ChunkFrom = cf, ChunkTo = ct, ChunkThread = th };
                ParallelLoops.For(0, hits.Length, chunks, ref body);
                Assert.All(hits, h => Assert.Equal(1, h));
            }
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    /// <summary>Each outer chunk runs an inner parallel loop over its own row.</summary>
    private ref struct OuterBody : IParallelBody
    {
        public int[] Grid;
        public int Width, InnerChunks;

        public void Run(int chunk, int from, int to)
        {
            for (int r = from; r < to; r++)
            {
                var inner = new InnerBody { Row = Grid.AsSpan(r * Width, Width), Value = r };
                ParallelLoops.For(0, Width, InnerChunks, ref inner);
            }
        }
    }

    private ref struct InnerBody : IParallelBody
    {
        public Span<int> Row;
        public int Value;

        public void Run(int chunk, int from, int to)
        {
            for (int i = from; i < to; i++) Row[i] += Value * 1000 + i;
        }
    }

    [Fact]
    public void NestedFor_RunsWithoutDeadlock_AndWritesEveryElementOnce()
    {
        const int rows = 37, width = 101;
        for (int round = 0; round < 100; round++)
        {
            var grid = new int[rows * width];
            var done = new Thread(() =>
            {
                var outer = new OuterBody { Grid = grid, Width = width, InnerChunks = 3 };
                ParallelLoops.For(0, rows, 3, ref outer);
            }) { IsBackground = true };
            done.Start();
            Assert.True(done.Join(TimeSpan.FromSeconds(60)), "nested ParallelLoops.For did not finish");
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < width; i++) Assert.Equal(r * 1000 + i, grid[r * width + i]);
        }
    }

    [Fact]
    public void ConcurrentCallers_NeverMixJobs_NorDeadlock()
    {
        const int callers = 4, iterations = 500;
        var data = Data(20_011);
        double[] expected = [0, SerialChunkedSum(data, 1), SerialChunkedSum(data, 2), SerialChunkedSum(data, 3)];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var threads = new Thread[callers];
        for (int t = 0; t < callers; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                for (int k = 0; k < iterations; k++)
                {
                    int chunks = 1 + (id + k) % 3;
                    double got = ChunkedSum(data, chunks);
                    if (BitConverter.DoubleToInt64Bits(got) != BitConverter.DoubleToInt64Bits(expected[chunks]))
                        failures.Enqueue($"caller {id}, call {k}, {chunks} chunks: {got:R} instead of {expected[chunks]:R}");
                    var hits = new int[3001 + id];
                    int[] cf = new int[chunks], ct = new int[chunks], th = new int[chunks];
                    var body = new CountBody { Hits = hits, ChunkFrom = cf, ChunkTo = ct, ChunkThread = th };
                    ParallelLoops.For(0, hits.Length, chunks, ref body);
                    if (hits.Any(h => h != 1)) failures.Enqueue($"caller {id}, call {k}: an element was not written exactly once");
                }
            }) { IsBackground = true };
            threads[t].Start();
        }
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(120)), "a concurrent caller did not finish");
        Assert.Empty(failures);
    }

    private sealed class ChunkFailure(int chunk) : Exception($"chunk {chunk} failed")
    {
        public int Chunk { get; } = chunk;
    }

    private ref struct ThrowingBody : IParallelBody
    {
        public int FailingChunk;
        public Span<int> Hits;

        public void Run(int chunk, int from, int to)
        {
            if (chunk == FailingChunk) throw new ChunkFailure(chunk);
            for (int i = from; i < to; i++) Hits[i]++;
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void AnException_IsRethrownAsItIs_AndTheTeamStaysUsable(int chunks)
    {
        var data = Data(30_000);
        for (int round = 0; round < 50; round++)
        {
            int failing = round % chunks;
            var hits = new int[10_000];
            var body = new ThrowingBody { FailingChunk = failing, Hits = hits };
            ChunkFailure? caught = null;
            try
            {
                ParallelLoops.For(0, hits.Length, chunks, ref body);
            }
            catch (ChunkFailure e)
            {
                caught = e;
            }
            Assert.NotNull(caught);
            Assert.Equal(failing, caught.Chunk);
            Assert.Contains(nameof(ThrowingBody), caught.StackTrace); // thrown where the chunk threw, not wrapped
            // The next loops run normally.
            Assert.Equal(BitConverter.DoubleToInt64Bits(SerialChunkedSum(data, chunks)), BitConverter.DoubleToInt64Bits(ChunkedSum(data, chunks)));
        }
    }

    [Fact]
    public void OnlyTheFirstException_IsRethrown_WhenEveryChunkThrows()
    {
        var e = Assert.Throws<ChunkFailure>(() =>
        {
            var body = new AllThrowBody();
            ParallelLoops.For(0, 300, 3, ref body);
        });
        Assert.InRange(e.Chunk, 0, 2);
    }

    private ref struct AllThrowBody : IParallelBody
    {
        public void Run(int chunk, int from, int to) => throw new ChunkFailure(chunk);
    }

    /// <summary>Reads <see cref="Parallelism.MaxThreads"/> inside a chunk, as generated code does for an inner loop's chunk count.</summary>
    private ref struct SettingBody : IParallelBody
    {
        public Span<int> Seen;

        public void Run(int chunk, int from, int to) => Seen[chunk] = Parallelism.MaxThreads;
    }

    [Fact]
    public void Chunks_OnWorkers_SeeTheCallersParallelismScope()
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 2;
            for (int round = 0; round < 100; round++)
                using (Parallelism.Use(3))
                {
                    var seen = new int[3];
                    var body = new SettingBody { Seen = seen };
                    ParallelLoops.For(0, 3, 3, ref body);
                    Assert.All(seen, s => Assert.Equal(3, s));
                }
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public void ConcurrentCallers_WithDifferentScopes_EachSeeTheirOwn()
    {
        // One caller's loop can follow another's on the same worker within one wake-up: the worker must switch to
        // the new owner's execution context.
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var threads = new Thread[3];
        for (int t = 0; t < threads.Length; t++)
        {
            int setting = 2 + t; // 2, 3, 4
            threads[t] = new Thread(() =>
            {
                using var scope = Parallelism.Use(setting);
                for (int k = 0; k < 3000; k++)
                {
                    var seen = new int[3];
                    var body = new SettingBody { Seen = seen };
                    ParallelLoops.For(0, 3, 3, ref body);
                    if (seen.Any(s => s != setting)) failures.Enqueue($"scope {setting}, call {k}: chunks saw {string.Join(", ", seen)}");
                }
            }) { IsBackground = true };
            threads[t].Start();
        }
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(120)), "a caller did not finish");
        Assert.Empty(failures);
    }

    [Fact]
    public void WritesOfTheWorkers_AreVisibleWhenForReturns()
    {
        // Many short loops, each writing fresh values that the caller reads straight away.
        var target = new long[4096];
        for (int round = 1; round <= 2000; round++)
        {
            var body = new StampBody { Target = target, Stamp = round };
            ParallelLoops.For(0, target.Length, 2 + round % 2, ref body);
            for (int i = 0; i < target.Length; i++)
                if (target[i] != round * 10_000L + i) Assert.Fail($"round {round}: element {i} is {target[i]}");
        }
    }

    private ref struct StampBody : IParallelBody
    {
        public Span<long> Target;
        public long Stamp;

        public void Run(int chunk, int from, int to)
        {
            for (int i = from; i < to; i++) Target[i] = Stamp * 10_000 + i;
        }
    }
}
