namespace DiffGen.Physics;

/// <summary>
/// One time step of each model as a single <c>[Differentiable]</c> method on grid values (the generator adds
/// <c>{Name}Pullback</c> and its forward and reverse halves). The model classes (<see cref="Burgers1D"/>,
/// <see cref="Burgers2D"/>, <see cref="Smoke2D"/>, <see cref="WakeFlow2D"/>, <see cref="Smoke3D"/>) validate
/// arguments and call these.
/// </summary>
public static partial class ModelKernels
{
    /// <summary>
    /// 1D Burgers (EXPERIMENTS §1): explicit diffusion in <paramref name="substeps"/>, then semi-Lagrangian
    /// self-advection with linear interpolation (the diffused velocity advects itself).
    /// </summary>
    /// <remarks>
    /// The 1D steps call the span kernels with the grid's numbers rather than <see cref="Diffuse1D"/> and
    /// <see cref="Advect1D"/>: each field-layer call is one more call level in the pullback's halves, about 0.15 us,
    /// which is invisible in a 2D step but was 30 % of a 128-cell step (measured, docs/physics.md).
    /// </remarks>
    [Differentiable]
    public static void Burgers1DStep(ReadOnlySpan<double> u, Span<double> next, Grid1D grid, double nu, double dt, int substeps)
    {
        double[] d = new double[u.Length];
        Diffusion.Explicit1D(u, d, nu, dt, grid.Dx, substeps, grid.Boundary.LoCode, grid.Boundary.HiCode);
        Advection.SemiLagrangianSelf1D(d, next, dt, grid.Dx, grid.Boundary.LoCode, grid.Boundary.HiCode);
    }

    /// <summary>1D Burgers with a force (EXPERIMENTS §4): <see cref="Burgers1DStep"/>, then <c>next += dt * force</c>.</summary>
    [Differentiable]
    public static void Burgers1DForcedStep(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next, Grid1D grid, double nu, double dt, int substeps)
    {
        Burgers1DStep(u, next, grid, nu, dt, substeps);
        Operators.AddScaled(next, force, dt);
    }

    /// <summary>
    /// 1D Burgers with implicit (backward Euler, CG) diffusion, for settings where the explicit step would
    /// need many substeps (e.g. EXPERIMENTS §4 on 128 cells), then semi-Lagrangian self-advection.
    /// </summary>
    [Differentiable]
    public static void Burgers1DImplicitStep(ReadOnlySpan<double> u, Span<double> next, Grid1D grid, double nu, double dt, [NoDiff] double tolerance, int maxIterations)
    {
        double[] d = new double[u.Length];
        Diffusion.Implicit2D(u, d, nu, dt, grid.Dx, 1.0, grid.Cells, 1, grid.Boundary.LoCode, grid.Boundary.HiCode, Bc.ZeroGradient, Bc.ZeroGradient, tolerance, maxIterations);
        Advection.SemiLagrangianSelf1D(d, next, dt, grid.Dx, grid.Boundary.LoCode, grid.Boundary.HiCode);
    }

    /// <summary><see cref="Burgers1DImplicitStep"/>, then <c>next += dt * force</c>.</summary>
    [Differentiable]
    public static void Burgers1DImplicitForcedStep(ReadOnlySpan<double> u, ReadOnlySpan<double> force, Span<double> next, Grid1D grid, double nu, double dt, [NoDiff] double tolerance, int maxIterations)
    {
        Burgers1DImplicitStep(u, next, grid, nu, dt, tolerance, maxIterations);
        Operators.AddScaled(next, force, dt);
    }

    /// <summary>
    /// 2D Burgers on a cell-centred grid (EXPERIMENTS §3): explicit diffusion of (u, v), semi-Lagrangian
    /// self-advection, then <c>+= dt * (fu, fv)</c>.
    /// </summary>
    [Differentiable, DataParallel]
    public static void Burgers2DStep(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> fu, ReadOnlySpan<double> fv, Span<double> uOut, Span<double> vOut,
        Grid2D grid, double dt, double nu, int substeps)
    {
        double[] ud = new double[u.Length];
        double[] vd = new double[v.Length];
        Diffuse2D.Explicit(u, ud, grid, nu, dt, substeps);
        Diffuse2D.Explicit(v, vd, grid, nu, dt, substeps);
        Advect2D.SelfAdvectCentered(ud, vd, uOut, vOut, grid, dt);
        Operators.AddScaled(uOut, fu, dt);
        Operators.AddScaled(vOut, fv, dt);
    }

