namespace DiffGen.Generator.Ir
{
    /// <summary>
    /// The body of a local function or lambda inlined at a call site: its parameters are fresh locals
    /// assigned before it, and a <see cref="Return"/> inside it (outside nested Inlined bodies) ends this
    /// body, assigning ResultVar (-1 for void). The structurizer turns it into a plain block, so no later
    /// stage sees it.
    /// </summary>
    internal sealed record Inlined(int Id, Block Body, int ResultVar) : Stmt(Id);
}
