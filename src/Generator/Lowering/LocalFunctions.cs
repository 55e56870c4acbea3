using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Local functions and lambdas that do not escape the method are inlined at each call site: the
    /// arguments are evaluated into fresh locals (arrays are passed as the caller's array), the body is
    /// lowered again with fresh names for its locals, and a return ends the inlined body (see
    /// <see cref="Inlined"/>). Captured locals and parameters are the caller's own variables, read and
    /// written where the call runs, as a closure would. A recursive one is reported (it has no finite inlining).
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>Locals that hold a lambda (<c>Func&lt;double, double&gt; f = x => …;</c>), and the lambda.</summary>
        private readonly Dictionary<ISymbol, AnonymousFunctionExpressionSyntax> _lambdas = new Dictionary<ISymbol, AnonymousFunctionExpressionSyntax>(SymbolEqualityComparer.Default);

        /// <summary>The local functions and lambdas being inlined, innermost last (a repeat is recursion).</summary>
        private readonly List<SyntaxNode> _inlining = new List<SyntaxNode>();

        /// <summary>
        /// A local of a delegate type initialised with a lambda: remembered, not lowered. Every use must be a
        /// call (<c>f(x)</c>); passing it on or reassigning it would let it escape, which is reported.
        /// </summary>
        private bool TryDeclareLambda(VariableDeclaratorSyntax v, ILocalSymbol symbol)
        {
            if (symbol.Type.TypeKind != TypeKind.Delegate) return false;
            if (!(v.Initializer?.Value is AnonymousFunctionExpressionSyntax lambda))
            {
                Report(Descriptors.UnsupportedLocal, v.GetLocation(), v.Identifier.ValueText, TypeText(symbol.Type),
                    " (a delegate local is supported when it is initialised with a lambda and only called, 'Func<double, double> f = x => …; y = f(a);')");
                _reportedParameters.Add(symbol);
                return true;
            }
            var scope = v.Ancestors().OfType<BlockSyntax>().FirstOrDefault() ?? (SyntaxNode)v.Parent!;
            foreach (var id in scope.DescendantNodes().OfType<IdentifierNameSyntax>())
            {
                if (id.Identifier.ValueText != symbol.Name || !SymbolEqualityComparer.Default.Equals(_model.GetSymbolInfo(id, _ct).Symbol, symbol)) continue;
                if (id.Parent is InvocationExpressionSyntax call && call.Expression == id) continue;
                Report(Descriptors.UnsupportedExpression, id.GetLocation(), id.Identifier.ValueText,
                    "a lambda held in a local is supported when it is only called ('" + symbol.Name + "(…)'); passed on, stored or reassigned, it would escape the method");
                _reportedParameters.Add(symbol);
                return true;
            }
            _lambdas[symbol] = lambda;
            return true;
        }

        /// <summary>
        /// A call of a local function or of a local lambda, inlined. Returns false when the call is not one;
        /// otherwise <paramref name="result"/> is the value (a fresh local), or null for a void call.
        /// </summary>
        private bool TryInlineCall(InvocationExpressionSyntax inv, IMethodSymbol? symbol, List<Stmt> pre, ExprContext ctx, bool statement, out Expr? result)
        {
            result = null;
            SyntaxNode? decl = null;
            IMethodSymbol? target = null;
            if (symbol != null && symbol.MethodKind == MethodKind.LocalFunction)
            {
                decl = symbol.OriginalDefinition.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_ct) as LocalFunctionStatementSyntax;
                target = symbol;
            }
            else if (inv.Expression is IdentifierNameSyntax id && _model.GetSymbolInfo(id, _ct).Symbol is ILocalSymbol local && _lambdas.TryGetValue(local, out var lambda))
            {
                decl = lambda;
                target = _model.GetSymbolInfo(lambda, _ct).Symbol as IMethodSymbol;
            }
            if (decl == null || target == null) return false;

            string name = target.MethodKind == MethodKind.LocalFunction ? target.Name : ((IdentifierNameSyntax)inv.Expression).Identifier.ValueText;
            result = Error();
            if (_inlining.Contains(decl))
            {
                Report(Descriptors.UnsupportedStatement, inv.GetLocation(), "recursive call of '" + name + "'",
                    "local functions and lambdas are inlined where they are called, so they cannot call themselves; make it a static [Differentiable] method of the type");
                return true;
            }
            if (ctx == ExprContext.LoopCondition || ctx == ExprContext.ConditionalBranch)
            {
                Report(Descriptors.CallPlacement, inv.GetLocation(), name, ctx == ExprContext.LoopCondition
                    ? "inside a loop condition is not supported" : "inside a branch of ?: is not supported (both branches would be evaluated)");
                return true;
            }
            if (target.IsGenericMethod || target.IsAsync)
            {
                Unsupported(inv, "'" + name + "' is generic, async or an iterator; write it for double or float");
                return true;
            }
            var args = inv.ArgumentList.Arguments;
            if (args.Count != target.Parameters.Length || args.Any(a => a.NameColon != null || !a.RefKindKeyword.IsKind(SyntaxKind.None)))
            {
                Unsupported(inv, "pass every argument of '" + name + "', in order, by value and without names");
                return true;
            }
            Ty ret = Ty.Void;
            if (!target.ReturnsVoid && !TryMapScalar(target.ReturnType, out ret))
            {
                Unsupported(inv, "'" + name + "' returns '" + TypeText(target.ReturnType) + "': local functions and lambdas may return a number or a bool");
                return true;
            }
            if (target.ReturnsVoid && !statement)
            {
                Unsupported(inv, "'" + name + "' returns nothing");
                return true;
            }

            // The parameters: fresh locals holding the arguments; arrays and spans name the caller's array.
            var bindings = new List<(ISymbol Symbol, bool HadVar, int Var)>();
            for (int k = 0; k < args.Count; k++)
            {
                var p = target.Parameters[k];
                if (p.RefKind != RefKind.None)
                {
                    Unsupported(args[k].Expression, "parameters of local functions and lambdas are passed by value");
                    return true;
                }
                bindings.Add((p, _symbolVars.TryGetValue(p, out int old), old));
                if (TryMapType(p.Type, out var elem, out var storage, out int rank, out bool jagged) && storage != Storage.Scalar)
                {
                    var argSyntax = args[k].Expression;
                    if (RowAlias(argSyntax, out var row) && rank == 1) { _rows[p] = row; continue; }
                    if (ArrayVar(argSyntax, out int arr) && _vars[arr].Elem == elem && _vars[arr].Rank == rank && _vars[arr].Jagged == jagged)
                    {
                        _symbolVars[p] = arr;
                        continue;
                    }
                    Unsupported(argSyntax, "pass a span or array variable of the parameter's type directly");
                    return true;
                }
                var value = LowerExpr(args[k].Expression, pre, ctx);
                Ty ty = value.Type;
                string? typeName = null;
                if (storage == Storage.Scalar && TryMapScalar(p.Type, out var pty)) ty = pty;
                else if (IsInactiveType(p.Type)) { ty = Ty.Other; typeName = OtherTypeName(p.Type); }
                else
                {
                    Unsupported(args[k].Expression, "a parameter of type '" + TypeText(p.Type) + "' is not supported");
                    return true;
                }
                int v = AddVar(p.Name, ty, Storage.Scalar, VarRole.Local, -1, ty != Ty.Double && ty != Ty.Float, p, typeName);
                pre.Add(new Assign(NextId(), new VarRef(v, ty), Convert(value, ty, true), Declares: true));
            }

            int resultVar = ret == Ty.Void ? -1 : Temp(name.Length > 0 && char.IsLetter(name[0]) ? char.ToLowerInvariant(name[0]) + name.Substring(1) : "ret", ret);
            _inlining.Add(decl);
            Block body;
            var bodySyntax = decl is LocalFunctionStatementSyntax lf ? (SyntaxNode?)lf.Body ?? lf.ExpressionBody?.Expression
                : ((AnonymousFunctionExpressionSyntax)decl).Body;
            if (bodySyntax is BlockSyntax block)
            {
                body = LowerBlock(block);
            }
            else if (bodySyntax is ExpressionSyntax expr)
            {
                var stmts = new List<Stmt>();
                if (target.ReturnsVoid) LowerExpressionStatement(expr, stmts);
                else stmts.Add(new Return(NextId(), LowerExpr(expr, stmts, ExprContext.Plain)));
                body = new Block(NextId(), stmts.ToEquatableArray());
            }
            else
            {
                Unsupported(inv, "'" + name + "' has no body");
                body = Empty();
            }
            _inlining.RemoveAt(_inlining.Count - 1);
            foreach (var (s, had, old) in bindings)
            {
                _rows.Remove(s);
                if (had) _symbolVars[s] = old;
                else _symbolVars.Remove(s);
            }
            pre.Add(new Inlined(NextId(), body, resultVar));
            result = resultVar >= 0 ? new VarRef(resultVar, ret) : null;
            return true;
        }
    }
}
