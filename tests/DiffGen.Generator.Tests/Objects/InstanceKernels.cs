namespace DiffGen.Generator.Tests.Objects;

/// <summary>A room's thermal model as a building-simulation class holds it: fields, an auto-property, a get-only property.</summary>
public partial class Room
{
    public double Temperature;
    public double HeatCapacity;
    public double Conductance { get; set; }
    public double Area { get; }
    public string Name { get; }
    public int Steps;

    public Room(string name, double temperature, double heatCapacity, double conductance, double area)
    {
        Name = name;
        Temperature = temperature;
        HeatCapacity = heatCapacity;
        Conductance = conductance;
        Area = area;
    }

    [Differentiable]
    public double HeatLoss(double outside) => Conductance * Area * (Temperature - outside);

    [Differentiable]
    public void Update(double heaterPower, double outside, double dt)
    {
        if (dt <= 0) throw new ArgumentOutOfRangeException(nameof(dt));
        double loss = Conductance * Area * (Temperature - outside);
        Temperature += dt * (heaterPower - loss) / HeatCapacity;
        Steps++;
    }

    [Differentiable]
    public double Simulate(double heaterPower, double outside, double dt, int steps)
    {
        double energy = 0;
        for (int k = 0; k < steps; k++)
        {
            double loss = Conductance * Area * (Temperature - outside);
            Temperature = Temperature + dt * (heaterPower - loss) / HeatCapacity;
            energy += loss * dt;
        }
        return energy + Temperature * Temperature;
    }
}

/// <summary>A small regression model holding its weights in an array field.</summary>
public sealed partial class LinearModel
{
    public double[] Weights { get; }
    public double Bias { get; set; }
    private readonly double _lambda;

    public LinearModel(double[] weights, double bias, double lambda)
    {
        Weights = weights;
        Bias = bias;
        _lambda = lambda;
    }

    [Differentiable]
    public double Loss(double[] x, double[] y)
    {
        double loss = 0;
        int n = Weights.Length;
        for (int i = 0; i < y.Length; i++)
        {
            double prediction = Bias;
            for (int j = 0; j < n; j++) prediction += Weights[j] * x[i * n + j];
            double r = prediction - y[i];
            loss += r * r;
        }
        double penalty = 0;
        for (int j = 0; j < Weights.Length; j++) penalty += Weights[j] * Weights[j];
        return loss / y.Length + _lambda * penalty;
    }

    [Differentiable]
    public void Decay(double rate)
    {
        for (int j = 0; j < Weights.Length; j++) Weights[j] *= 1 - rate;
        Bias = Bias * (1 - rate);
    }
}
