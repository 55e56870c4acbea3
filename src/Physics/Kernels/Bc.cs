namespace DiffGen.Physics;

/// <summary>
/// Integer boundary codes passed to the <c>[Differentiable]</c> kernels (which cannot take objects).
/// Every kernel takes one code per side: <c>xLo</c> (left, i &lt; 0), <c>xHi</c> (right, i &gt;= nx),
/// <c>yLo</c> (bottom, j &lt; 0), <c>yHi</c> (top, j &gt;= ny). Periodic must be set on both sides of an axis.
/// </summary>
/// <remarks>
/// Meaning for a scalar (cell-centred) field: values outside the grid are the wrapped values
/// (<see cref="Periodic"/>), zero (<see cref="Zero"/>, Dirichlet u = 0 as a zero pad, like PhiFlow's
/// ZERO extrapolation) or the nearest boundary value (<see cref="ZeroGradient"/>, Neumann).
/// For a velocity field <see cref="Zero"/> is a closed wall (normal face velocity zero, pressure
/// Neumann) and <see cref="ZeroGradient"/> an open boundary (velocity extrapolated with zero
/// gradient, pressure Dirichlet p = 0 on the boundary face).
/// </remarks>
public static class Bc
{
    /// <summary>Wrap around (both sides of the axis).</summary>
    public const int Periodic = 0;

    /// <summary>Zero value outside (Dirichlet); a closed wall for velocity.</summary>
    public const int Zero = 1;

    /// <summary>Zero normal gradient (Neumann); an open boundary for velocity.</summary>
    public const int ZeroGradient = 2;

    /// <summary>Whether <paramref name="code"/> is one of the known codes.</summary>
    public static bool IsValid(int code) => code is Periodic or Zero or ZeroGradient;

    /// <summary>
    /// The array index that node index <paramref name="i"/> of an axis with <paramref name="n"/> nodes
    /// reads: i itself inside, wrapped by <paramref name="period"/> on a periodic side, the nearest node on
    /// a zero-gradient side, and 0 on a zero side (where <see cref="Keep"/> is 0).
    /// </summary>
    /// <remarks>
    /// An integer helper, so differentiable kernels call it without a derivative and stay branch-free
    /// (a smaller pullback, which the JIT can inline into a per-cell reverse loop).
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int Resolve(int i, int n, int period, int lo, int hi)
    {
        if (i < 0) return lo == Periodic ? ((i % period) + period) % period : 0;
        if (i > n - 1) return hi == Periodic ? i % period : hi == ZeroGradient ? n - 1 : 0;
        return i;
    }

    /// <summary>1 when node index <paramref name="i"/> reads a value (inside, or a periodic or zero-gradient side), 0 on a zero side.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int Keep(int i, int n, int lo, int hi) =>
        i < 0 && lo == Zero || i > n - 1 && hi == Zero ? 0 : 1;

    /// <summary>
    /// The code of a scalar (smoke, a dye) carried by a velocity with side code <paramref name="velocityCode"/>:
    /// periodic stays periodic; a wall or an open side is zero gradient for the scalar.
    /// </summary>
    public static int ScalarOf(int velocityCode) => velocityCode == Periodic ? Periodic : ZeroGradient;

    /// <summary>
    /// The cell below face <paramref name="i"/> of an axis with <paramref name="n"/> cells (faces 0..n): i - 1
    /// inside, the last cell across a periodic seam, the first cell at a non-periodic low side (whose weight
    /// <see cref="FaceWeightLower"/> is then 0).
    /// </summary>
    public static int FaceLower(int i, int n, int lo) => i > 0 ? i - 1 : (lo == Periodic ? n - 1 : 0);

    /// <summary>The cell above face <paramref name="i"/>: i inside, the first cell across a periodic seam, the last cell at a non-periodic high side.</summary>
    public static int FaceUpper(int i, int n, int hi) => i < n ? i : (hi == Periodic ? 0 : n - 1);

    /// <summary>
    /// The weight of the lower cell's pressure in the gradient at face <paramref name="i"/>,
    /// <c>(wU p[upper] - wL p[lower]) / dx</c>: 1 inside and across a periodic seam, 2 at an open high side
    /// (p = 0 on the face, half a cell away), 0 at a wall or an open low side (where the lower cell is outside).
    /// </summary>
    public static int FaceWeightLower(int i, int n, int lo, int hi) =>
        i > 0 && i < n ? 1 : i == 0 ? (lo == Periodic ? 1 : 0) : (hi == Periodic ? 1 : hi == ZeroGradient ? 2 : 0);

    /// <summary>The weight of the upper cell's pressure in the face gradient (see <see cref="FaceWeightLower"/>).</summary>
    public static int FaceWeightUpper(int i, int n, int lo, int hi) =>
        i > 0 && i < n ? 1 : i == 0 ? (lo == Periodic ? 1 : lo == ZeroGradient ? 2 : 0) : (hi == Periodic ? 1 : 0);
}
