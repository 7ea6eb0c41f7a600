namespace HierRec.Text;

/// <summary>What a load did besides copying tensors.</summary>
/// <param name="Source">The weights file(s).</param>
/// <param name="IgnoredTensors">Checkpoint tensors that belong to task heads or are buffers (cls.*, position_ids, …).</param>
/// <param name="MissingHeads">Head parameters the checkpoint lacked (only with <see cref="BertLoadOptions.AllowMissingHeads"/>).</param>
public sealed record BertLoadReport(string Source, IReadOnlyList<string> IgnoredTensors, IReadOnlyList<string> MissingHeads);
