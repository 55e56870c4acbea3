using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Pipeline;
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
        /// <summary>Parameters and locals already reported as unsupported: expressions using them report nothing more.</summary>
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

        /// <summary>Why a call cannot be differentiated, by the kind of method it calls.</summary>
        private static string UnsupportedCallHint(IMethodSymbol symbol)
        {
            var original = symbol.ReducedFrom ?? symbol;
            string owner = original.ContainingType?.Name ?? "?";
            if (original.ContainingNamespace?.ToDisplayString() == "System.Linq")
                return "LINQ ('" + owner + "." + symbol.Name + "') has no derivative here: write the loop" + (symbol.Name == "Count" || symbol.Name == "LongCount" ? " (for the number of elements of an array or span, use .Length)" : "");
            if (symbol.MethodKind == MethodKind.DelegateInvoke)
                return "a delegate is called: only a lambda held in a local and only called ('Func<double, double> f = x => …; f(a)') or a local function can be";
            if (symbol.ReducedFrom != null)
                return "'" + owner + "." + symbol.Name + "' is an extension method without a derivative: call it as a static method, marked [Differentiable] or with a registered derivative";
            if (!symbol.IsStatic)
                return "'" + symbol.Name + "' is a method of '" + (symbol.ContainingType != null ? TypeText(symbol.ContainingType) : "?")
                    + "', whose values carry derivatives: mark it [Differentiable], or pass the data it needs to a static method that is";
            return "'" + owner + "." + symbol.Name + "' cannot be differentiated here: call static methods marked [Differentiable] or with a registered derivative";
        }

        /// <summary>What a foreach the generator cannot lower is missing, named by the collection's type.</summary>
        private string ForEachHint(ForEachStatementSyntax fe)
        {
            var type = _model.GetTypeInfo(fe.Expression, _ct).Type;
            ITypeSymbol? element = type is IArrayTypeSymbol arr ? arr.ElementType
                : type is INamedTypeSymbol named && named.IsGenericType && named.TypeArguments.Length == 1 && (named.Name == "Span" || named.Name == "ReadOnlySpan") ? named.TypeArguments[0] : null;
            string what = type == null ? "this collection" : "'" + TypeText(type) + "'";
            if (element != null && !TryMapScalar(element, out _))
                return "foreach over " + what + " needs elements of type '" + TypeText(element) + "' as loop values, which is not supported here; loop with 'for (int i = 0; i < "
                    + fe.Expression + ".Length; i++)' and index the array";
            if (element != null)
                return "foreach over " + what + " is supported when it is a parameter or local variable; assign the collection to a local first";
            return "foreach over " + what + " is not supported: iterate over a span or array with a for or foreach loop (LINQ and other collections have no derivative here)";
        }

        /// <summary>The modifier C# writes before a parameter of this kind (<c>ref </c>, <c>out </c>, <c>in </c>, or nothing).</summary>
        private static string RefKindText(RefKind kind) =>
            kind == RefKind.Ref ? "ref " : kind == RefKind.Out ? "out " : kind == RefKind.In ? "in " : "";

        /// <summary>
        /// One array variable passed to two span or array parameters of a callee (<c>Scale(x, s, x)</c>): DG0107
        /// if the callee writes one of them (its derivative assumes they do not overlap), decided against the
        /// capability table when diagnostics are assembled. The generated pullbacks also check this at run
        /// time, for arrays that arrive aliased from outside.
        /// </summary>
        private void NoteAliasedArguments(SyntaxNode inv, IMethodSymbol symbol, Callee callee, List<Expr> args, List<ExpressionSyntax> argExprs)
        {
            for (int i = 0; i < args.Count; i++)
            {
                for (int j = i + 1; j < args.Count; j++)
                {
                    var pi = callee.Params[i];
                    var pj = callee.Params[j];
                    if (pi.Storage == Storage.Scalar || pj.Storage == Storage.Scalar || !(pi.Writes || pj.Writes)) continue;
                    if (!(args[i] is VarRef a) || !(args[j] is VarRef b) || a.Var != b.Var) continue;
                    _aliasedCalls.Add(new PendingAlias(callee.Signature, i, j, DiagnosticInfo.Create(Descriptors.AliasedArguments, inv.GetLocation(),
                        argExprs[i].ToString(), pi.Name, pj.Name, symbol.Name, pj.Writes ? pj.Name : pi.Name)));
                }
            }
        }

        private bool UsesReportedParameter(ExpressionSyntax syntax) =>
            _reportedParameters.Count > 0 && syntax.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>()
                .Any(id => _model.GetSymbolInfo(id, _ct).Symbol is ISymbol p && (p is IParameterSymbol || p is ILocalSymbol) && _reportedParameters.Contains(p));
    }
}
