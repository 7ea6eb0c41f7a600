using HierRec.Ranking;

namespace HierRec.Benchmarks.Ranking;

/// <summary>
/// Recall@100 of the float16 and int8 indexes (with their float32 re-ranking) against the exact float32 top 100, on
/// the same seeded catalogues the speed benchmarks use, over 50 random queries each.
/// </summary>
public static class RecallMeasurement
{
    public static void Run(TextWriter output)
    {
        const int K = 100, Queries = 50;
        output.WriteLine("| n | d | float16 recall@100 | int8 recall@100 |");
        output.WriteLine("|---:|---:|---:|---:|");
        foreach (int n in new[] { 100_000, 1_000_000 })
            foreach (int d in new[] { 64, 256 })
            {
                var items = Catalogue.Make(n, d, 1);
                using var exact = ItemIndex.Create(items, n, d);
                using var f16 = ItemIndex.Create(items, n, d, VectorPrecision.Float16);
                using var i8 = ItemIndex.Create(items, n, d, VectorPrecision.Int8);
                double hitsF16 = 0, hitsI8 = 0;
                for (int q = 0; q < Queries; q++)
                {
                    var query = Catalogue.Make(1, d, 1000 + (ulong)q);
                    var truth = exact.Rank(query, K).Select(r => r.ItemIndex).ToHashSet();
                    hitsF16 += f16.Rank(query, K).Count(r => truth.Contains(r.ItemIndex));
                    hitsI8 += i8.Rank(query, K).Count(r => truth.Contains(r.ItemIndex));
                }
                output.WriteLine($"| {n:N0} | {d} | {hitsF16 / (K * Queries):F4} | {hitsI8 / (K * Queries):F4} |");
            }
    }
}
