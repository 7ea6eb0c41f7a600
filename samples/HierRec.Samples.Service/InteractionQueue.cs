using System.Threading.Channels;

namespace HierRec.Samples.Service;

/// <summary>
/// Posted interactions wait here, so a request never waits for learning. A background service drains the queue in
/// batches and, when the service runs with a dynamic recommender (<c>--dynamic DIR</c>), learns from each batch with
/// <c>DynamicRecommender.Update</c>, whose snapshot swap keeps serving the old layers meanwhile.
/// </summary>
public sealed class InteractionQueue
{
    private readonly Channel<InteractionEvent> _channel = Channel.CreateBounded<InteractionEvent>(new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _processed;

    /// <summary>Queued and not yet processed.</summary>
    public int Pending => _channel.Reader.Count;

    /// <summary>Processed so far.</summary>
    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>Queues an event; false when the queue is full.</summary>
    public bool TryAdd(InteractionEvent e) => _channel.Writer.TryWrite(e);

    internal ChannelReader<InteractionEvent> Reader => _channel.Reader;

    internal void Done(int count) => Interlocked.Add(ref _processed, count);
}

/// <summary>Drains <see cref="InteractionQueue"/> in batches of up to 256, into the dynamic recommender when there is one.</summary>
internal sealed partial class InteractionWorker(InteractionQueue queue, DynamicModel dynamic, ILogger<InteractionWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<InteractionEvent>(256);
        while (await queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            while (batch.Count < 256 && queue.Reader.TryRead(out var e)) batch.Add(e);
            if (dynamic.Recommender is { } model)
            {
                try
                {
                    var report = model.Update(batch.Select(dynamic.ToInteraction).ToList(), stoppingToken);
                    Updated(logger, report.NewExamples, report.Version, report.Elapsed.TotalMilliseconds);
                }
                catch (Exception ex) when (ex is ArgumentException or KeyNotFoundException or InvalidOperationException)
                {
                    UpdateFailed(logger, ex, batch.Count);
                }
            }
            queue.Done(batch.Count);
            batch.Clear();
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Learnt from {Count} interactions: dynamic snapshot {Version} in service ({Milliseconds:F0} ms)")]
    private static partial void Updated(ILogger logger, int count, long version, double milliseconds);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Learning from {Count} interactions failed; the previous snapshot keeps serving")]
    private static partial void UpdateFailed(ILogger logger, Exception exception, int count);
}

/// <summary>
/// The optional dynamic recommender (<c>--dynamic DIR</c>, a folder saved by <c>DynamicRecommender.Save</c>), with id
/// lookups. The container disposes it at shutdown, which frees the recommender's native memory.
/// </summary>
public sealed class DynamicModel : IDisposable
{
    private readonly Dictionary<string, int> _users = new(StringComparer.Ordinal), _items = new(StringComparer.Ordinal);

    public DynamicModel(HierRec.Items.DynamicRecommender? recommender)
    {
        Recommender = recommender;
        if (recommender is null) return;
        for (int u = 0; u < recommender.Base.UserIds.Count; u++) _users[recommender.Base.UserIds[u]] = u;
        for (int i = 0; i < recommender.Base.ItemIds.Count; i++) _items[recommender.Base.ItemIds[i]] = i;
    }

    /// <summary>The dynamic recommender, or null when the service runs without one.</summary>
    public HierRec.Items.DynamicRecommender? Recommender { get; }

    public void Dispose() => Recommender?.Dispose();

    /// <summary>The event as the recommender's dense interaction (ids are checked by the endpoint first).</summary>
    public HierRec.Data.Interaction ToInteraction(InteractionEvent e) => new(_users[e.UserId], _items[e.ItemId], 1f, e.Timestamp);
}
