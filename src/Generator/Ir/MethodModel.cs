using System.Linq;

namespace DiffGen.Generator.Ir
{
    /// <summary>A containing type declaration, outermost first: keyword ("class", "struct", "record", "record struct") and name with type parameters.</summary>
    internal sealed record TypeDecl(string Keyword, string Name);

    /// <summary>
    /// Everything the emitters need about one [Differentiable] method, with no Roslyn objects and no
    /// source positions, so the incremental pipeline compares it by value and skips unchanged methods
    /// (a blank line above the method changes nothing here). Diagnostics and the locations they need
    /// travel separately (<see cref="Pipeline.MethodDiagnostics"/>). Signature is the method's key in
    /// the capability table; HasErrors says lowering reported an error (nothing is emitted).
    /// </summary>
    internal sealed record MethodModel(
        string HintName,
        string Signature,
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
        bool HasErrors,
        bool AggressiveInlining = false,
        EquatableArray<StmtText> SourceText = default,
        bool IsInstance = false,
        EquatableArray<string> Accessors = default,
        string? ReturnTypeName = null,
        bool DataParallel = false,
        bool Ilgpu = false,
        EquatableArray<FieldSwap> FinalSwaps = default,
        string? ResultAlias = null)
    {
        // ResultAlias: the array parameter every return statement returns (the method returns its input): the
        // derivatives return it too, where the derivative itself sees a copy of it in the result variable.

        /// <summary>Whether the method returns an array (its result variable is an array; ReturnType is Other).</summary>
        public bool ReturnsArray => ReturnType == Ty.Other && Vars.Any(v => v.Role == VarRole.Result && !v.IsContainer && v.Storage == Storage.Array);

        /// <summary>The attribute line that asks the JIT to inline a generated derivative, as the primal asks.</summary>
        public string? InliningAttribute => AggressiveInlining
            ? "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]"
            : null;
    }

    /// <summary>Two array fields of <c>this</c> (leaf variables) that the method swaps as its last statement (a double buffer).</summary>
    internal sealed record FieldSwap(int A, int B);

    /// <summary>
    /// The source statement an IR statement came from, whitespace-normalised (so a re-indented method
    /// stays cached): generated reverse code says which statement each adjoint block reverses.
    /// </summary>
    internal sealed record StmtText(int Id, string Text);

    /// <summary>A hand-written derivative registered with [DerivativeOf] somewhere in the compilation.</summary>
    internal sealed record RegisteredDerivative(string TargetKey, int Kind, string DerivativeType, string DerivativeName, int ParameterCount);
}
