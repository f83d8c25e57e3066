namespace Batpak;

/// <summary>
/// An event's header as plain fields, engine-neutral: what an engine decodes from storage and a
/// <see cref="StoredEvent"/> keeps until its <see cref="EventHeader"/> record is first asked for. Filled by the
/// engines' read paths (the embedded one from a frame's fields, <c>FrameFormat.HeaderOf</c>).
/// </summary>
internal struct EventHeaderFields
{
    public long GlobalSequence;
    public EventId EventId;
    public EventId CorrelationId;
    public EventId CausationId; // Empty = none
    public long TimestampMicroseconds;
    public long WallMilliseconds;
    public uint Counter;
    public uint Depth;
    public long EntitySequence;
    public ushort Kind;
    public ushort Flags;
    public EventHash PrevHash;
    public EventHash Hash;

    /// <summary>The public header record.</summary>
    public readonly EventHeader ToHeader() => new(
        EventId,
        CorrelationId,
        CausationId.IsEmpty ? null : CausationId,
        TimestampMicroseconds,
        new DagPosition(WallMilliseconds, Counter, Depth, EntitySequence),
        EventKind.FromValue(Kind),
        (EventFlags)Flags,
        GlobalSequence,
        PrevHash,
        Hash);
}
