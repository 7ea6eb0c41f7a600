using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Modules;

/// <summary>Multi-head scaled dot-product attention over padded keys, returning the weights for explanations.</summary>
public static class MaskedAttention
{
    // Kept alive by this field (see Scalars: TorchSharp 0.107's implicit-Scalar finalizer race). A dynamic-item Update
    // crashed in this masked_fill with an implicit one.
    private static readonly Scalar Masked = Scalars.Constant(-1e9);

    /// <summary>
    /// q (B, Q, C), k and v (B, T, C) with C = heads · d side by side, mask (B, T) 1 for valid keys. Returns the (B, Q, C)
    /// output and the (B, Q, T) weights averaged over heads. Rows without a valid key attend to nothing (output and weights 0).
    /// </summary>
    public static (Tensor Output, Tensor Weights) Attend(Tensor q, Tensor k, Tensor v, int heads, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(mask);
        if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3 || k.shape[0] != q.shape[0] || v.shape[0] != q.shape[0] || k.shape[2] != q.shape[2] || v.shape[1] != k.shape[1])
            throw new ArgumentException($"Attention shapes disagree: q {TorchInterop.ShapeString(q.shape)}, k {TorchInterop.ShapeString(k.shape)}, v {TorchInterop.ShapeString(v.shape)}.");
        long b = q.shape[0], tq = q.shape[1], c = q.shape[2], tk = k.shape[1], vc = v.shape[2];
        if (c % heads != 0 || vc % heads != 0) throw new ArgumentException($"Channels {c} are not divisible by {heads} heads.", nameof(heads));
        if (mask.dim() != 2 || mask.shape[0] != b || mask.shape[1] != tk)
            throw new ArgumentException($"Attention key mask {TorchInterop.ShapeString(mask.shape)} does not match (batch {b}, keys {tk}).", nameof(mask));
        using var scope = torch.NewDisposeScope();
        long d = c / heads;
        var qh = q.reshape(b, tq, heads, d).transpose(1, 2);                      // (B, h, Q, d)
        var kh = k.reshape(b, tk, heads, d).transpose(1, 2);                      // (B, h, T, d)
        var vh = v.reshape(b, tk, heads, vc / heads).transpose(1, 2);             // (B, h, T, dv)
        var scores = qh.matmul(kh.transpose(2, 3)).OverInPlace(Math.Sqrt(d));                // (B, h, Q, T)
        var invalid = mask.detach().EqualTo(0).unsqueeze(1).unsqueeze(1);              // (B, 1, 1, T)
        var any = mask.detach().sum(1).GreaterThan(0).to_type(scores.dtype).reshape(b, 1, 1, 1);   // rows with a valid key
        var probs = scores.masked_fill(invalid, Masked).softmax(-1) * any;        // padding exactly 0; empty rows 0, no NaN
        var output = probs.matmul(vh).transpose(1, 2).reshape(b, tq, vc);        // (B, Q, C)
        var weights = probs.detach().mean([1]);                                    // (B, Q, T)
        return (output.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }
}
