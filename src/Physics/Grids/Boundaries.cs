using System.Text;

namespace DiffGen.Physics;

/// <summary>The boundary of one side of a grid.</summary>
/// <remarks>
/// For a velocity, <see cref="Zero"/> is a closed wall (no flow through it; pressure Neumann) and
/// <see cref="ZeroGradient"/> an open side (velocity extrapolated, pressure p = 0 on the face), which is
/// what <c>Boundary2D.Open</c> sets. For a scalar, they are a zero pad (Dirichlet 0) and a zero normal
/// gradient (Neumann). The default value is <see cref="Periodic"/>.
/// </remarks>
public enum BoundaryKind
{
    /// <summary>Wrap around; must be set on both sides of an axis.</summary>
    Periodic = Bc.Periodic,

    /// <summary>Zero outside (Dirichlet 0) / closed wall for velocity.</summary>
    Zero = Bc.Zero,

    /// <summary>Zero gradient (Neumann) / open boundary for velocity.</summary>
    ZeroGradient = Bc.ZeroGradient,
}

/// <summary>Boundary conditions of a 1D domain: <see cref="Lo"/> (x = xMin) and <see cref="Hi"/> (x = xMax). The default is periodic.</summary>
/// <param name="Lo">Left side.</param>
/// <param name="Hi">Right side.</param>
[NoDiff]
public readonly record struct Boundary1D(BoundaryKind Lo, BoundaryKind Hi)
{
    /// <summary>Periodic on both sides (the default value).</summary>
    public static Boundary1D Periodic => default;

    /// <summary>The same kind on both sides.</summary>
    public static Boundary1D All(BoundaryKind kind) => new(kind, kind);

    /// <summary>Left side code for the kernels.</summary>
    public int LoCode => (int)Lo;

    /// <summary>Right side code for the kernels.</summary>
    public int HiCode => (int)Hi;

    /// <summary>Throws when periodicity is set on one side only or a kind is unknown.</summary>
    /// <param name="paramName">The argument name to report.</param>
    public void Validate(string paramName)
    {
        Boundaries.CheckAxis(Lo, Hi, "Lo", "Hi", paramName);
    }

    // The sides only (the derived properties would repeat them).
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Lo = {Lo}, Hi = {Hi}");
        return true;
    }
}

/// <summary>Boundary conditions of a 2D domain, one per side. The default value is periodic on all sides.</summary>
/// <param name="XLo">Left side (x = 0).</param>
/// <param name="XHi">Right side (x = width).</param>
/// <param name="YLo">Bottom side (y = 0).</param>
/// <param name="YHi">Top side (y = height).</param>
[NoDiff]
public readonly record struct Boundary2D(BoundaryKind XLo, BoundaryKind XHi, BoundaryKind YLo, BoundaryKind YHi)
{
    /// <summary>Periodic on all sides (the default value).</summary>
    public static Boundary2D Periodic => default;

    /// <summary>Zero on all sides (closed box for velocity).</summary>
    public static Boundary2D Closed => All(BoundaryKind.Zero);

    /// <summary>Zero gradient on all sides (open boundaries for velocity).</summary>
    public static Boundary2D Open => All(BoundaryKind.ZeroGradient);

    /// <summary>The same kind on all four sides.</summary>
    public static Boundary2D All(BoundaryKind kind) => new(kind, kind, kind, kind);

    /// <summary>Left side code for the kernels.</summary>
    public int XLoCode => (int)XLo;

    /// <summary>Right side code for the kernels.</summary>
    public int XHiCode => (int)XHi;

    /// <summary>Bottom side code for the kernels.</summary>
    public int YLoCode => (int)YLo;

    /// <summary>Top side code for the kernels.</summary>
    public int YHiCode => (int)YHi;

    /// <summary>Whether the pressure Poisson problem has a Dirichlet side (an open boundary), which makes it non-singular.</summary>
    public bool HasOpenSide => XLo == BoundaryKind.ZeroGradient || XHi == BoundaryKind.ZeroGradient || YLo == BoundaryKind.ZeroGradient || YHi == BoundaryKind.ZeroGradient;

    /// <summary>
    /// The boundary of a scalar (smoke, a dye, temperature) carried by a velocity with this boundary: periodic
    /// sides stay periodic, walls and open sides become zero-gradient (nothing flows through a wall; what
    /// leaves through an open side is extrapolated).
    /// </summary>
    public Boundary2D Scalar => new(Boundaries.ScalarOf(XLo), Boundaries.ScalarOf(XHi), Boundaries.ScalarOf(YLo), Boundaries.ScalarOf(YHi));

    /// <summary>Throws when periodicity is set on one side of an axis only or a kind is unknown.</summary>
    /// <param name="paramName">The argument name to report.</param>
    public void Validate(string paramName)
    {
        Boundaries.CheckAxis(XLo, XHi, "XLo", "XHi", paramName);
        Boundaries.CheckAxis(YLo, YHi, "YLo", "YHi", paramName);
    }

    // The sides only: the derived properties would repeat them, and Scalar (a Boundary2D) would recurse.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"XLo = {XLo}, XHi = {XHi}, YLo = {YLo}, YHi = {YHi}");
        return true;
    }
}

