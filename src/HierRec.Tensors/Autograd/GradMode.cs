namespace HierRec.Tensors.Autograd;

/// <summary>
/// Controls whether ops record the autograd graph on the current thread.
/// </summary>
/// <example><code>using (GradMode.NoGrad()) { var y = model.Forward(x); }</code></example>
public static class GradMode
{
    [ThreadStatic] private static int t_disabledDepth;

    /// <summary>Whether ops on this thread record a graph (true unless inside a <see cref="NoGrad"/> scope).</summary>
    public static bool IsEnabled => t_disabledDepth == 0;

    /// <summary>
    /// Starts an inference scope on this thread: ops record no graph and save nothing for backward.
    /// Dispose the returned scope to end it; scopes nest.
    /// </summary>
    public static NoGradScope NoGrad()
    {
        t_disabledDepth++;
        return new NoGradScope(Environment.CurrentManagedThreadId);
    }

    /// <summary>Ends a <see cref="NoGrad"/> scope.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        private readonly int _threadId;

        internal NoGradScope(int threadId) => _threadId = threadId;

        /// <summary>Re-enables gradient recording (if this was the outermost scope).</summary>
        public void Dispose()
        {
            if (_threadId == 0) return;
            if (_threadId != Environment.CurrentManagedThreadId)
            {
                throw new InvalidOperationException("A no-grad scope must be disposed on the thread that opened it.");
            }
            if (t_disabledDepth > 0) t_disabledDepth--;
        }
    }

    /// <summary>True when an op on these inputs must record a node.</summary>
    internal static bool ShouldRecord(Tensor a) => t_disabledDepth == 0 && a.IsTracked;

    internal static bool ShouldRecord(Tensor a, Tensor b) => t_disabledDepth == 0 && (a.IsTracked || b.IsTracked);

    internal static bool ShouldRecord(ReadOnlySpan<Tensor> inputs)
    {
        if (t_disabledDepth != 0) return false;
        foreach (var t in inputs) if (t is not null && t.IsTracked) return true;
        return false;
    }
}
