using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// A bounded LRU cache of read-only segment handles (the seed's FD cache). O(1) look-up, promotion and eviction:
/// a dictionary of nodes threaded on an intrusive doubly-linked list, most recently used at the head.
/// </summary>
/// <remarks>
/// <para>Thread-safety: every method takes <c>_lock</c>; no I/O other than opening and closing a handle happens
/// under it. Readers hold a <see cref="Lease"/> for the duration of one positional read.</para>
/// <para>Invariant LeasedHandleOutlivesEviction: a handle evicted (by the budget or by compaction) while leased
/// is closed only when its last lease returns, so eviction never breaks a read in flight. The number of open
/// handles can therefore exceed the budget by the number of evicted-but-leased handles, briefly.</para>
/// </remarks>
internal sealed class FileHandleCache : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Node> _nodes = new();
    private readonly Func<int, string> _pathOf;
    private readonly int _budget;
    private Node? _head; // most recently used
    private Node? _tail; // least recently used
    private long _opens;
    private bool _disposed;

    public FileHandleCache(int budget, Func<int, string> pathOf)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        _budget = budget;
        _pathOf = pathOf;
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
                node = new Node(segmentId, handle);
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

        evicted?.Handle.Dispose();
        return new Lease(this, node);
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

        toClose?.Handle.Dispose();
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
                node.Handle.Dispose();
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
            node.Handle.Dispose();
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

    internal sealed class Node(int segmentId, SafeFileHandle handle)
    {
        public readonly int SegmentId = segmentId;
        public readonly SafeFileHandle Handle = handle;
        public int Leases;
        public bool Evicted;
        public Node? Prev;
        public Node? Next;
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

        public void Dispose() => _owner?.Return(_node);
    }
}
