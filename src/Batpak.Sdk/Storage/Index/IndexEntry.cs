namespace Batpak.Storage;

/// <summary>
/// What the index keeps per event: enough to filter and locate it, not its payload. Readers get copies; the stored
/// entry changes only under the index lock (compaction moves it, or marks it a tombstone or deleted).
/// </summary>
internal struct IndexEntry
{
    public EventId Id;
    public EventId CorrelationId;
    public EventId CausationId; // Empty = root
    public long GlobalSequence;
    public long EntitySequence;
    public long TimestampMicroseconds;
    public long WallMilliseconds;
    public long Offset;
    public int SegmentId;
    public int Length;
    public int EntityIndex;
    public int ScopeIndex;
    public uint Counter;
    public uint Depth;
    public ushort Kind;
    public ushort Flags;
    public bool Deleted; // dropped by retention compaction; skipped by every reader until the next open

    public readonly DiskPosition Position => new(SegmentId, Offset, Length);
}

/// <summary>
/// The per-entity stream: positions into the global entry array plus the chain head. The index creates one per entity
/// and mutates it under its lock, from whichever thread holds the writer's write lock (or from recovery); the writer
/// reads <see cref="LastSequence"/> and <see cref="LastHash"/> without the index lock (it is their only writer).
/// </summary>
internal sealed class EntityStream(string name, int index)
{
    public readonly string Name = name;
    public readonly int Index = index;
    public readonly PositionList Positions = new();
    public long LastSequence = -1;
    public EventHash LastHash;

    // Writer-only (read and written by the holder of the write lock, never under the index lock): the sequence and
    // hash staged by the current batch (valid while PendingBatch is that batch's number), so staging needs no
    // look-up table of its own.
    public long PendingBatch;
    public long PendingSequence;
    public EventHash PendingHash;
}
