namespace DiffGen.Physics;

/// <summary>
/// Boundary, obstacle, inflow and force kernels for MAC velocities, and the composed incompressible
/// Navier-Stokes step. Layout: u is (nx+1) x ny (<c>u[j*(nx+1)+i]</c>, x-face i of row j), v is
/// nx x (ny+1) (<c>v[j*nx+i]</c>, y-face j of column i), cell data nx x ny (<c>c[j*nx+i]</c>).
/// </summary>
public static partial class Fluids
{
    /// <summary>Sets the normal velocity on closed-wall sides (code <see cref="Bc.Zero"/>) to zero.</summary>
    /// <remarks>
    /// One iteration per face, most of which write nothing: a write at <c>u[j * (nx + 1)]</c> in a loop over the rows
    /// is not of the form the generator proves independent (<c>out[j * w + i]</c> with <c>0 &lt;= i &lt; w</c>), and a
    /// loop it cannot prove independent gets no ILGPU kernel. Same values and adjoints as a loop over the wall faces.
    /// </remarks>
    [Differentiable, DataParallel]
    public static void ApplyWalls(Span<double> u, Span<double> v, int nx, int ny, int xLo, int xHi, int yLo, int yHi)
    {
        // The side tests are in the loops (written so when a bool set-up local could not reach a device kernel;
        // the generator passes bools as ints now, and the results are the same either way).
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i <= nx; i++)
            {
                if ((i == 0 && xLo == Bc.Zero) || (i == nx && xHi == Bc.Zero)) { u[j * (nx + 1) + i] = 0; }
            }
        }
        for (int j = 0; j <= ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                if ((j == 0 && yLo == Bc.Zero) || (j == ny && yHi == Bc.Zero)) { v[j * nx + i] = 0; }
            }
        }
    }

    /// <summary>Zeroes every face that touches a solid cell (<c>solid[j*nx+i] != 0</c>; an empty <paramref name="solid"/> is no obstacle).</summary>
    [Differentiable, DataParallel]
    public static void ApplyObstacle(Span<double> u, Span<double> v, ReadOnlySpan<int> solid, int nx, int ny)
    {
        // One loop per face kind, each face asking its two cells (a gather): every iteration writes only its own
        // face, so the loops are data-parallel kernels. The same faces are zeroed as by a loop over the solid cells.
        // No early return (it has no kernel form); the emptiness test stays in the
        // condition, before the reads it guards.
        int count = solid.Length;
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i <= nx; i++)
            {
                if (count > 0 && ((i > 0 && solid[j * nx + i - 1] != 0) || (i < nx && solid[j * nx + i] != 0))) { u[j * (nx + 1) + i] = 0; }
            }
        }
        for (int j = 0; j <= ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                if (count > 0 && ((j > 0 && solid[(j - 1) * nx + i] != 0) || (j < ny && solid[j * nx + i] != 0))) { v[j * nx + i] = 0; }
            }
        }
    }

    /// <summary>
    /// Inflow region: blends each face towards a prescribed velocity,
    /// <c>u = (1 - mu) u + mu * uValue</c>, <c>v = (1 - mv) v + mv * vValue</c>, with face masks mu, mv in [0, 1].
    /// The masks are constants (<c>[NoDiff]</c>: no adjoint).
    /// </summary>
    [Differentiable, DataParallel]
    public static void ApplyInflow(Span<double> u, Span<double> v, [NoDiff] ReadOnlySpan<double> uMask, [NoDiff] ReadOnlySpan<double> vMask, double uValue, double vValue)
    {
        // The bounds in locals: a span's Length in the loop condition keeps the loop serial (DG0303).
        int nu = u.Length;
        int nv = v.Length;
        for (int k = 0; k < nu; k++)
            u[k] = (1 - uMask[k]) * u[k] + uMask[k] * uValue;
        for (int k = 0; k < nv; k++)
            v[k] = (1 - vMask[k]) * v[k] + vMask[k] * vValue;
    }

    /// <summary>
    /// Boussinesq buoyancy: adds <c>scale * density</c> (sampled at the y-faces, outside values by the
    /// density codes) to v. Pass <c>scale = dt * buoyancyFactor</c>.
    /// </summary>
    [Differentiable, DataParallel]
    public static void AddBuoyancy(ReadOnlySpan<double> density, Span<double> v, int nx, int ny, double scale, int xLo, int xHi, int yLo, int yHi)
    {
        for (int j = 0; j <= ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                // Interpolation.Sample2D(density, nx, ny, nx, ny, i, j - 0.5, …) spelled out (a loop that calls a method has
                // no ILGPU kernel), with the same arithmetic in the same order.
                double gx = i;
                double gy = j - 0.5;
                double flx = Math.Floor(gx);
                double fly = Math.Floor(gy);
                int i0 = (int)flx;
                int j0 = (int)fly;
                int ki0 = Bc.Resolve(i0, nx, nx, xLo, xHi);
                int ki1 = Bc.Resolve(i0 + 1, nx, nx, xLo, xHi);
                int kj0 = Bc.Resolve(j0, ny, ny, yLo, yHi) * nx;
                int kj1 = Bc.Resolve(j0 + 1, ny, ny, yLo, yHi) * nx;
                double kx0 = Bc.Keep(i0, nx, xLo, xHi);
                double kx1 = Bc.Keep(i0 + 1, nx, xLo, xHi);
                double ky0 = Bc.Keep(j0, ny, yLo, yHi);
                double ky1 = Bc.Keep(j0 + 1, ny, yLo, yHi);
                double tx = gx - flx;
                double ty = gy - fly;
                double wx0 = (1 - tx) * kx0;
                double wx1 = tx * kx1;
                double wy0 = (1 - ty) * ky0;
                double wy1 = ty * ky1;
                v[j * nx + i] += scale * (wy0 * (wx0 * density[kj0 + ki0] + wx1 * density[kj0 + ki1]) + wy1 * (wx0 * density[kj1 + ki0] + wx1 * density[kj1 + ki1]));
            }
        }
    }

    /// <summary>
    /// One incompressible Navier-Stokes step on a MAC grid: semi-Lagrangian self-advection, explicit
    /// diffusion (<paramref name="substeps"/>; skipped for nu = 0 or substeps = 0), closed walls, obstacle,
    /// pressure projection. Velocity codes per side; <paramref name="solid"/> may be empty.
    /// </summary>
    [Differentiable]
    public static void IncompressibleStep(ReadOnlySpan<double> u, ReadOnlySpan<double> v, Span<double> uOut, Span<double> vOut, Span<double> p, ReadOnlySpan<int> solid,
        int nx, int ny, [NoDiff] double dx, [NoDiff] double dy, double dt, double nu, int substeps, int xLo, int xHi, int yLo, int yHi, int rk2, [NoDiff] double tolerance, int maxIterations)
    {
        double[] ua = new double[u.Length];
        double[] va = new double[v.Length];
        double[] ub = new double[u.Length];
        double[] vb = new double[v.Length];
        Advection.SemiLagrangianVelocity2D(u, v, ua, va, nx, ny, dx, dy, dt, xLo, xHi, yLo, yHi, rk2);
        if (substeps > 0)
        {
            Diffusion.Explicit2D(ua, ub, nx + 1, ny, nx, ny, nu, dt, dx, dy, substeps, xLo, xHi, yLo, yHi);
            Diffusion.Explicit2D(va, vb, nx, ny + 1, nx, ny, nu, dt, dx, dy, substeps, xLo, xHi, yLo, yHi);
        }
        else
        {
            Operators.Copy(ua, ub);
            Operators.Copy(va, vb);
        }
        ApplyWalls(ub, vb, nx, ny, xLo, xHi, yLo, yHi);
        ApplyObstacle(ub, vb, solid, nx, ny);
        Pressure.Project(ub, vb, uOut, vOut, p, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, tolerance, maxIterations);
    }
}
