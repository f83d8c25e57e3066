using System.Diagnostics;

namespace Batpak.Storage;

// The index's entries by position, in EntryChunks (native, SafeHandle-owned, bounds-checked): grown only by
// AddLocked (the holder of the writer's write lock, or recovery, under the index lock) and read under the index lock
// by every other member. Dispose frees the chunks under the same lock, so no reader touches freed memory.
internal sealed partial class StoreIndex
{
    private const int ChunkShift = EntryChunks.ChunkShift;
    private const int ChunkSize = EntryChunks.ChunkSize;
    private readonly EntryChunks _entries = new(); // the native entry store (all of the index's unsafe code)

    private void AddChunk() => _entries.Add();

    /// <summary>Frees the chunks (from <see cref="Dispose"/> under the lock); the index holds no entries afterwards.</summary>
    private void FreeChunks() => _entries.Dispose();

    private void Prefetch(int position) => _entries.Prefetch(position);

    private ref IndexEntry At(int position)
    {
        Debug.Assert((uint)position < (uint)_count || (position == _count && _count < _entries.Capacity));
        return ref _entries.At(position);
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
}
