using System.Reflection;
using DiffGen.CompilerServices;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Rules;

namespace DiffGen.Generator.Tests.Rules;

/// <summary>
/// The derivative rule table against central finite differences of System.Math, and the runtime's
/// DualMath (what dual pullbacks call) against the table: the two places a derivative of a Math
/// function is written must agree.
/// </summary>
public class RuleTableTests
{
    /// <summary>Points inside every function's domain, one row per argument count.</summary>
    private static readonly double[][] Points1 = [[0.3], [-0.45], [0.8]];
    private static readonly double[][] Points2 = [[0.7, 1.3], [1.9, 0.4], [-0.6, 0.2]];
    private static readonly double[][] Points3 = [[0.3, -0.5, 0.5], [0.9, -0.5, 0.5], [-0.8, -0.5, 0.5]];

    // Theory data by name: the IR's enums are internal to the generator.
    public static TheoryData<string> Functions()
    {
        var data = new TheoryData<string>();
        foreach (var f in DerivativeRules.Functions) data.Add(f.ToString());
        return data;
    }

    private static int Arity(MathFn f) => f switch
    {
        MathFn.Pow or MathFn.Min or MathFn.Max or MathFn.Atan2 => 2,
        MathFn.Clamp or MathFn.FusedMultiplyAdd => 3,
        _ => 1,
    };

    private static double[][] PointsFor(MathFn f) => Arity(f) switch
    {
        1 => f is MathFn.Log or MathFn.Log10 or MathFn.Log2 or MathFn.Sqrt ? [[0.3], [1.7], [0.8]] : Points1,
        2 => f == MathFn.Pow ? [[0.7, 1.3], [1.9, 2.4], [2.2, -0.5]] : Points2,
        _ => f == MathFn.Clamp ? Points3 : [[0.7, 1.3, -0.2], [1.9, 0.4, 2.0]],
    };

    private static MathCall Call(MathFn f) =>
        new(f, false, Enumerable.Range(0, Arity(f)).Select(i => (Expr)new VarRef(i, Ty.Double)).ToEquatableArray(), Ty.Double);

    private static double Primal(MathFn f, double[] x) => f switch
    {
        MathFn.Pow => Math.Pow(x[0], x[1]),
        MathFn.Min => Math.Min(x[0], x[1]),
        MathFn.Max => Math.Max(x[0], x[1]),
        MathFn.Atan2 => Math.Atan2(x[0], x[1]),
        MathFn.Clamp => Math.Clamp(x[0], x[1], x[2]),
        MathFn.FusedMultiplyAdd => Math.FusedMultiplyAdd(x[0], x[1], x[2]),
        MathFn.Sign => Math.Sign(x[0]),
        _ => (double)typeof(Math).GetMethod(f.ToString(), [typeof(double)])!.Invoke(null, [x[0]])!,
    };

