using BenchmarkDotNet.Running;

namespace DiffGen.Benchmarks;

public static class Program
{
    /// <summary>
    /// `--compare [--threads N]`: the side-by-side table with PyTorch (one run); anything else goes to
    /// BenchmarkDotNet (e.g. `--filter *Burgers*`).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--compare")
        {
            int threads = args.Length > 2 && args[1] == "--threads" ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount;
            System.Threading.ThreadPool.SetMaxThreads(threads, threads);
            System.Threading.ThreadPool.SetMinThreads(1, 1);
            // PyTorch first: while .NET's worker threads are busy or spinning, the peer's OpenMP threads
            // fight them for the two cores and its timings are meaningless.
            var t = Compare.RunTorch(threads, out var error);
            var d = Compare.RunDiffGen();
            if (t == null) Console.Error.WriteLine("PyTorch peer not run: " + error);
            Console.WriteLine(Compare.Report(d, t, threads));
            return 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
