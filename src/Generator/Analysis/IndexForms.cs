using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Analysis
{
    /// <summary>
    /// An integer polynomial over named symbols (loop counters, loop-invariant integers, span lengths):
    /// the form in which the parallel-loop analyses compare array indices. <c>j * w + i - 1</c> is
    /// <c>{ "j*w": 1, "i": 1, "": -1 }</c>. Value equality, so two index expressions that are the same
    /// polynomial after substituting their locals compare equal.
    /// </summary>
    internal sealed class Poly : IEquatable<Poly>
    {
        // Monomial (symbols sorted and joined by '*', "" for the constant) -> coefficient; no zero coefficients.
        private readonly SortedDictionary<string, long> _terms;

        private Poly(SortedDictionary<string, long> terms) => _terms = terms;

        public static Poly Const(long c)
        {
            var t = new SortedDictionary<string, long>(StringComparer.Ordinal);
            if (c != 0) t[""] = c;
            return new Poly(t);
        }

        public static Poly Sym(string name) => new Poly(new SortedDictionary<string, long>(StringComparer.Ordinal) { [name] = 1 });

        public static readonly Poly Zero = Const(0);

        public static readonly Poly One = Const(1);

        public IEnumerable<KeyValuePair<string, long>> Terms => _terms;

        /// <summary>The constant value, when the polynomial has no symbol.</summary>
        public bool IsConst(out long value)
        {
            value = _terms.TryGetValue("", out var c) ? c : 0;
            return _terms.Count == 0 || _terms.Count == 1 && _terms.ContainsKey("");
        }

        public bool IsZero => _terms.Count == 0;

        /// <summary>Whether some monomial contains the symbol.</summary>
        public bool Contains(string symbol) => _terms.Keys.Any(k => Symbols(k).Contains(symbol));

        /// <summary>Whether some monomial contains a symbol the predicate picks.</summary>
        public bool Contains(Func<string, bool> symbol) => _terms.Keys.Any(k => Symbols(k).Any(symbol));

        private static string[] Symbols(string monomial) => monomial.Length == 0 ? new string[0] : monomial.Split('*');

        public static Poly operator +(Poly a, Poly b)
        {
            var t = new SortedDictionary<string, long>(a._terms, StringComparer.Ordinal);
            foreach (var kv in b._terms) AddTerm(t, kv.Key, kv.Value);
            return new Poly(t);
        }

        public static Poly operator -(Poly a) => a * Const(-1);

        public static Poly operator -(Poly a, Poly b) => a + -b;

        public static Poly operator *(Poly a, Poly b)
        {
            var t = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var x in a._terms)
                foreach (var y in b._terms)
                {
                    var syms = Symbols(x.Key).Concat(Symbols(y.Key)).OrderBy(s => s, StringComparer.Ordinal);
                    AddTerm(t, string.Join("*", syms), checked(x.Value * y.Value));
                }
            return new Poly(t);
        }

        private static void AddTerm(SortedDictionary<string, long> t, string monomial, long c)
        {
            long v = (t.TryGetValue(monomial, out var old) ? old : 0) + c;
            if (v == 0) t.Remove(monomial);
            else t[monomial] = v;
        }

        /// <summary>
        /// Splits the polynomial as <c>symbol * coefficient + rest</c> (neither part containing the symbol);
        /// false when the symbol occurs squared.
        /// </summary>
        public bool Split(string symbol, out Poly coefficient, out Poly rest)
        {
            var c = new SortedDictionary<string, long>(StringComparer.Ordinal);
            var r = new SortedDictionary<string, long>(StringComparer.Ordinal);
            coefficient = Zero;
            rest = Zero;
            foreach (var kv in _terms)
            {
                var syms = Symbols(kv.Key).ToList();
                int count = syms.Count(s => s == symbol);
                if (count > 1) return false;
                if (count == 0) { r[kv.Key] = kv.Value; continue; }
                syms.Remove(symbol);
                AddTerm(c, string.Join("*", syms), kv.Value);
            }
            coefficient = new Poly(c);
            rest = new Poly(r);
            return true;
        }

        /// <summary>The polynomial with a symbol replaced by another polynomial.</summary>
        public Poly Substitute(string symbol, Poly value)
        {
            var result = Zero;
            foreach (var kv in _terms)
            {
                var term = Const(kv.Value);
                foreach (var s in Symbols(kv.Key)) term *= s == symbol ? value : Sym(s);
                result += term;
            }
            return result;
        }

        public bool Equals(Poly? other) => other != null && _terms.Count == other._terms.Count && _terms.All(kv => other._terms.TryGetValue(kv.Key, out var v) && v == kv.Value);

        public override bool Equals(object? obj) => Equals(obj as Poly);

        public override int GetHashCode()
        {
            int h = 17;
            foreach (var kv in _terms) h = h * 31 + StringComparer.Ordinal.GetHashCode(kv.Key) * 7 + kv.Value.GetHashCode();
            return h;
        }

        public override string ToString()
        {
            if (_terms.Count == 0) return "0";
            var sb = new StringBuilder();
            foreach (var kv in _terms)
            {
                if (sb.Length > 0) sb.Append(kv.Value < 0 ? " - " : " + ");
                else if (kv.Value < 0) sb.Append('-');
                long a = Math.Abs(kv.Value);
                if (kv.Key.Length == 0) sb.Append(a.ToString(CultureInfo.InvariantCulture));
                else sb.Append(a == 1 ? "" : a.ToString(CultureInfo.InvariantCulture) + "*").Append(kv.Key);
            }
            return sb.ToString();
        }
    }

    /// <summary>
    /// Integer IR expressions as polynomials. What a variable stands for is the caller's decision
    /// (<c>varPoly</c>): a counter's symbol, a loop-invariant symbol, the polynomial of its single
    /// definition, or null for a value the analysis cannot follow.
    /// </summary>
    internal static class IndexForms
    {
        /// <summary>
        /// The polynomial of an integer expression, or null. <paramref name="symbols"/>, when given, records
        /// the expression each symbol stands for (so a polynomial can be turned back into code by <see cref="ToExpr"/>).
        /// </summary>
        public static Poly? Of(Expr e, Func<int, Poly?> varPoly, Dictionary<string, Expr>? symbols = null)
        {
            var p = OfCore(e, varPoly, symbols);
            return p;
        }

        /// <summary>The polynomial as an int expression; null when a symbol has no recorded expression.</summary>
        public static Expr? ToExpr(Poly p, IReadOnlyDictionary<string, Expr> symbols)
        {
            Expr? sum = null;
            // Symbols first, the constant last: n - 1, not -1 + n.
            foreach (var term in p.Terms.Where(t => t.Key.Length > 0).Concat(p.Terms.Where(t => t.Key.Length == 0)))
            {
                Expr? product = null;
                if (term.Key.Length > 0)
                {
                    foreach (var s in term.Key.Split('*'))
                    {
                        if (!symbols.TryGetValue(s, out var x) || x.Type != Ty.Int) return null;
                        product = product == null ? x : new Binary(BinOp.Mul, product, x, Ty.Int);
                    }
                }
                long c = term.Value;
                if (product == null) { sum = sum == null ? Lit(c) : new Binary(c < 0 ? BinOp.Sub : BinOp.Add, sum, Lit(Math.Abs(c)), Ty.Int); continue; }
                if (Math.Abs(c) != 1) product = new Binary(BinOp.Mul, Lit(Math.Abs(c)), product, Ty.Int);
                if (sum == null) sum = c < 0 ? new Unary(UnOp.Neg, product, Ty.Int) : product;
                else sum = new Binary(c < 0 ? BinOp.Sub : BinOp.Add, sum, product, Ty.Int);
            }
            return sum ?? Lit(0);
        }

        private static Expr Lit(long c) => new Lit(c.ToString(CultureInfo.InvariantCulture), Ty.Int);

        private static Poly? OfCore(Expr e, Func<int, Poly?> varPoly, Dictionary<string, Expr>? symbols)
        {
            Poly? Of(Expr x, Func<int, Poly?> vp) => OfCore(x, vp, symbols);
            Poly Record(Poly sym, Expr x)
            {
                if (symbols != null) foreach (var t in sym.Terms) if (t.Key.Length > 0 && !t.Key.Contains("*")) symbols[t.Key] = x;
                return sym;
            }
            switch (e)
            {
                case Lit l when l.Type == Ty.Int || l.Type == Ty.Long:
                    return long.TryParse(l.Text.TrimEnd('L', 'l'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? Poly.Const(value) : null;
                case VarRef v when v.Type == Ty.Int || v.Type == Ty.Long:
                    {
                        var p = varPoly(v.Var);
                        // A variable that stands for itself (a counter, an invariant) is recorded as its symbol.
                        if (p != null && symbols != null && p.Terms.Count() == 1 && p.Terms.First().Value == 1 && p.Terms.First().Key.Length > 0 && !p.Terms.First().Key.Contains("*")
                            && (p.Terms.First().Key == VarSymbol(v.Var) || p.Terms.First().Key == CounterSymbol(v.Var)))
                            symbols[p.Terms.First().Key] = v;
                        return p;
                    }
                case VarRef v when v.Type == Ty.Other:
                    return null; // only as a receiver (below)
                case LenRef len:
                    return Record(Poly.Sym("len" + len.Var.ToString(CultureInfo.InvariantCulture)), len);
                case Cast c when (c.Type == Ty.Int || c.Type == Ty.Long) && (c.Operand.Type == Ty.Int || c.Operand.Type == Ty.Long):
                    return Of(c.Operand, varPoly);
                case Unary u when u.Op == UnOp.Neg:
                    {
                        var x = Of(u.Operand, varPoly);
                        return x == null ? null : -x;
                    }
                case Binary b when b.Type == Ty.Int || b.Type == Ty.Long:
                    {
                        if (b.Op != BinOp.Add && b.Op != BinOp.Sub && b.Op != BinOp.Mul) return null;
                        var l = Of(b.Left, varPoly);
                        if (l == null) return null;
                        var r = Of(b.Right, varPoly);
                        if (r == null) return null;
                        try
                        {
                            return b.Op == BinOp.Add ? l + r : b.Op == BinOp.Sub ? l - r : l * r;
                        }
                        catch (OverflowException)
                        {
                            return null;
                        }
                    }
                case Opaque o when !o.IsCall && o.Args.Count == 0 && (o.Type == Ty.Int || o.Type == Ty.Long) && (o.Receiver == null || o.Receiver is VarRef):
                    // A member of an inactive value (grid.Nx) or a static readonly integer: invariant when its receiver
                    // is (varPoly is asked about the receiver, an inactive variable, too).
                    if (o.Receiver is VarRef rv && varPoly(rv.Var) == null) return null;
                    return Record(Poly.Sym("op:" + (o.Receiver is VarRef r2 ? r2.Var.ToString(CultureInfo.InvariantCulture) + "." : "") + o.Callee), o);
                default:
                    return null;
            }
        }

        /// <summary>The symbol of a loop-invariant variable.</summary>
        public static string VarSymbol(int var) => "v" + var.ToString(CultureInfo.InvariantCulture);

        /// <summary>The symbol of a loop counter.</summary>
        public static string CounterSymbol(int var) => "c" + var.ToString(CultureInfo.InvariantCulture);

        /// <summary>Whether <paramref name="a"/> - <paramref name="b"/> is a constant; its value in <paramref name="difference"/>.</summary>
        public static bool ConstDifference(Poly a, Poly b, out long difference) => (a - b).IsConst(out difference);
    }
}
