using Tensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Serialization;

/// <summary>The contents of a safetensors file: tensors in file order and the free-form string metadata.</summary>
/// <param name="Tensors">Name → tensor (converted to float32).</param>
/// <param name="Names">Tensor names in header order.</param>
/// <param name="Metadata">The <c>__metadata__</c> map, empty if absent.</param>
public sealed record SafeTensorsContent(IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyList<string> Names, IReadOnlyDictionary<string, string> Metadata);
