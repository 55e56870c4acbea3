using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DiffGen.NN.IO;

/// <summary>One named tensor of a safetensors file: F32 or F64 data with its shape.</summary>
public sealed record SafeTensor(string Name, int[] Shape, float[]? F32 = null, double[]? F64 = null)
{
    /// <summary>The element count the shape implies.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The values as doubles, whatever the stored type.</summary>
    public double[] AsDoubles() => F64 ?? F32!.Select(v => (double)v).ToArray();

    /// <summary>The values as floats, whatever the stored type.</summary>
    public float[] AsFloats() => F32 ?? F64!.Select(v => (float)v).ToArray();
}

/// <summary>
/// The safetensors format (the one PyTorch users exchange): an 8-byte little-endian header length, a
/// JSON header mapping each name to dtype, shape and data_offsets (plus optional string
/// __metadata__), then the raw little-endian data. Writes are atomic (temp file + rename); a corrupt
/// or mismatched file gives an <see cref="InvalidDataException"/> naming the file and tensor.
/// </summary>
public static class SafeTensors
{
    /// <summary>Writes tensors and metadata to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        var names = new HashSet<string>();
        foreach (var t in list)
        {
            if (!names.Add(t.Name)) throw new ArgumentException($"Tensor name '{t.Name}' appears twice.", nameof(tensors));
            if (t.Name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", nameof(tensors));
            if ((t.F32 == null) == (t.F64 == null)) throw new ArgumentException($"Tensor '{t.Name}' must have exactly one of F32 or F64 data.", nameof(tensors));
            long n = t.F32?.Length ?? t.F64!.Length;
            if (n != t.Count) throw new ArgumentException($"Tensor '{t.Name}' has {n} values but shape [{string.Join(", ", t.Shape)}].", nameof(tensors));
            long bytes = n * (t.F32 != null ? 4 : 8);
            header[t.Name] = new JsonObject
            {
                ["dtype"] = t.F32 != null ? "F32" : "F64",
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - json.Length % 8) % 8; // 8-byte aligned data, as the reference implementation writes
        var headerBytes = new byte[json.Length + pad];
        json.CopyTo(headerBytes, 0);
        headerBytes.AsSpan(json.Length).Fill((byte)' ');
        AtomicWrite(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)headerBytes.Length);
            stream.Write(len);
            stream.Write(headerBytes);
            foreach (var t in list)
            {
                if (t.F32 != null)
                {
                    var buf = new byte[4 * t.F32.Length];
                    for (int i = 0; i < t.F32.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(4 * i), t.F32[i]);
                    stream.Write(buf);
                }
                else
                {
                    var buf = new byte[8 * t.F64!.Length];
                    for (int i = 0; i < t.F64.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(buf.AsSpan(8 * i), t.F64[i]);
                    stream.Write(buf);
                }
            }
        });
    }

    /// <summary>Reads every tensor and the metadata of a safetensors file.</summary>
    public static (IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InvalidDataException($"Cannot read '{path}': {e.Message}", e); }
        if (bytes.Length < 8) throw new InvalidDataException($"'{path}' is not a safetensors file: shorter than the 8-byte header length.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n == 0 || n > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"'{path}' is truncated or corrupt: its header length ({n}) exceeds the file.");
        JsonObject header;
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n))?.AsObject() ?? throw new InvalidDataException($"'{path}' has an empty header."); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new InvalidDataException($"'{path}' has a corrupt JSON header: {e.Message}", e); }
        var data = bytes.AsMemory(8 + (int)n);
        var tensors = new Dictionary<string, SafeTensor>();
        var metadata = new Dictionary<string, string>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node?.AsObject() ?? []) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            try
            {
                var o = node!.AsObject();
                string dtype = o["dtype"]!.GetValue<string>();
                var shape = o["shape"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray();
                var offsets = o["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                int size = dtype switch { "F32" => 4, "F64" => 8, _ => throw new InvalidDataException($"tensor '{name}' in '{path}' has dtype {dtype}; only F32 and F64 are supported.") };
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] - offsets[0] != count * size || offsets[1] > data.Length)
                    throw new InvalidDataException($"tensor '{name}' in '{path}': data_offsets [{string.Join(", ", offsets)}] do not match shape [{string.Join(", ", shape)}] ({dtype}) or the file size.");
                var raw = data.Span.Slice((int)offsets[0], (int)(offsets[1] - offsets[0]));
                if (size == 4)
                {
                    var f = new float[count];
                    for (int i = 0; i < count; i++) f[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i));
                    tensors[name] = new SafeTensor(name, shape, F32: f);
                }
                else
                {
                    var d = new double[count];
                    for (int i = 0; i < count; i++) d[i] = BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice(8 * i));
                    tensors[name] = new SafeTensor(name, shape, F64: d);
                }
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"tensor '{name}' in '{path}' has a malformed header entry ({e.Message}).", e);
            }
        }
        return (tensors, metadata);
    }

    /// <summary>Writes through a temp file in the target folder and renames it over the target.</summary>
    public static void AtomicWrite(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
