using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
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
/// __metadata__), then the raw little-endian data. Writes are atomic (temp file + rename) and carry a
/// SHA-256 checksum of the header's entries and the data in the metadata (<see cref="ChecksumKey"/>),
/// which <see cref="Read"/> verifies; files without one (older versions, other writers) are read
/// without that check. Reading treats the file as untrusted: every field is checked before it is used,
/// and anything malformed — a negative or overflowing shape, offsets that overlap, alias, leave gaps or
/// trailing bytes, unaligned data, duplicate keys, metadata that is not strings — is an
/// <see cref="InvalidDataException"/> naming the file, the tensor and the field.
/// </summary>
public static class SafeTensors
{
    /// <summary>The metadata key of the checksum: "sha256:" and the hex SHA-256 of the entries and the data.</summary>
    public const string ChecksumKey = "diffgen.sha256";

    // The reference implementation refuses headers above 100 MB; so do we (a corrupt length would
    // otherwise make us parse the whole file as JSON).
    private const long MaxHeaderBytes = 100L << 20;

    /// <summary>Writes tensors and metadata to <paramref name="path"/> atomically.</summary>
    /// <exception cref="ArgumentException">A tensor's name, shape or data is invalid (the message names the tensor and the field).</exception>
    public static void Write(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<Entry>(list.Count);
        foreach (var t in list)
        {
            if (t is null) throw new ArgumentException("A tensor in the list is null.", nameof(tensors));
            if (string.IsNullOrEmpty(t.Name)) throw new ArgumentException("A tensor has no name.", nameof(tensors));
            if (!names.Add(t.Name)) throw new ArgumentException($"Tensor name '{t.Name}' appears twice.", nameof(tensors));
            if (t.Name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", nameof(tensors));
            if (t.Shape is null) throw new ArgumentException($"Tensor '{t.Name}': shape is null.", nameof(tensors));
            if ((t.F32 == null) == (t.F64 == null)) throw new ArgumentException($"Tensor '{t.Name}' must have exactly one of F32 or F64 data.", nameof(tensors));
            long count = ElementCount(t.Shape, e => new ArgumentException($"Tensor '{t.Name}': shape {e}.", nameof(tensors)));
            long n = t.F32?.Length ?? t.F64!.Length;
            if (n != count) throw new ArgumentException($"Tensor '{t.Name}' has {n} values but shape [{string.Join(", ", t.Shape)}] needs {count}.", nameof(tensors));
            entries.Add(new Entry(t.Name, t.F32 != null ? "F32" : "F64", t.Shape, 0, n * (t.F32 != null ? 4 : 8), t));
        }
        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (metadata != null)
            foreach (var (k, v) in metadata)
            {
                if (k == ChecksumKey) throw new ArgumentException($"Metadata key '{ChecksumKey}' is reserved for the checksum the writer adds.", nameof(metadata));
                meta[k] = v ?? throw new ArgumentException($"Metadata '{k}' is null; values are strings.", nameof(metadata));
            }

        // Data laid out widest element first (F64, then F32), each group in the given order: every tensor
        // then starts at a multiple of its element size, as the reference writer guarantees.
        long offset = 0;
        var layout = entries.OrderByDescending(e => e.Dtype == "F64").ToList();
        for (int i = 0; i < layout.Count; i++)
        {
            var e = layout[i];
            layout[i] = e with { Begin = offset, End = offset + (e.End - e.Begin) };
            offset = layout[i].End;
        }
        var data = new byte[offset];
        foreach (var e in layout)
        {
            var dst = data.AsSpan((int)e.Begin, (int)(e.End - e.Begin));
            if (e.Tensor!.F32 is { } f) for (int i = 0; i < f.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(dst.Slice(4 * i), f[i]);
            else { var d = e.Tensor.F64!; for (int i = 0; i < d.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(dst.Slice(8 * i), d[i]); }
        }
        meta[ChecksumKey] = Checksum(layout, meta, data);

        var header = new JsonObject();
        var metaNode = new JsonObject();
        foreach (var (k, v) in meta) metaNode[k] = v;
        header["__metadata__"] = metaNode;
        var placed = layout.ToDictionary(e => e.Name, StringComparer.Ordinal);
        foreach (var e in entries.Select(e => placed[e.Name]))
            header[e.Name] = new JsonObject
            {
                ["dtype"] = e.Dtype,
                ["shape"] = new JsonArray(e.Shape.Select(x => (JsonNode)x).ToArray()),
                ["data_offsets"] = new JsonArray(e.Begin, e.End),
            };
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
            stream.Write(data);
        });
    }

    /// <summary>Reads every tensor and the metadata of a safetensors file, after checking all of it.</summary>
    /// <exception cref="InvalidDataException">The file cannot be read, is malformed, or fails its checksum; the message names the file, the tensor and the field.</exception>
    public static (IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InvalidDataException($"Cannot read '{path}': {e.Message}", e); }
        InvalidDataException Bad(string what) => new($"'{path}' is not a valid safetensors file: {what}.");
        if (bytes.Length < 8) throw Bad("it is shorter than the 8-byte header length");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n == 0 || n > (ulong)(bytes.Length - 8)) throw Bad($"its header length ({n}) exceeds the file's {bytes.Length - 8} bytes after the length (truncated or corrupt)");
        if (n > MaxHeaderBytes) throw Bad($"its header length ({n}) is above the 100 MB limit");
        long dataStart = 8 + (long)n;
        long dataLength = bytes.Length - dataStart;

        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n)); }
        catch (JsonException e) { throw Bad($"its JSON header is corrupt ({e.Message})"); }
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad($"its header is a JSON {Kind(doc.RootElement)}, not an object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                string name = prop.Name;
                if (!seen.Add(name)) throw Bad($"the header has the key '{name}' twice (a reader would silently pick one)");
                if (name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad($"__metadata__ is a JSON {Kind(prop.Value)}, not an object of strings");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw Bad($"metadata '{m.Name}' is a JSON {Kind(m.Value)}, not a string");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) throw Bad($"metadata '{m.Name}' appears twice");
                    }
                    continue;
                }
                entries.Add(ParseEntry(name, prop.Value, dataStart, dataLength, Bad));
            }
        }
        CheckTiling(entries, dataLength, Bad);

        var data = bytes.AsSpan((int)dataStart);
        if (metadata.TryGetValue(ChecksumKey, out var stored))
        {
            var meta = new SortedDictionary<string, string>(metadata.Where(kv => kv.Key != ChecksumKey).ToDictionary(), StringComparer.Ordinal);
            string actual = Checksum(entries, meta, data);
            if (!string.Equals(stored, actual, StringComparison.Ordinal))
                throw Bad($"its checksum ({ChecksumKey}) does not match its contents: the file was damaged after it was written (flipped or lost bytes). Use an intact copy or re-create it");
        }

        var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            var raw = data.Slice((int)e.Begin, (int)(e.End - e.Begin));
            if (e.Dtype == "F32")
            {
                var f = new float[raw.Length / 4];
                for (int i = 0; i < f.Length; i++) f[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i));
                tensors[e.Name] = new SafeTensor(e.Name, e.Shape, F32: f);
            }
            else
            {
                var d = new double[raw.Length / 8];
                for (int i = 0; i < d.Length; i++) d[i] = BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice(8 * i));
                tensors[e.Name] = new SafeTensor(e.Name, e.Shape, F64: d);
            }
        }
        return (tensors, metadata);
    }

    /// <summary>One header entry; offsets relative to the data section.</summary>
    private sealed record Entry(string Name, string Dtype, int[] Shape, long Begin, long End, SafeTensor? Tensor = null);

    private static Entry ParseEntry(string name, JsonElement node, long dataStart, long dataLength, Func<string, InvalidDataException> bad)
    {
        string Where(string field) => $"tensor '{name}', field '{field}'";
        if (node.ValueKind != JsonValueKind.Object) throw bad($"tensor '{name}' is a JSON {Kind(node)}, not an object with dtype, shape and data_offsets");
        JsonElement Field(string field) => node.TryGetProperty(field, out var v) ? v : throw bad($"{Where(field)} is missing");

        var dtypeNode = Field("dtype");
        if (dtypeNode.ValueKind != JsonValueKind.String) throw bad($"{Where("dtype")} is a JSON {Kind(dtypeNode)}, not a string");
        string dtype = dtypeNode.GetString()!;
        int size = dtype switch
        {
            "F32" => 4,
            "F64" => 8,
            _ => throw bad($"{Where("dtype")} is {dtype}; only F32 and F64 are supported"),
        };

        var shapeNode = Field("shape");
        if (shapeNode.ValueKind != JsonValueKind.Array) throw bad($"{Where("shape")} is a JSON {Kind(shapeNode)}, not an array");
        var shape = new int[shapeNode.GetArrayLength()];
        int k = 0;
        foreach (var d in shapeNode.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v)) throw bad($"{Where("shape")} entry {k} is not an integer");
            if (v < 0) throw bad($"{Where("shape")} entry {k} is negative ({v})");
            if (v > int.MaxValue) throw bad($"{Where("shape")} entry {k} ({v}) is above {int.MaxValue}");
            shape[k++] = (int)v;
        }
        long count = ElementCount(shape, e => bad($"{Where("shape")}: {e}"));

        var offNode = Field("data_offsets");
        if (offNode.ValueKind != JsonValueKind.Array || offNode.GetArrayLength() != 2) throw bad($"{Where("data_offsets")} is not an array of two integers [begin, end]");
        var off = new long[2];
        k = 0;
        foreach (var o in offNode.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out off[k]) || off[k] < 0) throw bad($"{Where("data_offsets")} entry {k} is not a non-negative integer");
            k++;
        }
        long begin = off[0], end = off[1];
        if (end < begin) throw bad($"{Where("data_offsets")} [{begin}, {end}] ends before it begins");
        if (end > dataLength) throw bad($"{Where("data_offsets")} [{begin}, {end}] reach past the data's {dataLength} bytes (truncated file?)");
        if (end - begin != count * size)
            throw bad($"{Where("data_offsets")} [{begin}, {end}] hold {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {count * size}");
        if ((dataStart + begin) % size != 0)
            throw bad($"{Where("data_offsets")} begin {begin} puts the data at file offset {dataStart + begin}, not a multiple of its {size}-byte element size (unaligned)");
        return new Entry(name, dtype, shape, begin, end);
    }

    /// <summary>The tensors' byte ranges must tile the data exactly: no overlap or aliasing, no gap, nothing after the last.</summary>
    private static void CheckTiling(List<Entry> entries, long dataLength, Func<string, InvalidDataException> bad)
    {
        long at = 0;
        Entry? previous = null;
        foreach (var e in entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin))
        {
            if (e.Begin < at)
                throw bad($"tensor '{e.Name}', field 'data_offsets' [{e.Begin}, {e.End}] overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}] (aliased data)");
            if (e.Begin > at)
                throw bad($"tensor '{e.Name}', field 'data_offsets' [{e.Begin}, {e.End}] leave a gap of {e.Begin - at} bytes after {(previous is null ? "the start of the data" : $"tensor '{previous.Name}'")}");
            at = e.End;
            previous = e;
        }
        if (at != dataLength)
            throw bad($"{dataLength - at} bytes after the last tensor's data belong to no tensor (trailing bytes)");
    }

    /// <summary>The element count of a shape, checked: negative dimensions and counts above int.MaxValue are errors.</summary>
    private static long ElementCount(int[] shape, Func<string, Exception> error)
    {
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0) throw error($"dimension {i} is negative ({shape[i]})");
            count *= shape[i];
            if (count > int.MaxValue) throw error($"[{string.Join(", ", shape)}] has more than {int.MaxValue} elements");
        }
        return count;
    }

    /// <summary>SHA-256 over a canonical text of the entries (by name) and metadata (by key, checksum excluded), then the data.</summary>
    private static string Checksum(IEnumerable<Entry> entries, SortedDictionary<string, string> metadata, ReadOnlySpan<byte> data)
    {
        var text = new StringBuilder();
        foreach (var e in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
            text.Append(e.Name).Append('\0').Append(e.Dtype).Append('\0').Append(string.Join(",", e.Shape.Select(x => x.ToString(CultureInfo.InvariantCulture))))
                .Append('\0').Append(e.Begin.ToString(CultureInfo.InvariantCulture)).Append('\0').Append(e.End.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (k, v) in metadata)
            if (k != ChecksumKey) text.Append(k).Append('\0').Append(v).Append('\n');
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(text.ToString()));
        hash.AppendData(data);
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };

    /// <summary>
    /// Whether <paramref name="path"/> is a temp file of <see cref="AtomicWrite"/> (".&lt;name&gt;.&lt;32 hex
    /// digits&gt;.tmp"): one left behind means its writer was killed before the rename, and it can be deleted
    /// by whoever owns the folder.
    /// </summary>
    public static bool IsTemporaryFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path);
        if (!name.StartsWith('.') || !name.EndsWith(".tmp", StringComparison.Ordinal)) return false;
        string stem = name[..^4];
        int dot = stem.LastIndexOf('.');
        return dot > 1 && stem.Length - dot - 1 == 32 && stem[(dot + 1)..].All(char.IsAsciiHexDigitLower);
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
