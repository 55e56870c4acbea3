namespace DiffGen.Physics;

// The field layer (see Advect.cs): kernels on grid values over the span kernels, one class per dimension.

/// <summary>
/// Incompressible flow on a <see cref="StaggeredGrid2D"/>: divergence, pressure projection (multigrid-preconditioned CG,
/// implicit adjoint), walls, obstacles, buoyancy.
/// </summary>
public static partial class Fluid2D
{
    /// <summary>The divergence of a MAC velocity at the cell centres of <paramref name="grid"/>.</summary>
    [Differentiable, DataParallel]
    public static void Divergence(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> div, StaggeredGrid2D grid)
    {
        Operators.DivergenceStaggered(u, v, div, grid.Nx, grid.Ny, grid.Dx, grid.Dy);
    }

    /// <summary>
    /// Makes the MAC velocity (u, v) on <paramref name="grid"/> divergence-free (see <see cref="Pressure.Project"/>): writes the
    /// projected velocity to (uOut, vOut) and the pressure to <paramref name="p"/>; <paramref name="solid"/> (1 = obstacle
    /// cell) may be empty. The solve's derivative is its implicit adjoint.
    /// </summary>
    [Differentiable, DataParallel]
    public static void Project(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, Span<double> p, ReadOnlySpan<int> solid,
        StaggeredGrid2D grid, [NoDiff] double tolerance, int maxIterations)
    {
        Pressure.Project(u, v, uOut, vOut, p, solid, grid.Nx, grid.Ny, grid.Dx, grid.Dy, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, tolerance, maxIterations);
    }

    /// <summary>Zeroes the normal velocity on the closed-wall sides (<see cref="BoundaryKind.Zero"/>) of <paramref name="grid"/>.</summary>
    [Differentiable, DataParallel]
    public static void ApplyWalls(Span<double> u, Span<double> v, StaggeredGrid2D grid)
    {
        Fluids.ApplyWalls(u, v, grid.Nx, grid.Ny, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode);
    }

    /// <summary>Zeroes every face that touches a solid cell of <paramref name="solid"/> (1 = solid; may be empty).</summary>
    [Differentiable, DataParallel]
    public static void ApplyObstacle(Span<double> u, Span<double> v, ReadOnlySpan<int> solid, StaggeredGrid2D grid)
    {
        Fluids.ApplyObstacle(u, v, solid, grid.Nx, grid.Ny);
    }

    /// <summary>
    /// Boussinesq buoyancy along +y: adds <c>scale * density</c>, sampled at the y-faces (the density's boundary is
    /// <paramref name="densityBoundary"/>), to v. Pass <c>scale = dt * buoyancyFactor</c>.
    /// </summary>
    [Differentiable, DataParallel]
    public static void AddBuoyancy(ReadOnlySpan<double> density, Span<double> v, StaggeredGrid2D grid, Boundary2D densityBoundary, double scale)
    {
        Fluids.AddBuoyancy(density, v, grid.Nx, grid.Ny, scale, densityBoundary.XLoCode, densityBoundary.XHiCode, densityBoundary.YLoCode, densityBoundary.YHiCode);
    }

    /// <summary>
    /// One incompressible Navier-Stokes step on <paramref name="grid"/>: semi-Lagrangian self-advection (Euler backtrace),
    /// explicit diffusion (<paramref name="substeps"/>; skipped for substeps = 0), walls, obstacle (<paramref name="solid"/>,
    /// may be empty), pressure projection (see <see cref="Fluids.IncompressibleStep"/>).
    /// </summary>
    [Differentiable]
    public static void IncompressibleStep(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, Span<double> p, ReadOnlySpan<int> solid,
        StaggeredGrid2D grid, double dt, double nu, int substeps, [NoDiff] double tolerance, int maxIterations)
    {
        Fluids.IncompressibleStep(u, v, uOut, vOut, p, solid, grid.Nx, grid.Ny, grid.Dx, grid.Dy, dt, nu, substeps, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, 0, tolerance, maxIterations);
    }
}

