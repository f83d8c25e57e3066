using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// The single writer: one named background thread that drains a bounded channel of <see cref="WriteCommand"/>s in
/// batches, validates and stamps each append, encodes every frame of the batch into one pooled buffer, writes it
/// with one positional write, fsyncs when a caller asked for durability or the sync policy is due (group commit:
/// one fsync serves the whole batch), publishes the batch to the index, and only then replies to the callers.
/// </summary>
/// <remarks>
/// <para>Thread ownership: everything here except <see cref="TryEnqueue"/>/<see cref="EnqueueAsync"/>, the
/// counters and <see cref="Complete"/> runs on the writer thread. Replies complete either a blocked synchronous
/// caller or an async continuation queued to the thread pool; no caller code runs on this thread.</para>
/// <para>What is durable when: a reply means the frame is in the file (visible to every new read, safe from a
/// process crash). It is also on stable storage when the append was durable, or once <c>SyncEveryNEvents</c> events
/// have accumulated since the last fsync, and always when a segment is sealed.</para>
/// <para>Failure: an I/O error while writing or syncing faults the writer. The failing batch and every later
/// command get <see cref="WriterCrashedException"/>; nothing of the failing batch reaches the index, so no reader
/// ever sees an unacknowledged event.</para>
/// </remarks>
internal sealed class StoreWriter : IDisposable
{
    private readonly Channel<WriteCommand> _channel;
    private readonly BatpakOptions _options;
    private readonly StoreIndex _index;
    private readonly TimeProvider _time;
    private readonly EventIdGenerator _ids;
    private readonly string _directory;
    private readonly Thread _thread;
    private readonly PooledBufferWriter _buffer = new(256 * 1024);
    private readonly IncrementalHash _sha; // SHA-256, or HMAC-SHA256 under the chain key
    private readonly ulong _keyCheck; // the chain key's check value for new segment headers (0: not keyed)
    private long _segmentFirst; // global sequence of the active segment's first event (its seal's start)
    private readonly List<WriteCommand> _batch = new();
    private readonly List<Staged> _staged = new();
    private readonly List<WriteCommand> _controls = new();
    private int _cursor; // index in _batch of the next command to stage; commands past it are untouched
    // Completion bookkeeping: every command of a batch is completed exactly once (a synchronous caller reuses its
    // command as soon as it is answered, so a second reply would complete its next use). A command with staged
    // events is completed at its last staged entry (Staged.CompletesCommand); one answered during staging has none.
    private WriteCommand? _staging; // the command being staged: not yet answered, and with no completing entry
    private int _answered; // entries of _staged whose commands were answered by the publish loop
    private int _controlsRun; // entries of _controls already answered
    private bool _stagingAborted; // a batch failed after part of it was staged: the batch is failed as a whole
    // A check that failed against events of this batch (a CAS that saw another command's staged event) is reported
    // only once the batch's outcome is known: after publishing, its Actual is visible; if the write fails, it never
    // existed, so the command gets the batch's WriterCrashedException instead.
    private readonly List<(WriteCommand Command, Exception Error)> _deferred = new();
    private bool _failureAwaitsBatch; // set by a check that fails against this batch's staged events
    private readonly Dictionary<string, (long Sequence, EventHash Hash)> _pendingEntities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _validationSequences = new(StringComparer.Ordinal);
    private long _batchNumber; // stamps EntityStream.Pending*: values of another batch are stale
    private readonly Dictionary<string, int> _pendingKeys = new(StringComparer.Ordinal);
    private readonly Action<int>? _onSealed;
    private readonly Action? _onCommitted;
    private readonly StoreTelemetry? _telemetry;

    private SafeFileHandle _segment;
    private int _segmentId;
    private long _tail;
    private int _segmentHeaderLength;
    private long _nextGlobal;
    private long _lastWall;
    private uint _lastCounter;
    private long _unsynced;
    private volatile Exception? _fault;
    private volatile bool _abandonQueue;
    private volatile bool _closed;
    private bool _inBatch;
    private readonly Lock _writeLock = new(); // held by whoever writes a batch: the writer thread or a combining caller

    private readonly List<DateTimeOffset> _restarts = new();
    private int _batchStartSegment;
    private long _batchStartTail;
    private int _batchStartHeaderLength;
    private long _batchStartSegmentFirst;
    private long _restartCount;
    private long _syncCount;
    private long _batchCount;
    private long _bytesWritten;

    public StoreWriter(BatpakOptions options, StoreIndex index, TimeProvider time, string directory, SafeFileHandle activeSegment, int activeSegmentId, long tail, int headerLength, long segmentFirst, Action<int>? onSealed, Action? onCommitted, StoreTelemetry? telemetry = null)
    {
        _sha = ChainHashing.Create(options.ChainKey);
        _keyCheck = ChainHashing.KeyCheck(options.ChainKey);
        _segmentFirst = segmentFirst;
        _telemetry = telemetry;
        _options = options;
        _index = index;
        _time = time;
        _ids = new EventIdGenerator(time);
        _directory = directory;
        _segment = activeSegment;
        _segmentId = activeSegmentId;
        _tail = tail;
        _segmentHeaderLength = headerLength;
        _nextGlobal = index.NextGlobalSequence;
        _lastWall = index.LastWallMilliseconds;
        _lastCounter = index.LastCounter;
        _onSealed = onSealed;
        _onCommitted = onCommitted;
        _channel = Channel.CreateBounded<WriteCommand>(new BoundedChannelOptions(options.WriteQueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });
        _thread = new Thread(Run) { Name = "batpak-writer", IsBackground = true };
        _thread.Start();
    }

