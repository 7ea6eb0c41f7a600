using HierRec.Data;

namespace HierRec.Items;

/// <summary>Turns item side information into the text BERT reads.</summary>
public static class ItemTexts
{
    /// <summary>
    /// One text per item: every text column (title, name, description, …, in column order) joined by ". ", then every tag
    /// column as "name: a, b". Items with nothing get an empty string.
    /// </summary>
    public static string[] FromFeatures(FeatureTable features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var texts = features.TextColumns.Order(StringComparer.Ordinal).Select(features.Text).ToArray();
        var tags = features.TagColumns.Order(StringComparer.Ordinal).Select(c => (Name: c, Values: features.Tags(c))).ToArray();
        var result = new string[features.Count];
        for (int i = 0; i < features.Count; i++)
        {
            var parts = texts.Select(t => t[i]).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s!.Trim()).ToList();
            foreach (var (name, values) in tags)
                if (values[i].Length > 0) parts.Add($"{name}: {string.Join(", ", values[i])}");
            result[i] = string.Join(". ", parts);
        }
        return result;
    }
}
