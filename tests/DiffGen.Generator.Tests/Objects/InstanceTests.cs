namespace DiffGen.Generator.Tests.Objects;

/// <summary>Instance methods reading and writing fields and auto-properties of this: gradients against finite differences.</summary>
public class InstanceTests
{
    // Room state vector: Temperature, HeatCapacity, Conductance, Area.
    private static Room MakeRoom(double[] s) => new("office", s[0], s[1], s[2], s[3]);

    private static double[] RoomBar(Room bar) => [bar.Temperature, bar.HeatCapacity, bar.Conductance, bar.Area];

    private static readonly double[] RoomState = [21.5, 50.0, 1.2, 3.0];

    [Fact]
    public void ExpressionBodiedMethod_ReadsFieldsAndProperties()
    {
        double F(double[] p) => MakeRoom(p).HeatLoss(p[4]);
        double[] x = [.. RoomState, 5.5];
        var room = MakeRoom(x);
        var bar = new Room("bar", 0, 0, 0, 0);
        double outsideBar = 0;
        double y = room.HeatLossPullback(x[4], 1.0, bar, ref outsideBar);
        Assert.Equal(F(x), y);
        GradCheck.AssertClose([.. RoomBar(bar), outsideBar], GradCheck.FiniteDifferenceGradient(F, x));
    }

    [Fact]
    public void VoidMethod_UpdatesAField_ShadowSemantics()
    {
        // L = w · Temperature after the update; the shadow is seeded with w on Temperature and ends with dL/dstate.
        const double w = 1.7;
        double F(double[] p) { var r = MakeRoom(p); r.Update(p[4], p[5], p[6]); return w * r.Temperature; }
        double[] x = [.. RoomState, 80.0, 5.5, 0.1];
        var room = MakeRoom(x);
        var bar = new Room("bar", w, 0, 0, 0);
        double powerBar = 0, outsideBar = 0, dtBar = 0;
        room.UpdatePullback(x[4], x[5], x[6], bar, ref powerBar, ref outsideBar, ref dtBar);
        // The pullback leaves the primal state as the method does.
        var expected = MakeRoom(x);
        expected.Update(x[4], x[5], x[6]);
        Assert.Equal(expected.Temperature, room.Temperature);
        Assert.Equal(1, room.Steps);
        GradCheck.AssertClose([.. RoomBar(bar), powerBar, outsideBar, dtBar], GradCheck.FiniteDifferenceGradient(F, x));
    }

    [Fact]
    public void FieldOverwrittenInALoop_IsRestoredAndDifferentiated()
    {
        double F(double[] p) => MakeRoom(p).Simulate(p[4], p[5], p[6], 7);
        double[] x = [.. RoomState, 80.0, 5.5, 0.1];
        var room = MakeRoom(x);
        var bar = new Room("bar", 0, 0, 0, 0);
        double powerBar = 0, outsideBar = 0, dtBar = 0;
        double y = room.SimulatePullback(x[4], x[5], x[6], 7, 1.0, bar, ref powerBar, ref outsideBar, ref dtBar);
        Assert.Equal(F(x), y);
        var after = MakeRoom(x);
        after.Simulate(x[4], x[5], x[6], 7);
        Assert.Equal(after.Temperature, room.Temperature);
        GradCheck.AssertClose([.. RoomBar(bar), powerBar, outsideBar, dtBar], GradCheck.FiniteDifferenceGradient(F, x));

        // Forward mode: the tangent of this is a second instance holding the direction.
        double[] v = [0.3, -2.0, 0.05, 0.4, 1.5, -0.5, 0.01];
        var dot = new Room("dot", v[0], v[1], v[2], 0);
        var (value, tangent) = MakeRoom(x).SimulatePushforward(dot, x[4], v[4], x[5], v[5], x[6], v[6], 7);
        Assert.Equal(F(x), value);
        double expectedTangent = 0;
        var g = GradCheck.FiniteDifferenceGradient(F, x);
        for (int i = 0; i < v.Length; i++) expectedTangent += (i == 3 ? 0 : v[i]) * g[i];
        GradCheck.AssertClose([tangent], [expectedTangent], 1e-6, "tangent");
    }

    [Fact]
    public void ArrayFieldAndPrivateReadonlyField()
    {
        double[] weights = [0.3, -0.7, 1.1];
        double[] xs = [1, 2, 0.5, -1, 0.3, 0.2, 2, -0.5, 1];
        double[] ys = [0.4, -0.2, 1.3];
        double F(double[] p) => new LinearModel(p[..3], p[3], 0.05).Loss(xs, ys);
        double[] state = [.. weights, 0.25];
        var model = new LinearModel((double[])weights.Clone(), 0.25, 0.05);
        var bar = new LinearModel(new double[3], 0, 0);
        var xBar = new double[xs.Length];
        var yBar = new double[ys.Length];
        double y = model.LossPullback(xs, ys, 1.0, bar, xBar, yBar);
        Assert.Equal(F(state), y);
        GradCheck.AssertClose([.. bar.Weights, bar.Bias], GradCheck.FiniteDifferenceGradient(F, state));
        GradCheck.AssertClose(yBar, GradCheck.FiniteDifferenceGradient(yy => new LinearModel((double[])weights.Clone(), 0.25, 0.05).Loss(xs, yy), ys));
    }

    [Fact]
    public void InPlaceUpdateOfAnArrayField_ShadowSemantics()
    {
        double[] seed = [0.5, -1.0, 2.0];
        double F(double[] p) { var m = new LinearModel(p[..3], p[3], 0.05); m.Decay(p[4]); return seed[0] * m.Weights[0] + seed[1] * m.Weights[1] + seed[2] * m.Weights[2] + 3 * m.Bias; }
        double[] x = [0.3, -0.7, 1.1, 0.25, 0.1];
        var model = new LinearModel(x[..3], x[3], 0.05);
        var bar = new LinearModel((double[])seed.Clone(), 3, 0);
        double rateBar = 0;
        model.DecayPullback(x[4], bar, ref rateBar);
        Assert.Equal(0.3 * 0.9, model.Weights[0], 12);
        GradCheck.AssertClose([.. bar.Weights, bar.Bias, rateBar], GradCheck.FiniteDifferenceGradient(F, x));
    }
}

/// <summary>The generated CreateShadow/ZeroAdjoint of types with differentiated state.</summary>
public class ShadowTests
{
    [Fact]
    public void CreateShadow_CopiesInactiveData_ZeroesTheRest_AndKeepsShapes()
    {
        var room = new Room("office", 21.5, 50, 1.2, 3.0) { Steps = 4 };
        var s = room.CreateShadow();
        Assert.NotSame(room, s);
        Assert.Equal("office", s.Name);
        Assert.Equal(4, s.Steps);
        Assert.Equal([0.0, 0.0, 0.0, 0.0], new[] { s.Temperature, s.HeatCapacity, s.Conductance, s.Area });

        var model = new LinearModel([0.3, -0.7, 1.1], 0.25, 0.05);
        var ms = model.CreateShadow();
        Assert.NotSame(model.Weights, ms.Weights);
        Assert.Equal(new double[3], ms.Weights);
        Assert.Equal(0.0, ms.Bias);

        // A shadow used as a seed, then zeroed for the next use.
        double rateBar = 0;
        ms.Weights[0] = 1;
        ms.Bias = 2;
        model.DecayPullback(0.1, ms, ref rateBar);
        Assert.NotEqual(0.0, ms.Weights[0]);
        ms.ZeroAdjoint();
        Assert.Equal(new double[3], ms.Weights);
        Assert.Equal(0.0, ms.Bias);
    }
}
