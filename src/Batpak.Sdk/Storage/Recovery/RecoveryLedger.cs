namespace Batpak.Storage;

/// <summary>
/// What recovery checks across segments, in global order (docs/FORMAT.md, "Reading and recovery"): the global
/// sequence runs from 0 with no gap except the events a verified compaction record lists as dropped (which it feeds
/// into the index in their place), every sealed segment's seal agrees with the global chain recomputed up to its end,
/// and each entity's sequence and previous-hash link continue its chain. Owned by one open; called under the index
/// lock, on the thread that builds the index.
/// </summary>
internal sealed class RecoveryLedger(StoreIndex index)
{
    private SegmentRecords.CompactionRecord? _record;
    private int _nextDropped;
    private int _segmentId;

    /// <summary>The next global sequence expected.</summary>
    public long Next => index.NextGlobalSequence;

    /// <summary>Where the segment being read began (its first global sequence), for the writer's next seal.</summary>
    public long SegmentFirst { get; private set; } = -1;

    /// <summary>The current segment opens with this compaction record: its dropped events take their places in order.</summary>
    public void BeginCompacted(SegmentRecords.CompactionRecord record, int segmentId)
    {
        if (record.FirstGlobal != Next)
        {
            throw new CorruptSegmentException(segmentId, 0, $"the compaction record starts at global sequence {record.FirstGlobal}; the log so far ends before {Next}");
        }

        _record = record;
        _segmentId = segmentId;
        _nextDropped = 0;
        SegmentFirst = record.FirstGlobal;
        index.AddTombstonesLocked(record.Tombstones);
    }

    /// <summary>Checks an event frame before the index takes it; returns the entity's stream (null for a new entity).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // once per frame at open: tiering would run it unoptimized for most of an open
    public EntityStream? BeforeEvent(ref FrameFormat.FrameFields fields, DiskPosition position)
    {
        FeedDroppedBefore(fields.GlobalSequence);
        if (fields.GlobalSequence != Next)
        {
            throw new CorruptSegmentException(position.SegmentId, position.Offset, fields.GlobalSequence < Next
                ? $"global sequence {fields.GlobalSequence} does not follow {Next - 1} (frames out of order or duplicated)"
                : $"global sequence {fields.GlobalSequence} follows {Next - 1}: events {Next}..{fields.GlobalSequence - 1} are missing and no compaction record says they were dropped");
        }

        if (SegmentFirst < 0)
        {
            SegmentFirst = fields.GlobalSequence;
        }

        EntityStream? stream = index.FindEntityForWriter(fields.Entity);
        long expected = (stream?.LastSequence ?? -1) + 1;
        if (fields.EntitySequence != expected)
        {
            throw new CorruptSegmentException(position.SegmentId, position.Offset, $"entity \"{fields.Entity}\" sequence {fields.EntitySequence} does not follow {expected - 1}");
        }

        if (fields.PrevHash != (stream?.LastHash ?? EventHash.Zero))
        {
            throw new CorruptSegmentException(position.SegmentId, position.Offset, $"entity \"{fields.Entity}\" sequence {fields.EntitySequence}: its previous-hash link does not match the entity's preceding event");
        }

        return stream;
    }

    /// <summary>At the end of a segment: the rest of its dropped events, then its seal against the recomputed chain.</summary>
    public void EndSegment(int segmentId, SegmentRecords.Seal? seal)
    {
        if (_record is { } record)
        {
            FeedDroppedBefore(record.NextGlobal);
            if (Next != record.NextGlobal)
            {
                throw new CorruptSegmentException(segmentId, 0, $"the compaction record covers global sequences up to {record.NextGlobal - 1}; the segment ends at {Next - 1}");
            }
        }

        if (seal is { } s)
        {
            if (s.NextGlobal != Next)
            {
                throw new CorruptSegmentException(segmentId, 0, $"the seal says the segment ends before global sequence {s.NextGlobal}; the log reaches {Next}");
            }

            if (s.Head != index.ChainLocked.Head())
            {
                throw new CorruptSegmentException(segmentId, 0, "the global chain recomputed to the end of the segment does not match its seal: events before it were altered, removed or reordered");
            }
        }

        _record = null;
        SegmentFirst = -1;
    }

    private void FeedDroppedBefore(long globalSequence)
    {
        if (_record is not { } record)
        {
            return;
        }

        while (_nextDropped < record.Dropped.Count && record.Dropped[_nextDropped].GlobalSequence < globalSequence)
        {
            SegmentRecords.DroppedEvent dropped = record.Dropped[_nextDropped++];
            if (dropped.GlobalSequence != Next)
            {
                throw new CorruptSegmentException(_segmentId, 0, $"the compaction record's dropped event {dropped.GlobalSequence} does not follow {Next - 1}");
            }

            EntityStream? stream = index.FindEntityForWriter(dropped.Entity);
            if (dropped.EntitySequence != (stream?.LastSequence ?? -1) + 1)
            {
                throw new CorruptSegmentException(_segmentId, 0, $"the compaction record's dropped event {dropped.GlobalSequence} (entity \"{dropped.Entity}\" sequence {dropped.EntitySequence}) does not continue its entity");
            }

            index.AddDroppedLocked(dropped);
        }
    }
}
