namespace HierRec.Text;

/// <summary>How token vectors become one vector per text.</summary>
public enum PoolingKind
{
    /// <summary>The [CLS] token's vector.</summary>
    Cls,

    /// <summary>The mean of the non-padding token vectors.</summary>
    Mean,

    /// <summary>A learned attention pooling (<see cref="AttentionPooling"/>).</summary>
    Attention,

    /// <summary>Hugging Face's pooler: tanh(W h[CLS] + b); needs a model with a pooler.</summary>
    Pooler,
}
