using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Batpak.Storage;

/// <summary>What the index keeps per event: enough to filter and locate it, not its payload.</summary>
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

/// <summary>The per-entity stream: positions into the global entry array plus the chain head.</summary>
internal sealed class EntityStream(string name, int index)
{
    public readonly string Name = name;
    public readonly int Index = index;
    public readonly NativeIntList Positions = new();
    public long LastSequence = -1;
    public EventHash LastHash;

    // Writer-only: the sequence and hash staged by the writer's current batch (valid while PendingBatch is that
    // batch's number), so staging needs no look-up table of its own.
    public long PendingBatch;
    public long PendingSequence;
    public EventHash PendingHash;
}

/// <summary>
/// The in-memory index: by event id, per-entity stream (ordered), per scope, per kind, per correlation, and the
/// global order.
/// </summary>
/// <remarks>
/// <para>Ownership: only the writer thread (and, before it starts, recovery) mutates the index, always under
/// <c>_lock</c>. Readers take <c>_lock</c> to look up or copy a chunk of entries and read frames outside it, so a
/// read holds the lock for an index look-up, never for I/O.</para>
/// <para>Memory: entries live in fixed-size chunks of native memory, the id map is a native open-addressing table
/// (<see cref="NativeIdMap"/>) and the per-entity, per-scope and per-kind position lists are native too. So an
/// append to an existing entity allocates nothing on the managed heap, and a store of millions of events keeps its
/// index out of the garbage collector's way. Every access to native memory happens under <c>_lock</c> (or on the
/// writer, the only thread that grows it), and <see cref="Dispose"/> frees it under the same lock, so no reader can
/// touch freed memory: after disposal the look-ups throw <see cref="ObjectDisposedException"/>. The finalizer is only
/// a backstop for a store that failed to open; no memory pressure is reported to the GC (it would only trigger
/// collections that cannot free any of it).</para>
/// <para>Entries are append-only: a position (index into the entry chunks) never changes meaning while the index
/// lives, so an enumeration that captured a count keeps reading a consistent prefix while appends continue.</para>
/// <para>The writer reads <see cref="EntityStream.LastSequence"/>/<see cref="EntityStream.LastHash"/> without the
/// lock: it is their only writer.</para>
/// </remarks>
internal sealed unsafe partial class StoreIndex : IDisposable
{
    private readonly Lock _lock = new();
    private readonly NativeIdMap _byId = new();
    private readonly Dictionary<string, EntityStream> _entities = new(StringComparer.Ordinal);
    private readonly List<EntityStream> _entityByIndex = new();
    private readonly Dictionary<string, int> _scopeIds = new(StringComparer.Ordinal);
    private readonly List<string> _scopeNames = new();
    private readonly List<NativeIntList> _scopePositions = new();
    private readonly Dictionary<ushort, NativeIntList> _byKind = new();
    private readonly Dictionary<EventId, List<int>> _byCorrelation = new(); // non-root events only
    private readonly Dictionary<string, IdempotencyRecord> _idempotency = new(StringComparer.Ordinal);
    // Entries live in fixed-size chunks of native memory: growing never copies (no latency spike, nothing for the GC
    // to scan or compact), and a position maps to (chunk, slot) with a shift and a mask.
    private const int ChunkShift = 14;
    private const int ChunkSize = 1 << ChunkShift;
    private IntPtr[] _chunks = new IntPtr[4];
    private int _chunkCount;
    private int _count;
    private int _deleted;
    private long _generation;
    private bool _freed;

    ~StoreIndex() => FreeChunks();

    /// <summary>Incremented by every compaction that moved or removed events (readers use it to tell a move from damage).</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public Lock SyncRoot => _lock;

    /// <summary>The next global sequence to assign (one past the largest seen).</summary>
    public long NextGlobalSequence { get; private set; }

    /// <summary>The hybrid logical clock's last stamp.</summary>
    public long LastWallMilliseconds { get; private set; } = long.MinValue;

