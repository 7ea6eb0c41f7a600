namespace HierRec.Text;

/// <summary>Options of <see cref="BertTokenizer"/>. Defaults are those of bert-base-uncased.</summary>
public sealed class BertTokenizerOptions
{
    /// <summary>Lower-case the text (then strip accents, unless <see cref="StripAccents"/> is false). Default true.</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary>Strip accents: null follows <see cref="LowerCase"/> (Hugging Face's convention). Default null.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>Put spaces around CJK ideographs so each is its own token. Default true.</summary>
    public bool TokenizeChineseChars { get; init; } = true;

    /// <summary>Words longer than this many code points become [UNK]. Default 100.</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;

    /// <summary>Special tokens, matched verbatim in the input before normalisation.</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
}
