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
