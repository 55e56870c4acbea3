using System.Globalization;

namespace DiffGen;

/// <summary>
/// A dual number <c>Value + Tangent·ε</c> (ε² = 0). The generator emits <c>{Name}PullbackDual</c>, the
/// pullback evaluated on dual numbers: seeding the inputs' tangents with a direction v makes the
/// adjoints' tangents the Hessian-vector product H·v (forward over reverse).
/// </summary>
public readonly struct Dual : IEquatable<Dual>, IComparable<Dual>
{
    /// <summary>The primal value.</summary>
    public readonly double Value;

    /// <summary>The derivative along the seeded direction.</summary>
    public readonly double Tangent;

    /// <summary>Creates a dual number.</summary>
    public Dual(double value, double tangent)
    {
        Value = value;
        Tangent = tangent;
    }

    /// <summary>A constant (zero tangent).</summary>
    public static implicit operator Dual(double value) => new(value, 0);

    /// <summary>The primal value.</summary>
    public static explicit operator double(Dual d) => d.Value;

    /// <summary>Truncates the primal value (used for index computations such as <c>(int)Math.Floor(x)</c>).</summary>
    public static explicit operator int(Dual d) => (int)d.Value;

    /// <summary>Truncates the primal value.</summary>
    public static explicit operator long(Dual d) => (long)d.Value;

#pragma warning disable CS1591 // operators are self-describing
    public static Dual operator +(Dual a) => a;
    public static Dual operator -(Dual a) => new(-a.Value, -a.Tangent);
    public static Dual operator +(Dual a, Dual b) => new(a.Value + b.Value, a.Tangent + b.Tangent);
    public static Dual operator -(Dual a, Dual b) => new(a.Value - b.Value, a.Tangent - b.Tangent);
    public static Dual operator *(Dual a, Dual b) => new(a.Value * b.Value, a.Tangent * b.Value + a.Value * b.Tangent);
    public static Dual operator /(Dual a, Dual b) => new(a.Value / b.Value, (a.Tangent * b.Value - a.Value * b.Tangent) / (b.Value * b.Value));
    public static Dual operator %(Dual a, Dual b) => new(a.Value % b.Value, a.Tangent - b.Tangent * Math.Truncate(a.Value / b.Value));
    public static bool operator <(Dual a, Dual b) => a.Value < b.Value;
    public static bool operator >(Dual a, Dual b) => a.Value > b.Value;
    public static bool operator <=(Dual a, Dual b) => a.Value <= b.Value;
    public static bool operator >=(Dual a, Dual b) => a.Value >= b.Value;
    public static bool operator ==(Dual a, Dual b) => a.Value == b.Value;
    public static bool operator !=(Dual a, Dual b) => a.Value != b.Value;
#pragma warning restore CS1591

    /// <inheritdoc />
    public bool Equals(Dual other) => Value.Equals(other.Value) && Tangent.Equals(other.Tangent);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Dual d && Equals(d);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Value, Tangent);

    /// <inheritdoc />
    public int CompareTo(Dual other) => Value.CompareTo(other.Value);

    /// <inheritdoc />
    public override string ToString() => Value.ToString("R", CultureInfo.InvariantCulture) + " + " + Tangent.ToString("R", CultureInfo.InvariantCulture) + "ε";

    /// <summary>Packs values and tangents into dual numbers.</summary>
    public static Dual[] Pack(ReadOnlySpan<double> values, ReadOnlySpan<double> tangents)
    {
        if (values.Length != tangents.Length)
            throw new ArgumentException($"values has {values.Length} entries but tangents has {tangents.Length}.", nameof(tangents));
        var result = new Dual[values.Length];
        for (int i = 0; i < result.Length; i++) result[i] = new Dual(values[i], tangents[i]);
        return result;
    }

    /// <summary>The values of a span of dual numbers.</summary>
    public static double[] Values(ReadOnlySpan<Dual> d)
    {
        var r = new double[d.Length];
        for (int i = 0; i < r.Length; i++) r[i] = d[i].Value;
        return r;
    }

    /// <summary>The tangents of a span of dual numbers.</summary>
    public static double[] Tangents(ReadOnlySpan<Dual> d)
    {
        var r = new double[d.Length];
        for (int i = 0; i < r.Length; i++) r[i] = d[i].Tangent;
        return r;
    }
}
