using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// The active segment: the one file appends go to, where its acknowledged frames end, what is not fsynced yet, and
/// rotation (seal this segment, make the next one active). Owned by <see cref="StoreWriter"/>; every member except
/// <see cref="IdForReaders"/>, <see cref="SyncCount"/>, <see cref="BytesWritten"/> and <see cref="CreateFile"/> is
/// called only by whoever holds the writer's write lock (the writer thread, or a synchronous caller writing a batch
/// itself), through the batch loop and <see cref="BatchStager"/>.
/// </summary>
/// <remarks>Restart, fault clean-up and snapshot copies are in ActiveSegment.Rollback.cs.</remarks>
internal sealed partial class ActiveSegment : IDisposable
{
    private readonly string _directory; // the data directory, where segment files are created and deleted
    private readonly BatpakOptions _options; // SyncMode for fsyncs
    private readonly TimeProvider _time; // creation time in new segment headers
    private readonly ulong _keyCheck; // the chain key's check value for new segment headers (0: not keyed)
    private readonly StoreTelemetry? _telemetry; // bytes written and fsync latency
    private readonly Action<int>? _onSealed; // told the id of each segment sealed by rotation (evicts its cached handles)
    private SafeFileHandle _handle; // the active segment's file; replaced by rotation and restart, under the write lock
    private int _id; // the active segment's id; written under the write lock (Volatile.Write), read by any thread through IdForReaders
    private long _unsynced; // events written since the last fsync; write lock
    private long _syncCount; // fsyncs of frames since open; written under the write lock with Interlocked, read by any thread
    private long _bytesWritten; // frame bytes written since open; same as _syncCount

    public ActiveSegment(string directory, BatpakOptions options, TimeProvider time, SafeFileHandle handle, int id, long tail, int headerLength, long first, Action<int>? onSealed, StoreTelemetry? telemetry)
    {
        _directory = directory;
        _options = options;
        _time = time;
        _keyCheck = ChainHashing.KeyCheck(options.ChainKey);
        _telemetry = telemetry;
        _onSealed = onSealed;
        _handle = handle;
        _id = id;
        Tail = tail;
        HeaderLength = headerLength;
        First = first;
    }

    /// <summary>The active segment's id, for the write-lock holder.</summary>
    public int Id => _id;

    /// <summary>The active segment's id, for any thread (a volatile read: rotation may be moving it on).</summary>
    public int IdForReaders => Volatile.Read(ref _id);

    /// <summary>Where the next frame goes: the end of what the active segment holds (header and written frames). Write lock.</summary>
    public long Tail { get; private set; }

    /// <summary>The active segment's header length: a segment whose tail is here holds no frame. Write lock.</summary>
    public int HeaderLength { get; private set; }

    /// <summary>The global sequence of the active segment's first event (the start of its seal). Write lock.</summary>
    public long First { get; private set; }

    /// <summary>Events written since the last fsync. Write lock.</summary>
    public long Unsynced => _unsynced;

    public long SyncCount => Interlocked.Read(ref _syncCount);

    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Test seam: called with "stage", "write", "sync", "rotate" or "restart" before that step; throwing simulates its failure.</summary>
    internal Action<string>? FaultInjector { get; set; }

    /// <summary>Throws when the data directory path no longer names the locked directory; see <see cref="StoreWriter.EnsureDirectoryHeld"/>.</summary>
    internal Action? EnsureDirectoryHeld { get; set; }

    /// <summary>Where the active segment stands now; a failed batch is rolled back to the mark taken at its start.</summary>
    public SegmentMark Mark() => new(_id, Tail, HeaderLength, First);

