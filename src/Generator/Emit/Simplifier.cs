using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Emit
{
    /// <summary>
    /// Algebraic clean-up of the output tree: products with 1 and 0, sums with 0, double negations,
    /// signs pulled out of products, and integer constants folded. Every rewrite is exact in IEEE
    /// arithmetic (x * 1 = x, -(-x) = x, (-a) * b = -(a * b), a + (-b) = a - b, a + b = b + a) except
    /// dropping a product with a zero partial, which is what differentiation means (a 0 · ∞ there
    /// would be an artefact of the rule, not a derivative) and <c>a * (1.0 / c) → a / c</c>, which
    /// rounds once instead of twice. Integer division is never reassociated (it truncates).
    /// </summary>
    internal static class Simplifier
    {
        public static CsExpr Simplify(CsExpr e)
        {
            switch (e)
            {
                case CsUnary u:
                    {
                        var x = Simplify(u.Operand);
                        if (u.Op == CsUnaryOp.Not && Truth(x) is bool t) return t ? CsLiteral.False : CsLiteral.True;
                        if (u.Op == CsUnaryOp.Neg)
                        {
                            if (x is CsUnary inner && inner.Op == CsUnaryOp.Neg) return inner.Operand;
                            if (x is CsLiteral l && IsNumeric(l)) return Negate(l);
                        }
                        return u with { Operand = x };
                    }
                case CsBinary b:
                    return SimplifyBinary(b.Op, Simplify(b.Left), Simplify(b.Right));
                case CsConditional c:
                    {
                        var cond = Simplify(c.Condition);
                        if (cond is CsLiteral cl && cl.Text == "true") return Simplify(c.WhenTrue);
                        if (cond is CsLiteral cf && cf.Text == "false") return Simplify(c.WhenFalse);
                        return new CsConditional(cond, Simplify(c.WhenTrue), Simplify(c.WhenFalse));
                    }
                case CsCast c: return c with { Operand = Simplify(c.Operand) };
                case CsMath m: return m with { Args = m.Args.Select(Simplify).ToEquatableArray() };
                case CsIndex ix: return ix with { Index = Simplify(ix.Index) };
                case CsIndices ixs: return ixs with { Items = ixs.Items.Select(Simplify).ToEquatableArray() };
                case CsInvoke inv: return inv with { Args = inv.Args.Select(a => a with { Value = Simplify(a.Value) }).ToEquatableArray() };
                default: return e;
            }
        }

        private static CsExpr SimplifyBinary(string op, CsExpr l, CsExpr r)
        {
            // Two double literals: C# would fold them at compile time, so folding here is exact.
            if (l is CsLiteral la && r is CsLiteral lb && la.Type == Ty.Double && lb.Type == Ty.Double && Value(la) is double x && Value(lb) is double y)
            {
                switch (op)
                {
                    case "<": return x < y ? CsLiteral.True : CsLiteral.False;
                    case "<=": return x <= y ? CsLiteral.True : CsLiteral.False;
                    case ">": return x > y ? CsLiteral.True : CsLiteral.False;
                    case ">=": return x >= y ? CsLiteral.True : CsLiteral.False;
                    case "==": return x == y ? CsLiteral.True : CsLiteral.False;
                    case "!=": return x != y ? CsLiteral.True : CsLiteral.False;
                    case "+": return DoubleLiteral(x + y);
                    case "-": return DoubleLiteral(x - y);
                    case "*": return DoubleLiteral(x * y);
                }
            }
            switch (op)
            {
                case "*":
                    if (IsOne(r)) return l;
                    if (IsOne(l)) return r;
                    if (IsMinusOne(r)) return Simplify(Cs.Neg(l));
                    if (IsMinusOne(l)) return Simplify(Cs.Neg(r));
                    if (IsZero(l)) return l;
                    if (IsZero(r)) return r;
                    if (l is CsUnary ln && ln.Op == CsUnaryOp.Neg) return Simplify(Cs.Neg(SimplifyBinary("*", ln.Operand, r)));
                    if (r is CsUnary rn && rn.Op == CsUnaryOp.Neg) return Simplify(Cs.Neg(SimplifyBinary("*", l, rn.Operand)));
                    // a * (1.0 / c) is a / c (a real 1: with integers 1 / c is a truncating division).
                    if (r is CsBinary rd && rd.Op == "/" && IsOne(rd.Left) && rd.Left is CsLiteral one && (one.Type == Ty.Double || one.Type == Ty.Float))
                        return SimplifyBinary("/", l, rd.Right);
                    break;
                case "/":
                    if (IsOne(r)) return l;
                    if (IsZero(l)) return l;
                    if (l is CsUnary dn && dn.Op == CsUnaryOp.Neg) return Simplify(Cs.Neg(SimplifyBinary("/", dn.Operand, r)));
                    break;
                case "+":
                    if (IsZero(r)) return l;
                    if (IsZero(l)) return r;
                    if (r is CsUnary an && an.Op == CsUnaryOp.Neg) return SimplifyBinary("-", l, an.Operand);
                    if (l is CsUnary bn && bn.Op == CsUnaryOp.Neg && !(r is CsUnary)) return SimplifyBinary("-", r, bn.Operand);
                    if (TryFoldInt(op, l, r, out var sum)) return sum;
                    break;
                case "-":
                    if (IsZero(r)) return l;
                    if (IsZero(l)) return Simplify(Cs.Neg(r));
                    if (r is CsUnary sn && sn.Op == CsUnaryOp.Neg) return SimplifyBinary("+", l, sn.Operand);
                    if (TryFoldInt(op, l, r, out var diff)) return diff;
                    break;
            }
            return new CsBinary(op, l, r);
        }

        /// <summary>(x ± c1) ± c2 with integer literals: one constant (loop bounds read <c>ny - 2</c>, not <c>(ny - 1) - 1</c>).</summary>
        private static bool TryFoldInt(string op, CsExpr l, CsExpr r, out CsExpr result)
        {
            result = l;
            if (!(r is CsLiteral rl) || !TryInt(rl, out long c2)) return false;
            long sign2 = op == "+" ? 1 : -1;
            if (l is CsLiteral ll && TryInt(ll, out long c0))
            {
                result = IntLiteral(c0 + sign2 * c2, ll.Type);
                return true;
            }
            if (l is CsBinary lb && (lb.Op == "+" || lb.Op == "-") && lb.Right is CsLiteral lr && TryInt(lr, out long c1))
            {
                long total = (lb.Op == "+" ? c1 : -c1) + sign2 * c2;
                if (total == 0) { result = lb.Left; return true; }
                result = new CsBinary(total > 0 ? "+" : "-", lb.Left, IntLiteral(System.Math.Abs(total), lr.Type));
                return true;
            }
            return false;
        }

        private static CsLiteral DoubleLiteral(double v)
        {
            string text = v.ToString("R", CultureInfo.InvariantCulture);
            if (text.IndexOfAny(new[] { '.', 'E', 'e', 'N', 'I' }) < 0) text += ".0";
            return new CsLiteral(text, Ty.Double);
        }

        /// <summary>Whether e is the literal true or false (a condition the simplifier decided).</summary>
        public static bool? Truth(CsExpr e) => e is CsLiteral l && l.Type == Ty.Bool ? l.Text == "true" : (bool?)null;

        private static bool TryInt(CsLiteral l, out long v)
        {
            v = 0;
            if (l.Type != Ty.Int && l.Type != Ty.Long) return false;
            return long.TryParse(l.Text.TrimEnd('L', 'l'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v);
        }

        private static CsLiteral IntLiteral(long v, Ty t) =>
            new CsLiteral(v.ToString(CultureInfo.InvariantCulture) + (t == Ty.Long ? "L" : ""), t);

        private static bool IsNumeric(CsLiteral l) => Value(l) != null;

        private static double? Value(CsExpr e)
        {
            if (!(e is CsLiteral l) || l.Type == Ty.Bool || l.Type == Ty.Other) return null;
            var text = l.Text.TrimEnd('f', 'F', 'd', 'D', 'L', 'l', 'm', 'M');
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : (double?)null;
        }

        public static bool IsZero(CsExpr e) => Value(e) == 0;

        public static bool IsOne(CsExpr e) => Value(e) == 1;

        public static bool IsMinusOne(CsExpr e) => Value(e) == -1;

        private static CsLiteral Negate(CsLiteral l) =>
            l with { Text = l.Text.StartsWith("-", System.StringComparison.Ordinal) ? l.Text.Substring(1) : "-" + l.Text };

        // ------------------------------------------------------------------ common subexpressions

        /// <summary>
        /// Hoists Math calls and compound arithmetic that a straight-line list of statements computes more
        /// than once into locals declared before their first use (<c>var _c0 = Math.Cos(x);</c>). Only
        /// expressions over names the list never assigns are hoisted, so every use sees the same value.
        /// </summary>
        public static List<CsStmt> HoistCommon(List<CsStmt> stmts, System.Func<string, string> fresh)
        {
            var assigned = new HashSet<string>();
            foreach (var s in stmts)
                foreach (var t in AssignedNames(s)) assigned.Add(t);
            var counts = new Dictionary<CsExpr, int>();
            foreach (var s in stmts)
                foreach (var e in TopExprs(s))
                    Count(e, counts, assigned);
            var hoisted = counts.Where(kv => kv.Value > 1).Select(kv => kv.Key).ToList();
            if (hoisted.Count == 0) return stmts;
            // Larger expressions first, so a hoisted product does not leave its inner call behind twice.
            hoisted.Sort((a, b) => Size(b).CompareTo(Size(a)));
            var names = new Dictionary<CsExpr, string>();
            var result = new List<CsStmt>();
            foreach (var s in stmts)
            {
                foreach (var h in hoisted)
                {
                    if (names.ContainsKey(h) || !TopExprs(s).Any(e => Contains(e, h))) continue;
                    string name = fresh("_c");
                    result.Add(new CsLocal(CsType.Var, name, Replace(h, names)));
                    names[h] = name;
                }
                result.Add(ReplaceIn(s, names));
            }
            return result;
        }

        private static void Count(CsExpr e, Dictionary<CsExpr, int> counts, HashSet<string> assigned)
        {
            if (IsWorthHoisting(e) && !FreeNames(e).Any(assigned.Contains))
            {
                counts[e] = counts.TryGetValue(e, out int n) ? n + 1 : 1;
                if (n > 0) return; // its parts are counted once, with the first occurrence
            }
            foreach (var c in Children(e)) Count(c, counts, assigned);
        }

        /// <summary>Math calls, and arithmetic with at least two operators (a sum of squares), are worth a local.</summary>
        private static bool IsWorthHoisting(CsExpr e) =>
            e is CsMath || e is CsBinary b && (b.Op == "*" || b.Op == "/" || b.Op == "+" || b.Op == "-") && Size(e) >= 3 && ContainsMathOrProduct(e);

        private static bool ContainsMathOrProduct(CsExpr e) =>
            e is CsMath || e is CsBinary b && (b.Op == "*" || b.Op == "/") || Children(e).Any(ContainsMathOrProduct);

        private static int Size(CsExpr e) => (e is CsBinary || e is CsMath || e is CsUnary ? 1 : 0) + Children(e).Sum(Size);

        private static IEnumerable<CsExpr> Children(CsExpr e)
        {
            switch (e)
            {
                case CsUnary u: return new[] { u.Operand };
                case CsBinary b: return new[] { b.Left, b.Right };
                case CsConditional c: return new[] { c.Condition, c.WhenTrue, c.WhenFalse };
                case CsCast c: return new[] { c.Operand };
                case CsMath m: return m.Args;
                case CsIndex ix: return new[] { ix.Target, ix.Index };
                case CsIndices ixs: return ixs.Items;
                case CsMember m: return new[] { m.Target };
                case CsInvoke inv: return new[] { inv.Target }.Concat(inv.Args.Select(a => a.Value));
                case CsNewArray na: return new[] { na.Length };
                case CsNew n: return n.Args.Select(a => a.Value);
                default: return Enumerable.Empty<CsExpr>();
            }
        }

        private static IEnumerable<string> FreeNames(CsExpr e)
        {
            if (e is CsName n) yield return n.Name;
            if (e is CsInvoke || e is CsNew || e is CsNewArray) yield return "\0call"; // never hoisted
            foreach (var c in Children(e))
                foreach (var x in FreeNames(c))
                    yield return x;
        }

        private static bool Contains(CsExpr e, CsExpr x) => e.Equals(x) || Children(e).Any(c => Contains(c, x));

        private static IEnumerable<CsExpr> TopExprs(CsStmt s)
        {
            switch (s)
            {
                case CsLocal l when l.Init != null: return new[] { l.Init };
                case CsAssign a: return new[] { a.Target, a.Value };
                case CsExprStmt e: return new[] { e.Expr };
                case CsIf i: return new[] { i.Condition }.Concat(i.Then.Stmts.SelectMany(TopExprs)).Concat(i.Else?.Stmts.SelectMany(TopExprs) ?? Enumerable.Empty<CsExpr>());
                default: return Enumerable.Empty<CsExpr>();
            }
        }

        private static IEnumerable<string> AssignedNames(CsStmt s)
        {
            switch (s)
            {
                case CsLocal l: return new[] { l.Name };
                case CsAssign a: return new[] { RootName(a.Target) };
                case CsIf i: return i.Then.Stmts.SelectMany(AssignedNames).Concat(i.Else?.Stmts.SelectMany(AssignedNames) ?? Enumerable.Empty<string>());
                case CsExprStmt e: return new[] { "\0call" };
                case CsScope sc: return sc.Body.Stmts.SelectMany(AssignedNames);
                case CsFor f: return f.Body.Stmts.SelectMany(AssignedNames).Concat(f.Init != null ? AssignedNames(f.Init) : Enumerable.Empty<string>());
                case CsWhile w: return w.Body.Stmts.SelectMany(AssignedNames);
                default: return Enumerable.Empty<string>();
            }
        }

        private static string RootName(CsExpr target)
        {
            switch (target)
            {
                case CsName n: return n.Name;
                case CsIndex ix: return RootName(ix.Target);
                case CsMember m: return RootName(m.Target);
                default: return "\0unknown";
            }
        }

        private static CsExpr Replace(CsExpr e, Dictionary<CsExpr, string> names)
        {
            if (names.TryGetValue(e, out var n)) return new CsName(n);
            switch (e)
            {
                case CsUnary u: return u with { Operand = Replace(u.Operand, names) };
                case CsBinary b: return new CsBinary(b.Op, Replace(b.Left, names), Replace(b.Right, names));
                case CsConditional c: return new CsConditional(Replace(c.Condition, names), Replace(c.WhenTrue, names), Replace(c.WhenFalse, names));
                case CsCast c: return c with { Operand = Replace(c.Operand, names) };
                case CsMath m: return m with { Args = m.Args.Select(a => Replace(a, names)).ToEquatableArray() };
                case CsIndex ix: return new CsIndex(Replace(ix.Target, names), Replace(ix.Index, names));
                case CsIndices ixs: return ixs with { Items = ixs.Items.Select(x => Replace(x, names)).ToEquatableArray() };
                default: return e;
            }
        }

        private static CsStmt ReplaceIn(CsStmt s, Dictionary<CsExpr, string> names)
        {
            if (names.Count == 0) return s;
            switch (s)
            {
                case CsLocal l when l.Init != null: return l with { Init = Replace(l.Init, names) };
                case CsAssign a: return new CsAssign(Replace(a.Target, names), a.Op, Replace(a.Value, names));
                case CsExprStmt e: return new CsExprStmt(Replace(e.Expr, names));
                case CsIf i:
                    return new CsIf(Replace(i.Condition, names), new CsBlock(i.Then.Stmts.Select(x => ReplaceIn(x, names))),
                        i.Else == null ? null : new CsBlock(i.Else.Stmts.Select(x => ReplaceIn(x, names))));
                default: return s;
            }
        }
    }
}
