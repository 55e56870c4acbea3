namespace DiffGen.Generator.Ir
{
    /// <summary>
    /// The indices of an element of a multi-dimensional array (<c>a[i, j]</c>) or of a jagged one
    /// (<c>a[i][j]</c>, Jagged), outermost first: the Index of an <see cref="ElemRef"/> into such an
    /// array, and the Length of an <see cref="Alloc"/> of a rectangular one (<c>new T[n, m]</c>).
    /// Record equality makes two accesses of the same element compare equal, as one index does.
    /// </summary>
    internal sealed record Indices(EquatableArray<Expr> Items, bool Jagged) : Expr(Ty.Int);

    /// <summary>
    /// <c>Var[Row] = new T[Length]</c>: a row of a jagged local. Lowering admits it where each row is
    /// allocated once (outside loops, or in the counted loop over its row index), so it never
    /// overwrites a value the reverse sweep needs; the adjoint row is allocated beside it.
    /// </summary>
    internal sealed record RowAlloc(int Id, int Var, Expr Row, Expr Length) : Stmt(Id);
}
