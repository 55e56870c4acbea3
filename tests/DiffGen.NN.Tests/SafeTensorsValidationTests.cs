using System.Buffers.Binary;
using System.Text;
using DiffGen.NN.IO;
using DiffGen.NN.Optim;
using DiffGen.Tensors;

namespace DiffGen.NN.Tests;

/// <summary>
/// Malformed safetensors files (issue #13): each is an <see cref="InvalidDataException"/> naming the tensor
/// and the field, never another exception type or a silently wrong tensor; the checksum catches flipped
/// bytes; loading state checks everything before writing anything.
/// </summary>
public sealed class SafeTensorsValidationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffgen-st-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>A file with exactly this header (space-padded to 8 bytes, so the data starts aligned) and data.</summary>
    private string Raw(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        bytes.AsSpan(8, padded).Fill((byte)' ');
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + padded);
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Rejected(string path) => Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path)).Message;

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8, "'a'", "negative")]
    [InlineData("""{"a":{"dtype":"F32","shape":[65536,65536,65536,65536],"data_offsets":[0,0]}}""", 0, "'a'", "elements")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, "overlap", "alias")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "overlap", "'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "gap", "'b'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 12, "trailing", "8 bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F64","shape":[1],"data_offsets":[4,12]}}""", 12, "'b'", "unaligned")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4, "'a'", "twice")]
    [InlineData("""{"__metadata__":{"step":3},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4, "'step'", "number, not a string")]
    [InlineData("""{"__metadata__":["x"],"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4, "__metadata__", "array")]
    [InlineData("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4, "'a'", "'dtype' is missing")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", 4, "'a'", "'shape' entry 0 is not an integer")]
    [InlineData("""{"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}""", 4, "'a'", "string, not an array")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 4, "'a'", "ends before it begins")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4, "'a'", "needs 8")]
    [InlineData("""{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}""", 4, "'a'", "BF16")]
    [InlineData("""{"a":7}""", 0, "'a'", "number, not an object")]
    [InlineData("""[1, 2]""", 0, "header", "array, not an object")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]""", 4, "corrupt", "JSON")]
    public void MalformedFile_IsRejected_NamingTheTensorAndField(string header, int dataBytes, string name, string field)
    {
        var message = Rejected(Raw(header, new byte[dataBytes]));
        Assert.Contains(name, message);
        Assert.Contains(field, message);
    }

    [Fact]
    public void HeaderLongerThanTheFile_IsRejected()
    {
        var path = Path.Combine(_dir, "long.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("header length", Rejected(path));
    }

    [Fact]
    public void FlippedDataByte_FailsTheChecksum()
    {
        var path = Path.Combine(_dir, "ok.safetensors");
        SafeTensors.Write(path, [new SafeTensor("w", [3], F64: [1, 2, 3])], new Dictionary<string, string> { ["k"] = "v" });
        var (_, meta) = SafeTensors.Read(path);
        Assert.StartsWith("sha256:", meta[SafeTensors.ChecksumKey]);
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x10; // a bit of the last double
        File.WriteAllBytes(path, bytes);
        Assert.Contains("checksum", Rejected(path));
    }

    [Fact]
    public void FileWithoutChecksum_AsThePreviousVersionWrote_IsStillRead()
    {
        var data = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(data, 1.5);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), -2);
        var path = Raw("""{"__metadata__":{"note":"old"},"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}""", data);
        var (tensors, meta) = SafeTensors.Read(path);
        Assert.Equal([1.5, -2], tensors["w"].AsDoubles());
        Assert.Equal("old", meta["note"]);
    }

    [Fact]
    public void MixedTypes_AreWrittenAligned()
    {
        // 3 floats (12 bytes) first in the list: an F64 after them would start at an odd multiple of 4.
        var path = Path.Combine(_dir, "mixed.safetensors");
        SafeTensors.Write(path, [new SafeTensor("f", [3], F32: [1, 2, 3]), new SafeTensor("d", [1], F64: [4])]);
        var (t, _) = SafeTensors.Read(path);
        Assert.Equal([1f, 2f, 3f], t["f"].AsFloats());
        Assert.Equal([4.0], t["d"].AsDoubles());
    }

    [Fact]
    public void Writer_RejectsBadShapes_NamingTheTensor()
    {
        var path = Path.Combine(_dir, "w.safetensors");
        var neg = Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [new SafeTensor("neg", [-1, -2], F32: [1, 2])]));
        Assert.Contains("'neg'", neg.Message);
        Assert.Contains("negative", neg.Message);
        var big = Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [new SafeTensor("big", [65536, 65536, 65536, 65536], F32: [])]));
        Assert.Contains("'big'", big.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ModuleLoad_ChecksEverything_BeforeWritingAnything()
    {
        var path = Path.Combine(_dir, "m.safetensors");
        Init.Seed(1);
        var source = new Sequential(new Linear(3, 4), new Linear(4, 2));
        // The first layer fits, the last does not: nothing may be loaded.
        SafeTensors.Write(path, source.NamedParameters()
            .Select(p => new SafeTensor(p.Name, p.Name == "1.bias" ? [3] : p.Value.Shape, F32: p.Name == "1.bias" ? [0, 0, 0] : p.Value.ToArray())));
        Init.Seed(2);
        var target = new Sequential(new Linear(3, 4), new Linear(4, 2));
        var before = target.NamedParameters().Select(p => p.Value.ToArray()).ToList();
        Assert.Contains("'1.bias'", Assert.Throws<InvalidDataException>(() => target.Load(path)).Message);
        Assert.Equal(before, target.NamedParameters().Select(p => p.Value.ToArray()).ToList());
    }

    [Theory]
    [InlineData("NaN", "3", "'lr'")]
    [InlineData("-0.1", "3", "'lr'")]
    [InlineData("Infinity", "3", "'lr'")]
    [InlineData("0.01", "-3", "'step'")]
    [InlineData("0.01", null, "'step'")]
    public void OptimizerLoad_RejectsWhatTheConstructorRejects_AndKeepsItsState(string lr, string? step, string field)
    {
        var w = Tensor.FromArray([1f, 2f], 2);
        w.RequiresGrad = true;
        var adam = new Adam([w], 0.5);
        var meta = new Dictionary<string, string> { ["optimizer"] = "Adam", ["lr"] = lr };
        if (step != null) meta["step"] = step;
        var path = Path.Combine(_dir, "o.safetensors");
        SafeTensors.Write(path, [new SafeTensor("0.exp_avg", [2], F32: [1, 1]), new SafeTensor("0.exp_avg_sq", [2], F32: [1, 1])], meta);
        Assert.Contains(field, Assert.Throws<InvalidDataException>(() => adam.Load(path)).Message);
        Assert.Equal(0.5, adam.LearningRate);
        Assert.Equal(0, adam.StepCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = double.NaN);
    }
}
