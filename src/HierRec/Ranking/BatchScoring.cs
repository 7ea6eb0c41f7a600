using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HierRec.Ranking;

/// <summary>
/// Batched scoring without re-packing the catalogue: item rows are read in place (a 6-item × 16-query register
/// tile, broadcasting each item value and multiplying by 16 packed query values), the queries are packed once per
/// call, and scores come out item-major (rows × queries), which the batch path post-processes across queries with
/// vector instructions. Requires Vector256 acceleration; callers fall back to the GEMM path otherwise.
/// </summary>
internal static unsafe class BatchScoring
{
    public const int QueryPanel = 16;
    private const int ItemTile = 6;

    /// <summary>
    /// Packs queries (nq × stride, zero-padded rows) into panels of 16 queries laid out k-major:
    /// packed[panel][p][j] = q[panel·16 + j][p]; missing queries are zero.
    /// </summary>
    public static float[] PackQueries(ReadOnlySpan<float> queries, int nq, int stride)
    {
        int panels = (nq + QueryPanel - 1) / QueryPanel;
        var packed = new float[panels * stride * QueryPanel];
        for (int qi = 0; qi < nq; qi++)
        {
            int panel = qi / QueryPanel, j = qi % QueryPanel;
            for (int p = 0; p < stride; p++) packed[(panel * stride + p) * QueryPanel + j] = queries[qi * stride + p];
        }
        return packed;
    }

    /// <summary>scores[r · ldScores + q] = ⟨item r, query q⟩ for rows × (panels · 16) queries.</summary>
    public static void Score(float* items, int stride, int rows, float* packedQueries, int panels, float* scores, int ldScores)
    {
        for (int panel = 0; panel < panels; panel++)
        {
            float* qp = packedQueries + (long)panel * stride * QueryPanel;
            int r = 0;
            for (; r <= rows - ItemTile; r += ItemTile) Tile6(items + (long)r * stride, stride, qp, scores + (long)r * ldScores + panel * QueryPanel, ldScores);
            for (; r < rows; r++) Tile1(items + (long)r * stride, stride, qp, scores + (long)r * ldScores + panel * QueryPanel);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile6(float* a, int stride, float* b, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* a0 = a, a1 = a + stride, a2 = a1 + stride, a3 = a2 + stride, a4 = a3 + stride, a5 = a4 + stride;
        for (int p = 0; p < stride; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a0[p]); c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[p]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[p]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[p]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[p]); c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[p]); c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            b += QueryPanel;
        }
        c00.Store(c); c01.Store(c + 8); c += ldc;
        c10.Store(c); c11.Store(c + 8); c += ldc;
        c20.Store(c); c21.Store(c + 8); c += ldc;
        c30.Store(c); c31.Store(c + 8); c += ldc;
        c40.Store(c); c41.Store(c + 8); c += ldc;
        c50.Store(c); c51.Store(c + 8);
    }

    private static void Tile1(float* a, int stride, float* b, float* c)
    {
        Vector256<float> c0 = default, c1 = default;
        for (int p = 0; p < stride; p++)
        {
            var x = Vector256.Create(a[p]);
            c0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b), c0);
            c1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b + 8), c1);
            b += QueryPanel;
        }
        c0.Store(c);
        c1.Store(c + 8);
    }
}
