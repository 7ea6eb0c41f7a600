using HierRec.Tensors;

namespace HierRec;

/// <summary>
/// Encodes a batch of inputs (users, items, descriptions, contexts) into a batch of vectors.
/// </summary>
/// <typeparam name="TInput">What is encoded.</typeparam>
/// <remarks>
/// Contract: <see cref="Encode"/> returns a (batch, <see cref="Dimension"/>) tensor, row i encoding inputs[i]. While
/// gradients are recorded (outside <c>GradMode.NoGrad</c>) the result is differentiable with respect to the encoder's
/// trainable parameters; inside a no-grad scope it is plain floats. Implementations document their own
/// thread-safety; the encoders in HierRec are safe for concurrent inference in no-grad scopes and eval mode.
/// </remarks>
public interface IEncoder<TInput>
{
    /// <summary>Length of every encoded vector.</summary>
    int Dimension { get; }

    /// <summary>Encodes <paramref name="inputs"/> into a (inputs.Count, Dimension) tensor.</summary>
    Tensor Encode(IReadOnlyList<TInput> inputs);
}
