using static System.FormattableString;

namespace DiffGen.Physics;

/// <summary>Argument checks shared by the model and grid classes.</summary>
internal static class Check
{
    public static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException(Invariant($"{name} must be positive (got {value})."), name);
    }

    public static void Positive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentException(Invariant($"{name} must be a positive finite number (got {value})."), name);
    }

    public static void NonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value)) throw new ArgumentException(Invariant($"{name} must be a non-negative finite number (got {value})."), name);
    }

    public static void Finite(double value, string name)
    {
        if (!double.IsFinite(value)) throw new ArgumentException(Invariant($"{name} must be a finite number (got {value})."), name);
    }

    /// <summary>Rejects grids whose arrays would not fit (or whose size overflows an int).</summary>
    public static void CellCount(long count, string what)
    {
        if (count > Array.MaxLength)
            throw new ArgumentException(Invariant($"{what} is {count}, more than one array can hold ({Array.MaxLength}); use a coarser grid."), what);
    }

    public static void Length(int actual, int expected, string name, string what)
    {
        if (actual != expected) throw new ArgumentException(Invariant($"{name} has {actual} entries but {what} needs {expected}."), name);
    }

    /// <summary>
    /// Throws when <paramref name="field"/> holds a NaN or an infinity, naming the field and the first bad entry.
    /// </summary>
    /// <remarks>
    /// A vectorised sum first: it is finite whenever every entry is (NaN and ±∞ propagate), so the common case
    /// costs one pass at memory speed; only a non-finite sum (a bad entry, or an overflow of finite ones)
    /// walks the entries.
    /// </remarks>
    public static void FiniteField(ReadOnlySpan<double> field, string name, string? part = null)
    {
        if (double.IsFinite(SpanSums.Sum(field))) return;
        for (int k = 0; k < field.Length; k++)
            if (!double.IsFinite(field[k]))
                throw new ArgumentException(
                    Invariant($"{name}{(part is null ? "" : " (" + part + ")")} holds {field[k]} at index {k}: the state has diverged or was not initialised. Check the initial values, or lower dt (or raise the diffusion substeps) if it blew up over earlier steps."),
                    name);
    }

    public static void ExplicitDiffusion(double nu, double dt, double dx, double dy, int substeps, string dtName)
        => ExplicitDiffusion(nu, dt, dx, dy, double.PositiveInfinity, substeps, dtName);

    public static void ExplicitDiffusion(double nu, double dt, double dx, double dy, double dz, int substeps, string dtName)
    {
        double max = Diffusion.MaxStableExplicitDt(nu, dx, dy, dz, substeps);
        if (dt > max * (1 + 1e-12))
            throw new ArgumentException(
                Invariant($"Explicit diffusion is unstable: dt = {dt} exceeds the largest stable step {max:G6} for nu = {nu} with {substeps} substep(s). Use dt <= {max:G6} or more substeps (at least {Math.Ceiling(substeps * dt / max)})."),
                dtName);
    }
}
