using System.Text;
using System.Text.RegularExpressions;

namespace HierRec.Concepts;

/// <summary>
/// The cue words that split a free-text interest description into clauses and give each clause its polarity. Defaults
/// cover English and Chinese; every list can be replaced or extended (e.g. <c>NegativeCues = [.. defaults.NegativeCues, "meh"]</c>).
/// </summary>
/// <remarks>
/// Cues made of Latin letters match whole words, case-insensitively ("not" does not match "nothing"); other cues (Chinese)
/// match as substrings, so a one-character Chinese cue such as 爱 would also match inside 爱情 (romance) and is left out
/// of the defaults. Negative cues are checked before positive ones, so "不喜欢" is negative although it contains "喜欢"
/// and "dislikes" is negative although it ends in "likes".
/// </remarks>
public sealed record ConceptCues
{
    /// <summary>The defaults.</summary>
    public static ConceptCues Default { get; } = new();

    /// <summary>Words that mark a clause as something the user does not want.</summary>
    public IReadOnlyList<string> NegativeCues { get; init; } =
    [
        "dislike", "dislikes", "disliked", "hate", "hates", "hated", "not", "no", "avoid", "avoids", "never", "don't", "dont",
        "doesn't", "doesnt", "can't stand", "cannot stand", "not into", "tired of", "nothing", "none", "without", "except",
        "讨厌", "不喜欢", "不要", "不爱", "不想", "不看", "受不了", "没兴趣", "别看",
    ];

    /// <summary>Words that mark a clause as something the user wants.</summary>
    public IReadOnlyList<string> PositiveCues { get; init; } =
    [
        "like", "likes", "liked", "love", "loves", "loved", "enjoy", "enjoys", "enjoyed", "prefer", "prefers", "fan of", "big fan of",
        "fan", "into", "favourite", "favorite", "want", "wants", "interested in",
        "喜欢", "爱看", "最爱", "偏爱", "想看",
    ];

    /// <summary>Conjunctions that start a new clause (which keeps the previous polarity unless it has its own cue).</summary>
    public IReadOnlyList<string> Conjunctions { get; init; } =
    [
        "but", "however", "though", "although", "whereas", "while", "yet", "and", "or", "also", "plus",
        "但是", "但", "可是", "不过", "然而", "而且", "以及", "或者", "也",
    ];

    /// <summary>Characters that end a clause.</summary>
    public string Separators { get; init; } = ",;.!?:\n\r\t，；。！？、：";

    /// <summary>Words removed from a clause's content because they carry no concept (pronouns, intensifiers).</summary>
    public IReadOnlyList<string> FillerWords { get; init; } =
    [
        "i", "i'm", "im", "me", "my", "really", "very", "much", "a", "an", "the", "lot", "so", "quite", "please", "of", "to",
        "watch", "watching", "am", "is", "are", "all", "kind", "kinds", "anything", "any", "things", "stuff",
        "我", "很", "非常", "特别", "真的", "的", "看", "一些", "那种", "任何",
    ];
}

/// <summary>One clause of a description.</summary>
/// <param name="Text">The clause as written.</param>
/// <param name="Content">The clause without cue and filler words: what the concept encoder reads ("" when nothing is left).</param>
/// <param name="Negative">Whether the clause says what the user does not want.</param>
public sealed record ConceptClause(string Text, string Content, bool Negative);

/// <summary>Splits descriptions into clauses with polarity.</summary>
/// <remarks>Thread-safe; build one per <see cref="ConceptCues"/> and reuse it.</remarks>
public sealed class DescriptionParser
{
    private readonly Regex _splitter;
    private readonly Regex _negative, _positive, _filler;
    private readonly string[] _cjkNegative, _cjkPositive, _cjkFiller;

