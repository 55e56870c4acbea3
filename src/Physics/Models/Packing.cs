namespace DiffGen.Physics;

/// <summary>
/// The layout of a packed span: named parts one after another (a model's state <c>[smoke, u, v]</c>, its
/// control <c>[fu, fv]</c>). The models' packed steps (the shape of the runtime's <c>Lift.Op</c>) check
/// and slice through it, so every model packs and checks the same way.
/// </summary>
internal sealed class PackedLayout
{
    private readonly int[] _offsets;
    private readonly string[] _parts;

    /// <summary>A layout for the parameter <paramref name="name"/> ("state", "force") of the named parts with the given lengths.</summary>
    public PackedLayout(string name, params (string Part, int Length)[] parts)
    {
        Name = name;
        _parts = [.. parts.Select(p => p.Part)];
        _offsets = new int[parts.Length + 1];
        long total = 0;
        for (int i = 0; i < parts.Length; i++) { total += parts[i].Length; Check.CellCount(total, "the packed length"); _offsets[i + 1] = (int)total; }
        Description = $"the packed {name} [{string.Join(", ", _parts)}]";
    }

    /// <summary>The parameter name (errors name it, and its adjoint <c>{Name}Bar</c>).</summary>
    public string Name { get; }

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

    /// <summary>
    /// The checks of a packed step: the lengths of the state, the control (if any) and the output, and of their
    /// adjoints when <paramref name="mode"/> propagates adjoints; then NaN or infinite entries in the state and the
    /// control, named by the part they are in.
    /// </summary>
    public static void CheckStep(StepMode mode, PackedLayout state, PackedLayout? control, ReadOnlySpan<double> s, ReadOnlySpan<double> c, ReadOnlySpan<double> next,
        ReadOnlySpan<double> sBar, ReadOnlySpan<double> cBar, ReadOnlySpan<double> nextBar)
    {
        state.CheckLength(s, state.Name);
        control?.CheckLength(c, control.Name);
        state.CheckLength(next, "next");
        if (mode is StepMode.Pullback or StepMode.Reverse)
        {
            state.CheckLength(sBar, state.Name + "Bar");
            control?.CheckLength(cBar, control.Name + "Bar");
            state.CheckLength(nextBar, "nextBar");
        }
        state.CheckFinite(s);
        control?.CheckFinite(c);
    }

    private void CheckFinite(ReadOnlySpan<double> packed)
    {
        for (int i = 0; i < _parts.Length; i++) Check.FiniteField(Part(packed, i), Name, _parts.Length > 1 ? _parts[i] : null);
    }
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
