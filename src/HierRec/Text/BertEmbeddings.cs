using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>Word + position + token-type embeddings, then LayerNorm and dropout (<c>embeddings.*</c>).</summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the block with N(0, initializer_range) tables and the [PAD] row zeroed, as Hugging Face does.</summary>
    public BertEmbeddings(BertConfig config, Generator? generator = null) : base(nameof(BertEmbeddings))
    {
        ArgumentNullException.ThrowIfNull(config);
        double std = config.InitializerRange;
        WordEmbeddings = nn.Embedding(config.VocabSize, config.HiddenSize);                 // (vocab, H)
        PositionEmbeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize); // (max positions, H)
        TokenTypeEmbeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);        // (type vocab, H)
        using (torch.NewDisposeScope()) // the getters' fresh wrappers (and zero_'s) die here, not on the finalizer thread
        using (torch.no_grad())
        {
            WordEmbeddings.weight!.normal_(0, std, generator);
            PositionEmbeddings.weight!.normal_(0, std, generator);
            TokenTypeEmbeddings.weight!.normal_(0, std, generator);
            WordEmbeddings.weight![config.PadTokenId].zero_();
        }
        LayerNorm = nn.LayerNorm([config.HiddenSize], config.LayerNormEps);
        Dropout = nn.Dropout(config.HiddenDropoutProb);
        register_module("word_embeddings", WordEmbeddings);
        register_module("position_embeddings", PositionEmbeddings);
        register_module("token_type_embeddings", TokenTypeEmbeddings);
        register_module("LayerNorm", LayerNorm);
        register_module("dropout", Dropout);
    }

    /// <summary>(vocab, H) word table.</summary>
    public Embedding WordEmbeddings { get; }

    /// <summary>(max positions, H) position table.</summary>
    public Embedding PositionEmbeddings { get; }

    /// <summary>(type vocab, H) segment table.</summary>
    public Embedding TokenTypeEmbeddings { get; }

    /// <summary>Norm of the summed embeddings.</summary>
    public LayerNorm LayerNorm { get; }

    /// <summary>Hidden dropout.</summary>
    public Dropout Dropout { get; }

    /// <summary>ids (B, T) and token types (B, T), int64 → (B, T, H).</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var scope = torch.NewDisposeScope();
        long t = inputIds.shape[1];
        var positions = Scalars.Arange(t, inputIds.device); // (T)
        var x = WordEmbeddings.forward(inputIds).Plus(TokenTypeEmbeddings.forward(tokenTypeIds))
            .Plus(PositionEmbeddings.forward(positions));                                   // (B, T, H)
        return Dropout.forward(LayerNorm.forward(x)).MoveToOuterDisposeScope();
    }
}
