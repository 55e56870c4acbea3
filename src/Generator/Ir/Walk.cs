using System;
using System.Collections.Generic;
using System.Linq;

namespace DiffGen.Generator.Ir
{
    /// <summary>
    /// The one traversal of the IR: the direct children of an expression or a statement, the
    /// expressions a statement holds itself, and bottom-up rewriting. Every analysis walks through it,
    /// so a new node kind is taught to the walkers here once.
    /// </summary>
    internal static class Walk
    {
        /// <summary>The direct sub-expressions of e, in evaluation order.</summary>
        public static IEnumerable<Expr> Children(Expr e)
        {
            switch (e)
            {
                case ElemRef el: return new[] { el.Index };
                case Indices ix: return ix.Items;
                case LenRef len when len.Row != null: return new[] { len.Row };
                case Unary u: return new[] { u.Operand };
                case Binary b: return new[] { b.Left, b.Right };
                case Conditional c: return new[] { c.Condition, c.WhenTrue, c.WhenFalse };
                case Cast c: return new[] { c.Operand };
                case MathCall m: return m.Args;
                case Opaque o: return o.Receiver != null ? new[] { o.Receiver }.Concat(o.Args) : o.Args;
                default: return Enumerable.Empty<Expr>();
            }
        }

        /// <summary>e and every expression inside it, parents first.</summary>
        public static IEnumerable<Expr> Descendants(Expr e)
        {
            yield return e;
            foreach (var c in Children(e))
                foreach (var d in Descendants(c))
                    yield return d;
        }

        /// <summary>The direct child statements of s (blocks of ifs and loops, statements of blocks), in program order.</summary>
        public static IEnumerable<Stmt> Children(Stmt s)
        {
            switch (s)
            {
                case Block b: return b.Stmts;
                case If i: return new Stmt[] { i.Then, i.Else };
                case ForLoop f: return new Stmt[] { f.Init, f.Body };
                case WhileLoop w: return new Stmt[] { w.Init, w.Body, w.Step };
                case Inlined inl: return new Stmt[] { inl.Body };
                default: return Enumerable.Empty<Stmt>();
            }
        }

        /// <summary>s and every statement inside it, parents first.</summary>
        public static IEnumerable<Stmt> Descendants(Stmt s)
        {
            yield return s;
            foreach (var c in Children(s))
                foreach (var d in Descendants(c))
                    yield return d;
        }

        /// <summary>The expressions s holds itself (not those of its child statements).</summary>
        public static IEnumerable<Expr> Exprs(Stmt s)
        {
            switch (s)
            {
                case Assign a: return new[] { a.Target, a.Value };
                case Alloc al: return new[] { al.Length };
                case RowAlloc ra: return new[] { ra.Row, ra.Length };
                case If i: return new[] { i.Condition };
                case ForLoop f: return new[] { f.Start, f.Condition };
                case WhileLoop w: return new[] { w.Condition };
                case Call c: return c.Args;
                case Return r when r.Value != null: return new[] { r.Value };
                default: return Enumerable.Empty<Expr>();
            }
        }

        /// <summary>Whether e reads variable <paramref name="var"/> anywhere (value, element, index or length).</summary>
        public static bool Uses(Expr e, int var) => Descendants(e).Any(x =>
            x is VarRef v && v.Var == var || x is ElemRef el && el.Var == var || x is LenRef l && l.Var == var);

        /// <summary>
        /// Rewrites e bottom-up: children first, then <paramref name="rewrite"/> on the rebuilt node
        /// (returning null keeps it).
        /// </summary>
        public static Expr Map(Expr e, Func<Expr, Expr?> rewrite)
        {
            Expr rebuilt;
            switch (e)
            {
                case ElemRef el: rebuilt = el with { Index = Map(el.Index, rewrite) }; break;
                case Indices ix: rebuilt = ix with { Items = ix.Items.Select(a => Map(a, rewrite)).ToEquatableArray() }; break;
                case LenRef len when len.Row != null: rebuilt = len with { Row = Map(len.Row, rewrite) }; break;
                case Unary u: rebuilt = u with { Operand = Map(u.Operand, rewrite) }; break;
                case Binary b: rebuilt = b with { Left = Map(b.Left, rewrite), Right = Map(b.Right, rewrite) }; break;
                case Conditional c: rebuilt = c with { Condition = Map(c.Condition, rewrite), WhenTrue = Map(c.WhenTrue, rewrite), WhenFalse = Map(c.WhenFalse, rewrite) }; break;
                case Cast c: rebuilt = c with { Operand = Map(c.Operand, rewrite) }; break;
                case MathCall m: rebuilt = m with { Args = m.Args.Select(a => Map(a, rewrite)).ToEquatableArray() }; break;
                case Opaque o: rebuilt = o with { Receiver = o.Receiver == null ? null : Map(o.Receiver, rewrite), Args = o.Args.Select(a => Map(a, rewrite)).ToEquatableArray() }; break;
                default: rebuilt = e; break;
            }
            return rewrite(rebuilt) ?? rebuilt;
        }
    }

    /// <summary>How the operators of the IR are written and bind in C#.</summary>
    internal static class Ops
    {
        public static string Text(BinOp op)
        {
            switch (op)
            {
                case BinOp.Add: return "+";
                case BinOp.Sub: return "-";
                case BinOp.Mul: return "*";
                case BinOp.Div: return "/";
                case BinOp.Mod: return "%";
                case BinOp.Lt: return "<";
                case BinOp.Le: return "<=";
                case BinOp.Gt: return ">";
                case BinOp.Ge: return ">=";
                case BinOp.Eq: return "==";
                case BinOp.Ne: return "!=";
                case BinOp.LogicalAnd: return "&&";
                case BinOp.LogicalOr: return "||";
                case BinOp.BitAnd: return "&";
                case BinOp.BitOr: return "|";
                case BinOp.BitXor: return "^";
                default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
            }
        }

        public static string Text(UnOp op) => op == UnOp.Neg ? "-" : "!";

        /// <summary>The operator a C# token denotes, for the operators the IR has.</summary>
        public static bool TryParse(string text, out BinOp op)
        {
            foreach (BinOp o in Enum.GetValues(typeof(BinOp)))
                if (Text(o) == text) { op = o; return true; }
            op = default;
            return false;
        }

        public static bool IsComparison(BinOp op) => op >= BinOp.Lt && op <= BinOp.Ne;

        public static bool IsLogical(BinOp op) => op == BinOp.LogicalAnd || op == BinOp.LogicalOr;

        public static bool IsBitwise(BinOp op) => op == BinOp.BitAnd || op == BinOp.BitOr || op == BinOp.BitXor;
    }
}
