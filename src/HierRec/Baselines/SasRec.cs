using HierRec.Data;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Baselines;

/// <summary>
/// SASRec (Kang and McAuley, 2018) with RecBole's architecture and defaults: causal self-attention over the last 50
/// items, the hidden state at the last item scored against every item embedding, cross-entropy over the catalogue.
/// </summary>
/// <remarks>
/// Training samples: each user's sequence is cut into windows of up to 51 items (overlapping by one), and every position
/// of a window predicts the next item, as the SASRec paper trains. RecBole instead makes one sample per prefix with the
/// loss at its last position only: the same (history → next item) pairs, with longer contexts near window starts, at
/// ~50× the cost per epoch (a minute per epoch on MovieLens-100K on two cores).
/// </remarks>
public sealed class SasRec : SequenceTransformer
{
    private SasRec(Dataset train, SequentialOptions o, Generator generator) : base(nameof(SasRec), train, o, o.Dropout ?? 0.5f, generator) { }

    private SasRec(int itemCount, SequentialOptions o, Generator generator) : base(nameof(SasRec), itemCount, [], o, o.Dropout ?? 0.5f, generator) { }

    /// <summary>An untrained model over <paramref name="itemCount"/> items, for loading saved weights into (it has no users' sequences).</summary>
    internal static SasRec Create(int itemCount, SequentialOptions options)
    {
        options.Validate();
        using var generator = new Generator(options.Seed);
        return new SasRec(itemCount, options, generator);
    }

    private protected override bool Causal => true;

    /// <summary>Fits on <paramref name="train"/>, selecting the epoch by NDCG@10 on <paramref name="validation"/> when given.</summary>
    public static SasRec Fit(Dataset train, Dataset? validation, SequentialOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        options ??= new SequentialOptions();
        options.Validate();
        SasRec model;
        using (var generator = new Generator(options.Seed)) model = new SasRec(train, options, generator);
        int t = options.MaxLength;
        model.Train(train, validation, model.Windows(t + 1, 1), (batch, _) =>
        {
            var device = Modules.Layers.DeviceOf(model); // a scoped read: no parameter wrapper left to the finalizer
            var inputs = batch.Select(w => w[..^1].Select(i => i + 1).ToArray()).ToArray();
            var targets = new List<long>();
            var rows = new List<long>();
            for (int r = 0; r < batch.Length; r++)
                for (int j = 1; j < batch[r].Length; j++) { rows.Add(r * (long)t + j - 1); targets.Add(batch[r][j]); }
            var hidden = model.Encode(Tokens(inputs, t, device)).view(-1, model.Options.Hidden);       // (B·T, H)
            var picked = hidden.index_select(0, torch.tensor(rows.ToArray(), device: device));
            return nn.functional.cross_entropy(model.Logits(picked), torch.tensor(targets.ToArray(), device: device));
        }, progress, cancellationToken);
        return model;
    }

    private protected override (int[] Tokens, int Read) ScoringInput(int[] sequence)
    {
        if (sequence.Length == 0) return ([MaskToken], 0); // nothing known: an unused token, scored like any user without history
        var last = sequence[Math.Max(0, sequence.Length - Options.MaxLength)..].Select(i => i + 1).ToArray();
        return (last, last.Length - 1);
    }
}
