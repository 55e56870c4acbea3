namespace DiffGen.Physics;

/// <summary>
/// One time step of each model as a single <c>[Differentiable]</c> method (the generator adds
/// <c>{Name}Pullback</c> and its forward and reverse halves). The model classes (<see cref="Burgers1D"/>,
/// <see cref="Burgers2D"/>, <see cref="Smoke2D"/>, <see cref="WakeFlow2D"/>) validate arguments and call these.
/// </summary>
public static partial class ModelKernels
{
    /// <summary>
    /// 1D Burgers (EXPERIMENTS §1): explicit diffusion in <paramref name="substeps"/>, then semi-Lagrangian
    /// self-advection with linear interpolation (the diffused velocity advects itself).
    /// </summary>
    [Differentiable]
    public static void Burgers1DStep(ReadOnlySpan<double> u, Span<double> next, double nu, double dt, [NoDiff] double dx, int substeps, int lo, int hi)
    {
        double[] d = new double[u.Length];
        Diffusion.Explicit1D(u, d, nu, dt, dx, substeps, lo, hi);
        Advection.SemiLagrangianSelf1D(d, next, dt, dx, lo, hi);
    }

    /// <summary>1D Burgers with a force (EXPERIMENTS §4): <see cref="Burgers1DStep"/>, then <c>next += dt * force</c>.</summary>
    [Differentiable]
    public static void Burgers1DForcedStep(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next, double nu, double dt, [NoDiff] double dx, int substeps, int lo, int hi)
    {
        Burgers1DStep(u, next, nu, dt, dx, substeps, lo, hi);
        Operators.AddScaled(next, force, dt);
    }

    /// <summary>
    /// 1D Burgers with implicit (backward Euler, CG) diffusion, for settings where the explicit step would
    /// need many substeps (e.g. EXPERIMENTS §4 on 128 cells), then semi-Lagrangian self-advection.
    /// </summary>
    [Differentiable]
    public static void Burgers1DImplicitStep(ReadOnlySpan<double> u, Span<double> next, double nu, double dt, [NoDiff] double dx, int lo, int hi, [NoDiff] double tolerance, int maxIterations)
    {
        double[] d = new double[u.Length];
        Diffusion.Implicit2D(u, d, nu, dt, dx, 1.0, u.Length, 1, lo, hi, Bc.ZeroGradient, Bc.ZeroGradient, tolerance, maxIterations);
        Advection.SemiLagrangianSelf1D(d, next, dt, dx, lo, hi);
    }

    /// <summary><see cref="Burgers1DImplicitStep"/>, then <c>next += dt * force</c>.</summary>
    [Differentiable]
    public static void Burgers1DImplicitForcedStep(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next, double nu, double dt, [NoDiff] double dx, int lo, int hi, [NoDiff] double tolerance, int maxIterations)
    {
        Burgers1DImplicitStep(u, next, nu, dt, dx, lo, hi, tolerance, maxIterations);
        Operators.AddScaled(next, force, dt);
    }

    /// <summary>
    /// 2D Burgers on a cell-centred grid (EXPERIMENTS §3): explicit diffusion of (u, v), semi-Lagrangian
    /// self-advection, then <c>+= dt * (fu, fv)</c>.
    /// </summary>
    [Differentiable]
    public static void Burgers2DStep(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, Span<double> uOut, Span<double> vOut,
        int nx, int ny, [NoDiff] double dx, [NoDiff] double dy, double dt, double nu, int substeps, int xLo, int xHi, int yLo, int yHi)
    {
        double[] ud = new double[nx * ny];
        double[] vd = new double[nx * ny];
        Diffusion.Explicit2D(u, ud, nx, ny, nx, ny, nu, dt, dx, dy, substeps, xLo, xHi, yLo, yHi);
        Diffusion.Explicit2D(v, vd, nx, ny, nx, ny, nu, dt, dx, dy, substeps, xLo, xHi, yLo, yHi);
        Advection.SemiLagrangianCenteredSelf2D(ud, vd, uOut, vOut, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi, 0);
        Operators.AddScaled(uOut, fu, dt);
        Operators.AddScaled(vOut, fv, dt);
    }

