using HierRec.Ranking;

namespace HierRec.Tests.Ranking;

public sealed class ItemIndexTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-ix-" + Guid.NewGuid().ToString("N"));

    public ItemIndexTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    private static void AssertNear(double expected, double actual, double relTol) =>
        Assert.True(Math.Abs(expected - actual) <= relTol * (1 + Math.Abs(expected)), $"expected {expected:R}, got {actual:R}");

    private static float[] Normal(int n, int seed, float std = 1f)
    {
        var a = new float[n];
        new Rng((ulong)seed).FillNormal(a, 0, std);
        return a;
    }

    /// <summary>Exact scores in double, sorted best first with ties to the lower index.</summary>
    private static (int Id, double Score)[] FullSort(float[] items, int n, int d, float[] q, Similarity sim = Similarity.DotProduct)
    {
        double qn = Math.Sqrt(q.Sum(v => (double)v * v));
        return Enumerable.Range(0, n).Select(i =>
        {
            double s = 0, xn = 0;
            for (int j = 0; j < d; j++) { s += (double)q[j] * items[i * d + j]; xn += (double)items[i * d + j] * items[i * d + j]; }
            if (sim == Similarity.Cosine) s = xn == 0 || qn == 0 ? 0 : s / Math.Sqrt(xn) / qn;
            return (Id: i, Score: s);
        }).OrderByDescending(x => x.Score).ThenBy(x => x.Id).ToArray();
    }

    [Theory]
    [InlineData(Similarity.DotProduct, 1)]
    [InlineData(Similarity.DotProduct, 2)]
    [InlineData(Similarity.Cosine, 1)]
    [InlineData(Similarity.Cosine, 2)]
    public void TopK_MatchesFullSort(Similarity sim, int threads)
    {
        int n = 5003, d = 37;
        var items = Normal(n * d, 1);
        using var index = ItemIndex.Create(items, n, d, similarity: sim);
        for (int t = 0; t < 5; t++)
        {
            var q = Normal(d, 100 + t);
            var got = index.Rank(q, 50, new RankOptions { Threads = threads });
            var expected = FullSort(items, n, d, q, sim).Take(50).ToArray();
            Assert.Equal(expected.Select(e => e.Id), got.Select(g => g.ItemIndex));
            for (int i = 0; i < 50; i++) AssertNear(expected[i].Score, got[i].Score, 1e-5);
        }
    }

    [Fact]
    public void TopK_BreaksTiesByLowerIndex()
    {
        // Items repeat in groups of identical vectors: many exact ties.
        int n = 1000, d = 8;
        var items = new float[n * d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) items[i * d + j] = (i % 7) - 3 + j * 0.0f;
        using var index = ItemIndex.Create(items, n, d);
        var q = Enumerable.Repeat(1f, d).ToArray();
        var got = index.Rank(q, 300, new RankOptions { Threads = 2 });
        var expected = FullSort(items, n, d, q).Take(300).Select(e => e.Id);
        Assert.Equal(expected, got.Select(g => g.ItemIndex));
    }

    [Fact]
    public void Probabilities_SumToOneOverTheCatalogue_AndMatchDouble_EvenForScoresOf1e4()
    {
        int n = 3001, d = 16;
        var items = Normal(n * d, 3, std: 250f);   // scores of order ±1e4
        using var index = ItemIndex.Create(items, n, d);
        var q = Normal(d, 4, std: 10f);
        var all = index.Rank(q, n, new RankOptions { Threads = 2 });
        Assert.Equal(n, all.Length);
        Assert.True(Math.Abs(all.Sum(r => (double)r.Probability) - 1) < 1e-5);
        // Double-precision reference softmax over the exact scores.
        var exact = FullSort(items, n, d, q);
        double max = exact[0].Score;
        double z = exact.Sum(e => Math.Exp(e.Score - max));
        for (int i = 0; i < 20; i++)
        {
            double p = Math.Exp(exact[i].Score - max) / z;
            Assert.True(Math.Abs(p - all[i].Probability) <= 1e-4 * Math.Max(p, 1e-3), $"rank {i}: {p} vs {all[i].Probability}");
        }
        Assert.True(all[0].Probability > 0.5f, "with scores this spread the best item dominates");
    }

    [Fact]
    public void Temperature_FlattensTheDistribution_AndProbabilitiesStayThoseOfTheFullSoftmax()
    {
        int n = 500, d = 8;
        var items = Normal(n * d, 5);
        using var index = ItemIndex.Create(items, n, d);
        var q = Normal(d, 6);
        var top = index.Rank(q, 10, new RankOptions { Temperature = 4f });
        var exact = FullSort(items, n, d, q);
        double z = exact.Sum(e => Math.Exp(e.Score / 4));
        for (int i = 0; i < 10; i++) AssertNear(Math.Exp(exact[i].Score / 4) / z, top[i].Probability, 1e-5);
    }

    [Fact]
    public void Filters_AreAppliedDuringTheScan()
    {
        int n = 4000, d = 12;
        var items = Normal(n * d, 7);
        using var index = ItemIndex.Create(items, n, d);
        var q = Normal(d, 8);
        var sorted = FullSort(items, n, d, q);
        var seen = sorted.Take(30).Select(s => s.Id).Where(id => id % 2 == 0).ToArray();
        var options = new RankOptions
        {
            Filter = ItemFilter.All(ItemFilter.Exclude(seen), ItemFilter.Where(id => id % 5 != 0)),
            Threads = 2,
        };
        var got = index.Rank(q, 20, options);
        var expected = sorted.Where(s => !seen.Contains(s.Id) && s.Id % 5 != 0).Take(20).Select(s => s.Id);
        Assert.Equal(expected, got.Select(g => g.ItemIndex));

        var allow = new[] { 3, 17, 2500, 3999 };
        var onlyAllowed = index.Rank(q, 10, new RankOptions { Filter = ItemFilter.AllowOnly(allow) });
        Assert.Equal(sorted.Where(s => allow.Contains(s.Id)).Select(s => s.Id), onlyAllowed.Select(g => g.ItemIndex));

        float cut = (float)sorted[5].Score;
        var above = index.Rank(q, 50, new RankOptions { MinScore = cut });
        Assert.Equal(6, above.Length);
    }

    [Theory]
    [InlineData(VectorPrecision.Float16)]
    [InlineData(VectorPrecision.Int8)]
    public void QuantisedIndexes_RecallAtLeast99Percent_OfTheExactTop100_WithExactScores(VectorPrecision precision)
    {
        int n = 20000, d = 64;
        var items = Normal(n * d, 9);
        using var exact = ItemIndex.Create(items, n, d);
        using var quantised = ItemIndex.Create(items, n, d, precision);
        double hits = 0;
        for (int t = 0; t < 10; t++)
        {
            var q = Normal(d, 200 + t);
            var a = exact.Rank(q, 100).Select(r => r.ItemIndex).ToHashSet();
            var b = quantised.Rank(q, 100);
            hits += b.Count(r => a.Contains(r.ItemIndex));
            foreach (var r in b) AssertNear(exact.GetVector(r.ItemIndex).Zip(q, (x, y) => (double)x * y).Sum(), r.Score, 1e-5);
        }
        Assert.True(hits / 1000 >= 0.99, $"recall@100 = {hits / 1000}");
    }

    [Theory]
    [InlineData(VectorPrecision.Float32, Similarity.DotProduct)]
    [InlineData(VectorPrecision.Float16, Similarity.DotProduct)]
    [InlineData(VectorPrecision.Int8, Similarity.Cosine)]
    [InlineData(VectorPrecision.Float32, Similarity.Cosine)]
    public void RankBatch_AgreesWithSingleQueries(VectorPrecision precision, Similarity sim)
    {
        int n = 3001, d = 24, nq = 19, k = 15;
        var items = Normal(n * d, 10);
        using var index = ItemIndex.Create(items, n, d, precision, sim);
        var queries = Normal(nq * d, 11);
        var dest = new RankedItem[nq * k];
        var counts = new int[nq];
        var options = new RankOptions { Threads = 2, Filter = ItemFilter.Where(id => id % 3 != 1), Temperature = 0.5f };
        index.RankBatch(queries, nq, k, dest, counts, options);
        for (int i = 0; i < nq; i++)
        {
            Assert.Equal(k, counts[i]);
            var single = index.Rank(queries.AsSpan(i * d, d), k, options);
            var batch = dest.Skip(i * k).Take(k).ToArray();
            Assert.Equal(single.Select(s => s.ItemIndex), batch.Select(s => s.ItemIndex));
            Assert.All(batch, b => Assert.NotEqual(1, b.ItemIndex % 3));
            if (precision == VectorPrecision.Float32)
            {
                var exactIds = FullSort(items, n, d, queries.AsSpan(i * d, d).ToArray(), sim).Where(e => e.Id % 3 != 1).Take(k).Select(e => e.Id);
                Assert.Equal(exactIds, batch.Select(s => s.ItemIndex));
            }
            for (int j = 0; j < k; j++) Assert.True(Math.Abs(single[j].Probability - batch[j].Probability) <= 1e-4 * single[j].Probability + 1e-9, $"query {i} rank {j}");
        }
    }

    [Fact]
    public void Update_ReplacesOneVector_WithoutRebuilding()
    {
        int n = 100, d = 4;
        var items = Normal(n * d, 12);
        using var index = ItemIndex.Create(items, n, d, VectorPrecision.Int8);
        var q = new float[] { 1, 0, 0, 0 };
        index.Update(42, [1000, 0, 0, 0]);
        var top = index.Rank(q, 1)[0];
        Assert.Equal(42, top.ItemIndex);
        Assert.Equal(1000f, top.Score);
        Assert.Equal(new float[] { 1000, 0, 0, 0 }, index.GetVector(42));
    }

    [Fact]
    public void Float16Index_ClampsValuesBeyondHalfRange_AndStillReturnsExactScores()
    {
        var items = new float[] { 1e6f, 0, 1, 1, -1e6f, 0 };
        using var index = ItemIndex.Create(items, 3, 2, VectorPrecision.Float16);
        var top = index.Rank(new float[] { 1, 0 }, 3);
        Assert.Equal(new[] { 0, 1, 2 }, top.Select(t => t.ItemIndex));
        Assert.Equal(1e6f, top[0].Score);
        Assert.All(top, t => Assert.True(float.IsFinite(t.Probability)));
    }

    [Fact]
    public async Task ConcurrentReaders_WithAnUpdatingWriter_NeverSeeATornVector()
    {
        // Every vector is c·(1, …, 1) for one c; a torn write would make the score differ from d·c·q.
        int n = 20000, d = 32;
        var items = new float[n * d];
        Array.Fill(items, 1f);
        using var index = ItemIndex.Create(items, n, d);
        var q = Enumerable.Repeat(1f, d).ToArray();
        using var cts = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            var rng = new Rng(13);
            for (int step = 0; step < 2000 && !cts.IsCancellationRequested; step++)
            {
                float c = 1 + rng.NextInt(50);
                index.Update(rng.NextInt(n), Enumerable.Repeat(c, d).ToArray());
            }
        });
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                foreach (var item in index.Rank(q, 20, new RankOptions { Threads = 1 }))
                {
                    float c = item.Score / d;
                    Assert.Equal(MathF.Round(c), c);
                }
            }
        })).ToArray();
        await Task.WhenAll(readers);
        cts.Cancel();
        await writer;
    }

    [Theory]
    [InlineData(VectorPrecision.Float32, Similarity.DotProduct)]
    [InlineData(VectorPrecision.Float16, Similarity.Cosine)]
    [InlineData(VectorPrecision.Int8, Similarity.DotProduct)]
    public void SaveLoad_RoundTrips(VectorPrecision precision, Similarity sim)
    {
        int n = 321, d = 19;
        var items = Normal(n * d, 14);
        using var index = ItemIndex.Create(items, n, d, precision, sim);
        string path = Path.Combine(_dir, "items.hrix");
        index.Save(path);
        using var loaded = ItemIndex.Load(path);
        Assert.Equal((n, d, precision, sim), (loaded.Count, loaded.Dimension, loaded.Precision, loaded.Similarity));
        var q = Normal(d, 15);
        Assert.Equal(index.Rank(q, 10), loaded.Rank(q, 10));
    }

    [Fact]
    public void Load_RejectsTruncatedCorruptAndForeignFiles()
    {
        string path = Path.Combine(_dir, "items.hrix");
        using (var index = ItemIndex.Create(Normal(50 * 8, 16), 50, 8)) index.Save(path);
        var bytes = File.ReadAllBytes(path);

        File.WriteAllBytes(path, bytes[..^10]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => ItemIndex.Load(path)).Message);

        var flipped = (byte[])bytes.Clone();
        flipped[100] ^= 0x40;
        File.WriteAllBytes(path, flipped);
        var ex = Assert.Throws<InvalidDataException>(() => ItemIndex.Load(path));
        Assert.Contains(path, ex.Message);

        File.WriteAllText(path, "definitely not an index");
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => ItemIndex.Load(path)).Message);
    }

    [Fact]
    public void BadArguments_GetClearErrors()
    {
        using var index = ItemIndex.Create(Normal(10 * 4, 17), 10, 4);
        Assert.Contains("dimension 4", Assert.Throws<ArgumentException>(() => index.Rank(new float[3], 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Rank(new float[4], 0));
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => index.Rank(new float[] { 0, float.NaN, 0, 0 }, 1)).Message);
        Assert.Throws<ArgumentException>(() => index.Rank(new float[4], 5, new RankedItem[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Rank(new float[4], 1, new RankOptions { Temperature = 0 }));
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => ItemIndex.Create(new float[] { 1, float.PositiveInfinity }, 1, 2)).Message);
        // k larger than the catalogue is clamped.
        Assert.Equal(10, index.Rank(new float[] { 1, 2, 3, 4 }, 1000).Length);
    }
}
