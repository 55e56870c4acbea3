using System.Collections.Generic;
using System.Linq;
using System.Text;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DiffGen.Generator.Lowering
{
    /// <summary>
    /// Multi-dimensional (<c>T[,]</c>, <c>T[,,]</c>) and jagged (<c>T[][]</c>) arrays: element access
    /// (<c>a[i, j]</c>, <c>a[i][j]</c>), <c>GetLength(d)</c>, row lengths, locals created with
    /// <c>new T[n, m]</c> or <c>new T[n][]</c> and rows allocated with <c>a[i] = new T[m]</c>, and rows
    /// named by a local or a foreach variable (<c>double[] row = a[i]</c>), which are aliases, not copies.
    /// </summary>
    internal sealed partial class Lowerer
    {
        /// <summary>Locals and foreach variables that name a row of a jagged array: the array and the row's index.</summary>
        private readonly Dictionary<ISymbol, (int Var, Expr Row)> _rows = new Dictionary<ISymbol, (int, Expr)>(SymbolEqualityComparer.Default);

        /// <summary>Where each array allocation came from, for the placement checks after lowering.</summary>
        private readonly Dictionary<int, Location> _allocLocations = new Dictionary<int, Location>();

        /// <summary>
        /// An array of a numeric element type: rank 1, 2, 3… (<c>T[]</c>, <c>T[,]</c>), or a jagged array
        /// of rows (<c>T[][]</c>, rank 2, jagged). Bool arrays and deeper nestings are not supported.
        /// </summary>
        internal static bool TryMapArray(ITypeSymbol type, out Ty elem, out int rank, out bool jagged)
        {
            elem = Ty.Void;
            rank = 1;
            jagged = false;
            if (!(type is IArrayTypeSymbol arr)) return false;
            if (arr.ElementType is IArrayTypeSymbol inner)
            {
                if (arr.Rank != 1 || inner.Rank != 1 || !TryMapScalar(inner.ElementType, out elem) || elem == Ty.Bool) return false;
                rank = 2;
                jagged = true;
                return true;
            }
            // A bool array is an inactive array (flags, masks): read and written like an int array.
            if (!TryMapScalar(arr.ElementType, out elem)) return false;
            rank = arr.Rank;
            return true;
        }

        /// <summary>A type as C# source spells it, for messages (<c>double[,]</c>, where Roslyn's display may give <c>double[*,*]</c>).</summary>
        internal static string TypeText(ITypeSymbol type)
        {
            if (!(type is IArrayTypeSymbol)) return type.ToDisplayString();
            // C# writes the outer array's rank first: double[][,] is an array of double[,].
            var suffix = new StringBuilder();
            ITypeSymbol t = type;
            while (t is IArrayTypeSymbol a)
            {
                suffix.Append('[').Append(',', a.Rank - 1).Append(']');
                t = a.ElementType;
            }
            return TypeText(t) + suffix;
        }

        /// <summary>The variable an expression names when it is a span or array parameter or local.</summary>
        private bool ArrayVar(ExpressionSyntax e, out int var)
        {
            var = -1;
            var symbol = _model.GetSymbolInfo(e, _ct).Symbol;
            if (symbol == null) return false;
            if (_symbolVars.TryGetValue(symbol, out var)) return _vars[var].Storage != Storage.Scalar && !_vars[var].IsContainer;
            // An array field of this (_temperature, this.F): its leaf.
            if (_this >= 0 && IsInstanceMemberOfThis(symbol) && (e is IdentifierNameSyntax || e is MemberAccessExpressionSyntax ma && ma.Expression is ThisExpressionSyntax)
                && ResolvePlace(e, new List<Stmt>(), ExprContext.Plain) is VarPlace vp && _vars[vp.Var].Storage == Storage.Array && !_vars[vp.Var].IsContainer)
            {
                var = vp.Var;
                return true;
            }
            var = -1;
            return false;
        }

        private bool RowAlias(ExpressionSyntax e, out (int Var, Expr Row) row)
        {
            row = default;
            return _model.GetSymbolInfo(e, _ct).Symbol is ISymbol s && _rows.TryGetValue(s, out row);
        }

        /// <summary>
        /// An index: an int or long expression, or <c>^k</c> (length - k) where the dimension's length is
        /// given; no ranges. Null after a diagnostic.
        /// </summary>
        private Expr? LowerIndex(ArgumentSyntax argument, List<Stmt> pre, ExprContext ctx, Expr? length = null)
        {
            var syntax = argument.Expression;
            if (argument.NameColon != null || !argument.RefKindKeyword.IsKind(SyntaxKind.None))
            {
                Unsupported(syntax, "indices are plain int expressions");
                return null;
            }
            if (syntax is PrefixUnaryExpressionSyntax hat && hat.IsKind(SyntaxKind.IndexExpression))
            {
                if (length == null)
                {
                    Unsupported(syntax, "'^' indices are supported on arrays and spans indexed directly; use u[u.Length - k]");
                    return null;
                }
                var fromEnd = LowerExpr(hat.Operand, pre, ctx == ExprContext.Target ? ExprContext.Plain : ctx);
                if (IsError(fromEnd)) return null;
                if (fromEnd.Type != Ty.Int)
                {
                    Unsupported(syntax, "indices must be int");
                    return null;
                }
                return new Binary(BinOp.Sub, length, fromEnd, Ty.Int);
            }
            if (syntax is RangeExpressionSyntax)
            {
                Unsupported(syntax, "ranges (slices) are not supported; index the elements in a loop");
                return null;
            }
            var index = LowerExpr(syntax, pre, ctx == ExprContext.Target ? ExprContext.Plain : ctx);
            if (IsError(index)) return null;
            if (index.Type != Ty.Int && index.Type != Ty.Long)
            {
                Unsupported(syntax, "indices must be int");
                return null;
            }
            return index;
        }

        /// <summary><c>u[i]</c>, <c>a[i, j]</c>, <c>a[i][j]</c>, or <c>row[j]</c> of a row alias.</summary>
        private Expr LowerElementAccess(ElementAccessExpressionSyntax ea, List<Stmt> pre, ExprContext ctx)
        {
            var args = ea.ArgumentList.Arguments;
            // a[i][j] of a jagged array
            if (ea.Expression is ElementAccessExpressionSyntax inner && ArrayVar(inner.Expression, out int jv) && _vars[jv].Jagged)
            {
                if (inner.ArgumentList.Arguments.Count != 1 || args.Count != 1)
                    return Unsupported(ea, "index a jagged array as a[i][j]");
                var row = LowerIndex(inner.ArgumentList.Arguments[0], pre, ctx);
                var col = LowerIndex(args[0], pre, ctx);
                if (row == null || col == null) return Error();
                return new ElemRef(jv, new Indices(new[] { row, col }.ToEquatableArray(), true), _vars[jv].Elem);
            }
            if (RowAlias(ea.Expression, out var alias))
            {
                if (args.Count != 1) return Unsupported(ea, "a row of a jagged array has one index");
                var col = LowerIndex(args[0], pre, ctx);
                if (col == null) return Error();
                return new ElemRef(alias.Var, new Indices(new[] { alias.Row, col }.ToEquatableArray(), true), _vars[alias.Var].Elem);
            }
            if (TryLowerStaticArrayElement(ea, pre, ctx, out var constant)) return constant;
            if (!ArrayVar(ea.Expression, out int arr))
            {
                // An array held by this or reached through a field (this.Weights[i], Bodies[i]).
                if (ResolvePlace(ea.Expression, pre, ctx) is VarPlace ap && !_vars[ap.Var].IsScalar && !_vars[ap.Var].IsContainer)
                    arr = ap.Var;
                else
                    return Unsupported(ea, "index a span or array parameter, local or field directly");
            }
            var v = _vars[arr];
            if (v.Jagged)
                return Unsupported(ea, "a row of a jagged array is read as " + ea.Expression + "[i][j] or " + ea + ".Length, named by a local ('var row = " + ea + ";'), or allocated with '" + ea + " = new " + CsTypeName(v.Elem) + "[n]'");
            int rank = v.Storage == Storage.Array ? v.Rank : 1;
            if (args.Count != rank)
                return Unsupported(ea, rank == 1 ? "only one index: this is a one-dimensional " + (v.Storage == Storage.Array ? "array" : "span")
                    : "this array has " + rank + " dimensions: index it with " + rank + " indices");
            var indices = new List<Expr>();
            for (int k = 0; k < args.Count; k++)
            {
                var index = LowerIndex(args[k], pre, ctx, rank == 1 ? new LenRef(arr) : new LenRef(arr, k));
                if (index == null) return Error();
                indices.Add(index);
            }
            return new ElemRef(arr, rank == 1 ? indices[0] : new Indices(indices.ToEquatableArray(), false), v.Elem);
        }

        private static string CsTypeName(Ty t) => t == Ty.Float ? "float" : t == Ty.Double ? "double" : t == Ty.Long ? "long" : "int";

        /// <summary><c>rows[i].Length</c> and <c>row.Length</c> of a row alias.</summary>
        private bool TryLowerArrayLength(MemberAccessExpressionSyntax ma, ISymbol? symbol, List<Stmt> pre, ExprContext ctx, out Expr result)
        {
            result = Error();
            if (!(symbol is IPropertySymbol prop) || prop.Name != "Length") return false;
            if (ma.Expression is ElementAccessExpressionSyntax ea && ArrayVar(ea.Expression, out int v) && _vars[v].Jagged)
            {
                if (ea.ArgumentList.Arguments.Count != 1) return false;
                var row = LowerIndex(ea.ArgumentList.Arguments[0], pre, ctx);
                if (row != null) result = new LenRef(v, -1, row);
                return true;
            }
            if (RowAlias(ma.Expression, out var alias))
            {
                result = new LenRef(alias.Var, -1, alias.Row);
                return true;
            }
            return false;
        }

        /// <summary><c>a.GetLength(d)</c> with a constant d (of an array, a row, or a row alias).</summary>
        private bool TryLowerGetLength(InvocationExpressionSyntax inv, IMethodSymbol symbol, List<Stmt> pre, ExprContext ctx, out Expr result)
        {
            result = Error();
            if (symbol.Name != "GetLength" || symbol.ContainingType?.ToDisplayString() != "System.Array" || !(inv.Expression is MemberAccessExpressionSyntax ma)
                || inv.ArgumentList.Arguments.Count != 1)
                return false;
            var dimSyntax = inv.ArgumentList.Arguments[0].Expression;
            var constant = _model.GetConstantValue(dimSyntax, _ct);
            int dim = constant.HasValue && constant.Value is int d ? d : -1;
            if (RowAlias(ma.Expression, out var alias))
            {
                result = dim == 0 ? new LenRef(alias.Var, -1, alias.Row) : Unsupported(dimSyntax, "a row has one dimension: GetLength(0)");
                return true;
            }
            if (ma.Expression is ElementAccessExpressionSyntax ea && ArrayVar(ea.Expression, out int jv) && _vars[jv].Jagged && ea.ArgumentList.Arguments.Count == 1)
            {
                if (dim != 0) { result = Unsupported(dimSyntax, "a row has one dimension: GetLength(0)"); return true; }
                var row = LowerIndex(ea.ArgumentList.Arguments[0], pre, ctx);
                if (row != null) result = new LenRef(jv, -1, row);
                return true;
            }
            if (!ArrayVar(ma.Expression, out int v)) return false;
            var var = _vars[v];
            int rank = var.Storage == Storage.Array && !var.Jagged ? var.Rank : 1;
            if (dim < 0 || dim >= rank)
            {
                result = Unsupported(dimSyntax, "GetLength takes a constant dimension from 0 to " + (rank - 1));
                return true;
            }
            result = rank == 1 ? new LenRef(v) : new LenRef(v, dim);
            return true;
        }

        /// <summary>
        /// A local of a multi-dimensional or jagged array type (<c>new T[n, m]</c>, <c>new T[n][]</c>), or
        /// a one-dimensional local that names a row of a jagged array (<c>double[] row = a[i]</c>, an alias).
        /// False for other locals (the flat array path handles <c>new T[n]</c>).
        /// </summary>
        private bool TryLowerArrayLocal(VariableDeclaratorSyntax v, ILocalSymbol symbol, List<Stmt> output)
        {
            if (!TryMapArray(symbol.Type, out var elem, out int rank, out bool jagged)) return false;
            var init = v.Initializer?.Value;
            if (rank == 1 && init is ElementAccessExpressionSyntax ea && ea.ArgumentList.Arguments.Count == 1 && ArrayVar(ea.Expression, out int src) && _vars[src].Jagged)
            {
                if (_vars[src].Elem != elem) return false;
                var row = LowerIndex(ea.ArgumentList.Arguments[0], output, ExprContext.Plain);
                if (row == null) return true;
                _rows[symbol] = (src, StableIndex(row, ea.ArgumentList.Arguments[0].Expression, output));
                return true;
            }
            if (rank == 1) return false;
            var sizes = init is ArrayCreationExpressionSyntax ac && ac.Initializer == null ? ac.Type.RankSpecifiers : default;
            bool shaped = sizes.Count == (jagged ? 2 : 1) && sizes[0].Sizes.Count == (jagged ? 1 : rank)
                && !sizes[0].Sizes.Any(s => s is OmittedArraySizeExpressionSyntax)
                && (!jagged || sizes[1].Sizes.All(s => s is OmittedArraySizeExpressionSyntax));
            if (!shaped)
            {
                Report(Descriptors.UnsupportedLocal, v.GetLocation(), v.Identifier.ValueText, TypeText(symbol.Type),
                    jagged ? " (create a jagged array with 'new " + CsTypeName(elem) + "[n][]' and each row with 'a[i] = new " + CsTypeName(elem) + "[m]')"
                        : " (create it with 'new " + CsTypeName(elem) + "[" + string.Join(", ", Enumerable.Repeat("n", rank)) + "]'; aliases of other arrays are not supported)");
                return true;
            }
            var dims = new List<Expr>();
            foreach (var size in sizes[0].Sizes) dims.Add(LowerExpr(size, output, ExprContext.Plain));
            bool real = elem == Ty.Double || elem == Ty.Float;
            int id = AddVar(v.Identifier.ValueText, elem, Storage.Array, VarRole.Local, -1, !real, symbol, null, rank, jagged);
            var alloc = new Alloc(NextId(), id, jagged ? dims[0] : new Indices(dims.ToEquatableArray(), false));
            _allocLocations[alloc.Id] = v.GetLocation();
            output.Add(alloc);
            return true;
        }

        /// <summary>
        /// The row index an alias keeps: the index itself when it cannot change while the alias is in scope
        /// (a constant, or the counter of an enclosing for loop whose body does not assign it), otherwise a
        /// copy taken where the alias is declared (C# evaluates <c>a[i]</c> once, there).
        /// </summary>
        private Expr StableIndex(Expr row, ExpressionSyntax syntax, List<Stmt> output)
        {
            if (row is Lit) return row;
            if (syntax is IdentifierNameSyntax id && _model.GetSymbolInfo(id, _ct).Symbol is ILocalSymbol local)
            {
                foreach (var fs in syntax.Ancestors().OfType<ForStatementSyntax>())
                {
                    if (fs.Declaration == null || !fs.Declaration.Variables.Any(d => SymbolEqualityComparer.Default.Equals(_model.GetDeclaredSymbol(d, _ct), local))) continue;
                    if (!AssignsInside(fs.Statement, local)) return row;
                }
            }
            int t = Temp("row", row.Type);
            output.Add(new Assign(NextId(), new VarRef(t, row.Type), row, Declares: true));
            return new VarRef(t, row.Type);
        }

        private bool AssignsInside(SyntaxNode scope, ILocalSymbol local)
        {
            foreach (var id in scope.DescendantNodes().OfType<IdentifierNameSyntax>())
            {
                if (id.Identifier.ValueText != local.Name || !SymbolEqualityComparer.Default.Equals(_model.GetSymbolInfo(id, _ct).Symbol, local)) continue;
                var parent = id.Parent;
                if (parent is AssignmentExpressionSyntax a && a.Left == id || parent is PostfixUnaryExpressionSyntax
                    || parent is PrefixUnaryExpressionSyntax pu && (pu.IsKind(SyntaxKind.PreIncrementExpression) || pu.IsKind(SyntaxKind.PreDecrementExpression))
                    || parent is ArgumentSyntax arg && !arg.RefKindKeyword.IsKind(SyntaxKind.None))
                    return true;
            }
            return false;
        }

        /// <summary><c>a[i] = new T[m]</c>: a row of a jagged local (where each row is allocated once, checked after lowering).</summary>
        private bool TryLowerRowAlloc(AssignmentExpressionSyntax assign, List<Stmt> output)
        {
            if (!(assign.Left is ElementAccessExpressionSyntax ea) || ea.ArgumentList.Arguments.Count != 1 || !ArrayVar(ea.Expression, out int v) || !_vars[v].Jagged)
                return false;
            var var = _vars[v];
            if (!assign.IsKind(SyntaxKind.SimpleAssignmentExpression) || !(assign.Right is ArrayCreationExpressionSyntax ac) || ac.Initializer != null
                || ac.Type.RankSpecifiers.Count != 1 || ac.Type.RankSpecifiers[0].Sizes.Count != 1 || ac.Type.RankSpecifiers[0].Sizes[0] is OmittedArraySizeExpressionSyntax)
            {
                Unsupported(assign, "a row of a jagged array is assigned only a new array, 'a[i] = new " + CsTypeName(var.Elem) + "[m]' (a row shared with another array would alias it)");
                return true;
            }
            if (var.Role == VarRole.Param)
            {
                Unsupported(assign, "the rows of a jagged parameter belong to the caller: write their elements instead of replacing them");
                return true;
            }
            var row = LowerIndex(ea.ArgumentList.Arguments[0], output, ExprContext.Plain);
            var length = LowerExpr(ac.Type.RankSpecifiers[0].Sizes[0], output, ExprContext.Plain);
            if (row == null) return true;
            var alloc = new RowAlloc(NextId(), v, row, length);
            _allocLocations[alloc.Id] = assign.GetLocation();
            output.Add(alloc);
            return true;
        }

        /// <summary><c>foreach (double[] row in rows)</c> over a jagged array: a counted loop with <c>row</c> an alias of <c>rows[k]</c>.</summary>
        private bool TryLowerForEachRow(ForEachStatementSyntax fe, List<Stmt> output)
        {
            var loopVar = _model.GetDeclaredSymbol(fe, _ct);
            if (loopVar == null) return false;
            if (RowAlias(fe.Expression, out var alias) && TryMapScalar(loopVar.Type, out var elemTy))
            {
                // foreach (var x in row) over a row alias: the elements a[r][k].
                int x = AddVar(fe.Identifier.ValueText, elemTy, Storage.Scalar, VarRole.Local, -1, elemTy != Ty.Double && elemTy != Ty.Float, loopVar);
                var rowVar = _vars[alias.Var];
                int k = Temp("k", Ty.Int);
                var kRef = new VarRef(k, Ty.Int);
                var element = new ElemRef(alias.Var, new Indices(new[] { alias.Row, (Expr)kRef }.ToEquatableArray(), true), rowVar.Elem);
                var stmts = new List<Stmt> { new Assign(NextId(), new VarRef(x, elemTy), Convert(element, elemTy, true), Declares: true) };
                stmts.AddRange(LowerEmbedded(fe.Statement).Stmts);
                output.Add(new ForLoop(NextId(), Empty(), k, new Lit("0", Ty.Int), new Binary(BinOp.Lt, kRef, new LenRef(alias.Var, -1, alias.Row), Ty.Bool), 1,
                    new Block(NextId(), stmts.ToEquatableArray())));
                return true;
            }
            if (!ArrayVar(fe.Expression, out int arr)) return false;
            var arrVar = _vars[arr];
            if (arrVar.Storage == Storage.Array && arrVar.Rank > 1 && !arrVar.Jagged)
            {
                // foreach over a T[,] visits the elements in row-major order: nested counted loops over each dimension.
                if (!TryMapScalar(loopVar.Type, out var ty))
                {
                    Report(Descriptors.UnsupportedStatement, fe.GetLocation(), "foreach statement", "the loop variable of a foreach over a multi-dimensional array is a number");
                    return true;
                }
                // A break would leave only the innermost of the nested loops.
                var brk = fe.Statement.DescendantNodesAndSelf(n => !(n is ForStatementSyntax || n is WhileStatementSyntax || n is DoStatementSyntax || n is ForEachStatementSyntax || n is SwitchStatementSyntax))
                    .OfType<BreakStatementSyntax>().FirstOrDefault();
                if (brk != null)
                {
                    Report(Descriptors.UnsupportedStatement, brk.GetLocation(), "break in a foreach over a multi-dimensional array",
                        "loop over a.GetLength(0), a.GetLength(1), … with for loops and leave them with flags, or compute the condition first");
                    return true;
                }
                int x = AddVar(fe.Identifier.ValueText, ty, Storage.Scalar, VarRole.Local, -1, ty != Ty.Double && ty != Ty.Float, loopVar);
                var counters = Enumerable.Range(0, arrVar.Rank).Select(_ => Temp("k", Ty.Int)).ToList();
                var element = new ElemRef(arr, new Indices(counters.Select(c => (Expr)new VarRef(c, Ty.Int)).ToEquatableArray(), false), arrVar.Elem);
                var stmts = new List<Stmt> { new Assign(NextId(), new VarRef(x, ty), Convert(element, ty, true), Declares: true) };
                stmts.AddRange(LowerEmbedded(fe.Statement).Stmts);
                Stmt loop = new Block(NextId(), stmts.ToEquatableArray());
                for (int d = arrVar.Rank - 1; d >= 0; d--)
                {
                    var k = new VarRef(counters[d], Ty.Int);
                    loop = new ForLoop(NextId(), Empty(), counters[d], new Lit("0", Ty.Int), new Binary(BinOp.Lt, k, new LenRef(arr, d), Ty.Bool), 1,
                        loop is Block b ? b : new Block(NextId(), new[] { loop }.ToEquatableArray()));
                }
                output.Add(loop);
                return true;
            }
            if (!arrVar.Jagged) return false;
            output.Add(ElementLoop(arrVar, k =>
            {
                _rows[loopVar] = (arr, k);
                return LowerEmbedded(fe.Statement);
            }));
            return true;
        }

        /// <summary>
        /// After lowering: multi-dimensional and jagged locals are created outside loops (one array per call,
        /// so the reverse sweep never needs an earlier instance), and each row of a jagged local is allocated
        /// once: outside loops, or in the counted loop over its own row index.
        /// </summary>
        private void CheckArrayAllocations(Stmt s, List<Loop> loops)
        {
            switch (s)
            {
                case Alloc al when _vars[al.Var].IsMultiDim && loops.Count > 0:
                    Report(Descriptors.UnsupportedLocal, _allocLocations[al.Id], _vars[al.Var].Name, ArrayTypeText(_vars[al.Var]),
                        " inside a loop (create multi-dimensional and jagged arrays before the loop and reuse them)");
                    break;
                case RowAlloc ra when !(loops.Count == 0 || loops.Count == 1 && loops[0] is ForLoop f && ra.Row is VarRef r && r.Var == f.Counter):
                    Report(Descriptors.UnsupportedExpression, _allocLocations[ra.Id], _vars[ra.Var].Name + "[…] = new " + CsTypeName(_vars[ra.Var].Elem) + "[…]",
                        "each row of a jagged local is allocated once: outside loops, or in a for loop over its row index (for (int i = 0; i < a.Length; i++) a[i] = new T[m];)");
                    break;
                case Loop l:
                    foreach (var c in Walk.Children(s)) CheckArrayAllocations(c, l.Init == c ? loops : loops.Concat(new[] { l }).ToList());
                    return;
            }
            foreach (var c in Walk.Children(s)) CheckArrayAllocations(c, loops);
        }

        private static string ArrayTypeText(Var v) =>
            CsTypeName(v.Elem) + (v.Jagged ? "[][]" : "[" + new string(',', v.Rank - 1) + "]");
    }
}
