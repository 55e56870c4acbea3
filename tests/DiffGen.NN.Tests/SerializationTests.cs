using System.Diagnostics;
using DiffGen.NN;
using DiffGen.NN.IO;
using DiffGen.NN.Optim;
using DiffGen.Tensors;

namespace DiffGen.NN.Tests;

/// <summary>A fact that is skipped (with a reason) when Debian's python3 with numpy is not installed.</summary>
public sealed class NumpyFactAttribute : FactAttribute
{
    public NumpyFactAttribute()
    {
        if (!NumpyAvailable.Value) Skip = "Debian's /usr/bin/python3 with numpy (python3-numpy) is not installed.";
    }

    internal static readonly Lazy<bool> NumpyAvailable = new(() =>
    {
        try
        {
            if (!File.Exists("/usr/bin/python3")) return false;
            using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", "-c \"import numpy\"") { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit(30_000);
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });
}

public sealed class SerializationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffgen-nn-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static Sequential Model(int seed)
    {
        Init.Seed(seed);
        return new Sequential(new Linear(3, 8), new GELU(), new Linear(8, 2));
    }

    [Fact]
    public void SaveLoad_RoundTrip_GivesIdenticalOutputs()
    {
        var a = Model(1);
        var b = Model(2);
        var x = Tensor.Randn(9, 4, 3);
        Assert.NotEqual(a.Forward(x).ToArray(), b.Forward(x).ToArray());
        var path = Path.Combine(_dir, "model.safetensors");
        a.Save(path, new Dictionary<string, string> { ["note"] = "test" });
        b.Load(path);
        Assert.Equal(a.Forward(x).ToArray(), b.Forward(x).ToArray());
        var (_, meta) = SafeTensors.Read(path);
        Assert.Equal("test", meta["note"]);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void OptimizerState_RoundTrips_SoTrainingContinuesIdentically()
    {
        var x = Tensor.Randn(3, 4, 3);
        var y = Tensor.Randn(4, 4, 2);
        var m1 = Model(5);
        var o1 = new Adam(m1.Parameters(), 0.01);
        void Train(Module m, Optimizer o, int steps)
        {
            for (int i = 0; i < steps; i++) { o.ZeroGrad(); Losses.Mse(m.Forward(x), y).Backward(); o.Step(); }
        }
        Train(m1, o1, 3);
        m1.Save(Path.Combine(_dir, "m.safetensors"));
        o1.Save(Path.Combine(_dir, "o.safetensors"));
        Train(m1, o1, 3);

        var m2 = Model(6);
        m2.Load(Path.Combine(_dir, "m.safetensors"));
        var o2 = new Adam(m2.Parameters(), 0.5);
        o2.Load(Path.Combine(_dir, "o.safetensors"));
        Assert.Equal(3, o2.StepCount);
        Assert.Equal(0.01, o2.LearningRate);
        Train(m2, o2, 3);
        Assert.Equal(m1.Forward(x).ToArray(), m2.Forward(x).ToArray());
    }

    [Fact]
    public void MismatchedOrCorruptFiles_NameTheTensor()
    {
        var path = Path.Combine(_dir, "m.safetensors");
        Model(1).Save(path);
        var wide = new Sequential(new Linear(3, 9), new GELU(), new Linear(9, 2));
        var ex = Assert.Throws<InvalidDataException>(() => wide.Load(path));
        Assert.Contains("'0.weight'", ex.Message);

        var other = new Sequential(new Linear(3, 8), new GELU(), new Linear(8, 2), new Linear(2, 2));
        Assert.Contains("'3.weight'", Assert.Throws<InvalidDataException>(() => other.Load(path)).Message);

        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        Assert.Contains("tensor '", Assert.Throws<InvalidDataException>(() => Model(1).Load(path)).Message);

        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => Model(1).Load(path));
    }

    [Fact]
    public void Initialisers_HaveTheirStatistics_AndSeedsReproduce()
    {
        var w = Tensor.Zeros(256, 128);
        Init.KaimingNormal(w, random: new Random(1));
        var v = w.ToArray();
        double mean = v.Average(), var_ = v.Select(a => (a - mean) * (a - mean)).Average();
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(var_, 2.0 / 128 * 0.95, 2.0 / 128 * 1.05);
        Init.XavierUniform(w, random: new Random(1));
        double bound = Math.Sqrt(6.0 / (256 + 128));
        Assert.All(w.ToArray(), a => Assert.InRange(a, -bound, bound));
        Assert.Equal(Model(7).Forward(Tensor.Ones(1, 3)).ToArray(), Model(7).Forward(Tensor.Ones(1, 3)).ToArray());
    }

    [Fact]
    public async Task Seed_BelongsToItsFlow_SoModelsBuiltInParallelDoNotShareDraws()
    {
        // Two flows seed and build at the same time, drawing in lockstep; each must get what it would
        // get alone (with one shared generator they took turns drawing from one sequence).
        double[] Alone(int seed) { Init.Seed(seed); return [.. Enumerable.Range(0, 200).Select(_ => Init.DefaultRandom.NextDouble())]; }
        var expected1 = await Task.Run(() => Alone(11));
        var expected2 = await Task.Run(() => Alone(12));
        using var barrier = new Barrier(2);
        double[] Lockstep(int seed)
        {
            Init.Seed(seed);
            var r = new double[200];
            for (int i = 0; i < r.Length; i++) { barrier.SignalAndWait(); r[i] = Init.DefaultRandom.NextDouble(); }
            return r;
        }
        var t1 = Task.Factory.StartNew(() => Lockstep(11), TaskCreationOptions.LongRunning);
        var t2 = Task.Factory.StartNew(() => Lockstep(12), TaskCreationOptions.LongRunning);
        Assert.Equal(expected1, await t1);
        Assert.Equal(expected2, await t2);
    }

    [NumpyFact]
    public void SafetensorsFile_IsReadableByNumpy()
    {
        var path = Path.Combine(_dir, "np.safetensors");
        SafeTensors.Write(path,
            [new SafeTensor("a", [2, 3], F32: [1, 2, 3, 4, 5, 6]), new SafeTensor("b", [2], F64: [0.5, -1.25])],
            new Dictionary<string, string> { ["k"] = "v" });
        var script = """
            import json, struct, sys
            import numpy as np
            raw = open(sys.argv[1], 'rb').read()
            n = struct.unpack('<Q', raw[:8])[0]
            header = json.loads(raw[8:8 + n])
            data = raw[8 + n:]
            def arr(name, dt):
                h = header[name]; b, e = h['data_offsets']
                return np.frombuffer(data[b:e], dtype=dt).reshape(h['shape'])
            a = arr('a', '<f4'); b = arr('b', '<f8')
            assert a.shape == (2, 3) and a[1, 2] == 6.0, a
            assert b.tolist() == [0.5, -1.25], b
            assert header['__metadata__']['k'] == 'v'  # beside the writer's checksum
            print('ok')
            """;
        var scriptPath = Path.Combine(_dir, "check.py");
        File.WriteAllText(scriptPath, script);
        using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", $"\"{scriptPath}\" \"{path}\"") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr);
        Assert.Equal("ok", stdout.Trim());
    }
}
