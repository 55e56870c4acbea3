using DiffGen.CompilerServices;

namespace DiffGen.Physics;

/// <summary>
/// An aggregation multigrid V-cycle, the CG preconditioner of the pressure solve in 2D and 3D. The operator
/// is a symmetric 5-point (2D) or 7-point (3D) stencil <c>(A x)_k = d_k x_k - Σ c_k,nb x_nb</c> given per cell
/// (cells with <c>d_k = 0</c> are inactive: solids). Coarse levels merge 2x2 (2x2x2) cells and take the
/// Galerkin product <c>Pᵀ A P</c> with piecewise-constant P, so walls, open sides, periodic seams and
/// obstacles carry over to every level without special cases. Damped Jacobi smoothing before and after the coarse correction
/// and symmetric Gauss-Seidel on the coarsest level keep the cycle symmetric, as CG needs. The CG
/// iteration count then grows only slowly with the grid, where incomplete Cholesky's grows with its width.
/// </summary>
internal sealed class Multigrid
{
    private const double Omega = 0.8;          // damped Jacobi, near optimal for the 5-point Laplacian
    private const int Sweeps = 2;              // before and after the coarse correction
    // Piecewise-constant prolongation under-corrects smooth error. Measured in 3D too (CG iterations to 1e-8 on
    // a closed 32³ / 64³ box: 22 / 28 at 1.3, 22 / 26 at 1.6, 24 at 32³ for 2.0), so both use 1.6.
    private const double CoarseScale = 1.6;
    private const int CoarsestCells = 64;
    private const int CoarsestSweeps = 30;

    private sealed class Level
    {
        public readonly int Nx, Ny, Nz, N, Dirs;
        public readonly double[] Diag;
        public readonly int[][] Nb;
        public readonly double[][] C;
        public int[] Agg = [];
        public readonly double[] R, Z, T;

        public Level(int nx, int ny, int nz, int dirs)
        {
            Nx = nx; Ny = ny; Nz = nz; N = nx * ny * nz; Dirs = dirs;
            Diag = new double[N]; R = new double[N]; Z = new double[N]; T = new double[N];
            Nb = new int[dirs][];
            C = new double[dirs][];
            for (int d = 0; d < dirs; d++) { Nb[d] = new int[N]; Array.Fill(Nb[d], -1); C[d] = new double[N]; }
        }
    }

    private readonly List<Level> _levels = [];

    /// <summary>
    /// Builds the hierarchy from the fine operator: neighbours per direction (W, E, S, N, and down, up in 3D;
    /// -1 for none) and the coupling coefficient of each direction.
    /// </summary>
    public Multigrid(int nx, int ny, int nz, ReadOnlySpan<double> diag, int[][] neighbours, double[] coefficients)
    {
        int dirs = neighbours.Length;
        var fine = new Level(nx, ny, nz, dirs);
        diag.CopyTo(fine.Diag);
        var couple = new FineCouplings { Fine = fine, Neighbours = neighbours, Coefficients = coefficients };
        Threads.For(fine.N, dirs, ref couple);
        _levels.Add(fine);
        while (_levels[^1].N > CoarsestCells && (_levels[^1].Nx > 1 || _levels[^1].Ny > 1 || _levels[^1].Nz > 1))
            _levels.Add(Coarsen(_levels[^1]));
    }

    /// <summary>Number of levels (for tests).</summary>
    public int Levels => _levels.Count;

    private static Level Coarsen(Level f)
    {
        int cx = (f.Nx + 1) / 2, cy = (f.Ny + 1) / 2, cz = (f.Nz + 1) / 2;
        var c = new Level(cx, cy, cz, f.Dirs);
        f.Agg = new int[f.N];
        var aggregate = new Aggregation { Fine = f, Coarse = c };
        Threads.For(f.Ny * f.Nz, f.Nx, ref aggregate);
        var galerkin = new Galerkin { Fine = f, Coarse = c };
        Threads.For(cy * cz, 4L * f.Dirs * cx, ref galerkin);
        return c;
    }

    /// <summary>The fine level's couplings: direction d's neighbour and coefficient where both cells are active.</summary>
    private struct FineCouplings : IParallelBody
    {
        public Level Fine;
        public int[][] Neighbours;
        public double[] Coefficients;

        public readonly void Run(int chunk, int from, int to)
        {
            for (int d = 0; d < Fine.Dirs; d++)
                for (int k = from; k < to; k++)
                    if (Neighbours[d][k] >= 0 && Fine.Diag[k] > 0) { Fine.Nb[d][k] = Neighbours[d][k]; Fine.C[d][k] = Coefficients[d]; }
        }
    }

    /// <summary>The aggregate of each fine cell, fine rows (j, l) [from, to).</summary>
    private struct Aggregation : IParallelBody
    {
        public Level Fine, Coarse;

