namespace HierRec.Ranking.Kernels;

/// <summary>
/// The managed GEMM: Goto-style blocking (KC×NC panels of B and MC×KC blocks of A packed into micro-panels), an
/// MR×NR register-blocked micro-kernel (Vector512 6×32, Vector256 6×16, Vector128 6×8, scalar 4×4, widest
/// accelerated first), and the work split across cores for large shapes.
/// </summary>
/// <remarks>
/// Deterministic: every element of C is accumulated in the same order whatever the thread count, because threads
/// own disjoint tiles and the k-loop order is fixed. Edge tiles are handled by zero-padding the packed panels, so the
/// micro-kernel always computes a full MR×NR tile into registers and only the valid part is written back.
/// </remarks>
public sealed unsafe class ManagedGemm : IGemmProvider
{
    /// <summary>The default instance, which uses all cores for large products.</summary>
    public static ManagedGemm Instance { get; } = new();

    // Block sizes (tuned on a 2-core AVX2 EPYC: 32 KiB L1d, 512 KiB L2): a kc×NR panel of B stays in L1, an mc×kc
    // block of A in L2, a kc×nc panel of B in L3. Environment overrides exist for tuning runs only.
    private static readonly int KC = EnvInt("HIERREC_GEMM_KC", 256);
    private static readonly int MC = EnvInt("HIERREC_GEMM_MC", 96);   // multiple of every MR (6, 4)... rounded below
    private static readonly int NC = EnvInt("HIERREC_GEMM_NC", 2048);

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int v) && v > 0 ? v : fallback;

    /// <summary>Products with fewer multiply-adds than this run on one thread.</summary>
    public const long ParallelThreshold = 1L << 21;

    private readonly MicroKernel _kernel;

    /// <summary>Creates a GEMM that uses up to <paramref name="maxThreads"/> threads (default: processor count).</summary>
    public ManagedGemm(int maxThreads = 0) : this(maxThreads, MicroKernel.Best) { }

    internal ManagedGemm(int maxThreads, MicroKernel kernel)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxThreads);
        MaxThreads = maxThreads == 0 ? Environment.ProcessorCount : maxThreads;
        _kernel = kernel;
    }

    /// <summary>Upper bound on threads used by one call.</summary>
    public int MaxThreads { get; }

    /// <inheritdoc />
    public string Name => $"HierRec managed ({_kernel}, {MaxThreads} thread{(MaxThreads == 1 ? "" : "s")})";

    /// <inheritdoc />
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            ScaleC(pc, m, n, ldc, beta);
            if (k == 0 || alpha == 0f) return;
            if (m == 1 && !transA)
            {
                RowTimesMatrix(pa, pb, transB, n, k, ldb, alpha, pc);
                return;
            }

            long work = (long)m * n * k;
            int threads = work >= ParallelThreshold ? Math.Min(MaxThreads, Environment.ProcessorCount) : 1;
            threads = Math.Min(threads, (m + _kernel.MR - 1) / _kernel.MR);
            if (threads <= 1)
            {
                Blocked(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, pc, ldc);
                return;
            }
            BlockedParallel(threads, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, pc, ldc);
        }
    }

    private static void ScaleC(float* c, int m, int n, int ldc, float beta)
    {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear(); // not 0·C: C may hold NaN or garbage
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>C[0, :] += alpha · a · op(B) for a single row a (a GEMV; packing would waste MR-1 rows of work).</summary>
    private static void RowTimesMatrix(float* a, float* b, bool transB, int n, int k, int ldb, float alpha, float* c)
    {
        var cRow = new Span<float>(c, n);
        if (transB)
        {
            for (int j = 0; j < n; j++)
            {
                cRow[j] += alpha * System.Numerics.Tensors.TensorPrimitives.Dot(new ReadOnlySpan<float>(a, k), new ReadOnlySpan<float>(b + (long)j * ldb, k));
            }
        }
        else
        {
            for (int p = 0; p < k; p++)
            {
                float s = alpha * a[p];
                if (s == 0f) continue;
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(b + (long)p * ldb, n), s, cRow, cRow);
            }
        }
    }

    private void Blocked(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        int mr = _kernel.MR, nr = _kernel.NR;
        int ncMax = Math.Min(NC, RoundUp(n, nr));
        int mcMax = Math.Min(MC, RoundUp(m, mr));
        int kcMax = Math.Min(KC, k);
        float[] bufB = System.Buffers.ArrayPool<float>.Shared.Rent(kcMax * ncMax + 16);
        float[] bufA = System.Buffers.ArrayPool<float>.Shared.Rent(kcMax * mcMax + 16);
        try
        {
            fixed (float* packB0 = bufB)
            fixed (float* packA0 = bufA)
            {
                // 64-byte align the packed panels for full-width aligned-ish loads.
                float* packB = Align64(packB0), packA = Align64(packA0);
                for (int jc = 0; jc < n; jc += NC)
                {
                    int nc = Math.Min(NC, n - jc);
                    for (int pc = 0; pc < k; pc += KC)
                    {
                        int kc = Math.Min(KC, k - pc);
                        PackB(transB, b, ldb, pc, jc, kc, nc, nr, packB);
                        for (int ic = 0; ic < m; ic += MC)
                        {
                            int mc = Math.Min(MC, m - ic);
                            PackA(transA, a, lda, ic, pc, mc, kc, mr, packA);
                            MacroKernel(packA, packB, c + (long)ic * ldc + jc, ldc, mc, nc, kc, alpha);
                        }
                    }
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(bufA);
            System.Buffers.ArrayPool<float>.Shared.Return(bufB);
        }
    }

    /// <summary>
    /// The parallel schedule (BLIS-style, two fork-joins per column panel): for each panel of nc columns, the threads
    /// first pack disjoint micro-panels of every k-block of B into one shared buffer; then each thread multiplies its
    /// own stripe of M (aligned to MR, with its own packed A blocks) by all of it. Nothing is packed twice, and there
    /// is no synchronisation inside the k-loop.
    /// </summary>
    private void BlockedParallel(int threads, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        int mr = _kernel.MR, nr = _kernel.NR;
        // Keep the packed panel (k × nc floats) within 16 MiB, well inside a shared L3.
        int ncLimit = Math.Max(nr, Math.Min(NC, (4 << 20) / Math.Max(k, 1) / nr * nr));
        int ncMax = Math.Min(ncLimit, RoundUp(n, nr));
        int kcMax = Math.Min(KC, k);
        int mcMax = Math.Min(MC, RoundUp(m, mr));
        float[] bufB = System.Buffers.ArrayPool<float>.Shared.Rent(k * ncMax + 16);
        var bufA = new float[threads][];
        for (int t = 0; t < threads; t++) bufA[t] = System.Buffers.ArrayPool<float>.Shared.Rent(kcMax * mcMax + 16);
        int mUnits = (m + mr - 1) / mr;
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        try
        {
            fixed (float* packB0 = bufB)
            {
                nint packBAddr = (nint)Align64(packB0), aAddr = (nint)a, bAddr = (nint)b, cAddr = (nint)c;
                for (int jc = 0; jc < n; jc += ncLimit)
                {
                    int nc = Math.Min(ncLimit, n - jc);
                    int panels = (nc + nr - 1) / nr;
                    int jcc = jc;
                    // Phase 1: pack B[0..k, jc..jc+nc) as consecutive k-blocks, each laid out in NR-column micro-panels.
                    Parallel.For(0, threads, options, t =>
                    {
                        int p0 = (int)((long)panels * t / threads), p1 = (int)((long)panels * (t + 1) / threads);
                        if (p1 <= p0) return;
                        int cols = Math.Min(nc, p1 * nr) - p0 * nr;
                        for (int pc = 0; pc < k; pc += KC)
                        {
                            int kc = Math.Min(KC, k - pc);
                            float* block = (float*)packBAddr + (long)pc * RoundUp(nc, nr);
                            PackB(transB, (float*)bAddr, ldb, pc, jcc + p0 * nr, kc, cols, nr, block + (long)p0 * nr * kc);
                        }
                    });
                    // Phase 2: every thread runs the whole k-loop over its own rows.
                    Parallel.For(0, threads, options, t =>
                    {
                        int u0 = (int)((long)mUnits * t / threads), u1 = (int)((long)mUnits * (t + 1) / threads);
                        int m0 = u0 * mr, m1 = Math.Min(m, u1 * mr);
                        if (m1 <= m0) return;
                        fixed (float* packA0 = bufA[t])
                        {
                            float* packA = Align64(packA0);
                            for (int pc = 0; pc < k; pc += KC)
                            {
                                int kc = Math.Min(KC, k - pc);
                                float* packB = (float*)packBAddr + (long)pc * RoundUp(nc, nr);
                                for (int ic = m0; ic < m1; ic += MC)
                                {
                                    int mc = Math.Min(MC, m1 - ic);
                                    PackA(transA, (float*)aAddr, lda, ic, pc, mc, kc, mr, packA);
                                    MacroKernel(packA, packB, (float*)cAddr + (long)ic * ldc + jcc, ldc, mc, nc, kc, alpha);
                                }
                            }
                        }
                    });
                }
            }
        }
        finally
        {
            foreach (var buf in bufA) System.Buffers.ArrayPool<float>.Shared.Return(buf);
            System.Buffers.ArrayPool<float>.Shared.Return(bufB);
        }
    }

    /// <summary>C[mc×nc] += alpha · packedA(mc×kc) · packedB(kc×nc), micro-tile by micro-tile.</summary>
    private void MacroKernel(float* packA, float* packB, float* c, int ldc, int mc, int nc, int kc, float alpha)
    {
        int mr = _kernel.MR, nr = _kernel.NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* bp = packB + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int rows = Math.Min(mr, mc - ir);
                _kernel.Run(kc, packA + (long)ir * kc, bp, c + (long)ir * ldc + jr, ldc, alpha, rows, cols);
            }
        }
    }

    private static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    /// <summary>Packs op(A)[ic.., pc..] (mc×kc) into MR-row micro-panels laid out k-major: panel[p·MR + i].</summary>
    private static void PackA(bool transA, float* a, int lda, int ic, int pc, int mc, int kc, int mr, float* dst)
    {
        int full = mc / mr * mr;
        if (!transA)
        {
            // A row-major M×K: each of a panel's MR rows is contiguous in k.
            for (int ir = 0; ir < mc; ir += mr)
            {
                int rows = Math.Min(mr, mc - ir);
                float* panel = dst + (long)ir * kc;
                for (int i = 0; i < rows; i++)
                {
                    float* src = a + (long)(ic + ir + i) * lda + pc;
                    for (int p = 0; p < kc; p++) panel[p * mr + i] = src[p];
                }
                for (int i = rows; i < mr; i++)
                    for (int p = 0; p < kc; p++) panel[p * mr + i] = 0f;
            }
            return;
        }
        // A stored K×M: row p of storage holds op(A)[.., p] contiguously, so read each storage row once, across
        // every micro-panel, rather than MR floats of it per panel.
        for (int p = 0; p < kc; p++)
        {
            float* src = a + (long)(pc + p) * lda + ic;
            int ir = 0;
            for (; ir < full; ir += mr)
            {
                float* d = dst + (long)ir * kc + p * mr;
                for (int i = 0; i < mr; i++) d[i] = src[ir + i];
            }
            if (ir < mc)
            {
                float* d = dst + (long)ir * kc + p * mr;
                int rows = mc - ir;
                for (int i = 0; i < rows; i++) d[i] = src[ir + i];
                for (int i = rows; i < mr; i++) d[i] = 0f;
            }
        }
    }

    /// <summary>Packs op(B)[pc.., jc..] (kc×nc) into NR-column micro-panels laid out k-major: panel[p·NR + j].</summary>
    private static void PackB(bool transB, float* b, int ldb, int pc, int jc, int kc, int nc, int nr, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* panel = dst + (long)jr * kc;
            if (!transB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(pc + p) * ldb + jc + jr;
                    float* d = panel + p * nr;
                    if (cols == nr)
                    {
                        // Full panel row: NR contiguous floats, copied a vector at a time.
                        int j = 0;
                        for (; j <= nr - 8; j += 8) System.Runtime.Intrinsics.Vector256.Store(System.Runtime.Intrinsics.Vector256.Load(src + j), d + j);
                        for (; j < nr; j++) d[j] = src[j];
                    }
                    else
                    {
                        for (int j = 0; j < cols; j++) d[j] = src[j];
                        for (int j = cols; j < nr; j++) d[j] = 0f;
                    }
                }
            }
            else
            {
                // B stored N×K: column j of op(B) is row j of B, contiguous in k.
                for (int j = 0; j < cols; j++)
                {
                    float* src = b + (long)(jc + jr + j) * ldb + pc;
                    for (int p = 0; p < kc; p++) panel[p * nr + j] = src[p];
                }
                for (int j = cols; j < nr; j++)
                    for (int p = 0; p < kc; p++) panel[p * nr + j] = 0f;
            }
        }
    }
}
