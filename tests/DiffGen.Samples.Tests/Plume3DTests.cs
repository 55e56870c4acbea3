namespace DiffGen.Samples.Tests;

/// <summary>The 3D plume sample at a tiny size: the smoke rises, and the slice and projection pictures are written.</summary>
public sealed class Plume3DTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffgen-plume3d-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void TheSmokeRisesAndThePicturesAreWritten()
    {
        var log = new StringWriter();
        var smoke = Plume3DSample.Run(_dir, 9, 6, log);
        // The inflow ball sits at a sixth of the height; after six steps the smoke's centre is above it.
        var g = smoke.Grid;
        double mass = 0, height = 0;
        for (int k = 0; k < g.Count; k++) { mass += smoke.Values[k]; height += smoke.Values[k] * (k / g.Nx % g.Ny + 0.5) * g.Dy; }
        Assert.True(height / mass > g.Height / 6 + 0.5, $"centre height {height / mass:F2}");
        foreach (var name in new[] { "slice-z.png", "slice-y.png", "max-z.png", "max-x.png" })
            Assert.True(new FileInfo(Path.Combine(_dir, name)).Length > 1000, name);
        Assert.Contains("plume3d: 9x12x9 cells, 6 steps", log.ToString());
        Assert.Throws<ArgumentException>(() => Plume3DSample.Run(_dir, 4, 6, log));
    }
}
