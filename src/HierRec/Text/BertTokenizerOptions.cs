namespace HierRec.Text;

/// <summary>
/// Options of <see cref="BertTokenizer"/>, named after the Hugging Face fields they mirror (tokenizer_config.json and
/// tokenizer.json's BertNormalizer / WordPiece). Defaults are those of bert-base-uncased.
/// </summary>
public sealed class BertTokenizerOptions
{
    /// <summary>Lower-case the text (then strip accents, unless <see cref="StripAccents"/> is false). HF <c>do_lower_case</c> / <c>lowercase</c>. Default true.</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary>Strip accents (NFD, then drop non-spacing marks): null follows <see cref="LowerCase"/>, Hugging Face's convention. HF <c>strip_accents</c>. Default null.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>Put spaces around CJK ideographs so each is its own token. HF <c>tokenize_chinese_chars</c> / <c>handle_chinese_chars</c>. Default true.</summary>
    public bool TokenizeChineseChars { get; init; } = true;

    /// <summary>Remove control characters (and NUL, U+FFFD, unassigned code points) and map every whitespace to a space. HF <c>clean_text</c>. Default true.</summary>
    public bool CleanText { get; init; } = true;

    /// <summary>Words longer than this many code points become [UNK]. HF <c>max_input_chars_per_word</c>. Default 100.</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;

    /// <summary>Prefix of word-internal pieces. HF <c>continuing_subword_prefix</c>. Default "##".</summary>
    public string ContinuingSubwordPrefix { get; init; } = "##";

    /// <summary>The unknown token. HF <c>unk_token</c>. Default "[UNK]".</summary>
    public string UnknownToken { get; init; } = "[UNK]";

    /// <summary>The classification token that starts every encoding. HF <c>cls_token</c>. Default "[CLS]".</summary>
    public string ClassificationToken { get; init; } = "[CLS]";

    /// <summary>The separator token that ends each segment. HF <c>sep_token</c>. Default "[SEP]".</summary>
    public string SeparatorToken { get; init; } = "[SEP]";

    /// <summary>The padding token. HF <c>pad_token</c>. Default "[PAD]".</summary>
    public string PaddingToken { get; init; } = "[PAD]";

    /// <summary>The masking token of masked-language-model pre-training. HF <c>mask_token</c>. Default "[MASK]".</summary>
    public string MaskingToken { get; init; } = "[MASK]";

    /// <summary>
    /// Special tokens, matched verbatim in the input before normalisation (leftmost, longest first). The five named
    /// tokens above are always matched too; this list sets their order in a vocabulary trained by
    /// <see cref="WordPieceTrainer"/> and adds any others (HF <c>additional_special_tokens</c>).
    /// </summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <summary>The model's maximum sequence length, when the folder states one. HF <c>model_max_length</c>. Default null (none).</summary>
    public int? ModelMaxLength { get; init; }

    /// <summary>Decoding joins "word ." into "word." and similar, as Hugging Face's <c>clean_up_tokenization_spaces</c>. Default true.</summary>
    public bool CleanUpTokenizationSpaces { get; init; } = true;

    /// <summary>The special tokens in order: <see cref="SpecialTokens"/>, then any named token not already listed.</summary>
    internal IReadOnlyList<string> AllSpecialTokens()
    {
        var all = new List<string>(SpecialTokens);
        foreach (var t in new[] { PaddingToken, UnknownToken, ClassificationToken, SeparatorToken, MaskingToken })
            if (!all.Contains(t)) all.Add(t);
        return all;
    }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInputCharsPerWord, 1, nameof(MaxInputCharsPerWord));
        ArgumentException.ThrowIfNullOrEmpty(ContinuingSubwordPrefix, nameof(ContinuingSubwordPrefix));
        ArgumentNullException.ThrowIfNull(SpecialTokens, nameof(SpecialTokens));
        foreach (var (name, value) in new[] { (nameof(UnknownToken), UnknownToken), (nameof(ClassificationToken), ClassificationToken),
                     (nameof(SeparatorToken), SeparatorToken), (nameof(PaddingToken), PaddingToken), (nameof(MaskingToken), MaskingToken) })
            ArgumentException.ThrowIfNullOrEmpty(value, name);
        foreach (var s in SpecialTokens)
            if (string.IsNullOrEmpty(s)) throw new ArgumentException("SpecialTokens contains an empty token.", nameof(SpecialTokens));
        if (ModelMaxLength is int m) ArgumentOutOfRangeException.ThrowIfLessThan(m, 2, nameof(ModelMaxLength));
    }
}
