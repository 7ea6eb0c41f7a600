using HierRec.Data;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Baselines;

/// <summary>
/// BERT4Rec (Sun et al., 2019) with RecBole's architecture and defaults: bidirectional self-attention over the item
/// sequence, items replaced by a mask token with probability 0.2 and predicted (cross-entropy over the catalogue);
/// half the training sequences mask only their last item (RecBole's ft_ratio 0.5). Scoring appends the mask token after
/// the user's last 49 items and reads its position.
/// </summary>
/// <remarks>
/// Training samples: each user's sequence cut into windows of up to 50 items, masked anew every epoch (RecBole masks
/// every prefix sample). A window in which no item drew the mask masks its last item.
/// </remarks>
public sealed class Bert4Rec : SequenceTransformer
{
    private Bert4Rec(Dataset train, SequentialOptions o, Generator generator) : base(nameof(Bert4Rec), train, o, o.Dropout ?? 0.2f, generator) { }

    private protected override bool Causal => false;

    /// <summary>Fits on <paramref name="train"/>, selecting the epoch by NDCG@10 on <paramref name="validation"/> when given.</summary>
    public static Bert4Rec Fit(Dataset train, Dataset? validation, SequentialOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        options ??= new SequentialOptions();
        options.Validate();
        Bert4Rec model;
        using (var generator = new Generator(options.Seed)) model = new Bert4Rec(train, options, generator);
        int t = options.MaxLength;
        model.Train(train, validation, model.Windows(t, 0), (batch, rng) =>
        {
            var device = Modules.Layers.DeviceOf(model); // a scoped read: no parameter wrapper left to the finalizer
            var inputs = new int[batch.Length][];
            var rows = new List<long>();
            var targets = new List<long>();
            for (int r = 0; r < batch.Length; r++)
            {
                var w = batch[r];
                var tokens = w.Select(i => i + 1).ToArray();
                bool fineTune = rng.NextDouble() < options.FineTuneRatio;
                bool any = false;
                for (int j = 0; j < w.Length; j++)
                {
                    bool mask = fineTune ? j == w.Length - 1 : rng.NextDouble() < options.MaskRatio;
                    if (!mask && !(j == w.Length - 1 && !any)) continue;
                    tokens[j] = model.MaskToken;
                    rows.Add(r * (long)t + j);
                    targets.Add(w[j]);
                    any = true;
                }
                inputs[r] = tokens;
            }
            var hidden = model.Encode(Tokens(inputs, t, device)).view(-1, model.Options.Hidden);
            var picked = hidden.index_select(0, torch.tensor(rows.ToArray(), device: device));
            return nn.functional.cross_entropy(model.Logits(picked), torch.tensor(targets.ToArray(), device: device));
        }, progress, cancellationToken);
        return model;
    }

    private protected override (int[] Tokens, int Read) ScoringInput(int[] sequence)
    {
        var last = sequence[Math.Max(0, sequence.Length - (Options.MaxLength - 1))..].Select(i => i + 1).Append(MaskToken).ToArray();
        return (last, last.Length - 1);
    }
}
