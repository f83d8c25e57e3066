using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// Opening an embedded store (docs/FORMAT.md, "Reading and recovery"): the live segments (SegmentRecovery.LiveSegments.cs)
/// are scanned in order into the index through the <see cref="RecoveryLedger"/>, which proves the global sequence
/// gap-free and every seal right; a torn tail of the active segment is cut, and a rotation a crash interrupted is
/// completed. Created and run once by <see cref="SegmentEngine"/>'s open, before any reader or writer exists.
/// </summary>
internal sealed partial class SegmentRecovery
{
    private readonly BatpakOptions _options;
    private readonly string _directory;
    private readonly StoreIndex _index; // filled under its SyncRoot
    private readonly DirectoryLock? _lock; // null for a read-only open (which changes no file)
    private RecoveryLedger? _ledger; // during a scan only

    /// <summary>Prepares recovery of the segments in <paramref name="directory"/> into the empty <paramref name="index"/>.</summary>
    public SegmentRecovery(BatpakOptions options, string directory, StoreIndex index, DirectoryLock? directoryLock)
    {
        _options = options;
        _directory = directory;
        _index = index;
        _lock = directoryLock;
    }

    /// <summary>What <see cref="Recover"/> leaves for the writer: the active segment, open for writing, and where it ends.</summary>
    public readonly record struct ActiveSegment(SafeFileHandle Handle, int Id, long Tail, int HeaderLength, long SegmentFirst);

    private string SegmentPath(int segmentId) => SegmentFiles.PathOf(_directory, segmentId);

