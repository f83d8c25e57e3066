namespace Batpak.Storage;

/// <summary>
/// The checks one segment's scan makes of its records (docs/FORMAT.md, "Records"): a compaction record only as the
/// first frame, a seal only as the very last bytes, a tombstone only where the compaction record lists it and only
/// without a payload, global sequences rising inside the segment and inside the record's range, and a seal that
/// agrees with the frames it closes. What spans segments (a gap-free global sequence, the global chain's head) is
/// the recovery ledger's job. Used by <see cref="SegmentScanner"/> only.
/// </summary>
internal sealed class SegmentRecordChecks(int segmentId, int headerLength, byte[]? chainKey, Action<SegmentRecords.CompactionRecord>? onCompaction)
{
    private HashSet<long>? _tombstones;
    private int _tombstonesSeen;
    private long _first = -1;
    private long _last = -1;

    /// <summary>The seal, once read.</summary>
    public SegmentRecords.Seal? Seal { get; private set; }

    /// <summary>The compaction record, once read.</summary>
    public SegmentRecords.CompactionRecord? Compaction { get; private set; }

    /// <summary>Takes a record frame's body found at <paramref name="offset"/>; <paramref name="atEnd"/> says whether the file ends right after it.</summary>
    public void Accept(ReadOnlySpan<byte> body, long offset, bool atEnd)
    {
        object record;
        try
        {
            record = SegmentRecords.Decode(body, chainKey);
        }
        catch (FormatException ex)
        {
            throw Corrupt(offset, "a record frame passes its CRC but does not decode: " + ex.Message, ex);
        }

        switch (record)
        {
            case SegmentRecords.CompactionRecord compaction:
                if (offset != headerLength)
                {
                    throw Corrupt(offset, "a compaction record that is not the segment's first frame");
                }

                CheckCompaction(compaction, offset);
                Compaction = compaction;
                _tombstones = [.. compaction.Tombstones];
                onCompaction?.Invoke(compaction);
                break;
            case SegmentRecords.Seal seal:
                if (!atEnd)
                {
                    throw Corrupt(offset, "bytes follow the segment's seal record");
                }

                if (seal.SegmentId != segmentId || seal.FirstGlobal < 0 || seal.NextGlobal < seal.FirstGlobal)
                {
                    throw Corrupt(offset, $"the seal record (segment {seal.SegmentId}, global {seal.FirstGlobal}..{seal.NextGlobal}) does not fit this segment");
                }

                Seal = seal;
                break;
        }
    }

    /// <summary>Checks an event frame against the records read so far.</summary>
    public void CheckEvent(ref FrameFormat.FrameFields fields, int payloadLength, long offset)
    {
        if ((fields.Flags & (ushort)EventFlags.Tombstone) != 0)
        {
            if (_tombstones is null || !_tombstones.Contains(fields.GlobalSequence))
            {
                throw Corrupt(offset, $"event {fields.GlobalSequence} is flagged a tombstone, but no compaction record of this segment lists it");
            }

            if (payloadLength != 0)
            {
                throw Corrupt(offset, $"the tombstone of event {fields.GlobalSequence} still carries a {payloadLength}-byte payload");
            }

            _tombstonesSeen++;
        }

        if (Compaction is { } compaction && (fields.GlobalSequence < compaction.FirstGlobal || fields.GlobalSequence >= compaction.NextGlobal))
        {
            throw Corrupt(offset, $"event {fields.GlobalSequence} lies outside the range {compaction.FirstGlobal}..{compaction.NextGlobal - 1} of the segment's compaction record");
        }

        if (fields.GlobalSequence <= _last)
        {
            throw Corrupt(offset, $"global sequence {fields.GlobalSequence} does not follow {_last} (frames out of order or duplicated)");
        }

        if (_first < 0)
        {
            _first = fields.GlobalSequence;
        }

        _last = fields.GlobalSequence;
    }

    /// <summary>At the end of the segment's frames: checks the seal (required unless <paramref name="sealOptional"/>) against them.</summary>
    public void Finish(bool sealOptional, long end)
    {
        if (Compaction is { } compaction && _tombstonesSeen != compaction.Tombstones.Count)
        {
            throw Corrupt(end, $"the compaction record lists {compaction.Tombstones.Count} tombstones; the segment holds {_tombstonesSeen}");
        }

        if (Seal is not { } seal)
        {
            if (!sealOptional)
            {
                throw Corrupt(end, "the sealed segment ends without its seal record: it was cut at a frame boundary, or its seal was removed");
            }

            return;
        }

        long first = Compaction?.FirstGlobal ?? (_first >= 0 ? _first : seal.NextGlobal);
        if (seal.FirstGlobal != first || _last >= seal.NextGlobal || (Compaction is { } c && seal.NextGlobal != c.NextGlobal))
        {
            throw Corrupt(end, $"the seal says the segment holds global {seal.FirstGlobal}..{seal.NextGlobal - 1}; its frames run from {first} to {_last}");
        }
    }

    private void CheckCompaction(SegmentRecords.CompactionRecord record, long offset)
    {
        if (record.ReplacesFrom < 1 || record.ReplacesFrom > segmentId || record.FirstGlobal < 0 || record.NextGlobal < record.FirstGlobal)
        {
            throw Corrupt(offset, $"the compaction record (replaces from {record.ReplacesFrom}, global {record.FirstGlobal}..{record.NextGlobal}) does not fit this segment");
        }

        long previous = record.FirstGlobal - 1;
        foreach (SegmentRecords.DroppedEvent dropped in record.Dropped)
        {
            if (dropped.GlobalSequence <= previous || dropped.GlobalSequence >= record.NextGlobal || dropped.EntitySequence < 0 || Coordinate.Check(dropped.Entity) is not null)
            {
                throw Corrupt(offset, $"the compaction record's dropped event {dropped.GlobalSequence} is out of order, out of range or invalid");
            }

            previous = dropped.GlobalSequence;
        }

        previous = record.FirstGlobal - 1;
        foreach (long tombstone in record.Tombstones)
        {
            if (tombstone <= previous || tombstone >= record.NextGlobal)
            {
                throw Corrupt(offset, $"the compaction record's tombstone {tombstone} is out of order or out of range");
            }

            previous = tombstone;
        }
    }

    private CorruptSegmentException Corrupt(long offset, string reason, Exception? inner = null) => new(segmentId, offset, reason, inner);
}
