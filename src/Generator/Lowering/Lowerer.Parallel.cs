using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    // Parallel loops: Parallel.For(from, to[, options], i => { … }) becomes a counted loop marked Parallel
    // (its lambda parameter is the counter, its body the loop body, a return in it a continue), and the
    // outermost counted loops of a [DataParallel] method are marked when their iterations are independent.
    internal sealed partial class Lowerer
    {
        public const string DataParallelAttributeName = "DiffGen.DataParallelAttribute";

        /// <summary>The Parallel.For lambdas being lowered (innermost last): a return in them ends one iteration.</summary>
        private readonly List<SyntaxNode> _parallelLambdas = new List<SyntaxNode>();

        private bool TryLowerParallelFor(InvocationExpressionSyntax inv, List<Stmt> output)
        {
            if (!(_model.GetSymbolInfo(inv, _ct).Symbol is IMethodSymbol symbol) || symbol.Name != "For"
                || symbol.ContainingType?.ToDisplayString() != "System.Threading.Tasks.Parallel")
                return false;
            var args = inv.ArgumentList.Arguments;
            var ps = symbol.Parameters;
            bool shape = (ps.Length == 3 || ps.Length == 4 && ps[2].Type.ToDisplayString() == "System.Threading.Tasks.ParallelOptions")
                && ps[0].Type.SpecialType == SpecialType.System_Int32 && ps[1].Type.SpecialType == SpecialType.System_Int32
                && ps[ps.Length - 1].Type is INamedTypeSymbol body && body.ToDisplayString() == "System.Action<int>"
                && args.Count == ps.Length && args.All(a => a.NameColon == null);
            if (!shape)
            {
                Report(Descriptors.UnsupportedStatement, inv.GetLocation(), "Parallel.For overload",
                    "write Parallel.For(from, to, i => { … }) or Parallel.For(from, to, options, i => { … }) with int bounds; the ParallelLoopState, thread-local and long overloads are not supported");
                return true;
            }
            var lambdaSyntax = args[args.Count - 1].Expression;
            ParameterSyntax? parameter = lambdaSyntax switch
            {
                SimpleLambdaExpressionSyntax s => s.Parameter,
                ParenthesizedLambdaExpressionSyntax p when p.ParameterList.Parameters.Count == 1 => p.ParameterList.Parameters[0],
                AnonymousMethodExpressionSyntax am when am.ParameterList?.Parameters.Count == 1 => am.ParameterList.Parameters[0],
                _ => null,
            };
            if (parameter == null || !(_model.GetDeclaredSymbol(parameter, _ct) is IParameterSymbol counterSymbol))
            {
                Report(Descriptors.UnsupportedStatement, lambdaSyntax.GetLocation(), "Parallel.For body",
                    "pass the loop body as a lambda with one int parameter (i => { … }); method groups and delegates are not supported");
                return true;
            }

            // Parallel.For evaluates its bounds once: a bound that is not a plain value goes to a temporary first.
            var from = Once(LowerExpr(args[0].Expression, output, ExprContext.Plain), "from", output);
            var to = Once(LowerExpr(args[1].Expression, output, ExprContext.Plain), "to", output);
            Expr? threads = ps.Length == 4 ? LowerParallelOptions(args[2].Expression, output) : null;

            int counter = AddVar(counterSymbol.Name, Ty.Int, Storage.Scalar, VarRole.Local, -1, true, counterSymbol);
            _parallelLambdas.Add(lambdaSyntax);
            Block loopBody;
            try
            {
                var block = (lambdaSyntax as AnonymousFunctionExpressionSyntax)?.Block;
                var expression = (lambdaSyntax as LambdaExpressionSyntax)?.ExpressionBody;
                if (block != null) loopBody = LowerBlock(block);
                else
                {
                    var stmts = new List<Stmt>();
                    if (expression != null) LowerExpressionStatement(expression, stmts);
                    loopBody = new Block(NextId(), stmts.ToEquatableArray());
                }
            }
            finally
            {
                _parallelLambdas.RemoveAt(_parallelLambdas.Count - 1);
            }
            var condition = new Binary(BinOp.Lt, new VarRef(counter, Ty.Int), to, Ty.Bool);
            var loop = new ForLoop(NextId(), Empty(), counter, from, condition, 1, loopBody, Parallel: true, Threads: threads);
            // A loop nested in a parallel loop runs inside one of its chunks: checked like any other (a data race
            // there is still a data race), run serially by generated code.
            string? conflict = ParallelLoops.Conflict(loop, _vars, _callees);
            if (conflict != null && !IsError(from) && !IsError(to))
                Report(Descriptors.ParallelConflict, inv.GetLocation(), conflict);
            output.Add(loop);
            return true;
        }

        private Expr Once(Expr e, string hint, List<Stmt> output)
        {
            if (e is Lit || e is VarRef || e is LenRef || IsError(e)) return e;
            int t = Temp(hint, e.Type);
            output.Add(new Assign(NextId(), new VarRef(t, e.Type), e, Declares: true));
            return new VarRef(t, e.Type);
        }

        /// <summary>
        /// The thread cap of a ParallelOptions argument: <c>new ParallelOptions { MaxDegreeOfParallelism = n }</c>
        /// gives n, an options variable its property; other settings (a cancellation token, a scheduler) apply to
        /// the primal only.
        /// </summary>
        private Expr? LowerParallelOptions(ExpressionSyntax options, List<Stmt> output)
        {
            if (options is BaseObjectCreationExpressionSyntax creation)
            {
                if (creation.ArgumentList != null && creation.ArgumentList.Arguments.Count > 0)
                {
                    Unsupported(options, "create the ParallelOptions with an object initializer or pass a variable");
                    return null;
                }
                foreach (var init in creation.Initializer?.Expressions ?? default)
                {
                    if (init is AssignmentExpressionSyntax asg && asg.Left is IdentifierNameSyntax id && id.Identifier.ValueText == "MaxDegreeOfParallelism")
                        return LowerExpr(asg.Right, output, ExprContext.Plain);
                }
                return null;
            }
            var value = LowerExpr(options, output, ExprContext.Plain);
            if (IsError(value)) return null;
            if (value.Type != Ty.Other)
            {
                Unsupported(options, "pass a ParallelOptions variable or 'new ParallelOptions { … }'");
                return null;
            }
            return new Opaque("MaxDegreeOfParallelism", false, EquatableArray<Expr>.Empty, Ty.Int, value);
        }

        /// <summary>A return in a Parallel.For lambda ends the iteration: a continue of the loop it became.</summary>
        private bool TryLowerLambdaReturn(ReturnStatementSyntax rs, List<Stmt> output)
        {
            if (_parallelLambdas.Count == 0) return false;
            var lambda = _parallelLambdas[_parallelLambdas.Count - 1];
            for (var n = rs.Parent; n != null && n != lambda; n = n.Parent)
            {
                if (n is ForStatementSyntax || n is WhileStatementSyntax || n is DoStatementSyntax || n is ForEachStatementSyntax)
                {
                    Report(Descriptors.UnsupportedStatement, rs.GetLocation(), "return statement",
                        "a return inside a loop inside a Parallel.For body is not supported; leave the inner loop with break and return after it");
                    return true;
                }
            }
            output.Add(new Continue(NextId()));
            return true;
        }

        /// <summary>
        /// In a [DataParallel] method, marks the outermost counted loops whose iterations are independent as
        /// parallel, and says why the others stay serial (DG0303).
        /// </summary>
        internal static bool IsDataParallel(IMethodSymbol m) => m.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == DataParallelAttributeName);

        private Block MarkDataParallel(Block body)
        {
            if (!IsDataParallel(_method)) return body;
            if (_diagnostics.Any(d => Descriptors.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error)) return body;
            return (Block)MarkOutermost(body);
        }

        private Stmt MarkOutermost(Stmt s)
        {
            switch (s)
            {
                case Block b:
                    return b with { Stmts = b.Stmts.Select(MarkOutermost).ToEquatableArray() };
                case If i:
                    return i with { Then = (Block)MarkOutermost(i.Then), Else = (Block)MarkOutermost(i.Else) };
                case ForLoop f when !f.Parallel:
                    {
                        string? why = ParallelLoops.Conflict(f, _vars, _callees);
                        if (why == null) return f with { Parallel = true };
                        string text = _sourceText.TryGetValue(f.Id, out var t) ? t : "for";
                        Report(Descriptors.SerialLoop, _method.Locations.FirstOrDefault() ?? Location.None, _method.Name, text, why);
                        return f;
                    }
                case WhileLoop w:
                    {
                        string text = _sourceText.TryGetValue(w.Id, out var t) ? t : "while";
                        Report(Descriptors.SerialLoop, _method.Locations.FirstOrDefault() ?? Location.None, _method.Name, text,
                            "only counted loops (for (int i = a; i < b; i++)) run in parallel");
                        return w;
                    }
                default:
                    return s;
            }
        }
    }
}
