namespace HierRec.Tensors.Autograd;

/// <summary>Runs the backward pass over the recorded graph in reverse topological order.</summary>
internal static class Graph
{
    public static void Backward(Tensor root, Tensor? gradient, bool retainGraph)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (root.GradFn is null)
        {
            if (root.RequiresGrad)
            {
                // A leaf: its gradient is the upstream gradient itself.
                root.AccumulateGrad(SeedGradient(root, gradient));
                return;
            }
            throw new InvalidOperationException(
                $"Backward() was called on {root} which has no gradient history: run the forward pass with gradients enabled " +
                "(outside GradMode.NoGrad) on inputs or parameters that require gradients, then call Backward on its output.");
        }
        if (root.GradFn.Released)
        {
            throw new InvalidOperationException(
                $"Backward() was called twice on the graph that produced {root}: its saved tensors were freed by the first call. " +
                "Pass retainGraph: true to the first call to backpropagate more than once.");
        }

        var order = TopologicalOrder(root);
        root.Grad = null;
        root.AccumulateGrad(SeedGradient(root, gradient));

        // Reverse topological order: when a node runs, every consumer of its output has already accumulated into the
        // output's Grad. Intermediate gradients are dropped as soon as their node has used them; leaves keep theirs.
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            var node = t.GradFn!;
            var g = t.Grad;
            t.Grad = null;
            if (g is not null)
            {
                node.Backward(t, g.Data);
                if (g.IsPooled) TensorMemory.Return(g.Storage); // nobody else can hold an intermediate's gradient
            }
            if (!retainGraph) node.Release();
        }
    }

    private static ReadOnlySpan<float> SeedGradient(Tensor root, Tensor? gradient)
    {
        if (gradient is null)
        {
            if (root.Length != 1)
            {
                throw new InvalidOperationException(
                    $"Backward() without a gradient needs a one-element output; {root} has {root.Length} elements. Pass the upstream gradient.");
            }
            return new float[] { 1f };
        }
        if (!gradient.Shape.SequenceEqual(root.Shape))
        {
            throw new ArgumentException(
                $"The gradient's shape {Tensor.ShapeString(gradient.Shape)} differs from the output's {Tensor.ShapeString(root.Shape)}.", nameof(gradient));
        }
        return gradient.Data;
    }

    /// <summary>Tensors with a GradFn reachable from the root, each after all of its inputs.</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, bool Expanded)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (t, expanded) = stack.Pop();
            if (expanded)
            {
                order.Add(t);
                continue;
            }
            if (!visited.Add(t)) continue;
            stack.Push((t, true));
            if (t.GradFn is null) continue;
            if (t.GradFn.Released)
            {
                throw new InvalidOperationException(
                    $"Backward() reached the freed graph of {t.GradFn.Name}: a previous backward pass released it. Use retainGraph: true.");
            }
            foreach (var inp in t.GradFn.Inputs)
            {
                if (inp.GradFn is not null && !visited.Contains(inp)) stack.Push((inp, false));
            }
        }
        return order;
    }
}
