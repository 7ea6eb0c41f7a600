using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Scoring;

/// <summary>Checks shared by the scorers.</summary>
internal static class ScorerChecks
{
    public static void Matrix(Tensor users, Tensor items)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        if (users.dim() != 2 || items.dim() != 2 || users.shape[1] != items.shape[1])
            throw new ArgumentException($"Scoring needs users (B, D) and items (N, D) of the same D; got users {TorchInterop.ShapeString(users.shape)} and items {TorchInterop.ShapeString(items.shape)}.");
    }

    public static void Pairs(Tensor users, Tensor items)
    {
        Matrix(users, items);
        if (users.shape[0] != items.shape[0])
            throw new ArgumentException($"Pair scoring needs as many items as users; got users {TorchInterop.ShapeString(users.shape)} and items {TorchInterop.ShapeString(items.shape)}.");
    }

    public static float Temperature(float temperature) =>
        temperature > 0 && float.IsFinite(temperature) ? temperature
            : throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be positive and finite.");

    /// <summary>Row-wise dot products of two (B, D) tensors → (B).</summary>
    public static Tensor RowDot(Tensor users, Tensor items)
    {
        using var product = users * items;
        return product.sum(1);
    }

    public static Tensor Normalize(Tensor x) => nn.functional.normalize(x, p: 2, dim: 1, eps: 1e-12);
}
