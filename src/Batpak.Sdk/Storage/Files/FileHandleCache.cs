using System.Diagnostics;
using System.Runtime.CompilerServices;
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
/// <para>Callers: readers of the store (<c>EventStore</c>'s reads and verification, a <c>ReadSession</c>) call
/// <see cref="Rent"/> from any thread; compaction calls <see cref="Evict"/> before it replaces or deletes a segment
/// file; the store calls <see cref="Dispose"/> when it closes. This file holds renting, eviction and disposal; the
/// recency list is in <c>FileHandleCache.Lru.cs</c>, a node's lease count in <c>FileHandleCache.Node.cs</c>, the
/// mapping of sealed segments in <c>FileHandleCache.MappedView.cs</c> and the reader's <see cref="Lease"/> in
/// <c>FileHandleCache.Lease.cs</c>.</para>
/// </remarks>
internal sealed partial class FileHandleCache : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Node> _nodes = new();
    private readonly Func<int, string> _pathOf;
    private readonly Func<int, bool> _isSealed;
    private readonly Func<string, SafeFileHandle> _open;
    private int _budget; // lowered (under _lock) when the process runs out of file descriptors
    private Node? _head; // most recently used
    private Node? _tail; // least recently used
    private Node?[] _bySegment = []; // the cached nodes by segment id, for lock-free hits; replaced (never shrunk in place) under _lock
    private const int MaxFastSegmentId = 1 << 22; // caps that array at 32 MiB: a huge id (up to int.MaxValue) must not size it
    private long _opens;
    private bool _disposed;

    /// <param name="budget">The most handles kept open.</param>
    /// <param name="pathOf">A segment's file path.</param>
    /// <param name="isSealed">Whether a segment is sealed (its handle is then mapped).</param>
    /// <param name="open">Opens a segment file for reading (tests stand in for the file system's refusals).</param>
    public FileHandleCache(int budget, Func<int, string> pathOf, Func<int, bool>? isSealed = null, Func<string, SafeFileHandle>? open = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        _budget = budget;
        _pathOf = pathOf;
        _isSealed = isSealed ?? (static _ => false);
        _open = open ?? (static path => File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
    }

    /// <summary>The budget in force: the configured one, or less after the process ran out of file descriptors.</summary>
    public int Budget
    {
        get
        {
            lock (_lock)
            {
                return _budget;
            }
        }
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
                SafeFileHandle handle = OpenLocked(segmentId);
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

    /// <summary>
    /// Opens a segment's handle under <c>_lock</c>. When the open fails for a reason other than a missing file (the
    /// process is out of file descriptors, which the rest of the application shares) and this cache holds handles no
    /// read is using, it closes the least recently used half of them, lowers its budget to what is left, and tries
    /// once more: reads go on with fewer cached handles instead of failing. A second failure is thrown.
    /// </summary>
    private SafeFileHandle OpenLocked(int segmentId)
    {
        string path = _pathOf(segmentId);
        try
        {
            return _open(path);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException && ShrinkLocked())
        {
            return _open(path);
        }
    }

    /// <summary>Closes the least recently used unleased half of the cached handles and lowers the budget; false when none could be closed.</summary>
    private bool ShrinkLocked()
    {
        int keep = Math.Max(1, _nodes.Count / 2);
        int closed = 0;
        for (Node? node = _tail; node is not null && _nodes.Count > keep;)
        {
            Node? previous = node.Prev;
            if (Volatile.Read(ref node.Leases) == 0)
            {
                RemoveLocked(node);
                if (node.TryClose())
                {
                    node.Close(); // closing is the one I/O allowed under the lock (besides opening)
                    closed++;
                }
            }

            node = previous;
        }

        _budget = Math.Max(1, Math.Min(_budget, _nodes.Count));
        return closed > 0;
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

}
