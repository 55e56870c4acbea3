namespace DiffGen.Physics;

/// <summary>
/// The layout of a packed span: named parts one after another (a model's state <c>[smoke, u, v]</c>, its
/// control <c>[fu, fv]</c>). The models' packed steps (the shape of the runtime's <c>Lift.Op</c>) check
/// lengths and slice through it, so every model packs the same way.
/// </summary>
internal sealed class PackedLayout
{
    private readonly int[] _offsets;

    /// <summary>A layout of parts with the given lengths; <paramref name="description"/> names it in errors ("the packed state [u, v]").</summary>
    public PackedLayout(string description, params int[] lengths)
    {
        Description = description;
        _offsets = new int[lengths.Length + 1];
        long total = 0;
        for (int i = 0; i < lengths.Length; i++) { total += lengths[i]; Check.CellCount(total, "the packed length"); _offsets[i + 1] = (int)total; }
    }

    /// <summary>What the layout holds, for messages.</summary>
    public string Description { get; }

    /// <summary>The packed length.</summary>
    public int Length => _offsets[^1];

    /// <summary>Throws unless <paramref name="span"/> has the packed length.</summary>
    public void CheckLength(ReadOnlySpan<double> span, string name) => Check.Length(span.Length, Length, name, Description);

    /// <summary>Part <paramref name="i"/> of a packed span.</summary>
    public ReadOnlySpan<double> Part(ReadOnlySpan<double> packed, int i) => packed[_offsets[i].._offsets[i + 1]];

    /// <summary>Part <paramref name="i"/> of a packed span.</summary>
    public Span<double> Part(Span<double> packed, int i) => packed[_offsets[i].._offsets[i + 1]];
}

/// <summary>Which of a step kernel's four generated forms a model call runs.</summary>
internal enum StepMode
{
    /// <summary>The step itself.</summary>
    Primal,

    /// <summary>The pullback (re-runs the step, then propagates adjoints).</summary>
    Pullback,

    /// <summary>The pullback's forward half: the step, recording on a tape what the reverse needs.</summary>
    Record,

    /// <summary>The pullback's reverse half on a recorded tape.</summary>
    Reverse,
}
