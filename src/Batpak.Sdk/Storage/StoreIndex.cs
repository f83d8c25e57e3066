using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

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

    public readonly DiskPosition Position => new(SegmentId, Offset, Length);
}

/// <summary>The per-entity stream: positions into the global entry array plus the chain head.</summary>
internal sealed class EntityStream(string name, int index)
{
    public readonly string Name = name;
    public readonly int Index = index;
    public readonly List<int> Positions = new();
    public long LastSequence = -1;
    public EventHash LastHash;
}

/// <summary>
/// The in-memory index: by event id, per-entity stream (ordered), per scope, per kind, per correlation, and the
/// global order.
/// </summary>
/// <remarks>
/// <para>Ownership: only the writer thread (and, before it starts, recovery) mutates the index, always under
/// <c>_lock</c>. Readers take <c>_lock</c> to look up or copy a chunk of entries and read frames outside it, so a
/// read holds the lock for an index look-up, never for I/O.</para>
/// <para>Entries are append-only: a position (index into <c>_entries</c>) never changes meaning while the index
/// lives, so an enumeration that captured a count keeps reading a consistent prefix while appends continue.</para>
/// <para>The writer reads <see cref="EntityStream.LastSequence"/>/<see cref="EntityStream.LastHash"/> without the
/// lock: it is their only writer.</para>
/// </remarks>
internal sealed class StoreIndex
{
    private readonly Lock _lock = new();
    private readonly Dictionary<EventId, int> _byId = new();
    private readonly Dictionary<string, EntityStream> _entities = new(StringComparer.Ordinal);
    private readonly List<EntityStream> _entityByIndex = new();
    private readonly Dictionary<string, int> _scopeIds = new(StringComparer.Ordinal);
    private readonly List<string> _scopeNames = new();
    private readonly List<List<int>> _scopePositions = new();
    private readonly Dictionary<ushort, List<int>> _byKind = new();
    private readonly Dictionary<EventId, List<int>> _byCorrelation = new(); // non-root events only
    private readonly Dictionary<string, AppendReceipt> _idempotency = new(StringComparer.Ordinal);
    private IndexEntry[] _entries = new IndexEntry[1024];
    private int _count;

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
                return _count;
            }
        }
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

    /// <summary>Writer-side: the entity's stream, or null. Safe without the lock only on the writer thread.</summary>
    public EntityStream? FindEntityForWriter(string entity) => _entities.GetValueOrDefault(entity);

    /// <summary>Writer-side: an idempotency key's original receipt.</summary>
    public bool TryGetIdempotentForWriter(string key, out AppendReceipt receipt) => _idempotency.TryGetValue(key, out receipt);

    /// <summary>Adds one event. The caller holds <see cref="SyncRoot"/> (a batch takes it once).</summary>
    public void AddLocked(ref IndexEntry entry, string entity, string scope, EventHash hash, string? idempotencyKey)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
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
            _scopePositions.Add(new List<int>());
        }

        entry.EntityIndex = stream.Index;
        entry.ScopeIndex = scopeIndex;
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        int position = _count++;
        _entries[position] = entry;
        _byId[entry.Id] = position;
        stream.Positions.Add(position);
        stream.LastSequence = entry.EntitySequence;
        stream.LastHash = hash;
        _scopePositions[scopeIndex].Add(position);
        if (!_byKind.TryGetValue(entry.Kind, out List<int>? kindList))
        {
            kindList = new List<int>();
            _byKind.Add(entry.Kind, kindList);
        }

        kindList.Add(position);
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
            _idempotency[idempotencyKey] = new AppendReceipt(entry.Id, entry.GlobalSequence, entry.EntitySequence, entry.Position, hash);
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

    public bool TryGet(EventId id, out IndexEntry entry, [NotNullWhen(true)] out string? entity, [NotNullWhen(true)] out string? scope)
    {
        lock (_lock)
        {
            if (_byId.TryGetValue(id, out int position))
            {
                entry = _entries[position];
                entity = _entityByIndex[entry.EntityIndex].Name;
                scope = _scopeNames[entry.ScopeIndex];
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
        // The writer is the only mutator, so it may read without the lock.
        if (_byId.TryGetValue(id, out int position))
        {
            entry = _entries[position];
            return true;
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
            List<int>? source = null;
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

            if (empty)
            {
                return new RegionCursor(this, region, null, 0, 0);
            }

            if (source is not null)
            {
                return new RegionCursor(this, region, source, 0, source.Count);
            }

            // Global order: start at the first entry with GlobalSequence >= From (entries are sorted by it).
            int start = LowerBound(region.FromGlobalSequence);
            return new RegionCursor(this, region, null, start, _count);
        }
    }

    /// <summary>Positions of one correlation (root first when present), as of the call.</summary>
    public List<IndexEntry> CollectCorrelation(EventId correlationId)
    {
        lock (_lock)
        {
            var result = new List<IndexEntry>();
            if (_byId.TryGetValue(correlationId, out int rootPosition) && _entries[rootPosition].CorrelationId == correlationId)
            {
                result.Add(_entries[rootPosition]);
            }

            if (_byCorrelation.TryGetValue(correlationId, out List<int>? positions))
            {
                foreach (int position in positions)
                {
                    if (position != rootPosition || result.Count == 0)
                    {
                        result.Add(_entries[position]);
                    }
                }
            }

            result.Sort(static (a, b) => a.GlobalSequence.CompareTo(b.GlobalSequence));
            return result;
        }
    }

    /// <summary>Copies up to <paramref name="max"/> entries of the global order starting at global sequence <paramref name="from"/>.</summary>
    public List<IndexEntry> CollectGlobal(long from, int max, out bool reachedEnd)
    {
        lock (_lock)
        {
            int start = LowerBound(from);
            int end = (int)Math.Min(_count, (long)start + max);
            var result = new List<IndexEntry>(end - start);
            for (int i = start; i < end; i++)
            {
                result.Add(_entries[i]);
            }

            reachedEnd = end >= _count;
            return result;
        }
    }

    private int LowerBound(long globalSequence)
    {
        int lo = 0;
        int hi = _count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_entries[mid].GlobalSequence < globalSequence)
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
    internal sealed class RegionCursor(StoreIndex index, Region region, List<int>? source, int next, int end)
    {
        private const int ChunkSize = 256;
        private int _next = next;

        /// <summary>Fills <paramref name="chunk"/> with the next matching entries; false when exhausted.</summary>
        public bool NextChunk(List<(IndexEntry Entry, string Entity, string Scope)> chunk)
        {
            chunk.Clear();
            lock (index._lock)
            {
                while (_next < end && chunk.Count < ChunkSize)
                {
                    int position = source is null ? _next : source[_next];
                    _next++;
                    ref IndexEntry entry = ref index._entries[position];
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
