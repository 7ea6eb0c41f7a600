using HierRec.Evaluation;
using HierRec.Users;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Training;

/// <summary>
/// Scores users with a trained <see cref="HierarchicalModel"/> against the whole catalogue (for <see cref="Evaluator"/>):
/// each user's full history from the context, the model scorer's logits for every item. Item vectors are computed once.
/// </summary>
public sealed class HierarchicalScoringModel : IScoringModel, IDisposable
{
    private readonly HierarchicalModel _model;
    private readonly UserContext _context;
    private readonly Tensor _items;

    /// <summary>Prepares scoring (puts the model in eval mode).</summary>
    public HierarchicalScoringModel(HierarchicalModel model, UserContext context)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(context);
        _model = model;
        _context = context;
        model.eval();
        using (torch.no_grad()) _items = model.ItemVectors().DetachFromDisposeScope();
    }

    /// <inheritdoc/>
    public int MaxParallelism => 1;

    /// <inheritdoc/>
    public int ItemCount => (int)_items.shape[0];

    /// <inheritdoc/>
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var encoded = _model.Encode(_context.Batch(users.ToArray()), _items);
        using var logits = _model.Logits(encoded.Users, _items).to_type(ScalarType.Float32).cpu().contiguous();
        logits.data<float>().CopyTo(scores);
    }

    /// <summary>Releases the item vectors.</summary>
    public void Dispose() => _items.Dispose();
}
