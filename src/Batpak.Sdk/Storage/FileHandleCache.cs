using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// A bounded cache of read-only segment handles (the seed's FD cache), evicting the least recently used with a
/// second chance: a dictionary of nodes threaded on an intrusive doubly-linked list, plus an array by segment id that
/// lets a hit take its lease without the lock.
/// </summary>
/// <remarks>
/// <para>Thread-safety: opening, eviction and the list take <c>_lock</c>; no I/O other than opening and closing a
/// handle happens under it. A hit (the common case: a handful of segments, read again and again) takes its lease
/// with one compare-and-swap on the node's lease count and marks the node referenced; eviction gives a referenced
/// node a second chance (clears the mark and moves it to the head) before evicting the least recent unmarked one.
/// Readers hold a <see cref="Lease"/> for the duration of one read, or for as long as they use a span over the
/// mapping (<see cref="Lease.TryGetMapped"/>).</para>
/// <para>A node's lease count is -1 once it is closed; a lease is taken only on a count of 0 or more, and a node is
/// closed only by whoever moves an evicted node's count from 0 to -1 (the evictor, or its last lease's return), so
/// a handle is closed exactly once and never while leased.</para>
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
    private Node?[] _bySegment = []; // the cached nodes by segment id, for lock-free hits; replaced (never shrunk in place) under _lock
    private const int MaxFastSegmentId = 1 << 22; // caps that array at 32 MiB: a huge id (up to int.MaxValue) must not size it
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

    /// <summary>Leases the read handle of <paramref name="segmentId"/>, opening it on a miss and evicting past the budget.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public Lease Rent(int segmentId)
    {
        Node?[] bySegment = Volatile.Read(ref _bySegment);
        if ((uint)segmentId < (uint)bySegment.Length && Volatile.Read(ref bySegment[segmentId]) is { } cached && cached.TryAcquire())
        {
            cached.Referenced = true;
            return new Lease(cached);
        }

        return RentSlow(segmentId);
    }

    private Lease RentSlow(int segmentId)
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
                bool acquired = node.TryAcquire(); // a cached node is not evicted, so it is not closed
                Debug.Assert(acquired);
            }
            else
            {
                SafeFileHandle handle = File.OpenHandle(_pathOf(segmentId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                Interlocked.Increment(ref _opens);
                node = new Node(segmentId, handle, _isSealed(segmentId) ? TryMap(handle) : null) { Leases = 1 };
                _nodes.Add(segmentId, node);
                AddHead(node);
                Publish(segmentId, node);
                if (_nodes.Count > _budget)
                {
                    evicted = PickVictim(node);
                    RemoveLocked(evicted);
                    if (!evicted.TryClose())
                    {
                        evicted = null; // closed by its last Return
                    }
                }
            }
        }

        evicted?.Close();
        return new Lease(node);
    }

    /// <summary>The least recently used node without a second chance left (never <paramref name="added"/>).</summary>
    private Node PickVictim(Node added)
    {
        Node victim = _tail!;
        while (victim.Referenced || victim == added)
        {
            if (victim != added)
            {
                victim.Referenced = false; // its second chance is used up
            }

            MoveToHead(victim);
            victim = _tail!;
        }

        return victim;
    }

    private void Publish(int segmentId, Node? node)
    {
        Node?[] bySegment = _bySegment;
        if (segmentId >= bySegment.Length)
        {
            if (node is null || segmentId >= MaxFastSegmentId)
            {
                return; // ids past the array's cap are served by the dictionary (RentSlow)
            }

            Node?[] grown = new Node?[Math.Max(segmentId + 1, bySegment.Length * 2)];
            Array.Copy(bySegment, grown, bySegment.Length);
            grown[segmentId] = node;
            Volatile.Write(ref _bySegment, grown);
            return;
        }

        Volatile.Write(ref bySegment[segmentId], node);
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
                if (node.TryClose())
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
                Volatile.Write(ref node.Evicted, true);
            }

            _nodes.Clear();
            Volatile.Write(ref _bySegment, []);
            _head = _tail = null;
        }

        foreach (Node node in toClose)
        {
            if (node.TryClose())
            {
                node.Close();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    private static void Return(Node node)
    {
        int left = Interlocked.Decrement(ref node.Leases);
        Debug.Assert(left >= 0);
        if (left == 0 && Volatile.Read(ref node.Evicted) && node.TryClose())
        {
            node.Close();
        }
    }

    private void RemoveLocked(Node node)
    {
        _nodes.Remove(node.SegmentId);
        Unlink(node);
        Publish(node.SegmentId, null);
        Volatile.Write(ref node.Evicted, true); // before any attempt to close: see Return
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
        public int Leases; // -1: closed
        public bool Evicted;
        public bool Referenced; // hit since the eviction scan last passed it (its second chance)
        public Node? Prev;
        public Node? Next;

        /// <summary>Takes a lease unless the node is closed.</summary>
        public bool TryAcquire()
        {
            int leases = Volatile.Read(ref Leases);
            while (leases >= 0)
            {
                int seen = Interlocked.CompareExchange(ref Leases, leases + 1, leases);
                if (seen == leases)
                {
                    return true;
                }

                leases = seen;
            }

            return false;
        }

        /// <summary>Marks an unleased node closed; true for the one caller that must then <see cref="Close"/> it.</summary>
        public bool TryClose() => Interlocked.CompareExchange(ref Leases, -1, 0) == 0;

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

    /// <summary>One reader's hold on a handle; dispose it when the read is done.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly Node _node;

        internal Lease(Node node) => _node = node;

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

        /// <summary>Hints the CPU to load the mapped bytes [<paramref name="offset"/>, +<paramref name="length"/>) (no effect when unmapped).</summary>
        public void Prefetch(long offset, int length) => _node.Map?.Prefetch(offset, length);

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

        public void Dispose()
        {
            if (_node is not null)
            {
                Return(_node);
            }
        }
    }
}
