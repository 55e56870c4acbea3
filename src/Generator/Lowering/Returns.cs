using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Results that are not numbers: structs and value tuples (a container, Aggregates.cs and Tuples.cs), and
    /// arrays (<c>T[]</c>, <c>T[,]</c>, <c>T[][]</c> of float/double). An array result is an output array
    /// like a written span parameter, whose adjoint is the pullback's <c>resultBar</c>:
    /// <list type="bullet">
    /// <item>when every <c>return</c> returns the same local, created in the method (<c>new T[n]</c>, or the
    /// result of a [Differentiable] call), that local is the result variable: no copy;</item>
    /// <item>otherwise (a parameter, a field, different locals, a call in the return statement) each return
    /// copies the returned array into a fresh result array (flat and rectangular two-dimensional arrays),
    /// so the derivative sees a new array whose contents are the returned ones: a returned input array gets
    /// the result's adjoint added to its own.</item>
    /// </list>
    /// A call of a method returning an array writes a fresh array variable (its shape comes from the callee).
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>The local every return statement returns, when the method returns an array held in one local.</summary>
        private ILocalSymbol? _resultLocal;

        /// <summary>The array parameter every return statement returns, if any: the derivatives return it as the method does.</summary>
        private string? _resultAlias;

        /// <summary>Where the method's return type is written (diagnostics about the result go there).</summary>
        private Location? _returnTypeLocation;

        /// <summary>Calls of methods returning arrays (by call statement id), for the placement check.</summary>
        private readonly Dictionary<int, Location> _arrayCallSites = new Dictionary<int, Location>();

        /// <summary>An array type a method may return: <c>T[]</c>, <c>T[,]</c>, <c>T[,,]</c> or <c>T[][]</c> of float or double.</summary>
        internal static bool IsDifferentiableArrayResult(ITypeSymbol type, out Ty elem, out int rank, out bool jagged) =>
            TryMapArray(type, out elem, out rank, out jagged) && (elem == Ty.Double || elem == Ty.Float);

        /// <summary>The result of a method that does not return a number: a struct or tuple container, an array, or DG0004.</summary>
        private void DeclareResult(BaseMethodDeclarationSyntax syntax)
        {
            var type = _method.ReturnType;
            _returnTypeLocation = ((syntax as MethodDeclarationSyntax)?.ReturnType ?? (SyntaxNode)syntax).GetLocation();
            if (IsDifferentiableStruct(type))
            {
                _result = AddStructContainer("_result", type, VarRole.Result, -1, false, null);
                return;
            }
            if (IsDifferentiableArrayResult(type, out var elem, out int rank, out bool jagged))
            {
                _resultLocal = ReturnedLocal(syntax);
                // Not one local: each return copies into this array (created at the return).
                if (_resultLocal == null)
                {
                    _result = AddVar("_result", elem, Storage.Array, VarRole.Result, -1, false, null, null, rank, jagged);
                    _resultAlias = ReturnedParameter(syntax)?.Name;
                }
                return;
            }
            Report(Descriptors.UnsupportedReturn, _returnTypeLocation, TypeText(type));
        }

        /// <summary>
        /// The local that every return statement of the method returns, when it is created in the method by
        /// <c>new T[…]</c> or by a call; null otherwise (returns of a local function or lambda do not count).
        /// </summary>
        private ILocalSymbol? ReturnedLocal(BaseMethodDeclarationSyntax syntax)
        {
            if (syntax.Body == null) return null;
            ILocalSymbol? local = null;
            foreach (var rs in syntax.Body.DescendantNodes(n => !(n is LocalFunctionStatementSyntax || n is AnonymousFunctionExpressionSyntax)).OfType<ReturnStatementSyntax>())
            {
                if (!(rs.Expression is IdentifierNameSyntax id) || !(_model.GetSymbolInfo(id, _ct).Symbol is ILocalSymbol l)) return null;
                if (local != null && !SymbolEqualityComparer.Default.Equals(local, l)) return null;
                local = l;
            }
            if (local == null) return null;
            var init = (local.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_ct) as VariableDeclaratorSyntax)?.Initializer?.Value;
            return init is ArrayCreationExpressionSyntax || init is InvocationExpressionSyntax ? local : null;
        }

        /// <summary>The array parameter (not a span) that every return statement (or the expression body) returns, or null.</summary>
        private IParameterSymbol? ReturnedParameter(BaseMethodDeclarationSyntax syntax)
        {
            var returned = syntax.ExpressionBody != null ? new[] { syntax.ExpressionBody.Expression }
                : syntax.Body?.DescendantNodes(n => !(n is LocalFunctionStatementSyntax || n is AnonymousFunctionExpressionSyntax)).OfType<ReturnStatementSyntax>().Select(r => r.Expression).ToArray();
            if (returned == null || returned.Length == 0) return null;
            IParameterSymbol? parameter = null;
            foreach (var e in returned)
            {
                if (!(e is IdentifierNameSyntax id) || !(_model.GetSymbolInfo(id, _ct).Symbol is IParameterSymbol p) || !(p.Type is IArrayTypeSymbol) || p.RefKind != RefKind.None) return null;
                if (parameter != null && !SymbolEqualityComparer.Default.Equals(parameter, p)) return null;
                parameter = p;
            }
            return parameter;
        }

        /// <summary>
        /// After the body: the returned local becomes the result variable. DG0004 when it was not lowered as an
        /// array of the result's type (its declaration was reported already, or it is a row of a jagged array).
        /// </summary>
        private void FinishArrayResult()
        {
            if (_resultLocal == null) return;
            if (_symbolVars.TryGetValue(_resultLocal, out int id) && _vars[id].Storage == Storage.Array && !_vars[id].Aggregate
                && IsDifferentiableArrayResult(_method.ReturnType, out var elem, out int rank, out bool jagged)
                && _vars[id].Elem == elem && _vars[id].Rank == rank && _vars[id].Jagged == jagged)
            {
                _vars[id] = _vars[id] with { Role = VarRole.Result, NoDiff = false };
                _result = id;
                return;
            }
            if (!_diagnostics.Any(d => d.IsError))
                Report(Descriptors.UnsupportedReturn, _returnTypeLocation!, TypeText(_method.ReturnType));
        }

        /// <summary>
        /// A return statement of a method with a struct, tuple or array result (false for other methods and for
        /// the returns of an inlined local function): the result is assigned, then a plain return.
        /// </summary>
        private bool TryLowerResultReturn(ReturnStatementSyntax rs, List<Stmt> output)
        {
            if (rs.Expression == null || _inlining.Count > 0) return false;
            if (_resultLocal != null)
            {
                // The returned local is the result itself.
                output.Add(new Return(NextId(), null));
                return true;
            }
            if (_result < 0) return false;
            LowerResultValue(rs.Expression, output);
            output.Add(new Return(NextId(), null));
            return true;
        }

        /// <summary>Assigns a returned value to the result: a struct or tuple leaf by leaf, an array by a copy into a new result array.</summary>
        private void LowerResultValue(ExpressionSyntax expr, List<Stmt> output)
        {
            var result = _vars[_result];
            if (result.IsContainer)
            {
                var sv = LowerStruct(expr, output, ExprContext.Plain);
                if (sv != null) AssignStruct(new VarPlace(_result), sv, output);
                return;
            }
            var source = LowerExpr(expr, output, ExprContext.Plain);
            if (IsError(source)) return;
            if (!(source is VarRef r) || _vars[r.Var].Storage != Storage.Array || _vars[r.Var].Aggregate)
            {
                Unsupported(expr, "return an array variable: a local created in the method, a parameter, a field, or the result of a [Differentiable] call");
                return;
            }
            var s = _vars[r.Var];
            if (s.Jagged || s.Rank > 2)
            {
                Unsupported(expr, "a jagged or three-dimensional array is returned as one local created in the method and returned by every return statement ('var r = new "
                    + CsTypeName(s.Elem) + (s.Jagged ? "[n][]" : "[n, m, l]") + "; …; return r;')");
                return;
            }
            if (s.Elem != result.Elem || s.Rank != result.Rank)
            {
                Unsupported(expr, "the returned array's type differs from the method's");
                return;
            }
            // A copy: the derivative sees a new array whose contents are the returned one's at the return.
            var alloc = new Alloc(NextId(), _result, s.Rank == 1 ? (Expr)new LenRef(s.Id) : new Indices(new Expr[] { new LenRef(s.Id, 0), new LenRef(s.Id, 1) }.ToEquatableArray(), false));
            _allocLocations[alloc.Id] = expr.GetLocation();
            output.Add(alloc);
            if (s.Rank == 1)
            {
                output.Add(ElementLoop(s, k => new Assign(NextId(), new ElemRef(_result, k, result.Elem), new ElemRef(s.Id, k, s.Elem))));
                return;
            }
            int i = Temp("i", Ty.Int), j = Temp("j", Ty.Int);
            var ij = new Indices(new Expr[] { new VarRef(i, Ty.Int), new VarRef(j, Ty.Int) }.ToEquatableArray(), false);
            var copy = new Assign(NextId(), new ElemRef(_result, ij, result.Elem), new ElemRef(s.Id, ij, s.Elem));
            var inner = new ForLoop(NextId(), Empty(), j, new Lit("0", Ty.Int), new Binary(BinOp.Lt, new VarRef(j, Ty.Int), new LenRef(s.Id, 1), Ty.Bool), 1,
                new Block(NextId(), new Stmt[] { copy }.ToEquatableArray()));
            output.Add(new ForLoop(NextId(), Empty(), i, new Lit("0", Ty.Int), new Binary(BinOp.Lt, new VarRef(i, Ty.Int), new LenRef(s.Id, 0), Ty.Bool), 1,
                new Block(NextId(), new Stmt[] { inner }.ToEquatableArray())));
        }

        /// <summary>
        /// A local initialised by a call of a method returning an array (<c>var y = Softmax(x);</c>): the call's
        /// result variable, named after the local. False for other locals.
        /// </summary>
        private bool TryLowerArrayCallLocal(VariableDeclaratorSyntax v, ILocalSymbol symbol, List<Stmt> output)
        {
            if (!(v.Initializer?.Value is InvocationExpressionSyntax inv) || !IsDifferentiableArrayResult(symbol.Type, out _, out _, out _)) return false;
            if (!(_model.GetSymbolInfo(inv, _ct).Symbol is IMethodSymbol m) || !IsUserCallCandidate(m)
                || !SymbolEqualityComparer.Default.Equals(m.ReturnType, symbol.Type)) return false;
            int result = LowerUserCall(inv, m, output, ExprContext.Plain, discardResult: false);
            if (result < 0) return true;
            string name = FreshName(v.Identifier.ValueText);
            _names.Add(name);
            _vars[result] = _vars[result] with { Name = name, Role = VarRole.Local };
            _symbolVars[symbol] = result;
            return true;
        }

        /// <summary>
        /// After lowering: the returned local is created once, outside loops (the pullback's resultBar is one array;
        /// a copy made at a return runs once however deep in loops the return is),
        /// and a method returning an array is called outside loops (each call's result is a new array, whose
        /// adjoint the reverse sweep would need per iteration).
        /// </summary>
        private void CheckArrayResult(Stmt s, List<Loop> loops)
        {
            switch (s)
            {
                case Alloc al when al.Var == _result && _resultLocal != null && loops.Count > 0:
                    Report(Descriptors.UnsupportedLocal, _allocLocations.TryGetValue(al.Id, out var at) ? at : _returnTypeLocation!, _vars[al.Var].Name, ArrayTypeText(_vars[al.Var]),
                        " as the returned array inside a loop (create the array the method returns once, before its loops)");
                    break;
                case Call c when loops.Count > 0 && _arrayCallSites.TryGetValue(c.Id, out var site):
                    Report(Descriptors.CallPlacement, site, _callees[c.Callee].Name,
                        "inside a loop is not supported for a method returning an array (call it before the loop, or pass an output array to a method that fills it)");
                    break;
                case Loop l:
                    foreach (var c in Walk.Children(s)) CheckArrayResult(c, l.Init == c ? loops : loops.Concat(new[] { l }).ToList());
                    return;
            }
            foreach (var c in Walk.Children(s)) CheckArrayResult(c, loops);
        }
    }
}
