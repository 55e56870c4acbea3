using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

// ILGPU's generated kernel launchers read the solver's argument structs, which are internal.
[assembly: InternalsVisibleTo("ILGPURuntime")]

namespace DiffGen.Physics;

public static partial class Pressure
{
    /// <summary>
    /// <see cref="SolvePressure"/> and its implicit adjoint on an ILGPU accelerator, on views in the accelerator's
    /// memory (no array data is copied to the host): the same operator (fluid cells, closed walls and solid cells
    /// Neumann, open sides p = 0 on the face, periodic wrap; the mean-free solution of a closed or periodic box) solved
    /// by conjugate gradients with a Jacobi (diagonal) preconditioner to the same criterion, max-norm residual at most
    /// <c>tolerance</c>. The CPU solve is preconditioned by a multigrid V-cycle, so the two stop at different
    /// iterates: they agree to about the tolerance, not bit for bit, and the device needs more iterations (Jacobi CG's
    /// count grows with the grid's width, about 2-3 per cell across), which <c>maxIterations</c> must allow.
    /// </summary>
    /// <remarks>
    /// Hand-written (the generator does not differentiate implicit solves), with the members and parameter order of a
    /// generated <c>{Name}Device</c> class, so that a generated composite can call it. Dot products, sums and max norms
    /// are fixed-order block reductions (blocks of 256 consecutive elements, each summed in index order, then blocks of
    /// the block results, …; no atomics): a solve gives the same bits on every run. The CG scalars stay on the device;
    /// the host reads a few of them (start, every <see cref="PollEvery"/> iterations, end) to decide when to stop. A
    /// converged solve sets a flag the later kernels of a poll interval test, so the iterate is the one at which the
    /// residual first met the tolerance, as on the CPU. Both members wait for the device before they return.
    /// </remarks>
    public static class SolvePressureDevice
    {
        /// <summary>Iterations queued between two reads of the convergence flag.</summary>
        public const int PollEvery = 8;

        private const int Block = 256;

        // Slots of the scalar buffer.
        private const int SRz = 0, SDq = 1, SAlpha = 2, SRes = 3, SDone = 4, SIterations = 5, SSum = 6, SCount = 7, SRzNew = 8, SBeta = 9, SMax = 10, SMax2 = 11, Slots = 12;

        // Block reduction modes.
        private const int ModeDot = 0, ModeSumActive = 1, ModeMaxAbs = 2, ModeCountActive = 3;

        /// <summary>
        /// Solves <c>L p = rhs</c> into <paramref name="p"/> (see <see cref="SolvePressure"/>; spans are views here).
        /// <paramref name="solid"/> may be an empty view (no obstacle).
        /// </summary>
        /// <exception cref="InvalidOperationException">CG did not converge in <paramref name="maxIterations"/>, broke down, or <paramref name="rhs"/> is not finite (a <see cref="SolverException"/>).</exception>
        public static void Run(Accelerator accelerator, ArrayView<double> rhs, ArrayView<double> p, ArrayView<int> solid, int nx, int ny, double dx, double dy,
            int xLo, int xHi, int yLo, int yHi, double tolerance, int maxIterations)
            => RunWithStats(accelerator, rhs, p, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi, tolerance, maxIterations);

        /// <summary><see cref="Run"/>, returning the CG iteration count and the final max-norm residual.</summary>
        public static (int Iterations, double Residual) RunWithStats(Accelerator accelerator, ArrayView<double> rhs, ArrayView<double> p, ArrayView<int> solid, int nx, int ny, double dx, double dy,
            int xLo, int xHi, int yLo, int yHi, double tolerance, int maxIterations)
        {
            CheckSizes(rhs, p, solid, nx, ny);
            using var solver = new Solver(accelerator, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi);
            return solver.Solve(rhs, p, tolerance, maxIterations);
        }

