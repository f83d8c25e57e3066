using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Batpak.Storage;

/// <summary>
/// The index's event id -> entry position map: open addressing with linear probing over one managed array of
/// 20-byte slots (the id's two halves and the position). A look-up touches one slot, one cache line usually, instead
/// of the bucket array plus entry array of a <see cref="Dictionary{TKey, TValue}"/>; the slots hold no references,
/// so the garbage collector never scans them.
/// </summary>
/// <remarks>
/// <para>Not thread-safe: its one owner, <see cref="StoreIndex"/>, calls every member under its lock (the writer
/// and recovery to add, compaction to remove, readers to look up).</para>
/// <para>Grows by doubling at 3/4 load (removed slots count as load until the next rehash drops them; a table that
/// is mostly removed slots is swept at the same size instead). It holds at most 805,306,368 ids (3/4 of 2^30
/// slots); <see cref="EnsureCapacity"/> or <see cref="Set"/> past that throws <see cref="InvalidOperationException"/>.</para>
/// <para>Slot position encoding: 0 = empty, -1 = removed, p + 1 = the entry at position p.</para>
/// <para><see cref="Dispose"/> drops the table (a disposed store may stay referenced); later calls throw
/// <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
internal sealed class IdMap : IDisposable
{
    private const int Removed = -1;
    private const int MinCapacity = 1024;
    private const int MaxCapacity = 1 << 30;
    private Slot[]? _slots;
    private int _shift; // 64 - log2(capacity)
    private int _used; // live + removed slots
    private int _live;

    public IdMap(int capacity = MinCapacity)
    {
        Allocate(CapacityFor(capacity));
    }

    /// <summary>The most ids one map holds: 3/4 of its largest table.</summary>
    public const int MaxCount = MaxCapacity / 4 * 3;

    /// <summary>Ids in the map.</summary>
    public int Count => _live;

    /// <summary>Bytes the table holds (0 once disposed).</summary>
    public long Bytes => (long)(_slots?.Length ?? 0) * Unsafe.SizeOf<Slot>();

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
        Slot[] slots = Slots();
        int wanted = CapacityFor(count);
        if (wanted > slots.Length)
        {
            Rehash(wanted);
        }
    }

    /// <summary>Adds or replaces <paramref name="id"/>'s position.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
    public void Set(EventId id, int position)
    {
        int capacity = Slots().Length;
        Debug.Assert(position >= 0);
        if ((long)(_used + 1) * 4 > (long)capacity * 3)
        {
            Rehash((long)(_live + 1) * 2 > capacity ? Doubled(capacity) : capacity); // mostly removed slots: same size, swept
        }

        ulong low = (ulong)id.Value;
        ulong high = (ulong)(id.Value >> 64);
        ref Slot slot = ref Find(low, high);
        if (slot.Position == 0)
        {
            slot.Low = low;
            slot.High = high;
            _used++;
            _live++;
        }
        else if (slot.Position == Removed)
        {
            _live++; // the id comes back: its removed slot is reused
        }

        slot.Position = position + 1;
    }

    /// <summary>
    /// Asks the CPU to start loading the slot <paramref name="id"/> hashes to, so a <see cref="Set"/> or
    /// <see cref="TryGet"/> a few steps later does not wait for memory (recovery and a published batch insert ids at
    /// random places in the table). The map's only unsafe code: the slot's address is handed to the prefetch
    /// instruction and never dereferenced (a prefetch does not fault, and a stale address after a GC move only wastes
    /// the hint).
    /// </summary>
    public unsafe void Prefetch(EventId id)
    {
        if (Sse.IsSupported && _slots is { } slots)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref slots[SlotOf((ulong)id.Value, (ulong)(id.Value >> 64))]));
        }
    }

    /// <summary>The position of <paramref name="id"/>, or false.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public bool TryGet(EventId id, out int position)
    {
        Slots();
        int stored = Find((ulong)id.Value, (ulong)(id.Value >> 64)).Position;
        position = stored - 1;
        return stored > 0;
    }

    /// <summary>Removes <paramref name="id"/>; false when it was not there.</summary>
    public bool Remove(EventId id)
    {
        Slots();
        ref Slot slot = ref Find((ulong)id.Value, (ulong)(id.Value >> 64));
        if (slot.Position <= 0)
        {
            return false;
        }

        slot.Position = Removed; // the id stays, so probes for other ids keep walking past this slot
        _live--;
        return true;
    }

    public void Dispose() => _slots = null;

    /// <summary>
    /// The slot that holds the id with halves <paramref name="low"/> and <paramref name="high"/> (live or removed: an
    /// id has at most one slot), or the empty slot that ends its probe run. The table is never full (at most 3/4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // the probe loop of every Set, TryGet, Remove and rehash
    private ref Slot Find(ulong low, ulong high)
    {
        Slot[] slots = _slots!;
        int mask = slots.Length - 1;
        for (int i = SlotOf(low, high); ; i = (i + 1) & mask)
        {
            ref Slot slot = ref slots[i];
            if (slot.Position == 0 || (slot.Low == low && slot.High == high))
            {
                return ref slot;
            }
        }
    }

    private static int CapacityFor(int count)
    {
        long needed = Math.Max(MinCapacity, ((long)Math.Max(count, 0) * 4 / 3) + 1);
        if (needed > MaxCapacity)
        {
            throw new InvalidOperationException($"The id map cannot hold {count} events (at most {MaxCount} per store).");
        }

        return (int)BitOperations.RoundUpToPowerOf2((uint)needed);
    }

    private static int Doubled(int capacity) => capacity < MaxCapacity
        ? capacity * 2
        : throw new InvalidOperationException($"The id map cannot hold more than {MaxCount} events per store.");

    // Fibonacci hashing of both halves: UUIDv7 ids share their high bits within a millisecond and count up in the low.
    private int SlotOf(ulong low, ulong high) => (int)(((low ^ (high * 0x9E3779B97F4A7C15UL)) * 0x9E3779B97F4A7C15UL) >> _shift);

    private Slot[] Slots() => _slots ?? throw new ObjectDisposedException(nameof(IdMap));

    private void Allocate(int capacity)
    {
        _slots = new Slot[capacity];
        _shift = 64 - BitOperations.Log2((uint)capacity);
        _used = 0;
        _live = 0;
    }

    private void Rehash(int capacity)
    {
        Slot[] old = _slots!;
        Allocate(capacity);
        foreach (ref readonly Slot slot in old.AsSpan())
        {
            if (slot.Position > 0)
            {
                ref Slot fresh = ref Find(slot.Low, slot.High); // a fresh table holds each id once and no removed slots: this is the empty slot
                fresh = slot;
                _used++;
                _live++;
            }
        }
    }
}
