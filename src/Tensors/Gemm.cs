using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DiffGen.Tensors;

/// <summary>
/// Single-precision matrix multiply on the host: C (=|+=) op(A) · op(B), row-major.
/// A is packed into MR-row strips up front; each NR-column strip of B is packed by the task that uses
/// it, so the register-blocked micro-kernel reads contiguous memory whatever the transposes are; tiles
/// of C are spread over cores with Parallel.For.
/// </summary>
internal static unsafe partial class Gemm
{
    /// <summary>
    /// Rows per micro-tile: 8 when AVX-512VL gives the JIT 32 vector registers (16 accumulators fit),
    /// otherwise 4 (8 accumulators in AVX2's 16 registers). A static readonly is a JIT-time constant.
    /// </summary>
    internal static readonly int MR = System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported ? 8 : 4;
    internal const int NR = 16;

    /// <summary>
    /// C[M,N] = (accumulate ? C : 0) + op(A)[M,K] · op(B)[K,N]. op(A) is A[M,K] (lda = K) or, when
    /// <paramref name="transA"/>, A[K,M]ᵀ; op(B) is B[K,N] or, when <paramref name="transB"/>, B[N,K]ᵀ.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool transA, bool transB, bool accumulate, bool parallel = true)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        if ((long)m * n * k <= 4096)
        {
            Small(a, b, c, m, n, k, transA, transB, accumulate);
            return;
        }
        int mp = (m + MR - 1) / MR, np = (n + NR - 1) / NR;
        float[] ap = ArrayPool<float>.Shared.Rent(mp * MR * k);
        try
        {
            fixed (float* pa = a, pb = b, pc = c, pap = ap)
            {
                // Spans cannot be captured by the lambdas below; raw pointers into pinned memory can.
                float* aa = pa, bb = pb, cc = pc, aPack = pap;
                bool par = parallel && (long)m * n * k >= 1 << 18 && Environment.ProcessorCount > 1;
                int tiles = mp * np;
                if (!par)
                {
                    PackA(aa, aPack, m, k, transA, 0, mp);
                    RunTiles(aPack, bb, transB, cc, m, n, k, mp, 0, tiles, accumulate);
                }
                else
                {
                    int chunks = Math.Min(tiles, Environment.ProcessorCount * 4);
                    // Packing A is a fraction of the multiply; below ~1 MB it is not worth a fork/join.
                    if ((long)m * k < 1 << 18) PackA(aa, aPack, m, k, transA, 0, mp);
                    else Parallel.For(0, chunks, ch => PackA(aa, aPack, m, k, transA, (int)((long)mp * ch / chunks), (int)((long)mp * (ch + 1) / chunks)));
                    int per = (tiles + chunks - 1) / chunks;
                    Parallel.For(0, chunks, ch =>
                    {
                        int t0 = ch * per;
                        int t1 = Math.Min(tiles, t0 + per);
                        if (t0 < t1) RunTiles(aPack, bb, transB, cc, m, n, k, mp, t0, t1, accumulate);
                    });
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(ap);
        }
    }

    // Hot from the first call: compile fully optimised rather than via tier 0 and OSR.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunTiles(float* aPack, float* b, bool transB, float* c, int m, int n, int k, int mp, int t0, int t1, bool accumulate)
    {
        // Tiles are numbered column-panel-major. Each task packs the B panel it is about to use into a
        // private buffer (GotoBLAS style): the panel is read from B once and stays in L1/L2 while every
        // row strip of A passes over it, and no packed copy of all of B is ever written.
        float* tmp = stackalloc float[8 * NR];
        float[] panelArray = ArrayPool<float>.Shared.Rent(NR * k);
        try
        {
            fixed (float* panel = panelArray)
            {
                int packed = -1;
                float* bp = panel;
                int ldb = NR;
                for (int t = t0; t < t1; t++)
                {
                    int jp = t / mp, ip = t % mp;
                    if (jp != packed)
                    {
                        packed = jp;
                        if (!transB && mp <= 2 && jp * NR + NR <= n)
                        {
                            // A panel used by one or two row strips only: packing would cost as much as it saves.
                            bp = b + jp * NR;
                            ldb = n;
                        }
                        else
                        {
                            PackB(b, panel, n, k, transB, jp);
                            bp = panel;
                            ldb = NR;
                        }
                    }
                    int i0 = ip * MR, j0 = jp * NR;
                    int rows = Math.Min(MR, m - i0), cols = Math.Min(NR, n - j0);
                    float* ablk = aPack + (long)ip * MR * k;
                    if (rows == MR && cols == NR)
                    {
                        if (MR == 8) Kernel8(ablk, bp, ldb, k, c + (long)i0 * n + j0, n, accumulate);
                        else Kernel(ablk, bp, ldb, k, c + (long)i0 * n + j0, n, accumulate);
                    }
                    else
                    {
                        if (MR == 8) Kernel8(ablk, bp, ldb, k, tmp, NR, false);
                        else Kernel(ablk, bp, ldb, k, tmp, NR, false);
                        for (int r = 0; r < rows; r++)
                        {
                            float* dst = c + (long)(i0 + r) * n + j0;
                            for (int q = 0; q < cols; q++) dst[q] = accumulate ? dst[q] + tmp[r * NR + q] : tmp[r * NR + q];
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(panelArray);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(float* a, float* b, int ldb, int k, float* c, int ldc, bool accumulate, float* rowInit = null)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        if (rowInit != null)
        {
            c00 = c01 = Vector256.Create(rowInit[0]);
            c10 = c11 = Vector256.Create(rowInit[1]);
            c20 = c21 = Vector256.Create(rowInit[2]);
            c30 = c31 = Vector256.Create(rowInit[3]);
        }
        for (int p = 0; p < k; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            a += 4;
            b += ldb;
        }
        if (accumulate)
        {
            c00 += Vector256.Load(c); c01 += Vector256.Load(c + 8);
            c10 += Vector256.Load(c + ldc); c11 += Vector256.Load(c + ldc + 8);
            c20 += Vector256.Load(c + 2 * ldc); c21 += Vector256.Load(c + 2 * ldc + 8);
            c30 += Vector256.Load(c + 3 * ldc); c31 += Vector256.Load(c + 3 * ldc + 8);
        }
        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8(float* a, float* b, int ldb, int k, float* c, int ldc, bool accumulate, float* rowInit = null)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Kernel8x512(a, b, ldb, k, c, ldc, accumulate, rowInit);
            return;
        }
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector256<float> c60 = default, c61 = default, c70 = default, c71 = default;
        if (rowInit != null)
        {
            c00 = c01 = Vector256.Create(rowInit[0]);
            c10 = c11 = Vector256.Create(rowInit[1]);
            c20 = c21 = Vector256.Create(rowInit[2]);
            c30 = c31 = Vector256.Create(rowInit[3]);
            c40 = c41 = Vector256.Create(rowInit[4]);
            c50 = c51 = Vector256.Create(rowInit[5]);
            c60 = c61 = Vector256.Create(rowInit[6]);
            c70 = c71 = Vector256.Create(rowInit[7]);
        }
        for (int p = 0; p < k; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector256.Create(a[6]);
            c60 = Vector256.FusedMultiplyAdd(a6, b0, c60);
            c61 = Vector256.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector256.Create(a[7]);
            c70 = Vector256.FusedMultiplyAdd(a7, b0, c70);
            c71 = Vector256.FusedMultiplyAdd(a7, b1, c71);
            a += 8;
            b += ldb;
        }
        Store2(c, c00, c01, accumulate);
        Store2(c + ldc, c10, c11, accumulate);
        Store2(c + 2 * ldc, c20, c21, accumulate);
        Store2(c + 3 * ldc, c30, c31, accumulate);
        Store2(c + 4 * ldc, c40, c41, accumulate);
        Store2(c + 5 * ldc, c50, c51, accumulate);
        Store2(c + 6 * ldc, c60, c61, accumulate);
        Store2(c + 7 * ldc, c70, c71, accumulate);
    }

    /// <summary>
    /// The 8×16 tile with one 512-bit register per row, for cores whose FMA units are 512 bits wide
    /// (twice the flops of the 256-bit kernel per instruction). Even and odd k go to separate
    /// accumulators: 16 independent FMA chains hide the FMA latency as the 256-bit kernel's do.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x512(float* a, float* b, int ldb, int k, float* c, int ldc, bool accumulate, float* rowInit)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default;
        if (rowInit != null)
        {
            c0 = Vector512.Create(rowInit[0]); c1 = Vector512.Create(rowInit[1]);
            c2 = Vector512.Create(rowInit[2]); c3 = Vector512.Create(rowInit[3]);
            c4 = Vector512.Create(rowInit[4]); c5 = Vector512.Create(rowInit[5]);
            c6 = Vector512.Create(rowInit[6]); c7 = Vector512.Create(rowInit[7]);
        }
        int p = 0;
        for (; p + 2 <= k; p += 2)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + ldb);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            d0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[8]), b1, d0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            d1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[9]), b1, d1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            d2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[10]), b1, d2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            d3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[11]), b1, d3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            d4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[12]), b1, d4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            d5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[13]), b1, d5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            d6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[14]), b1, d6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            d7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[15]), b1, d7);
            a += 16;
            b += 2 * ldb;
        }
        if (p < k)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
        }
        Store1(c, c0 + d0, accumulate);
        Store1(c + ldc, c1 + d1, accumulate);
        Store1(c + 2 * ldc, c2 + d2, accumulate);
        Store1(c + 3 * ldc, c3 + d3, accumulate);
        Store1(c + 4 * ldc, c4 + d4, accumulate);
        Store1(c + 5 * ldc, c5 + d5, accumulate);
        Store1(c + 6 * ldc, c6 + d6, accumulate);
        Store1(c + 7 * ldc, c7 + d7, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store1(float* c, Vector512<float> v, bool accumulate)
    {
        if (accumulate) v += Vector512.Load(c);
        v.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }
        v0.Store(c);
        v1.Store(c + 8);
    }

    /// <summary>Packs op(A) into strips of MR rows: strip i holds, for each p, the MR values op(A)[i*MR + r, p].</summary>
    // Hot from the first call: compile fully optimised rather than via tier 0 and OSR.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(float* a, float* dst, int m, int k, bool transA, int p0, int p1)
    {
        for (int ip = p0; ip < p1; ip++)
        {
            float* d = dst + (long)ip * MR * k;
            int i0 = ip * MR;
            int rows = Math.Min(MR, m - i0);
            if (!transA && rows == 8 && MR == 8 && Avx.IsSupported)
            {
                // Eight rows of A: 8×8 register transposes instead of strided scalar writes.
                int p = 0;
                float* src = a + (long)i0 * k;
                for (; p + 8 <= k; p += 8) Transpose8x8(src + p, k, d + p * 8, 8);
                for (; p < k; p++)
                    for (int r = 0; r < 8; r++) d[p * 8 + r] = src[(long)r * k + p];
            }
            else if (!transA)
            {
                for (int r = 0; r < MR; r++)
                {
                    if (r < rows)
                    {
                        float* src = a + (long)(i0 + r) * k;
                        for (int p = 0; p < k; p++) d[p * MR + r] = src[p];
                    }
                    else
                    {
                        for (int p = 0; p < k; p++) d[p * MR + r] = 0f;
                    }
                }
            }
            else if (rows == 8 && MR == 8)
            {
                // Aᵀ stored: each k-row of the strip is 8 contiguous values.
                for (int p = 0; p < k; p++) Vector256.Load(a + (long)p * m + i0).Store(d + p * 8);
            }
            else
            {
                for (int p = 0; p < k; p++)
                {
                    float* src = a + (long)p * m + i0;
                    for (int r = 0; r < MR; r++) d[p * MR + r] = r < rows ? src[r] : 0f;
                }
            }
        }
    }

    /// <summary>Packs strip <paramref name="jp"/> of op(B) (NR columns, zero-padded) into <paramref name="d"/>: for each p, the NR values op(B)[p, jp*NR + q].</summary>
    // Hot from the first call: compile fully optimised rather than via tier 0 and OSR.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(float* b, float* d, int n, int k, bool transB, int jp)
    {
        int j0 = jp * NR;
        int cols = Math.Min(NR, n - j0);
        if (!transB)
        {
            for (int p = 0; p < k; p++)
            {
                float* src = b + (long)p * n + j0;
                float* dd = d + p * NR;
                if (cols == NR)
                {
                    Vector256.Store(Vector256.Load(src), dd);
                    Vector256.Store(Vector256.Load(src + 8), dd + 8);
                }
                else
                {
                    for (int q = 0; q < NR; q++) dd[q] = q < cols ? src[q] : 0f;
                }
            }
        }
        else if (cols == NR && Avx.IsSupported)
        {
            // Transposing pack of 16 rows of B: 8×8 register transposes instead of strided scalar writes.
            int p = 0;
            for (; p + 8 <= k; p += 8)
            {
                Transpose8x8(b + (long)j0 * k + p, k, d + p * NR, NR);
                Transpose8x8(b + (long)(j0 + 8) * k + p, k, d + p * NR + 8, NR);
            }
            for (; p < k; p++)
                for (int q = 0; q < NR; q++) d[p * NR + q] = b[(long)(j0 + q) * k + p];
        }
        else
        {
            for (int q = 0; q < NR; q++)
            {
                if (q < cols)
                {
                    float* src = b + (long)(j0 + q) * k;
                    for (int p = 0; p < k; p++) d[p * NR + q] = src[p];
                }
                else
                {
                    for (int p = 0; p < k; p++) d[p * NR + q] = 0f;
                }
            }
        }
    }

    /// <summary>dst[i * ldd + j] = src[j * lds + i] for an 8×8 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Transpose8x8(float* src, int lds, float* dst, int ldd)
    {
        Transpose8(Avx.LoadVector256(src), Avx.LoadVector256(src + lds), Avx.LoadVector256(src + 2 * lds), Avx.LoadVector256(src + 3 * lds),
            Avx.LoadVector256(src + 4 * lds), Avx.LoadVector256(src + 5 * lds), Avx.LoadVector256(src + 6 * lds), Avx.LoadVector256(src + 7 * lds), dst, ldd);
    }

    private static void Small(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool transA, bool transB, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * m + i] : a[i * k + p];
                    float bv = transB ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                c[i * n + j] = accumulate ? c[i * n + j] + s : s;
            }
        }
    }
}
