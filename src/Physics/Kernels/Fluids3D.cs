namespace DiffGen.Physics;

// 3D MAC kernels: divergence, pressure gradient, projection, walls, obstacles, buoyancy and the composed
// incompressible step. Layout: u (nx+1) x ny x nz at ((l*ny + j)*(nx+1) + i), v nx x (ny+1) x nz at
// ((l*(ny+1) + j)*nx + i), w nx x ny x (nz+1) at ((l*ny + j)*nx + i), cells nx x ny x nz at ((l*ny + j)*nx + i).
public static partial class Operators
{
    /// <summary>The divergence of a 3D MAC velocity at the cell centres.</summary>
    [Differentiable]
    public static void DivergenceStaggered3D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> div, int nx, int ny, int nz, double dx, double dy, double dz)
    {
        for (int l = 0; l < nz; l++)
        {
            for (int j = 0; j < ny; j++)
            {
                for (int i = 0; i < nx; i++)
                {
                    int k = (l * ny + j) * nx + i;
                    int fu = (l * ny + j) * (nx + 1) + i;
                    int fv = (l * (ny + 1) + j) * nx + i;
                    div[k] = (u[fu + 1] - u[fu]) / dx + (v[fv + nx] - v[fv]) / dy + (w[k + nx * ny] - w[k]) / dz;
                }
            }
        }
    }
}

public static partial class Pressure
{
    /// <summary>
    /// 3D: <c>uOut = u - G p</c> on the faces that can carry flux (between two fluid cells, across a periodic seam,
    /// on an open side where p = 0 on the face); faces on closed walls or touching a solid cell keep their value
    /// (as <see cref="SubtractGradient"/>).
    /// </summary>
    [Differentiable]
    public static void SubtractGradient3D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, ReadOnlySpan<double> p, Span<double> uOut, Span<double> vOut, Span<double> wOut,
        ReadOnlySpan<int> solid, int nx, int ny, int nz, [NoDiff] double dx, [NoDiff] double dy, [NoDiff] double dz, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
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
                    int b = row + Bc.FaceUpper(i, nx, xHi);
                    double keep = hasSolid && (solid[a] != 0 || solid[b] != 0) ? 0.0 : 1.0;
                    double g = (Bc.FaceWeightUpper(i, nx, xLo, xHi) * p[b] - Bc.FaceWeightLower(i, nx, xLo, xHi) * p[a]) / dx;
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
                    int b = (l * ny + Bc.FaceUpper(j, ny, yHi)) * nx + i;
                    double keep = hasSolid && (solid[a] != 0 || solid[b] != 0) ? 0.0 : 1.0;
                    double g = (Bc.FaceWeightUpper(j, ny, yLo, yHi) * p[b] - Bc.FaceWeightLower(j, ny, yLo, yHi) * p[a]) / dy;
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
                    int b = (Bc.FaceUpper(l, nz, zHi) * ny + j) * nx + i;
                    double keep = hasSolid && (solid[a] != 0 || solid[b] != 0) ? 0.0 : 1.0;
                    double g = (Bc.FaceWeightUpper(l, nz, zLo, zHi) * p[b] - Bc.FaceWeightLower(l, nz, zLo, zHi) * p[a]) / dz;
                    int f = (l * ny + j) * nx + i;
                    wOut[f] = w[f] - keep * g;
                }
            }
        }
    }

    /// <summary>
    /// Makes a 3D MAC velocity divergence-free: divergence, <see cref="SolvePressure3D"/> (the 2D solve's
    /// multigrid-preconditioned CG and implicit adjoint), gradient subtraction. Differentiable.
    /// </summary>
    [Differentiable]
    public static void Project3D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> uOut, Span<double> vOut, Span<double> wOut, Span<double> p, ReadOnlySpan<int> solid,
        int nx, int ny, int nz, [NoDiff] double dx, [NoDiff] double dy, [NoDiff] double dz, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, [NoDiff] double tolerance, int maxIterations)
    {
        double[] div = new double[nx * ny * nz];
        Operators.DivergenceStaggered3D(u, v, w, div, nx, ny, nz, dx, dy, dz);
        SolvePressure3D(div, p, solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi, tolerance, maxIterations);
        SubtractGradient3D(u, v, w, p, uOut, vOut, wOut, solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi);
    }
}

