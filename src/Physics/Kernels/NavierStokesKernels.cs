namespace DiffGen.Physics;

/// <summary>
/// The kernels of <see cref="NavierStokes2D"/> (Mosaic's 2D incompressible Navier–Stokes task): one step with an
/// optional inflow profile, the inflow itself, and the drag on an obstacle. MAC layout as in <see cref="Fluids"/>.
/// </summary>
public static partial class NavierStokesKernels
{
    /// <summary>No inflow profile (<c>profile</c> may be empty).</summary>
    public const int NoInflow = 0;

    /// <summary>
    /// The profile is the normal velocity of the left boundary's x-faces, set before the projection; the left
    /// side must be a closed wall for the pressure (<see cref="Bc.Zero"/>), so the projection keeps it.
    /// </summary>
    public const int InflowBeforeProjection = 1;

    /// <summary>
    /// The profile overwrites the x-faces at x = 0 (and their periodic copy at x = width) after the
    /// projection, as Mosaic's PhiFlow reference does on its periodic channel.
    /// </summary>
    public const int InflowAfterProjection = 2;

    /// <summary>
    /// One step on <paramref name="grid"/> (its boundary is the velocity's): self-advection (semi-Lagrangian with an
    /// Euler or RK2 backtrace, or, with <paramref name="macCormack"/> = 1, <see cref="MacCormackVelocity2D"/>), explicit
    /// diffusion in <paramref name="substeps"/>, closed walls, the inflow profile (see <paramref name="inflowMode"/>), the
    /// obstacle (faces touching a solid cell are zero), pressure projection. <paramref name="p"/> receives the
    /// projection's pressure (pressure × dt / density, the potential whose gradient is subtracted).
    /// </summary>
    [Differentiable]
    public static void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> profile, Span<double> uOut, Span<double> vOut, Span<double> p,
        ReadOnlySpan<int> solid, StaggeredGrid2D grid, double dt, double nu, int substeps, int rk2, int macCormack, int inflowMode, [NoDiff] double tolerance, int maxIterations)
    {
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        double[] ub = new double[u.Length];
        double[] vb = new double[v.Length];
        if (macCormack != 0)
        {
            MacCormackVelocity2D(u, v, ua, va, grid.Nx, grid.Ny, grid.Dx, grid.Dy, dt, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode);
        }
        else
        {
            Advection.SemiLagrangianVelocity2D(u, v, ua, va, grid.Nx, grid.Ny, grid.Dx, grid.Dy, dt, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, rk2);
        }
        Diffuse2D.ExplicitVelocity(ua, va, ub, vb, grid, nu, dt, substeps);
        Fluid2D.ApplyWalls(ub, vb, grid);
        if (inflowMode == InflowBeforeProjection)
        {
            ApplyInflowProfile(ub, vb, profile, grid.Nx, grid.Ny, 0);
        }
        Fluid2D.ApplyObstacle(ub, vb, solid, grid);
        Fluid2D.Project(ub, vb, uOut, vOut, p, solid, grid, tolerance, maxIterations);
        if (inflowMode == InflowAfterProjection)
        {
            ApplyInflowProfile(uOut, vOut, profile, grid.Nx, grid.Ny, 1);
        }
    }

    /// <summary>
    /// MacCormack self-advection of a MAC velocity: a semi-Lagrangian step back along the velocity at each face
    /// (Euler backtrace), a step forward from there along the same velocity, and the corrected value
    /// <c>fwd + (q - bwd) / 2</c>, second order in space and time for smooth flows. Unclamped (so smooth in its
    /// inputs, and free to overshoot near sharp fronts, which the clamped scalar version in <see cref="Advection"/> avoids).
    /// </summary>
    [Differentiable]
    public static void MacCormackVelocity2D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, int nx, int ny, double dx, double dy, double dt,
        int xLo, int xHi, int yLo, int yHi)
    {
        double[] tuu = new double[(nx + 1) * ny];
        double[] tvu = new double[(nx + 1) * ny];
        double[] tuv = new double[nx * (ny + 1)];
        double[] tvv = new double[nx * (ny + 1)];
        double[] uf = new double[(nx + 1) * ny];
        double[] vf = new double[nx * (ny + 1)];
        double[] ubk = new double[(nx + 1) * ny];
        double[] vbk = new double[nx * (ny + 1)];
        Advection.TraceVelocityMac(u, v, tuu, tvu, nx, ny, nx + 1, ny, -0.5, 0.0, dx, dy, dt, xLo, xHi, yLo, yHi, 0);
        Advection.TraceVelocityMac(u, v, tuv, tvv, nx, ny, nx, ny + 1, 0.0, -0.5, dx, dy, dt, xLo, xHi, yLo, yHi, 0);
        Advection.TraceNodes2D(u, tuu, tvu, uf, nx + 1, ny, -0.5, 0.0, nx + 1, ny, nx, ny, -0.5, 0.0, dx, dy, dt, xLo, xHi, yLo, yHi);
        Advection.TraceNodes2D(v, tuv, tvv, vf, nx, ny + 1, 0.0, -0.5, nx, ny + 1, nx, ny, 0.0, -0.5, dx, dy, dt, xLo, xHi, yLo, yHi);
        Advection.TraceNodes2D(uf, tuu, tvu, ubk, nx + 1, ny, -0.5, 0.0, nx + 1, ny, nx, ny, -0.5, 0.0, dx, dy, -dt, xLo, xHi, yLo, yHi);
        Advection.TraceNodes2D(vf, tuv, tvv, vbk, nx, ny + 1, 0.0, -0.5, nx, ny + 1, nx, ny, 0.0, -0.5, dx, dy, -dt, xLo, xHi, yLo, yHi);
        for (int k = 0; k < uOut.Length; k++)
            uOut[k] = uf[k] + 0.5 * (u[k] - ubk[k]);
        for (int k = 0; k < vOut.Length; k++)
            vOut[k] = vf[k] + 0.5 * (v[k] - vbk[k]);
    }

    /// <summary>
    /// Sets the x-faces at x = 0 of each row to <c>profile[j]</c> (and the periodic copy at x = width when
    /// <paramref name="periodicX"/> is 1) and the y-velocity of the first column's interior y-faces to zero:
    /// the flow enters along +x with the given profile (Mosaic's inflow, <c>u_x(y)</c>).
    /// </summary>
    [Differentiable]
    public static void ApplyInflowProfile(Span<double> u, Span<double> v, ReadOnlySpan<double> profile, int nx, int ny, int periodicX)
    {
        for (int j = 0; j < ny; j++)
        {
            u[j * (nx + 1)] = profile[j];
            if (periodicX != 0) { u[j * (nx + 1) + nx] = profile[j]; }
        }
        for (int j = 1; j < ny; j++)
            v[j * nx] = 0;
    }

    /// <summary>
    /// Mosaic's drag on an obstacle (the x-force by a discrete surface sum): over the fluid cells whose right
    /// neighbour is solid, <c>p dx - nu uc</c>; over those whose left neighbour is solid, <c>-p dx + nu uc</c>;
    /// uc is the cell-centred x-velocity (mean of the cell's two x-faces). Neighbours wrap around in x.
    /// Linear in (u, p), so a time average of the fields gives the time-averaged drag.
    /// </summary>
    [Differentiable]
    public static double Drag(ReadOnlySpan<double> u, ReadOnlySpan<double> p, ReadOnlySpan<int> solid, int nx, int ny, [NoDiff] double dx, double nu)
    {
        double drag = 0;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                if (solid[j * nx + i] == 0)
                {
                    double uc = 0.5 * (u[j * (nx + 1) + i] + u[j * (nx + 1) + i + 1]);
                    if (solid[j * nx + (i + 1) % nx] != 0) { drag += p[j * nx + i] * dx - nu * uc; }
                    if (solid[j * nx + (i + nx - 1) % nx] != 0) { drag += nu * uc - p[j * nx + i] * dx; }
                }
            }
        }
        return drag;
    }
}
