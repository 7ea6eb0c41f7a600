using HierRec.Tensors.Layers;
using HierRec.Tensors.Optimizers;

namespace HierRec.Tensors.Tests.Layers;

/// <summary>Small models must actually learn generated tasks with AdamW.</summary>
public class TrainingSanityTests
{
    private sealed class Mlp : Module
    {
        public Mlp(int inF, int hidden, int outF, Rng rng)
        {
            L1 = RegisterModule("l1", new Linear(inF, hidden, rng));
            L2 = RegisterModule("l2", new Linear(hidden, outF, rng));
        }

        public Linear L1 { get; }
        public Linear L2 { get; }
        public Tensor Forward(Tensor x) => L2.Forward(Ops.Gelu(L1.Forward(x)));
    }

    [Fact]
    public void Mlp_FitsANonlinearRegression_LossFallsBelowOnePercentOfItsStart()
    {
        var rng = new Rng(42);
        int n = 256;
        var x = Tensor.RandomUniform(rng, -2f, 2f, n, 2);
        var target = new Tensor(n, 1);
        for (int i = 0; i < n; i++) target.Data[i] = MathF.Sin(x.Data[2 * i]) * MathF.Cos(x.Data[2 * i + 1]);
        var model = new Mlp(2, 32, 1, rng);
        var opt = AdamW.Create(model.NamedParameters(), learningRate: 0.01f, weightDecay: 0f);
        float first = 0, last = 0;
        for (int step = 0; step < 600; step++)
        {
            opt.ZeroGrad();
            var loss = Ops.MseLoss(model.Forward(x), target);
            if (step == 0) first = loss.ToScalar();
            last = loss.ToScalar();
            loss.Backward();
            opt.Step();
        }
        Assert.True(last < 0.01f * first, $"loss went from {first} to {last}");
        Assert.True(last < 2e-3f, $"final loss {last}");
    }

    [Fact]
    public void OneLayerTransformer_LearnsToCopyTheFirstTokenToEveryPosition()
    {
        // Each sequence's first token (a class in 0..7) must be predicted at every position: only attention can move it.
        const int vocab = 8, dim = 32, seq = 6, batch = 32;
        var rng = new Rng(7);
        var emb = new Embedding(vocab, dim, rng, 0.5f);
        var pos = new Embedding(seq, dim, rng, 0.5f);
        var layer = new TransformerEncoderLayer(dim, 4, 64, rng, dropout: 0f);
        var head = new Linear(dim, vocab, rng);
        var named = emb.NamedParameters().Select(p => ("emb." + p.Name, p.Parameter))
            .Concat(pos.NamedParameters().Select(p => ("pos." + p.Name, p.Parameter)))
            .Concat(layer.NamedParameters()).Concat(head.NamedParameters());
        var opt = AdamW.Create(named, learningRate: 3e-3f, weightDecay: 0f);
        var posIds = Enumerable.Range(0, batch * seq).Select(i => i % seq).ToArray();
        float lastLoss = float.NaN, accuracy = 0;
        for (int step = 0; step < 300; step++)
        {
            var ids = new int[batch * seq];
            var targets = new int[batch * seq];
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < seq; t++)
                {
                    ids[b * seq + t] = rng.NextInt(vocab);
                    targets[b * seq + t] = ids[b * seq];
                }
            opt.ZeroGrad();
            var h = emb.Forward(ids, batch, seq) + pos.Forward(posIds, batch, seq);
            var logits = head.Forward(layer.Forward(h)).Reshape(batch * seq, vocab);
            var loss = Ops.CrossEntropy(logits, targets);
            lastLoss = loss.ToScalar();
            loss.Backward();
            opt.Step();
            if (step == 299)
            {
                int correct = 0;
                for (int i = 0; i < batch * seq; i++)
                {
                    var row = logits.Data.Slice(i * vocab, vocab);
                    if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row) == targets[i]) correct++;
                }
                accuracy = correct / (float)(batch * seq);
            }
        }
        Assert.True(lastLoss < 0.1f, $"final cross-entropy {lastLoss} (chance is ln 8 = {Math.Log(8):F2})");
        Assert.True(accuracy > 0.95f, $"accuracy {accuracy}");
    }
}
