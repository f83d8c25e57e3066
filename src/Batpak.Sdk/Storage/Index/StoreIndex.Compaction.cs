using System.Diagnostics;

namespace Batpak.Storage;

// Compaction's member: applying a group's moves to the entries, called by the compaction swap under the writer's
// write lock with SyncRoot held.
internal sealed partial class StoreIndex
{
    /// <summary>What compaction did to one event.</summary>
    public enum CompactionOutcome
    {
        Kept,
        Tombstoned,
        Dropped,
    }

    /// <summary>Applies a compaction's moves: new positions for kept and tombstoned events, removal of dropped ones.</summary>
    public void ApplyCompactionLocked(List<(long GlobalSequence, EventId Id, DiskPosition Position, CompactionOutcome Outcome, string? IdempotencyKey)> moves)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        ThrowIfFreed();
        foreach ((long globalSequence, EventId id, DiskPosition position, CompactionOutcome outcome, string? key) in moves)
        {
            int at = LowerBound(globalSequence);
            if (at >= _count || At(at).GlobalSequence != globalSequence || At(at).Id != id)
            {
                throw new InvalidOperationException($"Compaction moved event {id} (global sequence {globalSequence}), which the index does not hold.");
            }

            ref IndexEntry entry = ref At(at);
            if (entry.Deleted)
            {
                continue;
            }

            entry.SegmentId = position.SegmentId;
            entry.Offset = position.Offset;
            entry.Length = position.Length;
            if (outcome == CompactionOutcome.Tombstoned)
            {
                entry.Flags |= (ushort)EventFlags.Tombstone;
                _tombstones.Add(globalSequence);
            }
            else if (outcome == CompactionOutcome.Dropped)
            {
                entry.Deleted = true;
                _deleted++;
                _byId.Remove(id);
                if (key is not null && _idempotency.TryGetValue(key, out IdempotencyRecord original))
                {
                    _idempotency[key] = original with { Receipt = original.Receipt with { Position = default } }; // the key outlives the event (its compaction record keeps it)
                }
            }
        }

        Interlocked.Increment(ref _generation);
    }
}
