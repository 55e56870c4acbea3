using BenchmarkDotNet.Attributes;

namespace DiffGen.Benchmarks;

/// <summary>BenchmarkDotNet: pullback and pushforward against the primal (issue 2 and 6).</summary>
[ShortRunJob]
[MemoryDiagnoser]
public class BurgersBenchmarks
{
    private readonly double[] _u = new double[4096], _next = new double[4096], _tmp = new double[4096];
    private readonly double[] _uBar = new double[4096], _nextBar = new double[4096], _tmpBar = new double[4096];
    private readonly double[] _uDot = new double[4096], _nextDot = new double[4096], _tmpDot = new double[4096];

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < _u.Length; i++) { _u[i] = Math.Sin(2 * Math.PI * i / _u.Length); _uDot[i] = Math.Cos(i); }
    }

    [Benchmark(Baseline = true)]
    public void Primal() => BenchKernels.Burgers(_u, _next, _tmp, 0.01, 1.0 / 32, 2.0 / 4096);

    [Benchmark]
    public void Pullback()
    {
        _nextBar.AsSpan().Fill(1);
        double a = 0, b = 0, c = 0;
        BenchKernels.BurgersPullback(_u, _next, _tmp, 0.01, 1.0 / 32, 2.0 / 4096, _uBar, _nextBar, _tmpBar, ref a, ref b, ref c);
    }

    [Benchmark]
    public void Pushforward() => BenchKernels.BurgersPushforward(_u, _uDot, _next, _nextDot, _tmp, _tmpDot, 0.01, 0, 1.0 / 32, 0, 2.0 / 4096, 0);
}

[ShortRunJob]
[MemoryDiagnoser]
public class StencilBenchmarks
{
    private const int N = 256;
    private readonly double[] _u = new double[N * N], _next = new double[N * N], _uBar = new double[N * N], _nextBar = new double[N * N];
    private readonly double[] _uDot = new double[N * N], _nextDot = new double[N * N];

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        for (int i = 0; i < _u.Length; i++) { _u[i] = r.NextDouble(); _uDot[i] = r.NextDouble(); }
    }

    [Benchmark(Baseline = true)]
    public void Primal() => BenchKernels.Stencil(_u, _next, N, N, 0.1);

    [Benchmark]
    public void Pullback()
    {
        _nextBar.AsSpan().Fill(1);
        double a = 0;
        BenchKernels.StencilPullback(_u, _next, N, N, 0.1, _uBar, _nextBar, ref a);
    }

    [Benchmark]
    public void Pushforward() => BenchKernels.StencilPushforward(_u, _uDot, _next, _nextDot, N, N, 0.1, 0);
}

[ShortRunJob]
[MemoryDiagnoser]
public class DotBenchmarks
{
    private readonly double[] _a = new double[4096], _b = new double[4096], _aBar = new double[4096], _bBar = new double[4096];

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        for (int i = 0; i < _a.Length; i++) { _a[i] = r.NextDouble(); _b[i] = r.NextDouble(); }
    }

    [Benchmark(Baseline = true)]
    public double Primal() => BenchKernels.Dot(_a, _b);

    [Benchmark]
    public double Pullback() => BenchKernels.DotPullback(_a, _b, 1.0, _aBar, _bBar);
}
