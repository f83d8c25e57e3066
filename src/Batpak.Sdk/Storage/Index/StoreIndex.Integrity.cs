using System.Diagnostics;

namespace Batpak.Storage;

/// <summary>
/// The index's integrity state: the global chain over every event hash (<see cref="GlobalChain"/>, fed by every
/// <c>AddLocked</c>), the events compaction dropped (kept for the chains and for their idempotency keys), and the
/// global sequences compaction turned into tombstones. Recovery fills it from the compaction records; a live
/// compaction adds to it. The <c>...Locked</c> members need <see cref="SyncRoot"/> held: recovery calls
/// <c>AddDroppedLocked</c> and <c>AddTombstonesLocked</c>, compaction's swap <c>RecordDroppedLocked</c>, the holder of
/// the writer's write lock <c>ChainLocked</c>. The rest take <see cref="SyncRoot"/> themselves and are called by
/// readers and verification from any thread.
/// </summary>
internal sealed partial class StoreIndex
{
    private readonly GlobalChain _chain;
    private readonly List<SegmentRecords.DroppedEvent> _dropped = new(); // global order
    private readonly Dictionary<string, List<SegmentRecords.DroppedEvent>> _droppedByEntity = new(StringComparer.Ordinal); // entity order
    private readonly HashSet<long> _tombstones = new();

    /// <summary>Creates an empty index whose global chain is keyed with <paramref name="chainKey"/> (null: SHA-256), holding at most <paramref name="capacity"/> live events.</summary>
    public StoreIndex(byte[]? chainKey = null, long capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _chain = new GlobalChain(chainKey);
        Capacity = capacity;
    }

    /// <summary>The global chain (under <see cref="SyncRoot"/>).</summary>
    public GlobalChain ChainLocked
    {
        get
        {
            Debug.Assert(_lock.IsHeldByCurrentThread);
            return _chain;
        }
    }

    /// <summary>The chain's head as of now: the next global sequence and the digest of every event before it.</summary>
    public StoreHead GetHead()
    {
        lock (_lock)
        {
            ThrowIfFreed();
            return new StoreHead(_chain.Next, _chain.Head());
        }
    }

    /// <summary>Every dropped event, in global order (a copy).</summary>
    public SegmentRecords.DroppedEvent[] DroppedSnapshot()
    {
        lock (_lock)
        {
            return [.. _dropped];
        }
    }

    /// <summary>The entity's dropped events in sequence order (a copy; empty when none).</summary>
    public SegmentRecords.DroppedEvent[] DroppedOf(string entity)
    {
        lock (_lock)
        {
            return _droppedByEntity.TryGetValue(entity, out List<SegmentRecords.DroppedEvent>? list) ? [.. list] : [];
        }
    }

    /// <summary>True when compaction made the event with this global sequence a tombstone.</summary>
    public bool IsTombstone(long globalSequence)
    {
        lock (_lock)
        {
            return _tombstones.Contains(globalSequence);
        }
    }

    /// <summary>
    /// Recovery: takes the place of a dropped event in global order: chains its hash, moves the entity's chain head
    /// and sequence past it (so the next append continues the entity's chain), and keeps its idempotency key.
    /// </summary>
    public void AddDroppedLocked(SegmentRecords.DroppedEvent dropped)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        ThrowIfFreed();
        if (!_entities.TryGetValue(dropped.Entity, out EntityStream? stream))
        {
            stream = new EntityStream(dropped.Entity, _entityByIndex.Count);
            _entities.Add(dropped.Entity, stream);
            _entityByIndex.Add(stream);
        }

        stream.LastSequence = dropped.EntitySequence;
        stream.LastHash = dropped.Hash;
        NoteIssuedLocked(dropped.EventId);
        _chain.Add(dropped.Hash);
        NextGlobalSequence = Math.Max(NextGlobalSequence, dropped.GlobalSequence + 1);
        RememberDropped(dropped);
        if (dropped.IdempotencyKey is not null)
        {
            AddIdempotencyLocked(dropped.IdempotencyKey, new AppendReceipt(dropped.EventId, dropped.GlobalSequence, dropped.EntitySequence, default, dropped.Hash), dropped.Entity, dropped.Kind, dropped.Fingerprint);
        }
    }

    /// <summary>Recovery: the tombstones a compaction record lists.</summary>
    public void AddTombstonesLocked(IReadOnlyList<long> globalSequences)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        _tombstones.UnionWith(globalSequences);
    }

    /// <summary>A live compaction dropped these events (already chained and indexed before): keeps them as dropped.</summary>
    public void RecordDroppedLocked(IReadOnlyList<SegmentRecords.DroppedEvent> dropped)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        if (dropped.Count == 0)
        {
            return;
        }

        foreach (SegmentRecords.DroppedEvent d in dropped)
        {
            RememberDropped(d);
        }

        // Events dropped now may precede ones dropped by an earlier compaction: restore the orders, for the
        // entities this compaction touched only.
        _dropped.Sort(static (a, b) => a.GlobalSequence.CompareTo(b.GlobalSequence));
        foreach (string entity in dropped.Select(static d => d.Entity).Distinct(StringComparer.Ordinal))
        {
            _droppedByEntity[entity].Sort(static (a, b) => a.EntitySequence.CompareTo(b.EntitySequence));
        }
    }

    private void RememberDropped(SegmentRecords.DroppedEvent dropped)
    {
        _dropped.Add(dropped);
        if (!_droppedByEntity.TryGetValue(dropped.Entity, out List<SegmentRecords.DroppedEvent>? list))
        {
            list = new List<SegmentRecords.DroppedEvent>();
            _droppedByEntity.Add(dropped.Entity, list);
        }

        list.Add(dropped);
    }
}