    public uint LastCounter { get; private set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count - _deleted;
            }
        }
    }

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

    public int EntityCount
    {
        get
        {
            lock (_lock)
            {
                return _entities.Count;
            }
        }
    }

    /// <summary>Sizes the id map and the chunk table for about <paramref name="events"/> events, so a large recovery does not rehash again and again.</summary>
    public void Reserve(int events)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            _byId.EnsureCapacity(events);
            int chunks = (int)(((long)events + ChunkSize - 1) >> ChunkShift);
            if (chunks > _chunks.Length)
            {
                Array.Resize(ref _chunks, chunks);
            }
        }
    }

    /// <summary>Recovery: starts loading the id-map slot of an event about to be added (see <see cref="NativeIdMap.Prefetch"/>).</summary>
    public void PrefetchLocked(EventId id) => _byId.Prefetch(id);

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
            _scopePositions.Add(new NativeIntList());
        }

        if (!_byKind.TryGetValue(entry.Kind, out NativeIntList? kindList))
        {
            kindList = new NativeIntList();
            _byKind.Add(entry.Kind, kindList);
        }

        entry.EntityIndex = stream.Index;
        entry.ScopeIndex = scopeIndex;
        if (_count == _chunkCount << ChunkShift)
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public bool TryGet(EventId id, out IndexEntry entry, [NotNullWhen(true)] out string? entity, [NotNullWhen(true)] out string? scope)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            if (_byId.TryGet(id, out int position))
            {
                ref IndexEntry found = ref At(position);
                entry = found;
                entity = _entityByIndex[found.EntityIndex].Name;
                scope = _scopeNames[found.ScopeIndex];
                return true;
            }
        }

        entry = default;
        entity = scope = null;
        return false;
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

    public long GetLastSequence(string entity)
    {
        lock (_lock)
        {
            return _entities.TryGetValue(entity, out EntityStream? stream) ? stream.LastSequence : -1;
        }
    }

    public (string Entity, string Scope) NamesOf(in IndexEntry entry)
    {
        lock (_lock)
        {
            return (_entityByIndex[entry.EntityIndex].Name, _scopeNames[entry.ScopeIndex]);
        }
    }

    /// <summary>The names of every entity, as of the call.</summary>
    public string[] EntityNames()
    {
        lock (_lock)
        {
            return [.. _entities.Keys];
        }
    }

    /// <summary>
    /// Picks the narrowest position list for <paramref name="region"/> and returns a cursor over it, capped at the
    /// current count so the view is consistent as of this call.
    /// </summary>
    public RegionCursor OpenCursor(Region region)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            NativeIntList? source = null;
            bool empty = false;
            if (region.Entity is not null)
            {
                if (_entities.TryGetValue(region.Entity, out EntityStream? stream))
                {
                    source = stream.Positions;
                }
                else
                {
                    empty = true;
                }
            }
            else if (region.Scope is not null)
            {
                if (_scopeIds.TryGetValue(region.Scope, out int scopeIndex))
                {
                    source = _scopePositions[scopeIndex];
                }
                else
                {
                    empty = true;
                }
            }
            else if (region.Kinds.Mode == KindFilterMode.Exact)
            {
                if (!_byKind.TryGetValue(region.Kinds.Value, out source))
                {
                    empty = true;
                }
            }

            long endGlobal = NextGlobalSequence;
            if (empty)
            {
                return new RegionCursor(this, region, null, 0, 0, endGlobal);
            }

            if (source is not null)
            {
                // Positions ascend with global order: start at the first at or after From.
                int first = region.FromGlobalSequence > 0 ? LowerBound(source, region.FromGlobalSequence, static (in IndexEntry e) => e.GlobalSequence) : 0;
                return new RegionCursor(this, region, source, first, source.Count, endGlobal);
            }

            // Global order: start at the first entry with GlobalSequence >= From (entries are sorted by it).
            int start = LowerBound(region.FromGlobalSequence);
            return new RegionCursor(this, region, null, start, _count, endGlobal);
        }
    }

    /// <summary>A cursor over one entity's events from <paramref name="fromSequence"/> on: a binary search finds the start, so nothing before it is read.</summary>
    public RegionCursor OpenEntityCursor(string entity, long fromSequence)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            long endGlobal = NextGlobalSequence;
            if (!_entities.TryGetValue(entity, out EntityStream? stream))
            {
                return new RegionCursor(this, Region.All, null, 0, 0, endGlobal);
            }

            NativeIntList positions = stream.Positions;
            int first = fromSequence > 0 ? LowerBound(positions, fromSequence, static (in IndexEntry e) => e.EntitySequence) : 0;
            return new RegionCursor(this, Region.All, positions, first, positions.Count, endGlobal);
        }
    }

    private delegate long KeyOf(in IndexEntry entry);

    /// <summary>The first index in <paramref name="positions"/> whose entry's key is at least <paramref name="value"/> (keys ascend along the list).</summary>
    private int LowerBound(NativeIntList positions, long value, KeyOf key)
    {
        int lo = 0;
        int hi = positions.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (key(At(positions[mid])) < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Positions of one correlation (root first when present), as of the call.</summary>
    public List<IndexEntry> CollectCorrelation(EventId correlationId)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            var result = new List<IndexEntry>();
            if (_byId.TryGet(correlationId, out int rootPosition) && At(rootPosition).CorrelationId == correlationId)
            {
                result.Add(At(rootPosition));
            }

            if (_byCorrelation.TryGetValue(correlationId, out List<int>? positions))
            {
                foreach (int position in positions)
                {
                    if (!At(position).Deleted && (position != rootPosition || result.Count == 0))
                    {
                        result.Add(At(position));
                    }
                }
            }

            result.Sort(static (a, b) => a.GlobalSequence.CompareTo(b.GlobalSequence));
            return result;
        }
    }

    /// <summary>Frees the native memory; every later look-up throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_freed)
            {
                return;
            }

            _freed = true;
            _byId.Dispose();
            _chain.Dispose();
            FreeChunks();
        }

        GC.SuppressFinalize(this);
    }

    private void ThrowIfFreed() => ObjectDisposedException.ThrowIf(_freed, this);

    private void AddChunk()
    {
        if (_chunkCount == _chunks.Length)
        {
            Array.Resize(ref _chunks, _chunks.Length * 2); // only the chunk pointers move; entries stay where they are
        }

        long bytes = (long)ChunkSize * sizeof(IndexEntry);
        _chunks[_chunkCount] = (IntPtr)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        _chunkCount++;
    }

    private void FreeChunks()
    {
        foreach (EntityStream stream in _entityByIndex)
        {
            stream.Positions.Free();
        }

        foreach (NativeIntList list in _scopePositions)
        {
            list.Free();
        }

        foreach (NativeIntList list in _byKind.Values)
        {
            list.Free();
        }

        for (int i = 0; i < _chunkCount; i++)
        {
            NativeMemory.AlignedFree((void*)_chunks[i]);
            _chunks[i] = IntPtr.Zero;
        }

        _chunkCount = 0;
    }

    private void Prefetch(int position)
    {
        if (Sse.IsSupported)
        {
            byte* entry = (byte*)Unsafe.AsPointer(ref At(position));
            Sse.Prefetch0(entry);
            Sse.Prefetch0(entry + 64);
        }
    }

    private ref IndexEntry At(int position)
    {
        Debug.Assert((uint)position < (uint)_count || (position == _count && _count < _chunkCount << ChunkShift));
        return ref ((IndexEntry*)_chunks[position >> ChunkShift])[position & (ChunkSize - 1)];
    }

    private int LowerBound(long globalSequence)
    {
        int lo = 0;
        int hi = _count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (At(mid).GlobalSequence < globalSequence)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// Walks a region's candidates in chunks, taking the index lock once per chunk and never while reading frames.
    /// </summary>
    /// <param name="index">The index.</param>
    /// <param name="region">The filter every candidate is checked against.</param>
    /// <param name="source">The position list walked, or null for every position in global order.</param>
    /// <param name="next">The first index into <paramref name="source"/> (or the first position).</param>
    /// <param name="end">The list's count (or the entry count) when the cursor opened: later appends are not seen.</param>
    /// <param name="endGlobalSequence">The store's next global sequence when the cursor opened.</param>
    internal sealed class RegionCursor(StoreIndex index, Region region, NativeIntList? source, int next, int end, long endGlobalSequence)
    {
        private const int ChunkSize = 256;
        private int _next = next;

        /// <summary>The store's next global sequence when the cursor opened: everything below it is covered.</summary>
        public long EndGlobalSequence => endGlobalSequence;

        /// <summary>Fills <paramref name="chunk"/> with the next matching entries; false when exhausted.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
        public bool NextChunk(List<(IndexEntry Entry, string Entity, string Scope)> chunk)
        {
            chunk.Clear();
            lock (index._lock)
            {
                index.ThrowIfFreed();
                while (_next < end && chunk.Count < ChunkSize)
                {
                    // A list's entries are scattered: start loading the one eight ahead (both of its cache lines).
                    if (source is not null && _next + 8 < end)
                    {
                        index.Prefetch(source[_next + 8]);
                    }

                    int position = source is null ? _next : source[_next];
                    _next++;
                    ref IndexEntry entry = ref index.At(position);
                    if (entry.Deleted)
                    {
                        continue;
                    }

                    string entity = index._entityByIndex[entry.EntityIndex].Name;
                    string scope = index._scopeNames[entry.ScopeIndex];
                    if (region.Matches(entity, scope, EventKind.FromValue(entry.Kind), entry.GlobalSequence, entry.TimestampMicroseconds))
                    {
                        chunk.Add((entry, entity, scope));
                    }
                }
            }

            return chunk.Count > 0 || _next < end;
        }
    }
}
