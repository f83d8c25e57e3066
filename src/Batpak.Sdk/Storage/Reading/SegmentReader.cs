using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Batpak.Engine;

namespace Batpak.Storage;

/// <summary>
/// The embedded engine's read path: index look-ups turned into events read from segment files through the handle
/// cache, each frame checked (length, CRC-32, decoding, the event the index expects) on every read. Lock-free: any
/// thread may call any member; a read that a compaction's file swap overtakes looks the event up again.
/// Owned by <see cref="SegmentEngine"/>; the verifier and the compaction runner use it too.
/// </summary>
internal sealed class SegmentReader(StoreIndex index, FileHandleCache handles)
{
    private readonly StoreIndex _index = index;
    private readonly FileHandleCache _handles = handles;
    private List<(IndexEntry Entry, string Entity, string Scope)>? _deliveryChunk; // DeliverCommitted's buffer, reused across dispatcher wakes
    private volatile bool _compacting; // set by the compaction runner while it swaps files

    /// <summary>Set by the compaction runner while it renames and deletes segment files under readers.</summary>
    public bool Compacting
    {
        get => _compacting;
        set => _compacting = value;
    }

    /// <inheritdoc cref="IStorageEngine.TryGet"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent)
    {
        if (_index.TryGet(id, out IndexEntry entry, out string? entity, out string? scope))
        {
            storedEvent = ReadEventResilient(entry, entity, scope);
            return storedEvent is not null;
        }

        storedEvent = null;
        return false;
    }

    /// <inheritdoc cref="IStorageEngine.TryLocate"/>
    public bool TryLocate(EventId id, out EventLocation location)
    {
        if (_index.TryGet(id, out IndexEntry entry, out string? entity, out _) && !entry.Deleted)
        {
            location = new EventLocation(entity, entry.EntitySequence, entry.GlobalSequence);
            return true;
        }

        location = default;
        return false;
    }

    /// <inheritdoc cref="IStorageEngine.Read"/>
    public IEnumerable<StoredEvent> Read(Region region) => Enumerate(_index.OpenCursor(region));

