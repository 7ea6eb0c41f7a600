using HierRec.Data;

namespace HierRec.Baselines;

/// <summary>A binary user × item matrix in compressed sparse rows (duplicates removed, columns sorted).</summary>
public sealed class InteractionMatrix
{
    /// <summary>Builds the matrix from a dataset's interactions.</summary>
    public InteractionMatrix(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Users = data.UserCount;
        Items = data.ItemCount;
        var rows = new SortedSet<int>[Users];
        foreach (var x in data.Interactions) (rows[x.User] ??= []).Add(x.Item);
        RowStart = new int[Users + 1];
        for (int u = 0; u < Users; u++) RowStart[u + 1] = RowStart[u] + (rows[u]?.Count ?? 0);
        Columns = new int[RowStart[Users]];
        for (int u = 0; u < Users; u++) rows[u]?.CopyTo(Columns, RowStart[u]);
    }

    /// <summary>Number of users (rows).</summary>
    public int Users { get; }

    /// <summary>Number of items (columns).</summary>
    public int Items { get; }

    /// <summary>Row u occupies Columns[RowStart[u] .. RowStart[u + 1]).</summary>
    public int[] RowStart { get; }

    /// <summary>Item ids, row by row.</summary>
    public int[] Columns { get; }

    /// <summary>Number of stored (user, item) pairs.</summary>
    public int NonZeros => Columns.Length;

    /// <summary>The items of user <paramref name="u"/>, sorted.</summary>
    public ReadOnlySpan<int> Row(int u) => Columns.AsSpan(RowStart[u], RowStart[u + 1] - RowStart[u]);

    /// <summary>Adds item <c>item</c>'s contribution to a user's score row.</summary>
    public delegate void ItemContribution(int item, Span<float> scores);

    /// <summary>
    /// Scores users from their history: each user's row (users.Length × Items) is the sum of <paramref name="add"/>
    /// over the items the user has; users this matrix does not know score 0 everywhere.
    /// </summary>
    public void ScoreFromHistory(ReadOnlySpan<int> users, Span<float> scores, ItemContribution add)
    {
        ArgumentNullException.ThrowIfNull(add);
        for (int k = 0; k < users.Length; k++)
        {
            var dst = scores.Slice(k * Items, Items);
            dst.Clear();
            if ((uint)users[k] >= (uint)Users) continue;
            foreach (int i in Row(users[k])) add(i, dst);
        }
    }

    /// <summary>Interactions per item.</summary>
    public int[] ItemCounts()
    {
        var c = new int[Items];
        foreach (int i in Columns) c[i]++;
        return c;
    }
}
