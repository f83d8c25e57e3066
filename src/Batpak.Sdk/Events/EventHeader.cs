namespace Batpak;

/// <summary>
/// Everything the store records about an event besides its coordinate and payload. Immutable.
/// </summary>
/// <param name="EventId">The event's UUIDv7 id.</param>
/// <param name="CorrelationId">The id of the root of the causal tree; equals <paramref name="EventId"/> for a root.</param>
/// <param name="CausationId">The id of the event that caused this one, or <see langword="null"/> for a root.</param>
/// <param name="TimestampMicroseconds">Unix microseconds from the store's <see cref="TimeProvider"/> when the event was appended.</param>
/// <param name="Position">The hybrid logical clock, causation depth and per-entity sequence.</param>
/// <param name="Kind">The event kind.</param>
/// <param name="Flags">The event flags.</param>
/// <param name="GlobalSequence">The store-wide append order, from 0, stable across compaction.</param>
/// <param name="PrevHash">The <see cref="Hash"/> of the entity's previous event, or zero for its first event.</param>
/// <param name="Hash">SHA-256 over the previous hash, the header fields, the coordinate and the payload (see docs/FORMAT.md).</param>
public sealed record EventHeader(
    EventId EventId,
    EventId CorrelationId,
    EventId? CausationId,
    long TimestampMicroseconds,
    DagPosition Position,
    EventKind Kind,
    EventFlags Flags,
    long GlobalSequence,
    EventHash PrevHash,
    EventHash Hash)
{
    /// <summary>The timestamp as a <see cref="DateTimeOffset"/> (UTC).</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.UnixEpoch.AddTicks(TimestampMicroseconds * 10);
}