    /// <summary>
    /// Smoke plume step (EXPERIMENTS §2): MacCormack advection of the smoke plus <paramref name="inflow"/>;
    /// semi-Lagrangian self-advection of the MAC velocity; buoyancy <c>dt * buoyancy * smoke</c> on the y-faces;
    /// walls; pressure projection. The velocity follows the grid's boundary (the book: a closed box), the smoke its
    /// <see cref="Boundary2D.Scalar"/> (periodic stays, otherwise zero gradient).
    /// </summary>
    [Differentiable, DataParallel]
    public static void SmokeStep(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> inflow,
        Span<double> smokeOut, Span<double> uOut, Span<double> vOut, Span<double> p,
        StaggeredGrid2D grid, double dt, double buoyancy, [NoDiff] double tolerance, int maxIterations)
    {
        int[] noSolid = new int[0];
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        Advect2D.MacCormack(smoke, u, v, smokeOut, grid, grid.Boundary.Scalar, dt);
        Operators.AddScaled(smokeOut, inflow, 1.0);
        Advect2D.SelfAdvect(u, v, ua, va, grid, dt);
        Fluid2D.AddBuoyancy(smokeOut, va, grid, grid.Boundary.Scalar, dt * buoyancy);
        Fluid2D.ApplyWalls(ua, va, grid);
        Fluid2D.Project(ua, va, uOut, vOut, p, noSolid, grid, tolerance, maxIterations);
    }

    /// <summary>
    /// Wake-flow step (EXPERIMENTS §3): semi-Lagrangian self-advection, explicit diffusion, walls, inflow
    /// region (face masks blended towards (0, <paramref name="inflowVelocity"/>)), obstacle, projection.
    /// The masks are constants (<c>[NoDiff]</c>): the pullback neither takes nor computes their adjoints.
    /// </summary>
    [Differentiable, DataParallel]
    public static void WakeStep(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, Span<double> p, ReadOnlySpan<int> solid,
        [NoDiff] ReadOnlySpan<double> uInflowMask, [NoDiff] ReadOnlySpan<double> vInflowMask, StaggeredGrid2D grid, double dt, double nu, double inflowVelocity, int substeps,
        [NoDiff] double tolerance, int maxIterations)
    {
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        double[] ub = new double[u.Length];
        double[] vb = new double[v.Length];
        Advect2D.SelfAdvect(u, v, ua, va, grid, dt);
        Diffuse2D.ExplicitVelocity(ua, va, ub, vb, grid, nu, dt, substeps);
        Fluid2D.ApplyWalls(ub, vb, grid);
        Fluids.ApplyInflow(ub, vb, uInflowMask, vInflowMask, 0.0, inflowVelocity);
        Fluid2D.ApplyObstacle(ub, vb, solid, grid);
        Fluid2D.Project(ub, vb, uOut, vOut, p, solid, grid, tolerance, maxIterations);
    }

    /// <summary>
    /// 3D smoke plume step (the 3D analogue of <see cref="SmokeStep"/>): MacCormack advection of the smoke plus
    /// <paramref name="inflow"/>; semi-Lagrangian self-advection of the MAC velocity; buoyancy
    /// <c>dt * buoyancy * smoke</c> on the y-faces (+y is up); walls; pressure projection.
    /// </summary>
    [Differentiable, DataParallel]
    public static void Smoke3DStep(ReadOnlySpan<double> smoke, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> inflow,
        Span<double> smokeOut, Span<double> uOut, Span<double> vOut, Span<double> wOut, Span<double> p,
        StaggeredGrid3D grid, double dt, double buoyancy, [NoDiff] double tolerance, int maxIterations)
    {
        int[] noSolid = new int[0];
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        double[] wa = new double[w.Length];
        Advect3D.MacCormack(smoke, u, v, w, smokeOut, grid, grid.Boundary.Scalar, dt);
        Operators.AddScaled(smokeOut, inflow, 1.0);
        Advect3D.SelfAdvect(u, v, w, ua, va, wa, grid, dt);
        Fluid3D.AddBuoyancy(smokeOut, va, grid, grid.Boundary.Scalar, dt * buoyancy);
        Fluid3D.ApplyWalls(ua, va, wa, grid);
        Fluid3D.Project(ua, va, wa, uOut, vOut, wOut, p, noSolid, grid, tolerance, maxIterations);
    }
}
