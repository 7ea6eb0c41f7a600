using HierRec.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Items;

/// <summary>
/// Item vectors in the model space: a learnt id embedding for items seen in training plus a projection of the item's
/// text vector (BERT over the item text, pooled), E_i = id_i + W t_i + c. Items without training interactions (cold
/// items) use the text part alone, so a new item with text gets a vector at once.
/// </summary>
/// <remarks>
/// The text vectors are either a fixed (items, H) tensor (<see cref="TextVectors"/>: the frozen part of BERT ran once
/// per item) or come from an attached <see cref="ItemTextEncoder"/> fine-tuned with the tower.
/// </remarks>
public sealed class ItemTower : nn.Module
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private Tensor? _text;
    private Tensor? _warmMask;
    private bool[]? _warm;

    /// <summary>Creates the tower for <paramref name="items"/> items of dimension <paramref name="dimension"/>.</summary>
    /// <param name="items">Catalogue size.</param>
    /// <param name="dimension">Model dimension D.</param>
    /// <param name="textWidth">Width H of the text vectors, or 0 for ids only.</param>
    /// <param name="generator">Initialisation.</param>
    /// <param name="useIds">Whether to learn id embeddings (false: text only).</param>
    public ItemTower(int items, int dimension, int textWidth, Generator generator, bool useIds = true) : base(nameof(ItemTower))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(items);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegative(textWidth);
        if (!useIds && textWidth == 0) throw new ArgumentException("An item tower needs ids, text, or both.");
        Items = items;
        Dimension = dimension;
        TextWidth = textWidth;
        if (useIds)
        {
            Ids = Layers.Embedding(items, dimension, 0.05, generator);
            register_module("ids", Ids);
        }
        if (textWidth > 0)
        {
            TextProjection = Layers.Linear(textWidth, dimension, generator);
            register_module("text", TextProjection);
        }
    }

    /// <summary>Catalogue size.</summary>
    public int Items { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>H, the text-vector width (0 without text).</summary>
    public int TextWidth { get; }

    /// <summary>Id embeddings, or null.</summary>
    public Embedding? Ids { get; }

    /// <summary>Text projection, or null.</summary>
    public Linear? TextProjection { get; }

    /// <summary>Which items get their id embedding (warm items); others use text only. All items when null.</summary>
    public bool[]? Warm
    {
        get => _warm;
        set
        {
            if (value is not null && value.Length != Items) throw new ArgumentException($"Warm has {value.Length} entries; the tower has {Items} items.", nameof(value));
            _warm = value;
            _warmMask?.Dispose();
            _warmMask = null;
        }
    }

    /// <summary>The fixed (items, H) text vectors (owned by the tower; set a copy), or null.</summary>
    public Tensor? TextVectors
    {
        get => _text;
        set
        {
            if (value is not null && (value.dim() != 2 || value.shape[0] != Items || value.shape[1] != TextWidth))
                throw new ArgumentException($"Text vectors must be ({Items}, {TextWidth}); got {TorchInterop.ShapeString(value.shape)}.", nameof(value));
            _text?.Dispose();
            _text = value?.detach().DetachFromDisposeScope();
        }
    }

    /// <summary>A BERT fine-tuned jointly with the tower, or null when the text vectors are fixed.</summary>
    public ItemTextEncoder? TextEncoder { get; private set; }

    /// <summary>Whether <see cref="Bake"/> has frozen the jointly trained text vectors into <see cref="TextVectors"/>.</summary>
    public bool IsBaked { get; private set; }

    /// <summary>Attaches a jointly fine-tuned text encoder (registered as module <c>text_encoder</c>).</summary>
    public void AttachTextEncoder(ItemTextEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (TextEncoder is not null) throw new InvalidOperationException("A text encoder is already attached.");
        if (encoder.Count != Items || encoder.Width != TextWidth)
            throw new ArgumentException($"The text encoder gives ({encoder.Count}, {encoder.Width}) vectors; this tower needs ({Items}, {TextWidth}).", nameof(encoder));
        TextEncoder = encoder;
        register_module("text_encoder", encoder);
    }

    /// <summary>
    /// Computes the attached encoder's text vectors once (eval mode, no gradients) and serves from them from now on,
    /// as after training.
    /// </summary>
    public void Bake()
    {
        if (TextEncoder is null) return;
        bool training = TextEncoder.training;
        TextEncoder.eval();
        using (torch.no_grad())
        using (var vectors = TextEncoder.forward())
        using (var copy = vectors.clone()) // apart from the encoder's cache; the tower keeps its own alias of the copy
            TextVectors = copy;
        TextEncoder.train(training);
        IsBaked = true;
    }

    /// <summary>All item vectors, (items, D); differentiable while gradients are recorded.</summary>
    public Tensor forward()
    {
        using var scope = torch.NewDisposeScope();
        Tensor? result = null;
        if (Ids is not null)
        {
            result = Ids.weight!;
            if (_warm is not null)
            {
                _warmMask ??= torch.tensor(_warm.Select(w => w ? 1f : 0f).ToArray(), [Items, 1], device: result.device).DetachFromDisposeScope();
                result = result * _warmMask;
            }
        }
        if (TextProjection is not null)
        {
            var source = TextEncoder is not null && !IsBaked ? TextEncoder.forward()
                : _text ?? throw new InvalidOperationException("Set ItemTower.TextVectors (the cached BERT item vectors) or attach a text encoder first.");
            var text = TextProjection.forward(source);
            result = result is null ? text : result.Plus(text);
        }
        var vectors = _warm is null && TextProjection is null ? result!.alias() : result!; // never hand out the parameter itself
        return vectors.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _text?.Dispose();
            _warmMask?.Dispose();
        }
        base.Dispose(disposing);
    }
}
