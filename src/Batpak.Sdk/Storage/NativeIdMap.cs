using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Batpak.Storage;

/// <summary>
/// The index's event id -> entry position map: open addressing with linear probing over one block of native memory
/// (20-byte slots: the id and the position). A look-up touches one slot (one cache line, usually) instead of the
/// bucket array plus entry array of a <see cref="Dictionary{TKey, TValue}"/>, and growing the store allocates nothing
/// on the managed heap (no large-object-heap arrays to rehash into, no gen-2 collections they would trigger).
/// </summary>
/// <remarks>
/// <para>Not thread-safe: the owner (<see cref="StoreIndex"/>) calls it under its lock. Grows by doubling at 3/4 load
/// (tombstones count as load until the next growth drops them).</para>
/// <para>Slot position encoding: 0 = empty, -1 = removed (tombstone), p + 1 = the entry at position p.</para>
/// <para>The memory is freed by <see cref="Dispose"/> or, if the owner never disposes it, by the finalizer.</para>
/// </remarks>
internal sealed unsafe class NativeIdMap : IDisposable
{
    private const int Removed = -1;
    private const int MinCapacity = 1024;
    private Slot* _slots;
    private int _capacity; // a power of two
    private int _shift; // 64 - log2(capacity)
    private int _used; // live + removed slots
    private int _live;

    public NativeIdMap(int capacity = MinCapacity)
    {
        Allocate(CapacityFor(capacity));
    }

    ~NativeIdMap() => Free();

    /// <summary>Ids in the map.</summary>
    public int Count => _live;

    /// <summary>Bytes of native memory held.</summary>
    public long NativeBytes => (long)_capacity * sizeof(Slot);

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct Slot
    {
        public ulong Low;
        public ulong High;
        public int Position;
    }

    /// <summary>Grows the table so <paramref name="count"/> ids fit without growing again.</summary>
    public void EnsureCapacity(int count)
    {
        ThrowIfFreed();
        int wanted = CapacityFor(count);
        if (wanted > _capacity)
        {
            Rehash(wanted);
        }
    }

    /// <summary>Adds or replaces <paramref name="id"/>'s position.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
    public void Set(EventId id, int position)
    {
        ThrowIfFreed();
        Debug.Assert(position >= 0);
        if ((long)(_used + 1) * 4 > (long)_capacity * 3)
        {
            Rehash((long)(_live + 1) * 2 > _capacity ? _capacity * 2 : _capacity); // mostly tombstones: same size, swept
        }

        Slot* slot = Find((ulong)id.Value, (ulong)(id.Value >> 64));
        if (slot->Position == 0)
        {
            slot->Low = (ulong)id.Value;
            slot->High = (ulong)(id.Value >> 64);
            _used++;
            _live++;
        }
        else if (slot->Position == Removed)
        {
            _live++; // the id comes back: its tombstone is reused
        }

        slot->Position = position + 1;
    }

    /// <summary>
    /// Asks the CPU to start loading the slot <paramref name="id"/> hashes to, so a <see cref="Set"/> or
    /// <see cref="TryGet"/> a few steps later does not wait for memory (recovery inserts a million random ids).
    /// </summary>
    public void Prefetch(EventId id)
    {
        if (Sse.IsSupported && _slots != null)
        {
            Sse.Prefetch0(_slots + SlotOf((ulong)id.Value, (ulong)(id.Value >> 64)));
        }
    }

    /// <summary>The position of <paramref name="id"/>, or false.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public bool TryGet(EventId id, out int position)
    {
        ThrowIfFreed();
        int stored = Find((ulong)id.Value, (ulong)(id.Value >> 64))->Position;
        position = stored - 1;
        return stored > 0;
    }

    /// <summary>Removes <paramref name="id"/>; false when it was not there.</summary>
    public bool Remove(EventId id)
    {
        ThrowIfFreed();
        Slot* slot = Find((ulong)id.Value, (ulong)(id.Value >> 64));
        if (slot->Position <= 0)
        {
            return false;
        }

        slot->Position = Removed; // the id stays, so probes for other ids keep walking past this slot
        _live--;
        return true;
    }

    /// <summary>
    /// The slot that holds the id with halves <paramref name="low"/> and <paramref name="high"/> (live or removed: an
    /// id has at most one slot), or the empty slot that ends its probe run.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // the probe loop of every Set, TryGet, Remove and rehash
    private Slot* Find(ulong low, ulong high)
    {
        int mask = _capacity - 1;
        for (int i = SlotOf(low, high); ; i = (i + 1) & mask)
        {
            Slot* slot = _slots + i;
            if (slot->Position == 0 || (slot->Low == low && slot->High == high))
            {
                return slot;
            }
        }
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private static int CapacityFor(int count)
    {
        long needed = Math.Max(MinCapacity, ((long)Math.Max(count, 0) * 4 / 3) + 1);
        if (needed > 1 << 30)
        {
            throw new InvalidOperationException($"The id map cannot hold {count} events (at most {(1 << 30) / 4 * 3} per store).");
        }

        return (int)BitOperations.RoundUpToPowerOf2((uint)needed);
    }

    // Fibonacci hashing of both halves: UUIDv7 ids share their high bits within a millisecond and count up in the low.
    private int SlotOf(ulong low, ulong high) => (int)(((low ^ (high * 0x9E3779B97F4A7C15UL)) * 0x9E3779B97F4A7C15UL) >> _shift);

    private void Allocate(int capacity)
    {
        _slots = (Slot*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(Slot));
        _capacity = capacity;
        _shift = 64 - BitOperations.Log2((uint)capacity);
        _used = 0;
        _live = 0;
    }

    private void Rehash(int capacity)
    {
        Slot* old = _slots;
        int oldCapacity = _capacity;
        Allocate(capacity);
        for (int i = 0; i < oldCapacity; i++)
        {
            Slot* slot = old + i;
            if (slot->Position > 0)
            {
                Insert(slot->Low, slot->High, slot->Position);
            }
        }

        NativeMemory.Free(old);
    }

    private void Insert(ulong low, ulong high, int storedPosition)
    {
        Slot* slot = Find(low, high); // a fresh table holds each id once and no tombstones: this is the empty slot
        slot->Low = low;
        slot->High = high;
        slot->Position = storedPosition;
        _used++;
        _live++;
    }

    private void ThrowIfFreed() => ObjectDisposedException.ThrowIf(_slots == null, this);

    private void Free()
    {
        if (_slots != null)
        {
            NativeMemory.Free(_slots);
            _slots = null;
        }
    }
}
