// The seam between the engine-independent store and an engine that keeps events somewhere. StoreCore (the only
// caller) owns the rules every engine shares; an engine implements storage alone. See docs/ARCHITECTURE.md, "The
// engine seam".
using System.Diagnostics.CodeAnalysis;

namespace Batpak.Engine;

/// <summary>
/// What an engine implements: appends that assign sequences, chain the hashes and keep the CAS and idempotency rules
/// atomic with its storage, reads by id, region, entity and correlation, verification, compaction and durability.
/// </summary>
/// <remarks>
/// <para><see cref="StoreCore"/> calls these only after it checked the arguments (coordinates, kinds, sizes, flags,
/// gate permits, cursor names) and that the store is neither disposed nor read-only, so an engine repeats none of it.
/// It never calls a write member of an engine whose <see cref="ReadOnlyReason"/> is set.</para>
/// <para>Every member may be called from any thread, concurrently, until <see cref="IDisposable.Dispose"/>; after
/// <see cref="Drain"/> only reads and <c>Dispose</c> are called.</para>
/// <para>The shared rules an engine applies while it stores: <see cref="Batpak.Storage.IdempotencyFingerprint"/>
/// (one key, one payload), <see cref="Batpak.Storage.ChainHashing"/> and the frame hash input (docs/FORMAT.md), and the
/// CAS check against the entity's last sequence (<see cref="AppendOptions.ExpectedSequence"/>).</para>
/// </remarks>
internal interface IStorageEngine : IDisposable
{
    /// <summary>Why the engine cannot write (the message of the <see cref="InvalidOperationException"/> an append throws); <see langword="null"/> when it can.</summary>
    string? ReadOnlyReason { get; }

    /// <summary>The global sequence the next committed event gets: every event below it is visible to reads.</summary>
    long NextGlobalSequence { get; }

    /// <summary>Stores one checked event; durable (flushed to stable storage) before it returns when <see cref="AppendOptions.Durable"/> is set.</summary>
    AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions options);

    /// <summary>Stores one checked event durably, completing when it is. The engine may keep <paramref name="payload"/> until then.</summary>
    ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a checked, non-empty batch atomically (every event or none) and returns its receipts, in
    /// <paramref name="receipts"/> when given (at least as long as the batch), else in a new array. Refuses, with an
    /// <see cref="ArgumentException"/> naming the limit, a batch the engine cannot commit as one unit.
    /// </summary>
    AppendReceipt[] AppendBatch(IReadOnlyList<EventData> events, bool durable, AppendReceipt[]? receipts);

    /// <summary>Reads one event by id; <see langword="false"/> when no such event is stored (or compaction dropped it).</summary>
    bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent);

    /// <summary>Where an event sits in its entity's stream and the log, without reading its payload.</summary>
    bool TryLocate(EventId id, out EventLocation location);

    /// <summary>The events of <paramref name="region"/>, in global order, read lazily.</summary>
    IEnumerable<StoredEvent> Read(Region region);

    /// <summary>An entity's events from its sequence <paramref name="fromSequence"/> on, in order, read lazily.</summary>
    IEnumerable<StoredEvent> Stream(string entity, long fromSequence);

    /// <summary>At most <paramref name="maxCount"/> (at least 0) of an entity's events from its sequence <paramref name="fromSequence"/> on, in order.</summary>
    IEnumerable<StoredEvent> Stream(string entity, long fromSequence, int maxCount);

    /// <summary>The events with correlation id <paramref name="correlationId"/>, in global order.</summary>
    IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId);

    /// <summary>Up to <paramref name="maxCount"/> events of <paramref name="region"/> at or after global sequence <paramref name="from"/>, and the position to continue from.</summary>
    (List<StoredEvent> Events, long Next) ReadRegionFrom(Region region, long from, int maxCount);

    /// <summary>
    /// Delivers each committed event at or after <paramref name="from"/>, in global order, to every subscription that
    /// <see cref="Subscription.Wants"/> it (reading an event only when one does); returns the position after the last
    /// event considered. Throws <see cref="ObjectDisposedException"/> once the engine is disposed.
    /// </summary>
    long DeliverCommitted(long from, Subscription[] subscriptions);

    /// <summary>The entity's last sequence, or -1 (<see cref="AppendOptions.NoStream"/>) when it has no events.</summary>
    long GetLastSequence(string entity);

    /// <summary>Recomputes one entity's hash chain from its stored events.</summary>
    ChainVerification Verify(string entity);

    /// <summary>Recomputes every chain in global order, and checks the log against <paramref name="anchor"/> when given.</summary>
    ChainVerification VerifyAll(StoreHead? anchor);

    /// <summary>The head digest of the global chain now (see <see cref="StoreHead"/>).</summary>
    StoreHead GetHead();

    /// <summary>Applies retention and merges storage; see <see cref="IEventStore.Compact"/>.</summary>
    CompactionResult Compact(CompactionOptions options);

    /// <summary>Makes every acknowledged append durable.</summary>
    void Sync();

    /// <summary>Writes a consistent copy of the store into the empty directory <paramref name="destinationDirectory"/>.</summary>
    void Snapshot(string destinationDirectory);

    /// <summary>Counters and sizes; engine notions without meaning here are 0.</summary>
    StoreStats GetStats();

    /// <summary>The stored position of named cursor <paramref name="name"/> (a checked name), 0 when it has none.</summary>
    long ReadCheckpoint(string name);

    /// <summary>Stores, durably and atomically, the position of named cursor <paramref name="name"/>.</summary>
    void WriteCheckpoint(string name, long position);

    /// <summary>
    /// Waits until this instance may advance named cursor <paramref name="name"/> alone among every instance open on
    /// the same store, and holds that right until the returned lease is disposed or the instance dies (a reactor runs
    /// on one instance at a time). StoreCore already serializes holders inside this instance. An engine whose store
    /// only one instance can open returns a lease at once. Cancelling <paramref name="cancellationToken"/> stops the wait.
    /// </summary>
    ValueTask<IAsyncDisposable> AcquireCursorLeaseAsync(string name, CancellationToken cancellationToken);

    /// <summary>Finishes queued appends (waiting up to <paramref name="timeout"/>) and accepts no more; the first step of dispose.</summary>
    void Drain(TimeSpan timeout);
}

/// <summary>Where an event sits: its entity, its sequence there and its global sequence.</summary>
internal readonly record struct EventLocation(string Entity, long EntitySequence, long GlobalSequence);