    public int ActiveSegmentId => Volatile.Read(ref _segmentId);

    public long SyncCount => Interlocked.Read(ref _syncCount);

    /// <summary>Restarts after a failed batch since open.</summary>
    public long RestartCount => Interlocked.Read(ref _restartCount);

    /// <summary>Test seam: called with "write", "sync", "rotate" or "restart" before that I/O; throwing simulates the failure.</summary>
    internal Action<string>? FaultInjector { get; set; }

    /// <summary>
    /// Throws when the data directory path no longer names the locked directory; called before a segment is created
    /// or a restart deletes one. It must not throw a BatpakException or ArgumentException (staging takes those for
    /// one append's own failure), so the batch fails and the writer faults.
    /// </summary>
    internal Action? EnsureDirectoryHeld { get; set; }

    public long BatchCount => Interlocked.Read(ref _batchCount);

    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    public int QueueDepth => _channel.Reader.CanCount ? _channel.Reader.Count : 0;

    public Exception? Fault => _fault;

    /// <summary>Queues a command without waiting; false when the queue is full.</summary>
    public bool TryEnqueue(WriteCommand command)
    {
        ThrowIfFaulted();
        return _channel.Writer.TryWrite(command);
    }

    /// <summary>Queues a command, waiting for space (back-pressure).</summary>
    public ValueTask EnqueueAsync(WriteCommand command, CancellationToken cancellationToken)
    {
        ThrowIfFaulted();
        return _channel.Writer.WriteAsync(command, cancellationToken);
    }

    /// <summary>Queues a command, blocking the caller while the queue is full.</summary>
    public void Enqueue(WriteCommand command)
    {
        if (TryEnqueue(command))
        {
            return;
        }

        try
        {
            _channel.Writer.WriteAsync(command).AsTask().GetAwaiter().GetResult();
        }
        catch (ChannelClosedException ex)
        {
            throw Closed(ex);
        }
    }

    public bool IsClosed => _channel.Reader.Completion.IsCompleted;

    /// <summary>Stops accepting commands and waits up to <paramref name="drainTimeout"/> for the queue to drain; the rest is rejected.</summary>
    public void Complete(TimeSpan drainTimeout)
    {
        _channel.Writer.TryComplete();
        if (!_thread.Join(drainTimeout))
        {
            _abandonQueue = true;
            _thread.Join();
        }

        lock (_writeLock)
        {
            _closed = true; // a combining caller that raced with Dispose now fails instead of writing
            if (_fault is null && _unsynced > 0)
            {
                try
                {
                    SyncSegment();
                }
                catch (IOException ex)
                {
                    _fault = ex; // Dispose goes on closing files; the unsynced tail is what a crash would leave
                    _telemetry?.WriterFaulted(ex);
                }
            }
        }
    }

    public void Dispose()
    {
        _buffer.Dispose();
        _sha.Dispose();
        _segment.Dispose();
    }

    private void ThrowIfFaulted()
    {
        if (_closed)
        {
            throw Closed();
        }

        if (_fault is { } fault)
        {
            throw new WriterCrashedException("The store's writer failed and accepts no more appends; reads still work. Reopen the store to recover: " + fault.Message, fault);
        }
    }

    private static ObjectDisposedException Closed(Exception? inner = null) =>
        inner is null
            ? new ObjectDisposedException("EventStore", "The store is disposed (or disposing) and accepts no more appends.")
            : new ObjectDisposedException("The store is disposed (or disposing) and accepts no more appends.", inner);

