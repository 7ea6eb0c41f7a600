using HierRec.Tensors;
using HierRec.Tensors.Layers;

namespace HierRec.Items;

/// <summary>
/// Item vectors in the model space: a learnt id embedding for items seen in training plus a projection of the item's
/// text vector (BERT over the item text, pooled), E_i = id_i + W t_i + c. Items without training interactions (cold
/// items) use the text part alone, so a new item with text gets a vector at once.
/// </summary>
/// <remarks>
/// The text vectors are supplied as a (items, H) tensor: the frozen part of BERT runs once per item and is cached
/// (see <c>ItemTextCache</c>); only the projection (and the ids) train here.
/// </remarks>
public sealed class ItemTower : Module
{
    private Tensor? _text;

    /// <summary>Creates the tower for <paramref name="items"/> items of dimension <paramref name="dimension"/>.</summary>
    /// <param name="items">Catalogue size.</param>
    /// <param name="dimension">Model dimension D.</param>
    /// <param name="textWidth">Width H of the text vectors, or 0 for ids only.</param>
    /// <param name="rng">Initialisation.</param>
    /// <param name="useIds">Whether to learn id embeddings (false: text only).</param>
    public ItemTower(int items, int dimension, int textWidth, Rng rng, bool useIds = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(items);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegative(textWidth);
        if (!useIds && textWidth == 0) throw new ArgumentException("An item tower needs ids, text, or both.");
        Items = items;
        Dimension = dimension;
        TextWidth = textWidth;
        if (useIds) Ids = RegisterModule("ids", new Embedding(items, dimension, rng, 0.05f));
        if (textWidth > 0) TextProjection = RegisterModule("text", new Linear(textWidth, dimension, rng));
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

    /// <summary>Which items get their id embedding (warm items); others use text only. All items by default.</summary>
    public bool[]? Warm { get; set; }

    /// <summary>The cached (items, H) text vectors.</summary>
    public Tensor? TextVectors
    {
        get => _text;
        set
        {
            if (value is not null && (value.Rank != 2 || value.Dim(0) != Items || value.Dim(1) != TextWidth))
                throw new ArgumentException($"Text vectors must be ({Items}, {TextWidth}); got {Tensor.ShapeString(value.Shape)}.", nameof(value));
            _text = value;
        }
    }

    /// <summary>A BERT fine-tuned jointly with the tower, or null when the text vectors are a fixed cache.</summary>
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
        TextEncoder = RegisterModule("text_encoder", encoder);
    }

    /// <summary>
    /// Computes the attached encoder's text vectors once (eval mode, no gradients) and serves from them from now on,
    /// as after training.
    /// </summary>
    public void Bake()
    {
        if (TextEncoder is null) return;
        using (TextEncoder.EvalScope())
        using (Tensors.Autograd.GradMode.NoGrad()) _text = TextEncoder.Forward();
        IsBaked = true;
    }

    /// <summary>All item vectors, (items, D); differentiable while gradients are recorded.</summary>
    public Tensor Forward()
    {
        Tensor? result = null;
        if (Ids is not null)
        {
            result = Ids.Weight;
            if (Warm is not null)
            {
                var mask = new Tensor(Items, 1);
                for (int i = 0; i < Items; i++) mask.Data[i] = Warm[i] ? 1f : 0f;
                result = result * mask;
            }
        }
        if (TextProjection is not null)
        {
            var source = TextEncoder is not null && !IsBaked ? TextEncoder.Forward()
                : _text ?? throw new InvalidOperationException("Set ItemTower.TextVectors (the cached BERT item vectors) or attach a text encoder first.");
            var text = TextProjection.Forward(source);
            result = result is null ? text : result + text;
        }
        return result!;
    }
}
