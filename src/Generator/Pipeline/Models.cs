using DiffGen.Generator.Analysis;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Pipeline
{
    /// <summary>A callee whose derivative only the compilation's [DerivativeOf] registry can supply, and the DG0101 (on the call) if it does not.</summary>
    internal sealed record PendingCallee(string Key, DiagnosticInfo Missing);

    /// <summary>
    /// One array passed to two array parameters of a callee (<c>Scale(x, s, x)</c>), and the DG0107 (on the call)
    /// if the callee writes either: only the capability table knows how the callee uses them.
    /// </summary>
    internal sealed record PendingAlias(string CalleeSignature, int First, int Second, DiagnosticInfo Aliased);

    /// <summary>
    /// The located half of a lowered method: lowering's diagnostics, the callees only the registry can
    /// resolve, and where notes about requested modes (the attribute) and internal errors (the method's
    /// name) go. The only pipeline value that holds source positions; it feeds the diagnostics output
    /// alone, so a blank line above a method re-reports (usually nothing) and re-renders nothing.
    /// </summary>
    internal sealed record MethodDiagnostics(
        string HintName,
        string Signature,
        string Name,
        EquatableArray<DiagnosticInfo> Lowering,
        EquatableArray<PendingCallee> Unresolved,
        LocationInfo Attribute,
        LocationInfo Identifier,
        EquatableArray<PendingAlias> Aliases)
    {
        public bool HasErrors
        {
            get
            {
                foreach (var d in Lowering)
                    if (d.IsError) return true;
                return false;
            }
        }
    }

    /// <summary>What lowering produces for one [Differentiable] method: the model to render, its summary for the capability table, and its diagnostics.</summary>
    internal sealed record LoweredMethod(MethodModel Model, MethodSummary Summary, MethodDiagnostics Diagnostics, Lowering.ShadowModel? Shadow = null);

    /// <summary>
    /// One method ready to render: its model, its callees with their derivatives resolved against the
    /// registry and their capabilities taken from the table (its direct callees' entries only, so an
    /// edit elsewhere that changes no capability it sees leaves this equal), and the modes it emits.
    /// Failure is set when preparing it failed (reported as an internal error, nothing rendered).
    /// </summary>
    internal sealed record RenderInput(MethodModel Model, EquatableArray<Callee> Callees, DerivativeModes Modes, string? Failure = null);

    /// <summary>The generated file of one method, or why rendering failed (reported on the method by the diagnostics output).</summary>
    internal sealed record RenderedMethod(string HintName, string? Source, string? Failure);

    /// <summary>A method whose rendering failed, and the exception's description.</summary>
    internal sealed record RenderFailure(string HintName, string Message);

    /// <summary>
    /// The project's default modes (MSBuild property DiffGenDerivativeModes); when the property is not
    /// valid, its value and the first word that is not a mode (the default is then Reverse).
    /// </summary>
    internal sealed record ProjectModes(DerivativeModes Modes, string? InvalidValue, string? InvalidWord);
}
