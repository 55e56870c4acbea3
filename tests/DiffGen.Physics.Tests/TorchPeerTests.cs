using System.Diagnostics;

namespace DiffGen.Physics.Tests;

/// <summary>A theory that is skipped (with a reason) when Debian's python3 with torch and numpy is not installed.</summary>
public sealed class TorchTheoryAttribute : TheoryAttribute
{
    public TorchTheoryAttribute()
    {
        if (!TorchAvailable.Value) Skip = "Debian's /usr/bin/python3 with torch and numpy (python3-torch) is not installed.";
    }

    private static readonly Lazy<bool> TorchAvailable = new(() =>
    {
        try
        {
            if (!File.Exists("/usr/bin/python3")) return false;
            using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", "-c \"import torch, numpy\"") { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit(60_000);
            return p.HasExited && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });
}

/// <summary>
/// The PyTorch peer of the sol benchmark (benchmarks/torch/sol.py) must compute the same 2D Burgers step as
/// <see cref="Burgers2D"/>, or the side-by-side timing compares different work: one step and its
/// vector-Jacobian product (torch autograd vs the generated pullback) on the same input.
/// </summary>
public sealed class TorchPeerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffgen-torch-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [TorchTheory]
    [InlineData(32, 32, 32.0, 32.0)] // sol's source grid (dx = dy = 1)
    [InlineData(24, 16, 24.0, 40.0)] // non-square, dx ≠ dy: catches swapped axes or strides
    public void Burgers2DStep_MatchesTorchPeer(int nx, int ny, double width, double height)
    {
        var m = new Burgers2D(new Grid2D(nx, ny, width, height), viscosity: 0.1, dt: 0.1);
        int n = nx * ny;
        var state = new double[2 * n]; var force = new double[2 * n]; var seed = new double[2 * n];
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++)
            {
                double x = 2 * Math.PI * i / nx, y = 2 * Math.PI * j / ny;
                int k = j * nx + i;
                // Velocities up to ~15: backtraces of over one cell, across the periodic seams in both directions.
                state[k] = 12 * Math.Sin(x + 0.3) * Math.Cos(2 * y) + 3 * Math.Cos(3 * x - y);
                state[n + k] = -10 * Math.Cos(x - 2 * y + 0.1) + 4 * Math.Sin(2 * x);
                force[k] = Math.Sin(2 * x + y);
                force[n + k] = Math.Cos(x - y);
                seed[k] = Math.Sin(5 * x + 3 * y + 0.2);
                seed[n + k] = Math.Cos(4 * x - 2 * y);
            }
        var next = new double[2 * n]; var stateBar = new double[2 * n]; var forceBar = new double[2 * n];
        m.StepPacked(state, force, next);
        m.StepPackedBackward(state, force, new double[2 * n], stateBar, forceBar, (double[])seed.Clone());

        var input = Path.Combine(_dir, "in.bin");
        var output = Path.Combine(_dir, "out.bin");
        File.WriteAllBytes(input, ToBytes([.. state, .. force, .. seed]));
        var script = Path.Combine(AppContext.BaseDirectory, "torch", "sol.py");
        var args = FormattableString.Invariant($"\"{script}\" --check \"{input}\" \"{output}\" --nx {nx} --ny {ny} --width {width:R} --height {height:R} --dt 0.1 --nu 0.1");
        using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(script)! })!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr.Result);

        var torch = FromBytes(File.ReadAllBytes(output));
        Assert.Equal(6 * n, torch.Length);
        AssertClose(next, torch.AsSpan(0, 2 * n), "step");
        AssertClose(stateBar, torch.AsSpan(2 * n, 2 * n), "state adjoint");
        AssertClose(forceBar, torch.AsSpan(4 * n, 2 * n), "force adjoint");
    }

    private static void AssertClose(double[] expected, ReadOnlySpan<double> actual, string what)
    {
        double worst = 0;
        int at = 0;
        for (int k = 0; k < expected.Length; k++)
        {
            double e = Math.Abs(expected[k] - actual[k]);
            if (!(e <= worst)) { worst = e; at = k; }
        }
        // Same formulas in double: only rounding differs (values are O(10)).
        Assert.True(worst <= 1e-10, FormattableString.Invariant($"{what}: |C# − torch| = {worst:E2} at {at} (C# {expected[at]:R}, torch {actual[at]:R})"));
    }

    private static byte[] ToBytes(double[] a)
    {
        var b = new byte[a.Length * 8];
        Buffer.BlockCopy(a, 0, b, 0, b.Length);
        return b;
    }

    private static double[] FromBytes(byte[] b)
    {
        var a = new double[b.Length / 8];
        Buffer.BlockCopy(b, 0, a, 0, a.Length * 8);
        return a;
    }
}