        public readonly void Run(int chunk, int from, int to)
        {
            Level f = Fine, c = Coarse;
            for (int row = from; row < to; row++)
            {
                int j = row % f.Ny, l = row / f.Ny;
                for (int i = 0; i < f.Nx; i++) f.Agg[row * f.Nx + i] = ((l / 2) * c.Ny + j / 2) * c.Nx + i / 2;
            }
        }
    }

    /// <summary>
    /// The Galerkin coarse operator, gathered per coarse cell (coarse rows (j, l) [from, to)): each aggregate
    /// visits its fine cells in increasing fine index, the order in which a scatter over the fine cells added
    /// into it, so the coefficients are the same bits whatever the thread count.
    /// </summary>
    private struct Galerkin : IParallelBody
    {
        public Level Fine, Coarse;

        public readonly void Run(int chunk, int from, int to)
        {
            Level f = Fine, c = Coarse;
            for (int row = from; row < to; row++)
            {
                int cj = row % c.Ny, cl = row / c.Ny;
                int l1 = Math.Min(2 * cl + 2, f.Nz), j1 = Math.Min(2 * cj + 2, f.Ny);
                for (int ci = 0; ci < c.Nx; ci++)
                {
                    int K = row * c.Nx + ci, i1 = Math.Min(2 * ci + 2, f.Nx);
                    double scale = 0;
                    for (int l = 2 * cl; l < l1; l++)
                        for (int j = 2 * cj; j < j1; j++)
                            for (int i = 2 * ci; i < i1; i++)
                            {
                                int k = (l * f.Ny + j) * f.Nx + i;
                                if (f.Diag[k] <= 0) continue;
                                c.Diag[K] += f.Diag[k];
                                scale += f.Diag[k];
                                for (int d = 0; d < f.Dirs; d++)
                                {
                                    int nb = f.Nb[d][k];
                                    if (nb < 0) continue;
                                    int L = f.Agg[nb];
                                    // A coupling inside the aggregate cancels part of the diagonal; one across its side couples the
                                    // aggregate to the neighbouring one in the same direction (also across a periodic seam).
                                    if (L == K) c.Diag[K] -= f.C[d][k];
                                    else { c.Nb[d][K] = L; c.C[d][K] += f.C[d][k]; }
                                }
                            }
                    // An aggregate whose cells couple only among themselves (an enclosed pocket of a singular problem)
                    // has a zero diagonal up to round-off; it stays out, rather than dividing by the round-off.
                    bool coupled = false;
                    for (int d = 0; d < c.Dirs; d++) coupled |= c.Nb[d][K] >= 0;
                    if (!coupled && c.Diag[K] <= 1e-10 * scale) c.Diag[K] = 0;
                }
            }
        }
    }

    /// <summary>z = M⁻¹ r: one V-cycle from zero.</summary>
    public void Apply(ReadOnlySpan<double> r, Span<double> z)
    {
        r.CopyTo(_levels[0].R);
        Cycle(0);
        _levels[0].Z.AsSpan().CopyTo(z);
    }

    // Every pass over a level below but the coarsest's Gauss-Seidel is element-wise (or, the restriction, a
    // gather per coarse cell), so it runs on threads (Threads) with the same bits at every thread count.
    private void Cycle(int l)
    {
        var lv = _levels[l];
        double[] z = lv.Z;
        if (l == _levels.Count - 1)
        {
            Array.Clear(z);
            for (int s = 0; s < CoarsestSweeps; s++) { GaussSeidel(lv, forward: true); GaussSeidel(lv, forward: false); }
            return;
        }
        var pass = new Pass { Lv = lv, Kind = PassKind.First };
        Threads.For(lv.N, 1, ref pass);
        for (int s = 1; s < Sweeps; s++) Jacobi(lv);
        Residual(lv);
        var cl = _levels[l + 1];
        var restrict = new Restriction { Fine = lv, Coarse = cl };
        Threads.For(cl.Ny * cl.Nz, 4L * cl.Nx, ref restrict);
        Cycle(l + 1);
        var prolong = new Pass { Lv = lv, Kind = PassKind.Prolong, Coarse = cl.Z };
        Threads.For(lv.N, 1, ref prolong);
        for (int s = 0; s < Sweeps; s++) Jacobi(lv);
    }

    /// <summary>t = r - A z.</summary>
    private static void Residual(Level lv)
    {
        var pass = new Pass { Lv = lv, Kind = PassKind.Residual };
        Threads.For(lv.N, lv.Dirs + 2, ref pass);
    }

