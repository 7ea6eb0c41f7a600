namespace HierRec.Concepts;

/// <summary>The domain's generic description words, which explanation sentences do not name.</summary>
public sealed partial class ConceptModel
{
    /// <summary>
    /// Words of the domain's descriptions that say nothing about a user's taste ("films", "movies"), lower case: the
    /// users who write them consume like any users. Explanation sentences do not name them as what a user asked for;
    /// their attributions are kept. Found from the training descriptions by <see cref="ConceptTrainer"/>; empty when
    /// there were too few described users to tell, or for a model saved before they were kept.
    /// </summary>
    public IReadOnlySet<string> GenericWords
    {
        get => _genericWords;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _genericWords = value.Select(w => w is null ? throw new ArgumentException("A generic word is null.", nameof(value)) : CommonDescriptionWords.Key(w)).ToHashSet(StringComparer.Ordinal);
        }
    }

    private HashSet<string> _genericWords = new(StringComparer.Ordinal);

    /// <summary>The words of <paramref name="concept"/>'s positive side that are <see cref="GenericWords"/>, as written.</summary>
    internal IReadOnlyList<string> GenericWordsOf(ConceptVector concept) =>
        _genericWords.Count == 0 ? [] : concept.PositiveTokens.Select(t => t.Token).Where(t => _genericWords.Contains(CommonDescriptionWords.Key(t))).Distinct(StringComparer.Ordinal).ToArray();
}
