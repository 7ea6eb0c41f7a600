using System.Buffers;
using System.Text;

namespace HierRec.Text;

// Hugging Face's WordPiece decoder: pieces joined with spaces, "##" continuations glued on, then (by default) the
// clean_up_tokenization_spaces rules (" ." → ".", " n't" → "n't" …).
public sealed partial class BertTokenizer
{
    /// <summary>Decodes ids to text, special tokens included (Hugging Face's default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public override string Decode(IEnumerable<int> ids) => Decode(ids, skipSpecialTokens: false);

    /// <summary>Decodes ids to text; <paramref name="skipSpecialTokens"/> leaves out [CLS], [SEP], [PAD] and the other special tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new StringBuilder();
        string prefix = _options.ContinuingSubwordPrefix;
        foreach (int id in ids)
        {
            string token = Token(id);
            if (skipSpecialTokens && _specialIds.Contains(id)) continue;
            if (token.StartsWith(prefix, StringComparison.Ordinal) && token.Length > prefix.Length && sb.Length > 0) sb.Append(token, prefix.Length, token.Length - prefix.Length);
            else
            {
                if (sb.Length > 0) sb.Append(' ');
                sb.Append(token);
            }
        }
        return _options.CleanUpTokenizationSpaces ? CleanUp(sb) : sb.ToString();
    }

    /// <summary>
    /// Decodes into <paramref name="destination"/>: as many leading ids as fit (<paramref name="idsConsumed"/>), so that
    /// the text written is <see cref="Decode(IEnumerable{int})"/> of those ids.
    /// </summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var list = ids as IReadOnlyList<int> ?? ids.ToArray();
        string all = Decode(list);
        if (all.Length <= destination.Length)
        {
            all.CopyTo(destination);
            (idsConsumed, charsWritten) = (list.Count, all.Length);
            return OperationStatus.Done;
        }
        // The longest prefix of ids whose text fits (text length grows with the number of ids).
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Decode(list.Take(mid)).Length <= destination.Length) lo = mid; else hi = mid - 1;
        }
        string part = Decode(list.Take(lo));
        part.CopyTo(destination);
        (idsConsumed, charsWritten) = (lo, part.Length);
        return OperationStatus.DestinationTooSmall;
    }

    private static string CleanUp(StringBuilder sb) => sb
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
        .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re").ToString();
}
