using System.Threading.Tasks;

namespace DiffGen.Generator.Tests.DataParallel;

/// <summary>
/// Parallel loops as users write them (Parallel.For over arrays) and span kernels marked [DataParallel],
/// one per pattern of docs/generated-code.md: gather form with periodic boundaries, computed-index
/// scatters, taped bodies, calls in the body, 2D interiors with boundary codes.
/// </summary>
public static partial class ParallelKernels
{
    /// <summary>Periodic 1D heat step: the interior reverse gathers, the two wrapped ends scatter.</summary>
    [Differentiable]
    public static void Heat(double[] u, double[] next, double nu)
    {
        int n = u.Length;
        Parallel.For(0, n, i =>
        {
            double lap = u[(i + n - 1) % n] - 2 * u[i] + u[(i + 1) % n];
            next[i] = u[i] + nu * lap * lap * 0.5 + nu * lap;
        });
    }

    /// <summary>Semi-Lagrangian advection: reads at floor(x), so each chunk scatters into a buffer of its own.</summary>
    [Differentiable]
    public static void Advect(double[] q, double[] vel, double[] result, double c)
    {
        int n = q.Length;
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = 3 }, i =>
        {
            double x = i - c * vel[i];
            double fl = Math.Floor(x);
            int j = ((int)fl % n + n) % n;
            double t = x - fl;
            result[i] = (1 - t) * q[j] + t * q[(j + 1) % n];
        });
    }

    /// <summary>A body that overwrites a local (taped per chunk) and ends some iterations early with return.</summary>
    [Differentiable]
    public static void Taped(double[] u, double[] next, double s)
    {
        Parallel.For(0, u.Length, i =>
        {
            double t = u[i] * s;
            t = t * t + Math.Sin(t);
            if (u[i] < -0.8) { next[i] = 0; return; }
            next[i] = t * u[i];
        });
    }

    /// <summary>A [Differentiable] call per iteration (joint mode), reading its array argument anywhere.</summary>
    [Differentiable]
    public static void Sampled(double[] f, double[] pos, double[] result)
    {
        Parallel.For(0, result.Length, i =>
        {
            result[i] = Sample(f, pos[i]) * pos[i];
        });
    }

    /// <summary>Linear interpolation, clamped to the array.</summary>
    [Differentiable]
    public static double Sample(ReadOnlySpan<double> f, double x)
    {
        double fl = Math.Floor(x);
        int i0 = Math.Clamp((int)fl, 0, f.Length - 1);
        int i1 = Math.Clamp((int)fl + 1, 0, f.Length - 1);
        double t = x - fl;
        return (1 - t) * f[i0] + t * f[i1];
    }

    /// <summary>Rows in parallel, a serial inner loop per row (row-major), with a stencil across rows.</summary>
    [Differentiable]
    public static void Rows(double[] u, double[] next, int w, int h, double a)
    {
        Parallel.For(1, h - 1, j =>
        {
            for (int i = 1; i < w - 1; i++)
            {
                int k = j * w + i;
                next[k] = u[k] + a * (u[k - 1] + u[k + 1] + u[k - w] + u[k + w] - 4 * u[k]) * u[k];
            }
        });
    }

    /// <summary>
    /// A span kernel with boundary codes (0 periodic, 1 zero, 2 zero-gradient), as the physics kernels write
    /// them: the interior gathers, boundary rows and columns scatter serially.
    /// </summary>
    [Differentiable, DataParallel]
    public static void Diffuse2D(ReadOnlySpan<double> q, Span<double> result, int w, int h, double nu, int xCode, int yCode)
    {
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int il = i > 0 ? i - 1 : (xCode == 0 ? w - 1 : 0);
                int ir = i < w - 1 ? i + 1 : (xCode == 0 ? 0 : w - 1);
                int jb = j > 0 ? j - 1 : (yCode == 0 ? h - 1 : 0);
                int jt = j < h - 1 ? j + 1 : (yCode == 0 ? 0 : h - 1);
                double wl = (i > 0 || xCode != 1) ? 1.0 : 0.0;
                double wr = (i < w - 1 || xCode != 1) ? 1.0 : 0.0;
                double wb = (j > 0 || yCode != 1) ? 1.0 : 0.0;
                double wt = (j < h - 1 || yCode != 1) ? 1.0 : 0.0;
                double c = q[j * w + i];
                result[j * w + i] = c + nu * (wl * q[j * w + il] + wr * q[j * w + ir] + wb * q[jb * w + i] + wt * q[jt * w + i] - 4 * c) * (1 + 0.1 * c);
            }
        }
    }

    /// <summary>
    /// Diffusion.EulerStep2D's shape: scalar set-up (ax, ay) read by the loop, so the adjoints of nu, dt, dx and
    /// dy come from the set-up's reverse applied to the loop's summed axBar/ayBar (on a device: a reduction, then a one-thread kernel).
    /// </summary>
    [Differentiable, DataParallel]
    public static void EulerStep2D(ReadOnlySpan<double> q, Span<double> result, int w, int h, double nu, double dt, double dx, double dy, int xCode, int yCode)
    {
        double ax = nu * dt / (dx * dx);
        double ay = nu * dt / (dy * dy);
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int il = i > 0 ? i - 1 : (xCode == 0 ? w - 1 : 0);
                int ir = i < w - 1 ? i + 1 : (xCode == 0 ? 0 : w - 1);
                int jb = j > 0 ? j - 1 : (yCode == 0 ? h - 1 : 0);
                int jt = j < h - 1 ? j + 1 : (yCode == 0 ? 0 : h - 1);
                double wl = (i > 0 || xCode != 1) ? 1.0 : 0.0;
                double wr = (i < w - 1 || xCode != 1) ? 1.0 : 0.0;
                double wb = (j > 0 || yCode != 1) ? 1.0 : 0.0;
                double wt = (j < h - 1 || yCode != 1) ? 1.0 : 0.0;
                double c = q[j * w + i];
                result[j * w + i] = c + ax * (wl * q[j * w + il] - 2 * c + wr * q[j * w + ir]) * (1 + 0.1 * c) + ay * (wb * q[jb * w + i] - 2 * c + wt * q[jt * w + i]);
            }
        }
    }

    /// <summary>A composite of data-parallel kernels: its parallel form calls theirs.</summary>
    [Differentiable, DataParallel]
    public static void TwoSteps(ReadOnlySpan<double> q, Span<double> result, int w, int h, double nu)
    {
        double[] mid = new double[w * h];
        Diffuse2D(q, mid, w, h, nu, 0, 2);
        Diffuse2D(mid, result, w, h, nu, 1, 0);
    }

    /// <summary>A serial loop: its reverse gathers too (no threads).</summary>
    [Differentiable]
    public static double SmoothEnergy(ReadOnlySpan<double> u, double w)
    {
        int n = u.Length;
        double e = 0;
        for (int i = 2; i < n - 2; i++)
        {
            double s = w * u[i - 2] + u[i - 1] - 2 * u[i] + u[i + 1] + w * u[i + 2];
            e += s * s;
        }
        return e;
    }

    /// <summary>A float span kernel (periodic 1D blur): its ILGPU kernels are checked in float.</summary>
    [Differentiable, DataParallel]
    public static void Blur(ReadOnlySpan<float> x, Span<float> y, float a)
    {
        int n = x.Length;
        for (int i = 0; i < n; i++)
            y[i] = x[i] + a * (x[(i + n - 1) % n] - 2 * x[i] + x[(i + 1) % n]) * x[i];
    }

    /// <summary>A 2D backtrace (bilinear at floor): computed-index reads, scattered with Atomic.Add on a device.</summary>
    [Differentiable, DataParallel]
    public static void Trace(ReadOnlySpan<double> q, ReadOnlySpan<double> tu, ReadOnlySpan<double> tv, Span<double> result, int nx, int ny, double dt)
    {
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i < nx; i++)
            {
                int k = j * nx + i;
                double gx = i - dt * tu[k];
                double gy = j - dt * tv[k];
                double flx = Math.Floor(gx);
                double fly = Math.Floor(gy);
                int i0 = Math.Clamp((int)flx, 0, nx - 1);
                int i1 = Math.Clamp((int)flx + 1, 0, nx - 1);
                int j0 = Math.Clamp((int)fly, 0, ny - 1);
                int j1 = Math.Clamp((int)fly + 1, 0, ny - 1);
                double tx = gx - flx;
                double ty = gy - fly;
                result[k] = (1 - ty) * ((1 - tx) * q[j0 * nx + i0] + tx * q[j0 * nx + i1]) + ty * ((1 - tx) * q[j1 * nx + i0] + tx * q[j1 * nx + i1]);
            }
        }
    }

    /// <summary>
    /// A face gradient on a staggered grid (Pressure.SubtractGradient's u loop): a private adjoint (g) that a
    /// boundary column consumes only in some branches, after the gather passes used it.
    /// </summary>
    [Differentiable]
    public static void FaceGradient(ReadOnlySpan<double> p, ReadOnlySpan<double> u, Span<double> uOut, int nx, int ny, int periodic)
    {
        for (int j = 0; j < ny; j++)
        {
            for (int i = 0; i <= nx; i++)
            {
                int f = j * (nx + 1) + i;
                double g = 0;
                if (i > 0 && i < nx) g = p[j * nx + i] - p[j * nx + i - 1];
                else if (periodic != 0) g = p[j * nx] - p[j * nx + nx - 1];
                uOut[f] = u[f] - g;
            }
        }
    }

    /// <summary>
    /// A 2D [DataParallel] loop whose body records a value (s is overwritten) next to a recomputed local (k)
    /// and a call: each chunk's tape keeps the last iteration's state, which must not name k (declared in the loop).
    /// </summary>
    [Differentiable, DataParallel]
    public static void SampleRows(ReadOnlySpan<double> f, Span<double> result, int w, int h, double shift)
    {
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int k = j * w + i;
                double x = i + shift * (j + 1);
                double s = Sample(f, x);
                s = s * s + x;
                result[k] = s * f[i];
            }
        }
    }

    /// <summary>
    /// A kernel with a bool parameter and a bool set-up local, as solvers write side tests
    /// (<c>bool periodic = code == 2</c>): its device form must load (ILGPU takes only blittable arguments).
    /// </summary>
    [Differentiable, DataParallel]
    public static void Gate(ReadOnlySpan<double> a, Span<double> b, int n, int code, bool flip, double scale)
    {
        bool on = code == 1;
        for (int k = 0; k < n; k++)
        {
            double x = on ? scale * a[k] * a[k] : a[k];
            b[k] = flip ? -x : x;
        }
    }
}
