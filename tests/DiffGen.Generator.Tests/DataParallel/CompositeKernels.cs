using ILGPU;
using ILGPU.Runtime;

namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>A grid description that carries no derivative (its members are read on the host by device composites).</summary>
[NoDiff]
public readonly struct Mesh(int w, int h, double dx, int code)
{
    public int W { get; } = w;

    public int H { get; } = h;

    public double Dx { get; } = dx;

    /// <summary>0: periodic in x; otherwise clamped.</summary>
    public int Code { get; } = code;
}

/// <summary>
/// The composite shapes the Burgers 2D step is made of (docs/generated-code.md, "Composites"): inactive struct
/// parameters, if/else on inactive values, counted loops of calls, in-place callees, arrays a later call
/// overwrites, float/double arguments that are expressions of differentiable scalars, an array passed twice, a
/// hand-written device form, and a branch whose callee has no device form.
/// </summary>
public static partial class CompositeKernels
{
    /// <summary>A 5-point blur (periodic or clamped in x, periodic in y): a kernel-form callee.</summary>
    [Differentiable, DataParallel]
    public static void Blur(ReadOnlySpan<double> q, Span<double> r, int w, int h, int code, double a)
    {
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int il = i > 0 ? i - 1 : (code == 0 ? w - 1 : 0);
                int ir = i < w - 1 ? i + 1 : (code == 0 ? 0 : w - 1);
                int jb = j > 0 ? j - 1 : h - 1;
                int jt = j < h - 1 ? j + 1 : 0;
                double c = q[j * w + i];
                r[j * w + i] = c + a * (q[j * w + il] + q[j * w + ir] + q[jb * w + i] + q[jt * w + i] - 4 * c);
            }
        }
    }

    /// <summary>f += s g, in place.</summary>
    [Differentiable, DataParallel]
    public static void AddScaled(Span<double> f, ReadOnlySpan<double> g, double s)
    {
        int n = f.Length;
        for (int k = 0; k < n; k++) f[k] += s * g[k];
    }

    [Differentiable, DataParallel]
    public static void Copy(ReadOnlySpan<double> src, Span<double> dst)
    {
        int n = dst.Length;
        for (int k = 0; k < n; k++) dst[k] = src[k];
    }

    /// <summary>r = q², nonlinear: its pullback needs the q it saw.</summary>
    [Differentiable, DataParallel]
    public static void Square(ReadOnlySpan<double> q, Span<double> r)
    {
        int n = r.Length;
        for (int k = 0; k < n; k++) r[k] = q[k] * q[k];
    }

    /// <summary>r = a b + a (two read-only arrays, called with the same array twice).</summary>
    [Differentiable, DataParallel]
    public static void Product(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> r)
    {
        int n = r.Length;
        for (int k = 0; k < n; k++) r[k] = a[k] * b[k] + a[k];
    }

    /// <summary>
    /// Explicit diffusion in substeps (the shape of Diffusion.Explicit2D/ExplicitSubsteps2D): a branch on an inactive
    /// int, a counted loop of calls, a copy into an array the next call overwrites, members of an inactive struct,
    /// and a coefficient <c>nu * hs / (dx * dx)</c> with <c>hs = dt / substeps</c> (differentiable in nu and dt).
    /// </summary>
    [Differentiable, DataParallel]
    public static void Diffuse(ReadOnlySpan<double> q, Span<double> r, Mesh mesh, double nu, double dt, int substeps)
    {
        double hs = dt / substeps;
        if (substeps == 1)
        {
            Blur(q, r, mesh.W, mesh.H, mesh.Code, nu * dt / (mesh.Dx * mesh.Dx));
        }
        else
        {
            double[] cur = new double[mesh.W * mesh.H];
            Copy(q, cur);
            for (int s = 0; s < substeps - 1; s++)
            {
                Blur(cur, r, mesh.W, mesh.H, mesh.Code, nu * hs / (mesh.Dx * mesh.Dx));
                Copy(r, cur);
            }
            Blur(cur, r, mesh.W, mesh.H, mesh.Code, nu * hs / (mesh.Dx * mesh.Dx));
        }
    }

    /// <summary>
    /// A step of the Burgers shape: a composite callee with a struct argument, a nonlinear callee whose output is
    /// overwritten later, products and negations of differentiable scalars as arguments, in-place updates of an
    /// output, and an array passed twice.
    /// </summary>
    [Differentiable, DataParallel]
    public static void Step(ReadOnlySpan<double> u, ReadOnlySpan<double> f, Span<double> next, Mesh mesh, double nu, double dt, double k, int substeps)
    {
        double[] d = new double[u.Length];
        double[] sq = new double[u.Length];
        double[] pr = new double[u.Length];
        Diffuse(u, d, mesh, nu, dt, substeps);
        Square(d, sq);
        Blur(sq, next, mesh.W, mesh.H, mesh.Code, dt * k);
        AddScaled(next, f, -dt);
        Product(d, d, pr);
        AddScaled(next, pr, 0.5 * k);
        Square(next, sq);
        AddScaled(next, sq, 0.01);
    }

    /// <summary>A float composite: an expression argument chained in float.</summary>
    [Differentiable, DataParallel]
    public static void StepF(ReadOnlySpan<float> u, ReadOnlySpan<float> f, Span<float> next, float dt)
    {
        float[] d = new float[u.Length];
        SquareF(u, d);
        AddScaledF(d, f, dt * 0.5f);
        CopyF(d, next);
        AddScaledF(next, u, -dt);
    }

    [Differentiable, DataParallel]
    public static void SquareF(ReadOnlySpan<float> q, Span<float> r)
    {
        int n = r.Length;
        for (int k = 0; k < n; k++) r[k] = q[k] * q[k];
    }

    [Differentiable, DataParallel]
    public static void AddScaledF(Span<float> f, ReadOnlySpan<float> g, float s)
    {
        int n = f.Length;
        for (int k = 0; k < n; k++) f[k] += s * g[k];
    }

    [Differentiable, DataParallel]
    public static void CopyF(ReadOnlySpan<float> src, Span<float> dst)
    {
        int n = dst.Length;
        for (int k = 0; k < n; k++) dst[k] = src[k];
    }

    /// <summary>A composite calling a method whose derivative and device form are hand-written (<see cref="Hand.Scale"/>).</summary>
    [Differentiable, DataParallel]
    public static void UsesHand(ReadOnlySpan<double> q, Span<double> r, Mesh mesh, double s, double a)
    {
        double[] m = new double[q.Length];
        Hand.Scale(q, m, s * a);
        Blur(m, r, mesh.W, mesh.H, mesh.Code, a);
    }

    /// <summary>A loop that calls a method: no device form of its own.</summary>
    [Differentiable, DataParallel]
    public static void Cubes(ReadOnlySpan<double> q, Span<double> r)
    {
        for (int k = 0; k < r.Length; k++) r[k] = Cube(q[k]);
    }

    [Differentiable]
    public static double Cube(double x) => x * x * x;

    /// <summary>A branch whose callee has no device form: the device form throws there, runs elsewhere.</summary>
    [Differentiable, DataParallel]
    public static void Branchy(ReadOnlySpan<double> q, Span<double> r, int mode, double a)
    {
        if (mode == 0)
        {
            Square(q, r);
            AddScaled(r, q, a);
        }
        else
        {
            Cubes(q, r);
        }
    }
}

