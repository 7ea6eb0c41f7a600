using System.Globalization;
using System.Net;
using System.Text;

namespace HierRec.Explanations;

/// <summary>Human-readable forms of <see cref="Explanation"/>s: a sentence and a self-contained HTML report.</summary>
public static class ExplanationText
{
    private sealed record Words(string Lang, Dictionary<string, string> Reasons, string Mainly, string Also, string Then, string Detail, string Next,
        string End, string Watched, string Like, string AskedFor, string Open, string Close, string And, string Comma, string NoReason,
        string ScoreShare, string HistoryBars, string FriendBars, string DescriptionBars, string WordBars);

    private static readonly Words English = new("en", new(StringComparer.Ordinal)
    {
        ["behaviour"] = "your history", ["profile"] = "your profile", ["social"] = "your friends", ["concept"] = "your description", ["context"] = "the moment",
        ["item dynamics"] = "what is being watched now", ["collaborative"] = "what people with your items also chose",
        ["sequential"] = "what tends to come next after your latest items", ["popular"] = "what most people like",
        ["friends' items"] = "what your friends chose", ["like-minded"] = "what people who describe their taste as you do chose",
    }, "Recommended mainly for ", "; also ", ", ", ": ", " — ", ".", "you watched ", "like ", "you asked for ", "\"", "\"", " and ", ", ",
        "{0} ranks #{1} (P = {2}); no single reason stands out.", "Share of the score", "History items (gradient × input)",
        "Friends (score drop without them)", "Description words (attention)", "Description words (score drop without them)");

    private static readonly Words Chinese = new("zh", new(StringComparer.Ordinal)
    {
        ["behaviour"] = "你的历史", ["profile"] = "你的资料", ["social"] = "你的朋友", ["concept"] = "你的描述", ["context"] = "此刻", ["item dynamics"] = "近来的热度", ["collaborative"] = "与你选择相同的人也选了它", ["sequential"] = "你最近看过的内容之后常看的", ["popular"] = "大多数人喜欢的",
        ["friends' items"] = "你的朋友选过的", ["like-minded"] = "描述与你相近的人选过的",
    }, "主要因为", "；其次是", "、", "：", "——", "。", "你看过", "比如", "你想要", "“", "”", "和", "、",
        "{0} 排第 {1} 位（P = {2}），没有哪一个原因特别突出。", "分数的构成", "历史条目（梯度 × 输入）", "朋友（去掉后分数的下降）", "描述中的词（注意力）", "描述中的词（去掉后分数的下降）");

    /// <summary>Chinese when the description (if any) is written in Chinese, English otherwise.</summary>
    private static Words For(Explanation e) => e.Concept?.Description is { } d && d.Any(c => c is >= '\u4E00' and <= '\u9FFF') ? Chinese : English;

