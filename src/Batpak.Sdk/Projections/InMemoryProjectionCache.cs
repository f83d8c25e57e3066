using System.Diagnostics.CodeAnalysis;

namespace Batpak;

/// <summary>
/// A bounded, thread-safe, in-process cache of projected states: at most <see cref="Capacity"/> entries, the least
/// recently used one evicted first. Gone when the process ends.
/// </summary>
/// <remarks>
/// Every operation takes one lock for O(1) work (a dictionary look-up and a linked-list move); the states are kept
/// by reference, so a state type should be immutable (a record) or at least never mutated after
/// <see cref="IProjection{TSelf}.Apply"/> returned it.
/// </remarks>
public sealed class InMemoryProjectionCache : IProjectionCache
{
    /// <summary>The capacity used when none is given: 10,000 entries.</summary>
    public const int DefaultCapacity = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<Key, LinkedListNode<(Key Key, object Value)>> _entries = new();
    private readonly LinkedList<(Key Key, object Value)> _recency = new(); // most recently used first

    /// <summary>Creates an empty cache.</summary>
    /// <param name="capacity">The most entries kept (1 or more).</param>
    public InMemoryProjectionCache(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>The most entries kept.</summary>
    public int Capacity { get; }

    /// <summary>The entries kept now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <inheritdoc />
    public bool TryGet<TState>(string entity, [NotNullWhen(true)] out CachedProjection<TState>? cached)
        where TState : IProjection<TState>
    {
        ArgumentNullException.ThrowIfNull(entity);
        var key = new Key(typeof(TState), entity);
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out LinkedListNode<(Key Key, object Value)>? node) && node.Value.Value is CachedProjection<TState> found)
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                cached = found;
                return true;
            }
        }

        cached = null;
        return false;
    }

    /// <inheritdoc />
    public void Set<TState>(string entity, CachedProjection<TState> cached)
        where TState : IProjection<TState>
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(cached);
        var key = new Key(typeof(TState), entity);
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out LinkedListNode<(Key Key, object Value)>? node))
            {
                node.Value = (key, cached);
                _recency.Remove(node);
                _recency.AddFirst(node);
                return;
            }

            if (_entries.Count >= Capacity)
            {
                LinkedListNode<(Key Key, object Value)> oldest = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Key);
            }

            _entries.Add(key, _recency.AddFirst((key, cached)));
        }
    }

    /// <inheritdoc />
    public void Remove<TState>(string entity)
        where TState : IProjection<TState>
    {
        ArgumentNullException.ThrowIfNull(entity);
        lock (_lock)
        {
            if (_entries.Remove(new Key(typeof(TState), entity), out LinkedListNode<(Key Key, object Value)>? node))
            {
                _recency.Remove(node);
            }
        }
    }

    /// <summary>Forgets every entry.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _entries.Clear();
            _recency.Clear();
        }
    }

    private readonly record struct Key(Type Projection, string Entity);
}
