using System.Threading.Channels;

namespace HierRec.Samples.Service;

/// <summary>
/// Posted interactions wait here, so a request never waits for learning. A background service drains the queue in
/// batches; with a dynamic recommender attached it calls <c>DynamicRecommender.Update</c>, whose snapshot swap keeps
/// serving the old layers meanwhile. This sample serves the hierarchical model, so it counts and logs the batches.
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

/// <summary>Drains <see cref="InteractionQueue"/> in batches of up to 256.</summary>
internal sealed partial class InteractionWorker(InteractionQueue queue, ILogger<InteractionWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<InteractionEvent>(256);
        while (await queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            while (batch.Count < 256 && queue.Reader.TryRead(out var e)) batch.Add(e);
            // A DynamicRecommender would learn here: dynamic.Update(batch.Select(ToInteraction).ToList(), stoppingToken).
            queue.Done(batch.Count);
            Batch(logger, batch.Count, queue.Processed);
            batch.Clear();
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Processed {Count} interactions ({Total} so far)")]
    private static partial void Batch(ILogger logger, int count, long total);
}
