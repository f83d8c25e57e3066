using System.Buffers;
using System.Security.Cryptography;

namespace Batpak.Storage;

/// <summary>
/// Verification (docs/SECURITY.md): <c>Verify</c> re-reads one entity's events and recomputes its chain;
/// <c>VerifyAll</c> re-reads the whole log in global order and recomputes every entity chain and the global chain,
/// checked against the head the store holds and, when given, against an anchor kept outside the store. Events that a
/// verified compaction record lists as dropped take their places by their recorded hashes; a tombstone's content
/// cannot be recomputed (its payload is gone), so it must be one a compaction record lists. Lock-free like the reads
/// it makes; called by <see cref="SegmentEngine"/> for <c>Verify</c> and <c>VerifyAll</c>.
/// </summary>
internal sealed class ChainVerifier(byte[]? chainKey, StoreIndex index, SegmentReader reader)
{
    private readonly byte[]? _chainKey = chainKey;
    private readonly StoreIndex _index = index;

    /// <summary>Re-reads one entity's events and recomputes its chain.</summary>
    public ChainVerification Verify(string entity)
    {
        using IncrementalHash sha = ChainHashing.Create(_chainKey);
        SegmentRecords.DroppedEvent[] dropped = _index.DroppedOf(entity);
        int nextDropped = 0;
        EventHash previous = EventHash.Zero;
        long expected = 0;
        long checkedCount = 0;
        StoreIndex.RegionCursor cursor = _index.OpenCursor(Region.ForEntity(entity));
        var chunk = new List<(IndexEntry Entry, string Entity, string Scope)>();
        while (cursor.NextChunk(chunk))
        {
            foreach ((IndexEntry entry, _, _) in chunk)
            {
                while (nextDropped < dropped.Length && dropped[nextDropped].EntitySequence < entry.EntitySequence)
                {
                    SegmentRecords.DroppedEvent gone = dropped[nextDropped++];
                    if (gone.EntitySequence != expected)
                    {
                        return Failed($"entity \"{entity}\": the dropped event {gone.EntitySequence} does not follow {expected - 1}");
                    }

                    previous = gone.Hash;
                    expected++;
                }

                string? failure = CheckEvent(entry, entity, expected, previous, sha, out EventHash hash);
                if (failure is not null)
                {
                    return Failed(failure);
                }

                previous = hash;
                expected++;
                checkedCount++;
            }
        }

        return new ChainVerification(true, checkedCount, null);

        ChainVerification Failed(string failure) => new(false, checkedCount, failure);
    }

