namespace HierRec.Text;

/// <summary>Options of <see cref="BertModel.Load"/>.</summary>
public sealed class BertLoadOptions
{
    /// <summary>
    /// Accept a checkpoint without the pooler (for example one saved from a masked-LM model): the pooler keeps its random
    /// initialisation and is listed in <see cref="BertLoadReport.MissingHeads"/>. Default false: a missing pooler is an error.
    /// </summary>
    public bool AllowMissingHeads { get; init; }

    /// <summary>Create the model without a pooler, ignoring pooler tensors in the checkpoint. Default false.</summary>
    public bool WithoutPooler { get; init; }

    /// <summary>Load the folder's tokenizer (<see cref="BertTokenizer.FromFolder"/>: tokenizer.json, or vocab.txt with tokenizer_config.json) into <see cref="BertModel.Tokenizer"/> when the folder carries one; a folder with neither file loads without a tokenizer. Default true.</summary>
    public bool LoadTokenizer { get; init; } = true;
}