/// <summary>Boundary conditions of a 3D domain, one per side. The default value is periodic on all sides.</summary>
/// <param name="XLo">Side x = 0.</param>
/// <param name="XHi">Side x = width.</param>
/// <param name="YLo">Side y = 0 (the bottom in the plume models: buoyancy points to +y).</param>
/// <param name="YHi">Side y = height.</param>
/// <param name="ZLo">Side z = 0.</param>
/// <param name="ZHi">Side z = depth.</param>
[NoDiff]
public readonly record struct Boundary3D(BoundaryKind XLo, BoundaryKind XHi, BoundaryKind YLo, BoundaryKind YHi, BoundaryKind ZLo, BoundaryKind ZHi)
{
    /// <summary>Periodic on all sides (the default value).</summary>
    public static Boundary3D Periodic => default;

    /// <summary>Zero on all sides (closed box for velocity).</summary>
    public static Boundary3D Closed => All(BoundaryKind.Zero);

    /// <summary>Zero gradient on all sides (open boundaries for velocity).</summary>
    public static Boundary3D Open => All(BoundaryKind.ZeroGradient);

    /// <summary>The same kind on all six sides.</summary>
    public static Boundary3D All(BoundaryKind kind) => new(kind, kind, kind, kind, kind, kind);

    /// <summary>Code of side x = 0 for the kernels.</summary>
    public int XLoCode => (int)XLo;

    /// <summary>Code of side x = width for the kernels.</summary>
    public int XHiCode => (int)XHi;

    /// <summary>Code of side y = 0 for the kernels.</summary>
    public int YLoCode => (int)YLo;

    /// <summary>Code of side y = height for the kernels.</summary>
    public int YHiCode => (int)YHi;

    /// <summary>Code of side z = 0 for the kernels.</summary>
    public int ZLoCode => (int)ZLo;

    /// <summary>Code of side z = depth for the kernels.</summary>
    public int ZHiCode => (int)ZHi;

    /// <summary>Whether the pressure Poisson problem has a Dirichlet side (an open boundary), which makes it non-singular.</summary>
    public bool HasOpenSide =>
        XLo == BoundaryKind.ZeroGradient || XHi == BoundaryKind.ZeroGradient || YLo == BoundaryKind.ZeroGradient
        || YHi == BoundaryKind.ZeroGradient || ZLo == BoundaryKind.ZeroGradient || ZHi == BoundaryKind.ZeroGradient;

    /// <summary>The boundary of a scalar carried by a velocity with this boundary (see <see cref="Boundary2D.Scalar"/>).</summary>
    public Boundary3D Scalar => new(Boundaries.ScalarOf(XLo), Boundaries.ScalarOf(XHi), Boundaries.ScalarOf(YLo), Boundaries.ScalarOf(YHi), Boundaries.ScalarOf(ZLo), Boundaries.ScalarOf(ZHi));

    /// <summary>Throws when periodicity is set on one side of an axis only or a kind is unknown.</summary>
    /// <param name="paramName">The argument name to report.</param>
    public void Validate(string paramName)
    {
        Boundaries.CheckAxis(XLo, XHi, "XLo", "XHi", paramName);
        Boundaries.CheckAxis(YLo, YHi, "YLo", "YHi", paramName);
        Boundaries.CheckAxis(ZLo, ZHi, "ZLo", "ZHi", paramName);
    }

    // The sides only: the derived properties would repeat them, and Scalar (a Boundary3D) would recurse.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"XLo = {XLo}, XHi = {XHi}, YLo = {YLo}, YHi = {YHi}, ZLo = {ZLo}, ZHi = {ZHi}");
        return true;
    }
}

/// <summary>Checks shared by the boundary types.</summary>
internal static class Boundaries
{
    public static void CheckAxis(BoundaryKind lo, BoundaryKind hi, string loName, string hiName, string paramName)
    {
        if (!Bc.IsValid((int)lo)) throw new ArgumentException($"Unknown boundary kind {lo} on side {loName}; use Periodic, Zero or ZeroGradient.", paramName);
        if (!Bc.IsValid((int)hi)) throw new ArgumentException($"Unknown boundary kind {hi} on side {hiName}; use Periodic, Zero or ZeroGradient.", paramName);
        if ((lo == BoundaryKind.Periodic) != (hi == BoundaryKind.Periodic))
            throw new ArgumentException($"Periodic must be set on both sides of an axis ({loName} and {hiName}) or on neither.", paramName);
    }

    public static BoundaryKind ScalarOf(BoundaryKind velocity) => velocity == BoundaryKind.Periodic ? BoundaryKind.Periodic : BoundaryKind.ZeroGradient;
}
