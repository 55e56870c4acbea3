using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Reverse
{
    // Row loops of gather-form reverses (docs/generated-code.md, "Gather form").
    //
    // The core of a gather pass and the interior pass run one loop per row whose body reads and writes
    // elements at (invariant row offset) + counter. Spelled as written, every such access recomputes its
    // index (j * w + i per slice) and is bounds-checked. A row loop takes one span per distinct row offset
    // before the loop, sliced to the loop's length, and indexes them by a counter from 0: the offsets are
    // computed once per row and the JIT drops the bounds checks (the counter is below each span's length).
    internal sealed partial class ReverseTransformer
    {
        /// <summary>
        /// <c>for (counter = from; counter &lt; to; counter++) body</c> (descending when asked), with every
        /// unconditional element access at an index <c>counter + r</c> (r invariant in the loop) read through a
        /// span of the row taken before the loop. The plain loop when no access qualifies.
        /// </summary>
        private List<CsStmt> RowLoop(string counter, CsExpr from, CsExpr to, List<CsStmt> body, bool descending)
        {
            var plain = new List<CsStmt> { descending ? Descending(counter, from, to, body) : Ascending(counter, from, to, body) };
            var use = new NameUse();
            foreach (var s in body) use.Stmt(s);
            if (use.Raw) return plain;
            var rows = new RowSpans(this, counter, use, NameTypes());
            var env = new Dictionary<string, Lin?>(StringComparer.Ordinal);
            var rewritten = body.Select(s => rows.Stmt(s, env, false)).ToList();
            if (rows.Spans.Count == 0) return plain;
            rewritten = FlattenScopes(DropDeadLocals(rewritten));

            string n = rows.Length, t = rows.Index;
            var after = new NameUse();
            foreach (var s in rewritten) after.Stmt(s);
            var loopBody = new List<CsStmt>();
            if (after.Reads.Contains(counter)) loopBody.Add(new CsLocal(CsType.Int, counter, Simplifier.Simplify(Bin("+", from, N(t)))));
            loopBody.AddRange(rewritten);
            var inside = new List<CsStmt>();
            foreach (var (name, target, rest, type) in rows.Spans)
            {
                var start = RowSpans.IntValue(rest) is int k ? Simplifier.Simplify(Shift(from, k)) : Simplifier.Simplify(Bin("+", rest, from));
                CsExpr span = type.IsArray
                    ? new CsNew(CsType.SpanOf(type.Element!), new CsArg[] { N(target), start, N(n) }.ToEquatableArray())
                    : Call(Member(target, "Slice"), start, N(n));
                inside.Add(new CsLocal(CsType.Var, name, span));
            }
            inside.Add(descending
                ? new CsFor(new CsLocal(CsType.Int, t, Bin("-", N(n), CsLiteral.Int(1))), Bin(">=", N(t), CsLiteral.Int(0)), Do(new CsVerbatim(t + "--")), Block(loopBody))
                : new CsFor(new CsLocal(CsType.Int, t, CsLiteral.Int(0)), Bin("<", N(t), N(n)), Do(new CsVerbatim(t + "++")), Block(loopBody)));
            return new List<CsStmt>
            {
                new CsLocal(CsType.Int, n, Simplifier.Simplify(Bin("-", to, from))),
                new CsIf(Bin(">", N(n), CsLiteral.Int(0)), Block(inside), null),
            };
        }

        /// <summary>The inner loop of the gather-form nest whose forward sweep is being written, or -1.</summary>
        private int _rowsInner = -1;

        /// <summary>
        /// The forward sweep of a serial loop (nest) whose reverse takes the gather form: its innermost loop as a
        /// row loop. It records nothing (a gather plan requires that), so this is the loop as written, re-indexed.
        /// </summary>
        private bool TryForwardRows(ForLoop l, List<CsStmt> w)
        {
            if (_dual || l.Init.Stmts.Count > 0 || !(Range(l) is var (from, to))) return false;
            string counter = _vars[l.Counter].Name;
            var body = new List<CsStmt>();
            if (l.Id == _rowsInner)
            {
                Forward(l.Body, body);
                w.AddRange(RowLoop(counter, from, to, body, descending: l.Step < 0));
                return true;
            }
            if (_rowsInner >= 0 || _parallelDepth > 0 || _gatherDepth > 0) return false;
            var plan = Gather.Plan(l, _vars, _callees, _a);
            if (plan == null || plan.Inner != null && plan.Inner.Init.Stmts.Count > 0) return false;
            if (plan.Inner == null)
            {
                Forward(l.Body, body);
                w.AddRange(RowLoop(counter, from, to, body, descending: l.Step < 0));
                return true;
            }
            _rowsInner = plan.Inner.Id;
            try { Forward(l.Body, body); }
            finally { _rowsInner = -1; }
            w.Add(CountedLoop(l, P(l.Start), Block(body)));
            return true;
        }

        /// <summary>An int index as coefficient · counter + an expression that does not change in the loop.</summary>
        private sealed record Lin(int Coef, CsExpr Rest);

        /// <summary>Rewrites a loop body's element accesses at counter + invariant to row spans (see <see cref="RowLoop"/>).</summary>
        private sealed class RowSpans
        {
            private readonly ReverseTransformer _t;
            private readonly string _counter;
            private readonly NameUse _use;
            private readonly Dictionary<string, CsType> _types;
            private readonly Dictionary<(string Target, string Key), string> _byRow = new Dictionary<(string, string), string>();

            public RowSpans(ReverseTransformer t, string counter, NameUse use, Dictionary<string, CsType> types)
            {
                _t = t;
                _counter = counter;
                _use = use;
                _types = types;
            }

            public readonly List<(string Name, string Target, CsExpr Offset, CsType Type)> Spans = new List<(string, string, CsExpr, CsType)>();

            private string? _length, _index;

            public string Length => _length ??= _t.Fresh("_n");

            public string Index => _index ??= _t.Fresh("_t");

            public CsStmt Stmt(CsStmt s, Dictionary<string, Lin?> env, bool conditional)
            {
                switch (s)
                {
                    case CsBlock b: return Block(Stmts(b.Stmts, new Dictionary<string, Lin?>(env, StringComparer.Ordinal), conditional));
                    case CsScope sc: return new CsScope(Block(Stmts(sc.Body.Stmts, new Dictionary<string, Lin?>(env, StringComparer.Ordinal), conditional)));
                    case CsLocal l:
                        {
                            var init = l.Init != null ? Expr(l.Init, env, conditional) : null;
                            // An int local the body never assigns is its definition wherever it is read.
                            env[l.Name] = l.Type == CsType.Int && l.Init != null && !_use.Writes.Contains(l.Name) ? Of(l.Init, env) : null;
                            return l with { Init = init };
                        }
                    case CsAssign a: return a with { Target = Expr(a.Target, env, conditional), Value = Expr(a.Value, env, conditional) };
                    case CsExprStmt e: return e with { Expr = Expr(e.Expr, env, conditional) };
                    case CsIf i:
                        return new CsIf(Expr(i.Condition, env, conditional),
                            Block(Stmts(i.Then.Stmts, new Dictionary<string, Lin?>(env, StringComparer.Ordinal), true)),
                            i.Else == null ? null : Block(Stmts(i.Else.Stmts, new Dictionary<string, Lin?>(env, StringComparer.Ordinal), true)));
                    default: return s; // nested loops keep their own indexing
                }
            }

            private List<CsStmt> Stmts(IEnumerable<CsStmt> stmts, Dictionary<string, Lin?> env, bool conditional) =>
                stmts.Select(x => Stmt(x, env, conditional)).ToList();

            /// <summary>The expression with its qualifying element accesses read from row spans (only where it runs every iteration).</summary>
            private CsExpr Expr(CsExpr e, Dictionary<string, Lin?> env, bool conditional)
            {
                CsExpr R(CsExpr x) => Expr(x, env, conditional);
                CsExpr C(CsExpr x) => Expr(x, env, true);
                switch (e)
                {
                    case CsIndex ix:
                        {
                            var index = R(ix.Index);
                            if (!conditional && ix.Target is CsName n && Row(n.Name, ix.Index, env) is string row) return new CsIndex(N(row), N(Index));
                            return new CsIndex(R(ix.Target), index);
                        }
                    case CsMember m: return m with { Target = R(m.Target) };
                    case CsBinary b when b.Op == "&&" || b.Op == "||" || b.Op == "??": return b with { Left = R(b.Left), Right = C(b.Right) };
                    case CsBinary b: return b with { Left = R(b.Left), Right = R(b.Right) };
                    case CsUnary u: return u with { Operand = R(u.Operand) };
                    case CsConditional c: return new CsConditional(R(c.Condition), C(c.WhenTrue), C(c.WhenFalse));
                    case CsCast c: return c with { Operand = R(c.Operand) };
                    case CsMath m: return m with { Args = m.Args.Select(R).ToEquatableArray() };
                    // Arguments of calls are left alone: a callee may take a ref to an element.
                    default: return e;
                }
            }

            /// <summary>The row span for target[index], or null when the access does not qualify.</summary>
            private string? Row(string target, CsExpr index, Dictionary<string, Lin?> env)
            {
                if (target == _counter || _use.Declared.Contains(target) || _use.Writes.Contains(target) || !_types.TryGetValue(target, out var type)) return null;
                bool span = type.Generic == Names.Span || type.Generic == Names.ReadOnlySpan;
                bool array = type.Name == "[]" && type.Element != null && type.Element.Element == null;
                if (!(span || array) || type.Element!.Scalar == Ty.Void) return null;
                var lin = Of(index, env);
                if (lin == null || lin.Coef != 1) return null;
                var rest = Simplifier.Simplify(lin.Rest);
                var key = (target, CsPrinter.Expr(rest));
                if (!_byRow.TryGetValue(key, out var name))
                {
                    name = _t.Fresh("_" + target.TrimStart('_') + "Row");
                    _byRow[key] = name;
                    Spans.Add((name, target, rest, type));
                }
                return name;
            }

            /// <summary>The index as a linear form in the counter, or null.</summary>
            private Lin? Of(CsExpr e, Dictionary<string, Lin?> env)
            {
                switch (e)
                {
                    case CsName n:
                        if (n.Name == _counter) return new Lin(1, CsLiteral.Int(0));
                        if (env.TryGetValue(n.Name, out var def)) return def;
                        if (_use.Declared.Contains(n.Name) || _use.Writes.Contains(n.Name) || !_types.TryGetValue(n.Name, out var type) || type != CsType.Int) return null;
                        return new Lin(0, n);
                    case CsLiteral l when l.Type == Ty.Int:
                        return new Lin(0, l);
                    case CsBinary b when b.Op == "+" || b.Op == "-":
                        {
                            var x = Of(b.Left, env);
                            var y = Of(b.Right, env);
                            if (x == null || y == null) return null;
                            bool plus = b.Op == "+";
                            var yRest = y.Rest;
                            // x + -k is spelled x - k.
                            if (IntValue(yRest) is int k && k < 0) { plus = !plus; yRest = CsLiteral.Int(-k); }
                            return new Lin(b.Op == "+" ? x.Coef + y.Coef : x.Coef - y.Coef, Bin(plus ? "+" : "-", x.Rest, yRest));
                        }
                    case CsBinary b when b.Op == "*":
                        {
                            var x = Of(b.Left, env);
                            var y = Of(b.Right, env);
                            if (x == null || y == null) return null;
                            if (x.Coef == 0 && y.Coef == 0) return new Lin(0, Bin("*", x.Rest, y.Rest));
                            if (x.Coef == 0 && IntValue(x.Rest) is int k) return new Lin(k * y.Coef, Bin("*", x.Rest, y.Rest));
                            if (y.Coef == 0 && IntValue(y.Rest) is int k2) return new Lin(k2 * x.Coef, Bin("*", x.Rest, y.Rest));
                            return null;
                        }
                    default:
                        return null;
                }
            }

            public static int? IntValue(CsExpr e) =>
                Simplifier.Simplify(e) is CsLiteral l && l.Type == Ty.Int && int.TryParse(l.Text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : (int?)null;
        }

        /// <summary>Removes int locals nothing reads any more (index arithmetic the row spans replaced), and scopes left empty.</summary>
        private static List<CsStmt> DropDeadLocals(List<CsStmt> body)
        {
            while (true)
            {
                bool changed = false;
                List<CsStmt> Walk(IReadOnlyList<CsStmt> stmts)
                {
                    var result = new List<CsStmt>();
                    for (int k = 0; k < stmts.Count; k++)
                    {
                        switch (stmts[k])
                        {
                            // A local is visible in the rest of its block only (C# forbids shadowing it there).
                            case CsLocal l when l.Type == CsType.Int && (l.Init == null || Pure(l.Init)) && !UsedAfter(stmts, k, l.Name):
                                changed = true;
                                break;
                            case CsScope sc:
                                {
                                    var inner = Walk(sc.Body.Stmts);
                                    if (inner.Count == 0) { changed = true; break; }
                                    result.Add(new CsScope(Block(inner)));
                                    break;
                                }
                            default:
                                result.Add(stmts[k]);
                                break;
                        }
                    }
                    return result;
                }
                body = Walk(body);
                if (!changed) return body;
            }
        }

        private static bool UsedAfter(IReadOnlyList<CsStmt> stmts, int k, string name)
        {
            var use = new NameUse();
            for (int m = k + 1; m < stmts.Count; m++) use.Stmt(stmts[m]);
            return use.Uses(name);
        }

        /// <summary>
        /// The statements with nested scopes merged into their parent where that declares no name twice
        /// (a scope that is a block's only statement, or whose locals no sibling declares).
        /// </summary>
        internal static List<CsStmt> FlattenScopes(IEnumerable<CsStmt> stmts)
        {
            var list = stmts.Select(FlattenIn).ToList();
            var result = new List<CsStmt>();
            for (int k = 0; k < list.Count; k++)
            {
                if (list[k] is CsScope sc)
                {
                    var mine = DeclaredDeep(sc.Body.Stmts);
                    var others = DeclaredDeep(list.Where((x, m) => m != k));
                    if (!mine.Overlaps(others))
                    {
                        result.AddRange(sc.Body.Stmts);
                        continue;
                    }
                }
                result.Add(list[k]);
            }
            return result;
        }

        private static CsStmt FlattenIn(CsStmt s)
        {
            switch (s)
            {
                case CsScope sc:
                    {
                        var inner = FlattenScopes(sc.Body.Stmts);
                        return inner.Count == 1 && inner[0] is CsScope only ? only : new CsScope(Block(inner));
                    }
                case CsIf i: return new CsIf(i.Condition, Block(FlattenScopes(i.Then.Stmts)), i.Else == null ? null : Block(FlattenScopes(i.Else.Stmts)));
                case CsFor f: return f with { Body = Block(FlattenScopes(f.Body.Stmts)) };
                case CsBlock b: return Block(FlattenScopes(b.Stmts));
                default: return s;
            }
        }

        /// <summary>The locals the statements declare, at any depth.</summary>
        private static HashSet<string> DeclaredDeep(IEnumerable<CsStmt> stmts)
        {
            var use = new NameUse();
            foreach (var s in stmts) use.Stmt(s);
            return use.Declared;
        }

        /// <summary>Integer arithmetic on names and literals (no calls, no element reads that could throw).</summary>
        private static bool Pure(CsExpr e) =>
            e is CsName || e is CsLiteral || e is CsBinary b && b.Op != "/" && b.Op != "%" && Pure(b.Left) && Pure(b.Right) || e is CsUnary u && Pure(u.Operand);
    }
}
