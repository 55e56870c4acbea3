using DiffGen.Physics;
using DiffGen.Plotting;
using Xunit.Abstractions;

namespace DiffGen.Plotting.Tests;

public class FieldImageTests(ITestOutputHelper output)
{
    [Fact]
    public void FieldPicturesAreValidPngFiles()
    {
        var dir = Path.Combine(Path.GetTempPath(), "diffgen-physics-png-" + Environment.ProcessId);
        var g = new Grid2D(20, 16, 1, 1);
        var f = g.Evaluate((x, y) => Math.Sin(6 * x) * Math.Cos(4 * y));
        var scalar = Path.Combine(dir, "scalar.png");
        FieldImage.WriteScalar(scalar, f, 20, 16, "scalar", 320, 240, "balance");
        var sg = new StaggeredGrid2D(20, 16, 1, 1);
        var (u, v) = sg.Evaluate((x, y) => -(y - 0.5), (x, y) => x - 0.5);
        var vector = Path.Combine(dir, "vector.png");
        FieldImage.WriteStaggered(vector, u, v, 20, 16, "velocity", 400, 300);
        foreach (var (path, wpx, hpx) in new[] { (scalar, 320, 240), (vector, 400, 300) })
        {
            var bytes = File.ReadAllBytes(path);
            Assert.True(bytes.Length > 1000, $"{path} has only {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
            int width = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
            int height = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];
            Assert.Equal((wpx, hpx), (width, height));
            output.WriteLine($"{path}: {bytes.Length} bytes, {width}x{height}");
        }
        if (Environment.GetEnvironmentVariable("DIFFGEN_KEEP_PNG") is null) Directory.Delete(dir, true);
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => FieldImage.WriteScalar("", f, 20, 16)).ParamName);
        Assert.Equal("field", Assert.Throws<ArgumentException>(() => FieldImage.WriteScalar(scalar, f, 10, 16)).ParamName);
    }

    /// <summary>Reads a PNG's width and height from its IHDR chunk after checking the signature.</summary>
    private static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return ((bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19], (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23]);
    }

    // f(i, j, l) = 100 l + 10 j + i on a 3 x 4 x 5 grid: every entry names its own cell.
    private const int Nx = 3, Ny = 4, Nz = 5;
    private static double[] Labelled() =>
        [.. Enumerable.Range(0, Nx * Ny * Nz).Select(k => 100.0 * (k / (Nx * Ny)) + 10.0 * (k / Nx % Ny) + k % Nx)];

    [Fact]
    public void SlicesAreOrientedAsDocumented()
    {
        var f = Labelled();
        // Across z: columns x, rows y.
        var (z, wz, hz) = FieldImage.Slice(f, Nx, Ny, Nz, Axis.Z, 2);
        Assert.Equal((Nx, Ny), (wz, hz));
        Assert.Equal(200 + 10 * 3 + 1, z[3 * Nx + 1]);
        // Across y: columns x, rows z.
        var (y, wy, hy) = FieldImage.Slice(f, Nx, Ny, Nz, Axis.Y, 1);
        Assert.Equal((Nx, Nz), (wy, hy));
        Assert.Equal(400 + 10 + 2, y[4 * Nx + 2]);
        // Across x: columns y, rows z.
        var (x, wx, hx) = FieldImage.Slice(f, Nx, Ny, Nz, Axis.X, 0);
        Assert.Equal((Ny, Nz), (wx, hx));
        Assert.Equal(300 + 10 * 2, x[3 * Ny + 2]);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => FieldImage.Slice(f, Nx, Ny, Nz, Axis.Z, Nz)).ParamName);
        Assert.Equal("field", Assert.Throws<ArgumentException>(() => FieldImage.Slice(f.AsSpan(1), Nx, Ny, Nz, Axis.Z, 0)).ParamName);
    }

    [Fact]
    public void MaxProjectionTakesTheLargestValueAlongTheAxis()
    {
        var f = Labelled();
        // The labels grow along every axis, so the maximum is at the far end; a spike inside must win.
        f[(2 * Ny + 1) * Nx + 1] = 1000;
        var (z, _, _) = FieldImage.MaxProjection(f, Nx, Ny, Nz, Axis.Z);
        Assert.Equal(1000, z[1 * Nx + 1]);
        Assert.Equal(400 + 10 * 3 + 2, z[3 * Nx + 2]);
        var (y, wy, _) = FieldImage.MaxProjection(f, Nx, Ny, Nz, Axis.Y);
        Assert.Equal(1000, y[2 * wy + 1]);
        Assert.Equal(100 + 30 + 0, y[1 * wy + 0]);
        var (x, wx, _) = FieldImage.MaxProjection(f, Nx, Ny, Nz, Axis.X);
        Assert.Equal(1000, x[2 * wx + 1]);
        Assert.Equal(10 * 3 + 2, x[0 * wx + 3]);
    }

    [Fact]
    public void SliceAndProjectionPicturesAreWritten()
    {
        var dir = Path.Combine(Path.GetTempPath(), "diffgen-plotting-3d-" + Environment.ProcessId);
        var f = Labelled();
        var slice = Path.Combine(dir, "slice.png");
        var proj = Path.Combine(dir, "max.png");
        FieldImage.WriteSlice(slice, f, Nx, Ny, Nz, Axis.Z, 1, "slice", 300, 200);
        FieldImage.WriteMaxProjection(proj, f, Nx, Ny, Nz, Axis.Y, "max", 320, 240);
        Assert.Equal((300, 200), PngSize(slice));
        Assert.Equal((320, 240), PngSize(proj));
        if (Environment.GetEnvironmentVariable("DIFFGEN_KEEP_PNG") is null) Directory.Delete(dir, true);
    }

    [Fact]
    public void FieldsArePicturedThroughTheirGrids()
    {
        var dir = Path.Combine(Path.GetTempPath(), "diffgen-plotting-fields-" + Environment.ProcessId);
        var scalar = CenteredField2D.FromFunction(new Grid2D(12, 10, 1, 1), (x, y) => x * y);
        var velocity = StaggeredField2D.FromFunction(new StaggeredGrid2D(12, 10, 1, 1), (x, y) => -y, (x, y) => x);
        var ball = CenteredField3D.FromFunction(new Grid3D(8, 9, 7, 1, 1, 1), (x, y, z) => Math.Exp(-10 * ((x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5) + (z - 0.5) * (z - 0.5))));
        string[] paths = [.. new[] { "scalar", "velocity", "slice", "max" }.Select(n => Path.Combine(dir, n + ".png"))];
        FieldImage.Write(paths[0], scalar, "x y", 200, 160);
        FieldImage.Write(paths[1], velocity, "rotation", 210, 170);
        FieldImage.WriteSlice(paths[2], ball, Axis.Z, 3, "slice", 220, 180);
        FieldImage.WriteMaxProjection(paths[3], ball, Axis.X, "max", 230, 190);
        Assert.Equal((200, 160), PngSize(paths[0]));
        Assert.Equal((210, 170), PngSize(paths[1]));
        Assert.Equal((220, 180), PngSize(paths[2]));
        Assert.Equal((230, 190), PngSize(paths[3]));
        if (Environment.GetEnvironmentVariable("DIFFGEN_KEEP_PNG") is null) Directory.Delete(dir, true);
    }
}
