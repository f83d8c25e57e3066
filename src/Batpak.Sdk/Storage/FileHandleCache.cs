using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// A bounded LRU cache of read-only segment handles (the seed's FD cache). O(1) look-up, promotion and eviction:
/// a dictionary of nodes threaded on an intrusive doubly-linked list, most recently used at the head.
/// </summary>
/// <remarks>
/// <para>Thread-safety: every method takes <c>_lock</c>; no I/O other than opening and closing a handle happens
/// under it. Readers hold a <see cref="Lease"/> for the duration of one read, or for as long as they use a span
/// over the mapping (<see cref="Lease.TryGetMapped"/>).</para>
/// <para>Invariant LeasedHandleOutlivesEviction: a handle evicted (by the budget or by compaction) while leased
/// is closed only when its last lease returns, so eviction never breaks a read in flight. The number of open
/// handles can therefore exceed the budget by the number of evicted-but-leased handles, briefly.</para>
/// </remarks>
internal sealed class FileHandleCache : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Node> _nodes = new();
    private readonly Func<int, string> _pathOf;
    private readonly Func<int, bool> _isSealed;
    private readonly int _budget;
    private Node? _head; // most recently used
    private Node? _tail; // least recently used
    private long _opens;
    private bool _disposed;

    public FileHandleCache(int budget, Func<int, string> pathOf, Func<int, bool>? isSealed = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        _budget = budget;
        _pathOf = pathOf;
        _isSealed = isSealed ?? (static _ => false);
    }

    /// <summary>Handles currently cached (not counting evicted handles still leased).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _nodes.Count;
            }
        }
    }

    /// <summary>How many times a handle was opened (cache misses).</summary>
    public long Opens => Interlocked.Read(ref _opens);

    /// <summary>Leases the read handle of <paramref name="segmentId"/>, opening it on a miss and evicting the LRU one past the budget.</summary>
    public Lease Rent(int segmentId)
    {
        Node? evicted = null;
        Node node;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_nodes.TryGetValue(segmentId, out Node? found))
            {
                node = found;
                MoveToHead(node);
            }
            else
            {
                SafeFileHandle handle = File.OpenHandle(_pathOf(segmentId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                Interlocked.Increment(ref _opens);
                node = new Node(segmentId, handle, _isSealed(segmentId) ? TryMap(handle) : null);
                _nodes.Add(segmentId, node);
                AddHead(node);
                if (_nodes.Count > _budget)
                {
                    evicted = _tail;
                    Debug.Assert(evicted is not null && evicted != node);
                    RemoveLocked(evicted);
                    if (evicted.Leases > 0)
                    {
                        evicted = null; // closed by its last Return
                    }
                }
            }

            node.Leases++;
        }

        evicted?.Close();
        return new Lease(this, node);
    }

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

    /// <summary>Evicts a segment's handle (before the file is deleted by compaction).</summary>
    public void Evict(int segmentId)
    {
        Node? toClose = null;
        lock (_lock)
        {
            if (_nodes.TryGetValue(segmentId, out Node? node))
            {
                RemoveLocked(node);
                if (node.Leases == 0)
                {
                    toClose = node;
                }
            }
        }

        toClose?.Close();
    }

    public void Dispose()
    {
        List<Node> toClose;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            toClose = [.. _nodes.Values];
            foreach (Node node in toClose)
            {
                node.Evicted = true;
            }

            _nodes.Clear();
            _head = _tail = null;
        }

        foreach (Node node in toClose)
        {
            if (node.Leases == 0)
            {
                node.Close();
            }
        }
    }

    private void Return(Node node)
    {
        bool close;
        lock (_lock)
        {
            node.Leases--;
            Debug.Assert(node.Leases >= 0);
            close = node.Evicted && node.Leases == 0;
        }

        if (close)
        {
            node.Close();
        }
    }

    private void RemoveLocked(Node node)
    {
        _nodes.Remove(node.SegmentId);
        Unlink(node);
        node.Evicted = true;
    }

    private void MoveToHead(Node node)
    {
        if (_head == node)
        {
            return;
        }

        Unlink(node);
        AddHead(node);
    }

    private void AddHead(Node node)
    {
        node.Prev = null;
        node.Next = _head;
        if (_head is not null)
        {
            _head.Prev = node;
        }

        _head = node;
        _tail ??= node;
    }

    private void Unlink(Node node)
    {
        if (node.Prev is not null)
        {
            node.Prev.Next = node.Next;
        }
        else if (_head == node)
        {
            _head = node.Next;
        }

        if (node.Next is not null)
        {
            node.Next.Prev = node.Prev;
        }
        else if (_tail == node)
        {
            _tail = node.Prev;
        }

        node.Prev = node.Next = null;
    }

    internal sealed class Node(int segmentId, SafeFileHandle handle, MappedView? map)
    {
        public readonly int SegmentId = segmentId;
        public readonly SafeFileHandle Handle = handle;
        public readonly MappedView? Map = map;
        public int Leases;
        public bool Evicted;
        public Node? Prev;
        public Node? Next;

        public void Close()
        {
            Map?.Dispose();
            Handle.Dispose();
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

        /// <summary>
        /// A span over bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of the
        /// segment; false when the range is not wholly inside the mapping. Valid only until <see cref="Dispose"/>.
        /// </summary>
        public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
        {
            // Overflow-safe: offset + length is never computed.
            if (offset < 0 || length < 0 || offset > _length || length > _length - offset)
            {
                span = default;
                return false;
            }

            span = new ReadOnlySpan<byte>(_start + offset, length);
            return true;
        }

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

    /// <summary>One reader's hold on a handle; dispose it when the read is done.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly FileHandleCache _owner;
        private readonly Node _node;

        internal Lease(FileHandleCache owner, Node node)
        {
            _owner = owner;
            _node = node;
        }

        public SafeFileHandle Handle => _node.Handle;

        /// <summary>
        /// Gets the <paramref name="length"/> bytes at <paramref name="offset"/> straight from the mapping of a sealed
        /// segment, without a copy. False when the segment is not mapped (the active segment, an empty file, a
        /// refused mapping) or the range is not wholly inside the mapping; read with <see cref="ReadExactly"/> then.
        /// </summary>
        /// <remarks>
        /// The span is valid only while this lease is held: use it, or copy what is needed out of it, before the
        /// lease is disposed. A leased node is never closed (invariant LeasedHandleOutlivesEviction), so the mapping
        /// stays in place until then, even when the segment is evicted meanwhile.
        /// </remarks>
        public bool TryGetMapped(long offset, int length, out ReadOnlySpan<byte> frame)
        {
            if (_node.Map is { } map)
            {
                return map.TryGetSpan(offset, length, out frame);
            }

            frame = default;
            return false;
        }

        /// <summary>Reads exactly <paramref name="destination"/>'s length at <paramref name="offset"/>: from the mapping of a sealed segment, else with positional reads.</summary>
        public void ReadExactly(Span<byte> destination, long offset, int segmentId)
        {
            if (TryGetMapped(offset, destination.Length, out ReadOnlySpan<byte> mapped))
            {
                mapped.CopyTo(destination);
                return;
            }

            SegmentScanner.ReadExactly(_node.Handle, destination, offset, segmentId);
        }

        public void Dispose() => _owner?.Return(_node);
    }
}
