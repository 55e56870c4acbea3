using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DiffGen.Tensors;

/// <summary>
/// Convolutions as implicit GEMMs: the im2col matrix is never built. The input is copied once into a
/// padded buffer (the padding mode applied there), after which entry (r = (c, ki, kj), p = (oh, ow))
/// of im2col is simply xp[TapOffset(r) + PositionOffset(p)]; the GEMM's packing routines read that
/// directly (they would copy a panel of a materialised im2col anyway).
/// </summary>
/// <remarks>The pack and tile loops are marked AggressiveOptimization: hot from the first call, they
/// would otherwise run as tier-0 or OSR code through a benchmark's warm-up.</remarks>
internal static unsafe partial class Gemm
{
    /// <summary>A padded copy of x [N, C, H, W]: [N, C, Hp, Wp], plus the offsets that address im2col in it.</summary>
    private readonly struct Padded
    {
        public readonly int C, Hp, Wp, Ho, Wo, SH, SW, KH, KW, DH, DW;

        public Padded(ConvGeometry g)
        {
            C = g.C; Hp = g.H + 2 * g.PH; Wp = g.W + 2 * g.PW; Ho = g.Ho; Wo = g.Wo;
            SH = g.SH; SW = g.SW; KH = g.KH; KW = g.KW; DH = g.DH; DW = g.DW;
        }

        public int Plane => Hp * Wp;

        public long Image => (long)C * Hp * Wp;

        /// <summary>Offset of im2col row r = (c, ki, kj) within an image.</summary>
        public int TapOffset(int r)
        {
            int kk = KH * KW;
            int c = r / kk, ki = r % kk / KW, kj = r % KW;
            return c * Hp * Wp + ki * DH * Wp + kj * DW;
        }

        /// <summary>Offset of output position p = (oh, ow) within a plane.</summary>
        public int PositionOffset(int p) => p / Wo * SH * Wp + p % Wo * SW;
    }

    /// <summary>Length of the padded copy of an input of geometry <paramref name="g"/>: N*C*(H+2PH)*(W+2PW).</summary>
    public static int PaddedLength(ConvGeometry g) => checked(g.N * g.C * (g.H + 2 * g.PH) * (g.W + 2 * g.PW));

    /// <summary>
    /// Writes the padded copy of x [N, C, H, W] (the padding mode applied) that <see cref="ConvForward"/>
    /// and <see cref="ConvWeightGrad"/> read; one copy serves both.
    /// </summary>
    public static void Pad(ReadOnlySpan<float> x, Span<float> xp, ConvGeometry g)
    {
        fixed (float* px = x, pxp = xp) Pad(px, pxp, g);
    }

    /// <summary>Writes the padded copy of x (every image, every channel) into xp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pad(float* x, float* xp, ConvGeometry g)
    {
        int H = g.H, W = g.W, PH = g.PH, PW = g.PW, Hp = H + 2 * PH, Wp = W + 2 * PW;
        int planes = g.N * g.C;
        var mode = g.Mode;
        void Planes(int p0, int p1)
        {
            for (int pl = p0; pl < p1; pl++)
            {
                float* src = x + (long)pl * H * W;
                float* dst = xp + (long)pl * Hp * Wp;
                for (int i = 0; i < Hp; i++)
                {
                    float* d = dst + (long)i * Wp;
                    int ih = Source(i - PH, H, mode);
                    if (ih < 0) { new Span<float>(d, Wp).Clear(); continue; }
                    float* s = src + (long)ih * W;
                    for (int j = 0; j < PW; j++) { int iw = Source(j - PW, W, mode); d[j] = iw < 0 ? 0f : s[iw]; }
                    new ReadOnlySpan<float>(s, W).CopyTo(new Span<float>(d + PW, W));
                    for (int j = PW + W; j < Wp; j++) { int iw = Source(j - PW, W, mode); d[j] = iw < 0 ? 0f : s[iw]; }
                }
            }
        }
        if ((long)planes * Hp * Wp < 1 << 16 || Environment.ProcessorCount == 1) Planes(0, planes);
        else
        {
            int chunks = Math.Min(planes, Environment.ProcessorCount * 2);
            Parallel.For(0, chunks, ch => Planes((int)((long)planes * ch / chunks), (int)((long)planes * (ch + 1) / chunks)));
        }
    }

