namespace HierRec.Text;

/// <summary>One encoded input: ids with [CLS]/[SEP], token type ids and the attention mask (1 for tokens, 0 for padding).</summary>
/// <param name="Ids">Token ids.</param>
/// <param name="TypeIds">0 for the first segment, 1 for the second.</param>
/// <param name="AttentionMask">1 for real tokens, 0 for padding.</param>
public sealed record TokenizedText(int[] Ids, int[] TypeIds, int[] AttentionMask);
