using System.Runtime.InteropServices;

namespace Batpak.Storage;

/// <summary>
/// The index's native memory, and all of its unsafe code: fixed-size chunks of <see cref="IndexEntry"/> (growth never
/// moves an entry), each owned by a <see cref="SafeHandle"/> that frees it exactly once (by <see cref="Dispose"/>, or
/// by the runtime's critical finalizer for an index nobody disposed). Every access is bounds-checked against the
/// allocated chunks, in Release builds too, so a wrong position throws instead of touching foreign memory.
/// Used by <see cref="StoreIndex"/> only, always under its lock.
/// </summary>
internal sealed unsafe class EntryChunks : IDisposable
{
    public const int ChunkShift = 14;
    public const int ChunkSize = 1 << ChunkShift;

    private ChunkHandle?[] _handles = new ChunkHandle?[4]; // owners of the chunks, 0.._count-1
    private IntPtr[] _pointers = new IntPtr[4]; // the chunks' addresses (the handles' values), read on every access
    private int _count; // chunks allocated

    /// <summary>How many entries the allocated chunks hold.</summary>
    public int Capacity => _count << ChunkShift;

    /// <summary>Sizes the chunk table for <paramref name="chunks"/> chunks (allocates none).</summary>
    public void Reserve(int chunks)
    {
        if (chunks > _pointers.Length)
        {
            Array.Resize(ref _pointers, chunks);
            Array.Resize(ref _handles, chunks);
        }
    }

    /// <summary>Allocates one more chunk (64-byte aligned).</summary>
    public void Add()
    {
        if (_count == _pointers.Length)
        {
            Reserve(_pointers.Length * 2); // only the chunk table moves; entries stay where they are
        }

        var chunk = new ChunkHandle((nuint)ChunkSize * (nuint)sizeof(IndexEntry));
        _handles[_count] = chunk;
        _pointers[_count] = chunk.DangerousGetHandle();
        _count++;
    }

    /// <summary>The entry at <paramref name="position"/>; throws <see cref="ArgumentOutOfRangeException"/> outside the allocated chunks.</summary>
    public ref IndexEntry At(int position)
    {
        if ((uint)position >= (uint)(_count << ChunkShift))
        {
            ThrowOutOfRange(position, _count << ChunkShift);
        }

        return ref ((IndexEntry*)_pointers[position >> ChunkShift])[position & (ChunkSize - 1)];
    }

    /// <summary>Asks the CPU to load the entry at <paramref name="position"/> (two cache lines); nothing outside the chunks.</summary>
    public void Prefetch(int position)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported && (uint)position < (uint)(_count << ChunkShift))
        {
            byte* entry = (byte*)((IndexEntry*)_pointers[position >> ChunkShift] + (position & (ChunkSize - 1)));
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(entry);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(entry + 64);
        }
    }

    /// <summary>Frees every chunk; the capacity is 0 afterwards (so any access throws).</summary>
    public void Dispose()
    {
        int count = _count;
        _count = 0;
        for (int i = 0; i < count; i++)
        {
            _pointers[i] = IntPtr.Zero;
            _handles[i]?.Dispose();
            _handles[i] = null;
        }
    }

    private static void ThrowOutOfRange(int position, int capacity) =>
        throw new ArgumentOutOfRangeException(nameof(position), position, $"The index entry store holds {capacity} entries.");

    /// <summary>Owns one aligned native allocation.</summary>
    private sealed class ChunkHandle : SafeHandle
    {
        public ChunkHandle(nuint bytes)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            SetHandle((IntPtr)NativeMemory.AlignedAlloc(bytes, 64));
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMemory.AlignedFree((void*)handle);
            return true;
        }
    }
}
