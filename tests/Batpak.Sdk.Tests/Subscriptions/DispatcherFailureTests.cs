using System.Diagnostics.CodeAnalysis;
using Batpak.Engine;

namespace Batpak.Tests.Subscriptions;

/// <summary>
/// The subscription dispatcher when the engine's delivery throws <see cref="ObjectDisposedException"/>: while the
/// store is open that cannot be the store closing, so the subscriptions end with the cause instead of waiting forever
/// (they used to be left open: a reader awaiting them hung); while the store closes, <c>Stop</c> completes them cleanly.
/// </summary>
public sealed class DispatcherFailureTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Deliver_ObjectDisposedWhileTheStoreIsOpen_EndsTheSubscriptionsWithTheCause()
    {
        var notifier = new CommitNotifier();
        var engine = new ThrowingEngine { Next = 0, Failure = new ObjectDisposedException("a connection pool") };
        var dispatcher = new SubscriptionDispatcher(engine, notifier);
        Subscription subscription = dispatcher.Subscribe(Region.All, 16);
        engine.Next = 1; // an event commits, and its delivery fails
        notifier.Signal();

        var ended = await Assert.ThrowsAsync<ObjectDisposedException>(() => subscription.Reader.Completion.WaitAsync(s_bound));
        Assert.Contains("a connection pool", ended.Message, StringComparison.Ordinal);
        Assert.False(notifier.IsClosed);
    }

    [Fact]
    public async Task Deliver_ObjectDisposedWhileTheStoreCloses_StopCompletesTheSubscriptionsCleanly()
    {
        var notifier = new CommitNotifier();
        var engine = new ThrowingEngine { Next = 0 };
        var dispatcher = new SubscriptionDispatcher(engine, notifier);
        Subscription subscription = dispatcher.Subscribe(Region.All, 16);

        notifier.Close(); // the store's Dispose: the notifier first, then Stop, then the engine
        engine.Failure = new ObjectDisposedException("the engine");
        engine.Next = 1;
        dispatcher.Stop(s_bound);

        await subscription.Reader.Completion.WaitAsync(s_bound); // completed without an exception
    }

    /// <summary>An engine whose delivery fails with <see cref="Failure"/> once there is something to deliver; nothing else is used.</summary>
    private sealed class ThrowingEngine : IStorageEngine
    {
        public long Next { get; set; }

        public Exception? Failure { get; set; }

        public string? ReadOnlyReason => null;

        public long NextGlobalSequence => Next;

        public long DeliverCommitted(long from, Subscription[] subscriptions) =>
            from < Next && Failure is { } failure ? throw failure : Math.Max(from, Next);

        public AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions options) => throw new NotSupportedException();

        public ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions options, CancellationToken cancellationToken) => throw new NotSupportedException();

        public AppendReceipt[] AppendBatch(IReadOnlyList<EventData> events, bool durable, AppendReceipt[]? receipts) => throw new NotSupportedException();

        public bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent) => throw new NotSupportedException();

        public bool TryLocate(EventId id, out EventLocation location) => throw new NotSupportedException();

        public IEnumerable<StoredEvent> Read(Region region) => throw new NotSupportedException();

        public IEnumerable<StoredEvent> Stream(string entity, long fromSequence) => throw new NotSupportedException();

        public IEnumerable<StoredEvent> Stream(string entity, long fromSequence, int maxCount) => throw new NotSupportedException();

        public IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId) => throw new NotSupportedException();

        public (List<StoredEvent> Events, long Next) ReadRegionFrom(Region region, long from, int maxCount) => throw new NotSupportedException();

        public long GetLastSequence(string entity) => throw new NotSupportedException();

        public ChainVerification Verify(string entity) => throw new NotSupportedException();

        public ChainVerification VerifyAll(StoreHead? anchor) => throw new NotSupportedException();

        public StoreHead GetHead() => throw new NotSupportedException();

        public CompactionResult Compact(CompactionOptions options) => throw new NotSupportedException();

        public void Sync() => throw new NotSupportedException();

        public void Snapshot(string destinationDirectory) => throw new NotSupportedException();

        public StoreStats GetStats() => throw new NotSupportedException();

        public long ReadCheckpoint(string name) => throw new NotSupportedException();

        public void WriteCheckpoint(string name, long position) => throw new NotSupportedException();

        public ValueTask<IAsyncDisposable> AcquireCursorLeaseAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();

        public void Drain(TimeSpan timeout) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
