using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Batpak.Storage;

// The writer's members: adding events and idempotency keys (the holder of the writer's write lock, or recovery before
// the writer starts, with SyncRoot held), and the ...ForWriter look-ups, which only the holder of the write lock may
// call (most without SyncRoot: nothing else mutates what they read).
internal sealed partial class StoreIndex
{
    /// <summary>Recovery and the writer's publish loop: starts loading the id-map slot of an event about to be added (see <see cref="IdMap.Prefetch"/>).</summary>
    public void PrefetchLocked(EventId id) => _byId.Prefetch(id);

    /// <summary>The most live events an index holds by default: the id map's limit.</summary>
    public const long DefaultCapacity = IdMap.MaxCount;

    // Entry positions are ints, and the chunk table's capacity (chunks << ChunkShift) must stay one too.
    private const long MaxPositions = int.MaxValue - ChunkSize;

    /// <summary>The most live events this index holds (<see cref="DefaultCapacity"/> unless a test lowers it).</summary>
    public long Capacity { get; }

    /// <summary>
    /// Writer-side, before an append of <paramref name="events"/> is staged behind <paramref name="staged"/> events
    /// already staged in the batch: throws <see cref="StoreFullException"/> unless they all fit, so a full index
    /// refuses the append before any byte of it is written (a publish that failed part-way would leave the index
    /// naming frames the rollback removed).
    /// </summary>
    public void EnsureRoomForWriter(int staged, int events)
    {
        long held = (long)_byId.Count + staged;
        if (held + events > Capacity || (long)_count + staged + events > MaxPositions)
        {
            throw new StoreFullException(held, events, Math.Min(Capacity, MaxPositions));
        }
    }

    /// <summary>Writer-side: the largest event id the store has issued (kept or dropped); the writer's id generator starts above it.</summary>
    public EventId MaxEventIdForWriter { get; private set; }

    /// <summary>Raises <see cref="MaxEventIdForWriter"/> to <paramref name="id"/> (an event added, kept or dropped).</summary>
    private void NoteIssuedLocked(EventId id)
    {
        if (id > MaxEventIdForWriter)
        {
            MaxEventIdForWriter = id;
        }
    }

    /// <summary>Writer-side: true when <paramref name="scope"/> is a scope the index already holds (its name was validated then).</summary>
    public bool HasScopeForWriter(string scope) => _scopeIds.ContainsKey(scope);

    /// <summary>Writer-side: the entity's stream, or null. Safe without the lock only on the writer thread.</summary>
    public EntityStream? FindEntityForWriter(string entity) => _entities.GetValueOrDefault(entity);

    /// <summary>Writer-side: what the index holds for an idempotency key (the original receipt, and what a repeat must match).</summary>
    public bool TryGetIdempotentForWriter(string key, out IdempotencyRecord record) => _idempotency.TryGetValue(key, out record);

    /// <summary>
    /// Registers an idempotency key: a later append with the key gets <paramref name="receipt"/> when its entity,
    /// kind and <see cref="IdempotencyFingerprint"/> match, else <see cref="IdempotencyConflictException"/>. Called
    /// by <see cref="AddLocked"/>, and by recovery for a key whose event is no longer in the index. The caller holds
    /// <see cref="SyncRoot"/>; a key registered again replaces the earlier record.
    /// </summary>
    public void AddIdempotencyLocked(string key, in AppendReceipt receipt, string entity, ushort kind, ulong fingerprint)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        ThrowIfFreed();
        _idempotency[key] = new IdempotencyRecord(receipt, entity, kind, fingerprint);
    }

    /// <summary>Adds one event (with its idempotency key and <see cref="IdempotencyFingerprint"/>, when it has a key). The caller holds <see cref="SyncRoot"/> (a batch takes it once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
    public void AddLocked(ref IndexEntry entry, string entity, string scope, EventHash hash, string? idempotencyKey, ulong keyFingerprint)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        ThrowIfFreed();
        if (!_entities.TryGetValue(entity, out EntityStream? stream))
        {
            stream = new EntityStream(entity, _entityByIndex.Count);
            _entities.Add(entity, stream);
            _entityByIndex.Add(stream);
        }

        if (!_scopeIds.TryGetValue(scope, out int scopeIndex))
        {
            scopeIndex = _scopeNames.Count;
            _scopeIds.Add(scope, scopeIndex);
            _scopeNames.Add(scope);
            _scopePositions.Add(new PositionList());
        }

        if (!_byKind.TryGetValue(entry.Kind, out PositionList? kindList))
        {
            kindList = new PositionList();
            _byKind.Add(entry.Kind, kindList);
        }

        entry.EntityIndex = stream.Index;
        entry.ScopeIndex = scopeIndex;
        NoteIssuedLocked(entry.Id);

        if (_count == _entries.Capacity)
        {
            AddChunk();
        }

        int position = _count;
        At(position) = entry;
        _count++;
        _byId.Set(entry.Id, position);
        stream.Positions.Add(position);
        _scopePositions[scopeIndex].Add(position);
        kindList.Add(position);
        stream.LastSequence = entry.EntitySequence;
        stream.LastHash = hash;
        _chain.Add(hash);
        if (!entry.CausationId.IsEmpty || entry.CorrelationId != entry.Id)
        {
            if (!_byCorrelation.TryGetValue(entry.CorrelationId, out List<int>? correlated))
            {
                correlated = new List<int>();
                _byCorrelation.Add(entry.CorrelationId, correlated);
            }

            correlated.Add(position);
        }

        if (idempotencyKey is not null)
        {
            AddIdempotencyLocked(idempotencyKey, new AppendReceipt(entry.Id, entry.GlobalSequence, entry.EntitySequence, entry.Position, hash), stream.Name, entry.Kind, keyFingerprint);
        }

        if (entry.GlobalSequence >= NextGlobalSequence)
        {
            NextGlobalSequence = entry.GlobalSequence + 1;
        }

        if (entry.WallMilliseconds > LastWallMilliseconds || (entry.WallMilliseconds == LastWallMilliseconds && entry.Counter > LastCounter))
        {
            LastWallMilliseconds = entry.WallMilliseconds;
            LastCounter = entry.Counter;
        }
    }

    /// <summary>Writer-side look-up of a cause: depth and correlation.</summary>
    public bool TryGetForWriter(EventId id, out IndexEntry entry)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            if (_byId.TryGet(id, out int position))
            {
                entry = At(position);
                return true;
            }
        }

        entry = default;
        return false;
    }
}
