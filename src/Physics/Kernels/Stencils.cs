using DiffGen.CompilerServices;

namespace DiffGen.Physics;

/// <summary>
/// The cells of a 2D or 3D grid (2D: <c>nz = 1</c>) and their side codes, for the cell-centred operators of
/// the linear solves: for cell k and one of the six directions (W, E, S, N, down, up in x, y, z) the neighbour's
/// index, or -1 for a boundary face that is not periodic. Cell (i, j, l) is <c>k = (l * ny + j) * nx + i</c>.
/// </summary>
/// <remarks>2D and 3D solves share this, the operators below and the multigrid; a 2D grid has four directions.</remarks>
internal readonly record struct CellLattice(int Nx, int Ny, int Nz, int XLo, int XHi, int YLo, int YHi, int ZLo, int ZHi)
{
    /// <summary>Cells.</summary>
    public int Count => Nx * Ny * Nz;

    /// <summary>Directions a cell has neighbours in: 4 in 2D, 6 in 3D.</summary>
    public int Directions => Nz > 1 ? 6 : 4;

    /// <summary>The neighbour of cell k in direction <paramref name="dir"/> (or -1 and the side's code in <paramref name="code"/>).</summary>
    public int Neighbour(int k, int dir, out int code)
    {
        int i = k % Nx, j = k / Nx % Ny, l = k / (Nx * Ny);
        code = -1;
        switch (dir)
        {
            case 0: if (i > 0) return k - 1; code = XLo; return XLo == Bc.Periodic ? k + Nx - 1 : -1;
            case 1: if (i < Nx - 1) return k + 1; code = XHi; return XHi == Bc.Periodic ? k - (Nx - 1) : -1;
            case 2: if (j > 0) return k - Nx; code = YLo; return YLo == Bc.Periodic ? k + (Ny - 1) * Nx : -1;
            case 3: if (j < Ny - 1) return k + Nx; code = YHi; return YHi == Bc.Periodic ? k - (Ny - 1) * Nx : -1;
            case 4: if (l > 0) return k - Nx * Ny; code = ZLo; return ZLo == Bc.Periodic ? k + (Nz - 1) * Nx * Ny : -1;
            default: if (l < Nz - 1) return k + Nx * Ny; code = ZHi; return ZHi == Bc.Periodic ? k - (Nz - 1) * Nx * Ny : -1;
        }
    }
}

/// <summary>
/// <c>A = I - c L</c> on cell centres (L: the 5- or 7-point Laplacian with the scalar boundary codes:
/// zero pads, zero gradient, periodic). The implicit diffusion solve, 2D (<c>nz = 1</c>) and 3D.
/// </summary>
internal sealed class HelmholtzOperator(CellLattice lattice, double dx, double dy, double dz, double c) : ISpdOperator
{
    private readonly double[] _a = [1 / (dx * dx), 1 / (dx * dx), 1 / (dy * dy), 1 / (dy * dy), 1 / (dz * dz), 1 / (dz * dz)];
    private double[]? _diag;

    public int Length => lattice.Count;
    public bool Singular => false;

    /// <summary>Jacobi: well conditioned already (I - c L), so the diagonal is enough.</summary>
    public void Precondition(ReadOnlySpan<double> r, Span<double> z)
    {
        if (_diag is null) { _diag = new double[Length]; Diagonal(_diag); }
        for (int k = 0; k < r.Length; k++) z[k] = r[k] / _diag[k];
    }

    public void Laplacian(ReadOnlySpan<double> x, Span<double> y)
    {
        int dirs = lattice.Directions;
        for (int k = 0; k < Length; k++)
        {
            double s = 0;
            for (int dir = 0; dir < dirs; dir++)
            {
                double a = _a[dir];
                int nb = lattice.Neighbour(k, dir, out int code);
                if (nb >= 0) s += a * (x[nb] - x[k]);
                else if (code == Bc.Zero) s -= a * x[k]; // zero pad: (0 - x)
                // zero gradient: ghost = x, no flux
            }
            y[k] = s;
        }
    }

    public void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        Laplacian(x, y);
        for (int k = 0; k < y.Length; k++) y[k] = x[k] - c * y[k];
    }

    public void Diagonal(Span<double> d)
    {
        int dirs = lattice.Directions;
        for (int k = 0; k < Length; k++)
        {
            double s = 0;
            for (int dir = 0; dir < dirs; dir++)
            {
                double a = _a[dir];
                int nb = lattice.Neighbour(k, dir, out int code);
                if (nb >= 0) { if (nb != k) s += a; }
                else if (code == Bc.Zero) s += a;
            }
            d[k] = 1 + c * s;
        }
    }
}

/// <summary>
/// The pressure Poisson operator <c>A = -D G</c> on the fluid cells of a MAC grid, 2D (<c>nz = 1</c>) or 3D:
/// closed walls (velocity code Zero) and solid cells have no flux (Neumann), open sides (ZeroGradient) are
/// Dirichlet p = 0 on the boundary face, periodic sides wrap. Singular without an open side.
/// </summary>
internal sealed class PoissonOperator : ISpdOperator
{
    private readonly CellLattice _lattice;
    private readonly int[] _solid;
    private readonly double[] _a;
    private Multigrid? _mg;

    // Per-cell neighbour indices per direction (-1: no coupling) and the diagonal, built once per solve so that
    // the matrix-vector product is a plain stencil loop.
    private int[][]? _nb;
    private double[]? _diagonal;

