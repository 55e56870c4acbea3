// Instance state, scalar fields: a room's thermal model as a building-simulation class would hold it.
using System;
using CorpusSupport;
using DiffGen;
using C = CorpusSupport.Check;

namespace Methods.Room;

public partial class ThermalZone
{
    public double Temperature;
    public double HeatCapacity;
    public double Conductance;
    public string Name { get; }

    public ThermalZone(string name, double temperature, double heatCapacity, double conductance)
    {
        Name = name;
        Temperature = temperature;
        HeatCapacity = heatCapacity;
        Conductance = conductance;
    }

    [Differentiable]
    public double HeatLoss(double outside) => Conductance * (Temperature - outside);

    [Differentiable]
    public void Update(double heaterPower, double outside, double dt)
    {
        if (dt <= 0) throw new ArgumentOutOfRangeException(nameof(dt));
        double net = heaterPower - HeatLoss(outside);
        Temperature += dt * net / HeatCapacity;
    }

    [Differentiable]
    public double Discomfort(double setpoint, double band)
    {
        double deviation = Temperature - setpoint;
        return deviation * deviation / (band * band) + Math.Log(1 + Math.Exp(deviation - band));
    }
}

public static class Driver
{
    // temperature, capacity, conductance, then the method's own arguments
    private static ThermalZone Zone(Reader r) => new("office", r.D(), r.D(), r.D());
    private static readonly double[] P3 = [21.5, 5.0e3, 120.0, 5.5];
    private static readonly double[] P5 = [21.5, 5.0e3, 120.0, 800.0, 5.5, 60.0];
    private static readonly double[] P5b = [21.5, 5.0e3, 120.0, 20.0, 1.5];

    private static double[] ZoneBar(ThermalZone bar) => [bar.Temperature, bar.HeatCapacity, bar.Conductance];

    public static string? Check() => C.All(
        C.Gradient("ThermalZone.HeatLoss", p => { var r = new Reader(p); return Zone(r).HeatLoss(r.D()); }, Ad.For("HeatLoss"), P3),
        C.Gradient("ThermalZone.Update", p => { var r = new Reader(p); var z = Zone(r); z.Update(r.D(), r.D(), r.D()); return new Writer().Add(z.Temperature).Loss(); }, Ad.For("Update"), P5),
        C.Gradient("ThermalZone.Discomfort", p => { var r = new Reader(p); return Zone(r).Discomfort(r.D(), r.D()); }, Ad.For("Discomfort"), P5b),
        C.Tangent("ThermalZone.HeatLossPushforward", p => { var r = new Reader(p); return [Zone(r).HeatLoss(r.D())]; }, Dot.For("HeatLoss"), P3, [0.5, 30.0, -2.0, 0.7]),
        Ad.Unused(), Dot.Unused());

#if DIFFGEN_PRIMAL_ONLY
    private static readonly Gradients Ad = new();
    private static readonly Tangents Dot = new();
#else
    private static readonly Gradients Ad = new()
    {
        ["HeatLoss"] = p =>
        {
            var r = new Reader(p); var z = Zone(r); var bar = z.CreateShadow(); double outsideBar = 0;
            z.HeatLossPullback(r.D(), 1.0, bar, ref outsideBar);
            return [.. ZoneBar(bar), outsideBar];
        },
        ["Update"] = p =>
        {
            var r = new Reader(p); var z = Zone(r); var bar = z.CreateShadow();
            bar.Temperature = Data.Weight(0);
            double powerBar = 0, outsideBar = 0, dtBar = 0;
            z.UpdatePullback(r.D(), r.D(), r.D(), bar, ref powerBar, ref outsideBar, ref dtBar);
            return [.. ZoneBar(bar), powerBar, outsideBar, dtBar];
        },
        ["Discomfort"] = p =>
        {
            var r = new Reader(p); var z = Zone(r); var bar = z.CreateShadow(); double sBar = 0, bBar = 0;
            z.DiscomfortPullback(r.D(), r.D(), 1.0, bar, ref sBar, ref bBar);
            return [.. ZoneBar(bar), sBar, bBar];
        },
    };

    private static readonly Tangents Dot = new()
    {
        ["HeatLoss"] = (p, v) =>
        {
            var r = new Reader(p); var z = Zone(r);
            var d = new Reader(v); var zDot = z.CreateShadow();
            zDot.Temperature = d.D(); zDot.HeatCapacity = d.D(); zDot.Conductance = d.D();
            var (value, tangent) = z.HeatLossPushforward(zDot, r.D(), d.D());
            return [tangent];
        },
    };
#endif
}