    /// <summary>
    /// "Recommended mainly for your history (62%): you watched Heat (1995) and Se7en (1995); also your profile (30%)." — or,
    /// for a description written in Chinese, "主要因为你的历史（62%）：你看过 …；其次是你的描述（30%）——你想要“悬疑电影”。"
    /// </summary>
    /// <param name="explanation">What to say.</param>
    /// <param name="itemName">Display name of an item id (the id itself when null).</param>
    /// <param name="userName">Display name of a user id (the id itself when null).</param>
    public static string ToSentence(Explanation explanation, Func<string, string>? itemName = null, Func<string, string>? userName = null)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        itemName ??= id => id;
        userName ??= id => id;
        var w = For(explanation);
        var shares = explanation.ScoreShares.Where(p => p.Value > 0.005).OrderByDescending(p => p.Value).ToArray();
        var sb = new StringBuilder();
        if (shares.Length == 0) return string.Format(CultureInfo.InvariantCulture, w.NoReason, itemName(explanation.ItemId), explanation.Rank, Percent(explanation.Probability));
        bool zh = w.Lang == "zh";
        for (int k = 0; k < shares.Length; k++)
        {
            var (layer, share) = (shares[k].Key, shares[k].Value);
            sb.Append(k == 0 ? w.Mainly : k == 1 ? w.Also : w.Then);
            sb.Append(w.Reasons.GetValueOrDefault(layer, layer)).Append(zh ? "（" : " (").Append(Percent(share)).Append(zh ? '）' : ')');
            string detail = layer switch
            {
                "behaviour" => Join(Leading(explanation.HistoryAttributions, a => a.Value).Select(a => itemName(a.Id)), w.Watched, w),
                "collaborative" when explanation.CollaborativeAttributions is { } co => Join(Leading(co, a => a.Value).Select(a => itemName(a.Id)), w.Watched, w),
                "sequential" when explanation.SequentialAttributions is { } sq => Join(Leading(sq, a => a.Value).Select(a => itemName(a.Id)), w.Watched, w),
                "social" => Join(Leading(explanation.FriendAttributions, a => a.Value).Select(a => userName(a.Id)), w.Like, w),
                "friends' items" when explanation.FriendItemAttributions is { } fi => Join(Leading(fi, a => a.Value).Select(a => userName(a.Id)), w.Like, w),
                "concept" when explanation.Concept is { } c => Join(Leading(Nameable(c), t => t.Weight).Select(t => w.Open + t.Token + w.Close), w.AskedFor, w),
                _ => "",
            };
            if (detail.Length > 0) sb.Append(k == 0 ? w.Detail : w.Next).Append(detail);
        }
        sb.Append(w.End);
        return sb.ToString();
    }

    /// <summary>
    /// What a sentence names for a layer: the one or two parts that pushed the score up most, the second only when it
    /// did at least <see cref="SecondNameShare"/> of what the first did (a word worth 0.3 % of the first, such as "films"
    /// beside "mystery", is not what the user asked for).
    /// </summary>
    private static IEnumerable<T> Leading<T>(IEnumerable<T> parts, Func<T, double> weight)
    {
        var top = parts.Where(p => weight(p) > 0).OrderByDescending(weight).Take(2).ToArray();
        return top.Length == 2 && weight(top[1]) < SecondNameShare * weight(top[0]) ? top[..1] : top;
    }

    /// <summary>
    /// The words a sentence may name as what the user asked for: the attributed words (else the pooled tokens) without
    /// the domain's generic words ("films"). When only generic words pushed the score up, the sentence names no word.
    /// </summary>
    private static IEnumerable<Concepts.TokenWeight> Nameable(ConceptExplanation concept)
    {
        var words = concept.WordAttributions is { Count: > 0 } attributed ? attributed : concept.PositiveTokens;
        return concept.GenericWords is { Count: > 0 } generic ? words.Where(t => !generic.Contains(t.Token, StringComparer.OrdinalIgnoreCase)) : words;
    }

    /// <summary>The least a second named part did, as a share of the first's (see <see cref="Leading"/>).</summary>
    internal const double SecondNameShare = 0.1;

    private static string Percent(double share) => (share * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";

    private static string Join(IEnumerable<string> parts, string prefix, Words w)
    {
        var list = parts.ToArray();
        return list.Length switch { 0 => "", 1 => prefix + list[0], _ => prefix + string.Join(w.Comma, list[..^1]) + w.And + list[^1] };
    }

    /// <summary>
    /// A self-contained HTML page (inline CSS and SVG, no external assets) of a user's recommendations: per item the score,
    /// P(i|u), the sentence, bars of the layers' shares, and signed bars of the history items and friends that moved the score.
    /// </summary>
    public static string ToHtml(string title, IReadOnlyList<Explanation> explanations, Func<string, string>? itemName = null, Func<string, string>? userName = null)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(explanations);
        itemName ??= id => id;
        userName ??= id => id;
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        var page = explanations.Count > 0 && explanations.All(e => For(e) == Chinese) ? Chinese : English;
        sb.Append("<!DOCTYPE html><html lang=\"").Append(page.Lang).Append("\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#222}section{border-top:1px solid #ddd;padding:1em 0}")
          .Append("h2{font-size:1.1em;margin:.2em 0}.meta{color:#666;font-size:.9em}.why{margin:.4em 0}svg text{font-size:11px;font-family:inherit}")
          .Append("</style></head><body><h1>").Append(E(title)).Append("</h1>");
        foreach (var e in explanations)
        {
            var w = For(e);
            sb.Append("<section><h2>#").Append(e.Rank).Append(' ').Append(E(itemName(e.ItemId))).Append("</h2><div class=\"meta\">score ")
              .Append(e.Score.ToString("F3", CultureInfo.InvariantCulture)).Append(" · P(i|u) ").Append(e.Probability.ToString("P2", CultureInfo.InvariantCulture))
              .Append("</div><p class=\"why\">").Append(E(ToSentence(e, itemName, userName))).Append("</p>");
            Bars(sb, w.ScoreShare, e.ScoreShares.Select(p => (w.Reasons.GetValueOrDefault(p.Key, p.Key), p.Value)).ToList(), percent: true);
            Bars(sb, w.HistoryBars, e.HistoryAttributions.Take(8).Select(a => (itemName(a.Id), a.Value)).ToList(), percent: false);
            if (e.FriendAttributions.Count > 0)
                Bars(sb, w.FriendBars, e.FriendAttributions.Take(5).Select(a => (userName(a.Id), a.Value)).ToList(), percent: false);
            if (e.Concept is { WordAttributions.Count: > 0 } attributed)
                Bars(sb, w.WordBars, attributed.WordAttributions!.Select(t => (t.Token, t.Weight)).ToList(), percent: false);
            else if (e.Concept is { } c && c.PositiveTokens.Count > 0)
                Bars(sb, w.DescriptionBars, c.PositiveTokens.Select(t => (t.Token, t.Weight)).ToList(), percent: true);
            sb.Append("</section>");
        }
        sb.Append("</body></html>");
        return sb.ToString();
    }

    /// <summary>Signed horizontal bars: positive values green to the right of the axis, negative red to the left.</summary>
    private static void Bars(StringBuilder sb, string caption, List<(string Label, double Value)> rows, bool percent)
    {
        if (rows.Count == 0) return;
        static string E(string s) => WebUtility.HtmlEncode(s);
        const int labelWidth = 220, barWidth = 260, rowHeight = 18;
        double max = Math.Max(1e-12, rows.Max(r => Math.Abs(r.Value)));
        bool signed = rows.Any(r => r.Value < 0);
        int axis = labelWidth + (signed ? barWidth / 2 : 0), span = signed ? barWidth / 2 : barWidth;
        int height = rowHeight * rows.Count + 18;
        var inv = CultureInfo.InvariantCulture;
        sb.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(labelWidth + barWidth + 70).Append("\" height=\"").Append(height)
          .Append("\" role=\"img\" aria-label=\"").Append(E(caption)).Append("\"><text x=\"0\" y=\"12\" font-weight=\"bold\">").Append(E(caption)).Append("</text>");
        for (int r = 0; r < rows.Count; r++)
        {
            var (label, value) = rows[r];
            int y = 18 + r * rowHeight;
            double w = Math.Abs(value) / max * span;
            double x = value >= 0 ? axis : axis - w;
            string text = label.Length > 34 ? label[..33] + "…" : label;
            sb.Append("<text x=\"0\" y=\"").Append(y + 12).Append("\">").Append(E(text)).Append("</text>")
              .Append("<rect x=\"").Append(x.ToString("F1", inv)).Append("\" y=\"").Append(y + 2).Append("\" width=\"").Append(w.ToString("F1", inv))
              .Append("\" height=\"").Append(rowHeight - 5).Append("\" fill=\"").Append(value >= 0 ? "#3a7d44" : "#b23a48").Append("\"/>")
              .Append("<text x=\"").Append(labelWidth + barWidth + 4).Append("\" y=\"").Append(y + 12).Append("\">")
              .Append(percent ? Percent(value) : value.ToString("+0.000;-0.000", inv)).Append("</text>");
        }
        sb.Append("<line x1=\"").Append(axis).Append("\" y1=\"16\" x2=\"").Append(axis).Append("\" y2=\"").Append(height).Append("\" stroke=\"#999\"/></svg>");
    }
}
