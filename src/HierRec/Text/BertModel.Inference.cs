using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Text;

public sealed partial class BertModel
{
    /// <summary>
    /// Encodes texts into one vector each, under no-grad and in eval mode (restored afterwards), batching texts of
    /// similar length together (sorted by token count) to cut padding. Row i of the (n, H) result is texts[i].
    /// </summary>
    /// <param name="texts">Texts to encode.</param>
    /// <param name="pooling">Pooling of token vectors (Cls, Mean or Pooler; Attention needs <paramref name="attention"/>).</param>
    /// <param name="batchSize">Texts per forward pass.</param>
    /// <param name="maxLength">Truncation length in tokens (at most max_position_embeddings).</param>
    /// <param name="attention">An attention pooling module, for <see cref="PoolingKind.Attention"/>.</param>
    /// <exception cref="InvalidOperationException">No tokenizer is attached.</exception>
    public Tensor EncodeTexts(IReadOnlyList<string> texts, PoolingKind pooling = PoolingKind.Mean, int batchSize = 32, int maxLength = 128,
        AttentionPooling? attention = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var tokenizer = Tokenizer ?? throw new InvalidOperationException("EncodeTexts needs a tokenizer: set BertModel.Tokenizer or load a folder with vocab.txt.");
        maxLength = Math.Min(maxLength, Config.MaxPositionEmbeddings);
        var encodings = new TokenizedText[texts.Count];
        for (int i = 0; i < texts.Count; i++)
            encodings[i] = tokenizer.Encode(texts[i] ?? throw new ArgumentException($"texts[{i}] is null.", nameof(texts)), maxLength: maxLength);
        return EncodeBatched(encodings, pooling, batchSize, attention);
    }

    /// <summary>As <see cref="EncodeTexts"/>, from encodings (unpadded, or padded with mask 0).</summary>
    public Tensor EncodeBatched(IReadOnlyList<TokenizedText> encodings, PoolingKind pooling = PoolingKind.Mean, int batchSize = 32,
        AttentionPooling? attention = null)
    {
        ArgumentNullException.ThrowIfNull(encodings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int n = encodings.Count;
        var order = Enumerable.Range(0, n).OrderBy(i => encodings[i].AttentionMask.Sum()).ToArray();
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var result = torch.zeros(n, Config.HiddenSize, device: Device); // (n, H)
            for (int start = 0; start < n; start += batchSize)
            {
                using var step = torch.NewDisposeScope();
                int count = Math.Min(batchSize, n - start);
                var chunk = new TokenizedText[count];
                for (int j = 0; j < count; j++) chunk[j] = Trim(encodings[order[start + j]]);
                var batch = BertBatch.FromEncodings(chunk, Config.PadTokenId);
                var (ids, types, mask) = ToTensors(batch);
                using var output = Forward(ids, types, mask);
                var pooled = BertPooling.Pool(pooling, output.LastHiddenState, mask, Pooler, attention); // (count, H)
                var rows = torch.tensor(order[start..(start + count)].Select(i => (long)i).ToArray(), device: Device);
                result.index_copy_(0, rows, pooled);
            }
            return result.MoveToOuterDisposeScope();
        }
        finally
        {
            train(wasTraining);
        }
    }

    private static TokenizedText Trim(TokenizedText e)
    {
        int len = e.AttentionMask.Length;
        while (len > 1 && e.AttentionMask[len - 1] == 0) len--;
        return len == e.Ids.Length ? e : new TokenizedText(e.Ids[..len], e.TypeIds[..len], e.AttentionMask[..len]);
    }
}
