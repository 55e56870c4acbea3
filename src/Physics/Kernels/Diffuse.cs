namespace DiffGen.Physics;

// The field layer (see Advect.cs): kernels on grid values over the span kernels, one class per dimension.

/// <summary>
/// Diffusion on a <see cref="Grid1D"/>: explicit (forward-Euler substeps) or implicit (backward Euler, CG with an implicit adjoint).
/// </summary>
public static partial class Diffuse1D
{
    /// <summary>Explicit diffusion of a 1D cell field in <paramref name="substeps"/> forward-Euler substeps (stable for <c>nu dt / substeps &lt;= dx² / 2</c>).</summary>
    [Differentiable]
    public static void Explicit(ReadOnlySpan<double> q, Span<double> result, Grid1D grid, double nu, double dt, int substeps)
    {
        Diffusion.Explicit1D(q, result, nu, dt, grid.Dx, substeps, grid.Boundary.LoCode, grid.Boundary.HiCode);
    }

    /// <summary>Implicit (backward Euler) diffusion of a 1D cell field: solves <c>(I - nu dt L) result = q</c> by CG (implicit adjoint).</summary>
    [Differentiable]
    public static void Implicit(ReadOnlySpan<double> q, Span<double> result, Grid1D grid, double nu, double dt, [NoDiff] double tolerance, int maxIterations)
    {
        Diffusion.SolveImplicit(q, result, nu, dt, grid.Dx, 1.0, grid.Cells, 1, grid.Boundary.LoCode, grid.Boundary.HiCode, Bc.ZeroGradient, Bc.ZeroGradient, tolerance, maxIterations);
    }
}

/// <summary>
/// Diffusion in 2D: cell fields on a <see cref="Grid2D"/> (explicit, implicit) and MAC velocities on a <see cref="StaggeredGrid2D"/> (explicit).
/// </summary>
public static partial class Diffuse2D
{
    /// <summary>Explicit diffusion of a 2D cell field in <paramref name="substeps"/> forward-Euler substeps.</summary>
    [Differentiable, DataParallel]
    public static void Explicit(ReadOnlySpan<double> q, Span<double> result, Grid2D grid, double nu, double dt, int substeps)
    {
        Diffusion.Explicit2D(q, result, grid.Nx, grid.Ny, grid.Nx, grid.Ny, nu, dt, grid.Dx, grid.Dy, substeps, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode);
    }

    /// <summary>Explicit diffusion of both components of a MAC velocity, each on its own faces, into (uOut, vOut).</summary>
    [Differentiable, DataParallel]
    public static void ExplicitVelocity(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, StaggeredGrid2D grid, double nu, double dt, int substeps)
    {
        Diffusion.Explicit2D(u, uOut, grid.Nx + 1, grid.Ny, grid.Nx, grid.Ny, nu, dt, grid.Dx, grid.Dy, substeps, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode);
        Diffusion.Explicit2D(v, vOut, grid.Nx, grid.Ny + 1, grid.Nx, grid.Ny, nu, dt, grid.Dx, grid.Dy, substeps, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode);
    }

    /// <summary>Implicit (backward Euler) diffusion of a 2D cell field (CG, implicit adjoint).</summary>
    [Differentiable]
    public static void Implicit(ReadOnlySpan<double> q, Span<double> result, Grid2D grid, double nu, double dt, [NoDiff] double tolerance, int maxIterations)
    {
        Diffusion.SolveImplicit(q, result, nu, dt, grid.Dx, grid.Dy, grid.Nx, grid.Ny, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, tolerance, maxIterations);
    }
}

/// <summary>
/// Diffusion in 3D: cell fields on a <see cref="Grid3D"/> (explicit, implicit) and MAC velocities on a <see cref="StaggeredGrid3D"/> (explicit).
/// </summary>
public static partial class Diffuse3D
{
    /// <summary>Explicit diffusion of a 3D cell field on <paramref name="grid"/> in <paramref name="substeps"/> forward-Euler substeps.</summary>
    [Differentiable, DataParallel]
    public static void Explicit(ReadOnlySpan<double> q, Span<double> result, Grid3D grid, double nu, double dt, int substeps)
    {
        Diffusion.ExplicitNodes3D(q, result, grid.Nx, grid.Ny, grid.Nz, grid.Nx, grid.Ny, grid.Nz, nu, dt, grid.Dx, grid.Dy, grid.Dz, substeps,
            grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, grid.Boundary.ZLoCode, grid.Boundary.ZHiCode);
    }

    /// <summary>Explicit diffusion of the three components of a 3D MAC velocity on <paramref name="grid"/>, each on its own faces.</summary>
    [Differentiable, DataParallel]
    public static void ExplicitVelocity(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> uOut, Span<double> vOut, Span<double> wOut,
        StaggeredGrid3D grid, double nu, double dt, int substeps)
    {
        int nx = grid.Nx;
        int ny = grid.Ny;
        int nz = grid.Nz;
        double dx = grid.Dx;
        double dy = grid.Dy;
        double dz = grid.Dz;
        Diffusion.ExplicitNodes3D(u, uOut, nx + 1, ny, nz, nx, ny, nz, nu, dt, dx, dy, dz, substeps, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, grid.Boundary.ZLoCode, grid.Boundary.ZHiCode);
        Diffusion.ExplicitNodes3D(v, vOut, nx, ny + 1, nz, nx, ny, nz, nu, dt, dx, dy, dz, substeps, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, grid.Boundary.ZLoCode, grid.Boundary.ZHiCode);
        Diffusion.ExplicitNodes3D(w, wOut, nx, ny, nz + 1, nx, ny, nz, nu, dt, dx, dy, dz, substeps, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, grid.Boundary.ZLoCode, grid.Boundary.ZHiCode);
    }

    /// <summary>
    /// Implicit (backward Euler) diffusion of a 3D cell field on <paramref name="grid"/>: solves
    /// <c>(I - nu dt L) result = q</c> by CG (<see cref="Diffusion.SolveImplicit3D"/>, the 2D solve's operator and CG; implicit adjoint).
    /// </summary>
    [Differentiable]
    public static void Implicit(ReadOnlySpan<double> q, Span<double> result, Grid3D grid, double nu, double dt, [NoDiff] double tolerance, int maxIterations)
    {
        Diffusion.SolveImplicit3D(q, result, nu, dt, grid.Dx, grid.Dy, grid.Dz, grid.Nx, grid.Ny, grid.Nz, grid.Boundary.XLoCode, grid.Boundary.XHiCode, grid.Boundary.YLoCode, grid.Boundary.YHiCode, grid.Boundary.ZLoCode, grid.Boundary.ZHiCode, tolerance, maxIterations);
    }
}
