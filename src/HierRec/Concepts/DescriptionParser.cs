using System.Text;
using System.Text.RegularExpressions;

namespace HierRec.Concepts;

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

    /// <summary>
    /// The longest description accepted, in UTF-16 characters: 4,096, far beyond what the concept encoder reads (its
    /// MaxLength tokens) and short enough that no request can make parsing and tokenising slow. Every description API
    /// (Describe, Recommend with a description, FitConcepts) refuses longer input with an <see cref="ArgumentException"/>.
    /// </summary>
    public const int MaxDescriptionLength = 4096;

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
        if (description.Length > MaxDescriptionLength)
            throw new ArgumentException($"The description is {description.Length:N0} characters long; the limit is {MaxDescriptionLength:N0} (DescriptionParser.MaxDescriptionLength).", nameof(description));
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
