namespace HierRec.Tensors.Tests.Autograd;

/// <summary>
/// Checks an op's analytic backward (float32, from the engine) against a central finite difference of an
/// independent double-precision reference forward: L = Σ w ⊙ f(x) with fixed random weights w.
/// </summary>
public static class GradCheck
{
    public sealed record Input(int[] Shape, bool NeedsGrad = true, float Std = 1f, float[]? Values = null);

    public static void Run(string name, Func<Tensor[], Tensor> engine, Func<double[][], double[]> reference, ulong seed, params Input[] inputs)
    {
        var tensors = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var data = inputs[i].Values ?? TestData.Normal((int)Tensor.CheckedLength(inputs[i].Shape), seed + (ulong)i * 101, inputs[i].Std);
            tensors[i] = new Tensor((float[])data.Clone(), inputs[i].Shape) { RequiresGrad = inputs[i].NeedsGrad };
        }
        var y = engine(tensors);
        var x64 = tensors.Select(t => TestData.ToDouble(t.Data)).ToArray();
        var yRef = reference(x64);
        TestData.AssertClose(yRef, y.Data, 1e-4, name + " forward");

        var w = TestData.Normal(y.Length, seed + 999);
        y.Backward(new Tensor(w, y.ShapeArray.ToArray()));

        for (int i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].NeedsGrad) continue;
            var analytic = tensors[i].Grad?.ToArray() ?? new float[tensors[i].Length];
            var numeric = new double[analytic.Length];
            for (int j = 0; j < numeric.Length; j++)
            {
                double orig = x64[i][j], h = 1e-5 * Math.Max(1, Math.Abs(orig));
                x64[i][j] = orig + h;
                double lp = Dot(w, reference(x64));
                x64[i][j] = orig - h;
                double lm = Dot(w, reference(x64));
                x64[i][j] = orig;
                numeric[j] = (lp - lm) / (2 * h);
            }
            double diff = 0, norm = 0;
            for (int j = 0; j < numeric.Length; j++)
            {
                diff += (analytic[j] - numeric[j]) * (analytic[j] - numeric[j]);
                norm += numeric[j] * numeric[j];
            }
            double rel = Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-8);
            Assert.True(rel < 1e-3, $"{name}: gradient of input {i} has relative error {rel:E3} (|numeric| = {Math.Sqrt(norm):E3}).");
        }
    }

    private static double Dot(float[] w, double[] y)
    {
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += w[i] * y[i];
        return s;
    }
}
