
namespace HierRec.Data;

/// <summary>
/// A generated dataset whose ground truth is known: a two-level topic hierarchy (4 categories × 3 topics, each with
/// its own vocabulary), items described by text drawn from their topic's vocabulary, users with a profile (age,
/// gender, occupation, region) that shapes their interest in categories, a homophilous friend graph whose members'
/// interests are blended in, and interactions drawn from those interests with popularity bias. Profile, behaviour,
/// social and text each carry signal.
/// </summary>
public static class SyntheticDataset
{
    private static readonly string[] Categories = ["mystery", "romance", "science", "adventure"];

    private static readonly string[][][] Vocabulary =
    [
        [["detective", "clue", "alibi", "suspect", "inspector", "case"], ["heist", "vault", "crew", "getaway", "safe", "plan"], ["ghost", "haunted", "manor", "curse", "whisper", "shadow"]],
        [["wedding", "bride", "vows", "proposal", "ring", "letter"], ["summer", "beach", "holiday", "sunset", "island", "dance"], ["rivals", "office", "deadline", "coffee", "promotion", "city"]],
        [["planet", "orbit", "rocket", "astronaut", "galaxy", "signal"], ["robot", "circuit", "android", "code", "machine", "lab"], ["virus", "cure", "doctor", "outbreak", "vaccine", "hospital"]],
        [["jungle", "temple", "treasure", "map", "river", "expedition"], ["pirate", "ship", "storm", "island", "captain", "sea"], ["mountain", "summit", "rope", "glacier", "climb", "avalanche"]],
    ];

    private static readonly string[] Filler = ["story", "journey", "night", "secret", "friends", "life", "world", "time", "last", "first", "new", "old"];
    private static readonly string[] Occupations = ["student", "engineer", "teacher", "artist", "doctor", "writer", "clerk", "retired"];
    private static readonly string[] Regions = ["north", "south", "east", "west", "central", "coast"];

    // Which category each occupation leans to (occupation index → category index): the profile signal.
    private static readonly int[] OccupationLean = [3, 2, 0, 1, 2, 0, 1, 0];

    /// <summary>Generates the dataset; the same options give the same dataset.</summary>
    public static Dataset Generate(SyntheticOptions? options = null)
    {
        options ??= new SyntheticOptions();
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Users, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Items, 12);
        var rng = new Rng(options.Seed);
        int nu = options.Users, ni = options.Items, nc = Categories.Length, nt = 3;

