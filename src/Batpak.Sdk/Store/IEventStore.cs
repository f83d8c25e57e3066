using System.Diagnostics.CodeAnalysis;
using Batpak.Engine;

namespace Batpak;

/// <summary>
/// An append-only event store: per-entity sequences and hash chains, one global order, any number of concurrent
/// readers. <see cref="EventStore"/> is the embedded engine (one writer per data directory).
/// </summary>
/// <remarks>
/// Appends are committed one batch at a time, in one global order (in the embedded engine, by whoever holds the write
/// lock: a synchronous caller writing its own and the queued appends, or the writer thread for async appends). An
/// acknowledged append is stored (and, when durable or when the sync policy says so, flushed to stable storage) and
/// visible to every read that starts after the acknowledgement. Reads never wait for a write longer than an index
/// look-up. Every event read from storage is checked (a CRC-32 per frame in the embedded engine).
/// <para>The read verbs are one family. <c>Get</c>/<c>TryGet</c> read one event by id. <c>Stream</c> reads one
/// entity in its sequence order. <c>Read…</c> reads many events in global order: <c>Read(Region)</c> any region,
/// <c>ReadPage</c> the whole log a page at a time, <c>ReadCorrelated</c> one correlation, <c>ReadAncestors</c> one
/// causal chain. The typed forms keep the verb: <c>Get&lt;TEvent&gt;</c>, <c>Stream&lt;TEvent&gt;</c> and
/// <c>Read&lt;TEvent&gt;</c> read only that event type, <c>StreamTyped</c> and <c>ReadTyped</c> every registered type
/// (<see cref="TypedEventStoreExtensions"/>). Waiting for new events is a subscription or a cursor.</para>
/// </remarks>
public interface IEventStore : IDisposable, IAsyncDisposable
{
    /// <summary>The scope given to typed events whose record has no <see cref="ScopeAttribute"/> member (<see cref="BatpakOptions.DefaultScope"/>).</summary>
    string DefaultScope { get; }

