using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Rules
{
    /// <summary>
    /// The one table of derivative rules. For every real-valued operation of the IR it gives the
    /// partial derivative with respect to each operand as IR built from the operands themselves:
    /// the reverse transformer multiplies them by the adjoint, the tangent transformer by the
    /// operands' tangents, the dual pullback prints the same code on dual numbers, the analyses ask
    /// it which functions are piecewise constant and which operands a partial reads, and a runtime test
    /// checks DiffGen's DualMath against it.
    /// </summary>
    /// <remarks>
    /// A partial of the form <c>c ? 1 : 0</c> (Min, Max, Clamp, a conditional expression) is a
    /// selection: the transformers turn it into a branch instead of a multiplication, so an adjoint
    /// never meets a 0 * inf.
    /// </remarks>
    internal static class DerivativeRules
    {
        /// <summary>Functions whose derivative is zero wherever it exists (their results are integers).</summary>
        public static bool IsPiecewiseConstant(MathFn fn) =>
            fn == MathFn.Floor || fn == MathFn.Ceiling || fn == MathFn.Round || fn == MathFn.Truncate || fn == MathFn.Sign;

        /// <summary>The functions the table differentiates (every MathFn, piecewise-constant ones with zero partials).</summary>
        public static IEnumerable<MathFn> Functions => Enum.GetValues(typeof(MathFn)).Cast<MathFn>();

        /// <summary>∂f/∂argᵢ of a Math call, one entry per argument (null: zero).</summary>
        public static Expr?[] Partials(MathCall m)
        {
            var t = m.Type;
            var a = m.Args;
            Expr x = a[0];
            Expr One() => Num(t, "1");
            Expr F(MathFn fn, params Expr[] args) => new MathCall(fn, m.IsMathF, args.ToEquatableArray(), t);
            switch (m.Function)
            {
                case MathFn.Sin: return new[] { F(MathFn.Cos, x) };
                case MathFn.Cos: return new[] { Neg(F(MathFn.Sin, x)) };
                case MathFn.Tan: return new[] { Div(One(), Mul(F(MathFn.Cos, x), F(MathFn.Cos, x))) };
                case MathFn.Exp: return new[] { F(MathFn.Exp, x) };
                case MathFn.Log: return new[] { Div(One(), x) };
                case MathFn.Log10: return new[] { Div(One(), Mul(x, Num(t, "2.302585092994046"))) };
                case MathFn.Log2: return new[] { Div(One(), Mul(x, Num(t, "0.6931471805599453"))) };
                case MathFn.Sqrt: return new[] { Div(One(), Mul(Num(t, "2"), F(MathFn.Sqrt, x))) };
                case MathFn.Cbrt: return new[] { Div(One(), Mul(Mul(Num(t, "3"), F(MathFn.Cbrt, x)), F(MathFn.Cbrt, x))) };
                case MathFn.Tanh: return new[] { Sub(One(), Mul(F(MathFn.Tanh, x), F(MathFn.Tanh, x))) };
                case MathFn.Sinh: return new[] { F(MathFn.Cosh, x) };
                case MathFn.Cosh: return new[] { F(MathFn.Sinh, x) };
                case MathFn.Atan: return new[] { Div(One(), Add(One(), Mul(x, x))) };
                case MathFn.Asin: return new[] { Div(One(), F(MathFn.Sqrt, Sub(One(), Mul(x, x)))) };
                case MathFn.Acos: return new[] { Neg(Div(One(), F(MathFn.Sqrt, Sub(One(), Mul(x, x))))) };
                case MathFn.Abs: return new Expr[] { new Cast(new MathCall(MathFn.Sign, m.IsMathF, new[] { x }.ToEquatableArray(), Ty.Int), t, Implicit: true) };
                case MathFn.Min: return Select(new Binary(BinOp.Le, a[0], a[1], Ty.Bool), t, 2, 0, 1);
                case MathFn.Max: return Select(new Binary(BinOp.Ge, a[0], a[1], Ty.Bool), t, 2, 0, 1);
                case MathFn.Clamp:
                    {
                        // Math.Clamp(x, lo, hi) is lo below the range and hi above it.
                        var below = new Binary(BinOp.Lt, a[0], a[1], Ty.Bool);
                        var above = new Binary(BinOp.Gt, a[0], a[2], Ty.Bool);
                        Expr Pick(int whenBelow, int whenAbove, int inside, int i) =>
                            new Conditional(below, Num(t, whenBelow == i ? "1" : "0"),
                                new Conditional(above, Num(t, whenAbove == i ? "1" : "0"), Num(t, inside == i ? "1" : "0"), t), t);
                        return new[] { Pick(1, 2, 0, 0), Pick(1, 2, 0, 1), Pick(1, 2, 0, 2) };
                    }
                case MathFn.Atan2:
                    {
                        // atan2(y, x): ∂/∂y = x / (x² + y²), ∂/∂x = -y / (x² + y²).
                        var r = Add(Mul(a[0], a[0]), Mul(a[1], a[1]));
                        return new[] { Div(a[1], r), Neg(Div(a[0], r)) };
                    }
                case MathFn.Pow:
                    {
                        // x^y: ∂/∂x = y x^(y-1); ∂/∂y = x^y ln x, taken as 0 where x <= 0 (ln undefined, and
                        // the common case of an integer exponent on a negative base has no y-derivative).
                        var dx = Mul(a[1], F(MathFn.Pow, a[0], Sub(a[1], One())));
                        var dy = new Conditional(new Binary(BinOp.Gt, a[0], Num(t, "0"), Ty.Bool), Mul(F(MathFn.Pow, a[0], a[1]), F(MathFn.Log, a[0])), Num(t, "0"), t);
                        return new Expr[] { dx, dy };
                    }
                case MathFn.FusedMultiplyAdd: return new[] { a[1], a[0], One() };
                default:
                    if (IsPiecewiseConstant(m.Function)) return new Expr?[a.Count];
                    throw new ArgumentOutOfRangeException(nameof(m), m.Function, "no derivative rule");
            }
        }

        /// <summary>∂(l op r)/∂l and ∂(l op r)/∂r of real arithmetic (null: zero; comparisons and logic have none).</summary>
        public static Expr?[] Partials(Binary b)
        {
            var t = b.Type;
            switch (b.Op)
            {
                case BinOp.Add: return new[] { Num(t, "1"), Num(t, "1") };
                case BinOp.Sub: return new[] { Num(t, "1"), Num(t, "-1") };
                case BinOp.Mul: return new[] { b.Right, b.Left };
                case BinOp.Div: return new[] { Div(Num(t, "1"), b.Right), Neg(Div(b.Left, Mul(b.Right, b.Right))) };
                case BinOp.Mod:
                    // a % b = a - b * trunc(a / b), with trunc piecewise constant.
                    return new[] { Num(t, "1"), Neg(new MathCall(MathFn.Truncate, t == Ty.Float, new Expr[] { Div(b.Left, b.Right) }.ToEquatableArray(), t)) };
                default: return new Expr?[2];
            }
        }

        /// <summary>∂(-x)/∂x.</summary>
        public static Expr NegationPartial(Ty t) => Num(t, "-1");

        /// <summary>∂(c ? x : y)/∂x and /∂y: a selection.</summary>
        public static Expr[] Partials(Conditional c) =>
            new Expr[] { new Conditional(c.Condition, Num(c.Type, "1"), Num(c.Type, "0"), c.Type), new Conditional(c.Condition, Num(c.Type, "0"), Num(c.Type, "1"), c.Type) };

        /// <summary>Whether a partial is a selection (<c>c ? 1 : 0</c>, possibly nested), which becomes a branch.</summary>
        public static bool IsSelection(Expr partial) =>
            partial is Conditional c && (IsZeroOrOne(c.WhenTrue) || IsSelection(c.WhenTrue)) && (IsZeroOrOne(c.WhenFalse) || IsSelection(c.WhenFalse));

        public static bool IsZero(Expr e) => e is Lit l && NumericValue(l) == 0;

        public static bool IsOne(Expr e) => e is Lit l && NumericValue(l) == 1;

        private static bool IsZeroOrOne(Expr e) => IsZero(e) || IsOne(e);

        /// <summary>The value of a numeric literal of the table (null for anything else).</summary>
        public static double? NumericValue(Lit l)
        {
            var text = l.Text.TrimEnd('f', 'F', 'd', 'D', 'L', 'l');
            return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : (double?)null;
        }

        // ------------------------------------------------------------------ IR builders

        /// <summary>A real literal of type t ("2.0" or "2f"; negative values keep their sign in the text).</summary>
        public static Lit Num(Ty t, string value)
        {
            if (t == Ty.Float) return new Lit(value + "f", t);
            if (t == Ty.Double) return new Lit(value.IndexOfAny(new[] { '.', 'E', 'e' }) >= 0 ? value : value + ".0", t);
            return new Lit(value, t);
        }

        private static Expr[] Select(Expr condition, Ty t, int count, int whenTrue, int whenFalse)
        {
            var result = new Expr[count];
            for (int i = 0; i < count; i++)
                result[i] = new Conditional(condition, Num(t, i == whenTrue ? "1" : "0"), Num(t, i == whenFalse ? "1" : "0"), t);
            return result;
        }

        public static Expr Neg(Expr x) => new Unary(UnOp.Neg, x, x.Type);

        public static Expr Add(Expr l, Expr r) => new Binary(BinOp.Add, l, r, l.Type);

        public static Expr Sub(Expr l, Expr r) => new Binary(BinOp.Sub, l, r, l.Type);

        public static Expr Mul(Expr l, Expr r) => new Binary(BinOp.Mul, l, r, l.Type);

        public static Expr Div(Expr l, Expr r) => new Binary(BinOp.Div, l, r, l.Type);
    }
}
