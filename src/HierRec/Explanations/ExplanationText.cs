using System.Globalization;
using System.Net;
using System.Text;

namespace HierRec.Explanations;

/// <summary>Human-readable forms of <see cref="Explanation"/>s: a sentence and a self-contained HTML report.</summary>
public static class ExplanationText
{
    private static readonly Dictionary<string, string> Reasons = new(StringComparer.Ordinal)
    {
        ["behaviour"] = "your history", ["profile"] = "your profile", ["social"] = "your friends",
        ["concept"] = "your description", ["context"] = "the moment",
    };

    /// <summary>
    /// "Recommended mainly for your history (62%): you watched Heat (1995) and Se7en (1995); also your profile (30%)."
    /// </summary>
    /// <param name="explanation">What to say.</param>
    /// <param name="itemName">Display name of an item id (the id itself when null).</param>
    /// <param name="userName">Display name of a user id (the id itself when null).</param>
    public static string ToSentence(Explanation explanation, Func<string, string>? itemName = null, Func<string, string>? userName = null)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        itemName ??= id => id;
        userName ??= id => id;
        var shares = explanation.ScoreShares.Where(p => p.Value > 0.005).OrderByDescending(p => p.Value).ToArray();
        var sb = new StringBuilder();
        if (shares.Length == 0) return $"{itemName(explanation.ItemId)} ranks #{explanation.Rank} (P = {Percent(explanation.Probability)}); no single reason stands out.";
        for (int k = 0; k < shares.Length; k++)
        {
            var (layer, share) = (shares[k].Key, shares[k].Value);
            sb.Append(k == 0 ? "Recommended mainly for " : k == 1 ? "; also " : ", ");
            sb.Append(Reasons.GetValueOrDefault(layer, layer)).Append(" (").Append(Percent(share)).Append(')');
            string detail = layer switch
            {
                "behaviour" => Join(explanation.HistoryAttributions.Where(a => a.Value > 0).Take(2).Select(a => itemName(a.Id)), "you watched "),
                "social" => Join(explanation.FriendAttributions.Where(a => a.Value > 0).Take(2).Select(a => userName(a.Id)), "like "),
                "concept" when explanation.Concept is { } c => Join(c.PositiveTokens.OrderByDescending(t => t.Weight).Take(2).Select(t => $"\"{t.Token}\""), "you asked for "),
                _ => "",
            };
            if (detail.Length > 0) sb.Append(k == 0 ? ": " : " — ").Append(detail);
        }
        sb.Append('.');
        return sb.ToString();
    }

    private static string Percent(double share) => (share * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";

    private static string Join(IEnumerable<string> parts, string prefix)
    {
        var list = parts.ToArray();
        return list.Length switch { 0 => "", 1 => prefix + list[0], _ => prefix + string.Join(", ", list[..^1]) + " and " + list[^1] };
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
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#222}section{border-top:1px solid #ddd;padding:1em 0}")
          .Append("h2{font-size:1.1em;margin:.2em 0}.meta{color:#666;font-size:.9em}.why{margin:.4em 0}svg text{font-size:11px;font-family:inherit}")
          .Append("</style></head><body><h1>").Append(E(title)).Append("</h1>");
        foreach (var e in explanations)
        {
            sb.Append("<section><h2>#").Append(e.Rank).Append(' ').Append(E(itemName(e.ItemId))).Append("</h2><div class=\"meta\">score ")
              .Append(e.Score.ToString("F3", CultureInfo.InvariantCulture)).Append(" · P(i|u) ").Append(e.Probability.ToString("P2", CultureInfo.InvariantCulture))
              .Append("</div><p class=\"why\">").Append(E(ToSentence(e, itemName, userName))).Append("</p>");
            Bars(sb, "Share of the score", e.ScoreShares.Select(p => (p.Key, p.Value)).ToList(), percent: true);
            Bars(sb, "History items (gradient × input)", e.HistoryAttributions.Take(8).Select(a => (itemName(a.Id), a.Value)).ToList(), percent: false);
            if (e.FriendAttributions.Count > 0)
                Bars(sb, "Friends (score drop without them)", e.FriendAttributions.Take(5).Select(a => (userName(a.Id), a.Value)).ToList(), percent: false);
            if (e.Concept is { } c && c.PositiveTokens.Count > 0)
                Bars(sb, "Description tokens (attention)", c.PositiveTokens.Select(t => (t.Token, t.Weight)).ToList(), percent: true);
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
