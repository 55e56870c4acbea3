using System.Collections.Generic;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// <c>List&lt;T&gt;</c> of numbers as parameters and fields: an array variable (<see cref="Var.IsList"/>)
    /// that is indexed (<c>xs[i]</c>, read and assigned), counted (<c>xs.Count</c>) and iterated
    /// (<c>foreach</c>). Nothing may change its count inside a differentiated method (Add, Remove and
    /// the rest are not lowered), so generated code reaches its contents as one span.
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>Whether a type is <c>System.Collections.Generic.List&lt;T&gt;</c> of float, double, int or long.</summary>
        internal static bool TryMapList(ITypeSymbol? type, out Ty elem)
        {
            elem = Ty.Void;
            return type is INamedTypeSymbol named && IsGenericList(named) && TryMapScalar(named.TypeArguments[0], out elem) && elem != Ty.Bool;
        }

        private static bool IsGenericList(INamedTypeSymbol named) =>
            named.IsGenericType && named.Name == "List" && named.TypeArguments.Length == 1
            && named.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic";

        /// <summary>The declared type of a parameter, local or field symbol (null for other symbols).</summary>
        private static ITypeSymbol? DeclaredType(ISymbol? symbol) => symbol switch
        {
            IParameterSymbol p => p.Type,
            ILocalSymbol l => l.Type,
            IFieldSymbol f => f.Type,
            IPropertySymbol pr => pr.Type,
            _ => null,
        };

        /// <summary><c>xs.Count</c> of a list variable (a parameter or a field of this): its length.</summary>
        private bool TryLowerListCount(MemberAccessExpressionSyntax ma, ISymbol? symbol, List<Stmt> pre, ExprContext ctx, out Expr result)
        {
            result = Error();
            if (!(symbol is IPropertySymbol prop) || prop.Name != "Count" || prop.IsStatic || !(prop.ContainingType is INamedTypeSymbol owner) || !IsGenericList(owner))
                return false;
            if (!(ResolvePlace(ma.Expression, pre, ctx) is VarPlace lp) || !_vars[lp.Var].IsList) return false;
            result = new LenRef(lp.Var);
            return true;
        }
    }
}
