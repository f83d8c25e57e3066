using System.Diagnostics.CodeAnalysis;

namespace Batpak.Tests;

/// <summary>
/// A user's decorating store: forwards every member of <see cref="IEventStore"/> to an inner store, except the span
/// form of <c>AppendBatch</c>, which it leaves to the interface's default (so tests run that default over a real
/// store). Tests derive from it to watch or change <see cref="Append"/>. The test owns the inner store: disposing
/// the decorator leaves it open.
/// </summary>
internal class ForwardingEventStore(IEventStore inner) : IEventStore
{
    public string DefaultScope => inner.DefaultScope;

    public virtual AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null) =>
        inner.Append(coordinate, kind, payload, options);

    public ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions? options = null, CancellationToken cancellationToken = default) =>
        inner.AppendAsync(coordinate, kind, payload, options, cancellationToken);

    public IReadOnlyList<AppendReceipt> AppendBatch(IReadOnlyList<EventData> events, bool durable = false) => inner.AppendBatch(events, durable);

    public AppendReceipt AppendReaction(EventId cause, in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null) =>
        inner.AppendReaction(cause, coordinate, kind, payload, options);

    public StoredEvent Get(EventId id) => inner.Get(id);

    public bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent) => inner.TryGet(id, out storedEvent);

    public IEnumerable<StoredEvent> Read(Region region) => inner.Read(region);

    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence = 0) => inner.Stream(entity, fromSequence);

    public IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId) => inner.ReadCorrelated(correlationId);

    public EventPage ReadPage(long fromGlobalSequence, int maxCount = 1000) => inner.ReadPage(fromGlobalSequence, maxCount);

    public IReadOnlyList<StoredEvent> ReadAncestors(EventId id, int limit = 64) => inner.ReadAncestors(id, limit);

    public long GetLastSequence(string entity) => inner.GetLastSequence(entity);

    public ChainVerification Verify(string entity) => inner.Verify(entity);

    public ChainVerification VerifyAll() => inner.VerifyAll();

    public ChainVerification VerifyAll(StoreHead anchor) => inner.VerifyAll(anchor);

    public StoreHead GetHead() => inner.GetHead();

    public Subscription Subscribe(Region region, int capacity = 1024) => inner.Subscribe(region, capacity);

    public EventCursor OpenCursor(Region region, long fromGlobalSequence = 0) => inner.OpenCursor(region, fromGlobalSequence);

    public EventCursor OpenCursor(Region region, string name) => inner.OpenCursor(region, name);

    public CompactionResult Compact(CompactionOptions? options = null) => inner.Compact(options);

    public void Sync() => inner.Sync();

    public void Snapshot(string destinationDirectory) => inner.Snapshot(destinationDirectory);

    public StoreStats GetStats() => inner.GetStats();

    public void Dispose()
    {
        // the test owns the inner store
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
