namespace Batpak;

/// <summary>Where an event's frame sits on disk.</summary>
/// <param name="SegmentId">The segment file id (<c>{SegmentId:D6}.fbat</c>).</param>
/// <param name="Offset">The byte offset of the frame inside the segment file.</param>
/// <param name="Length">The frame's length in bytes, including its 8-byte header.</param>
public readonly record struct DiskPosition(int SegmentId, long Offset, int Length);

/// <summary>What an acknowledged append returns.</summary>
/// <param name="EventId">The new event's id.</param>
/// <param name="GlobalSequence">The store-wide append order, from 0.</param>
/// <param name="EntitySequence">The per-entity sequence, from 0.</param>
/// <param name="Position">Where the frame sits on disk.</param>
/// <param name="Hash">The event's hash-chain link.</param>
public readonly record struct AppendReceipt(EventId EventId, long GlobalSequence, long EntitySequence, DiskPosition Position, EventHash Hash);

/// <summary>Per-append settings. Immutable; <see cref="Default"/> is shared.</summary>
public sealed record AppendOptions
{
    /// <summary>An expected sequence meaning "the entity has no events yet".</summary>
    public const long NoStream = -1;

    /// <summary>No expectations, a new correlation, no flags.</summary>
    public static AppendOptions Default { get; } = new();

    /// <summary>
    /// Optimistic concurrency: the sequence the caller expects the entity's last event to have
    /// (<see cref="NoStream"/> for an entity with no events). A mismatch throws <see cref="SequenceMismatchException"/>
    /// and appends nothing. <see langword="null"/> skips the check.
    /// </summary>
    public long? ExpectedSequence { get; init; }

    /// <summary>
    /// A caller-chosen key (at most 256 characters) that makes the append idempotent: appending the same event again
    /// (same entity, kind and payload) with a key the store already holds returns the first append's receipt and
    /// stores no second event, also after a reopen. Reusing the key for another entity, kind or payload throws
    /// <see cref="IdempotencyConflictException"/>.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The correlation id; by default the cause's correlation for a reaction, else the new event's own id.</summary>
    public EventId? CorrelationId { get; init; }

    /// <summary>The id of the event that caused this one. <c>AppendReaction</c> sets it.</summary>
    public EventId? CausationId { get; init; }

    /// <summary>Flags stored with the event (the SDK-owned flags are rejected).</summary>
    public EventFlags Flags { get; init; }

    /// <summary>
    /// The recorded reason of a gate bypass. Set only by the pipeline's <c>Bypass</c>, which also sets
    /// <see cref="EventFlags.Bypassed"/>; stored in the frame so an audit can list every bypass.
    /// </summary>
    internal string? BypassReason { get; init; }

    /// <summary>
    /// The pipeline's permission to append one event of a gated kind (<see cref="BatpakOptions.GatedKinds"/>). Set
    /// only by <see cref="Pipeline{TContext}"/> when it commits or bypasses; user code can neither create nor set it.
    /// </summary>
    internal GatePermit? GatePermit { get; init; }

    /// <summary>When <see langword="true"/>, the append is acknowledged only after an fsync covers it (group commit shares one fsync between concurrent appenders).</summary>
    public bool Durable { get; init; }
}

/// <summary>One event of an atomic <c>AppendBatch</c>.</summary>
/// <param name="Coordinate">The entity and scope.</param>
/// <param name="Kind">The event kind.</param>
/// <param name="Payload">The payload bytes; read while the call runs, not kept.</param>
/// <param name="Options">Concurrency check, idempotency key, causal links and flags of this event.</param>
public readonly record struct EventData(Coordinate Coordinate, EventKind Kind, ReadOnlyMemory<byte> Payload, AppendOptions? Options = null);

/// <summary>One page of the global log, from <c>ReadPage</c>.</summary>
/// <param name="Events">The events, in global order.</param>
/// <param name="NextGlobalSequence">Pass this to the next <c>ReadPage</c> call.</param>
/// <param name="IsEnd"><see langword="true"/> when the page reached the end of the log as it was when read.</param>
public sealed record EventPage(IReadOnlyList<StoredEvent> Events, long NextGlobalSequence, bool IsEnd);

/// <summary>An event as read back from the store: its coordinate, its header and its payload bytes.</summary>
/// <remarks>
/// A read keeps the header's fields in the event itself and builds the <see cref="Header"/> record on first access,
/// so a reader that looks only at the payload, <see cref="Id"/> or <see cref="Kind"/> allocates two objects per
/// event (this one and the payload), not three.
/// </remarks>
public sealed class StoredEvent
{
    private readonly EventHeaderFields _fields; // the decoded header fields, when _header is built lazily
    private EventHeader? _header;

    internal StoredEvent(Coordinate coordinate, EventHeader header, ReadOnlyMemory<byte> payload, DiskPosition position, string? idempotencyKey, string? bypassReason)
    {
        BypassReason = bypassReason;
        Coordinate = coordinate;
        _header = header;
        Payload = payload;
        Position = position;
        IdempotencyKey = idempotencyKey;
    }

