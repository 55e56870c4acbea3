using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DiffGen.Trainers.Common;

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, a JSON header with
/// dtype/shape/data_offsets per tensor and optional __metadata__, then the raw little-endian data),
/// so results open in PyTorch/numpy. Writes go to a temp file that is then renamed over the target.
/// </summary>
public static class SafeTensorsFile
{
    /// <summary>A named F64 tensor.</summary>
    public sealed record Entry(string Name, int[] Shape, double[] Data);

    /// <summary>Writes the tensors (as F64) and metadata atomically.</summary>
    public static void Write(string path, IReadOnlyList<Entry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var t in tensors)
        {
            long expected = t.Shape.Aggregate(1L, (a, b) => a * b);
            if (expected != t.Data.Length)
                throw new ArgumentException($"Tensor '{t.Name}' has {t.Data.Length} values but shape [{string.Join(", ", t.Shape)}].", nameof(tensors));
            long bytes = 8L * t.Data.Length;
            header[t.Name] = new JsonObject
            {
                ["dtype"] = "F64",
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - json.Length % 8) % 8; // keeps the data 8-byte aligned, as the reference writer does
        var headerBytes = new byte[json.Length + pad];
        json.CopyTo(headerBytes, 0);
        for (int i = json.Length; i < headerBytes.Length; i++) headerBytes[i] = (byte)' ';

        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)headerBytes.Length);
            stream.Write(len);
            stream.Write(headerBytes);
            var buffer = new byte[8];
            foreach (var t in tensors)
                foreach (var v in t.Data)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(buffer, v);
                    stream.Write(buffer);
                }
        });
    }

    /// <summary>Reads every tensor (F64 or F32, converted to double) and the metadata.</summary>
    public static (Dictionary<string, Entry> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"'{path}' is not a safetensors file: it is shorter than its 8-byte header length.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"'{path}' is truncated: its header claims {n} bytes.");
        JsonObject header;
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n))!.AsObject(); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' has a corrupt header: {e.Message}"); }
        var data = bytes.AsSpan(8 + (int)n);
        var tensors = new Dictionary<string, Entry>();
        var metadata = new Dictionary<string, string>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v!.GetValue<string>();
                continue;
            }
            var o = node!.AsObject();
            string dtype = o["dtype"]!.GetValue<string>();
            var shape = o["shape"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray();
            var offs = o["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
            int size = dtype == "F64" ? 8 : dtype == "F32" ? 4 : throw new InvalidDataException($"Tensor '{name}' in '{path}' has dtype {dtype}; F64 or F32 expected.");
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (offs.Length != 2 || offs[1] - offs[0] != count * size || offs[1] > data.Length)
                throw new InvalidDataException($"Tensor '{name}' in '{path}' has data_offsets that do not match its shape or the file size.");
            var values = new double[count];
            var raw = data.Slice((int)offs[0], (int)(offs[1] - offs[0]));
            for (int i = 0; i < count; i++)
                values[i] = size == 8 ? BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice(8 * i)) : BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i));
            tensors[name] = new Entry(name, shape, values);
        }
        return (tensors, metadata);
    }
}

/// <summary>Writes a file through a temp file in the same folder and a rename, so readers never see half a file.</summary>
public static class AtomicFile
{
    /// <summary>Writes via <paramref name="write"/> and renames over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
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

    /// <summary>Writes text atomically.</summary>
    public static void WriteText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));
}