    /// <summary>
    /// Runs a synchronous caller's command. When no batch is being written the caller becomes the writer for one
    /// batch (its own command plus whatever is queued), so a single-threaded appender never pays a thread hand-off;
    /// otherwise the command is queued for the writer thread, which takes the write lock next.
    /// </summary>
    public void Execute(WriteCommand command)
    {
        ThrowIfFaulted();
        if (_channel.Reader.Count == 0 && _writeLock.TryEnter())
        {
            try
            {
                if (_closed)
                {
                    command.Fail(Closed());
                    return;
                }

                _batch.Clear();
                _batch.Add(command);
                DrainInto(_batch, _channel.Reader);
                ProcessBatchGuarded();
            }
            finally
            {
                _writeLock.Exit();
            }

            return;
        }

        Enqueue(command);

        // Combine: rather than wait for the writer thread to wake, take the write lock when it frees up and write
        // whatever is queued (usually this command and those of the other threads waiting with it).
        lock (_writeLock)
        {
            if (command.IsCompleted || _closed || _fault is not null)
            {
                return;
            }

            _batch.Clear();
            DrainInto(_batch, _channel.Reader);
            if (_batch.Count > 0)
            {
                ProcessBatchGuarded();
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> while no batch is being written (compaction's file swap).</summary>
    public void RunExclusive(Action action)
    {
        lock (_writeLock)
        {
            ThrowIfFaulted();
            action();
        }
    }

    private void DrainInto(List<WriteCommand> batch, ChannelReader<WriteCommand> reader)
    {
        while (batch.Count < _options.MaxBatchEvents && reader.TryRead(out WriteCommand? next))
        {
            batch.Add(next);
        }
    }

    private void Run()
    {
        ChannelReader<WriteCommand> reader = _channel.Reader;
        while (WaitForWork(reader))
        {
            lock (_writeLock)
            {
                _batch.Clear();
                DrainInto(_batch, reader);
                if (_batch.Count == 0)
                {
                    continue; // a combining caller took them
                }

                if (_abandonQueue || _fault is not null)
                {
                    Exception error = _fault is null ? Closed() : Crashed(_fault);
                    foreach (WriteCommand command in _batch)
                    {
                        command.Fail(error);
                    }

                    _batch.Clear();
                    continue;
                }

                ProcessBatchGuarded();
            }
        }

        lock (_writeLock)
        {
            if (_fault is null && _unsynced > 0)
            {
                try
                {
                    SyncSegment();
                }
                catch (IOException ex)
                {
                    _fault = ex;
                    _telemetry?.WriterFaulted(ex);
                }
            }
        }
    }

    private static WriterCrashedException Crashed(Exception cause) =>
        new("The store's writer failed; this append was not acknowledged and is not visible: " + cause.Message, cause);

    /// <summary>Processes <see cref="_batch"/>; an I/O failure faults the writer and fails every unacknowledged command of the batch.</summary>
    private void ProcessBatchGuarded()
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread);
        try
        {
            ProcessBatch();
        }
        catch (Exception ex)
        {
            WriterCrashedException crashed = Crashed(ex);

            // Each unanswered command is failed once: a command answered already (a failed check, an idempotent
            // repeat, a reply of the publish loop) is not touched again, as its caller may be reusing it.
            Span<Staged> staged = CollectionsMarshal.AsSpan(_staged);
            for (int i = _answered; i < staged.Length; i++)
            {
                if (staged[i].CompletesCommand)
                {
                    staged[i].Command.Fail(crashed);
                }
            }

            _staging?.Fail(crashed); // the command whose staging (or the rotation it started) threw
            _staging = null;
            foreach ((WriteCommand command, _) in _deferred)
            {
                command.Fail(crashed); // checked against events that will never exist: not appended, can be retried
            }

            _deferred.Clear();
            for (int i = _controlsRun; i < _controls.Count; i++)
            {
                _controls[i].Fail(crashed);
            }

            for (int i = _cursor; i < _batch.Count; i++)
            {
                _batch[i].Fail(crashed);
            }

            _staged.Clear();
            _controls.Clear();
            _batch.Clear();
            if (!TryRestart(ex))
            {
                _fault = ex;
                _telemetry?.WriterFaulted(ex);
                DiscardUnacknowledged();
                _channel.Writer.TryComplete(); // the writer thread fails whatever is still queued
            }
        }
    }

    /// <summary>
    /// When the writer faults for good, cuts off whatever of the failed batch reached the active segment (a write can
    /// fail halfway, after some whole frames went in), so a reopen does not bring back appends whose callers got
    /// <see cref="WriterCrashedException"/>. Best effort: when the disk refuses this too, or the batch rotated into a
    /// new segment, recovery sees those frames as written.
    /// </summary>
    private void DiscardUnacknowledged()
    {
        if (_segmentId != _batchStartSegment)
        {
            return;
        }

        try
        {
            // The file length, not _tail: a write that failed halfway did not advance _tail.
            if (RandomAccess.GetLength(_segment) > _batchStartTail)
            {
                RandomAccess.SetLength(_segment, _batchStartTail);
                _tail = _batchStartTail;
                NativeFile.Sync(_segment, SyncMode.All);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The writer is faulted already; the original error is the one reported.
        }
    }

    /// <summary>
    /// The restart policy: after a failed batch, put the active segment back exactly as it was before the batch
    /// (cut what the batch wrote, delete any segment it created), fsync, re-read the segment to prove every
    /// acknowledged frame is intact, and carry on. At most <see cref="BatpakOptions.WriterRestartLimit"/> restarts
    /// within <see cref="BatpakOptions.WriterRestartWindow"/>; past that, or when any step fails, the writer stays
    /// faulted and every append gets <see cref="WriterCrashedException"/> until the store is reopened.
    /// </summary>
    private bool TryRestart(Exception cause)
    {
        DateTimeOffset now = _time.GetUtcNow();
        _restarts.RemoveAll(t => now - t > _options.WriterRestartWindow);
        if (_restarts.Count >= _options.WriterRestartLimit || (cause is not (IOException or UnauthorizedAccessException) && !_stagingAborted))
        {
            return false;
        }

        try
        {
            if (_segmentId != _batchStartSegment)
            {
                EnsureDirectoryHeld?.Invoke();
                _segment.Dispose();
            }

            // Every segment past the batch's first: the ones it created, and a file a failed rotation left behind.
            bool deleted = false;
            foreach (string file in Directory.EnumerateFiles(_directory, "*" + FrameFormat.SegmentExtension))
            {
                if (FrameFormat.TryParseSegmentFileName(Path.GetFileName(file), out int id) && id > _batchStartSegment)
                {
                    File.Delete(file);
                    deleted = true;
                }
            }

            if (deleted)
            {
                NativeFile.SyncDirectory(_directory);
            }

            if (_segmentId != _batchStartSegment)
            {
                _segment = File.OpenHandle(Path.Combine(_directory, FrameFormat.SegmentFileName(_batchStartSegment)), FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
                _segmentId = _batchStartSegment;
            }

            FaultInjector?.Invoke("restart");
            RandomAccess.SetLength(_segment, _batchStartTail);
            NativeFile.Sync(_segment, SyncMode.All);
            SegmentScanner.ScanResult check = SegmentScanner.Scan(_segment, _segmentId, isLast: true, static (ref FrameFormat.FrameFields _, DiskPosition _) => { });
            if (check.ValidEnd != _batchStartTail || check.TruncationReason is not null)
            {
                return false;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or BatpakException)
        {
            return false;
        }

        _tail = _batchStartTail;
        _segmentHeaderLength = _batchStartHeaderLength;
        _segmentFirst = _batchStartSegmentFirst;
        _nextGlobal = _index.NextGlobalSequence;
        _lastWall = _index.LastWallMilliseconds;
        _lastCounter = _index.LastCounter;
        _unsynced = 0;
        _restarts.Add(now);
        _telemetry?.WriterRestarted(cause, Interlocked.Increment(ref _restartCount));
        return true;
    }

    private static bool WaitForWork(ChannelReader<WriteCommand> reader)
    {
        // Spin briefly first: a synchronous appender usually sends the next command within microseconds.
        var spinner = new SpinWait();
        for (int i = 0; i < 50; i++)
        {
            if (reader.TryPeek(out _))
            {
                return true;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }

        return reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    private void ProcessBatch()
    {
        _batchStartSegment = _segmentId;
        _batchStartTail = _tail;
        _batchStartHeaderLength = _segmentHeaderLength;
        _batchStartSegmentFirst = _segmentFirst;
        _buffer.Reset();
        _staged.Clear();
        _pendingEntities.Clear();
        _batchNumber++;
        _pendingKeys.Clear();
        _controls.Clear();
        _answered = 0;
        _controlsRun = 0;
        _stagingAborted = false;
        _deferred.Clear();
        bool durable = false;

        for (_cursor = 0; _cursor < _batch.Count;)
        {
            WriteCommand command = _batch[_cursor++];
            if (command.Kind is not (CommandKind.Append or CommandKind.AppendBatch))
            {
                _controls.Add(command);
                continue;
            }

            int stagedBefore = _staged.Count;
            _staging = command;
            _failureAwaitsBatch = false;
            try
            {
                if (command.Kind == CommandKind.AppendBatch ? StageBatch(command) : Stage(command))
                {
                    durable |= command.Durable;
                }

                if (_staged.Count > stagedBefore)
                {
                    CollectionsMarshal.AsSpan(_staged)[^1].CompletesCommand = true; // a command's entries are contiguous
                }
            }
            catch (Exception ex) when (ex is BatpakException or ArgumentException)
            {
                Debug.Assert(_staged.Count == stagedBefore, "a check failed after part of a command was staged");
                if (_failureAwaitsBatch)
                {
                    _deferred.Add((command, ex));
                }
                else
                {
                    command.Fail(ex);
                }
            }

            _staging = null; // answered (a check failed, or an idempotent repeat), or answered at its last entry
        }

        if (_buffer.WrittenCount > 0)
        {
            WriteToSegment(_buffer.WrittenSpan);
            _buffer.Reset();
        }

        _unsynced += _staged.Count;
        if (_unsynced > 0 && (durable || _unsynced >= _options.SyncEveryNEvents))
        {
            SyncSegment();
        }

        Interlocked.Increment(ref _batchCount);
        if (_staged.Count > 0)
        {
            int added = 0;
            lock (_index.SyncRoot)
            {
                const int PrefetchDistance = 8; // id-map slots are random: ask for the one 8 events ahead
                Span<Staged> staging = CollectionsMarshal.AsSpan(_staged);
                for (int i = 0; i < staging.Length; i++)
                {
                    if (i + PrefetchDistance < staging.Length)
                    {
                        _index.PrefetchLocked(staging[i + PrefetchDistance].Entry.Id);
                    }

                    ref Staged staged = ref staging[i];
                    if (staged.DuplicateOf < 0)
                    {
                        _index.AddLocked(ref staged.Entry, staged.Coordinate.Entity, staged.Coordinate.Scope, staged.Receipt.Hash, staged.IdempotencyKey, staged.KeyFingerprint);
                        added++;
                    }
                }
            }

            _telemetry?.Appended(added);

            _onCommitted?.Invoke();
            Span<Staged> published = CollectionsMarshal.AsSpan(_staged);
            for (int i = 0; i < published.Length; i++)
            {
                ref Staged staged = ref published[i];
                if (staged.BatchIndex >= 0)
                {
                    staged.Command.BatchReceipts![staged.BatchIndex] = staged.Receipt;
                }

                if (staged.CompletesCommand)
                {
                    // A single append's only entry, or a batch's last one (its earlier receipts are in place by now).
                    staged.Command.Succeed(staged.BatchIndex < 0 ? staged.Receipt : default);
                }

                _answered = i + 1;
            }

            _staged.Clear();
        }

        while (_deferred.Count > 0)
        {
            (WriteCommand command, Exception error) = _deferred[^1];
            _deferred.RemoveAt(_deferred.Count - 1);
            command.Fail(error); // the events it was checked against are visible now
        }

        for (; _controlsRun < _controls.Count; _controlsRun++)
        {
            RunControl(_controls[_controlsRun]);
        }

        _controls.Clear();
        _batch.Clear();
        AssertInvariants();
    }

    private void RunControl(WriteCommand command)
    {
        try
        {
            switch (command.Kind)
            {
                case CommandKind.Sync:
                    if (_unsynced > 0)
                    {
                        SyncSegment();
                    }

                    break;
                case CommandKind.Snapshot:
                    if (_unsynced > 0)
                    {
                        SyncSegment();
                    }

                    CopyTo(command.Destination!);
                    break;
            }

            command.Succeed(default);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or BatpakException)
        {
            command.Fail(ex);
        }
    }

    private void CopyTo(string destination)
    {
        // The live segments from the directory, not every id from 1: ids can be large (compaction leaves gaps below).
        var ids = new List<int>();
        foreach (string file in Directory.EnumerateFiles(_directory, "*" + FrameFormat.SegmentExtension))
        {
            if (FrameFormat.TryParseSegmentFileName(Path.GetFileName(file), out int found) && found <= _segmentId)
            {
                ids.Add(found);
            }
        }

        ids.Sort();
        foreach (int id in ids)
        {
            string source = Path.Combine(_directory, FrameFormat.SegmentFileName(id));

            string target = Path.Combine(destination, FrameFormat.SegmentFileName(id));
            if (id < _segmentId)
            {
                File.Copy(source, target, overwrite: false);
            }
            else
            {
                // The active segment: copy exactly the acknowledged prefix.
                using FileStream input = new(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using FileStream output = new(target, FileMode.CreateNew, FileAccess.Write);
                byte[] chunk = new byte[1 << 16];
                long left = _tail;
                while (left > 0)
                {
                    int n = input.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
                    if (n == 0)
                    {
                        break;
                    }

                    output.Write(chunk, 0, n);
                    left -= n;
                }

                output.Flush(flushToDisk: true);
            }
        }
    }

    /// <summary>Validates, stamps and encodes one append into the batch buffer. Returns false for an idempotent repeat.</summary>
    private bool Stage(WriteCommand command) =>
        Stage(command, -1, command.Coordinate, command.EventKind, command.Payload.Span, command.Options, 0);

    /// <summary>
    /// Stages every event of an atomic batch, or none: the whole batch is validated before the first frame is
    /// encoded, the batch never spans two segments, and each frame records how many frames of the batch follow it,
    /// so recovery drops a batch whose tail was torn.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    private bool StageBatch(WriteCommand command)
    {
        IReadOnlyList<EventData> events = command.Batch!;
        long estimate = ValidateBatch(events);
        if (command.BatchReceipts is null || command.BatchReceipts.Length < events.Count)
        {
            command.BatchReceipts = new AppendReceipt[events.Count]; // else the caller's pooled array
        }

        if (_tail + _buffer.WrittenCount + estimate > _options.SegmentMaxBytes && _tail + _buffer.WrittenCount > _segmentHeaderLength)
        {
            SealAndRotate(_buffer.WrittenCount);
        }

        _inBatch = true;
        try
        {
            bool wroteAny = false;
            int stagedBefore = _staged.Count;
            int framesLeft = 0;
            for (int i = 0; i < events.Count; i++)
            {
                framesLeft += IsRepeat(events[i].Options, events, i) ? 0 : 1;
            }

            int bufferedBefore = _buffer.WrittenCount;
            for (int i = 0; i < events.Count; i++)
            {
                EventData e = events[i];
                bool repeat = IsRepeat(e.Options, events, i);
                uint remaining = repeat ? 0 : (uint)(--framesLeft);
                try
                {
                    FaultInjector?.Invoke("stage");
                    wroteAny |= Stage(command, i, e.Coordinate, e.Kind, e.Payload.Span, e.Options ?? AppendOptions.Default, remaining);
                }
                catch (Exception ex) when (_staged.Count > stagedBefore || _buffer.WrittenCount > bufferedBefore)
                {
                    // ValidateBatch checked everything Stage checks, so this is a bug; but the batch is half staged
                    // (frames encoded, sequences taken). Failing only this command would write that half: fail the
                    // whole write instead (nothing of it is on disk yet), and let the restart reset the writer.
                    _stagingAborted = true;
                    throw new InvalidOperationException($"Event {i} of an atomic batch of {events.Count} failed after {_staged.Count - stagedBefore} of its events were staged ({ex.Message}); the write is abandoned so no part of the batch is stored.", ex);
                }
            }

            if (_staged.Count == stagedBefore)
            {
                // Every event was an idempotent repeat of a stored one: the receipts are known already.
                command.Succeed(default);
            }

            return wroteAny;
        }
        finally
        {
            _inBatch = false;
        }
    }

    /// <summary>
    /// Batch validation of event <paramref name="i"/>'s idempotency key: true when the event repeats the one that holds
    /// the key (stored, staged in this write, or earlier in the batch); <see cref="IdempotencyConflictException"/>
    /// when that event has another entity, kind or payload; false without a key or for a new key.
    /// </summary>
    private bool CheckKey(IReadOnlyList<EventData> events, int i)
    {
        EventData e = events[i];
        string? key = e.Options?.IdempotencyKey;
        if (key is null)
        {
            return false;
        }

        ulong fingerprint = IdempotencyFingerprint.Compute(e.Coordinate.Entity, e.Kind.Value, e.Payload.Span);
        if (_pendingKeys.TryGetValue(key, out int first))
        {
            if (PendingKey(first).Check(key, e.Coordinate.Entity, e.Kind.Value, fingerprint) is { } conflict)
            {
                _failureAwaitsBatch = true;
                throw conflict;
            }

            return true;
        }

        if (_index.TryGetIdempotentForWriter(key, out IdempotencyRecord stored))
        {
            return stored.Check(key, e.Coordinate.Entity, e.Kind.Value, fingerprint) is { } conflict ? throw conflict : true;
        }

        for (int j = 0; j < i; j++)
        {
            EventData earlier = events[j];
            if (string.Equals(earlier.Options?.IdempotencyKey, key, StringComparison.Ordinal))
            {
                bool sameTarget = string.Equals(earlier.Coordinate.Entity, e.Coordinate.Entity, StringComparison.Ordinal) && earlier.Kind == e.Kind;
                if (!sameTarget || !earlier.Payload.Span.SequenceEqual(e.Payload.Span))
                {
                    throw new IdempotencyConflictException(key, EventId.Empty, earlier.Coordinate.Entity, earlier.Kind, e.Coordinate.Entity, e.Kind, payloadDiffers: sameTarget);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>What a repeat of the key held by staged entry <paramref name="index"/> (an event of this write) must match.</summary>
    private IdempotencyRecord PendingKey(int index)
    {
        ref Staged staged = ref CollectionsMarshal.AsSpan(_staged)[index];
        return new IdempotencyRecord(staged.Receipt, staged.Coordinate.Entity, staged.Entry.Kind, staged.KeyFingerprint);
    }

    private bool IsRepeat(AppendOptions? options, IReadOnlyList<EventData> events, int i)
    {
        string? key = options?.IdempotencyKey;
        if (key is null)
        {
            return false;
        }

        if (_pendingKeys.ContainsKey(key) || _index.TryGetIdempotentForWriter(key, out _))
        {
            return true;
        }

        for (int j = 0; j < i; j++)
        {
            if (string.Equals(events[j].Options?.IdempotencyKey, key, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Checks CAS expectations, causes and sizes of a whole batch against the state it will be applied to; returns the
    /// batch's estimated frame bytes (see <see cref="EstimateFrameBytes"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    private long ValidateBatch(IReadOnlyList<EventData> events)
    {
        bool plain = true;
        long estimate = 0;
        for (int i = 0; i < events.Count; i++) // indexed: foreach over IReadOnlyList<T> would allocate an enumerator per batch
        {
            EventData e = events[i];
            long frameBytes = EstimateFrameBytes(e);
            if (frameBytes > _options.MaxEventBytes)
            {
                throw new EventTooLargeException(frameBytes, _options.MaxEventBytes);
            }

            estimate += frameBytes;
            plain &= e.Options is null || (e.Options.ExpectedSequence is null && e.Options.CausationId is null && e.Options.IdempotencyKey is null);
        }

        if (plain)
        {
            return estimate; // no expectations, causes or keys: nothing else can fail
        }

        Dictionary<string, long> sequences = _validationSequences;
        sequences.Clear();
        for (int i = 0; i < events.Count; i++)
        {
            EventData e = events[i];
            AppendOptions options = e.Options ?? AppendOptions.Default;
            if (CheckKey(events, i))
            {
                continue;
            }

            string entity = e.Coordinate.Entity;
            if (!sequences.TryGetValue(entity, out long last))
            {
                (last, _) = PendingOrLast(entity, out _);
            }

            if (options.ExpectedSequence is long expected && expected != last)
            {
                _failureAwaitsBatch = IsStagedInThisBatch(entity);
                throw new SequenceMismatchException(entity, expected, last);
            }

            if (options.CausationId is EventId cause && !cause.IsEmpty && !_index.TryGetForWriter(cause, out _))
            {
                throw new EventNotFoundException(cause);
            }

            sequences[entity] = last + 1;
        }

        return estimate;
    }

    /// <summary>
    /// The entity's last sequence and hash as this batch left them so far (or as the index holds them), plus its
    /// stream when the index has one. Writer-only.
    /// </summary>
    private (long Sequence, EventHash Hash) PendingOrLast(string entity, out EntityStream? stream)
    {
        stream = _index.FindEntityForWriter(entity);
        if (stream is not null)
        {
            return stream.PendingBatch == _batchNumber ? (stream.PendingSequence, stream.PendingHash) : (stream.LastSequence, stream.LastHash);
        }

        return _pendingEntities.TryGetValue(entity, out (long Sequence, EventHash Hash) pending) ? pending : (-1, EventHash.Zero);
    }

    /// <summary>Whether another command of the batch in progress staged an event of <paramref name="entity"/> (not visible to readers yet).</summary>
    private bool IsStagedInThisBatch(string entity) =>
        _index.FindEntityForWriter(entity) is { } stream ? stream.PendingBatch == _batchNumber : _pendingEntities.ContainsKey(entity);

    /// <summary>An upper bound of an event's frame size: the fixed fields take at most 200 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    internal static long EstimateFrameBytes(in EventData e) =>
        256L + e.Payload.Length + (3L * (e.Coordinate.Entity.Length + e.Coordinate.Scope.Length))
        + (3L * ((e.Options?.IdempotencyKey?.Length ?? 0) + (e.Options?.BypassReason?.Length ?? 0)));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    private bool Stage(WriteCommand command, int batchIndex, in Coordinate coordinate, EventKind eventKind, ReadOnlySpan<byte> payload, AppendOptions options, uint batchRemaining)
    {
        string? key = options.IdempotencyKey;
        ulong keyFingerprint = 0;
        if (key is not null)
        {
            keyFingerprint = IdempotencyFingerprint.Compute(coordinate.Entity, eventKind.Value, payload);
            if (_pendingKeys.TryGetValue(key, out int first))
            {
                AppendReceipt pending = _staged[first].Receipt;
                if (PendingKey(first).Check(key, coordinate.Entity, eventKind.Value, keyFingerprint) is { } conflict)
                {
                    _failureAwaitsBatch = true; // the event holding the key is not visible yet, and may never be
                    throw conflict;
                }

                _staged.Add(new Staged(command, pending, default, first, batchIndex));
                return false;
            }

            if (_index.TryGetIdempotentForWriter(key, out IdempotencyRecord stored))
            {
                if (stored.Check(key, coordinate.Entity, eventKind.Value, keyFingerprint) is { } conflict)
                {
                    throw conflict;
                }

                if (batchIndex < 0)
                {
                    command.Succeed(stored.Receipt);
                }
                else
                {
                    command.BatchReceipts![batchIndex] = stored.Receipt;
                }

                return false;
            }
        }

        string entity = coordinate.Entity;
        (long lastSequence, EventHash prevHash) = PendingOrLast(entity, out EntityStream? stream);

        if (options.ExpectedSequence is long expected && expected != lastSequence)
        {
            _failureAwaitsBatch = IsStagedInThisBatch(entity);
            throw new SequenceMismatchException(entity, expected, lastSequence);
        }

        uint depth = 0;
        EventId? correlation = options.CorrelationId;
        EventId causation = options.CausationId ?? EventId.Empty;
        if (!causation.IsEmpty)
        {
            // A cause is always an acknowledged event (its id is known only from its receipt, handed out after the
            // index has it), so events staged in this batch never need looking at.
            if (!_index.TryGetForWriter(causation, out IndexEntry causeEntry))
            {
                throw new EventNotFoundException(causation);
            }

            depth = causeEntry.Depth + 1;
            correlation ??= causeEntry.CorrelationId;
        }

        EventId id = _ids.Next();
        DateTimeOffset now = _time.GetUtcNow();
        long nowMicros = (now - DateTimeOffset.UnixEpoch).Ticks / 10;
        long nowMs = now.ToUnixTimeMilliseconds();
        long wall = Math.Max(nowMs, _lastWall);
        uint counter = wall == _lastWall ? _lastCounter + 1 : 0;

        var fields = new FrameFormat.FrameFields
        {
            GlobalSequence = _nextGlobal,
            EventId = id,
            CorrelationId = correlation ?? id,
            CausationId = causation,
            TimestampMicroseconds = nowMicros,
            WallMilliseconds = wall,
            Counter = counter,
            Depth = depth,
            EntitySequence = lastSequence + 1,
            Kind = eventKind.Value,
            Flags = (ushort)options.Flags,
            PrevHash = prevHash,
            Entity = entity,
            Scope = coordinate.Scope,
            IdempotencyKey = key,
            BypassReason = options.BypassReason,
            BatchRemaining = batchRemaining,
        };
        fields.Hash = FrameFormat.ComputeHash(_sha, fields, payload);

        int frameStart = _buffer.WrittenCount;
        int frameLength = FrameFormat.WriteFrame(_buffer, fields, payload);
        if (frameLength > _options.MaxEventBytes)
        {
            _buffer.Truncate(frameStart);
            throw new EventTooLargeException(frameLength, _options.MaxEventBytes);
        }

        if (!_inBatch && _tail + frameStart + frameLength > _options.SegmentMaxBytes && _tail + frameStart > _segmentHeaderLength)
        {
            // Rotation: what precedes this frame goes to the current segment, which is then sealed.
            SealAndRotate(frameStart);
            frameStart = 0;
        }

        var entry = new IndexEntry
        {
            Id = id,
            CorrelationId = fields.CorrelationId,
            CausationId = causation,
            GlobalSequence = fields.GlobalSequence,
            EntitySequence = fields.EntitySequence,
            TimestampMicroseconds = nowMicros,
            WallMilliseconds = wall,
            Offset = _tail + frameStart,
            SegmentId = _segmentId,
            Length = frameLength,
            Counter = counter,
            Depth = depth,
            Kind = fields.Kind,
            Flags = fields.Flags,
        };

        _nextGlobal++;
        _lastWall = wall;
        _lastCounter = counter;
        if (stream is not null)
        {
            stream.PendingBatch = _batchNumber;
            stream.PendingSequence = fields.EntitySequence;
            stream.PendingHash = fields.Hash;
        }
        else
        {
            _pendingEntities[entity] = (fields.EntitySequence, fields.Hash);
        }
        if (key is not null)
        {
            _pendingKeys[key] = _staged.Count;
        }

        var receipt = new AppendReceipt(id, fields.GlobalSequence, fields.EntitySequence, entry.Position, fields.Hash);
        _staged.Add(new Staged(command, receipt, entry, -1, batchIndex, coordinate, key, keyFingerprint));
        return true;
    }

    /// <summary>Writes the first <paramref name="buffered"/> bytes of the batch buffer to the active segment, drops them from the buffer, and seals the segment.</summary>
    private void SealAndRotate(int buffered)
    {
        if (_segmentId == int.MaxValue)
        {
            // Segment ids stay ints (they are in every index entry, header and name; widening them changes the format):
            // rather than overflow into a negative id, refuse before anything of this batch is written. Unreachable in
            // practice (2^31 segments), but a wrapped id would reuse names and lose events.
            throw new InvalidOperationException($"The active segment {_segmentId} is full and has the largest possible segment id ({int.MaxValue}); the store cannot rotate to another segment.");
        }

        if (buffered > 0)
        {
            WriteToSegment(_buffer.WrittenSpan[..buffered]);
            _buffer.RemovePrefix(buffered);
        }

        Rotate();
    }

    private void WriteToSegment(ReadOnlySpan<byte> bytes)
    {
        FaultInjector?.Invoke("write");
        RandomAccess.Write(_segment, bytes, _tail);
        _tail += bytes.Length;
        Interlocked.Add(ref _bytesWritten, bytes.Length);
        _telemetry?.Written(bytes.Length);
    }

    private void SyncSegment()
    {
        FaultInjector?.Invoke("sync");
        long started = Stopwatch.GetTimestamp();
        NativeFile.Sync(_segment, _options.SyncMode);
        _unsynced = 0;
        Interlocked.Increment(ref _syncCount);
        _telemetry?.Synced(started, _segmentId);
    }

    /// <summary>
    /// Seals the active segment and makes the next one active. Order matters for recovery: the segment's frames are
    /// fsynced, the next segment is created (and fsynced with its directory entry), and only then is the seal written
    /// and fsynced. So a sealed segment that is the last file means its successor was removed, and a crash between the
    /// steps leaves an unsealed segment before an empty one, which open seals.
    /// </summary>
    private void Rotate()
    {
        FaultInjector?.Invoke("rotate");
        EnsureDirectoryHeld?.Invoke();
        SyncSegment(); // a sealed segment is always on stable storage
        int sealedId = _segmentId;
        SafeFileHandle next = CreateSegment(_directory, sealedId + 1, _time, _keyCheck, out int headerLength);
        try
        {
            WriteSeal(sealedId);
        }
        catch
        {
            next.Dispose();
            File.Delete(Path.Combine(_directory, FrameFormat.SegmentFileName(sealedId + 1)));
            throw;
        }

        _segment.Dispose();
        _segment = next;
        _tail = headerLength;
        _segmentHeaderLength = headerLength;
        _segmentFirst = _nextGlobal;
        Volatile.Write(ref _segmentId, sealedId + 1);
        _onSealed?.Invoke(sealedId);
    }

    /// <summary>
    /// Appends the seal to the active segment and fsyncs it: the segment's global range and the global chain's head at
    /// its end, which takes in the frames of the batch in progress that went into this segment (staged, not yet
    /// published to the index).
    /// </summary>
    private void WriteSeal(int segmentId)
    {
        EventHash[] pending = ArrayPool<EventHash>.Shared.Rent(Math.Max(1, _staged.Count));
        try
        {
            int count = 0;
            foreach (Staged staged in _staged)
            {
                if (staged.DuplicateOf < 0)
                {
                    pending[count++] = staged.Receipt.Hash;
                }
            }

            EventHash head;
            lock (_index.SyncRoot)
            {
                Debug.Assert(_index.ChainLocked.Next + count == _nextGlobal);
                head = _index.ChainLocked.HeadWith(pending.AsSpan(0, count));
            }

            using var seal = new PooledBufferWriter(256);
            SegmentRecords.WriteSeal(seal, new SegmentRecords.Seal(segmentId, _segmentFirst, _nextGlobal, head));
            FaultInjector?.Invoke("write");
            RandomAccess.Write(_segment, seal.WrittenSpan, _tail);
            _tail += seal.WrittenCount;
            NativeFile.Sync(_segment, SyncMode.All);
        }
        finally
        {
            ArrayPool<EventHash>.Shared.Return(pending);
        }
    }

    /// <summary>
    /// Creates a new segment file with its header, fsyncs it and its directory entry. When that fails (a full disk),
    /// the file it created is deleted again: an empty or torn file left behind would make the next attempt fail on
    /// "already exists" even once there is space.
    /// </summary>
    internal static SafeFileHandle CreateSegment(string directory, int segmentId, TimeProvider time, ulong keyCheck, out int headerLength)
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

    private struct Staged(WriteCommand command, AppendReceipt receipt, IndexEntry entry, int duplicateOf, int batchIndex, in Coordinate coordinate = default, string? idempotencyKey = null, ulong keyFingerprint = 0)
    {
        public readonly ulong KeyFingerprint = keyFingerprint; // IdempotencyFingerprint of a keyed event
        public readonly WriteCommand Command = command;
        public bool CompletesCommand; // the command's last entry: the publish loop (or the failure path) answers it here
        public readonly Coordinate Coordinate = coordinate;
        public readonly string? IdempotencyKey = idempotencyKey;
        public readonly AppendReceipt Receipt = receipt;
        public IndexEntry Entry = entry;
        public readonly int DuplicateOf = duplicateOf;
        public readonly int BatchIndex = batchIndex; // -1: a single append
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_tail >= _segmentHeaderLength);
        Debug.Assert(_nextGlobal >= _index.NextGlobalSequence);
    }
}
