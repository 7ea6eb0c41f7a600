namespace HierRec.Text;

/// <summary>Which fine-tuning mode a <see cref="BertFineTuning"/> describes.</summary>
public enum FineTuningKind
{
    /// <summary>Every parameter trains.</summary>
    Full,

    /// <summary>Nothing in BERT trains (feature extraction).</summary>
    Frozen,

    /// <summary>The embeddings and the bottom N layers are frozen; the layers above and the pooler train.</summary>
    FreezeBottom,

    /// <summary>LoRA adapters on query and value train; the base weights are frozen.</summary>
    Lora,
}
