using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

// The mapping of sealed segments: made once when a sealed segment's handle is opened (under the cache's lock), read
// through a Lease by any reader while the lease is held, and released when the node closes. The cache's only unsafe code.
internal sealed partial class FileHandleCache
{
    /// <summary>
    /// Maps a sealed (immutable) segment read-only, so reads use the page cache without a system call. An
    /// empty file, or a platform that refuses the mapping, falls back to positional reads.
    /// </summary>
    private static MappedView? TryMap(SafeFileHandle handle)
    {
        long length = RandomAccess.GetLength(handle);
        if (length == 0)
        {
            return null;
        }

        try
        {
            using MemoryMappedFile file = MemoryMappedFile.CreateFromFile(handle, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            return new MappedView(file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read), length);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// A read-only view of a whole sealed segment whose pointer is acquired once, when the segment is mapped, and
    /// released when its node closes: reads then cost no reference counting on the view handle.
    /// </summary>
    internal sealed unsafe class MappedView : IDisposable
    {
        private readonly MemoryMappedViewAccessor _accessor;
        private readonly byte* _start; // byte 0 of the segment: the view pointer plus PointerOffset
        private readonly long _length; // the file length when mapped (a sealed segment never changes)
        private int _disposed;

        public MappedView(MemoryMappedViewAccessor accessor, long length)
        {
            Debug.Assert(length > 0 && length <= accessor.Capacity);
            byte* pointer = null;
            try
            {
                accessor.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            }
            catch
            {
                accessor.Dispose();
                throw;
            }

            _accessor = accessor;
            _start = pointer + accessor.PointerOffset;
            _length = length;
        }

        /// <summary>Issues a prefetch for every cache line of the range (at most 512 bytes of it); out-of-range input is ignored.</summary>
        public void Prefetch(long offset, int length)
        {
            if (!Sse.IsSupported || length <= 0 || !Contains(offset, length))
            {
                return;
            }

            byte* start = _start + offset;
            byte* end = start + Math.Min(length, 512);
            for (byte* line = start; line < end; line += 64)
            {
                Sse.Prefetch0(line);
            }
        }

        /// <summary>
        /// A span over bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of the
        /// segment; false when the range is not wholly inside the mapping. Valid only until <see cref="Dispose"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
        public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
        {
            if (!Contains(offset, length))
            {
                span = default;
                return false;
            }

            span = new ReadOnlySpan<byte>(_start + offset, length);
            return true;
        }

        /// <summary>True when [<paramref name="offset"/>, +<paramref name="length"/>) lies inside the mapping; overflow-safe (offset + length is never computed).</summary>
        private bool Contains(long offset, int length) => offset >= 0 && length >= 0 && offset <= _length && length <= _length - offset;

        /// <summary>Releases the pointer, then unmaps the view (the release must come first, or the view stays mapped).</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            _accessor.SafeMemoryMappedViewHandle.ReleasePointer();
            _accessor.Dispose();
        }
    }
}
