using HierRec.Baselines;
using HierRec.Data;
using HierRec.Training;

namespace HierRec.Fusion;

/// <summary>
/// The sequential interest dimension: a SASRec model (causal self-attention over the user's last items, in time order)
/// whose hidden state at the most recent item, s_u, is scored against its item embeddings S_i. The score ⟨s_u, S_i⟩ is a
/// dot product, so the ranker serves it beside the hierarchical and collaborative dimensions by appending s_u to the
/// query and S_i to the item rows (see <see cref="DimensionFusion"/>).
/// </summary>
/// <remarks>
/// Histories are read most recent first, as <see cref="Users.UserContext.Histories"/> holds them; the last
/// <see cref="SequentialOptions.MaxLength"/> items are used. Encoding a user runs the transformer (a few hundred
/// microseconds for RecBole's defaults on a CPU); calls are serialised. Thread-safe.
/// </remarks>
public sealed class SequentialDimension : IDisposable
{
    private readonly SasRec _model;
    private readonly float[] _items;
    private readonly Lock _gate = new();

    private SequentialDimension(SasRec model)
    {
        _model = model;
        _items = model.ItemRows();
    }

    /// <summary>Catalogue size.</summary>
    public int Items => _model.ItemCount;

    /// <summary>Width of s_u and S_i (the model's hidden size).</summary>
    public int Width => _model.Options.Hidden;

    /// <summary>The SASRec options.</summary>
    public SequentialOptions Options => _model.Options;

    /// <summary>The epoch whose weights were kept (0 after Load).</summary>
    public int BestEpoch => _model.BestEpoch;

    /// <summary>S: the item embeddings, (items, width) row-major.</summary>
    public ReadOnlySpan<float> ItemRows => _items;

    /// <summary>Fits SASRec on <paramref name="train"/>, its epoch chosen by NDCG@10 on <paramref name="validation"/> when given.</summary>
    public static SequentialDimension Fit(Dataset train, Dataset? validation, SequentialOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new(SasRec.Fit(train, validation, options, progress, cancellationToken));

    /// <summary>The dimension of a SASRec model already fitted (by <see cref="SasRec.Fit"/>, the baseline), on the training data it will serve.</summary>
    public static SequentialDimension From(SasRec model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new SequentialDimension(model);
    }

    /// <summary>s_u of each history (most recent first), row-major (histories × <see cref="Width"/>); an empty history gives SASRec's state for no items.</summary>
    public float[] UserStates(IReadOnlyList<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var sequences = new int[histories.Count][];
        for (int k = 0; k < sequences.Length; k++)
        {
            var h = histories[k] ?? throw new ArgumentException($"History {k} is null.", nameof(histories));
            int take = Math.Min(h.Length, _model.Options.MaxLength);
            var s = new int[take];
            for (int j = 0; j < take; j++) s[j] = h[take - 1 - j]; // oldest first
            sequences[k] = s;
        }
        lock (_gate) return _model.States(sequences);
    }

    /// <summary>s_u of one history (most recent first), written to <paramref name="destination"/> (<see cref="Width"/> floats).</summary>
    public void UserState(ReadOnlySpan<int> history, Span<float> destination)
    {
        if (destination.Length != Width) throw new ArgumentException($"The destination has {destination.Length} floats; the width is {Width}.", nameof(destination));
        UserStates([history.ToArray()]).CopyTo(destination);
    }

    /// <summary>Writes the SASRec weights to <paramref name="path"/> (safetensors).</summary>
    internal void Save(string path) => TorchCheckpoint.Save(path, _model);

    /// <summary>Reads SASRec weights saved by <see cref="Save"/> for <paramref name="items"/> items (shapes and finiteness checked).</summary>
    /// <exception cref="InvalidDataException">The file's tensors do not fit the options, or are not finite.</exception>
    internal static SequentialDimension Load(string path, int items, SequentialOptions options)
    {
        var model = SasRec.Create(items, options);
        try
        {
            TorchCheckpoint.Load(model, path); // names, shapes and finiteness checked
            return new SequentialDimension(model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Frees the SASRec model's native memory (idempotent).</summary>
    public void Dispose() => _model.Dispose();
}
