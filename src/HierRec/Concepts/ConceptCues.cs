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
/// <para>
/// <see cref="Glossary"/> lets a description in one language name the words of a catalogue written in another: "不喜欢爱情片"
/// names the items whose text says Romance, so the lexical guard removes them and word steering can lift what a Chinese
/// description asks for. Without pretrained multilingual weights, the concept similarity alone cannot bridge the two
/// languages (HierRec pre-trains BERT on the catalogue's own text); the glossary is that bridge, and is replaceable.
/// </para>
/// </remarks>
public sealed record ConceptCues
{
    // Declared before Default, whose initialiser reads it.
    /// <summary>The default <see cref="Glossary"/>: Chinese names of common genres of films, music and books.</summary>
    public static IReadOnlyDictionary<string, string> DefaultGlossary { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        // films and books
        ["动作"] = "action", ["冒险"] = "adventure", ["探险"] = "adventure", ["动画"] = "animation animated", ["卡通"] = "cartoon animation",
        ["动漫"] = "anime animation", ["儿童"] = "children kids", ["少儿"] = "children kids", ["喜剧"] = "comedy", ["搞笑"] = "comedy funny",
        ["犯罪"] = "crime", ["黑帮"] = "gangster crime", ["纪录"] = "documentary", ["剧情"] = "drama", ["奇幻"] = "fantasy",
        ["魔幻"] = "fantasy", ["黑色电影"] = "noir", ["恐怖"] = "horror", ["歌舞"] = "musical", ["音乐剧"] = "musical",
        ["悬疑"] = "mystery suspense", ["推理"] = "mystery detective", ["侦探"] = "detective mystery", ["爱情"] = "romance romantic",
        ["浪漫"] = "romance romantic", ["言情"] = "romance", ["科幻"] = "sci-fi science fiction", ["惊悚"] = "thriller",
        ["战争"] = "war", ["西部"] = "western", ["历史"] = "history historical", ["传记"] = "biography biographical",
        ["家庭"] = "family", ["体育"] = "sport sports", ["武侠"] = "martial wuxia", ["功夫"] = "kung-fu martial", ["灾难"] = "disaster",
        ["青春"] = "teen youth", ["科学"] = "science", ["小说"] = "novel fiction", ["诗歌"] = "poetry poem", ["哲学"] = "philosophy",
        ["心理"] = "psychology psychological", ["政治"] = "politics political", ["宗教"] = "religion religious", ["烹饪"] = "cooking",
        ["美食"] = "food cooking", ["旅行"] = "travel", ["自然"] = "nature", ["超级英雄"] = "superhero", ["僵尸"] = "zombie",
        ["吸血鬼"] = "vampire", ["太空"] = "space", ["外星"] = "alien", ["间谍"] = "spy espionage", ["警匪"] = "police crime",
        // music
        ["摇滚"] = "rock", ["流行"] = "pop", ["爵士"] = "jazz", ["电子"] = "electronic electronica", ["说唱"] = "rap hip-hop",
        ["嘻哈"] = "hip-hop rap", ["古典"] = "classical", ["金属"] = "metal", ["朋克"] = "punk", ["民谣"] = "folk", ["乡村"] = "country",
        ["蓝调"] = "blues", ["布鲁斯"] = "blues", ["雷鬼"] = "reggae", ["灵魂乐"] = "soul", ["独立"] = "indie", ["另类"] = "alternative",
        ["舞曲"] = "dance", ["氛围"] = "ambient", ["实验"] = "experimental", ["原声"] = "soundtrack", ["配乐"] = "soundtrack score",
        ["歌剧"] = "opera", ["福音"] = "gospel", ["拉丁"] = "latin", ["后摇"] = "post-rock", ["硬核"] = "hardcore", ["工业"] = "industrial",
        // longer words that contain a genre name but are not that genre (the longest match wins; "" names nothing)
        ["电子游戏"] = "video game games", ["电子书"] = "e-book ebook", ["自然而然"] = "", ["流行病"] = "epidemic", ["实验室"] = "laboratory lab",
    };

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

    /// <summary>
    /// Phrases and the catalogue words they stand for (space-separated), looked up in a clause's content before the
    /// lexical guard and word steering read it: keys without Latin letters are matched longest first, left to right
    /// (Chinese has no spaces: 电子游戏, video games, is read as itself, not as 电子, electronic; a key mapped to "" names
    /// nothing and only keeps its parts from matching), a Latin key as a whole word, case-insensitively. The default maps common Chinese genre names of films,
    /// music and books to their English words (爱情 → romance, 科幻 → sci-fi science fiction, 摇滚 → rock); extend it for
    /// a catalogue's own vocabulary (<c>Glossary = new Dictionary&lt;string, string&gt;(ConceptCues.DefaultGlossary) { ["赛博朋克"] = "cyberpunk" }</c>)
    /// or set it empty to turn it off. Words a catalogue does not contain name nothing.
    /// </summary>
    public IReadOnlyDictionary<string, string> Glossary { get; init; } = DefaultGlossary;

    /// <summary>
    /// <paramref name="text"/> followed by the <see cref="Glossary"/> words of every phrase it contains (itself when none
    /// is): what the lexical guard and word steering read.
    /// </summary>
    public string WithGlossary(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Glossary is not { Count: > 0 } || text.Length == 0) return text;
        StringBuilder? sb = null;
        var added = new HashSet<string>(StringComparer.Ordinal);
        void Add(string words)
        {
            if (words.Length > 0 && added.Add(words)) (sb ??= new StringBuilder(text)).Append(' ').Append(words);
        }
        foreach (var (phrase, words) in Glossary)
            if (!string.IsNullOrEmpty(phrase) && words is not null && IsLatin(phrase) && ContainsWord(text, phrase)) Add(words);
        // The other keys: forward maximum matching, the longest key at each position, then past it.
        int longest = Glossary.Keys.Where(k => !string.IsNullOrEmpty(k) && !IsLatin(k)).Select(k => k.Length).DefaultIfEmpty(0).Max();
        for (int at = 0; at < text.Length && longest > 0;)
        {
            int matched = 0;
            for (int n = Math.Min(longest, text.Length - at); n > 0 && matched == 0; n--)
                if (text.Substring(at, n) is var key && !IsLatin(key) && Glossary.TryGetValue(key, out var words) && words is not null)
                {
                    Add(words);
                    matched = n;
                }
            at += Math.Max(1, matched);
        }
        return sb?.ToString() ?? text;
    }

    private static bool IsLatin(string phrase) => phrase.Any(c => c < 0x3000 && char.IsLetter(c));

    private static bool ContainsWord(string text, string phrase)
    {
        for (int at = text.IndexOf(phrase, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(phrase, at + 1, StringComparison.OrdinalIgnoreCase))
        {
            bool startOk = at == 0 || !char.IsLetterOrDigit(text[at - 1]);
            int end = at + phrase.Length;
            bool endOk = end == text.Length || !char.IsLetterOrDigit(text[end]);
            if (startOk && endOk) return true;
        }
        return false;
    }
}
