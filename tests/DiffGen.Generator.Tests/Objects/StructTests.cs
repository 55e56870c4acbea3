using System.Numerics;

namespace DiffGen.Generator.Tests.Objects;

/// <summary>Structs, System.Numerics vectors, arrays of structs and user operators: gradients against finite differences.</summary>
public class StructTests
{
    private static Vector3[] Positions() => [new(0f, 0f, 0f), new(1.1f, 0.2f, -0.1f), new(0.1f, 0.9f, 0.3f), new(1.2f, 1.0f, 0.2f)];

    private static Spring[] Springs() => [new(0, 1, 1f, 20f), new(0, 2, 1f, 25f), new(1, 3, 1f, 30f), new(2, 3, 1.1f, 15f), new(0, 3, 1.4f, 10f)];

    private static float[] Flatten(Vector3[] v) => v.SelectMany(x => new[] { x.X, x.Y, x.Z }).ToArray();

    private static Vector3[] Unflatten(double[] p, int offset, int n) => Enumerable.Range(0, n).Select(i => new Vector3((float)p[offset + 3 * i], (float)p[offset + 3 * i + 1], (float)p[offset + 3 * i + 2])).ToArray();

    /// <summary>Float code is checked against float finite differences at float tolerance.</summary>
    private static double[] FloatFd(Func<double[], double> f, double[] x, double h = 1e-2)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var p = (double[])x.Clone(); var m = (double[])x.Clone();
            p[i] += h; m[i] -= h;
            g[i] = (f(p) - f(m)) / (2 * h);
        }
        return g;
    }

    [Fact]
    public void SpringForces_OnVector3Arrays()
    {
        var weights = new Vector3[4];
        for (int i = 0; i < 4; i++) weights[i] = new Vector3(0.3f * i - 0.5f, 0.7f - 0.2f * i, 0.1f * i);
        double Loss(double[] p)
        {
            var pos = Unflatten(p, 0, 4);
            var forces = new Vector3[4];
            StructKernels.SpringForces(pos, Springs(), forces, new Vector3((float)p[12], (float)p[13], (float)p[14]));
            double l = 0;
            for (int i = 0; i < 4; i++) l += Vector3.Dot(weights[i], forces[i]);
            return l;
        }
        double[] x = [.. Flatten(Positions()).Select(v => (double)v), 0.0, -9.81, 0.0];
        var positions = Positions();
        var f = new Vector3[4];
        var posBar = new Vector3[4];
        var springBar = new Spring[5];
        var forceBar = (Vector3[])weights.Clone();
        var gravityBar = Vector3.Zero;
        StructKernels.SpringForcesPullback(positions, Springs(), f, new Vector3(0f, -9.81f, 0f), posBar, springBar, forceBar, ref gravityBar);
        double[] ad = [.. Flatten(posBar).Select(v => (double)v), gravityBar.X, gravityBar.Y, gravityBar.Z];
        GradCheck.AssertClose(ad, FloatFd(Loss, x), 2e-3, "dL/d(positions, gravity)");
        // The seeded output adjoint is consumed; the stiffness adjoints land in the springs' shadow.
        Assert.All(forceBar, v => Assert.Equal(Vector3.Zero, v));
        double StiffnessLoss(double[] k)
        {
            var springs = Springs();
            for (int s = 0; s < springs.Length; s++) springs[s].Stiffness = (float)k[s];
            var forces = new Vector3[4];
            StructKernels.SpringForces(Positions(), springs, forces, new Vector3(0f, -9.81f, 0f));
            double l = 0;
            for (int i = 0; i < 4; i++) l += Vector3.Dot(weights[i], forces[i]);
            return l;
        }
        GradCheck.AssertClose(springBar.Select(s => (double)s.Stiffness).ToArray(), FloatFd(StiffnessLoss, Springs().Select(s => (double)s.Stiffness).ToArray(), 1e-1), 2e-3, "dL/dstiffness");
    }

    [Fact]
    public void VectorFunctions_Pullback_AndPushforward()
    {
        double F(double[] p) => StructKernels.Geometry(new Vector3((float)p[0], (float)p[1], (float)p[2]), new Vector3((float)p[3], (float)p[4], (float)p[5]), (float)p[6]);
        double[] x = [0.3, -0.4, 1.2, 0.8, 0.5, -0.2, 0.35];
        var a = new Vector3(0.3f, -0.4f, 1.2f);
        var b = new Vector3(0.8f, 0.5f, -0.2f);
        var aBar = Vector3.Zero;
        var bBar = Vector3.Zero;
        float tBar = 0;
        float y = StructKernels.GeometryPullback(a, b, 0.35f, 1f, ref aBar, ref bBar, ref tBar);
        Assert.Equal(StructKernels.Geometry(a, b, 0.35f), y);
        double[] ad = [aBar.X, aBar.Y, aBar.Z, bBar.X, bBar.Y, bBar.Z, tBar];
        var fd = FloatFd(F, x, 1e-3);
        GradCheck.AssertClose(ad, fd, 2e-3, "gradient");
        var (value, tangent) = StructKernels.GeometryPushforward(a, new Vector3(1f, 0f, 0.5f), b, new Vector3(0f, -1f, 0f), 0.35f, 2f);
        Assert.Equal(y, value);
        double expected = fd[0] + 0.5 * fd[2] - fd[4] + 2 * fd[6];
        GradCheck.AssertClose([tangent], [expected], 2e-3, "tangent");
    }

    [Fact]
    public void UserOperatorsAndStructResults_Rk4()
    {
        double F(double[] p) => StructKernels.Energy(new State2(p[0], p[1]), p[2], p[3], 5);
        double[] x = [0.7, -0.3, 2.5, 0.1];
        var sBar = default(State2);
        double kBar = 0, dtBar = 0;
        double e = StructKernels.EnergyPullback(new State2(0.7, -0.3), 2.5, 0.1, 5, 1.0, ref sBar, ref kBar, ref dtBar);
        Assert.Equal(F(x), e);
        GradCheck.AssertClose([sBar.Position, sBar.Velocity, kBar, dtBar], GradCheck.FiniteDifferenceGradient(F, x));

        // A struct result: its adjoint is a struct of its type.
        var seed = new State2(1.5, -0.5);
        var s2Bar = default(State2);
        double k2 = 0, dt2 = 0;
        var r = StructKernels.Rk4Pullback(new State2(0.7, -0.3), 2.5, 0.1, seed, ref s2Bar, ref k2, ref dt2);
        Assert.Equal(StructKernels.Rk4(new State2(0.7, -0.3), 2.5, 0.1), r);
        double G(double[] p) { var o = StructKernels.Rk4(new State2(p[0], p[1]), p[2], p[3]); return 1.5 * o.Position - 0.5 * o.Velocity; }
        GradCheck.AssertClose([s2Bar.Position, s2Bar.Velocity, k2, dt2], GradCheck.FiniteDifferenceGradient(G, x));

        var (value, tangent) = StructKernels.Rk4Pushforward(new State2(0.7, -0.3), new State2(1, 0), 2.5, 0.0, 0.1, 0.0);
        Assert.Equal(r, value);
        double Gp(double[] p) => StructKernels.Rk4(new State2(p[0], -0.3), 2.5, 0.1).Position;
        GradCheck.AssertClose([tangent.Position], GradCheck.FiniteDifferenceGradient(Gp, [0.7]), 1e-6, "tangent");
    }
}
