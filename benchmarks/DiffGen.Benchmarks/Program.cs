using BenchmarkDotNet.Running;

namespace DiffGen.Benchmarks;

public static class Program
{
    /// <summary>
    /// `--generator-edits [n] [repository]`: the generator's time per edit over the physics kernels (see GeneratorEditBenchmarks).
    /// `--compare [--threads N] [--only groups]`: the side-by-side table with PyTorch (one run; `--only`
    /// limits it to groups: smoke, burgers_opt, generator, mlp, resnet, burgers2d, sol, and mosaic and threads, which run only when named); `--compare-sol` is
    /// `--compare --only sol`; `--stencil [rounds]`: the stencil's primal and its generated and hand-written
    /// pullbacks, interleaved (StencilReverse); anything else goes to BenchmarkDotNet (e.g. `--filter *Burgers*`).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--generator-edits")
        {
            GeneratorEditBenchmarks.PrintEdits(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 15,
                args.Length > 2 ? args[2] : null);
            return 0;
        }
        if (args.Length > 0 && args[0] == "--stencil")
        {
            StencilReverse.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 15);
            return 0;
        }
        if (args.Length > 0 && args[0] is "--compare" or "--compare-sol")
        {
            int ti = Array.IndexOf(args, "--threads"), oi = Array.IndexOf(args, "--only");
            int threads = ti > 0 && ti + 1 < args.Length ? int.Parse(args[ti + 1], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount;
            string? only = oi > 0 && oi + 1 < args.Length ? args[oi + 1] : null;
            System.Threading.ThreadPool.SetMaxThreads(threads, threads);
            System.Threading.ThreadPool.SetMinThreads(1, 1);
            // Generated parallel loops (Parallel.For / [DataParallel]) split into at most this many chunks.
            DiffGen.Parallelism.MaxThreads = threads;
            // PyTorch first: while .NET's worker threads are busy or spinning, the peer's OpenMP threads
            // fight them for the two cores and its timings are meaningless.
            if (args[0] == "--compare-sol") only = "sol";
            var t = Compare.RunTorch(threads, out var error, only);
            var d = Compare.RunDiffGen(only);
            if (t == null) Console.Error.WriteLine("PyTorch peer not run: " + error);
            Console.WriteLine(Compare.Report(d, t, threads));
            return 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
