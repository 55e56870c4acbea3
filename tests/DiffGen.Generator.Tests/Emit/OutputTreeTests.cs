using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Tests.Emit;

/// <summary>The output tree's printer and simplifier, called directly (no Roslyn driver).</summary>
public class OutputTreeTests
{
    private static CsLiteral D(string v) => new(v, Ty.Double);
    private static CsLiteral I(int v) => CsLiteral.Int(v);
    private static string Print(CsExpr e) => CsPrinter.Expr(e);
    private static string Simple(CsExpr e) => Print(Simplifier.Simplify(e));

    [Fact]
    public void Printer_KeepsCSharpsMeaningWithFewestParentheses()
    {
        Assert.Equal("a - (b - c)", Print(Bin("-", N("a"), Bin("-", N("b"), N("c")))));
        Assert.Equal("a - b - c", Print(Bin("-", Bin("-", N("a"), N("b")), N("c"))));
        // Floating-point addition is not associative: a + (b + c) keeps its parentheses.
        Assert.Equal("a + (b + c)", Print(Bin("+", N("a"), Bin("+", N("b"), N("c")))));
        Assert.Equal("(a + b) * c", Print(Bin("*", Bin("+", N("a"), N("b")), N("c"))));
        Assert.Equal("-(-x)", Print(Neg(Neg(N("x")))));
        Assert.Equal("-(-1.0)", Print(Neg(D("-1.0"))));
        Assert.Equal("(int)(-x)", Print(new CsCast(CsType.Int, Neg(N("x")))));
        Assert.Equal("c ? a : b ? d : e", Print(new CsConditional(N("c"), N("a"), new CsConditional(N("b"), N("d"), N("e")))));
        Assert.Equal("(c ? a : b) * x", Print(Bin("*", new CsConditional(N("c"), N("a"), N("b")), N("x"))));
        Assert.Equal("u[i + 1]", Print(new CsIndex(N("u"), Bin("+", N("i"), I(1)))));
    }

    [Fact]
    public void Simplifier_DropsUnitsZerosAndDoubleNegations()
    {
        Assert.Equal("x", Simple(Bin("*", N("x"), D("1.0"))));
        Assert.Equal("-x", Simple(Bin("*", D("-1.0"), N("x"))));
        Assert.Equal("0.0", Simple(Bin("*", N("x"), D("0.0"))));
        Assert.Equal("x", Simple(Bin("+", D("0.0"), N("x"))));
        Assert.Equal("x", Simple(Neg(Neg(N("x")))));
        Assert.Equal("a - b", Simple(Bin("+", N("a"), Neg(N("b")))));
        Assert.Equal("-(a * b)", Simple(Bin("*", Neg(N("a")), N("b"))));
        Assert.Equal("t / c", Simple(Bin("*", N("t"), Bin("/", D("1.0"), N("c")))));
    }

    [Fact]
    public void Simplifier_NeverReassociatesIntegerDivision()
    {
        // t * (n / 2) with an int n truncates the division first; t * n / 2 would not (a wrong gradient once).
        Assert.Equal("t * (n / 2)", Simple(Bin("*", N("t"), Bin("/", N("n"), I(2)))));
        Assert.Equal("t * (1 / n)", Simple(Bin("*", N("t"), Bin("/", I(1), N("n")))));
    }

    [Fact]
    public void Simplifier_FoldsIntegerConstantsAndDecidedConditions()
    {
        Assert.Equal("ny - 2", Simple(Bin("-", Bin("-", N("ny"), I(1)), I(1))));
        Assert.Equal("n", Simple(Bin("+", Bin("-", N("n"), I(3)), I(3))));
        Assert.Equal("true", Simple(Bin(">", D("2.0"), D("0.0"))));
        Assert.Equal("false", Simple(Not(Bin(">", D("2.0"), D("0.0")))));
    }

    [Fact]
    public void CommonSubexpressions_AreHoistedOnceBeforeTheirFirstUse()
    {
        var cos = new CsMath("Cos", Ty.Double, false, new CsExpr[] { N("x") }.ToEquatableArray());
        var stmts = new List<CsStmt>
        {
            new CsLocal(CsType.Double, "t", N("bar")),
            Add(N("xBar"), Bin("/", N("t"), Bin("*", cos, cos))),
            Add(N("yBar"), Bin("*", N("t"), cos)),
        };
        int n = 0;
        var hoisted = Simplifier.HoistCommon(stmts, h => h + n++);
        var p = new CsPrinter();
        foreach (var s in hoisted) p.Stmt(s);
        Assert.Equal(
            "double t = bar;\n" +
            "var _c0 = global::System.Math.Cos(x);\n" +
            "xBar += t / (_c0 * _c0);\n" +
            "yBar += t * _c0;\n", p.ToString());
    }

    [Fact]
    public void CommonSubexpressions_OverAssignedNamesStayWhereTheyAre()
    {
        // x changes between the two uses: hoisting Cos(x) would read the wrong x.
        var cos = new CsMath("Cos", Ty.Double, false, new CsExpr[] { N("x") }.ToEquatableArray());
        var stmts = new List<CsStmt> { Add(N("a"), cos), Set(N("x"), N("y")), Add(N("b"), cos) };
        Assert.Equal(stmts, Simplifier.HoistCommon(stmts, h => h));
    }
}