    /// <summary>Compiles the cue lists.</summary>
    public DescriptionParser(ConceptCues? cues = null)
    {
        Cues = cues ?? ConceptCues.Default;
        ArgumentNullException.ThrowIfNull(Cues.NegativeCues, nameof(ConceptCues.NegativeCues));
        ArgumentNullException.ThrowIfNull(Cues.PositiveCues, nameof(ConceptCues.PositiveCues));
        ArgumentNullException.ThrowIfNull(Cues.Conjunctions, nameof(ConceptCues.Conjunctions));
        ArgumentNullException.ThrowIfNull(Cues.FillerWords, nameof(ConceptCues.FillerWords));
        var (latinConj, cjkConj) = Partition(Cues.Conjunctions);
        // A clause ends at a separator character, before a Latin conjunction standing as a word, or around a CJK one.
        var alternatives = new List<string> { $"[{Regex.Escape(Cues.Separators ?? "")}]" };
        if (latinConj.Length > 0) alternatives.Add($@"\b(?:{string.Join("|", latinConj.Select(Regex.Escape))})\b");
        if (cjkConj.Length > 0) alternatives.Add($"(?:{string.Join("|", cjkConj.OrderByDescending(c => c.Length).Select(Regex.Escape))})");
        _splitter = new Regex(string.Join("|", alternatives), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        (_negative, _cjkNegative) = Compile(Cues.NegativeCues);
        (_positive, _cjkPositive) = Compile(Cues.PositiveCues);
        (_filler, _cjkFiller) = Compile(Cues.FillerWords);
    }

    /// <summary>The cue lists in use.</summary>
    public ConceptCues Cues { get; }

    /// <summary>
    /// Splits <paramref name="description"/> into clauses at separators and conjunctions; a clause with a negative cue is
    /// negative, one with a positive cue positive, and one with neither keeps the polarity of the clause before it (the
    /// first defaults to positive), so "likes mystery and thrillers, hates romance and horror" gives +mystery, +thrillers,
    /// −romance, −horror. Clauses with no text at all are skipped; clauses whose content is empty are kept.
    /// </summary>
    /// <param name="description">The user's words.</param>
    /// <param name="handleNegation">False treats every clause as positive (the ablation without negation handling).</param>
    public IReadOnlyList<ConceptClause> Split(string description, bool handleNegation = true)
    {
        ArgumentNullException.ThrowIfNull(description);
        var clauses = new List<ConceptClause>();
        bool negative = false;
        foreach (var raw in _splitter.Split(description))
        {
            string text = raw.Trim();
            if (text.Length == 0) continue;
            bool hasNegative = Matches(_negative, _cjkNegative, text);
            bool hasPositive = !hasNegative && Matches(_positive, _cjkPositive, text);
            if (hasNegative) negative = true;
            else if (hasPositive) negative = false;
            string content = Strip(Strip(Strip(text, _negative, _cjkNegative), _positive, _cjkPositive), _filler, _cjkFiller);
            clauses.Add(new ConceptClause(text, content, handleNegation && negative));
        }
        return clauses;
    }

    /// <summary>The contents of the positive and of the negative clauses, each joined by ", " ("" when there are none).</summary>
    public (string Positive, string Negative) SplitByPolarity(string description, bool handleNegation = true)
    {
        var clauses = Split(description, handleNegation);
        static string Join(IEnumerable<ConceptClause> c) => string.Join(", ", c.Where(x => x.Content.Length > 0).Select(x => x.Content));
        return (Join(clauses.Where(c => !c.Negative)), Join(clauses.Where(c => c.Negative)));
    }

    private static (string[] Latin, string[] Other) Partition(IEnumerable<string> words)
    {
        var list = words.Where(w => !string.IsNullOrWhiteSpace(w)).Select(w => w.Trim()).Distinct().ToArray();
        return (list.Where(IsLatin).ToArray(), list.Where(w => !IsLatin(w)).ToArray());
    }

    private static bool IsLatin(string word) => word.All(c => c < 0x2E80);

    private static (Regex Latin, string[] Other) Compile(IEnumerable<string> words)
    {
        var (latin, other) = Partition(words);
        // Longest first so "can't stand" wins over "stand"; (?<!\w) and (?!\w) rather than \b so cues may end in "'".
        string pattern = latin.Length == 0 ? "(?!)" : $@"(?<![\w'])(?:{string.Join("|", latin.OrderByDescending(w => w.Length).Select(w => Regex.Escape(w).Replace(@"\ ", @"\s+")))})(?![\w'])";
        return (new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), other.OrderByDescending(w => w.Length).ToArray());
    }

    private static bool Matches(Regex latin, string[] other, string text) =>
        latin.IsMatch(text) || other.Any(w => text.Contains(w, StringComparison.Ordinal));

    private static string Strip(string text, Regex latin, string[] other)
    {
        text = latin.Replace(text, " ");
        var sb = new StringBuilder(text);
        foreach (var w in other) sb.Replace(w, " ");
        return string.Join(' ', sb.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
