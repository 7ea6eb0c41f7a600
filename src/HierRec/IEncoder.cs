using static TorchSharp.torch;

namespace HierRec;

/// <summary>
/// Encodes a batch of inputs (users' profiles, histories, descriptions, contexts) into a batch of vectors.
/// </summary>
/// <typeparam name="TInput">What is encoded.</typeparam>
/// <remarks>
/// Contract: <see cref="Encode"/> returns a new (inputs.Count, <see cref="Dimension"/>) float tensor on the encoder's
/// device, row i encoding inputs[i] and depending on inputs[i] only (batch independence). Outside <c>torch.no_grad()</c>
/// the result is differentiable with respect to the encoder's trainable parameters; in eval mode it is deterministic.
/// The caller owns (and disposes) the result; under a dispose scope it is disposed with the scope. Implementations
/// document their thread-safety; the encoders in HierRec are safe for concurrent inference in eval mode under no-grad.
/// </remarks>
public interface IEncoder<TInput>
{
    /// <summary>Length of every encoded vector.</summary>
    int Dimension { get; }

    /// <summary>Encodes <paramref name="inputs"/> into an (inputs.Count, Dimension) tensor.</summary>
    Tensor Encode(IReadOnlyList<TInput> inputs);
}
