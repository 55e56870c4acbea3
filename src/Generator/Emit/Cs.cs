using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Emit
{
    // The output syntax tree: a small C#-shaped tree that the reverse and tangent transformers build
    // and CsPrinter prints. It holds what generated code needs and nothing more; dual numbers and
    // vector lanes are rewrites of it (DualRewrite, LaneRewrite), simplification works on it
    // (Simplifier), and value equality makes common subexpressions easy to find.

    /// <summary>
    /// A type as generated code spells it. <see cref="Scalar"/> marks the IR's real scalar types, so
    /// that the dual rewrite can turn <c>double</c> into <c>DiffGen.Dual</c> wherever it occurs
    /// (also inside spans and arrays, through <see cref="Element"/>).
    /// </summary>
    internal sealed record CsType(string Name, Ty Scalar = Ty.Void, CsType? Element = null, string? Generic = null)
    {
        public static readonly CsType Double = new CsType("double", Ty.Double);
        public static readonly CsType Float = new CsType("float", Ty.Float);
        public static readonly CsType Int = new CsType("int", Ty.Int);
        public static readonly CsType Long = new CsType("long", Ty.Long);
        public static readonly CsType Bool = new CsType("bool", Ty.Bool);
        public static readonly CsType Void = new CsType("void");
        public static readonly CsType Var = new CsType("var");
        public static readonly CsType Tape = new CsType("global::DiffGen.Tape");

        public static CsType Of(Ty t)
        {
            switch (t)
            {
                case Ty.Double: return Double;
                case Ty.Float: return Float;
                case Ty.Int: return Int;
                case Ty.Long: return Long;
                case Ty.Bool: return Bool;
                case Ty.Void: return Void;
                default: throw new System.ArgumentOutOfRangeException(nameof(t), t, "an inactive value's type is spelled by its name");
            }
        }

        /// <summary>A variable's declared type: its scalar kind, or its array type (span parameters are spelled by <see cref="Param"/>).</summary>
        public static CsType OfVar(Var v) =>
            v.Storage == Storage.Scalar || v.IsContainer ? (v.Elem == Ty.Other ? new CsType(v.TypeName!) : Of(v.Elem))
            : v.IsList ? ListOf(ElementOf(v)) : ArrayOf(ElementOf(v), v.Rank, v.Jagged);

        /// <summary><c>List&lt;T&gt;</c>.</summary>
        public static CsType ListOf(CsType element) => GenericOf("global::System.Collections.Generic.List", element);

        /// <summary>The element type of an array or span variable (a struct or class for arrays of them).</summary>
        public static CsType ElementOf(Var v) => v.Aggregate ? new CsType(v.TypeName!) : Of(v.Elem);

        /// <summary>How a parameter of the primal is spelled (spans stay spans).</summary>
        public static CsType Param(Var v)
        {
            switch (v.Storage)
            {
                case Storage.Span: return SpanOf(ElementOf(v));
                case Storage.ReadOnlySpan: return ReadOnlySpanOf(ElementOf(v));
                case Storage.Array: return v.IsList ? ListOf(ElementOf(v)) : ArrayOf(ElementOf(v), v.Rank, v.Jagged);
                default: return v.Elem == Ty.Other ? new CsType(v.TypeName!) : Of(v.Elem);
            }
        }

        public static CsType ArrayOf(CsType element) => new CsType("[]", Element: element);

        /// <summary><c>T[]</c>, a rectangular <c>T[,]</c> (Name holds the rank's brackets), or a jagged <c>T[][]</c>.</summary>
        public static CsType ArrayOf(CsType element, int rank, bool jagged) =>
            jagged ? ArrayOf(ArrayOf(element)) : rank == 1 ? ArrayOf(element) : new CsType("[" + new string(',', rank - 1) + "]", Element: element);

        /// <summary>Whether this is an array type (<c>T[]</c>, <c>T[,]</c>, <c>T[][]</c>).</summary>
        public bool IsArray => Element != null && Generic == null;

        public static CsType SpanOf(CsType element) => new CsType("global::System.Span", Element: element, Generic: "global::System.Span");

        public static CsType ReadOnlySpanOf(CsType element) => new CsType("global::System.ReadOnlySpan", Element: element, Generic: "global::System.ReadOnlySpan");

        /// <summary>A generic type with one argument (<c>ValueStack&lt;double&gt;</c>).</summary>
        public static CsType GenericOf(string generic, CsType argument) => new CsType(generic, Element: argument, Generic: generic);

        public bool IsReal => Scalar == Ty.Double || Scalar == Ty.Float;
    }

    // ---------------------------------------------------------------- expressions

    internal abstract record CsExpr;

    /// <summary>An identifier, or a qualified name printed as given (<c>global::System.Math</c>).</summary>
    internal sealed record CsName(string Name) : CsExpr;

    /// <summary>A literal; Type says which real type a numeric literal has (it may be null for ints and bools).</summary>
    internal sealed record CsLiteral(string Text, Ty Type) : CsExpr
    {
        public static CsLiteral Zero(Ty t) => new CsLiteral(t == Ty.Float ? "0f" : t == Ty.Double ? "0.0" : t == Ty.Bool ? "false" : t == Ty.Long ? "0L" : "0", t);

        public static CsLiteral One(Ty t) => new CsLiteral(t == Ty.Float ? "1f" : t == Ty.Double ? "1.0" : t == Ty.Long ? "1L" : "1", t);

        public static CsLiteral Int(int v) => new CsLiteral(v.ToString(System.Globalization.CultureInfo.InvariantCulture), Ty.Int);

        public static readonly CsLiteral True = new CsLiteral("true", Ty.Bool);

        public static readonly CsLiteral False = new CsLiteral("false", Ty.Bool);
    }

    /// <summary><c>target.Name</c>, or <c>target.Name&lt;T&gt;</c> with a type argument (a generic method's name).</summary>
    internal sealed record CsMember(CsExpr Target, string Name, CsType? TypeArgument = null) : CsExpr;

    /// <summary><c>new T(args)</c>.</summary>
    internal sealed record CsNew(CsType Type, EquatableArray<CsArg> Args) : CsExpr;

    internal sealed record CsIndex(CsExpr Target, CsExpr Index) : CsExpr;

    /// <summary>
    /// The indices of a multi-dimensional element, as the Index of a <see cref="CsIndex"/> (<c>a[i, j]</c>,
    /// or <c>a[i][j]</c> when Jagged) or the Length of a <see cref="CsNewArray"/> (<c>new T[n, m]</c>).
    /// </summary>
    internal sealed record CsIndices(EquatableArray<CsExpr> Items, bool Jagged) : CsExpr;

    /// <summary>An argument: a value with an optional <c>ref</c>/<c>out</c>/<c>in</c>.</summary>
    internal sealed record CsArg(CsExpr Value, string? Modifier = null)
    {
        public static implicit operator CsArg(CsExpr e) => new CsArg(e);
    }

    internal sealed record CsInvoke(CsExpr Target, EquatableArray<CsArg> Args) : CsExpr
    {
        public CsInvoke(CsExpr target, IEnumerable<CsArg> args) : this(target, args.ToEquatableArray())
        {
        }
    }

    /// <summary>
    /// A call of System.Math/MathF (a function of the rule table) on values of type <see cref="Type"/>;
    /// kept apart from other calls so the dual rewrite can send it to DualMath.
    /// </summary>
    internal sealed record CsMath(string Function, Ty Type, bool IsMathF, EquatableArray<CsExpr> Args) : CsExpr;

    internal enum CsUnaryOp
    {
        Neg,
        Not,
    }

    internal sealed record CsUnary(CsUnaryOp Op, CsExpr Operand) : CsExpr;

    /// <summary>A binary operation; Op is the C# token (<c>+</c>, <c>&lt;=</c>, <c>&amp;&amp;</c>, …).</summary>
    internal sealed record CsBinary(string Op, CsExpr Left, CsExpr Right) : CsExpr;

    internal sealed record CsConditional(CsExpr Condition, CsExpr WhenTrue, CsExpr WhenFalse) : CsExpr;

    internal sealed record CsCast(CsType Type, CsExpr Operand) : CsExpr;

    /// <summary><c>new T[length]</c>.</summary>
    internal sealed record CsNewArray(CsType Element, CsExpr Length) : CsExpr;

    /// <summary>Text printed verbatim as a primary expression (a throw expression's text, a type in <c>nameof</c>).</summary>
    internal sealed record CsVerbatim(string Text) : CsExpr;

    /// <summary>
    /// A tangent in forward mode: of a scalar (Index null) or of an element. Tangent code is written once
    /// for one direction; <see cref="LaneRewrite"/> turns it into plain names (one direction) or into lane
    /// <c>_q</c> of K directions (<c>xDots[_q]</c>, <c>uDots[i * K + _q]</c>).
    /// </summary>
    internal sealed record CsTangent(string Name, CsExpr? Index, string? Path = null) : CsExpr;

    // ---------------------------------------------------------------- statements

    /// <summary>Tangent statements that run once per direction (a loop over the lanes in vector mode).</summary>
    internal sealed record CsLanes(CsBlock Body) : CsStmt;

    /// <summary>A tangent temporary (<c>T name = init</c> per direction; a scratch array of K in vector mode).</summary>
    internal sealed record CsTangentLocal(CsType Type, string Name, CsExpr Init) : CsStmt;

    internal abstract record CsStmt;

    internal sealed record CsBlock(EquatableArray<CsStmt> Stmts) : CsStmt
    {
        public CsBlock(IEnumerable<CsStmt> stmts) : this(stmts.ToEquatableArray())
        {
        }

        public static readonly CsBlock Empty = new CsBlock(EquatableArray<CsStmt>.Empty);
    }

    /// <summary>A nested <c>{ … }</c> (a scope for the temporaries of one statement's reverse).</summary>
    internal sealed record CsScope(CsBlock Body) : CsStmt;

    /// <summary><c>T name = init;</c> (Type <see cref="CsType.Var"/> prints <c>var</c>).</summary>
    internal sealed record CsLocal(CsType Type, string Name, CsExpr? Init) : CsStmt;

    /// <summary><c>target op value;</c> with op <c>=</c>, <c>+=</c> or <c>-=</c>.</summary>
    internal sealed record CsAssign(CsExpr Target, string Op, CsExpr Value) : CsStmt;

    internal sealed record CsExprStmt(CsExpr Expr) : CsStmt;

    internal sealed record CsIf(CsExpr Condition, CsBlock Then, CsBlock? Else) : CsStmt;

    /// <summary><c>for (init; condition; step) body</c>; Init is a CsLocal or null, Step an expression statement or assignment.</summary>
    internal sealed record CsFor(CsStmt? Init, CsExpr? Condition, CsStmt? Step, CsBlock Body) : CsStmt;

    internal sealed record CsWhile(CsExpr Condition, CsBlock Body) : CsStmt;

    internal sealed record CsReturn(CsExpr? Value) : CsStmt;

    /// <summary>A statement printed verbatim (a user's <c>throw</c>).</summary>
    internal sealed record CsRawStmt(string Text) : CsStmt;

    /// <summary><c>// text</c>.</summary>
    internal sealed record CsComment(string Text) : CsStmt;

    // ---------------------------------------------------------------- members

    internal sealed record CsParam(CsType Type, string Name, string? Modifier = null);

    internal sealed record CsMethod(
        string? Summary,
        EquatableArray<string> Attributes,
        string Modifiers,
        CsType ReturnType,
        string Name,
        EquatableArray<CsParam> Params,
        CsBlock Body,
        EquatableArray<CsNestedType> Companions = default);

    /// <summary>
    /// A field of a <see cref="CsNestedType"/> (public unless other modifiers are given; optionally initialised).
    /// A <paramref name="Summary"/> is printed as its XML doc comment: a public field of a public type needs one,
    /// or a consumer building with documentation and warnings as errors fails on CS1591.
    /// </summary>
    internal sealed record CsField(CsType Type, string Name, string Modifiers = "public", CsExpr? Init = null, string? Summary = null);

    /// <summary>
    /// A type nested in the partial type, printed after the method that uses it (<see cref="CsMethod.Companions"/>):
    /// the <c>ref struct</c> holding one parallel loop's spans and chunk body.
    /// </summary>
    internal sealed record CsNestedType(string Summary, string Header, EquatableArray<CsField> Fields, EquatableArray<CsMethod> Methods, EquatableArray<CsNestedType> Nested = default);

    /// <summary>Shorthands for building the tree.</summary>
    internal static class Cs
    {
        public static CsName N(string name) => new CsName(name);

        public static CsExpr Call(string target, params CsArg[] args) => new CsInvoke(new CsName(target), args);

        public static CsExpr Call(CsExpr target, params CsArg[] args) => new CsInvoke(target, args);

        public static CsExpr Member(CsExpr target, string name) => new CsMember(target, name);

        public static CsExpr Member(string target, string name) => new CsMember(new CsName(target), name);

        public static CsArg Ref(CsExpr e) => new CsArg(e, "ref");

        public static CsStmt Do(CsExpr e) => new CsExprStmt(e);

        public static CsStmt Set(CsExpr target, CsExpr value) => new CsAssign(target, "=", value);

        public static CsStmt Add(CsExpr target, CsExpr value) => new CsAssign(target, "+=", value);

        public static CsBlock Block(params CsStmt[] stmts) => new CsBlock(stmts);

        public static CsBlock Block(IEnumerable<CsStmt> stmts) => new CsBlock(stmts);

        public static CsExpr Bin(string op, CsExpr l, CsExpr r) => new CsBinary(op, l, r);

        public static CsExpr Neg(CsExpr e) => new CsUnary(CsUnaryOp.Neg, e);

        public static CsExpr Not(CsExpr e) => new CsUnary(CsUnaryOp.Not, e);
    }
}