    /// <summary>Writes <paramref name="bytes"/> (whole frames) at the tail and moves the tail past them.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        FaultInjector?.Invoke("write");
        RandomAccess.Write(_handle, bytes, Tail);
        Tail += bytes.Length;
        Interlocked.Add(ref _bytesWritten, bytes.Length);
        _telemetry?.Written(bytes.Length);
    }

    /// <summary>Counts <paramref name="events"/> written and not yet fsynced.</summary>
    public void AddUnsynced(int events) => _unsynced += events;

    /// <summary>Fsyncs the active segment with the configured <see cref="BatpakOptions.SyncMode"/>.</summary>
    public void Sync()
    {
        FaultInjector?.Invoke("sync");
        long started = Stopwatch.GetTimestamp();
        NativeFile.Sync(_handle, _options.SyncMode);
        _unsynced = 0;
        Interlocked.Increment(ref _syncCount);
        _telemetry?.Synced(started, _id);
    }

    /// <summary>Fsyncs when events were written since the last fsync.</summary>
    public void SyncIfUnsynced()
    {
        if (_unsynced > 0)
        {
            Sync();
        }
    }

    /// <summary>
    /// Writes the first <paramref name="buffered"/> bytes of <paramref name="buffer"/> (the batch's frames that still
    /// belong to this segment), drops them from the buffer, seals the segment with <paramref name="chainHead"/> and
    /// <paramref name="end"/>, and makes the next segment active.
    /// </summary>
    public void SealAndRotate(PooledBufferWriter buffer, int buffered, EventHash chainHead, long end)
    {
        if (_id == int.MaxValue)
        {
            // Segment ids stay ints (they are in every index entry, header and name; widening them changes the format):
            // rather than overflow into a negative id, refuse before anything of this batch is written. Unreachable in
            // practice (2^31 segments), but a wrapped id would reuse names and lose events.
            throw new InvalidOperationException($"The active segment {_id} is full and has the largest possible segment id ({int.MaxValue}); the store cannot rotate to another segment.");
        }

        if (buffered > 0)
        {
            Write(buffer.WrittenSpan[..buffered]);
            buffer.RemovePrefix(buffered);
        }

        Rotate(chainHead, end);
    }

    /// <summary>
    /// Seals the active segment and makes the next one active. Order matters for recovery: the segment's frames are
    /// fsynced, the next segment is created (and fsynced with its directory entry), and only then is the seal written
    /// and fsynced. So a sealed segment that is the last file means its successor was removed, and a crash between the
    /// steps leaves an unsealed segment before an empty one, which open seals.
    /// </summary>
    private void Rotate(EventHash chainHead, long end)
    {
        FaultInjector?.Invoke("rotate");
        EnsureDirectoryHeld?.Invoke();
        Sync(); // a sealed segment is always on stable storage
        int sealedId = _id;
        SafeFileHandle next = CreateFile(_directory, sealedId + 1, _time, _keyCheck, out int headerLength);
        try
        {
            WriteSeal(new SegmentRecords.Seal(sealedId, First, end, chainHead));
        }
        catch
        {
            next.Dispose();
            File.Delete(Path.Combine(_directory, FrameFormat.SegmentFileName(sealedId + 1)));
            throw;
        }

        _handle.Dispose();
        _handle = next;
        Tail = headerLength;
        HeaderLength = headerLength;
        First = end;
        Volatile.Write(ref _id, sealedId + 1);
        _onSealed?.Invoke(sealedId);
    }

    /// <summary>
    /// Appends the seal to the active segment and fsyncs it: the segment's global range and the global chain's head at
    /// its end, which takes in the frames of the batch in progress that went into this segment (staged, not yet
    /// published to the index; <see cref="BatchStager.ChainHeadWithStaged"/>).
    /// </summary>
    private void WriteSeal(in SegmentRecords.Seal record)
    {
        using var seal = new PooledBufferWriter(256);
        SegmentRecords.WriteSeal(seal, record);
        FaultInjector?.Invoke("write");
        RandomAccess.Write(_handle, seal.WrittenSpan, Tail);
        Tail += seal.WrittenCount;
        NativeFile.Sync(_handle, SyncMode.All);
    }

    /// <summary>
    /// Creates a new segment file with its header, fsyncs it and its directory entry. When that fails (a full disk),
    /// the file it created is deleted again: an empty or torn file left behind would make the next attempt fail on
    /// "already exists" even once there is space. Called by rotation and by recovery (through
    /// <see cref="StoreWriter.CreateSegment"/>), before the writer exists.
    /// </summary>
    public static SafeFileHandle CreateFile(string directory, int segmentId, TimeProvider time, ulong keyCheck, out int headerLength)
    {
        string path = Path.Combine(directory, FrameFormat.SegmentFileName(segmentId));
        SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        try
        {
            using var header = new PooledBufferWriter(256);
            headerLength = FrameFormat.WriteSegmentHeader(header, segmentId, (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10, keyCheck: keyCheck);
            RandomAccess.Write(handle, header.WrittenSpan, 0);
            NativeFile.Sync(handle, SyncMode.All);
            NativeFile.SyncDirectory(directory);
            return handle;
        }
        catch
        {
            handle.Dispose();
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The original error is the one reported; a restart or the next open deletes the file.
            }

            throw;
        }
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>Where the active segment stood (<see cref="ActiveSegment.Mark"/>): the start of a batch, for its rollback.</summary>
internal readonly record struct SegmentMark(int Id, long Tail, int HeaderLength, long First);