    /// <summary>
    /// Smoke plume step (EXPERIMENTS §2): MacCormack advection of the smoke plus <paramref name="inflow"/>;
    /// semi-Lagrangian self-advection of the MAC velocity; buoyancy <c>dt * buoyancy * smoke</c> on the y-faces;
    /// walls; pressure projection. Velocity codes per side (the book: closed box, all <see cref="Bc.Zero"/>); the
    /// smoke's codes follow from them (<see cref="Bc.ScalarOf"/>: periodic stays, otherwise zero gradient).
    /// </summary>
    [Differentiable]
    public static void SmokeStep(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeOut, Span<double> uOut, Span<double> vOut, Span<double> p,
        int nx, int ny, [NoDiff] double dx, [NoDiff] double dy, double dt, double buoyancy, int xLo, int xHi, int yLo, int yHi, [NoDiff] double tolerance, int maxIterations)
    {
        int[] noSolid = new int[0];
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        int sxLo = Bc.ScalarOf(xLo);
        int sxHi = Bc.ScalarOf(xHi);
        int syLo = Bc.ScalarOf(yLo);
        int syHi = Bc.ScalarOf(yHi);
        Advection.MacCormackScalar2D(smoke, u, v, smokeOut, nx, ny, dx, dy, dt, sxLo, sxHi, syLo, syHi, xLo, xHi, yLo, yHi);
        Operators.AddScaled(smokeOut, inflow, 1.0);
        Advection.SemiLagrangianVelocity2D(u, v, ua, va, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi, 0);
        Fluids.AddBuoyancy(smokeOut, va, nx, ny, dt * buoyancy, sxLo, sxHi, syLo, syHi);
        Fluids.ApplyWalls(ua, va, nx, ny, xLo, xHi, yLo, yHi);
        Pressure.Project(ua, va, uOut, vOut, p, noSolid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, tolerance, maxIterations);
    }

    /// <summary>
    /// Wake-flow step (EXPERIMENTS §3): semi-Lagrangian self-advection, explicit diffusion, walls, inflow
    /// region (face masks blended towards (0, <paramref name="inflowVelocity"/>)), obstacle, projection.
    /// The masks are constants (<c>[NoDiff]</c>): the pullback neither takes nor computes their adjoints.
    /// </summary>
    [Differentiable]
    public static void WakeStep(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, Span<double> p, ReadOnlySpan<int> solid,
        [NoDiff] ReadOnlySpan<double> uInflowMask, [NoDiff] ReadOnlySpan<double> vInflowMask, int nx, int ny, [NoDiff] double dx, [NoDiff] double dy, double dt, double nu, double inflowVelocity, int substeps,
        int xLo, int xHi, int yLo, int yHi, [NoDiff] double tolerance, int maxIterations)
    {
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        double[] ub = new double[u.Length];
        double[] vb = new double[v.Length];
        Advection.SemiLagrangianVelocity2D(u, v, ua, va, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi, 0);
        Diffusion.Explicit2D(ua, ub, nx + 1, ny, nx, ny, nu, dt, dx, dy, substeps, xLo, xHi, yLo, yHi);
        Diffusion.Explicit2D(va, vb, nx, ny + 1, nx, ny, nu, dt, dx, dy, substeps, xLo, xHi, yLo, yHi);
        Fluids.ApplyWalls(ub, vb, nx, ny, xLo, xHi, yLo, yHi);
        Fluids.ApplyInflow(ub, vb, uInflowMask, vInflowMask, 0.0, inflowVelocity);
        Fluids.ApplyObstacle(ub, vb, solid, nx, ny);
        Pressure.Project(ub, vb, uOut, vOut, p, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, tolerance, maxIterations);
    }

    /// <summary>
    /// 3D smoke plume step (the 3D analogue of <see cref="SmokeStep"/>): MacCormack advection of the smoke plus
    /// <paramref name="inflow"/>; semi-Lagrangian self-advection of the MAC velocity; buoyancy
    /// <c>dt * buoyancy * smoke</c> on the y-faces (+y is up); walls; pressure projection. Velocity codes per side;
    /// the smoke's follow from them (<see cref="Bc.ScalarOf"/>).
    /// </summary>
    [Differentiable]
    public static void Smoke3DStep(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> inflow,
        Span<double> smokeOut, Span<double> uOut, Span<double> vOut, Span<double> wOut, Span<double> p,
        int nx, int ny, int nz, [NoDiff] double dx, [NoDiff] double dy, [NoDiff] double dz, double dt, double buoyancy,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, [NoDiff] double tolerance, int maxIterations)
    {
        int[] noSolid = new int[0];
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        double[] wa = new double[w.Length];
        int sxLo = Bc.ScalarOf(xLo);
        int sxHi = Bc.ScalarOf(xHi);
        int syLo = Bc.ScalarOf(yLo);
        int syHi = Bc.ScalarOf(yHi);
        int szLo = Bc.ScalarOf(zLo);
        int szHi = Bc.ScalarOf(zHi);
        Advection.MacCormackScalar3D(smoke, u, v, w, smokeOut, nx, ny, nz, dx, dy, dz, dt, sxLo, sxHi, syLo, syHi, szLo, szHi, xLo, xHi, yLo, yHi, zLo, zHi);
        Operators.AddScaled(smokeOut, inflow, 1.0);
        Advection.SemiLagrangianVelocity3D(u, v, w, ua, va, wa, nx, ny, nz, dx, dy, dz, dt, xLo, xHi, yLo, yHi, zLo, zHi);
        Fluids.AddBuoyancy3D(smokeOut, va, nx, ny, nz, dt * buoyancy, sxLo, sxHi, syLo, syHi, szLo, szHi);
        Fluids.ApplyWalls3D(ua, va, wa, nx, ny, nz, xLo, xHi, yLo, yHi, zLo, zHi);
        Pressure.Project3D(ua, va, wa, uOut, vOut, wOut, p, noSolid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi, tolerance, maxIterations);
    }
}
