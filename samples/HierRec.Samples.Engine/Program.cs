// HierRec.Samples.Engine: the engine under HierRec, on its own.
//
// Scenario: two interleaved spirals of points, one class each, which no straight line separates. A 2-layer MLP
// (2 → 64 → 2, GELU) built from HierRec.Tensors layers learns to tell them apart with AdamW, a warm-up/decay
// schedule and gradient clipping, and the loss is printed as it falls. Everything runs on the managed SIMD engine:
// no Python, no native libraries.
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Layers;
using HierRec.Tensors.Optimizers;
using Spectre.Console;

const int PointsPerClass = 500, Hidden = 64, Steps = 600;
var rng = new Rng(2026);

// 1. Generate the data: spiral arms r = t, angle = t + class·π, with a little noise.
var (x, labels) = MakeSpirals(PointsPerClass, rng);
AnsiConsole.MarkupLine($"[bold]Two spirals[/]: {labels.Length} points, 2 classes; a 2-layer MLP with {Hidden} hidden units.");

// 2. The model: parameters are registered by name in a fixed order, as checkpoints expect.
var model = new Mlp(2, Hidden, 2, rng);
var optimizer = AdamW.Create(model.NamedParameters(), learningRate: 0.02f, weightDecay: 1e-4f);
var schedule = new LinearWarmupDecaySchedule(0.02f, warmupSteps: 30, totalSteps: Steps);

// 3. Train full-batch, recording the loss every 50 steps.
var history = new List<(int Step, float Loss)>();
AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
    .Start(ctx =>
    {
        var task = ctx.AddTask("Training", maxValue: Steps);
        for (int step = 0; step < Steps; step++)
        {
            schedule.Apply(optimizer);
            optimizer.ZeroGrad();
            var loss = Ops.CrossEntropy(model.Forward(x), labels);
            loss.Backward();
            Optimizer.ClipGradNorm(model.Parameters(), 1f);
            optimizer.Step();
            if (step % 50 == 0 || step == Steps - 1) history.Add((step, loss.ToScalar()));
            task.Increment(1);
        }
    });

var table = new Table().AddColumn("step").AddColumn("cross-entropy");
foreach (var (step, loss) in history) table.AddRow(step.ToString(), loss.ToString("F4"));
AnsiConsole.Write(table);

// 4. Evaluate in a no-grad scope: no graph is recorded for inference.
using (GradMode.NoGrad())
{
    var logits = model.Forward(x);
    int correct = 0;
    for (int i = 0; i < labels.Length; i++)
    {
        var row = logits.Data.Slice(i * 2, 2);
        if ((row[1] > row[0] ? 1 : 0) == labels[i]) correct++;
    }
    AnsiConsole.MarkupLine($"Training accuracy: [green]{100.0 * correct / labels.Length:F1}%[/] (chance is 50%).");
}
return 0;

static (Tensor X, int[] Labels) MakeSpirals(int perClass, Rng rng)
{
    var data = new float[2 * perClass * 2];
    var labels = new int[2 * perClass];
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < perClass; i++)
        {
            int row = c * perClass + i;
            float t = 0.25f + 3.5f * i / perClass;
            float angle = 1.75f * t + c * MathF.PI;
            data[2 * row] = t * MathF.Cos(angle) + 0.05f * rng.NextNormal();
            data[2 * row + 1] = t * MathF.Sin(angle) + 0.05f * rng.NextNormal();
            labels[row] = c;
        }
    return (new Tensor(data, 2 * perClass, 2), labels);
}

/// <summary>Linear → GELU → Linear.</summary>
internal sealed class Mlp : Module
{
    private readonly Linear _hidden, _output;

    public Mlp(int inputs, int hidden, int outputs, Rng rng)
    {
        _hidden = RegisterModule("hidden", new Linear(inputs, hidden, rng));
        _output = RegisterModule("output", new Linear(hidden, outputs, rng));
    }

    public Tensor Forward(Tensor x) => _output.Forward(Ops.Gelu(_hidden.Forward(x)));
}
