using System.Diagnostics;
using System.Globalization;
using DiffGen.Physics;
using DiffGen.Plotting;

// A 3D smoke plume (Smoke3D) rising in a closed box, pictured as slices and maximum projections.
// Usage: plume3d [output folder (default runs/plume3d)] [cells across (default 24; the box is n x 4n/3 x n)] [steps (default 24)]
try
{
    string dir = args.Length > 0 ? args[0] : Path.Combine("runs", "plume3d");
    int n = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 24;
    int steps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 24;
    Plume3DSample.Run(dir, n, steps, Console.Out);
    return 0;
}
catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine("error: " + e.Message + " (usage: plume3d [folder] [cells across, at least 8] [steps, at least 1])");
    return 2;
}

/// <summary>The plume run and its pictures, callable from tests.</summary>
public static class Plume3DSample
{
    /// <summary>Runs <paramref name="steps"/> steps on an n x (4n/3) x n box and writes the pictures to <paramref name="dir"/>; returns the final smoke.</summary>
    public static CenteredField3D Run(string dir, int n, int steps, TextWriter log)
    {
        if (n < 8) throw new ArgumentException($"cells across must be at least 8 (got {n})", nameof(n));
        if (steps < 1) throw new ArgumentException($"steps must be at least 1 (got {steps})", nameof(steps));
        var sim = Smoke3D.ClosedBox(n, 4 * n / 3, n);
        var cells = sim.Grid.Cells;
        var inflow = cells.Ball(n / 2.0, n / 6.0, n / 2.0, n / 8.0, 0.3);
        double[] state = new double[sim.PackedLength], next = new double[sim.PackedLength];
        var sw = Stopwatch.StartNew();
        for (int t = 0; t < steps; t++)
        {
            sim.StepPacked(state, inflow, next);
            (state, next) = (next, state);
        }
        sw.Stop();
        var smoke = new CenteredField3D(cells, state[..cells.Count]);
        Directory.CreateDirectory(dir);
        FieldImage.WriteSlice(Path.Combine(dir, "slice-z.png"), smoke, Axis.Z, n / 2, $"smoke, slice z = {n / 2}, step {steps}");
        FieldImage.WriteSlice(Path.Combine(dir, "slice-y.png"), smoke, Axis.Y, cells.Ny / 2, $"smoke, slice y = {cells.Ny / 2}, step {steps}");
        FieldImage.WriteMaxProjection(Path.Combine(dir, "max-z.png"), smoke, Axis.Z, $"smoke, maximum along z, step {steps}");
        FieldImage.WriteMaxProjection(Path.Combine(dir, "max-x.png"), smoke, Axis.X, $"smoke, maximum along x, step {steps}");
        log.WriteLine(FormattableString.Invariant(
            $"plume3d: {n}x{cells.Ny}x{n} cells, {steps} steps in {sw.Elapsed.TotalSeconds:F1} s; smoke {smoke.Values.Sum():F1}, max {smoke.MaxAbs():F3}; pictures in {dir}"));
        return smoke;
    }
}
