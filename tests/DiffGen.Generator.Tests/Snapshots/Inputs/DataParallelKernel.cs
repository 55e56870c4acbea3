using System;
using DiffGen;

namespace Snap;

public static partial class Kernels2D
{
    // A span kernel: the outer loop runs in parallel in {Name}Parallel and in the pullback; the interior
    // of the reverse gathers q's adjoint, the boundary rows and columns scatter serially.
    [Differentiable, DataParallel]
    public static void Diffuse(ReadOnlySpan<double> q, Span<double> result, int w, int h, double a, int periodic)
    {
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int il = i > 0 ? i - 1 : (periodic != 0 ? w - 1 : 0);
                int ir = i < w - 1 ? i + 1 : (periodic != 0 ? 0 : w - 1);
                int jb = j > 0 ? j - 1 : (periodic != 0 ? h - 1 : 0);
                int jt = j < h - 1 ? j + 1 : (periodic != 0 ? 0 : h - 1);
                double c = q[j * w + i];
                result[j * w + i] = c + a * (q[j * w + il] + q[j * w + ir] + q[jb * w + i] + q[jt * w + i] - 4 * c);
            }
        }
    }

    // A composite: its parallel form calls the kernel's.
    [Differentiable, DataParallel]
    public static void TwoSteps(ReadOnlySpan<double> q, Span<double> result, int w, int h, double a)
    {
        double[] mid = new double[w * h];
        Diffuse(q, mid, w, h, a, 1);
        Diffuse(mid, result, w, h, a, 1);
    }
}
