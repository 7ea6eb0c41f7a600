namespace HierRec.Tests.Text;

/// <summary>A generated four-genre corpus for pre-training and fine-tuning tests.</summary>
internal static class GenreCorpus
{
    private static readonly string[][] Genres =
    [
        ["detective", "murder", "crime", "police", "mystery"],
        ["laugh", "funny", "comedy", "joke", "silly"],
        ["space", "alien", "robot", "future", "planet"],
        ["love", "romance", "wedding", "heart", "kiss"],
    ];

    private static readonly string[] Frames = ["a {0} film about the {1} and the {2}", "the {0} story of a {1} with a {2}", "{0} {1} {2} in one movie", "this is a {0} tale where the {1} meets the {2}"];

    /// <summary>Sentences whose content words all come from one genre: predictable from context, so MLM can learn them.</summary>
    internal static List<(string Text, int Genre)> Corpus(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var result = new List<(string, int)>(count);
        for (int i = 0; i < count; i++)
        {
            int g = rng.NextInt(Genres.Length);
            var w = Genres[g];
            string frame = Frames[rng.NextInt(Frames.Length)];
            result.Add((string.Format(System.Globalization.CultureInfo.InvariantCulture, frame, w[rng.NextInt(w.Length)], w[rng.NextInt(w.Length)], w[rng.NextInt(w.Length)]), g));
        }
        return result;
    }
}