        // Items: a topic, a Zipf-like popularity, and a description from the topic's vocabulary.
        var items = new IdMap();
        var itemFeatures = new FeatureTable(ni);
        var titles = itemFeatures.AddText("title");
        var descriptions = itemFeatures.AddText("description");
        var genres = itemFeatures.AddTags("genres");
        var itemTopic = new int[ni];
        var popularity = new double[ni];
        var byTopic = Enumerable.Range(0, nc * nt).Select(_ => new List<int>()).ToArray();
        var usedTitles = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < ni; i++)
        {
            items.GetOrAdd($"item{i}");
            int topic = i % (nc * nt); // every topic gets items
            itemTopic[i] = topic;
            byTopic[topic].Add(i);
            popularity[i] = 1.0 / Math.Pow(1 + rng.NextInt(ni), 0.7);
            var words = Vocabulary[topic / nt][topic % nt];
            string w1 = words[rng.NextInt(words.Length)], w2 = words[rng.NextInt(words.Length)];
            // Titles are unique, as a catalogue's are: a repeat becomes a sequel ("The glacier journey II"); no random
            // draw is added, so the interactions do not change.
            string title = $"The {w1} {Filler[rng.NextInt(Filler.Length)]}";
            int seen = usedTitles.GetValueOrDefault(title);
            usedTitles[title] = seen + 1;
            titles[i] = seen == 0 ? title : $"{title} {Roman(seen + 1)}";
            descriptions[i] = $"A {Categories[topic / nt]} {Filler[rng.NextInt(Filler.Length)]} about the {w1}, the {w2} and the {words[rng.NextInt(words.Length)]}.";
            genres[i] = [Categories[topic / nt], $"{Categories[topic / nt]}/{words[0]}"];
        }

        // Users: a profile, and interests over categories shaped by occupation and age.
        var users = new IdMap();
        var userFeatures = new FeatureTable(nu);
        var age = userFeatures.AddNumeric("age");
        var gender = userFeatures.AddCategorical("gender");
        var occupation = userFeatures.AddCategorical("occupation");
        var region = userFeatures.AddCategorical("region");
        var interest = new double[nu][];   // over categories
        var topicPref = new double[nu][];  // over the 3 topics within each category
        for (int u = 0; u < nu; u++)
        {
            users.GetOrAdd($"user{u}");
            int occ = rng.NextInt(Occupations.Length);
            age[u] = 18 + rng.NextInt(53);
            gender[u] = rng.NextInt(2) == 0 ? "F" : "M";
            occupation[u] = Occupations[occ];
            region[u] = Regions[rng.NextInt(Regions.Length)];
            var logits = new double[nc];
            for (int c = 0; c < nc; c++) logits[c] = 0.8 * rng.NextNormal();
            logits[OccupationLean[occ]] += 1.6;
            logits[age[u] < 35 ? 3 : 1] += 0.6; // younger users lean to adventure, older to romance
            interest[u] = Softmax(logits);
            topicPref[u] = Enumerable.Range(0, nc * nt).Select(_ => Math.Exp(0.7 * rng.NextNormal())).ToArray();
        }

        // Friends: homophilous on the favourite category.
        var favourite = interest.Select(p => Array.IndexOf(p, p.Max())).ToArray();
        var byFavourite = Enumerable.Range(0, nc).Select(c => Enumerable.Range(0, nu).Where(u => favourite[u] == c).ToArray()).ToArray();
        var edges = new HashSet<(int, int)>();
        for (int u = 0; u < nu; u++)
        {
            for (int k = 0; k < options.FriendsPerUser; k++)
            {
                var pool = rng.NextDouble() < options.Homophily && byFavourite[favourite[u]].Length > 1 ? byFavourite[favourite[u]] : null;
                int v = pool is null ? rng.NextInt(nu) : pool[rng.NextInt(pool.Length)];
                if (v == u) continue;
                edges.Add((u, v));
                edges.Add((v, u));
            }
        }
        var friends = Enumerable.Range(0, nu).Select(_ => new List<int>()).ToArray();
        foreach (var (a, b) in edges) friends[a].Add(b);
        // Social influence: blend in the friends' mean interest.
        var blended = new double[nu][];
        for (int u = 0; u < nu; u++)
        {
            blended[u] = (double[])interest[u].Clone();
            if (friends[u].Count == 0) continue;
            for (int c = 0; c < nc; c++)
            {
                double mean = friends[u].Average(v => interest[v][c]);
                blended[u][c] = (1 - options.SocialInfluence) * interest[u][c] + options.SocialInfluence * mean;
            }
        }

        // Interactions: category from the blended interest, topic from the user's topic preference, item by popularity.
        var interactions = new List<Interaction>();
        for (int u = 0; u < nu; u++)
        {
            int n = Math.Max(10, (int)Math.Round(options.MeanInteractions * (0.5 + rng.NextDouble())));
            var seen = new HashSet<int>();
            long t = 1_600_000_000L + rng.NextInt(86_400 * 30);
            for (int attempt = 0; seen.Count < n && attempt < 20 * n; attempt++)
            {
                int c = Sample(blended[u], rng);
                var prefs = Enumerable.Range(0, nt).Select(j => topicPref[u][c * nt + j]).ToArray();
                int topic = c * nt + Sample(prefs, rng);
                var candidates = byTopic[topic];
                var weights = candidates.Select(i => Math.Pow(popularity[i], options.PopularityBias)).ToArray();
                int item = candidates[Sample(weights, rng)];
                if (!seen.Add(item)) continue;
                t += 600 + rng.NextInt(86_400);
                if (options.TimeOfDaySignal > 0 && rng.NextDouble() < options.TimeOfDaySignal)
                {
                    long shifted = t - t % 86_400 + c * 21_600 + rng.NextInt(21_600);
                    t = shifted > t ? shifted : shifted + 86_400;
                }
                interactions.Add(new Interaction(u, item, 1, t));
            }
        }
        return new Dataset("synthetic", users, items, interactions, userFeatures, itemFeatures, edges.OrderBy(e => e).ToList());
    }

    private static double[] Softmax(double[] x)
    {
        double m = x.Max();
        var e = x.Select(v => Math.Exp(v - m)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    private static int Sample(double[] weights, Rng rng)
    {
        double total = 0;
        foreach (double w in weights) total += w;
        double r = rng.NextDouble() * total;
        for (int i = 0; i < weights.Length; i++)
        {
            r -= weights[i];
            if (r <= 0) return i;
        }
        return weights.Length - 1;
    }

    private static string Roman(int n)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var (value, numeral) in new[] { (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I") })
            for (; n >= value; n -= value) sb.Append(numeral);
        return sb.ToString();
    }
}
