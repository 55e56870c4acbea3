using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DiffGen.NN;
using DiffGen.NN.Optim;
using DiffGen.Physics;
using DiffGen.Tensors;
using DiffGen.Trainers.Experiments;

namespace DiffGen.Benchmarks;

/// <summary>
/// The side-by-side comparison: every DiffGen case and its PyTorch peer (benchmarks/torch/peers.py),
/// timed the same way (median of 7 batches of at least 20 ms) in one run, same thread count.
/// </summary>
public static class Compare
{
    public static double Measure(Action a, double minBatchSeconds = 0.02, int batches = 7)
    {
        // Warm up for half a second so tiered compilation has promoted the hot code to tier 1.
        var warm = Stopwatch.StartNew();
        do a(); while (warm.Elapsed.TotalSeconds < 0.5);
        int reps = 1;
        while (true)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) a();
            if (sw.Elapsed.TotalSeconds >= minBatchSeconds) break;
            reps *= 2;
        }
        var times = new double[batches];
        for (int b = 0; b < batches; b++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) a();
            times[b] = sw.Elapsed.TotalSeconds / reps;
        }
        Array.Sort(times);
        return times[batches / 2];
    }

    /// <summary>Runs the DiffGen cases; <paramref name="only"/> (e.g. "mlp,resnet") limits them to those groups.</summary>
    public static Dictionary<string, double> RunDiffGen(string? only = null)
    {
        var r = new Dictionary<string, double>();
        var groups = only?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        bool Want(string group) => groups is null || groups.Contains(group);
        // mosaic takes minutes (rollouts of up to 1000 steps): only when named.
        if (groups?.Contains("mosaic") == true) MosaicCost.Run(r);
        // Issue 12 part 2: the physics steps at 1 and at --threads threads (minutes at 512²): only when named.
        if (groups?.Contains("threads") == true) ThreadScaling.Run(r, Parallelism.MaxThreads);
        // ---- physics (issue 4): the smoke step (same setup as benchmarks/torch/physics.py: a smoke block, at rest)
        foreach (int sn in Want("smoke") ? new[] { 128, 512 } : [])
        {
            var sim = Smoke2D.PbdlPlume(sn, sn);
            var smoke = new double[sn * sn];
            for (int j = sn / 10; j < sn / 5; j++)
                for (int i = 2 * sn / 5; i < 3 * sn / 5; i++) smoke[j * sn + i] = 1;
            var su = new double[(sn + 1) * sn]; var sv = new double[sn * (sn + 1)]; var inflow = new double[sn * sn];
            var s1 = new double[sn * sn]; var su1 = new double[su.Length]; var sv1 = new double[sv.Length]; var pr = new double[sn * sn];
            var sB = new double[sn * sn]; var uB = new double[su.Length]; var vB = new double[sv.Length]; var iB = new double[sn * sn]; var pB = new double[sn * sn];
            var rs = new Random(8);
            var s1B = Enumerable.Range(0, sn * sn).Select(_ => rs.NextDouble()).ToArray();
            var u1B = Enumerable.Range(0, su.Length).Select(_ => rs.NextDouble()).ToArray();
            var v1B = Enumerable.Range(0, sv.Length).Select(_ => rs.NextDouble()).ToArray();
            double min = sn > 200 ? 0.0 : 0.02;
            r[$"smoke{sn}x{sn}.primal"] = Measure(() => sim.Step(smoke, su, sv, inflow, s1, su1, sv1, pr), min, sn > 200 ? 3 : 7);
            r[$"smoke{sn}x{sn}.grad"] = Measure(() =>
            {
                double bb = 0;
                sim.StepBackward(smoke, su, sv, inflow, s1, su1, sv1, pr, sB, uB, vB, iB, (double[])s1B.Clone(), (double[])u1B.Clone(), (double[])v1B.Clone(), pB, ref bb);
            }, min, sn > 200 ? 3 : 7);
        }

        if (Want("burgers_opt")) BurgersOptCase(r);
        if (Want("generator")) GeneratorCases(r);
        if (Want("mlp")) MlpCase(r);
        if (Want("resnet")) ResNetCase(r);
        if (Want("burgers2d")) Burgers2DCases(r);
        if (Want("sol")) RunSol(r);
        return r;
    }

    private static void BurgersOptCase(Dictionary<string, double> r)
    {
        // ---- samples (issue 5): one burgers-opt iteration
        var b = Burgers1D.PbdlOptimization();
        int nb1 = b.Cells;
        var target = b.Evaluate(v => -Math.Sin(Math.PI * v));
        var u0 = new double[nb1];
        var states = new double[17][];
        for (int k = 0; k < 17; k++) states[k] = new double[nb1];
        var grad = new double[nb1]; var scratch = new double[nb1]; var u1 = new double[nb1];
        // Every call does the work of one iteration from the same state (repeating the update thousands
        // of times would drive the state far from the experiment's).
        r["burgers_opt.iteration"] = Measure(() =>
        {
            BurgersOpt.LossAndGradient(b, 16, u0, target, states, grad, scratch);
            for (int i = 0; i < nb1; i++) u1[i] = u0[i] - 5 * grad[i];
        });
    }

    private static void GeneratorCases(Dictionary<string, double> r)
    {
        // ---- generator (issue 2, 6)
        int n = 4096;
        var u = new double[n]; var next = new double[n]; var tmp = new double[n];
        for (int i = 0; i < n; i++) u[i] = Math.Sin(2 * Math.PI * i / n);
        var uBar = new double[n]; var nextBar = new double[n]; var tmpBar = new double[n];
        var uDot = new double[n]; var nextDot = new double[n]; var tmpDot = new double[n];
        for (int i = 0; i < n; i++) uDot[i] = Math.Cos(i);
        double nu = 0.01, dt = 1.0 / 32, dx = 2.0 / n;
        r["burgers4096.primal"] = Measure(() => BenchKernels.Burgers(u, next, tmp, nu, dt, dx));
        r["burgers4096.gradient"] = Measure(() =>
        {
            nextBar.AsSpan().Fill(1);
            double a = 0, b = 0, c = 0;
            BenchKernels.BurgersPullback(u, next, tmp, nu, dt, dx, uBar, nextBar, tmpBar, ref a, ref b, ref c);
        });
        r["burgers4096.pushforward"] = Measure(() => BenchKernels.BurgersPushforward(u, uDot, next, nextDot, tmp, tmpDot, nu, 0, dt, 0, dx, 0));
        int m = 256;
        var a2 = new double[m * m]; var b2 = new double[m * m]; var a2Bar = new double[m * m]; var b2Bar = new double[m * m]; var a2Dot = new double[m * m]; var b2Dot = new double[m * m];
        var rnd = new Random(1);
        for (int i = 0; i < a2.Length; i++) { a2[i] = rnd.NextDouble(); a2Dot[i] = rnd.NextDouble(); }
        r["stencil256.primal"] = Measure(() => BenchKernels.Stencil(a2, b2, m, m, 0.1));
        r["stencil256.gradient"] = Measure(() => { b2Bar.AsSpan().Fill(1); double al = 0; BenchKernels.StencilPullback(a2, b2, m, m, 0.1, a2Bar, b2Bar, ref al); });
        r["stencil256.pushforward"] = Measure(() => BenchKernels.StencilPushforward(a2, a2Dot, b2, b2Dot, m, m, 0.1, 0));
        var bb = new double[n];
        for (int i = 0; i < n; i++) bb[i] = rnd.NextDouble();
        r["dot4096.primal"] = Measure(() => BenchKernels.Dot(u, bb));
        r["dot4096.gradient"] = Measure(() => BenchKernels.DotPullback(u, bb, 1.0, uBar, tmpBar));
        var ed = Dual.Pack(u, uDot);
        var eg = new Dual[n];
        r["energy4096.gradient"] = Measure(() => { double nb = 0; BenchKernels.EnergyPullback(u, 0.3, 1.0, uBar, ref nb); });
        r["energy4096.hvp"] = Measure(() => { Dual nb = 0; BenchKernels.EnergyPullbackDual(ed, 0.3, 1.0, eg, ref nb); });
    }

    private static void MlpCase(Dictionary<string, double> r)
    {
        // ---- NN (issue 3)
        Init.Seed(0);
        var mlp = new Sequential(new Linear(64, 256), new ReLU(), new Linear(256, 256), new ReLU(), new Linear(256, 64));
        var opt = new Adam(mlp.Parameters(), 1e-3);
        var x = Tensor.Randn(1, 256, 64);
        var y = Tensor.Randn(2, 256, 64);
        r["mlp.train_step"] = Measure(() => { opt.ZeroGrad(); Losses.Mse(mlp.Forward(x), y).Backward(); opt.Step(); });
    }

    private static void ResNetCase(Dictionary<string, double> r)
    {
        Init.Seed(0);
        var net = new Sequential(new Conv2d(3, 32, 3), new ReLU(), new ResBlock(32), new ResBlock(32), new Conv2d(32, 32, 3), new ReLU(), new Conv2d(32, 2, 3));
        var opt2 = new Adam(net.Parameters(), 1e-3);
        var xi = Tensor.Randn(3, 3, 3, 32, 64);
        var yi = Tensor.Randn(4, 3, 2, 32, 64);
        r["resnet.train_step"] = Measure(() => { opt2.ZeroGrad(); Losses.Mse(net.Forward(xi), yi).Backward(); opt2.Step(); });
        r["resnet.parameters"] = net.ParameterCount;
    }

    private static void Burgers2DCases(Dictionary<string, double> r)
    {
        // ---- physics (issue 4): 2D Burgers step, primal and gradient, and the copy bandwidth
        foreach (int s in new[] { 128, 512 })
        {
            var (primal, gradient) = ThreadScaling.Burgers2DCase(s);
            int c = s * s;
            r[$"burgers2d{s}.primal"] = Measure(primal);
            r[$"burgers2d{s}.gradient"] = Measure(gradient);
            // Bytes a step must at least move: read u, v, fu, fv, write u', v' (doubles).
            r[$"burgers2d{s}.bytes"] = 6.0 * 8 * c;
            var src = new double[6 * c]; var dst = new double[6 * c];
            r[$"copy{s}.seconds"] = Measure(() => src.AsSpan().CopyTo(dst));
        }
    }

    /// <summary>The sol rows: one SOL-4 training iteration (Sol.cs defaults) and its pieces alone.</summary>
    public static void RunSol(Dictionary<string, double> r)
    {
        var sol = new SolIteration();
        // An iteration takes tens of ms, so Measure's 0.5 s warm-up is only ~10 calls: too few for tiered
        // compilation to promote the NN and tape code (30 calls, then a background compile that a loaded
        // machine delays); the first rows then measured tier-0 code (2× the steady state). Warm up longer.
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 60 || warm.Elapsed.TotalSeconds < 3; i++) { sol.Iteration(); sol.NetworkForward(); sol.LiftedSteps(); }
        r["sol.iteration"] = Measure(() => sol.Iteration());
        r["sol.network"] = Measure(sol.NetworkOnly);
        r["sol.network_forward"] = Measure(sol.NetworkForward);
        r["sol.lifted_steps"] = Measure(sol.LiftedSteps);
        var next = new double[2 * SolIteration.N * SolIteration.N];
        var stateBar = new double[next.Length]; var forceBar = new double[next.Length]; var nextBar = new double[next.Length];
        r["sol.physics_primal"] = Measure(() => sol.PhysicsPrimal(next));
        r["sol.physics_pullback"] = Measure(() => sol.PhysicsPullback(next, stateBar, forceBar, nextBar));
        r["sol.parameters"] = sol.ParameterCount;
    }

    /// <summary>Runs the PyTorch peers; <paramref name="only"/> is passed on to peers.py.</summary>
    public static Dictionary<string, double>? RunTorch(int threads, out string? error, string? only = null)
    {
        error = null;
        var script = Path.Combine(AppContext.BaseDirectory, "torch", "peers.py");
        if (!File.Exists("/usr/bin/python3")) { error = "/usr/bin/python3 not found (apt-get install python3-torch libopenblas0-pthread)"; return null; }
        var psi = new ProcessStartInfo("/usr/bin/python3", $"\"{script}\" --threads {threads}" + (only is null ? "" : $" --only {only}")) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) { error = err.Trim().Split('\n').LastOrDefault(); return null; }
        var doc = JsonDocument.Parse(output);
        var r = new Dictionary<string, double>();
        foreach (var prop in doc.RootElement.EnumerateObject())
            if (prop.Value.ValueKind == JsonValueKind.Number) r[prop.Name] = prop.Value.GetDouble();
        bool Want(string group) => only is null || only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Contains(group);
        // The smoke-step peer (benchmarks/torch/physics.py) prints "name microseconds" lines; only its smoke
        // rows have DiffGen counterparts here.
        if (Want("smoke"))
            foreach (var (k, v) in RunLines("physics.py", threads))
                if (k.StartsWith("smoke", StringComparison.Ordinal)) r[k] = v;
        if (Want("sol"))
            foreach (var (k, v) in RunLines("sol.py", threads)) r[k] = v;
        return r;
    }

    /// <summary>Runs a peer script that prints "name microseconds" lines; returns seconds per call by name (empty if it failed).</summary>
    private static Dictionary<string, double> RunLines(string script, int threads)
    {
        var r = new Dictionary<string, double>();
        if (!File.Exists("/usr/bin/python3")) return r;
        var path = Path.Combine(AppContext.BaseDirectory, "torch", script);
        using var q = Process.Start(new ProcessStartInfo("/usr/bin/python3", $"\"{path}\" --threads {threads}") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(path)! })!;
        var stderr = q.StandardError.ReadToEndAsync();
        var lines = q.StandardOutput.ReadToEnd();
        q.WaitForExit();
        if (q.ExitCode != 0) Console.Error.WriteLine($"{script} failed: {stderr.Result.Trim().Split('\n').LastOrDefault()}");
        foreach (var line in lines.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var us))
                r[parts[0]] = us * 1e-6;
        }
        return r;
    }

    public static string Report(Dictionary<string, double> d, Dictionary<string, double>? t, int threads)
    {
        var sb = new StringBuilder();
        string Us(double s) => (s * 1e6).ToString("F1", CultureInfo.InvariantCulture);
        string F2(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
        sb.AppendLine(FormattableString.Invariant($"threads: {threads}; times in microseconds (median of 7 batches)"));
        sb.AppendLine();
        sb.AppendLine("| case | DiffGen | PyTorch | PyTorch / DiffGen |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var key in d.Keys.Where(k => !k.EndsWith(".parameters") && !k.EndsWith(".bytes") && !k.EndsWith(".serial") && !k.StartsWith("copy")))
        {
            string torch = t != null && t.TryGetValue(key, out var tv) ? Us(tv) : "–";
            string ratio = t != null && t.TryGetValue(key, out var tv2) ? F2(tv2 / d[key]) : "–";
            sb.AppendLine($"| {key} | {Us(d[key])} | {torch} | {ratio} |");
        }
        sb.AppendLine();
        sb.AppendLine("| DiffGen ratio | value | target |");
        sb.AppendLine("|---|---:|---:|");
        // Each ratio is printed when its group ran (--only limits the groups).
        if (d.ContainsKey("burgers4096.primal"))
        {
            foreach (var k in new[] { "burgers4096", "stencil256", "dot4096" })
                sb.AppendLine($"| {k} pullback / primal | {F2(d[k + ".gradient"] / d[k + ".primal"])} | ≤ 3 |");
            foreach (var k in new[] { "burgers4096", "stencil256" })
                sb.AppendLine($"| {k} pushforward / primal | {F2(d[k + ".pushforward"] / d[k + ".primal"])} | ≤ 2 |");
            sb.AppendLine($"| energy4096 HVP / gradient | {F2(d["energy4096.hvp"] / d["energy4096.gradient"])} | ≤ 3 |");
        }
        foreach (var s in new[] { 128, 512 })
        {
            if (!d.ContainsKey($"burgers2d{s}.primal")) continue;
            sb.AppendLine($"| burgers2d{s} gradient / primal | {F2(d[$"burgers2d{s}.gradient"] / d[$"burgers2d{s}.primal"])} | ≤ 3 |");
            double stepBw = d[$"burgers2d{s}.bytes"] / d[$"burgers2d{s}.primal"];
            double copyBw = 2 * d[$"burgers2d{s}.bytes"] / d[$"copy{s}.seconds"];
            sb.AppendLine($"| burgers2d{s} bandwidth / copy bandwidth | {F2(stepBw / copyBw)} ({F2(stepBw / 1e9)} vs {F2(copyBw / 1e9)} GB/s) | ≥ 0.5 |");
        }
        foreach (var s in new[] { 128, 512 })
            if (d.ContainsKey($"smoke{s}x{s}.primal"))
                sb.AppendLine($"| smoke{s}x{s} gradient / primal | {F2(d[$"smoke{s}x{s}.grad"] / d[$"smoke{s}x{s}.primal"])} | ≤ 3 |");
        if (t != null && d.TryGetValue("burgers_opt.iteration", out var bo) && t.TryGetValue("burgers_opt.iteration", out var boTorch))
            sb.AppendLine($"| burgers-opt iteration: PyTorch / DiffGen | {F2(boTorch / bo)} | ≥ 50 |");
        if (d.TryGetValue("sol.iteration", out var solIteration))
        {
            if (t != null && t.TryGetValue("sol.iteration", out var solTorch))
                sb.AppendLine($"| sol iteration: PyTorch / DiffGen | {F2(solTorch / solIteration)} | ≥ 2 |");
            sb.AppendLine($"| sol network parameters | {d["sol.parameters"]:F0} | |");
        }
        if (d.TryGetValue("resnet.parameters", out var resnetParameters))
            sb.AppendLine($"| ResNet parameters | {resnetParameters:F0} | ~47k |");
        ThreadScaling.Report(sb, d, threads);
        return sb.ToString();
    }
}
