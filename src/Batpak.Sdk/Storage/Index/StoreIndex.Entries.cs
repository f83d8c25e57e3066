using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Batpak.Storage;

// The entry store: fixed-size chunks of entries addressed by position, grown only by AddLocked (the writer or
// recovery, under the index lock) and read under the index lock by every other member.
internal sealed unsafe partial class StoreIndex
{
    // Entries live in fixed-size chunks of native memory: growing never copies (no latency spike, nothing for the GC
    // to scan or compact), and a position maps to (chunk, slot) with a shift and a mask.
    private const int ChunkShift = 14;
    private const int ChunkSize = 1 << ChunkShift;
    private IntPtr[] _chunks = new IntPtr[4];
    private int _chunkCount;

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
}
