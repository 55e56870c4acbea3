using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Keeping diagnostics to the point: one diagnostic on an unsupported parameter, not one more on
    /// every use of it in the body.
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>Parameters already reported as unsupported: expressions using them report nothing more.</summary>
        private readonly HashSet<ISymbol> _reportedParameters = new HashSet<ISymbol>(SymbolEqualityComparer.Default);

        /// <summary>
        /// The variable of a parameter that was reported (ref, out, params, an unsupported type): typed as
        /// its type maps (a <c>ref double[]</c> is still an array, so <c>a.Length</c> and <c>a[i]</c> lower
        /// as usual) and remembered, so that uses that do not lower are not reported again.
        /// </summary>
        private void AddReportedParameter(IParameterSymbol p)
        {
            _reportedParameters.Add(p);
            if (TryMapType(p.Type, out var elem, out var storage, out int rank, out bool jagged))
                AddVar(p.Name, elem, storage, VarRole.Param, p.Ordinal, true, p, null, rank, jagged);
            else
                AddVar(p.Name, Ty.Double, Storage.Scalar, VarRole.Param, p.Ordinal, true, p);
        }

        /// <summary>The modifier C# writes before a parameter of this kind (<c>ref </c>, <c>out </c>, <c>in </c>, or nothing).</summary>
        private static string RefKindText(RefKind kind) =>
            kind == RefKind.Ref ? "ref " : kind == RefKind.Out ? "out " : kind == RefKind.In ? "in " : "";

        private bool UsesReportedParameter(ExpressionSyntax syntax) =>
            _reportedParameters.Count > 0 && syntax.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>()
                .Any(id => _model.GetSymbolInfo(id, _ct).Symbol is IParameterSymbol p && _reportedParameters.Contains(p));
    }
}