    private static void ResidualRows(Level lv, int from, int to)
    {
        double[] r = lv.R, z = lv.Z, t = lv.T, dg = lv.Diag;
        int[] w = lv.Nb[0], e = lv.Nb[1], s = lv.Nb[2], n = lv.Nb[3];
        double[] cw = lv.C[0], ce = lv.C[1], cs = lv.C[2], cn = lv.C[3];
        if (lv.Dirs == 4)
        {
            for (int k = from; k < to; k++)
            {
                if (dg[k] <= 0) { t[k] = 0; continue; }
                double a = dg[k] * z[k];
                if (w[k] >= 0) a -= cw[k] * z[w[k]];
                if (e[k] >= 0) a -= ce[k] * z[e[k]];
                if (s[k] >= 0) a -= cs[k] * z[s[k]];
                if (n[k] >= 0) a -= cn[k] * z[n[k]];
                t[k] = r[k] - a;
            }
            return;
        }
        // 3D: the same with the two z neighbours (a loop of its own, so the 2D one stays as lean as it was).
        int[] b = lv.Nb[4], u = lv.Nb[5];
        double[] cb = lv.C[4], cu = lv.C[5];
        for (int k = from; k < to; k++)
        {
            if (dg[k] <= 0) { t[k] = 0; continue; }
            double a = dg[k] * z[k];
            if (w[k] >= 0) a -= cw[k] * z[w[k]];
            if (e[k] >= 0) a -= ce[k] * z[e[k]];
            if (s[k] >= 0) a -= cs[k] * z[s[k]];
            if (n[k] >= 0) a -= cn[k] * z[n[k]];
            if (b[k] >= 0) a -= cb[k] * z[b[k]];
            if (u[k] >= 0) a -= cu[k] * z[u[k]];
            t[k] = r[k] - a;
        }
    }

    private static void Jacobi(Level lv)
    {
        Residual(lv);
        var pass = new Pass { Lv = lv, Kind = PassKind.Jacobi };
        Threads.For(lv.N, 1, ref pass);
    }

    private enum PassKind { First, Residual, Jacobi, Prolong }

    /// <summary>One element-wise pass over a level's cells [from, to).</summary>
    private struct Pass : IParallelBody
    {
        public Level Lv;
        public PassKind Kind;
        public double[] Coarse;

        public readonly void Run(int chunk, int from, int to)
        {
            double[] r = Lv.R, z = Lv.Z, t = Lv.T, dg = Lv.Diag;
            switch (Kind)
            {
                case PassKind.First:
                    for (int k = from; k < to; k++) z[k] = dg[k] > 0 ? Omega * r[k] / dg[k] : 0;
                    break;
                case PassKind.Residual:
                    ResidualRows(Lv, from, to);
                    break;
                case PassKind.Jacobi:
                    for (int k = from; k < to; k++) if (dg[k] > 0) z[k] += Omega * t[k] / dg[k];
                    break;
                default:
                    int[] agg = Lv.Agg;
                    for (int k = from; k < to; k++) if (dg[k] > 0) z[k] += CoarseScale * Coarse[agg[k]];
                    break;
            }
        }
    }

    /// <summary>
    /// The restriction of the fine residual t to the coarse right-hand side, gathered per coarse cell: each
    /// adds its (up to 2x2x2) fine cells in increasing fine index, the order in which the scatter
    /// <c>R[agg[k]] += t[k]</c> over k added them, so the sums are the same bits. Iterations are coarse rows (j, l).
    /// </summary>
    private struct Restriction : IParallelBody
    {
        public Level Fine, Coarse;

        public readonly void Run(int chunk, int from, int to)
        {
            Level f = Fine, c = Coarse;
            double[] t = f.T, rc = c.R;
            for (int row = from; row < to; row++)
            {
                int cj = row % c.Ny, cl = row / c.Ny;
                int l1 = Math.Min(2 * cl + 2, f.Nz), j1 = Math.Min(2 * cj + 2, f.Ny);
                for (int ci = 0; ci < c.Nx; ci++)
                {
                    int i1 = Math.Min(2 * ci + 2, f.Nx);
                    double sum = 0;
                    for (int l = 2 * cl; l < l1; l++)
                        for (int j = 2 * cj; j < j1; j++)
                            for (int i = 2 * ci; i < i1; i++) sum += t[(l * f.Ny + j) * f.Nx + i];
                    rc[row * c.Nx + ci] = sum;
                }
            }
        }
    }

    private static void GaussSeidel(Level lv, bool forward)
    {
        double[] r = lv.R, z = lv.Z, dg = lv.Diag;
        for (int m = 0; m < lv.N; m++)
        {
            int k = forward ? m : lv.N - 1 - m;
            if (dg[k] <= 0) continue;
            double a = r[k];
            for (int d = 0; d < lv.Dirs; d++) if (lv.Nb[d][k] >= 0) a += lv.C[d][k] * z[lv.Nb[d][k]];
            z[k] = a / dg[k];
        }
    }
}