        /// <summary>
        /// The implicit adjoint (as <see cref="SolvePressurePullback"/>): re-solves for <paramref name="p"/>, solves
        /// <c>L lambda = pBar</c> with the same (symmetric) operator to the primal's relative accuracy, adds lambda to
        /// <paramref name="rhsBar"/> and consumes <paramref name="pBar"/> (sets it to zero).
        /// </summary>
        /// <exception cref="InvalidOperationException">A solve did not converge (see <see cref="Run"/>).</exception>
        public static void Pullback(Accelerator accelerator, ArrayView<double> rhs, ArrayView<double> p, ArrayView<int> solid, int nx, int ny, double dx, double dy,
            int xLo, int xHi, int yLo, int yHi, double tolerance, int maxIterations, ArrayView<double> rhsBar, ArrayView<double> pBar)
        {
            CheckSizes(rhs, p, solid, nx, ny);
            if (rhsBar.Length != rhs.Length || pBar.Length != rhs.Length)
                throw new ArgumentException($"rhsBar and pBar must hold nx * ny = {rhs.Length} elements (got {rhsBar.Length} and {pBar.Length}).");
            using var solver = new Solver(accelerator, solid, nx, ny, dx, dy, xLo, xHi, yLo, yHi);
            solver.Solve(rhs, p, tolerance, maxIterations);
            // The tolerance of the adjoint solve as on the CPU (AdjointSolve): relative to max|pBar| / max|rhs|.
            solver.MaxAbsPair(rhs, pBar, out double rhsMax, out double barMax);
            double tol = rhsMax > 0 ? tolerance * barMax / rhsMax : tolerance;
            if (barMax > 0)
            {
                using var lambda = accelerator.Allocate1D<double>(rhs.Length);
                solver.Solve(pBar, lambda.View, Math.Max(tol, 1e-300), maxIterations);
                solver.AddInto(rhsBar, lambda.View);
                accelerator.Synchronize(); // before lambda is freed
            }
            pBar.MemSetToZero();
            accelerator.Synchronize();
        }

        private static void CheckSizes(ArrayView<double> rhs, ArrayView<double> p, ArrayView<int> solid, int nx, int ny)
        {
            if (nx < 1 || ny < 1) throw new ArgumentOutOfRangeException(nameof(nx), $"The grid needs at least one cell per axis (got {nx}x{ny}).");
            long n = (long)nx * ny;
            if (rhs.Length != n || p.Length != n) throw new ArgumentException($"rhs and p must hold nx * ny = {n} elements (got {rhs.Length} and {p.Length}).");
            if (solid.Length != 0 && solid.Length != n) throw new ArgumentException($"solid must be empty or hold nx * ny = {n} elements (got {solid.Length}).", nameof(solid));
        }

        /// <summary>The views and values the solver's kernels read.</summary>
        internal struct Args
        {
            public ArrayView<double> X, R, Z, D, Q, Diag, Scalars;
            public ArrayView<int> West, East, South, North;
            public double Ax, Ay;
            public int Singular;
        }

        /// <summary>The operator's set-up: the solid mask and the geometry.</summary>
        internal struct BuildArgs
        {
            public ArrayView<int> Solid, West, East, South, North;
            public ArrayView<double> Diag;
            public int Nx, Ny, XLo, XHi, YLo, YHi;
            public double Ax, Ay;
        }

        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, BuildArgs>> BuildKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args, ArrayView<double>>> InitKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args, ArrayView<double>, ArrayView<double>, ArrayView<double>, int, int>> BlockKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, ArrayView<double>, ArrayView<double>, int, int>> PassKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args, ArrayView<double>, int>> SubtractMeanKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args>> PreconditionKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args>> ApplyKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args, int>> AlphaKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args>> StepKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args, double, int>> CheckKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args>> BetaKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, Args>> DirectionKernel = new();
        private static readonly ConditionalWeakTable<Accelerator, Action<Index1D, ArrayView<double>, ArrayView<double>>> AddKernel = new();

        /// <summary>One operator on one accelerator: its stencil, CG vectors, reduction scratch and scalars.</summary>
        private sealed class Solver : IDisposable
        {
            private readonly Accelerator _acc;
            private readonly int _n;
            private readonly bool _singular;
            private readonly List<IDisposable> _buffers = [];
            private readonly ArrayView<double>[] _levels;
            private Args _a;

            public Solver(Accelerator accelerator, ArrayView<int> solid, int nx, int ny, double dx, double dy, int xLo, int xHi, int yLo, int yHi)
            {
                _acc = accelerator;
                _n = nx * ny;
                // As PoissonOperator.Singular (2D): no open side.
                _singular = xLo != Bc.ZeroGradient && xHi != Bc.ZeroGradient && yLo != Bc.ZeroGradient && yHi != Bc.ZeroGradient;
                _a.R = Vector();
                _a.Z = Vector();
                _a.D = Vector();
                _a.Q = Vector();
                _a.Diag = Vector();
                _a.West = Indices();
                _a.East = Indices();
                _a.South = Indices();
                _a.North = Indices();
                var scalars = _acc.Allocate1D<double>(Slots);
                _buffers.Add(scalars);
                _a.Scalars = scalars.View;
                _a.Ax = 1 / (dx * dx);
                _a.Ay = 1 / (dy * dy);
                _a.Singular = _singular ? 1 : 0;
                // Block results of the first pass, of the second, … (the last pass writes into a scalar slot).
                var levels = new List<ArrayView<double>>();
                for (int m = Blocks(_n); m > 1; m = Blocks(m))
                {
                    var level = _acc.Allocate1D<double>(m);
                    _buffers.Add(level);
                    levels.Add(level.View);
                }
                _levels = [.. levels];
                var build = new BuildArgs
                {
                    Solid = solid, West = _a.West, East = _a.East, South = _a.South, North = _a.North, Diag = _a.Diag,
                    Nx = nx, Ny = ny, XLo = xLo, XHi = xHi, YLo = yLo, YHi = yHi, Ax = _a.Ax, Ay = _a.Ay,
                };
                BuildKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, BuildArgs>(Build))(_n, build);
            }

