namespace Batpak.Storage;

/// <summary>
/// A growable list of entry positions in one managed <see cref="int"/> array: the index's per-entity, per-scope and
/// per-kind lists, in ascending position order. Growth doubles the array (the elements hold no references, so the
/// garbage collector never scans them).
/// </summary>
/// <remarks>
/// Not thread-safe: its owner, <see cref="StoreIndex"/>, adds under its lock (the holder of the writer's write lock,
/// or recovery) and reads under it (cursors, one chunk at a time). The list only appends, so the positions below the
/// end a cursor captured when it opened never change.
/// </remarks>
internal sealed class PositionList
{
    private int[] _items = [];

    /// <summary>Positions in the list.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes the list's array holds.</summary>
    public long CapacityBytes => (long)_items.Length * sizeof(int);

    /// <summary>The position at <paramref name="index"/> (bounds-checked against the array, not only <see cref="Count"/>).</summary>
    public int this[int index] => _items[index];

    public void Add(int value)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length == 0 ? 4 : checked(_items.Length * 2));
        }

        _items[Count++] = value;
    }

    /// <summary>Drops the array (the index's <c>Dispose</c>); the list is empty afterwards.</summary>
    public void Release()
    {
        _items = [];
        Count = 0;
    }
}
