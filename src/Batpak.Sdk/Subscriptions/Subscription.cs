using System.Threading.Channels;

namespace Batpak;

/// <summary>
/// A push subscription to new events in a <see cref="Region"/>: bounded and lossy. A consumer that falls more than
/// <see cref="Capacity"/> events behind loses the newest events (counted in <see cref="DroppedCount"/>), so a slow
/// subscriber can never slow down or block the writer. For guaranteed delivery use an <see cref="EventCursor"/>.
/// </summary>
public sealed class Subscription : IDisposable
{
    private readonly Channel<StoredEvent> _channel;
    private readonly Action<Subscription> _onDispose;
    private long _dropped;
    private long _next; // the lowest global sequence still to deliver (written by the dispatcher)
    private int _disposed;

    internal Subscription(Region region, int capacity, long startGlobalSequence, Action<Subscription> onDispose)
    {
        StartGlobalSequence = startGlobalSequence;
        _next = startGlobalSequence;
        Region = region;
        Capacity = capacity;
        _onDispose = onDispose;
        _channel = Channel.CreateBounded<StoredEvent>(new BoundedChannelOptions(capacity)
        {
            SingleWriter = true,
            SingleReader = false,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; the dispatcher counts the drop
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>The first global sequence the subscription can deliver: the store's end when it subscribed.</summary>
    public long StartGlobalSequence { get; }

    /// <summary>The region delivered.</summary>
    public Region Region { get; }

    /// <summary>How many undelivered events the subscription buffers before it drops new ones.</summary>
    public int Capacity { get; }

    /// <summary>Events dropped because the consumer was <see cref="Capacity"/> events behind.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>
    /// The events, in global order (with gaps where events were dropped). Completes when the subscription or the
    /// store is disposed, and completes with the error when delivery fails (for example a corrupt frame).
    /// </summary>
    public ChannelReader<StoredEvent> Reader => _channel.Reader;

    /// <summary>Reads events as they arrive until cancelled, disposed, or the store closes.</summary>
    public IAsyncEnumerable<StoredEvent> ReadAllAsync(CancellationToken cancellationToken = default) => _channel.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Stops delivery and completes <see cref="Reader"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _onDispose(this);
            _channel.Writer.TryComplete();
        }
    }

    /// <summary><see langword="true"/> when an event with these fields is for this subscription: at or after its start and in its region.</summary>
    // Past the last event delivered: a delivery the dispatcher retries after a failure offers nothing twice.
    internal bool Wants(string entity, string scope, EventKind kind, long globalSequence, long timestampMicroseconds) =>
        globalSequence >= Volatile.Read(ref _next) && Region.Matches(entity, scope, kind, globalSequence, timestampMicroseconds);

    internal void Deliver(StoredEvent storedEvent)
    {
        Volatile.Write(ref _next, storedEvent.Header.GlobalSequence + 1); // only the dispatcher delivers, in global order
        if (Volatile.Read(ref _disposed) == 0 && !_channel.Writer.TryWrite(storedEvent))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    internal void Complete(Exception? error = null) => _channel.Writer.TryComplete(error);
}