    /// <summary>Appends one event and waits until it is written (and fsynced when durable or due).</summary>
    /// <param name="coordinate">The entity and scope.</param>
    /// <param name="kind">The event kind.</param>
    /// <param name="payload">The payload bytes (copied before the call returns).</param>
    /// <param name="options">Concurrency check, idempotency key, causal links, flags, durability.</param>
    /// <returns>The receipt of the new event, or of the original one for a repeated idempotency key.</returns>
    /// <exception cref="SequenceMismatchException">The expected sequence does not match.</exception>
    /// <exception cref="IdempotencyConflictException">The idempotency key belongs to an event with another entity, kind or payload.</exception>
    /// <exception cref="EventTooLargeException">The event is larger than <see cref="BatpakOptions.MaxEventBytes"/>.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="GateRequiredException">The kind is in <see cref="BatpakOptions.GatedKinds"/> and the append did not come through a <see cref="Pipeline{TContext}"/>; nothing is appended.</exception>
    AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null);

    /// <summary>Appends one event and completes once it is durable (fsynced), sharing the fsync with concurrent appenders.</summary>
    /// <param name="coordinate">The entity and scope.</param>
    /// <param name="kind">The event kind.</param>
    /// <param name="payload">The payload bytes (not copied until the writer encodes them: do not reuse the buffer before completion).</param>
    /// <param name="options">Concurrency check, idempotency key, causal links, flags. The append is always durable.</param>
    /// <param name="cancellationToken">Cancels the wait for queue space; once queued the append is no longer cancellable.</param>
    /// <exception cref="GateRequiredException">The kind is in <see cref="BatpakOptions.GatedKinds"/> and the append did not come through a <see cref="Pipeline{TContext}"/>; nothing is appended.</exception>
    /// <returns>The receipt of the new event, or of the original one for a repeated idempotency key.</returns>
    /// <exception cref="SequenceMismatchException">The expected sequence does not match.</exception>
    /// <exception cref="IdempotencyConflictException">The idempotency key belongs to an event with another entity, kind or payload.</exception>
    ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends several events atomically: all are validated first (expected sequences, causes, sizes) and then
    /// written with one write, in order, into one segment; either every event is acknowledged or none is, and a
    /// crash can never leave part of the batch behind (recovery drops an incomplete batch).
    /// </summary>
    /// <param name="events">The events, in the order they get their sequences. The batch must fit in <see cref="BatpakOptions.SegmentMaxBytes"/>.</param>
    /// <param name="durable">Acknowledge only after an fsync covers the batch.</param>
    /// <returns>One receipt per event, in order (the original receipt for an idempotent repeat).</returns>
    /// <exception cref="SequenceMismatchException">An expected sequence does not match; nothing is appended.</exception>
    /// <exception cref="IdempotencyConflictException">An event's idempotency key belongs to an event (stored, or earlier in the batch) with another entity, kind or payload; nothing is appended.</exception>
    /// <exception cref="ArgumentException">The batch is empty, holds an invalid event, or does not fit in one segment.</exception>
    /// <exception cref="GateRequiredException">An event's kind is in <see cref="BatpakOptions.GatedKinds"/>; nothing is appended.</exception>
    IReadOnlyList<AppendReceipt> AppendBatch(IReadOnlyList<EventData> events, bool durable = false);

    /// <summary>The argument checks of the span form of <c>AppendBatch</c>, shared by its implementations.</summary>
    internal static void CheckReceiptSpan(IReadOnlyList<EventData> events, Span<AppendReceipt> receipts)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (receipts.Length < events.Count)
        {
            throw new ArgumentException($"The receipts span holds {receipts.Length} receipts; the batch has {events.Count} events.", nameof(receipts));
        }
    }

    /// <summary>
    /// Appends several events atomically, like <see cref="AppendBatch(IReadOnlyList{EventData}, bool)"/>, and writes
    /// their receipts into <paramref name="receipts"/> instead of allocating a list: the allocation-free form for
    /// high-rate writers.
    /// </summary>
    /// <param name="events">The events, in the order they get their sequences.</param>
    /// <param name="receipts">Receives one receipt per event, in order; at least <c>events.Count</c> long.</param>
    /// <param name="durable">Acknowledge only after an fsync covers the batch.</param>
    /// <exception cref="ArgumentException"><paramref name="receipts"/> is shorter than the batch, or as for the other overload.</exception>
    void AppendBatch(IReadOnlyList<EventData> events, Span<AppendReceipt> receipts, bool durable = false)
    {
        CheckReceiptSpan(events, receipts);
        IReadOnlyList<AppendReceipt> written = AppendBatch(events, durable);
        for (int i = 0; i < written.Count; i++)
        {
            receipts[i] = written[i];
        }
    }

    /// <summary>Appends an event caused by <paramref name="cause"/>: causation is set to it and correlation inherited from it.</summary>
    /// <exception cref="EventNotFoundException"><paramref name="cause"/> is not in the store.</exception>
    /// <exception cref="GateRequiredException">The kind is in <see cref="BatpakOptions.GatedKinds"/> and the append did not come through a <see cref="Pipeline{TContext}"/>; nothing is appended.</exception>
    AppendReceipt AppendReaction(EventId cause, in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null);

    /// <summary>Reads one event by id.</summary>
    /// <exception cref="EventNotFoundException">No such event.</exception>
    StoredEvent Get(EventId id);

    /// <summary>Reads one event by id, or returns <see langword="false"/>.</summary>
    bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent);

    /// <summary>
    /// The events inside <paramref name="region"/> (an entity, an entity prefix, a scope, kinds, a global-sequence or
    /// time range, or any combination: see <see cref="Region"/>), in global order, read lazily, as of the call (later
    /// appends are not included).
    /// </summary>
    IEnumerable<StoredEvent> Read(Region region);

    /// <summary>An entity's events in sequence order, starting at <paramref name="fromSequence"/>.</summary>
    IEnumerable<StoredEvent> Stream(string entity, long fromSequence = 0);

    /// <summary>
    /// At most <paramref name="maxCount"/> of an entity's events in sequence order, starting at
    /// <paramref name="fromSequence"/>: <c>Stream(entity, 5, 1)</c> is the entity's event 5 alone (or nothing). A
    /// server-side store fetches only that many.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromSequence"/> or <paramref name="maxCount"/> is negative.</exception>
    IEnumerable<StoredEvent> Stream(string entity, long fromSequence, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        return Stream(entity, fromSequence).Take(maxCount);
    }

    /// <summary>Every event of one correlation (the root and everything it caused, transitively), in global order.</summary>
    IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId);

    /// <summary>One page of the global log: up to <paramref name="maxCount"/> events from <paramref name="fromGlobalSequence"/> on, and where the next page starts.</summary>
    EventPage ReadPage(long fromGlobalSequence, int maxCount = 1000);

    /// <summary>Follows causation links from <paramref name="id"/>: the event itself, its cause, the cause's cause, ... at most <paramref name="limit"/> events.</summary>
    /// <exception cref="EventNotFoundException"><paramref name="id"/> is not in the store.</exception>
    IReadOnlyList<StoredEvent> ReadAncestors(EventId id, int limit = 64);

    /// <summary>The sequence of the entity's last event, or -1 when it has none.</summary>
    long GetLastSequence(string entity);

    /// <summary>Re-reads an entity's events and recomputes its hash chain.</summary>
    ChainVerification Verify(string entity);

    /// <summary>
    /// Re-reads every event in global order and recomputes every entity's hash chain and the global chain: any event
    /// altered, removed, reordered or repeated (outside what a verified compaction record says it removed) fails it.
    /// </summary>
    ChainVerification VerifyAll();

    /// <summary>
    /// <see cref="VerifyAll()"/>, and also proves that the store still holds every event <paramref name="anchor"/>
    /// covers, unchanged: the global chain recomputed over the first <see cref="StoreHead.NextGlobalSequence"/> events
    /// must give the anchor's digest. This detects what no check inside the files can: the tail of the log cut off.
    /// </summary>
    /// <param name="anchor">A head taken earlier with <see cref="GetHead"/> and kept outside the store.</param>
    ChainVerification VerifyAll(StoreHead anchor);

    /// <summary>
    /// The store's head now: the next global sequence and the global chain's digest over every event before it. Keep
    /// it outside the store as an anchor for <see cref="VerifyAll(StoreHead)"/>.
    /// </summary>
    StoreHead GetHead();

    /// <summary>
    /// Subscribes to events appended from now on inside <paramref name="region"/>: push, bounded by
    /// <paramref name="capacity"/>, lossy for a consumer that falls behind (drops are counted, the writer never waits).
    /// </summary>
    Subscription Subscribe(Region region, int capacity = 1024);

    /// <summary>Opens a pull cursor with guaranteed, in-order delivery of <paramref name="region"/> from <paramref name="fromGlobalSequence"/> on.</summary>
    EventCursor OpenCursor(Region region, long fromGlobalSequence = 0);

    /// <summary>
    /// Opens a named cursor that resumes from the position its last <see cref="EventCursor.Commit"/> stored in the
    /// data directory (from the start when it never committed), also after a restart.
    /// </summary>
    /// <param name="region">The region delivered.</param>
    /// <param name="name">1 to 128 letters, digits, '.', '-' or '_'.</param>
    EventCursor OpenCursor(Region region, string name);

    /// <summary>
    /// Rewrites the sealed segments: merges adjacent small ones (up to <see cref="BatpakOptions.SegmentMaxBytes"/>)
    /// and applies the retention predicate, dropping rejected events or replacing them with tombstones. Appends and
    /// reads continue meanwhile; a crash at any point leaves a store that opens with every event either in its old
    /// or its new place. The active segment is never touched.
    /// </summary>
    CompactionResult Compact(CompactionOptions? options = null);

    /// <summary>Waits until everything appended so far is fsynced.</summary>
    void Sync();

    /// <summary>Writes a consistent copy of the store (as of the call) into an empty or new directory, openable as a store.</summary>
    void Snapshot(string destinationDirectory);

    /// <summary>The store's counters now.</summary>
    StoreStats GetStats();

    /// <summary>
    /// Where an event sits (its entity, entity sequence and global sequence) without reading its payload where the
    /// store can; the SDK's projection cache checks use it. A store implemented outside the SDK answers by reading.
    /// </summary>
    internal bool TryLocate(EventId id, out EventLocation location)
    {
        if (TryGet(id, out StoredEvent? stored))
        {
            location = new EventLocation(stored.Coordinate.Entity, stored.Header.Position.Sequence, stored.Header.GlobalSequence);
            return true;
        }

        location = default;
        return false;
    }

    /// <summary>
    /// <see langword="true"/> when an append of <paramref name="kind"/> needs a pipeline's gate permit. A store
    /// implemented outside the SDK may forward to one that gates the kind, so it gets the permit.
    /// </summary>
    internal bool RequiresGatePermit(EventKind kind) => true;

    /// <summary>
    /// Waits for the exclusive right to advance named cursor <paramref name="name"/> (see
    /// <see cref="Batpak.Engine.IStorageEngine.AcquireCursorLeaseAsync"/>); <see cref="ReactorRunner"/> holds it while
    /// it runs. A store implemented outside the SDK grants it at once.
    /// </summary>
    internal ValueTask<IAsyncDisposable> AcquireCursorLeaseAsync(string name, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IAsyncDisposable>(NoLease.Instance);
}

/// <summary>A lease that holds nothing: releasing it does nothing.</summary>
internal sealed class NoLease : IAsyncDisposable
{
    /// <summary>The one instance.</summary>
    public static readonly NoLease Instance = new();

    private NoLease()
    {
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