            private ArrayView<double> Vector()
            {
                var b = _acc.Allocate1D<double>(_n);
                _buffers.Add(b);
                return b.View;
            }

            private ArrayView<int> Indices()
            {
                var b = _acc.Allocate1D<int>(_n);
                _buffers.Add(b);
                return b.View;
            }

            public void Dispose()
            {
                _acc.Synchronize();
                foreach (var b in _buffers) b.Dispose();
            }

            // A fixed-order reduction of f(k) over the n elements into scalar slot `slot`.
            private void Reduce(int mode, ArrayView<double> a, ArrayView<double> b, int slot)
            {
                var block = BlockKernel.GetValue(_acc, static acc => acc.LoadAutoGroupedStreamKernel<Index1D, Args, ArrayView<double>, ArrayView<double>, ArrayView<double>, int, int>(BlockReduce));
                var pass = PassKernel.GetValue(_acc, static acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int, int>(ReducePass));
                var target = _a.Scalars.SubView(slot, 1);
                int op = mode == ModeMaxAbs ? 1 : 0;
                if (_levels.Length == 0) { block(1, _a, a, b, target, _n, mode); return; }
                block(_levels[0].IntLength, _a, a, b, _levels[0], _n, mode);
                for (int l = 0; l < _levels.Length; l++)
                {
                    var dst = l + 1 < _levels.Length ? _levels[l + 1] : target;
                    pass((int)dst.Length, _levels[l], dst, _levels[l].IntLength, op);
                }
            }

            // `always`: also after convergence (the final iterate's mean); otherwise skipped once the flag is set.
            private void RemoveMean(ArrayView<double> v, bool always = false)
            {
                Reduce(ModeSumActive, v, v, SSum);
                SubtractMeanKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, Args, ArrayView<double>, int>(SubtractMean))(_n, _a, v, always ? 1 : 0);
            }