    /// <summary>The input index a padded coordinate reads (-1: zero), as <see cref="ConvGeometry"/>'s maps.</summary>
    private static int Source(int i, int n, PaddingMode mode) => i >= 0 && i < n ? i : mode switch
    {
        PaddingMode.Zeros => -1,
        PaddingMode.Periodic => ((i % n) + n) % n,
        _ => Math.Clamp(i, 0, n - 1),
    };

    /// <summary>
    /// y[n] [M, Ho*Wo] = (bias ? bias[i] : 0) + W [M, C*kh*kw] · col(x[n]) for every image, where col is
    /// the im2col matrix of <see cref="Ops.Im2Col"/>. Each task packs the NR-column panel of col it needs
    /// from the padded input, and the result lands in y's [N, M, Ho, Wo] layout with the bias fused, so
    /// there is no im2col buffer, no permute and no bias pass.
    /// </summary>
    /// <param name="xp">The padded input written by <see cref="Pad(ReadOnlySpan{float}, Span{float}, ConvGeometry)"/>.</param>
    /// <param name="w">Weights [M, C*kh*kw], row-major.</param>
    /// <param name="bias">[M], or empty for none.</param>
    /// <param name="y">Output [N, M, Ho, Wo].</param>
    /// <param name="m">Output channels.</param>
    /// <param name="g">The geometry (any stride, padding mode and dilation).</param>
    public static void ConvForward(ReadOnlySpan<float> xp, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int m, ConvGeometry g)
    {
        int k = g.Rows, hw = g.Ho * g.Wo;
        if (m == 0 || hw == 0 || g.N == 0) return;
        if (k == 0) { FillBias(y, bias, m, hw, g.N); return; }
        if (m <= SmallM && m < MR && g.SW == 1 && g.Wo >= 16)
        {
            ConvForwardFewChannels(xp, w, bias, y, m, g);
            return;
        }
        int mp = (m + MR - 1) / MR, np = (hw + NR - 1) / NR;
        var pd = new Padded(g);
        float[] ap = ArrayPool<float>.Shared.Rent(mp * MR * k);
        float[] bp = ArrayPool<float>.Shared.Rent(mp * MR);
        try
        {
            // The kernel reads MR initial values per strip: pad the bias with zeros to whole strips.
            Array.Clear(bp, 0, mp * MR);
            bias.CopyTo(bp);
            fixed (float* pw = w, py = y, pap = ap, pbias = bp, pxp = xp)
            {
                float* xx = pxp, yy = py, aPack = pap, bb = bias.IsEmpty ? null : pbias;
                PackA(pw, aPack, m, k, false, 0, mp);
                // Whole output rows at stride 1 (width a multiple of NR): one wide panel per row, read
                // from the padded input as long contiguous runs (far fewer cache-line splits and misses
                // than NR-wide pieces); otherwise NR-column panels.
                bool wholeRows = g.SW == 1 && g.Wo % NR == 0 && g.Wo <= 256;
                int tasks = wholeRows ? g.N * g.Ho : g.N * np;
                bool par = (long)m * k * hw * g.N >= 1 << 18 && Environment.ProcessorCount > 1;
                if (!par)
                {
                    if (wholeRows) ConvRowTasks(xx, aPack, bb, yy, m, k, pd, 0, tasks);
                    else ConvTasks(xx, aPack, bb, yy, m, k, pd, 0, tasks);
                }
                else
                {
                    int chunks = Math.Min(tasks, Environment.ProcessorCount * 4);
                    Parallel.For(0, chunks, ch =>
                    {
                        int t0 = (int)((long)tasks * ch / chunks), t1 = (int)((long)tasks * (ch + 1) / chunks);
                        if (wholeRows) ConvRowTasks(xx, aPack, bb, yy, m, k, pd, t0, t1);
                        else ConvTasks(xx, aPack, bb, yy, m, k, pd, t0, t1);
                    });
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(ap);
            ArrayPool<float>.Shared.Return(bp);
        }
    }

    private static void FillBias(Span<float> y, ReadOnlySpan<float> bias, int m, int hw, int n)
    {
        for (int b = 0; b < n; b++)
            for (int i = 0; i < m; i++) y.Slice((b * m + i) * hw, hw).Fill(bias.IsEmpty ? 0f : bias[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ConvTasks(float* xp, float* aPack, float* bias, float* y, int m, int k, Padded pd, int t0, int t1)
    {
        int hw = pd.Ho * pd.Wo;
        int mp = (m + MR - 1) / MR, np = (hw + NR - 1) / NR;
        long yImage = (long)m * hw;
        float* tmp = stackalloc float[8 * NR];
        using var scratch = new ConvScratch(pd, k, NR * k);
        float* panel = scratch.Panel;
        for (int t = t0; t < t1; t++)
        {
            int n = t / np, jp = t % np;
            int j0 = jp * NR, cols = Math.Min(NR, hw - j0);
            PackConvPanel(xp + n * pd.Image, panel, pd, scratch.TapOff, k, j0, cols);
            float* yn = y + n * yImage;
            for (int ip = 0; ip < mp; ip++)
            {
                int i0 = ip * MR, rows = Math.Min(MR, m - i0);
                float* ablk = aPack + (long)ip * MR * k;
                float* init = bias == null ? null : bias + i0;
                Tile(ablk, panel, NR, k, yn + (long)i0 * hw + j0, hw, rows, cols, init, tmp);
            }
        }
    }

    /// <summary>
    /// The scratch of a run of convolution tasks: a B panel of <c>panelLength</c> floats and the im2col tap
    /// offsets of the padded input (native memory, so the tasks need no pinning).
    /// </summary>
    private readonly ref struct ConvScratch
    {
        public readonly float* Panel;
        public readonly int* TapOff;

        public ConvScratch(in Padded pd, int k, int panelLength)
        {
            Panel = (float*)NativeMemory.Alloc((nuint)Math.Max(panelLength, 1), sizeof(float));
            TapOff = (int*)NativeMemory.Alloc((nuint)Math.Max(k, 1), sizeof(int));
            for (int r = 0; r < k; r++) TapOff[r] = pd.TapOffset(r);
        }

        public void Dispose()
        {
            NativeMemory.Free(Panel);
            NativeMemory.Free(TapOff);
        }
    }

    /// <summary>Tasks (image, output row): pack the row's im2col panel [k, Wo] (ldb = Wo), then every tile of it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ConvRowTasks(float* xp, float* aPack, float* bias, float* y, int m, int k, Padded pd, int t0, int t1)
    {
        int wo = pd.Wo, hw = pd.Ho * wo;
        int mp = (m + MR - 1) / MR;
        long yImage = (long)m * hw;
        float* tmp = stackalloc float[8 * NR];
        using var scratch = new ConvScratch(pd, k, wo * k);
        float* panel = scratch.Panel;
        for (int t = t0; t < t1; t++)
        {
            int n = t / pd.Ho, oh = t % pd.Ho;
            float* src = xp + n * pd.Image + (long)oh * pd.SH * pd.Wp;
            for (int r = 0; r < k; r++)
            {
                float* s = src + scratch.TapOff[r];
                float* d = panel + (long)r * wo;
                for (int q = 0; q < wo; q += 8) Vector256.Load(s + q).Store(d + q);
            }
            float* yRow = y + n * yImage + (long)oh * wo;
            for (int ip = 0; ip < mp; ip++)
            {
                int i0 = ip * MR, rows = Math.Min(MR, m - i0);
                float* ablk = aPack + (long)ip * MR * k;
                float* init = bias == null ? null : bias + i0;
                for (int j0 = 0; j0 < wo; j0 += NR)
                    Tile(ablk, panel + j0, wo, k, yRow + (long)i0 * hw + j0, hw, rows, NR, init, tmp);
            }
        }
    }

    /// <summary>
    /// One MR x NR output tile of A (packed) times a B panel, plus <paramref name="init"/> (the bias, or
    /// null): straight into C when the tile is whole, through the scratch tile when rows or columns fall
    /// short of it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(float* ablk, float* b, int ldb, int k, float* c, int ldc, int rows, int cols, float* init, float* tmp)
    {
        if (rows == MR && cols == NR)
        {
            if (MR == 8) Kernel8(ablk, b, ldb, k, c, ldc, false, init);
            else Kernel(ablk, b, ldb, k, c, ldc, false, init);
            return;
        }
        if (MR == 8) Kernel8(ablk, b, ldb, k, tmp, NR, false, init);
        else Kernel(ablk, b, ldb, k, tmp, NR, false, init);
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<float>(tmp + r * NR, cols).CopyTo(new Span<float>(c + (long)r * ldc, cols));
    }

    /// <summary>
    /// Packs columns [j0, j0 + cols) of im2col for one padded image into <paramref name="d"/> (row r at
    /// d + r*NR, zero-padded to NR columns). Positions inside one output row at stride 1 are contiguous
    /// in the padded input: two vector loads per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackConvPanel(float* xp, float* d, Padded pd, int* tapOff, int k, int j0, int cols)
    {
        int ow0 = j0 % pd.Wo;
        if (cols == NR && ow0 + NR <= pd.Wo && pd.SW == 1)
        {
            float* src = xp + pd.PositionOffset(j0);
            for (int r = 0; r < k; r++)
            {
                float* s = src + tapOff[r];
                Vector256.Load(s).Store(d + r * NR);
                Vector256.Load(s + 8).Store(d + r * NR + 8);
            }
            return;
        }
        // Positions spanning output rows, a stride, or the ragged last panel: element by element.
        int* pos = stackalloc int[NR];
        for (int q = 0; q < NR; q++) pos[q] = pd.PositionOffset(j0 + Math.Min(q, cols - 1));
        for (int r = 0; r < k; r++)
        {
            float* s = xp + tapOff[r];
            float* dd = d + r * NR;
            for (int q = 0; q < NR; q++) dd[q] = q < cols ? s[pos[q]] : 0f;
        }
    }

    /// <summary>
    /// The weight gradient of a convolution: gw [M, C*kh*kw] = Σₙ gy[n] [M, Ho*Wo] · col(x[n])ᵀ, again
    /// without materialising col. Computed as its transpose gwᵀ = Σₙ col(x[n]) · gy[n]ᵀ so that the
    /// large operand (col, C*kh*kw rows) is the one packed into MR-row strips from the padded input, and
    /// the parallel tasks (strips of gwᵀ) never write the same memory.
    /// </summary>
    /// <param name="xp">The padded input written by <see cref="Pad(ReadOnlySpan{float}, Span{float}, ConvGeometry)"/>.</param>
    /// <param name="gy">Output gradient [N, M, Ho, Wo].</param>
    /// <param name="gw">Weight gradient [M, C*kh*kw] (overwritten).</param>
    /// <param name="m">Output channels.</param>
    /// <param name="g">The geometry.</param>
    public static void ConvWeightGrad(ReadOnlySpan<float> xp, ReadOnlySpan<float> gy, Span<float> gw, int m, ConvGeometry g)
    {
        int k = g.Rows, hw = g.Ho * g.Wo;
        if (k == 0 || m == 0) return;
        if (hw == 0 || g.N == 0) { gw[..(m * k)].Clear(); return; }
        if (m <= SmallM && g.SW == 1 && g.Wo >= 8)
        {
            ConvWeightGradFewChannels(xp, gy, gw, m, g);
            return;
        }
        int mp = (k + MR - 1) / MR, np = (m + NR - 1) / NR;
        var pd = new Padded(g);
        float[] bp = ArrayPool<float>.Shared.Rent(g.N * np * NR * hw);
        float[] ct = ArrayPool<float>.Shared.Rent(mp * MR * np * NR);
        try
        {
            fixed (float* pgy = gy, pbp = bp, pct = ct, pgw = gw, pxp = xp)
            {
                float* xx = pxp, gyy = pgy, bPack = pbp, c = pct;
                bool par = (long)m * k * hw * g.N >= 1 << 18 && Environment.ProcessorCount > 1;
                // B = gy[n]ᵀ [Ho*Wo, M], packed per image into NR-column panels.
                if (par) Parallel.For(0, g.N * np, t => PackB(gyy + (long)(t / np) * m * hw, bPack + (long)t * NR * hw, m, hw, true, t % np));
                else for (int t = 0; t < g.N * np; t++) PackB(gyy + (long)(t / np) * m * hw, bPack + (long)t * NR * hw, m, hw, true, t % np);
                // C = gwᵀ, padded to whole tiles: [mp*MR, np*NR].
                if (!par) WeightGradStrips(xx, bPack, c, m, k, g.N, pd, 0, mp);
                else
                {
                    int chunks = Math.Min(mp, Environment.ProcessorCount * 4);
                    Parallel.For(0, chunks, ch => WeightGradStrips(xx, bPack, c, m, k, g.N, pd, (int)((long)mp * ch / chunks), (int)((long)mp * (ch + 1) / chunks)));
                }
                int ldc = np * NR;
                for (int i = 0; i < m; i++)
                    for (int r = 0; r < k; r++) pgw[(long)i * k + r] = c[(long)r * ldc + i];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bp);
            ArrayPool<float>.Shared.Return(ct);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradStrips(float* xp, float* bPack, float* c, int m, int k, int images, Padded pd, int s0, int s1)
    {
        int hw = pd.Ho * pd.Wo, np = (m + NR - 1) / NR, ldc = np * NR;
        float[] stripArray = ArrayPool<float>.Shared.Rent(MR * hw);
        try
        {
            fixed (float* strip = stripArray)
            {
                for (int ip = s0; ip < s1; ip++)
                {
                    for (int n = 0; n < images; n++)
                    {
                        PackConvStrip(xp + n * pd.Image, strip, pd, k, ip * MR);
                        for (int jp = 0; jp < np; jp++)
                        {
                            float* tile = c + (long)ip * MR * ldc + jp * NR;
                            float* panel = bPack + ((long)n * np + jp) * NR * hw;
                            if (MR == 8) Kernel8(strip, panel, NR, hw, tile, ldc, n > 0);
                            else Kernel(strip, panel, NR, hw, tile, ldc, n > 0);
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(stripArray);
        }
    }

    /// <summary>
    /// Packs rows [r0, r0 + MR) of im2col for one padded image as an A strip: d[p*MR + i] = col[r0 + i, p]
    /// (rows past the end repeat the last row). With MR = 8 and stride 1, blocks of 8 output positions in one row
    /// are 8 contiguous vectors (one per row), transposed in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackConvStrip(float* xp, float* d, Padded pd, int k, int r0)
    {
        int Ho = pd.Ho, Wo = pd.Wo, hw = Ho * Wo;
        int rows = Math.Min(MR, k - r0);
        int* tapOff = stackalloc int[MR];
        for (int i = 0; i < MR; i++) tapOff[i] = pd.TapOffset(r0 + Math.Min(i, rows - 1));
        // Rows past the end of im2col repeat the last one: they only feed rows of gwᵀ that are never read.
        if (MR == 8 && pd.SW == 1 && Avx.IsSupported)
        {
            float* s0 = xp + tapOff[0], s1 = xp + tapOff[1], s2 = xp + tapOff[2], s3 = xp + tapOff[3];
            float* s4 = xp + tapOff[4], s5 = xp + tapOff[5], s6 = xp + tapOff[6], s7 = xp + tapOff[7];
            for (int oh = 0; oh < Ho; oh++)
            {
                long rowOff = (long)oh * pd.SH * pd.Wp;
                float* dRow = d + (long)oh * Wo * 8;
                int ow = 0;
                for (; ow + 8 <= Wo; ow += 8)
                {
                    long o = rowOff + ow;
                    Transpose8(Avx.LoadVector256(s0 + o), Avx.LoadVector256(s1 + o), Avx.LoadVector256(s2 + o), Avx.LoadVector256(s3 + o),
                        Avx.LoadVector256(s4 + o), Avx.LoadVector256(s5 + o), Avx.LoadVector256(s6 + o), Avx.LoadVector256(s7 + o), dRow + ow * 8, 8);
                }
                for (; ow < Wo; ow++)
                    for (int i = 0; i < 8; i++) dRow[ow * 8 + i] = xp[tapOff[i] + rowOff + ow];
            }
            return;
        }
        for (int p = 0; p < hw; p++)
        {
            float* s = xp + pd.PositionOffset(p);
            for (int i = 0; i < MR; i++) d[(long)p * MR + i] = s[tapOff[i]];
        }
    }

    /// <summary>
    /// Output channels up to which a convolution (e.g. a network's last layer) skips the 8-row micro-tile,
    /// which would be mostly padding, for the row kernels below.
    /// </summary>
    private const int SmallM = 4;

    /// <summary>
    /// Forward for at most <see cref="SmallM"/> output channels, stride 1: every output row is computed in
    /// blocks of 16 positions that read the padded input directly (no packing), all channels at once.
    /// The last block of a row is shifted left to end at the row's end (recomputing a few values).
    /// </summary>
    private static void ConvForwardFewChannels(ReadOnlySpan<float> xp, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int m, ConvGeometry g)
    {
        var pd = new Padded(g);
        int k = g.Rows, Ho = g.Ho, Wo = g.Wo, hw = Ho * Wo, rowsTotal = g.N * Ho;
        int[] tapArray = ArrayPool<int>.Shared.Rent(k);
        float[] wt = ArrayPool<float>.Shared.Rent(k * SmallM);
        try
        {
            // Weights as [k, SmallM] (missing channels repeat the last one): one row per tap.
            for (int r = 0; r < k; r++)
            {
                tapArray[r] = pd.TapOffset(r);
                for (int i = 0; i < SmallM; i++) wt[r * SmallM + i] = w[Math.Min(i, m - 1) * k + r];
            }
            float b0 = bias.IsEmpty ? 0 : bias[0], b1 = bias.IsEmpty ? 0 : bias[Math.Min(1, m - 1)];
            float b2 = bias.IsEmpty ? 0 : bias[Math.Min(2, m - 1)], b3 = bias.IsEmpty ? 0 : bias[Math.Min(3, m - 1)];
            fixed (float* pxp = xp, pwt = wt, py = y)
            fixed (int* ptap = tapArray)
            {
                float* xx = pxp, wv = pwt, yy = py;
                int* tap = ptap;
                void Rows(int q0, int q1)
                {
                    for (int q = q0; q < q1; q++)
                    {
                        int n = q / Ho, oh = q % Ho;
                        float* src = xx + n * pd.Image + (long)oh * pd.SH * pd.Wp;
                        float* dst = yy + (long)n * m * hw + (long)oh * Wo;
                        for (int ow0 = 0; ow0 < Wo; ow0 += 16)
                        {
                            int o = Math.Min(ow0, Wo - 16);
                            Vector256<float> a00 = Vector256.Create(b0), a01 = a00, a10 = Vector256.Create(b1), a11 = a10;
                            Vector256<float> a20 = Vector256.Create(b2), a21 = a20, a30 = Vector256.Create(b3), a31 = a30;
                            for (int r = 0; r < k; r++)
                            {
                                float* s = src + tap[r] + o;
                                var x0 = Vector256.Load(s);
                                var x1 = Vector256.Load(s + 8);
                                float* wr = wv + r * SmallM;
                                var c0 = Vector256.Create(wr[0]);
                                a00 = Vector256.FusedMultiplyAdd(c0, x0, a00); a01 = Vector256.FusedMultiplyAdd(c0, x1, a01);
                                var c1 = Vector256.Create(wr[1]);
                                a10 = Vector256.FusedMultiplyAdd(c1, x0, a10); a11 = Vector256.FusedMultiplyAdd(c1, x1, a11);
                                var c2 = Vector256.Create(wr[2]);
                                a20 = Vector256.FusedMultiplyAdd(c2, x0, a20); a21 = Vector256.FusedMultiplyAdd(c2, x1, a21);
                                var c3 = Vector256.Create(wr[3]);
                                a30 = Vector256.FusedMultiplyAdd(c3, x0, a30); a31 = Vector256.FusedMultiplyAdd(c3, x1, a31);
                            }
                            a00.Store(dst + o); a01.Store(dst + o + 8);
                            if (m > 1) { a10.Store(dst + hw + o); a11.Store(dst + hw + o + 8); }
                            if (m > 2) { a20.Store(dst + 2 * hw + o); a21.Store(dst + 2 * hw + o + 8); }
                            if (m > 3) { a30.Store(dst + 3 * hw + o); a31.Store(dst + 3 * hw + o + 8); }
                        }
                    }
                }
                if ((long)k * hw * g.N < 1 << 17 || Environment.ProcessorCount == 1) Rows(0, rowsTotal);
                else
                {
                    int chunks = Math.Min(rowsTotal, Environment.ProcessorCount * 4);
                    Parallel.For(0, chunks, ch => Rows((int)((long)rowsTotal * ch / chunks), (int)((long)rowsTotal * (ch + 1) / chunks)));
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(tapArray);
            ArrayPool<float>.Shared.Return(wt);
        }
    }

    /// <summary>
    /// Weight gradient for at most <see cref="SmallM"/> output channels, stride 1: each weight is a dot
    /// product of an output-gradient row with a shifted padded-input row, vectorised along the rows.
    /// </summary>
    private static void ConvWeightGradFewChannels(ReadOnlySpan<float> xp, ReadOnlySpan<float> gy, Span<float> gw, int m, ConvGeometry g)
    {
        var pd = new Padded(g);
        int k = g.Rows, Ho = g.Ho, Wo = g.Wo, hw = Ho * Wo, images = g.N;
        fixed (float* pxp = xp, pgy = gy, pgw = gw)
        {
            float* xx = pxp, gyy = pgy, gww = pgw;
            void Taps(int r0, int r1)
            {
                for (int r = r0; r < r1; r++)
                {
                    int tap = pd.TapOffset(r);
                    var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
                    float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
                    for (int n = 0; n < images; n++)
                        for (int oh = 0; oh < Ho; oh++)
                        {
                            float* s = xx + n * pd.Image + tap + (long)oh * pd.SH * pd.Wp;
                            float* gr = gyy + (long)n * m * hw + (long)oh * Wo;
                            int ow = 0;
                            for (; ow + 8 <= Wo; ow += 8)
                            {
                                var xv = Vector256.Load(s + ow);
                                a0 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(gr + ow), a0);
                                if (m > 1) a1 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(gr + hw + ow), a1);
                                if (m > 2) a2 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(gr + 2 * hw + ow), a2);
                                if (m > 3) a3 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(gr + 3 * hw + ow), a3);
                            }
                            for (; ow < Wo; ow++)
                            {
                                float xv = s[ow];
                                t0 += xv * gr[ow];
                                if (m > 1) t1 += xv * gr[hw + ow];
                                if (m > 2) t2 += xv * gr[2 * hw + ow];
                                if (m > 3) t3 += xv * gr[3 * hw + ow];
                            }
                        }
                    gww[r] = Vector256.Sum(a0) + t0;
                    if (m > 1) gww[k + r] = Vector256.Sum(a1) + t1;
                    if (m > 2) gww[2 * k + r] = Vector256.Sum(a2) + t2;
                    if (m > 3) gww[3 * k + r] = Vector256.Sum(a3) + t3;
                }
            }
            if ((long)k * hw * images < 1 << 17 || Environment.ProcessorCount == 1) Taps(0, k);
            else
            {
                int chunks = Math.Min(k, Environment.ProcessorCount * 4);
                Parallel.For(0, chunks, ch => Taps((int)((long)k * ch / chunks), (int)((long)k * (ch + 1) / chunks)));
            }
        }
    }

    /// <summary>Stores the transpose of the 8×8 block with rows v0..v7 at dst (rows ldd apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose8(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
        Vector256<float> v4, Vector256<float> v5, Vector256<float> v6, Vector256<float> v7, float* dst, int ldd)
    {
        var t0 = Avx.UnpackLow(v0, v1);
        var t1 = Avx.UnpackHigh(v0, v1);
        var t2 = Avx.UnpackLow(v2, v3);
        var t3 = Avx.UnpackHigh(v2, v3);
        var t4 = Avx.UnpackLow(v4, v5);
        var t5 = Avx.UnpackHigh(v4, v5);
        var t6 = Avx.UnpackLow(v6, v7);
        var t7 = Avx.UnpackHigh(v6, v7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }
}
