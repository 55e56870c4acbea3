using System.Collections.Generic;
using System.Linq;
using System.Text;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Statements that cannot change an active value run in the forward sweep only and need no
    /// derivative: <c>throw</c>, and calls whose result is discarded and which can write nothing the
    /// method differentiates (argument guards, <c>Debug.Assert</c>, logging), even when they read active
    /// values (<c>Debug.Assert(r &lt;= 0.25)</c>). A call that may write an active array (it takes a span or
    /// an array that it could change) or that has ref/out arguments or a lambda is not one of them.
    /// </summary>
    internal sealed partial class Lowerer
    {
        private bool TryLowerForwardOnlyCall(InvocationExpressionSyntax inv, IMethodSymbol symbol, List<Stmt> output)
        {
            if (!IsForwardOnlyCall(inv, symbol)) return false;
            if (inv.Parent is ExpressionStatementSyntax statement) output.Add(ForwardOnlyStatement(statement, ""));
            else output.Add(ForwardOnlyStatement(inv, ";")); // an expression-bodied void method
            return true;
        }

        /// <summary>Whether a call statement (its result discarded) can change no active value.</summary>
        private bool IsForwardOnlyCall(InvocationExpressionSyntax inv, IMethodSymbol symbol)
        {
            if (HasDifferentiable(symbol) || FindDerivativeOnTypes(symbol, 0) != null) return false;
            if (!(_model.GetOperation(inv, _ct) is IInvocationOperation op)) return false;
            if (op.Instance != null)
            {
                // A method of an inactive value (a logger); not of this object or of an array the method differentiates.
                var receiver = op.Instance.Type;
                if (!(inv.Expression is MemberAccessExpressionSyntax ma) || receiver == null || !IsInactiveValue(ma.Expression, receiver)) return false;
            }
            foreach (var arg in op.Arguments)
            {
                if (arg.Parameter == null) return false;
                if (arg.Parameter.RefKind == RefKind.Ref || arg.Parameter.RefKind == RefKind.Out) return false;
                if (arg.Value.Descendants().Any(d => d is IAnonymousFunctionOperation || d is IDelegateCreationOperation)) return false;
                var value = arg.Value is IConversionOperation conv ? conv.Operand : arg.Value;
                if (value.Type != null && MayHoldActiveArray(value.Type) && !IsReadOnlyView(arg.Parameter.Type)) return false;
            }
            return true;
        }

        /// <summary>A span, memory or array of float/double: a callee given one as a writable view could change it.</summary>
        private static bool MayHoldActiveArray(ITypeSymbol type)
        {
            if (type is IArrayTypeSymbol arr)
                return arr.ElementType is IArrayTypeSymbol inner ? MayHoldActiveArray(inner) : TryMapScalar(arr.ElementType, out var t) && (t == Ty.Double || t == Ty.Float);
            return type is INamedTypeSymbol named && named.IsGenericType && named.TypeArguments.Length == 1
                && (named.Name == "Span" || named.Name == "Memory" || named.Name == "ArraySegment")
                && TryMapScalar(named.TypeArguments[0], out var e) && (e == Ty.Double || e == Ty.Float);
        }

        /// <summary>Parameter types through which a callee can read an array but not write it.</summary>
        private static bool IsReadOnlyView(ITypeSymbol type)
        {
            if (type.SpecialType == SpecialType.System_Object || type.SpecialType == SpecialType.System_Collections_IEnumerable) return true;
            if (!(type is INamedTypeSymbol named) || !named.IsGenericType) return false;
            switch (named.OriginalDefinition.ToDisplayString())
            {
                case "System.ReadOnlySpan<T>":
                case "System.ReadOnlyMemory<T>":
                case "System.Collections.Generic.IEnumerable<T>":
                case "System.Collections.Generic.IReadOnlyCollection<T>":
                case "System.Collections.Generic.IReadOnlyList<T>":
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>
        /// A statement run as written in the forward sweep, its variables renamed to the generated names
        /// (row aliases spelled out, constants and <c>nameof</c> folded), plus the same text for dual numbers.
        /// </summary>
        private ForwardOnly ForwardOnlyStatement(SyntaxNode statement, string suffix)
        {
            bool printable = true, dualSafe = true;
            var text = new StringBuilder();
            Render(statement, false, text, ref printable, ref dualSafe);
            var dual = new StringBuilder();
            Render(statement, true, dual, ref printable, ref dualSafe);
            if (!printable)
                Report(Descriptors.UnsupportedStatement, statement.GetLocation(), KindName(statement),
                    "it uses a local function or lambda as a value; call it in a statement of its own before");
            return new ForwardOnly(NextId(), text.ToString().Trim() + suffix, dualSafe ? dual.ToString().Trim() + suffix : null);
        }

        private void Render(SyntaxNodeOrToken n, bool dual, StringBuilder sb, ref bool printable, ref bool dualSafe)
        {
            if (n.IsToken)
            {
                sb.Append(n.AsToken().ToFullString());
                return;
            }
            var node = n.AsNode()!;
            var replacement = Replacement(node, dual, ref printable, ref dualSafe);
            bool wrap = dual && replacement == null && IsDualValue(node);
            if (replacement == null && !wrap)
            {
                foreach (var child in node.ChildNodesAndTokens()) Render(child, dual, sb, ref printable, ref dualSafe);
                return;
            }
            sb.Append(node.GetLeadingTrivia().ToFullString());
            if (replacement != null) sb.Append(replacement);
            else
            {
                // A double on dual numbers is a DiffGen.Dual: the statement sees its value.
                var inner = new StringBuilder();
                foreach (var child in node.ChildNodesAndTokens()) Render(child, dual, inner, ref printable, ref dualSafe);
                sb.Append("((double)").Append(inner.ToString().Trim()).Append(')');
            }
            sb.Append(node.GetTrailingTrivia().ToFullString());
        }

        private string? Replacement(SyntaxNode node, bool dual, ref bool printable, ref bool dualSafe)
        {
            if (node is InvocationExpressionSyntax nameOf && nameOf.Expression is IdentifierNameSyntax { Identifier.ValueText: "nameof" }
                && _model.GetConstantValue(nameOf, _ct) is { HasValue: true, Value: string name })
                return SymbolDisplay.FormatLiteral(name, quote: true);
            if (!(node is IdentifierNameSyntax id) || id.Parent is NameColonSyntax) return null;
            var symbol = _model.GetSymbolInfo(id, _ct).Symbol;
            if (symbol is IMethodSymbol { MethodKind: MethodKind.LocalFunction })
            {
                printable = false; // inlined where called: there is no such method in generated code
                return null;
            }
            if (symbol is ILocalSymbol constant && constant.IsConst)
            {
                if (TryFormatConstant(constant.ConstantValue, out var text, out _)) return text;
                return constant.ConstantValue is string s ? SymbolDisplay.FormatLiteral(s, quote: true) : null;
            }
            if (!(symbol is ILocalSymbol || symbol is IParameterSymbol)) return null;
            if (_rows.TryGetValue(symbol, out var alias))
                return "(" + _vars[alias.Var].Name + "[" + CsPrinter.Expr(new IrToCs(_vars).Convert(alias.Row)) + "])";
            if (!_symbolVars.TryGetValue(symbol, out int v))
            {
                printable = false; // a lambda or local function as a value: nothing of that name in generated code
                return null;
            }
            var var = _vars[v];
            if (dual && var.Elem == Ty.Double)
            {
                if (var.IsScalar) return "((double)" + var.Name + ")";
                // A double array passed on as a value would be a DiffGen.Dual array: only as an object (a null check).
                if (id.Parent is ArgumentSyntax && _model.GetTypeInfo(id, _ct).ConvertedType?.SpecialType != SpecialType.System_Object) dualSafe = false;
            }
            return var.Name;
        }

        /// <summary>An element of a double array (a DiffGen.Dual in the dual pullback).</summary>
        private bool IsDualValue(SyntaxNode node) =>
            node is ElementAccessExpressionSyntax ea && _model.GetTypeInfo(ea, _ct).Type?.SpecialType == SpecialType.System_Double
            && (ArrayVar(ea.Expression, out _) || RowAlias(ea.Expression, out _)
                || ea.Expression is ElementAccessExpressionSyntax inner && ArrayVar(inner.Expression, out _));
    }
}