    /// <summary>Re-reads the whole log in global order and recomputes every chain, checked against <paramref name="anchor"/> when given.</summary>
    public ChainVerification VerifyAll(StoreHead? anchor)
    {
        StoreHead head = _index.GetHead(); // what is checked: every event up to here (later appends are not)
        using IncrementalHash sha = ChainHashing.Create(_chainKey);
        using var chain = new GlobalChain(_chainKey);
        var entities = new Dictionary<string, (long Next, EventHash Last)>(StringComparer.Ordinal);
        SegmentRecords.DroppedEvent[] dropped = _index.DroppedSnapshot();
        int nextDropped = 0;
        long checkedCount = 0;
        EventHash? atAnchor = anchor is { NextGlobalSequence: 0 } ? chain.Head() : null;
        StoreIndex.RegionCursor cursor = _index.OpenCursor(Region.All);
        var chunk = new List<(IndexEntry Entry, string Entity, string Scope)>();
        string? failure = null;
        while (failure is null && cursor.NextChunk(chunk))
        {
            foreach ((IndexEntry entry, string entity, _) in chunk)
            {
                if (entry.GlobalSequence >= head.NextGlobalSequence || (failure = FeedDropped(entry.GlobalSequence)) is not null)
                {
                    break;
                }

                (long next, EventHash last) = entities.GetValueOrDefault(entity, (0, EventHash.Zero));
                if (entry.GlobalSequence != chain.Next)
                {
                    failure = $"global sequence {entry.GlobalSequence} follows {chain.Next - 1}: events are missing and no compaction record says they were dropped";
                    break;
                }

                failure = CheckEvent(entry, entity, next, last, sha, out EventHash hash);
                if (failure is not null)
                {
                    break;
                }

                entities[entity] = (next + 1, hash);
                Chain(hash);
                checkedCount++;
            }
        }

        failure ??= FeedDropped(head.NextGlobalSequence);
        if (failure is null && chain.Next != head.NextGlobalSequence)
        {
            failure = $"the files hold {chain.Next} events; the store holds {head.NextGlobalSequence}";
        }

        if (failure is null && chain.Head() != head.Digest)
        {
            failure = "the global chain recomputed from the files does not match the head the store holds: an event was altered, removed or reordered";
        }

        if (failure is null && anchor is { } a)
        {
            if (a.NextGlobalSequence > head.NextGlobalSequence)
            {
                failure = $"the anchor covers {a.NextGlobalSequence} events but the store holds {head.NextGlobalSequence}: the end of the log is gone (or the anchor is from another store)";
            }
            else if (atAnchor != a.Digest)
            {
                failure = $"the first {a.NextGlobalSequence} events do not give the anchor's digest: the log before the anchor was altered (or the anchor is from another store)";
            }
        }

        return new ChainVerification(failure is null, checkedCount, failure);

        string? FeedDropped(long before)
        {
            while (nextDropped < dropped.Length && dropped[nextDropped].GlobalSequence < before)
            {
                SegmentRecords.DroppedEvent gone = dropped[nextDropped++];
                (long next, _) = entities.GetValueOrDefault(gone.Entity, (0, EventHash.Zero));
                if (gone.GlobalSequence != chain.Next || gone.EntitySequence != next)
                {
                    return $"the dropped event {gone.GlobalSequence} (entity \"{gone.Entity}\" sequence {gone.EntitySequence}) is out of place";
                }

                entities[gone.Entity] = (next + 1, gone.Hash);
                Chain(gone.Hash);
            }

            return null;
        }

        void Chain(in EventHash hash)
        {
            chain.Add(hash);
            if (anchor is { } a && chain.Next == a.NextGlobalSequence)
            {
                atAnchor = chain.Head();
            }
        }
    }

    /// <summary>
    /// Re-reads one event and checks it as the <paramref name="expectedSequence"/>-th of its entity after a link to
    /// <paramref name="previous"/>: its sequence, its previous-hash link and its content (recomputed hash; a tombstone
    /// must be one compaction made). Returns why it fails, or null; <paramref name="hash"/> is its stored hash.
    /// </summary>
    private string? CheckEvent(in IndexEntry entry, string entity, long expectedSequence, in EventHash previous, IncrementalHash sha, out EventHash hash)
    {
        hash = default;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(entry.Length);
        try
        {
            FrameFormat.FrameFields fields;
            ReadOnlyMemory<byte> payload;
            try
            {
                fields = reader.ReadFrame(entry, buffer, out payload);
            }
            catch (CorruptSegmentException ex)
            {
                return $"entity \"{entity}\" sequence {entry.EntitySequence}: {ex.Message}";
            }

            hash = fields.Hash;
            if (fields.EntitySequence != expectedSequence)
            {
                return $"entity \"{entity}\": sequence {fields.EntitySequence} follows {expectedSequence - 1} ({(fields.EntitySequence < expectedSequence ? "a reordering or a duplicate" : "a gap no compaction record accounts for")})";
            }

            if (fields.PrevHash != previous)
            {
                return $"entity \"{entity}\" sequence {fields.EntitySequence}: its previous-hash link does not match the preceding event's hash";
            }

            if ((fields.Flags & (ushort)EventFlags.Tombstone) != 0)
            {
                // The payload is gone, so the content cannot be recomputed; only a compaction may have made it.
                return _index.IsTombstone(fields.GlobalSequence) && payload.IsEmpty
                    ? null
                    : $"entity \"{entity}\" sequence {fields.EntitySequence}: flagged a tombstone, but no compaction record made it one";
            }

            EventHash computed = FrameFormat.ComputeHash(sha, fields, payload.Span);
            return computed == fields.Hash
                ? null
                : $"entity \"{entity}\" sequence {fields.EntitySequence} (segment {entry.SegmentId:D6}, offset {entry.Offset}): the stored hash {fields.Hash} does not match the recomputed {computed}; the event was altered";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