    public PoissonOperator(CellLattice lattice, double dx, double dy, double dz, ReadOnlySpan<int> solid)
    {
        _lattice = lattice;
        _solid = solid.IsEmpty ? new int[lattice.Count] : solid.ToArray();
        _a = [1 / (dx * dx), 1 / (dx * dx), 1 / (dy * dy), 1 / (dy * dy), 1 / (dz * dz), 1 / (dz * dz)];
    }

    public int Length => _lattice.Count;

    /// <summary>
    /// One aggregation-multigrid V-cycle (<see cref="Multigrid"/>): CG then needs a handful of iterations
    /// at any grid size (7 at 512², where incomplete Cholesky needed 344).
    /// </summary>
    public void Precondition(ReadOnlySpan<double> r, Span<double> z)
    {
        if (_mg is null)
        {
            if (_diagonal is null) BuildStencil();
            _mg = new Multigrid(_lattice.Nx, _lattice.Ny, _lattice.Nz, _diagonal!, _nb!, _a);
        }
        _mg.Apply(r, z);
    }

    public bool Singular =>
        _lattice.XLo != Bc.ZeroGradient && _lattice.XHi != Bc.ZeroGradient && _lattice.YLo != Bc.ZeroGradient && _lattice.YHi != Bc.ZeroGradient
        && (_lattice.Nz == 1 || (_lattice.ZLo != Bc.ZeroGradient && _lattice.ZHi != Bc.ZeroGradient));

    private void BuildStencil()
    {
        int n = Length, dirs = _lattice.Directions;
        _diagonal = new double[n];
        Diagonal(_diagonal);
        _nb = new int[dirs][];
        for (int dir = 0; dir < dirs; dir++) _nb[dir] = new int[n];
        var body = new StencilBody { Op = this };
        Threads.For(n, 2 * dirs, ref body);
    }

    private int Coupled(int k, int dir)
    {
        if (_solid[k] != 0) return -1;
        int nb = _lattice.Neighbour(k, dir, out _);
        return nb >= 0 && nb != k && _solid[nb] == 0 ? nb : -1;
    }

    public void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        if (_diagonal is null) BuildStencil();
        var body = new ApplyBody { Op = this, X = x, Y = y };
        Threads.For(y.Length, _nb!.Length + 1, ref body);
    }

    // Rows [from, to) of y = A x (the rows are independent: threads split them, Threads).
    private void ApplyRows(ReadOnlySpan<double> x, Span<double> y, int from, int to)
    {
        double ax = _a[0], ay = _a[2], az = _a[4];
        int[] w = _nb![0], e = _nb[1], s = _nb[2], nn = _nb[3];
        double[] d = _diagonal!;
        if (_nb.Length == 4)
        {
            for (int k = from; k < to; k++)
            {
                double t = d[k] * x[k];
                if (w[k] >= 0) t -= ax * x[w[k]];
                if (e[k] >= 0) t -= ax * x[e[k]];
                if (s[k] >= 0) t -= ay * x[s[k]];
                if (nn[k] >= 0) t -= ay * x[nn[k]];
                y[k] = t;
            }
            return;
        }
        int[] b = _nb[4], u = _nb[5];
        for (int k = from; k < to; k++)
        {
            double t = d[k] * x[k];
            if (w[k] >= 0) t -= ax * x[w[k]];
            if (e[k] >= 0) t -= ax * x[e[k]];
            if (s[k] >= 0) t -= ay * x[s[k]];
            if (nn[k] >= 0) t -= ay * x[nn[k]];
            if (b[k] >= 0) t -= az * x[b[k]];
            if (u[k] >= 0) t -= az * x[u[k]];
            y[k] = t;
        }
    }

    private ref struct ApplyBody : IParallelBody
    {
        public PoissonOperator Op;
        public ReadOnlySpan<double> X;
        public Span<double> Y;

        public void Run(int chunk, int from, int to) => Op.ApplyRows(X, Y, from, to);
    }

    public void Diagonal(Span<double> d)
    {
        var body = new DiagonalBody { Op = this, D = d };
        Threads.For(Length, 2 * _lattice.Directions, ref body);
    }

    private void DiagonalRows(Span<double> d, int from, int to)
    {
        int dirs = _lattice.Directions;
        for (int k = from; k < to; k++)
        {
            double s = 0;
            if (_solid[k] == 0)
                for (int dir = 0; dir < dirs; dir++)
                {
                    double a = _a[dir];
                    int nb = _lattice.Neighbour(k, dir, out int code);
                    if (nb >= 0) { if (_solid[nb] == 0 && nb != k) s += a; }
                    else if (code == Bc.ZeroGradient) s += 2 * a;
                }
            d[k] = s;
        }
    }

    private ref struct DiagonalBody : IParallelBody
    {
        public PoissonOperator Op;
        public Span<double> D;

        public void Run(int chunk, int from, int to) => Op.DiagonalRows(D, from, to);
    }

    private struct StencilBody : IParallelBody
    {
        public PoissonOperator Op;

        public void Run(int chunk, int from, int to)
        {
            for (int dir = 0; dir < Op._nb!.Length; dir++)
            {
                int[] nb = Op._nb[dir];
                for (int k = from; k < to; k++) nb[k] = Op.Coupled(k, dir);
            }
        }
    }
}
