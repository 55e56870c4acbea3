using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Emit
{
    /// <summary>Prints IR expressions as C#, with the fewest parentheses that keep C#'s meaning.</summary>
    internal sealed class ExprPrinter
    {
        private readonly IReadOnlyList<Var> _vars;

        public ExprPrinter(IReadOnlyList<Var> vars, bool dual = false)
        {
            _vars = vars;
            Dual = dual;
        }

        /// <summary>Prints double arithmetic for <c>global::DiffGen.Dual</c> (Math calls go to DualMath).</summary>
        public bool Dual { get; }

        /// <summary>The Math class for a call of this type (DualMath when printing dual code).</summary>
        public string MathOf(MathCall m) =>
            m.IsMathF ? "global::System.MathF"
            : Dual && (m.Type == Ty.Double || m.Args.Any(a => a.Type == Ty.Double)) ? "global::DiffGen.CompilerServices.DualMath" : "global::System.Math";

        public string MathOf(Ty t) => t == Ty.Float ? "global::System.MathF" : Dual ? "global::DiffGen.CompilerServices.DualMath" : "global::System.Math";

        public const int Primary = 0, UnaryPrec = 1, Multiplicative = 2, Additive = 3, Relational = 5, Equality = 6,
            BitAnd = 7, BitXor = 8, BitOr = 9, LogicalAnd = 10, LogicalOr = 11, ConditionalPrec = 12, Lowest = 20;

        public static string TypeName(Ty t)
        {
            switch (t)
            {
                case Ty.Double: return "double";
                case Ty.Float: return "float";
                case Ty.Int: return "int";
                case Ty.Long: return "long";
                case Ty.Bool: return "bool";
                default: return "void";
            }
        }

        public static string MathType(Ty t) => t == Ty.Float ? "global::System.MathF" : "global::System.Math";

        /// <summary>A numeric constant of the given real type ("2.0" or "2f").</summary>
        public static string Const(Ty t, string value) => t == Ty.Float ? value + "f" : (value.Contains(".") ? value : value + ".0");

        public string Name(int var) => _vars[var].Name;

        public string Print(Expr e) => Print(e, Lowest, false);

        public static int Precedence(Expr e)
        {
            switch (e)
            {
                case Binary b: return BinaryPrecedence(b.Op);
                case Unary _: return UnaryPrec;
                case Cast c: return c.Implicit ? Precedence(c.Operand) : UnaryPrec;
                case Conditional _: return ConditionalPrec;
                case Lit l when l.Text.StartsWith("-"): return UnaryPrec;
                default: return Primary;
            }
        }

        public static int BinaryPrecedence(BinOp op)
        {
            switch (op)
            {
                case BinOp.Mul: case BinOp.Div: case BinOp.Mod: return Multiplicative;
                case BinOp.Add: case BinOp.Sub: return Additive;
                case BinOp.Lt: case BinOp.Le: case BinOp.Gt: case BinOp.Ge: return Relational;
                case BinOp.Eq: case BinOp.Ne: return Equality;
                case BinOp.BitAnd: return BitAnd;
                case BinOp.BitXor: return BitXor;
                case BinOp.BitOr: return BitOr;
                case BinOp.LogicalAnd: return LogicalAnd;
                case BinOp.LogicalOr: return LogicalOr;
                default: return Lowest;
            }
        }

        /// <summary>Prints e as an operand of an operator with precedence <paramref name="parent"/>.</summary>
        public string Print(Expr e, int parent, bool rightOperand)
        {
            string text = PrintCore(e);
            int p = Precedence(e);
            bool paren = p > parent || (p == parent && rightOperand && p != Primary);
            return paren ? "(" + text + ")" : text;
        }

        private string PrintCore(Expr e)
        {
            switch (e)
            {
                case Lit l: return l.Text;
                case VarRef v: return Name(v.Var);
                case ElemRef el: return Name(el.Var) + "[" + Print(el.Index) + "]";
                case LenRef len: return Name(len.Var) + ".Length";
                case Unary u:
                    {
                        var operand = Print(u.Operand, UnaryPrec, false);
                        // Avoid "--x" and "-  -1": a nested sign gets parentheses.
                        if (operand.StartsWith("-") || operand.StartsWith("+")) operand = "(" + operand + ")";
                        return Ops.Text(u.Op) + operand;
                    }
                case Binary b:
                    {
                        int p = BinaryPrecedence(b.Op);
                        return Print(b.Left, p, false) + " " + Ops.Text(b.Op) + " " + Print(b.Right, p, true);
                    }
                case Conditional c:
                    return Print(c.Condition, ConditionalPrec - 1, false) + " ? " + Print(c.WhenTrue, ConditionalPrec, false) + " : " + Print(c.WhenFalse, ConditionalPrec, false);
                case Cast c:
                    if (c.Implicit) return PrintCore(c.Operand);
                    {
                        var operand = Print(c.Operand, Primary, false);
                        if (operand.StartsWith("-")) operand = "(" + operand + ")";
                        return "(" + TypeName(c.Type) + ")" + operand;
                    }
                case MathCall m:
                    return MathOf(m) + "." + m.Function.ToString() + "(" + string.Join(", ", m.Args.Select(Print)) + ")";
                case Opaque o:
                    {
                        string head = (o.Receiver != null ? Print(o.Receiver, Primary, false) + "." : "") + o.Callee;
                        return o.IsCall ? head + "(" + string.Join(", ", o.Args.Select(Print)) + ")" : head;
                    }
                default:
                    throw new System.InvalidOperationException("no C# form for IR node " + e.GetType().Name + " (lowering should have reported it)");
            }
        }
    }
}
