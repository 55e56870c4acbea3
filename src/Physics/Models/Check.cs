namespace DiffGen.Physics;

/// <summary>Argument checks shared by the model and grid classes.</summary>
internal static class Check
{
    public static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} must be positive (got {value}).", name);
    }

    public static void Positive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentException($"{name} must be a positive finite number (got {value}).", name);
    }

    public static void NonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value)) throw new ArgumentException($"{name} must be a non-negative finite number (got {value}).", name);
    }

    public static void Length(int actual, int expected, string name, string what)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} entries but {what} needs {expected}.", name);
    }

    public static void ExplicitDiffusion(double nu, double dt, double dx, double dy, int substeps, string dtName)
    {
        double max = Diffusion.MaxStableExplicitDt(nu, dx, dy, substeps);
        if (dt > max * (1 + 1e-12))
            throw new ArgumentException(
                $"Explicit diffusion is unstable: dt = {dt} exceeds the largest stable step {max:G6} for nu = {nu} with {substeps} substep(s). Use dt <= {max:G6} or more substeps (at least {Math.Ceiling(substeps * dt / max)}).",
                dtName);
    }
}
