namespace HierRec.Text;

/// <summary>Size and training of a domain BERT pre-trained from scratch on the domain's own texts.</summary>
public sealed record DomainBertOptions
{
    /// <summary>WordPiece vocabulary size (special tokens included). Default 4,000.</summary>
    public int VocabularySize { get; init; } = 4000;

    /// <summary>Hidden size. Default 64.</summary>
    public int HiddenSize { get; init; } = 64;

    /// <summary>Layers. Default 2.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Heads. Default 2.</summary>
    public int Heads { get; init; } = 2;

    /// <summary>Longest text in tokens. Default 48.</summary>
    public int MaxLength { get; init; } = 48;

    /// <summary>MLM epochs. Default 8.</summary>
    public int Epochs { get; init; } = 8;

    /// <summary>Lower-case text (English). Default true.</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary>Share of texts held out to measure perplexity. Default 0.1.</summary>
    public double HeldOutShare { get; init; } = 0.1;

    /// <summary>Seed. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Checks every option's range (called by Pretrain and Fit).</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its range.</exception>
    public void Validate()
    {
        OptionChecks.Range("DomainBertOptions.VocabularySize", VocabularySize, 16, 1_000_000);
        OptionChecks.Range("DomainBertOptions.HiddenSize", HiddenSize, 1, 4096);
        OptionChecks.Range("DomainBertOptions.Layers", Layers, 1, 48);
        OptionChecks.Range("DomainBertOptions.Heads", Heads, 1, HiddenSize);
        if (HiddenSize % Heads != 0) throw new ArgumentOutOfRangeException("DomainBertOptions.Heads", Heads, $"DomainBertOptions.Heads ({Heads}) must divide HiddenSize ({HiddenSize}).");
        OptionChecks.Range("DomainBertOptions.MaxLength", MaxLength, 4, 8192);
        OptionChecks.Range("DomainBertOptions.Epochs", Epochs, 0, 100_000);
        OptionChecks.Range("DomainBertOptions.HeldOutShare", HeldOutShare, 0, 1, maxExclusive: true);
    }
}
