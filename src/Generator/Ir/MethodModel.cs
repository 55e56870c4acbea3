using DiffGen.Generator.Diagnostics;

namespace DiffGen.Generator.Ir
{
    /// <summary>A containing type declaration, outermost first: keyword ("class", "struct", "record", "record struct") and name with type parameters.</summary>
    internal sealed record TypeDecl(string Keyword, string Name);

    /// <summary>
    /// Everything the emitter needs about one [Differentiable] method, with no Roslyn objects, so the
    /// incremental pipeline can compare it by value and skip unchanged methods.
    /// </summary>
    internal sealed record MethodModel(
        string HintName,
        string? Namespace,
        EquatableArray<TypeDecl> ContainingTypes,
        EquatableArray<string> Usings,
        string Accessibility,
        string Name,
        Ty ReturnType,
        EquatableArray<Var> Vars,
        int ParamCount,
        Block Body,
        EquatableArray<Callee> Callees,
        EquatableArray<DiagnosticInfo> Diagnostics,
        LocationInfo Location,
        bool AggressiveInlining = false,
        EquatableArray<StmtText> SourceText = default,
        bool IsInstance = false,
        EquatableArray<string> Accessors = default)
    {
        /// <summary>The attribute line that asks the JIT to inline a generated derivative, as the primal asks.</summary>
        public string? InliningAttribute => AggressiveInlining
            ? "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]"
            : null;

        public bool HasErrors
        {
            get
            {
                foreach (var d in Diagnostics)
                    if (Descriptors.ById(d.Id).DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error) return true;
                return false;
            }
        }
    }

    /// <summary>
    /// The source statement an IR statement came from, whitespace-normalised (so a re-indented method
    /// stays cached): generated reverse code says which statement each adjoint block reverses.
    /// </summary>
    internal sealed record StmtText(int Id, string Text);

    /// <summary>A hand-written derivative registered with [DerivativeOf] somewhere in the compilation.</summary>
    internal sealed record RegisteredDerivative(string TargetKey, int Kind, string DerivativeType, string DerivativeName, int ParameterCount);
}