    [Theory]
    [MemberData(nameof(Functions))]
    public void Partials_MatchFiniteDifferences(string name)
    {
        var f = Enum.Parse<MathFn>(name);
        var partials = DerivativeRules.Partials(Call(f));
        Assert.Equal(Arity(f), partials.Length);
        foreach (var x in PointsFor(f))
        {
            for (int i = 0; i < x.Length; i++)
            {
                double expected = DerivativeRules.IsPiecewiseConstant(f) ? 0 : Fd(v => Primal(f, v), x, i);
                double actual = partials[i] == null ? 0 : IrEval.Eval(partials[i]!, x);
                GradCheck.AssertClose([actual], [expected], 1e-7, $"d{f}/dx{i} at ({string.Join(", ", x)})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void DualMath_AgreesWithTheTable(string name)
    {
        var f = Enum.Parse<MathFn>(name);
        var method = typeof(DualMath).GetMethod(f.ToString(), Enumerable.Repeat(typeof(Dual), Arity(f)).ToArray());
        Assert.True(method != null, $"DualMath has no {f}({string.Join(", ", Enumerable.Repeat("Dual", Arity(f)))}): dual pullbacks of code calling Math.{f} would not compile");
        var partials = DerivativeRules.Partials(Call(f));
        foreach (var x in PointsFor(f))
        {
            for (int i = 0; i < x.Length; i++)
            {
                var args = x.Select((v, j) => (object)new Dual(v, j == i ? 1 : 0)).ToArray();
                object result = method!.Invoke(null, args)!;
                double value = result is Dual d ? d.Value : Convert.ToDouble(result, System.Globalization.CultureInfo.InvariantCulture);
                double tangent = result is Dual dt ? dt.Tangent : 0;
                Assert.Equal(Primal(f, x), value, 12);
                double expected = partials[i] == null ? 0 : IrEval.Eval(partials[i]!, x);
                GradCheck.AssertClose([tangent], [expected], 1e-12, $"DualMath.{f} tangent in x{i} at ({string.Join(", ", x)})");
            }
        }
    }

    [Fact]
    public void PiecewiseConstantFunctions_HaveNoPartials()
    {
        foreach (var f in DerivativeRules.Functions.Where(DerivativeRules.IsPiecewiseConstant))
            Assert.All(DerivativeRules.Partials(Call(f)), p => Assert.Null(p));
        Assert.Equal([MathFn.Floor, MathFn.Ceiling, MathFn.Round, MathFn.Truncate, MathFn.Sign], DerivativeRules.Functions.Where(DerivativeRules.IsPiecewiseConstant));
    }

    [Theory]
    [InlineData("Add")]
    [InlineData("Sub")]
    [InlineData("Mul")]
    [InlineData("Div")]
    [InlineData("Mod")]
    public void ArithmeticPartials_MatchFiniteDifferences(string name)
    {
        var op = Enum.Parse<BinOp>(name);
        var b = new Binary(op, new VarRef(0, Ty.Double), new VarRef(1, Ty.Double), Ty.Double);
        var partials = DerivativeRules.Partials(b);
        foreach (var x in new[] { new[] { 0.7, 1.3 }, [5.3, 1.7], [-2.2, 0.9] })
            for (int i = 0; i < 2; i++)
                GradCheck.AssertClose([IrEval.Eval(partials[i]!, x)], [Fd(v => IrEval.Eval(b, v), x, i)], 1e-7, $"{op} d/dx{i}");
    }

    private static double Fd(Func<double[], double> f, double[] x, int i)
    {
        const double h = 1e-6;
        var p = (double[])x.Clone();
        var m = (double[])x.Clone();
        p[i] += h;
        m[i] -= h;
        return (f(p) - f(m)) / (2 * h);
    }
}

/// <summary>Evaluates IR expressions over numbered double inputs (VarRef i reads x[i]): the table's partials, numerically.</summary>
internal static class IrEval
{
    public static double Eval(Expr e, double[] x) => e switch
    {
        Lit l => double.Parse(l.Text.TrimEnd('f', 'L'), System.Globalization.CultureInfo.InvariantCulture),
        VarRef v => x[v.Var],
        Unary { Op: UnOp.Neg } u => -Eval(u.Operand, x),
        Cast c => Eval(c.Operand, x),
        Conditional c => Truth(c.Condition, x) ? Eval(c.WhenTrue, x) : Eval(c.WhenFalse, x),
        Binary b => b.Op switch
        {
            BinOp.Add => Eval(b.Left, x) + Eval(b.Right, x),
            BinOp.Sub => Eval(b.Left, x) - Eval(b.Right, x),
            BinOp.Mul => Eval(b.Left, x) * Eval(b.Right, x),
            BinOp.Div => Eval(b.Left, x) / Eval(b.Right, x),
            BinOp.Mod => Eval(b.Left, x) % Eval(b.Right, x),
            _ => throw new NotSupportedException(b.Op.ToString()),
        },
        MathCall m => Call(m.Function, m.Args.Select(a => Eval(a, x)).ToArray()),
        _ => throw new NotSupportedException(e.GetType().Name),
    };

    private static bool Truth(Expr e, double[] x) => e is Binary b ? b.Op switch
    {
        BinOp.Lt => Eval(b.Left, x) < Eval(b.Right, x),
        BinOp.Le => Eval(b.Left, x) <= Eval(b.Right, x),
        BinOp.Gt => Eval(b.Left, x) > Eval(b.Right, x),
        BinOp.Ge => Eval(b.Left, x) >= Eval(b.Right, x),
        _ => throw new NotSupportedException(b.Op.ToString()),
    } : throw new NotSupportedException(e.GetType().Name);

    private static double Call(MathFn f, double[] a)
    {
        var method = typeof(Math).GetMethod(f.ToString(), Enumerable.Repeat(typeof(double), a.Length).ToArray())!;
        return Convert.ToDouble(method.Invoke(null, a.Cast<object>().ToArray()), System.Globalization.CultureInfo.InvariantCulture);
    }
}
