using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Batpak.Storage;

/// <summary>
/// A growable list of positions in native memory: the index's per-entity, per-scope and per-kind lists. Appending
/// allocates nothing on the managed heap (growth reallocates the native block), so an append to an existing entity
/// creates no garbage, and millions of positions cost the garbage collector nothing.
/// </summary>
/// <remarks>
/// Not thread-safe and without a finalizer of its own: the owner (<see cref="StoreIndex"/>) uses it under its lock
/// and frees every list it holds in its <c>Dispose</c> or finalizer.
/// </remarks>
internal sealed unsafe class NativeIntList
{
    private int* _items;
    private int _capacity;

    /// <summary>Positions in the list.</summary>
    public int Count { get; private set; }

    public int this[int index]
    {
        get
        {
            Debug.Assert((uint)index < (uint)Count && _items != null);
            return _items[index];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
    public void Add(int value)
    {
        if (Count == _capacity)
        {
            Grow();
        }

        _items[Count++] = value;
    }

    /// <summary>Frees the memory; the list is empty afterwards.</summary>
    public void Free()
    {
        if (_items != null)
        {
            NativeMemory.Free(_items);
            _items = null;
        }

        _capacity = 0;
        Count = 0;
    }

    private void Grow()
    {
        int capacity = _capacity == 0 ? 4 : checked(_capacity * 2);
        _items = (int*)NativeMemory.Realloc(_items, (nuint)capacity * sizeof(int));
        _capacity = capacity;
    }
}
