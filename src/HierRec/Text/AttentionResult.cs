using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>The context vectors of an attention block and, when asked for, its attention weights.</summary>
/// <param name="Context">(batch, length, H).</param>
/// <param name="Probabilities">(batch, heads, length, length), or null.</param>
public readonly record struct AttentionResult(Tensor Context, Tensor? Probabilities);