            private void Precondition()
            {
                PreconditionKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, Args>(Jacobi))(_n, _a);
                if (_singular) RemoveMean(_a.Z);
            }

            private double[] ReadScalars() => _a.Scalars.GetAsArray();

            public void MaxAbsPair(ArrayView<double> a, ArrayView<double> b, out double maxA, out double maxB)
            {
                Reduce(ModeMaxAbs, a, a, SMax);
                Reduce(ModeMaxAbs, b, b, SMax2);
                var s = ReadScalars();
                maxA = s[SMax];
                maxB = s[SMax2];
            }

            public void AddInto(ArrayView<double> target, ArrayView<double> v) =>
                AddKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>>(Add))(_n, target, v);

            // Krylov.ConjugateGradient (absolute tolerance) with A = -L, b = -source, on the device.
            public (int Iterations, double Residual) Solve(ArrayView<double> source, ArrayView<double> x, double tolerance, int maxIterations)
            {
                const string what = "pressure";
                _a.X = x;
                _a.Scalars.MemSetToZero();
                x.MemSetToZero();
                InitKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, Args, ArrayView<double>>(Init))(_n, _a, source);
                Reduce(ModeCountActive, _a.Diag, _a.Diag, SCount);
                if (_singular) RemoveMean(_a.R);
                Reduce(ModeMaxAbs, _a.R, _a.R, SRes);
                var s = ReadScalars();
                double res = s[SRes];
                int count = (int)s[SCount];
                if (!double.IsFinite(res))
                    throw new SolverException(what, 0, double.NaN,
                        $"The {what} solve was given a non-finite right-hand side (max |b| = {res}): the state reaching it is already NaN or infinite. " +
                        "An earlier step diverged; lower the time step or the learning rate, or check the inputs for NaN.") { NonFiniteInput = true };
                if (res <= tolerance || count == 0) return (0, res);
                Precondition();
                _a.Z.CopyTo(_a.D);
                Reduce(ModeDot, _a.R, _a.Z, SRz);
                var apply = ApplyKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, Args>(ApplyA));
                var alpha = AlphaKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, Args, int>(Alpha));
                var step = StepKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, Args>(Step));
                var check = CheckKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, Args, double, int>(Check));
                var beta = BetaKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, Args>(Beta));
                var direction = DirectionKernel.GetValue(_acc, static a => a.LoadAutoGroupedStreamKernel<Index1D, Args>(NewDirection));
                for (int it = 1; it <= maxIterations; it++)
                {
                    apply(_n, _a);
                    Reduce(ModeDot, _a.D, _a.Q, SDq);
                    alpha(1, _a, it);
                    step(_n, _a);
                    Reduce(ModeMaxAbs, _a.R, _a.R, SMax);
                    check(1, _a, tolerance, it);
                    // The rest of the iteration prepares the next one; skipped once converged (the kernels test the flag).
                    Precondition();
                    Reduce(ModeDot, _a.R, _a.Z, SRzNew);
                    beta(1, _a);
                    direction(_n, _a);
                    if (it % PollEvery != 0 && it != maxIterations) continue;
                    s = ReadScalars();
                    if (s[SDone] == 0) continue;
                    if (s[SDone] == 2)
                    {
                        int at = (int)s[SIterations];
                        throw new SolverException(what, at, s[SRes],
                            $"The {what} CG solve broke down at iteration {at} (d·Ad = {s[SDq]:E3}, residual {s[SRes]:E3}, target {tolerance:E3}): the operator is not positive definite or the values overflowed. " +
                            "Check the grid spacing for NaN, infinite or zero values.");
                    }
                    if (_singular) RemoveMean(x, always: true);
                    _acc.Synchronize();
                    return ((int)s[SIterations], s[SRes]);
                }
                s = ReadScalars();
                res = s[SRes];
                throw new SolverException(what, maxIterations, res, double.IsFinite(res)
                    ? $"The {what} CG solve did not converge in {maxIterations} iterations (residual {res:E3}, target {tolerance:E3}). Raise maxIterations or loosen the tolerance."
                    : $"The {what} CG solve diverged to a non-finite residual ({res}) within {maxIterations} iterations: the values overflowed. Lower the time step or check the inputs for very large values.");
            }
        }

        private static int Blocks(int n) => (n + Block - 1) / Block;

        // ---- kernels ----

        // As CellLattice.Neighbour (2D): the neighbour in direction dir, or -1 with the side's code.
        private static int Neighbour(int k, int dir, int nx, int ny, int xLo, int xHi, int yLo, int yHi, out int code)
        {
            int i = k % nx, j = k / nx;
            code = -1;
            if (dir == 0) { if (i > 0) return k - 1; code = xLo; return xLo == Bc.Periodic ? k + nx - 1 : -1; }
            if (dir == 1) { if (i < nx - 1) return k + 1; code = xHi; return xHi == Bc.Periodic ? k - (nx - 1) : -1; }
            if (dir == 2) { if (j > 0) return k - nx; code = yLo; return yLo == Bc.Periodic ? k + (ny - 1) * nx : -1; }
            if (j < ny - 1) return k + nx;
            code = yHi;
            return yHi == Bc.Periodic ? k - (ny - 1) * nx : -1;
        }

        // As PoissonOperator.Coupled and DiagonalRows: the neighbours a fluid cell exchanges flux with, and the diagonal.
        private static void Build(Index1D index, BuildArgs b)
        {
            int k = index;
            bool hasSolid = b.Solid.Length > 0;
            bool fluid = !hasSolid || b.Solid[k] == 0;
            double s = 0;
            for (int dir = 0; dir < 4; dir++)
            {
                double a = dir < 2 ? b.Ax : b.Ay;
                int nb = Neighbour(k, dir, b.Nx, b.Ny, b.XLo, b.XHi, b.YLo, b.YHi, out int code);
                bool nbFluid = nb >= 0 && (!hasSolid || b.Solid[nb] == 0);
                int coupled = fluid && nbFluid && nb != k ? nb : -1;
                if (fluid)
                {
                    if (nb >= 0) { if (nbFluid && nb != k) s += a; }
                    else if (code == Bc.ZeroGradient) s += 2 * a;
                }
                if (dir == 0) b.West[k] = coupled;
                else if (dir == 1) b.East[k] = coupled;
                else if (dir == 2) b.South[k] = coupled;
                else b.North[k] = coupled;
            }
            b.Diag[k] = s;
        }

        // r = b = -source on the active (fluid, coupled) cells, 0 elsewhere.
        private static void Init(Index1D index, Args a, ArrayView<double> source)
        {
            int k = index;
            a.R[k] = a.Diag[k] > 0 ? -source[k] : 0;
        }

        // One block of 256 consecutive elements per thread, summed (or maxed) in index order.
        private static void BlockReduce(Index1D index, Args a, ArrayView<double> u, ArrayView<double> v, ArrayView<double> partials, int n, int mode)
        {
            int from = index * Block;
            int to = Math.Min(from + Block, n);
            double s = 0;
            for (int k = from; k < to; k++)
            {
                if (mode == ModeDot) s += u[k] * v[k];
                else if (mode == ModeSumActive) { if (a.Diag[k] > 0) s += u[k]; }
                else if (mode == ModeMaxAbs) s = Math.Max(s, Math.Abs(u[k]));
                else if (a.Diag[k] > 0) s += 1;
            }
            partials[index] = s;
        }

        // One pass over block results: op 0 sums, op 1 takes the max, of 256 consecutive entries in index order.
        private static void ReducePass(Index1D index, ArrayView<double> src, ArrayView<double> dst, int n, int op)
        {
            int from = index * Block;
            int to = Math.Min(from + Block, n);
            double s = 0;
            for (int k = from; k < to; k++) s = op == 0 ? s + src[k] : Math.Max(s, src[k]);
            dst[index] = s;
        }

        // v -= mean over the active cells (Scalars[SSum] / Scalars[SCount]); inactive cells 0.
        private static void SubtractMean(Index1D index, Args a, ArrayView<double> v, int always)
        {
            int k = index;
            if (always == 0 && a.Scalars[SDone] != 0) return;
            v[k] = a.Diag[k] > 0 ? v[k] - a.Scalars[SSum] / a.Scalars[SCount] : 0;
        }

        private static void Jacobi(Index1D index, Args a)
        {
            int k = index;
            if (a.Scalars[SDone] != 0) return;
            double d = a.Diag[k];
            a.Z[k] = d > 0 ? a.R[k] / d : 0;
        }

        // q = A d, rows as PoissonOperator.ApplyRows.
        private static void ApplyA(Index1D index, Args a)
        {
            int k = index;
            if (a.Scalars[SDone] != 0) return;
            var x = a.D;
            double t = a.Diag[k] * x[k];
            int w = a.West[k], e = a.East[k], s = a.South[k], nn = a.North[k];
            if (w >= 0) t -= a.Ax * x[w];
            if (e >= 0) t -= a.Ax * x[e];
            if (s >= 0) t -= a.Ay * x[s];
            if (nn >= 0) t -= a.Ay * x[nn];
            a.Q[k] = t;
        }

        // alpha = r·z / d·Ad; d·Ad <= 0 (or NaN) is a breakdown at iteration `it` (as Krylov.ConjugateGradient).
        private static void Alpha(Index1D index, Args a, int it)
        {
            var s = a.Scalars;
            if (s[SDone] != 0) return;
            double dq = s[SDq];
            if (!(dq > 0)) { s[SDone] = 2; s[SIterations] = it; return; }
            s[SAlpha] = s[SRz] / dq;
        }

        // x += alpha d, r -= alpha q.
        private static void Step(Index1D index, Args a)
        {
            int k = index;
            if (a.Scalars[SDone] != 0) return;
            double alpha = a.Scalars[SAlpha];
            a.X[k] += alpha * a.D[k];
            a.R[k] -= alpha * a.Q[k];
        }

        // The residual's max norm (Scalars[SMax]) against the tolerance: converged at iteration `it`.
        private static void Check(Index1D index, Args a, double tolerance, int it)
        {
            var s = a.Scalars;
            if (s[SDone] != 0) return;
            double res = s[SMax];
            s[SRes] = res;
            s[SIterations] = it;
            if (res <= tolerance) s[SDone] = 1;
        }

        private static void Beta(Index1D index, Args a)
        {
            var s = a.Scalars;
            if (s[SDone] != 0) return;
            s[SBeta] = s[SRzNew] / s[SRz];
            s[SRz] = s[SRzNew];
        }

        // d = z + beta d.
        private static void NewDirection(Index1D index, Args a)
        {
            int k = index;
            if (a.Scalars[SDone] != 0) return;
            a.D[k] = a.Z[k] + a.Scalars[SBeta] * a.D[k];
        }

        private static void Add(Index1D index, ArrayView<double> target, ArrayView<double> v) => target[index] += v[index];
    }
}