    /// <inheritdoc cref="IStorageEngine.Stream(string, long)"/>
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence) => Enumerate(_index.OpenEntityCursor(entity, fromSequence));

    /// <inheritdoc cref="IStorageEngine.ReadCorrelated"/>
    public IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId) => ReadEntries(_index.CollectCorrelation(correlationId));

    /// <inheritdoc cref="IStorageEngine.DeliverCommitted"/>
    public long DeliverCommitted(long from, Subscription[] subscriptions)
    {
        // The dispatcher calls this on every commit signal: it borrows one chunk list for the reader's life (a second
        // caller at the same moment, which the one dispatcher thread never is, would get a fresh list).
        List<(IndexEntry Entry, string Entity, string Scope)> chunk = Interlocked.Exchange(ref _deliveryChunk, null) ?? [];
        try
        {
            return DeliverCommitted(from, subscriptions, chunk);
        }
        finally
        {
            chunk.Clear();
            _deliveryChunk = chunk;
        }
    }

    private long DeliverCommitted(long from, Subscription[] subscriptions, List<(IndexEntry Entry, string Entity, string Scope)> chunk)
    {
        StoreIndex.RegionCursor cursor = _index.OpenCursor(Region.All.WithGlobalSequence(from));
        while (cursor.NextChunk(chunk))
        {
            foreach ((IndexEntry entry, string entity, string scope) in chunk)
            {
                StoredEvent? read = null;
                foreach (Subscription subscription in subscriptions)
                {
                    if (subscription.Wants(entity, scope, EventKind.FromValue(entry.Kind), entry.GlobalSequence, entry.TimestampMicroseconds))
                    {
                        read ??= ReadEventResilient(entry, entity, scope);
                        if (read is null)
                        {
                            break; // dropped by compaction meanwhile
                        }

                        subscription.Deliver(read);
                    }
                }
            }
        }

        return cursor.EndGlobalSequence;
    }

    /// <summary>
    /// Reads an event found in the index; when compaction moved it between the look-up and the read, looks it up
    /// again. Returns <see langword="null"/> only when compaction dropped it meanwhile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public StoredEvent? ReadEventResilient(in IndexEntry entry, string entity, string scope, ReadSession? session = null)
    {
        try
        {
            return ReadEvent(entry, entity, scope, session);
        }
        catch (Exception ex) when (ex is CorruptSegmentException or FileNotFoundException && (_compacting || _index.Generation > 0))
        {
            // A compaction swapped files under this read (or under the session's lease): wait for it to finish,
            // look the event up again and read it once more with a fresh lease. Real damage fails again, and throws.
            session?.Reset();
            SpinWait.SpinUntil(() => !_compacting, TimeSpan.FromSeconds(30));
            if (!_index.TryGet(entry.Id, out IndexEntry moved, out _, out _))
            {
                return null; // dropped by retention while we were reading
            }

            return ReadEvent(moved, entity, scope);
        }
    }

    /// <summary>Reads up to <paramref name="maxCount"/> events of <paramref name="region"/> at or after <paramref name="from"/>; returns them and the position to continue from.</summary>
    public (List<StoredEvent> Events, long Next) ReadRegionFrom(Region region, long from, int maxCount)
    {
        StoreIndex.RegionCursor cursor = _index.OpenCursor(region.FromGlobalSequence >= from ? region : region.WithGlobalSequence(from, Math.Max(from, region.ToGlobalSequence)));
        var events = new List<StoredEvent>();
        var chunk = new List<(IndexEntry Entry, string Entity, string Scope)>();
        while (events.Count < maxCount && cursor.NextChunk(chunk))
        {
            foreach ((IndexEntry entry, string entity, string scope) in chunk)
            {
                if (ReadEventResilient(entry, entity, scope) is not { } read)
                {
                    continue;
                }

                events.Add(read);
                if (events.Count == maxCount)
                {
                    return (events, entry.GlobalSequence + 1);
                }
            }
        }

        return (events, Math.Max(from, cursor.EndGlobalSequence));
    }


    private IEnumerable<StoredEvent> Enumerate(StoreIndex.RegionCursor cursor)
    {
        // The chunk buffers are reused across enumerations on a thread (one Stream per entity, 10,000 times, would
        // otherwise allocate and grow two lists each time); a nested enumeration on the same thread gets fresh ones.
        EnumerationBuffers buffers = t_enumerationBuffers ?? new EnumerationBuffers();
        t_enumerationBuffers = null;
        List<(IndexEntry Entry, string Entity, string Scope)> chunk = buffers.Chunk;
        List<StoredEvent> events = buffers.Events;
        try
        {
            while (cursor.NextChunk(chunk))
            {
                // A chunk is read under one lease per segment run (not one per event), and the lease is returned
                // before anything is yielded, so an abandoned enumeration never keeps a file handle leased.
                ReadChunk(chunk, events);
                foreach (StoredEvent read in events)
                {
                    yield return read;
                }
            }
        }
        finally
        {
            chunk.Clear();
            events.Clear(); // hold no events past the enumeration
            t_enumerationBuffers = buffers;
        }
    }

    /// <summary>Reads a chunk's events into <paramref name="events"/> (cleared first) under one lease per segment run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    private void ReadChunk(List<(IndexEntry Entry, string Entity, string Scope)> chunk, List<StoredEvent> events)
    {
        events.Clear();
        using var session = new ReadSession(_handles);
        Span<(IndexEntry Entry, string Entity, string Scope)> items = CollectionsMarshal.AsSpan(chunk);
        const int PrefetchDistance = 4; // frames ahead: enough to overlap the memory waits, few enough to stay cached
        for (int i = 0; i < items.Length; i++)
        {
            if (i + PrefetchDistance < items.Length)
            {
                session.Prefetch(items[i + PrefetchDistance].Entry);
            }

            ref readonly (IndexEntry Entry, string Entity, string Scope) item = ref items[i];
            if (ReadEventResilient(item.Entry, item.Entity, item.Scope, session) is { } read)
            {
                events.Add(read);
            }
        }
    }

    [ThreadStatic]
#pragma warning disable IDE1006 // t_ marks a [ThreadStatic] (runtime convention); .editorconfig cannot tell thread statics apart
    private static EnumerationBuffers? t_enumerationBuffers;
