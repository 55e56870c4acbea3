using BenchmarkDotNet.Running;

namespace DiffGen.Benchmarks;

public static class Program
{
    /// <summary>
    /// `--compare [--threads N]`: the side-by-side table with PyTorch (one run); `--compare-sol [--threads N]`:
    /// only its sol rows (quicker, for profiling); anything else goes to BenchmarkDotNet (e.g. `--filter *Burgers*`).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "--compare" or "--compare-sol")
        {
            int threads = args.Length > 2 && args[1] == "--threads" ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount;
            System.Threading.ThreadPool.SetMaxThreads(threads, threads);
            System.Threading.ThreadPool.SetMinThreads(1, 1);
            // PyTorch first: while .NET's worker threads are busy or spinning, the peer's OpenMP threads
            // fight them for the two cores and its timings are meaningless.
            bool solOnly = args[0] == "--compare-sol";
            string? error = null;
            var t = solOnly ? Compare.RunSolTorch(threads) : Compare.RunTorch(threads, out error);
            var d = solOnly ? new Dictionary<string, double>() : Compare.RunDiffGen();
            if (solOnly) Compare.RunSol(d);
            if (t == null) Console.Error.WriteLine("PyTorch peer not run: " + error);
            Console.WriteLine(Compare.Report(d, t, threads));
            return 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
