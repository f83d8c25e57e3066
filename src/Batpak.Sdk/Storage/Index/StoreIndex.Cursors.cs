using System.Runtime.CompilerServices;

namespace Batpak.Storage;

// Readers' cursors over a region or an entity's stream: opened from any thread under SyncRoot; a cursor is used by
// one reader at a time and takes SyncRoot once per chunk of entries.
internal sealed partial class StoreIndex
{
    /// <summary>
    /// Picks the narrowest position list for <paramref name="region"/> and returns a cursor over it, capped at the
    /// current count so the view is consistent as of this call.
    /// </summary>
    public RegionCursor OpenCursor(Region region)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            PositionList? source = null;
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

            PositionList positions = stream.Positions;
            int first = fromSequence > 0 ? LowerBound(positions, fromSequence, static (in IndexEntry e) => e.EntitySequence) : 0;
            return new RegionCursor(this, Region.All, positions, first, positions.Count, endGlobal);
        }
    }

    private delegate long KeyOf(in IndexEntry entry);

    /// <summary>The first index in <paramref name="positions"/> whose entry's key is at least <paramref name="value"/> (keys ascend along the list).</summary>
    private int LowerBound(PositionList positions, long value, KeyOf key)
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

    /// <summary>
    /// Walks a region's candidates in chunks, taking the index lock once per chunk and never while reading frames.
    /// </summary>
    /// <param name="index">The index.</param>
    /// <param name="region">The filter every candidate is checked against.</param>
    /// <param name="source">The position list walked, or null for every position in global order.</param>
    /// <param name="next">The first index into <paramref name="source"/> (or the first position).</param>
    /// <param name="end">The list's count (or the entry count) when the cursor opened: later appends are not seen.</param>
    /// <param name="endGlobalSequence">The store's next global sequence when the cursor opened.</param>
    internal sealed class RegionCursor(StoreIndex index, Region region, PositionList? source, int next, int end, long endGlobalSequence)
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