#pragma warning restore IDE1006

    /// <summary>The lists one enumeration fills chunk by chunk; see <see cref="Enumerate"/>.</summary>
    private sealed class EnumerationBuffers
    {
        public readonly List<(IndexEntry Entry, string Entity, string Scope)> Chunk = new(256);
        public readonly List<StoredEvent> Events = new(256);
    }

    private IEnumerable<StoredEvent> ReadEntries(List<IndexEntry> entries)
    {
        foreach (IndexEntry entry in entries)
        {
            (string entity, string scope) = _index.NamesOf(entry);
            if (ReadEventResilient(entry, entity, scope) is { } read)
            {
                yield return read;
            }
        }
    }

    /// <summary>
    /// Reads one event, checks its frame (length, CRC, decoding) and that it is the event the index expects. A frame
    /// of a mapped (sealed) segment is checked and decoded in place, and only its payload is copied; any other is
    /// read into a pooled buffer first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public StoredEvent ReadEvent(in IndexEntry entry, string entity, string scope, ReadSession? session = null)
    {
        if (session is not null)
        {
            return ReadEvent(entry, entity, scope, session.For(entry.SegmentId)); // the session holds the lease
        }

        using FileHandleCache.Lease lease = _handles.Rent(entry.SegmentId);
        return ReadEvent(entry, entity, scope, lease);
    }

    /// <summary>Reads one event under <paramref name="lease"/>, which the caller holds until this returns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    private static StoredEvent ReadEvent(in IndexEntry entry, string entity, string scope, FileHandleCache.Lease lease)
    {
        // The mapped span is valid only while the lease is held: the payload is copied out before returning.
        if (lease.TryGetMapped(entry.Offset, entry.Length, out ReadOnlySpan<byte> mapped))
        {
            FrameFormat.FrameFields fields = CheckFrame(entry, mapped, out int payloadStart, out int payloadLength, skipCoordinate: true);
            return NewStoredEvent(entry, entity, scope, fields, mapped.Slice(FrameFormat.FrameHeaderSize + payloadStart, payloadLength));
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(entry.Length);
        try
        {
            Span<byte> frame = buffer.AsSpan(0, entry.Length);
            lease.ReadExactly(frame, entry.Offset, entry.SegmentId);
            FrameFormat.FrameFields fields = CheckFrame(entry, frame, out int payloadStart, out int payloadLength, skipCoordinate: true);
            return NewStoredEvent(entry, entity, scope, fields, frame.Slice(FrameFormat.FrameHeaderSize + payloadStart, payloadLength));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    private static StoredEvent NewStoredEvent(in IndexEntry entry, string entity, string scope, in FrameFormat.FrameFields fields, ReadOnlySpan<byte> payload) =>
        new(Coordinate.FromTrusted(entity, scope), FrameFormat.HeaderOf(fields), payload.ToArray(), entry.Position, fields.IdempotencyKey, fields.BypassReason);

    /// <summary>Reads one frame into <paramref name="buffer"/> and checks it (see <see cref="CheckFrame"/>); <paramref name="payload"/> is a slice of the buffer.</summary>
    public FrameFormat.FrameFields ReadFrame(in IndexEntry entry, byte[] buffer, out ReadOnlyMemory<byte> payload)
    {
        Span<byte> frame = buffer.AsSpan(0, entry.Length);
        using (FileHandleCache.Lease lease = _handles.Rent(entry.SegmentId))
        {
            lease.ReadExactly(frame, entry.Offset, entry.SegmentId);
        }

        FrameFormat.FrameFields fields = CheckFrame(entry, frame, out int payloadStart, out int payloadLength, skipCoordinate: false);
        payload = buffer.AsMemory(FrameFormat.FrameHeaderSize + payloadStart, payloadLength);
        return fields;
    }

    /// <summary>
    /// Checks a whole frame (8-byte header + body) read at <paramref name="entry"/>: its length field, its CRC, that
    /// its body decodes and that it holds the event the index expects. The payload is
    /// <c>frame.Slice(FrameHeaderSize + payloadStart, payloadLength)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    private static FrameFormat.FrameFields CheckFrame(in IndexEntry entry, ReadOnlySpan<byte> frame, out int payloadStart, out int payloadLength, bool skipCoordinate)
    {
        if (BinaryPrimitives.ReadUInt32BigEndian(frame) != (uint)(entry.Length - FrameFormat.FrameHeaderSize))
        {
            throw new CorruptSegmentException(entry.SegmentId, entry.Offset, $"the frame length field does not match the index ({entry.Length - FrameFormat.FrameHeaderSize} expected)");
        }

        if (!FrameFormat.CrcMatches(frame))
        {
            throw new CorruptSegmentException(entry.SegmentId, entry.Offset, "CRC-32 mismatch on read");
        }

        FrameFormat.FrameFields fields;
        try
        {
            fields = FrameFormat.ReadBody(frame[FrameFormat.FrameHeaderSize..], out payloadStart, out payloadLength, skipCoordinate: skipCoordinate);
        }
        catch (Exception ex) when (ex is MessagePack.MessagePackSerializationException or FormatException or EndOfStreamException)
        {
            throw new CorruptSegmentException(entry.SegmentId, entry.Offset, "the frame does not decode: " + ex.Message, ex);
        }

        if (fields.EventId != entry.Id)
        {
            throw new CorruptSegmentException(entry.SegmentId, entry.Offset, $"the frame holds event {fields.EventId}; the index expects {entry.Id}");
        }

        return fields;
    }
}