/// <summary>A method with a hand-written pullback and a hand-written device form (the {Name}Device convention).</summary>
public static class Hand
{
    /// <summary>r = s q (a method the generator does not differentiate).</summary>
    public static void Scale(ReadOnlySpan<double> q, Span<double> r, double s)
    {
        for (int k = 0; k < r.Length; k++) r[k] = s * q[k];
    }

    [DerivativeOf(typeof(Hand), nameof(Scale))]
    public static void ScalePullback(ReadOnlySpan<double> q, Span<double> r, double s, Span<double> qBar, Span<double> rBar, ref double sBar)
    {
        Scale(q, r, s);
        for (int k = 0; k < r.Length; k++)
        {
            qBar[k] += s * rBar[k];
            sBar += q[k] * rBar[k];
            rBar[k] = 0;
        }
    }

    /// <summary>Hand-written ILGPU forms of <see cref="Scale"/> by the generated classes' convention.</summary>
    public static class ScaleDevice
    {
        public static int Pullbacks;

        private static void ScaleKernel(Index1D k, ArrayView<double> q, ArrayView<double> r, double s) => r[k] = s * q[k];

        private static void ScaleBackKernel(Index1D k, ArrayView<double> q, double s, ArrayView<double> qBar, ArrayView<double> rBar, ArrayView<double> sBar)
        {
            qBar[k] += s * rBar[k];
            Atomic.Add(ref sBar[0], q[k] * rBar[k]);
            rBar[k] = 0;
        }

        public static void Run(Accelerator accelerator, ArrayView<double> q, ArrayView<double> r, double s)
        {
            if (r.Length > 0) accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, double>(ScaleKernel)((int)r.Length, q, r, s);
        }

        public static void Pullback(Accelerator accelerator, ArrayView<double> q, ArrayView<double> r, double s, ArrayView<double> qBar, ArrayView<double> rBar, ArrayView<double> sBar)
        {
            Interlocked.Increment(ref Pullbacks);
            Run(accelerator, q, r, s);
            if (r.Length > 0)
                accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, double, ArrayView<double>, ArrayView<double>, ArrayView<double>>(ScaleBackKernel)((int)r.Length, q, s, qBar, rBar, sBar);
        }
    }
}

/// <summary>A partial writer recorded through a composite, then a nonlinear call (CompositeDeviceTests.PartialWriterThroughRecord_KeepsOutputsAndGradient).</summary>
public static partial class CompositeKernels
{
    /// <summary>Zeroes the first column (writes some elements, reads none: the shape of walls and obstacle faces).</summary>
    [Differentiable, DataParallel]
    public static void ZeroFirstColumn(Span<double> a, int w, int h)
    {
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                if (i == 0) { a[j * w + i] = 0; }
            }
        }
    }

    /// <summary>A composite around the partial writer, so a caller records it through <c>Record</c>.</summary>
    [Differentiable, DataParallel]
    public static void Walls(Span<double> a, int w, int h)
    {
        ZeroFirstColumn(a, w, h);
    }

    /// <summary>y = x with its first column zeroed, z = y²: a nonlinear call after a partial writer (its pullback needs y).</summary>
    [Differentiable, DataParallel]
    public static void WallsThenSquare(ReadOnlySpan<double> x, Span<double> y, Span<double> z, int w, int h)
    {
        Copy(x, y);
        Walls(y, w, h);
        Square(y, z);
    }
}