    internal StoredEvent(Coordinate coordinate, in EventHeaderFields fields, ReadOnlyMemory<byte> payload, DiskPosition position, string? idempotencyKey, string? bypassReason)
    {
        Coordinate = coordinate;
        _fields = fields;
        Payload = payload;
        Position = position;
        IdempotencyKey = idempotencyKey;
        BypassReason = bypassReason;
    }

    /// <summary>The event's entity and scope.</summary>
    public Coordinate Coordinate { get; }

    /// <summary>The event's header: ids, clock, kind, flags, hashes.</summary>
    public EventHeader Header => _header ?? CreateHeader();

    /// <summary>The payload bytes, as appended.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Where the frame sits on disk.</summary>
    public DiskPosition Position { get; }

    /// <summary>The idempotency key it was appended with, if any.</summary>
    public string? IdempotencyKey { get; }

    /// <summary>The recorded reason when the event was committed through a gate bypass (<see cref="EventFlags.Bypassed"/>), else <see langword="null"/>.</summary>
    public string? BypassReason { get; }

    /// <summary>Shorthand for <c>Header.EventId</c>.</summary>
    public EventId Id => _header?.EventId ?? _fields.EventId;

    /// <summary>Shorthand for <c>Header.Kind</c>.</summary>
    public EventKind Kind => _header?.Kind ?? EventKind.FromValue(_fields.Kind);

    /// <summary>Returns a one-line description.</summary>
    public override string ToString() =>
        $"#{Header.GlobalSequence} {Coordinate} seq {Header.Position.Sequence} kind {Header.Kind} id {Header.EventId} ({Payload.Length} bytes)";

    private EventHeader CreateHeader()
    {
        // Two threads may both build it: the records are equal, and either one is kept.
        EventHeader header = _fields.ToHeader();
        _header = header;
        return header;
    }
}

/// <summary>The result of a hash-chain verification.</summary>
/// <param name="IsValid"><see langword="true"/> when every link verified.</param>
/// <param name="EventsChecked">How many events were checked.</param>
/// <param name="Failure">The first failure (entity, sequence and reason), or <see langword="null"/>.</param>
public sealed record ChainVerification(bool IsValid, long EventsChecked, string? Failure);

/// <summary>A point-in-time view of the store's counters.</summary>
public sealed record StoreStats
{
    /// <summary>Events in the index.</summary>
    public long EventCount { get; init; }

    /// <summary>Distinct entities.</summary>
    public long EntityCount { get; init; }

    /// <summary>Segment files, sealed and active.</summary>
    public int SegmentCount { get; init; }

    /// <summary>Bytes in all segment files.</summary>
    public long BytesOnDisk { get; init; }

    /// <summary>The next global sequence to be assigned.</summary>
    public long NextGlobalSequence { get; init; }

    /// <summary>fsync calls issued since open.</summary>
    public long SyncCount { get; init; }

    /// <summary>Times the writer restarted after a failed batch since open (see <see cref="BatpakOptions.WriterRestartLimit"/>).</summary>
    public long WriterRestarts { get; init; }

    /// <summary><see langword="true"/> when the writer failed for good: appends throw <see cref="WriterCrashedException"/> until the store is reopened; reads still work.</summary>
    public bool IsWriterFaulted { get; init; }

    /// <summary>Write batches since open (one write call each, at least).</summary>
    public long BatchCount { get; init; }

    /// <summary>Appends waiting for the writer.</summary>
    public int QueueDepth { get; init; }

    /// <summary>Open segment read handles (bounded by the file-handle budget).</summary>
    public int OpenReadHandles { get; init; }

    /// <summary>What recovery did when the store opened.</summary>
    public RecoveryReport Recovery { get; init; } = RecoveryReport.Clean;

    /// <summary>
    /// Bytes of process memory the store's index holds. The embedded engine counts its entries, id map and position
    /// lists exactly and its per-entity, per-key and per-correlation objects by a fixed estimate each; it grows with the
    /// store's history (about 180 bytes per event) until the persisted index (docs/INDEX.md) lands. 0 for the
    /// PostgreSQL engine, whose index is the server's (its bounded name cache is not counted).
    /// </summary>
    public long IndexMemoryBytes { get; init; }
}

/// <summary>What the store found and repaired when it opened.</summary>
/// <param name="SegmentsScanned">Segments whose frames were decoded.</param>
/// <param name="TruncatedBytes">Bytes cut from a torn or corrupt tail of the last segment (0 when clean).</param>
/// <param name="TruncatedAtOffset">The offset the last segment was cut at, or -1.</param>
/// <param name="TruncationReason">Why it was cut, or <see langword="null"/>.</param>
public sealed record RecoveryReport(int SegmentsScanned, long TruncatedBytes, long TruncatedAtOffset, string? TruncationReason)
{
    /// <summary>
    /// <see langword="true"/> when this open upgraded a version-1 store to format version 2 (its chains verified by
    /// version 1's rules, then re-hashed); the version-1 files are kept in the data directory's <c>format-v1</c>
    /// folder, to delete once the upgraded store is trusted.
    /// </summary>
    public bool UpgradedFromVersion1 { get; init; }

    /// <summary>A clean open of an empty store.</summary>
    public static RecoveryReport Clean { get; } = new(0, 0, -1, null);
}
