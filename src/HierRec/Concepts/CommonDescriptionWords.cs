using HierRec.Text;

namespace HierRec.Concepts;

/// <summary>
/// The words of a domain's descriptions that say nothing about a user's taste: "films" in "I love Mystery films",
/// "movies", "I", "love". Only the positive side of a description counts (the words a sentence could name; a genre that
/// many reject and many ask for would otherwise look like no taste at all). A word is generic when the users who use it
/// consume like any users: each user's taste is the
/// mean item vector of their training history, and the distance from the mean taste of the word's users to that of all
/// described users is no larger than for random sets of as many described users (their mean plus two standard
/// deviations over <see cref="Draws"/> draws, a permutation test). "science", asked for by half the users of a
/// four-category catalogue, is common but specific; "films", written by everyone, is generic. Only words used by at
/// least <see cref="MinShare"/> of the described users (and <see cref="MinUsers"/>) are tested: a rarer word is never
/// generic. Found from the training data by <see cref="ConceptTrainer"/>; explanation sentences do not name these words
/// as what a user asked for (their attributions are kept and shown).
/// </summary>
internal static class CommonDescriptionWords
{
    /// <summary>The least share of described users whose descriptions use a word for it to be tested.</summary>
    public const double MinShare = 0.1;

    /// <summary>The least number of users of a word for it to be tested (and of described users for any test).</summary>
    public const int MinUsers = 20;

    /// <summary>Random user sets drawn per word for the test's null distribution.</summary>
    public const int Draws = 32;

    /// <summary>How many of the null's standard deviations above its mean a word's distance may be and still be generic.</summary>
    public const double Deviations = 2;

    /// <summary>The key a word is compared by: lower case (invariant).</summary>
    public static string Key(string word) => word.ToLowerInvariant();

    /// <summary>
    /// The generic words (as <see cref="Key"/>s) of the positive sides (<paramref name="positive"/> of a description) of
    /// <paramref name="descriptions"/> (per dense user, null or empty: none), judged on <paramref name="histories"/> (per dense user, item indexes) over the item vectors
    /// <paramref name="items"/> (row-major, <paramref name="dimension"/> wide).
    /// </summary>
    public static HashSet<string> Find(BertTokenizer tokenizer, Func<string, string> positive, IReadOnlyList<IReadOnlyList<string>?> descriptions, IReadOnlyList<int[]> histories,
        ReadOnlySpan<float> items, int dimension, ulong seed = 1)
    {
        if (descriptions.Count != histories.Count) throw new ArgumentException($"{descriptions.Count} description lists for {histories.Count} histories.", nameof(histories));
        if (dimension <= 0 || items.Length % dimension != 0) throw new ArgumentException($"Item vectors of {items.Length} values are not rows of {dimension}.", nameof(items));
        int itemCount = items.Length / dimension;
        var usersOf = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var tastes = new List<double[]>(); // per described user (in the order of described), the mean item vector
        for (int u = 0; u < descriptions.Count; u++)
        {
            if (descriptions[u] is not { Count: > 0 } list || histories[u].Length == 0) continue;
            var words = new HashSet<string>(StringComparer.Ordinal);
            foreach (var text in list)
                if (!string.IsNullOrWhiteSpace(text))
                    foreach (var word in DescriptionWords.Words(tokenizer, positive(text))) words.Add(Key(word));
            if (words.Count == 0) continue;
            var taste = new double[dimension];
            foreach (int i in histories[u])
            {
                if ((uint)i >= (uint)itemCount) throw new ArgumentException($"User {u}'s history holds item {i}, outside the {itemCount} items.", nameof(histories));
                var row = items.Slice(i * dimension, dimension);
                for (int j = 0; j < dimension; j++) taste[j] += row[j];
            }
            for (int j = 0; j < dimension; j++) taste[j] /= histories[u].Length;
            foreach (var word in words)
            {
                if (!usersOf.TryGetValue(word, out var users)) usersOf[word] = users = [];
                users.Add(tastes.Count);
            }
            tastes.Add(taste);
        }
        var generic = new HashSet<string>(StringComparer.Ordinal);
        if (tastes.Count < MinUsers) return generic;
        var all = Mean(Enumerable.Range(0, tastes.Count).ToArray(), tastes.Count, tastes, dimension);
        int least = Math.Max(MinUsers, (int)Math.Ceiling(MinShare * tastes.Count));
        var rng = new Rng(seed);
        var pool = Enumerable.Range(0, tastes.Count).ToArray();
        var random = new double[Draws];
        foreach (var (word, users) in usersOf.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (users.Count < least) continue;
            double distance = Distance(Mean(users, users.Count, tastes, dimension), all);
            for (int d = 0; d < Draws; d++)
            {
                for (int j = 0; j < users.Count; j++) // a partial Fisher–Yates shuffle: the first users.Count of pool
                {
                    int r = j + rng.NextInt(pool.Length - j);
                    (pool[j], pool[r]) = (pool[r], pool[j]);
                }
                random[d] = Distance(Mean(pool, users.Count, tastes, dimension), all);
            }
            double mean = random.Average(), sd = Math.Sqrt(random.Sum(x => (x - mean) * (x - mean)) / (Draws - 1));
            if (distance <= mean + Deviations * sd) generic.Add(word);
        }
        return generic;
    }

    /// <summary>The mean taste of the first <paramref name="count"/> of <paramref name="users"/>.</summary>
    private static double[] Mean(IReadOnlyList<int> users, int count, List<double[]> tastes, int dimension)
    {
        var mean = new double[dimension];
        for (int k = 0; k < count; k++)
        {
            var t = tastes[users[k]];
            for (int j = 0; j < dimension; j++) mean[j] += t[j];
        }
        for (int j = 0; j < dimension; j++) mean[j] /= count;
        return mean;
    }

    private static double Distance(double[] a, double[] b)
    {
        double sum = 0;
        for (int j = 0; j < a.Length; j++) sum += (a[j] - b[j]) * (a[j] - b[j]);
        return Math.Sqrt(sum);
    }
}
