using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Batpak.Storage;

// The entry store, the index's only native memory: fixed-size chunks of entries addressed by position, grown only by
// AddLocked (the holder of the writer's write lock, or recovery, under the index lock) and read under the index lock
// by every other member. Dispose frees the chunks under the same lock, so no reader touches freed memory.
internal sealed unsafe partial class StoreIndex
{
    // Entries live in fixed-size chunks of native memory: growing never copies (no latency spike, nothing for the GC
    // to scan or compact), and a position maps to (chunk, slot) with a shift and a mask.
    private const int ChunkShift = 14;
    private const int ChunkSize = 1 << ChunkShift;
    private IntPtr[] _chunks = new IntPtr[4];
    private int _chunkCount;

    /// <summary>The backstop for an index nobody disposed (a store that failed to open): frees the chunks.</summary>
    ~StoreIndex() => FreeChunks();

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

    /// <summary>Frees the chunks (from <see cref="Dispose"/> under the lock, or from the finalizer); the index holds no entries afterwards.</summary>
    private void FreeChunks()
    {
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
}
