using System.Diagnostics;

namespace Batpak.Storage;

/// <summary>
/// The in-memory index: by event id, per-entity stream (ordered), per scope, per kind, per correlation, and the
/// global order. This file holds its state, its counters, sizing and disposal; the members are grouped by caller in
/// the other <c>StoreIndex.*.cs</c> files.
/// </summary>
/// <remarks>
/// <para>Who calls what. Every mutation happens under <see cref="SyncRoot"/>, and only from three places:
/// <list type="bullet">
/// <item>the writer: whichever thread holds <c>StoreWriter</c>'s write lock (its background thread, or a synchronous
/// caller combining a batch) publishes a batch with <c>AddLocked</c> (<c>StoreIndex.Writer.cs</c>). The holder of the
/// write lock is the index's only mutator while the store is open, so it may also call the <c>...ForWriter</c>
/// look-ups, and read <see cref="EntityStream.LastSequence"/>/<see cref="EntityStream.LastHash"/>, without the
/// index lock;</item>
/// <item>recovery, before the writer exists, with <c>AddLocked</c>, <c>AddDroppedLocked</c> and
/// <c>AddTombstonesLocked</c> (<c>StoreIndex.Integrity.cs</c>);</item>
/// <item>compaction's swap, which runs under the write lock (<c>StoreWriter.RunExclusive</c>) and calls
/// <c>ApplyCompactionLocked</c> and <c>RecordDroppedLocked</c> (<c>StoreIndex.Compaction.cs</c>).</item>
/// </list>
/// Readers, on any thread and without the write lock, call the look-ups of <c>StoreIndex.Reads.cs</c> and the
/// cursors of <c>StoreIndex.Cursors.cs</c>: each takes <see cref="SyncRoot"/> to look up or copy a chunk of entries
/// and reads frames outside it, so a read holds the index lock for an index look-up, never for I/O.</para>
/// <para>Entries are append-only: a position (index into the entry chunks) never changes meaning while the index
/// lives, so an enumeration that captured a count keeps reading a consistent prefix while appends continue.</para>
/// <para>Memory: the entries live in fixed-size chunks of native memory (<c>StoreIndex.Entries.cs</c>: the index's
/// unsafe code, with <see cref="IdMap.Prefetch"/>'s hint; a managed chunk array measured slower, see bench/RESULTS.md,
/// "Id map: managed vs native"). The id map (<see cref="IdMap"/>) and the per-entity, per-scope and per-kind position
/// lists (<see cref="PositionList"/>) are managed arrays without references, which the garbage collector never
/// scans; growing them is the index's managed allocation (amortized, about 114 bytes per event over a store's first
/// million). <see cref="Dispose"/> frees the chunks under <see cref="SyncRoot"/>, so no reader can touch freed
/// memory: after disposal the look-ups throw <see cref="ObjectDisposedException"/>. Each chunk is owned by a SafeHandle
/// (<see cref="EntryChunks"/>), whose finalizer is only a backstop for a store that failed to open.</para>
/// </remarks>
internal sealed partial class StoreIndex : IDisposable
{
    private readonly Lock _lock = new();
    private readonly IdMap _byId = new();
    private readonly Dictionary<string, EntityStream> _entities = new(StringComparer.Ordinal);
    private readonly List<EntityStream> _entityByIndex = new();
    private readonly Dictionary<string, int> _scopeIds = new(StringComparer.Ordinal);
    private readonly List<string> _scopeNames = new();
    private readonly List<PositionList> _scopePositions = new();
    private readonly Dictionary<ushort, PositionList> _byKind = new();
    private readonly Dictionary<EventId, List<int>> _byCorrelation = new(); // non-root events only
    private readonly Dictionary<string, IdempotencyRecord> _idempotency = new(StringComparer.Ordinal);
    private int _count;
    private int _deleted;
    private long _generation;
    private bool _freed;

    /// <summary>Incremented by every compaction that moved or removed events (readers use it to tell a move from damage).</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public Lock SyncRoot => _lock;

    /// <summary>The next global sequence to assign (one past the largest seen).</summary>
    public long NextGlobalSequence { get; private set; }

    /// <summary>The hybrid logical clock's last stamp.</summary>
    public long LastWallMilliseconds { get; private set; } = long.MinValue;

    public uint LastCounter { get; private set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count - _deleted;
            }
        }
    }

    public int EntityCount
    {
        get
        {
            lock (_lock)
            {
                return _entities.Count;
            }
        }
    }

    /// <summary>Sizes the id map and the chunk table for about <paramref name="events"/> events, so a large recovery does not rehash again and again.</summary>
    public void Reserve(int events)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            _byId.EnsureCapacity(events);
            _entries.Reserve((int)(((long)events + ChunkSize - 1) >> ChunkShift));
        }
    }

    /// <summary>
    /// Frees the entry chunks and drops the id map and the position lists (a disposed store may stay referenced);
    /// every later look-up or cursor throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_freed)
            {
                return;
            }

            _freed = true;
            _byId.Dispose();
            _chain.Dispose();
            FreeChunks();
            ReleaseLists();
        }
    }

    private void ThrowIfFreed() => ObjectDisposedException.ThrowIf(_freed, this);

    private void ReleaseLists()
    {
        foreach (EntityStream stream in _entityByIndex)
        {
            stream.Positions.Release();
        }

        foreach (PositionList list in _scopePositions)
        {
            list.Release();
        }

        foreach (PositionList list in _byKind.Values)
        {
            list.Release();
        }
    }
}
