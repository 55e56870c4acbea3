using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace DiffGen.Generator.Emit
{
    /// <summary>The names of the runtime types generated code refers to (one place, so a move is one edit).</summary>
    internal static class Names
    {
        public const string Tape = "global::DiffGen.Tape";
        public const string Dual = "global::DiffGen.Dual";
        public const string ValueStack = "global::DiffGen.CompilerServices.ValueStack";
        public const string RefStack = "global::DiffGen.CompilerServices.RefStack";
        public const string DualMath = "global::DiffGen.CompilerServices.DualMath";
        public const string Helpers = "global::DiffGen.CompilerServices.DerivativeHelpers";
        public const string ArrayHelpers = "global::DiffGen.CompilerServices.ArrayHelpers";
        public const string Math = "global::System.Math";
        public const string MathF = "global::System.MathF";
        public const string Span = "global::System.Span";
        public const string ReadOnlySpan = "global::System.ReadOnlySpan";
        public const string ArgumentException = "global::System.ArgumentException";
        public const string ArgumentOutOfRangeException = "global::System.ArgumentOutOfRangeException";
        public const string AggressiveInlining = "global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)";
    }

    /// <summary>
    /// Prints the output syntax tree as C#: four-space indentation, braces on their own lines, and the
    /// fewest parentheses that keep C#'s meaning.
    /// </summary>
    internal sealed class CsPrinter
    {
        private readonly StringBuilder _sb = new StringBuilder();
        private int _indent;

        // C# precedence, tightest first (lower binds tighter).
        private const int Primary = 0, Unary = 1, Multiplicative = 2, Additive = 3, Shift = 4, Relational = 5, Equality = 6,
            BitAnd = 7, BitXor = 8, BitOr = 9, LogicalAnd = 10, LogicalOr = 11, ConditionalPrec = 12, Lowest = 20;

        public override string ToString() => _sb.ToString();

        public void Line(string text = "")
        {
            if (text.Length == 0) { _sb.Append('\n'); return; }
            _sb.Append(' ', _indent * 4).Append(text).Append('\n');
        }

        public void Open(string header)
        {
            Line(header);
            Line("{");
            _indent++;
        }

        public void Close()
        {
            _indent--;
            Line("}");
        }

        // ------------------------------------------------------------------ members

        public void Method(CsMethod m)
        {
            if (m.Summary != null) Line("/// <summary>" + m.Summary + "</summary>");
            foreach (var a in m.Attributes) Line("[" + a + "]");
            var ps = string.Join(", ", m.Params.Select(p => (p.Modifier != null ? p.Modifier + " " : "") + Type(p.Type) + " " + p.Name));
            Open((m.Modifiers.Length > 0 ? m.Modifiers + " " : "") + Type(m.ReturnType) + " " + m.Name + "(" + ps + ")");
            Stmts(m.Body);
            Close();
            foreach (var t in m.Companions) NestedType(t);
        }

        private void NestedType(CsNestedType t)
        {
            Line("/// <summary>" + t.Summary + "</summary>");
            Open(t.Header);
            foreach (var f in t.Fields)
            {
                if (f.Summary != null) Line("/// <summary>" + f.Summary + "</summary>");
                Line(f.Modifiers + " " + Type(f.Type) + " " + f.Name + (f.Init != null ? " = " + Expr(f.Init) : "") + ";");
            }
            foreach (var n in t.Nested) NestedType(n);
            foreach (var m in t.Methods) Method(m);
            Close();
        }

        // ------------------------------------------------------------------ statements

        public void Stmts(CsBlock b)
        {
            foreach (var s in b.Stmts) Stmt(s);
        }

        public void Stmt(CsStmt s)
        {
            switch (s)
            {
                case CsBlock b:
                    Stmts(b);
                    break;
                case CsScope sc:
                    Line("{");
                    _indent++;
                    Stmts(sc.Body);
                    _indent--;
                    Line("}");
                    break;
                case CsComment c:
                    Line("// " + c.Text);
                    break;
                case CsRawStmt r:
                    Line(r.Text);
                    break;
                case CsIf i:
                    If(i, "if (");
                    break;
                case CsFor f:
                    {
                        string header = "for (" + (f.Init != null ? Inline(f.Init) : "") + "; " + (f.Condition != null ? Expr(f.Condition) : "") + "; " + (f.Step != null ? Inline(f.Step) : "") + ")";
                        if (f.Body.Stmts.Count == 1 && IsSimple(f.Body.Stmts[0]) && Compact(f))
                        {
                            Line(header + " " + Inline(f.Body.Stmts[0]) + ";");
                            break;
                        }
                        Open(header);
                        Stmts(f.Body);
                        Close();
                        break;
                    }
                case CsWhile w:
                    Open("while (" + Expr(w.Condition) + ")");
                    Stmts(w.Body);
                    Close();
                    break;
                default:
                    Line(Inline(s) + ";");
                    break;
            }
        }

        private void If(CsIf i, string head)
        {
            if (head == "if (" && LaneRewrite.IsGuard(i))
            {
                Line("if (" + Expr(i.Condition) + ") " + ((CsRawStmt)i.Then.Stmts[0]).Text);
                return;
            }
            Open(head + Expr(i.Condition) + ")");
            Stmts(i.Then);
            Close();
            if (i.Else == null || i.Else.Stmts.Count == 0) return;
            // An else holding only another if prints as else-if (a switch's chain stays flat).
            if (i.Else.Stmts.Count == 1 && i.Else.Stmts[0] is CsIf chained)
            {
                If(chained, "else if (");
                return;
            }
            Open("else");
            Stmts(i.Else);
            Close();
        }

        /// <summary>Lane loops (<c>for (int _q = 0; _q &lt; K; _q++) x[_q] = …;</c>) print on one line.</summary>
        private static bool Compact(CsFor f) => f.Init is CsLocal l && l.Name.StartsWith("_q", System.StringComparison.Ordinal);

        private static bool IsSimple(CsStmt s) => s is CsAssign || s is CsExprStmt || s is CsLocal;

        /// <summary>A simple statement without its semicolon (also for for-loop headers).</summary>
        private string Inline(CsStmt s)
        {
            switch (s)
            {
                case CsLocal l: return Type(l.Type) + " " + l.Name + (l.Init != null ? " = " + Expr(l.Init) : "");
                case CsAssign a: return Expr(a.Target) + " " + a.Op + " " + Expr(a.Value);
                case CsExprStmt e: return Expr(e.Expr);
                case CsReturn r: return r.Value != null ? "return " + Expr(r.Value) : "return";
                default: throw new System.InvalidOperationException("not a simple statement: " + s.GetType().Name);
            }
        }

        // ------------------------------------------------------------------ types and expressions

        public static string Type(CsType t)
        {
            if (t.Generic != null) return t.Generic + "<" + Type(t.Element!) + ">";
            if (t.Element != null) return Type(t.Element) + t.Name;
            return t.Name;
        }

        public static string Expr(CsExpr e) => Print(e, Lowest, false);

        private static int Precedence(CsExpr e)
        {
            switch (e)
            {
                case CsBinary b: return BinaryPrecedence(b.Op);
                case CsUnary _: return Unary;
                case CsCast _: return Unary;
                case CsConditional _: return ConditionalPrec;
                case CsLiteral l when l.Text.StartsWith("-", System.StringComparison.Ordinal): return Unary;
                default: return Primary;
            }
        }

        internal static int BinaryPrecedence(string op)
        {
            switch (op)
            {
                case "*": case "/": case "%": return Multiplicative;
                case "+": case "-": return Additive;
                case "<<": case ">>": return Shift;
                case "<": case "<=": case ">": case ">=": return Relational;
                case "==": case "!=": return Equality;
                case "&": return BitAnd;
                case "^": return BitXor;
                case "|": return BitOr;
                case "&&": return LogicalAnd;
                case "||": return LogicalOr;
                default: return Lowest;
            }
        }

        /// <summary>Prints e as an operand of an operator of precedence <paramref name="parent"/>.</summary>
        private static string Print(CsExpr e, int parent, bool rightOperand)
        {
            string text = PrintCore(e);
            int p = Precedence(e);
            bool paren = p > parent || (p == parent && rightOperand && p != Primary && p != Unary);
            return paren ? "(" + text + ")" : text;
        }

        private static string PrintCore(CsExpr e)
        {
            switch (e)
            {
                case CsName n: return n.Name;
                case CsVerbatim v: return v.Text;
                case CsLiteral l: return l.Text;
                case CsMember m: return Print(m.Target, Primary, false) + "." + m.Name + (m.TypeArgument != null ? "<" + Type(m.TypeArgument) + ">" : "");
                case CsNew n: return "new " + Type(n.Type) + "(" + Args(n.Args) + ")";
                case CsIndex ix when ix.Index is CsIndices jagged && jagged.Items.Count > 0 && jagged.Jagged:
                    return Print(ix.Target, Primary, false) + string.Concat(jagged.Items.Select(i => "[" + Expr(i) + "]"));
                case CsIndex ix: return Print(ix.Target, Primary, false) + "[" + Expr(ix.Index) + "]";
                case CsIndices ixs: return string.Join(", ", ixs.Items.Select(Expr));
                case CsInvoke inv: return Print(inv.Target, Primary, false) + "(" + Args(inv.Args) + ")";
                case CsMath m: return (m.IsMathF ? Names.MathF : Names.Math) + "." + m.Function + "(" + string.Join(", ", m.Args.Select(Expr)) + ")";
                case CsUnary u:
                    {
                        string operand = Print(u.Operand, Unary, false);
                        // "--x" would be a decrement and "- -1" reads badly: a nested sign gets parentheses.
                        if (operand.StartsWith("-", System.StringComparison.Ordinal) || operand.StartsWith("+", System.StringComparison.Ordinal)) operand = "(" + operand + ")";
                        return (u.Op == CsUnaryOp.Neg ? "-" : "!") + operand;
                    }
                case CsBinary b:
                    {
                        int p = BinaryPrecedence(b.Op);
                        return Print(b.Left, p, false) + " " + b.Op + " " + Print(b.Right, p, true);
                    }
                case CsConditional c:
                    return Print(c.Condition, ConditionalPrec - 1, false) + " ? " + Print(c.WhenTrue, ConditionalPrec, false) + " : " + Print(c.WhenFalse, ConditionalPrec, false);
                case CsCast c:
                    {
                        string operand = Print(c.Operand, Unary, false);
                        if (operand.StartsWith("-", System.StringComparison.Ordinal)) operand = "(" + operand + ")";
                        return "(" + Type(c.Type) + ")" + operand;
                    }
                case CsNewArray na:
                    {
                        // new double[n][] : the length goes to the innermost element type's first brackets.
                        var inner = na.Element;
                        string suffix = "";
                        while (inner.IsArray) { suffix = inner.Name + suffix; inner = inner.Element!; }
                        return "new " + Type(inner) + "[" + Expr(na.Length) + "]" + suffix;
                    }
                default:
                    throw new System.InvalidOperationException("no C# form for output node " + e.GetType().Name);
            }
        }

        private static string Args(IEnumerable<CsArg> args) =>
            string.Join(", ", args.Select(a => (a.Modifier != null ? a.Modifier + " " : "") + Expr(a.Value)));
    }
}