    /// <summary>Indexes every segment without changing any file: a torn tail or header of the last segment is ignored and reported.</summary>
    public RecoveryReport ScanReadOnly()
    {
        List<int> ids = LiveSegmentIds(repair: false);
        var interner = new StringInterner();
        long ignoredBytes = 0;
        long ignoredAt = -1;
        string? reason = null;
        bool lastEmpty = ids.Count > 1 && HoldsNoFrames(ids[^1]);
        lock (_index.SyncRoot)
        {
            _ledger = new RecoveryLedger(_index);
            for (int i = 0; i < ids.Count; i++)
            {
                bool isLast = i == ids.Count - 1;
                using SafeFileHandle handle = File.OpenHandle(SegmentPath(ids[i]), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                int id = ids[i];
                SegmentScanner.ScanResult result = SegmentScanner.Scan(handle, id, isLast, AddRecovered, interner, _options.ChainKey, record => _ledger.BeginCompacted(record, id), sealOptional: lastEmpty && i == ids.Count - 2);
                _ledger.EndSegment(id, result.Seal);
                if (result.TruncationReason is not null)
                {
                    ignoredAt = result.Header is null ? 0 : result.ValidEnd;
                    ignoredBytes = RandomAccess.GetLength(handle) - ignoredAt;
                    reason = result.TruncationReason + " (read-only: ignored, the file is left as it is)";
                }
            }

            _ledger = null;
        }

        return new RecoveryReport(ids.Count, ignoredBytes, ignoredAt, reason);
    }

    /// <summary>
    /// Pre-sizes the index for a store with more than one segment: the first segment's bytes per event, applied to
    /// the total size, estimates the event count (so a large recovery does not rehash the id map again and again).
    /// </summary>
    private void ReserveIndex(List<int> ids, long firstSegmentBytes, long firstSegmentEvents)
    {
        if (ids.Count < 2 || firstSegmentEvents == 0)
        {
            return;
        }

        long total = 0;
        foreach (int id in ids)
        {
            total += new FileInfo(SegmentPath(id)).Length;
        }

        long estimate = total / Math.Max(1, firstSegmentBytes / firstSegmentEvents);
        _index.Reserve((int)Math.Min(estimate, 1 << 28));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
    public (ActiveSegment Active, RecoveryReport Report) Recover(TimeProvider time)
    {
        List<int> ids = LiveSegmentIds(repair: true);
        ulong keyCheck = ChainHashing.KeyCheck(_options.ChainKey);
        if (ids.Count == 0)
        {
            SafeFileHandle created = StoreWriter.CreateSegment(_directory, 1, time, keyCheck, out int createdHeader);
            return (new ActiveSegment(created, 1, createdHeader, createdHeader, 0), RecoveryReport.Clean);
        }

        int scanned = 0;
        long truncatedBytes = 0;
        long truncatedAt = -1;
        string? reason = null;
        var interner = new StringInterner(); // one string per entity and scope name, not one per frame
        bool lastEmpty = ids.Count > 1 && HoldsNoFrames(ids[^1]);
        UnsealedSegment? unsealed = null;
        lock (_index.SyncRoot)
        {
            RecoveryLedger ledger = _ledger = new RecoveryLedger(_index);
            try
            {
                // Sealed segments are decoded on a worker (checksums, MessagePack, names) that hands this thread fixed-size
                // chunks of frames through a small bounded queue; this thread builds the index strictly in segment order.
                // A damaged segment is reported when its turn comes.
                if (ids.Count > 1)
                {
                    using var decoded = new BlockingCollection<SealedChunk>(boundedCapacity: 4);
                    Task producer = Task.Run(() => DecodeSealed(ids, lastEmpty, decoded));
                    try
                    {
                        foreach (SealedChunk chunk in decoded.GetConsumingEnumerable())
                        {
                            if (chunk.Error is not null)
                            {
                                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(chunk.Error);
                            }

                            if (chunk.Compaction is { } record)
                            {
                                ledger.BeginCompacted(record, chunk.SegmentId);
                                continue;
                            }

                            const int PrefetchDistance = 8; // id-map slots are random: ask for the one 8 frames ahead
                            for (int f = 0; f < chunk.Count; f++)
                            {
                                if (f + PrefetchDistance < chunk.Count)
                                {
                                    _index.PrefetchLocked(chunk.Frames![f + PrefetchDistance].EventId);
                                }

                                AddRecovered(ref chunk.Frames![f], chunk.Positions![f], chunk.KeyFingerprints![f]);
                            }

                            chunk.Return();
                            if (chunk.SegmentDone is { } done)
                            {
                                if (scanned == 0)
                                {
                                    ReserveIndex(ids, done.ValidEnd, done.Frames);
                                }

                                scanned++;
                                if (done.Seal is null)
                                {
                                    // Only the segment before an empty last one may lack its seal: a crash between creating
                                    // the next segment and sealing this one. The rotation is completed, or, when there is no
                                    // room to recreate a torn next segment, this one stays active and the writer creates
                                    // the next segment. It is sealed once the last segment is in place (below).
                                    unsealed = new UnsealedSegment(chunk.SegmentId, done, ledger.SegmentFirst >= 0 ? ledger.SegmentFirst : ledger.Next, ledger.Next, _index.ChainLocked.Head());
                                    CheckTornSeal(unsealed);
                                }

                                ledger.EndSegment(chunk.SegmentId, done.Seal);
                            }
                        }
                    }
                    finally
                    {
                        decoded.CompleteAdding();
                        while (decoded.TryTake(out SealedChunk? rest))
                        {
                            rest.Return(); // unblocks a producer still adding after a failure here
                        }

                        producer.Wait();
                    }
                }

                int lastId = ids[^1];
                _lock!.EnsureHeld(); // the path is still the locked directory: the tail may be cut or rewritten next
                SafeFileHandle last = File.OpenHandle(SegmentPath(lastId), FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
                try
                {
                    SegmentScanner.ScanResult result = SegmentScanner.Scan(last, lastId, isLast: true, AddRecovered, interner, _options.ChainKey, record => ledger.BeginCompacted(record, lastId));
                    scanned++;
                    if (result.Seal is not null)
                    {
                        throw new CorruptSegmentException(lastId + 1, 0, $"the segment file is missing: {FrameFormat.SegmentFileName(lastId)} is sealed, and the writer always creates the next segment before it seals one");
                    }

                    long segmentFirst = ledger.SegmentFirst >= 0 ? ledger.SegmentFirst : ledger.Next;
                    ledger.EndSegment(lastId, null);
                    long length = RandomAccess.GetLength(last);
                    int headerLength;
                    long tail;
                    if (result.Header is null)
                    {
                        // Torn while being created: rewrite the header (no frame was ever acknowledged in it).
                        last.Dispose();
                        File.Delete(SegmentPath(lastId));
                        truncatedBytes = length;
                        truncatedAt = 0;
                        reason = result.TruncationReason;
                        try
                        {
                            last = StoreWriter.CreateSegment(_directory, lastId, time, keyCheck, out headerLength);
                            tail = headerLength;
                        }
                        catch (IOException) when (unsealed is { Scanned.Header: { } previousHeader } previous)
                        {
                            // No room for a new header (a full disk): the unsealed segment before it stays the active one,
                            // so the store opens and reads; the writer creates the next segment when it next rotates.
                            last = File.OpenHandle(SegmentPath(previous.Id), FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
                            RandomAccess.SetLength(last, previous.Scanned.ValidEnd); // a torn seal, if any
                            NativeFile.Sync(last, SyncMode.All);
                            (lastId, headerLength, tail, segmentFirst) = (previous.Id, previousHeader.Length, previous.Scanned.ValidEnd, previous.First);
                            unsealed = null;
                            reason += $"; there is no room to recreate it, so {FrameFormat.SegmentFileName(lastId)} stays the active segment";
                        }
                    }
                    else
                    {
                        headerLength = result.Header.Value.Length;
                        tail = result.ValidEnd;
                        if (result.TruncationReason is not null)
                        {
                            RandomAccess.SetLength(last, result.ValidEnd);
                            NativeFile.Sync(last, SyncMode.All);
                            truncatedBytes = length - result.ValidEnd;
                            truncatedAt = result.ValidEnd;
                            reason = result.TruncationReason;
                        }
                    }

                    if (unsealed is { } rotation)
                    {
                        CompleteRotation(rotation);
                        reason ??= $"a rotation interrupted by a crash was completed: segment {FrameFormat.SegmentFileName(rotation.Id)} was sealed";
                    }

                    return (new ActiveSegment(last, lastId, tail, headerLength, segmentFirst), new RecoveryReport(scanned, truncatedBytes, truncatedAt, reason));
                }
                catch
                {
                    last.Dispose();
                    throw;
                }
            }
            finally
            {
                _ledger = null;
            }
        }
    }

    /// <summary>A sealed segment found without its seal, before an empty last segment, and what its seal must say.</summary>
    private sealed record UnsealedSegment(int Id, SegmentScanner.ScanResult Scanned, long First, long Next, EventHash Head);

    /// <summary>
    /// The frames of an unsealed segment were fsynced before its successor was created, so at most a torn seal can
    /// follow them; anything longer is damage, and open fails instead.
    /// </summary>
    private void CheckTornSeal(UnsealedSegment segment)
    {
        const int LongestSeal = 128;
        long length = new FileInfo(SegmentPath(segment.Id)).Length;
        if (length - segment.Scanned.ValidEnd > LongestSeal)
        {
            throw new CorruptSegmentException(segment.Id, segment.Scanned.ValidEnd, $"{segment.Scanned.TruncationReason} in a sealed segment ({length - segment.Scanned.ValidEnd} bytes, longer than a torn seal)");
        }
    }

    /// <summary>Seals a segment whose seal a crash kept from being written (its successor exists and is empty).</summary>
    private void CompleteRotation(UnsealedSegment segment)
    {
        using SafeFileHandle handle = File.OpenHandle(SegmentPath(segment.Id), FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        using var seal = new PooledBufferWriter(256);
        SegmentRecords.WriteSeal(seal, new SegmentRecords.Seal(segment.Id, segment.First, segment.Next, segment.Head));
        RandomAccess.SetLength(handle, segment.Scanned.ValidEnd);
        RandomAccess.Write(handle, seal.WrittenSpan, segment.Scanned.ValidEnd);
        NativeFile.Sync(handle, SyncMode.All);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
    private void AddRecovered(ref FrameFormat.FrameFields fields, DiskPosition position, ulong keyFingerprint)
    {
        EntityStream? stream = _ledger!.BeforeEvent(ref fields, position);

        // A name is checked the first time it is seen (an entity with a stream or a known scope passed already).
        if ((stream is null && Coordinate.Check(fields.Entity) is not null) || (!_index.HasScopeForWriter(fields.Scope) && Coordinate.Check(fields.Scope) is not null))
        {
            throw new CorruptSegmentException(position.SegmentId, position.Offset, "the frame holds an invalid coordinate");
        }

        var entry = new IndexEntry
        {
            Id = fields.EventId,
            CorrelationId = fields.CorrelationId,
            CausationId = fields.CausationId,
            GlobalSequence = fields.GlobalSequence,
            EntitySequence = fields.EntitySequence,
            TimestampMicroseconds = fields.TimestampMicroseconds,
            WallMilliseconds = fields.WallMilliseconds,
            Offset = position.Offset,
            SegmentId = position.SegmentId,
            Length = position.Length,
            Counter = fields.Counter,
            Depth = fields.Depth,
            Kind = fields.Kind,
            Flags = fields.Flags,
        };
        _index.AddLocked(ref entry, fields.Entity, fields.Scope, fields.Hash, fields.IdempotencyKey, keyFingerprint);
    }
}
