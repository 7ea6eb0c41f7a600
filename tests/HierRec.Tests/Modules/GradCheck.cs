using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Modules;

/// <summary>
/// Gradient checks in double precision: autograd's gradient of a scalar against central differences
/// (f(x + ε) − f(x − ε)) / 2ε at sampled entries of each tensor, as torch.autograd.gradcheck does.
/// </summary>
internal static class GradCheck
{
    /// <summary>Checks <paramref name="loss"/>'s gradient with respect to every tensor of <paramref name="wrt"/> (float64, requiring grad).</summary>
    public static void Check(Func<Tensor> loss, IReadOnlyList<(string Name, Tensor Tensor)> wrt, int samples = 6, double eps = 1e-6, double tolerance = 1e-6, ulong seed = 1)
    {
        foreach (var (name, t) in wrt)
        {
            Assert.True(t.dtype == ScalarType.Float64, $"{name}: gradient checks run in float64; got {t.dtype}.");
            Assert.True(t.requires_grad, $"{name} does not require a gradient.");
        }
        Tensor[] analytic;
        using (var l = loss())
            analytic = torch.autograd.grad([l], wrt.Select(w => w.Tensor).ToArray(), allow_unused: true).ToArray();
        var rng = new HierRec.Rng(seed);
        int checkedEntries = 0;
        for (int k = 0; k < wrt.Count; k++)
        {
            var (name, t) = wrt[k];
            using var flat = t.detach().view(-1);
            long n = flat.shape[0];
            var grad = analytic[k] is null || analytic[k].IsInvalid ? null : analytic[k].detach().reshape(-1).data<double>().ToArray();
            for (int s = 0; s < Math.Min(samples, n); s++)
            {
                long i = n <= samples ? s : rng.NextInt((int)n);
                double original = flat[i].item<double>();
                double plus, minus;
                using (torch.no_grad())
                {
                    flat[i].fill_(original + eps);
                    using (var lp = loss()) plus = lp.item<double>();
                    flat[i].fill_(original - eps);
                    using (var lm = loss()) minus = lm.item<double>();
                    flat[i].fill_(original);
                }
                double numeric = (plus - minus) / (2 * eps);
                double a = grad is null ? 0 : grad[i];
                double scale = Math.Max(1, Math.Abs(numeric));
                Assert.True(Math.Abs(a - numeric) <= tolerance * scale + 1e-8,
                    $"{name}[{i}]: autograd {a:G10}, central difference {numeric:G10}");
                checkedEntries++;
            }
        }
        Assert.True(checkedEntries > 0);
    }

    /// <summary>The trainable parameters of a module (after <c>module.to(float64)</c>), named.</summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Parameters(nn.Module module) =>
        module.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, (Tensor)p.parameter)).ToList();
}