/// <summary>
/// Incompressible flow on a <see cref="StaggeredGrid3D"/>: divergence, pressure gradient and projection (the 2D solve's
/// operator, multigrid, CG and implicit adjoint), walls, obstacles, buoyancy and the composed Navier-Stokes step.
/// </summary>
public static partial class Fluid3D
{
    /// <summary>The divergence of a 3D MAC velocity at the cell centres of <paramref name="grid"/>.</summary>
    [Differentiable, DataParallel]
    public static void Divergence(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> div, StaggeredGrid3D grid)
    {
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        double dx = grid.Dx;
        double dy = grid.Dy;
        double dz = grid.Dz;
        // Rows (l, j) in one loop: the generator proves two-level nests independent (out[r * w + i]), not three-level ones.
        int rows = nz * ny;
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < nx; i++)
            {
                int j = r % ny;
                int l = r / ny;
                int k = r * nx + i;
                int fu = r * (nx + 1) + i;
                int fv = (l * (ny + 1) + j) * nx + i;
                div[k] = (u[fu + 1] - u[fu]) / dx + (v[fv + nx] - v[fv]) / dy + (w[k + nx * ny] - w[k]) / dz;
            }
        }
    }

    /// <summary>
    /// 3D: <c>uOut = u - G p</c> on the faces that can carry flux (between two fluid cells, across a periodic seam,
    /// on an open side where p = 0 on the face); faces on closed walls or touching a solid cell keep their value
    /// (as <see cref="Pressure.SubtractGradient"/>).
    /// </summary>
    [Differentiable, DataParallel]
    public static void SubtractGradient(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> p, Span<double> uOut, Span<double> vOut, Span<double> wOut,
        ReadOnlySpan<int> solid, StaggeredGrid3D grid)
    {
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        double dx = grid.Dx;
        double dy = grid.Dy;
        double dz = grid.Dz;
        int xLo = grid.Boundary.XLoCode;
        int xHi = grid.Boundary.XHiCode;
        int yLo = grid.Boundary.YLoCode;
        int yHi = grid.Boundary.YHiCode;
        int zLo = grid.Boundary.ZLoCode;
        int zHi = grid.Boundary.ZHiCode;
        bool hasSolid = solid.Length > 0;
        for (int l = 0; l < nz; l++)
        {
            for (int j = 0; j < ny; j++)
            {
                for (int i = 0; i <= nx; i++)
                {
                    // The two cells either side of the face and their weights (Bc.Face*: 0 at a wall).
                    int row = (l * ny + j) * nx;
                    int a = row + Bc.FaceLower(i, nx, xLo);
                    int c = row + Bc.FaceUpper(i, nx, xHi);
                    double keep = hasSolid && (solid[a] != 0 || solid[c] != 0) ? 0.0 : 1.0;
                    double g = (Bc.FaceWeightUpper(i, nx, xLo, xHi) * p[c] - Bc.FaceWeightLower(i, nx, xLo, xHi) * p[a]) / dx;
                    int f = (l * ny + j) * (nx + 1) + i;
                    uOut[f] = u[f] - keep * g;
                }
            }
        }
        for (int l = 0; l < nz; l++)
        {
            for (int j = 0; j <= ny; j++)
            {
                for (int i = 0; i < nx; i++)
                {
                    int a = (l * ny + Bc.FaceLower(j, ny, yLo)) * nx + i;
                    int c = (l * ny + Bc.FaceUpper(j, ny, yHi)) * nx + i;
                    double keep = hasSolid && (solid[a] != 0 || solid[c] != 0) ? 0.0 : 1.0;
                    double g = (Bc.FaceWeightUpper(j, ny, yLo, yHi) * p[c] - Bc.FaceWeightLower(j, ny, yLo, yHi) * p[a]) / dy;
                    int f = (l * (ny + 1) + j) * nx + i;
                    vOut[f] = v[f] - keep * g;
                }
            }
        }
        for (int l = 0; l <= nz; l++)
        {
            for (int j = 0; j < ny; j++)
            {
                for (int i = 0; i < nx; i++)
                {
                    int a = (Bc.FaceLower(l, nz, zLo) * ny + j) * nx + i;
                    int c = (Bc.FaceUpper(l, nz, zHi) * ny + j) * nx + i;
                    double keep = hasSolid && (solid[a] != 0 || solid[c] != 0) ? 0.0 : 1.0;
                    double g = (Bc.FaceWeightUpper(l, nz, zLo, zHi) * p[c] - Bc.FaceWeightLower(l, nz, zLo, zHi) * p[a]) / dz;
                    int f = (l * ny + j) * nx + i;
                    wOut[f] = w[f] - keep * g;
                }
            }
        }
    }

    /// <summary>
    /// Makes the 3D MAC velocity on <paramref name="grid"/> divergence-free: divergence, <see cref="Pressure.SolvePressure3D"/>
    /// (the 2D solve's multigrid-preconditioned CG and implicit adjoint), gradient subtraction. Writes the projected
    /// velocity to (uOut, vOut, wOut) and the pressure to <paramref name="p"/>; <paramref name="solid"/> may be empty.
    /// </summary>
    [Differentiable, DataParallel]
    public static void Project(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> uOut, Span<double> vOut, Span<double> wOut, Span<double> p, ReadOnlySpan<int> solid,
        StaggeredGrid3D grid, [NoDiff] double tolerance, int maxIterations)
    {
        double[] div = new double[grid.Nx * grid.Ny * grid.Nz];
        Divergence(u, v, w, div, grid);
        Pressure.SolvePressure3D(div, p, solid, grid.Nx, grid.Ny, grid.Nz, grid.Dx, grid.Dy, grid.Dz, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, grid.Boundary.ZLoCode, grid.Boundary.ZHiCode, tolerance, maxIterations);
        SubtractGradient(u, v, w, p, uOut, vOut, wOut, solid, grid);
    }

    /// <summary>Zeroes the normal velocity on the closed-wall sides (<see cref="BoundaryKind.Zero"/>) of a 3D <paramref name="grid"/>.</summary>
    [Differentiable, DataParallel]
    public static void ApplyWalls(Span<double> u, Span<double> v, Span<double> w, StaggeredGrid3D grid)
    {
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        int xLo = grid.Boundary.XLoCode;
        int xHi = grid.Boundary.XHiCode;
        int yLo = grid.Boundary.YLoCode;
        int yHi = grid.Boundary.YHiCode;
        int zLo = grid.Boundary.ZLoCode;
        int zHi = grid.Boundary.ZHiCode;
        for (int l = 0; l < nz; l++)
        {
            for (int j = 0; j < ny; j++)
            {
                if (xLo == Bc.Zero) { u[(l * ny + j) * (nx + 1)] = 0; }
                if (xHi == Bc.Zero) { u[(l * ny + j) * (nx + 1) + nx] = 0; }
            }
            for (int i = 0; i < nx; i++)
            {
                if (yLo == Bc.Zero) { v[l * (ny + 1) * nx + i] = 0; }
                if (yHi == Bc.Zero) { v[(l * (ny + 1) + ny) * nx + i] = 0; }
            }
        }
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                if (zLo == Bc.Zero) { w[j * nx + i] = 0; }
                if (zHi == Bc.Zero) { w[(nz * ny + j) * nx + i] = 0; }
            }
        }
    }

    /// <summary>Zeroes every face of a 3D MAC velocity that touches a solid cell (<c>solid[k] != 0</c>; may be empty).</summary>
    [Differentiable, DataParallel]
    public static void ApplyObstacle(Span<double> u, Span<double> v, Span<double> w, ReadOnlySpan<int> solid, StaggeredGrid3D grid)
    {
        if (solid.Length == 0) { return; }
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        for (int l = 0; l < nz; l++)
        {
            for (int j = 0; j < ny; j++)
            {
                for (int i = 0; i < nx; i++)
                {
                    int k = (l * ny + j) * nx + i;
                    if (solid[k] != 0)
                    {
                        u[(l * ny + j) * (nx + 1) + i] = 0;
                        u[(l * ny + j) * (nx + 1) + i + 1] = 0;
                        v[(l * (ny + 1) + j) * nx + i] = 0;
                        v[(l * (ny + 1) + j + 1) * nx + i] = 0;
                        w[k] = 0;
                        w[k + nx * ny] = 0;
                    }
                }
            }
        }
    }

    /// <summary>
    /// 3D Boussinesq buoyancy along +y: adds <c>scale * density</c>, sampled at the y-faces (the density's boundary is
    /// <paramref name="densityBoundary"/>), to v. Pass <c>scale = dt * buoyancyFactor</c>.
    /// </summary>
    [Differentiable, DataParallel]
    public static void AddBuoyancy(ReadOnlySpan<double> density, Span<double> v, StaggeredGrid3D grid, Boundary3D densityBoundary, double scale)
    {
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        int xLo = densityBoundary.XLoCode;
        int xHi = densityBoundary.XHiCode;
        int yLo = densityBoundary.YLoCode;
        int yHi = densityBoundary.YHiCode;
        int zLo = densityBoundary.ZLoCode;
        int zHi = densityBoundary.ZHiCode;
        // Rows (l, j) in one loop: the generator proves two-level nests independent (out[r * w + i]), not three-level ones.
        int rows = nz * (ny + 1);
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < nx; i++)
            {
                int j = r % (ny + 1);
                int l = r / (ny + 1);
                v[r * nx + i] += scale * Interpolation.Sample3D(density, nx, ny, nz, nx, ny, nz, i, j - 0.5, l, xLo, xHi, yLo, yHi, zLo, zHi);
            }
        }
    }

    /// <summary>
    /// One 3D incompressible Navier-Stokes step on <paramref name="grid"/>: semi-Lagrangian self-advection, explicit
    /// diffusion (<paramref name="substeps"/>; skipped for substeps = 0), walls, obstacle (<paramref name="solid"/>, may
    /// be empty), pressure projection.
    /// </summary>
    [Differentiable]
    public static void IncompressibleStep(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> uOut, Span<double> vOut, Span<double> wOut, Span<double> p,
        ReadOnlySpan<int> solid, StaggeredGrid3D grid, double dt, double nu, int substeps, [NoDiff] double tolerance, int maxIterations)
    {
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        double[] wa = new double[w.Length];
        double[] ub = new double[u.Length];
        double[] vb = new double[v.Length];
        double[] wb = new double[w.Length];
        Advect3D.SelfAdvect(u, v, w, ua, va, wa, grid, dt);
        if (substeps > 0)
        {
            Diffuse3D.ExplicitVelocity(ua, va, wa, ub, vb, wb, grid, nu, dt, substeps);
        }
        else
        {
            Operators.Copy(ua, ub);
            Operators.Copy(va, vb);
            Operators.Copy(wa, wb);
        }
        ApplyWalls(ub, vb, wb, grid);
        ApplyObstacle(ub, vb, wb, solid, grid);
        Project(ub, vb, wb, uOut, vOut, wOut, p, solid, grid, tolerance, maxIterations);
    }
}