public static partial class Fluids
{
    /// <summary>Sets the normal velocity on closed-wall sides (code <see cref="Bc.Zero"/>) of a 3D MAC velocity to zero.</summary>
    [Differentiable]
    public static void ApplyWalls3D(Span<double> u, Span<double> v, Span<double> w, int nx, int ny, int nz, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
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
    [Differentiable]
    public static void ApplyObstacle3D(Span<double> u, Span<double> v, Span<double> w, ReadOnlySpan<int> solid, int nx, int ny, int nz)
    {
        if (solid.Length == 0) { return; }
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
    /// 3D Boussinesq buoyancy along +y: adds <c>scale * density</c> (sampled at the y-faces, outside values by
    /// the density codes) to v. Pass <c>scale = dt * buoyancyFactor</c>.
    /// </summary>
    [Differentiable]
    public static void AddBuoyancy3D(ReadOnlySpan<double> density, Span<double> v, int nx, int ny, int nz, double scale, int xLo, int xHi, int yLo, int yHi, int zLo, int zHi)
    {
        for (int l = 0; l < nz; l++)
            for (int j = 0; j <= ny; j++)
                for (int i = 0; i < nx; i++)
                    v[(l * (ny + 1) + j) * nx + i] += scale * Interpolation.Sample3D(density, nx, ny, nz, nx, ny, nz, i, j - 0.5, l, xLo, xHi, yLo, yHi, zLo, zHi);
    }

    /// <summary>
    /// One 3D incompressible Navier-Stokes step on a MAC grid: semi-Lagrangian self-advection, explicit
    /// diffusion (<paramref name="substeps"/>; skipped for substeps = 0), walls, obstacle, pressure projection.
    /// </summary>
    [Differentiable]
    public static void IncompressibleStep3D(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> w, Span<double> uOut, Span<double> vOut, Span<double> wOut, Span<double> p,
        ReadOnlySpan<int> solid, int nx, int ny, int nz, [NoDiff] double dx, [NoDiff] double dy, [NoDiff] double dz, double dt, double nu, int substeps,
        int xLo, int xHi, int yLo, int yHi, int zLo, int zHi, [NoDiff] double tolerance, int maxIterations)
    {
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        double[] wa = new double[w.Length];
        double[] ub = new double[u.Length];
        double[] vb = new double[v.Length];
        double[] wb = new double[w.Length];
        Advection.SemiLagrangianVelocity3D(u, v, w, ua, va, wa, nx, ny, nz, dx, dy, dz, dt, xLo, xHi, yLo, yHi, zLo, zHi);
        if (substeps > 0)
        {
            Diffusion.Explicit3D(ua, ub, nx + 1, ny, nz, nx, ny, nz, nu, dt, dx, dy, dz, substeps, xLo, xHi, yLo, yHi, zLo, zHi);
            Diffusion.Explicit3D(va, vb, nx, ny + 1, nz, nx, ny, nz, nu, dt, dx, dy, dz, substeps, xLo, xHi, yLo, yHi, zLo, zHi);
            Diffusion.Explicit3D(wa, wb, nx, ny, nz + 1, nx, ny, nz, nu, dt, dx, dy, dz, substeps, xLo, xHi, yLo, yHi, zLo, zHi);
        }
        else
        {
            Operators.Copy(ua, ub);
            Operators.Copy(va, vb);
            Operators.Copy(wa, wb);
        }
        ApplyWalls3D(ub, vb, wb, nx, ny, nz, xLo, xHi, yLo, yHi, zLo, zHi);
        ApplyObstacle3D(ub, vb, wb, solid, nx, ny, nz);
        Pressure.Project3D(ub, vb, wb, uOut, vOut, wOut, p, solid, nx, ny, nz, dx, dy, dz, xLo, xHi, yLo, yHi, zLo, zHi, tolerance, maxIterations);
    }
}
