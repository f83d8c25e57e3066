using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// The store's one write path: whoever holds the write lock drains the queued commands into a batch, stages it
/// (<see cref="BatchStager"/>), writes it with one positional write and at most one fsync (<see cref="ActiveSegment"/>,
/// group commit), publishes it to the index, and only then answers the callers. Created and called only by
/// <see cref="EventStore"/> (and its tests); this file holds its state, lifecycle and counters.
/// </summary>
/// <remarks>
/// <para>Who writes: the write lock owns the writer's state, not a thread. It is held either by the named
/// <c>batpak-writer</c> thread, which serves queued commands (async appends, and whatever no caller combines), or by a
/// synchronous caller in <see cref="Execute"/>, which writes its own command plus whatever is queued
/// (StoreWriter.Callers.cs). Without the lock, from any thread: the enqueue methods, the counters,
/// <see cref="ActiveSegmentId"/> and <see cref="Fault"/>; <see cref="Complete"/> and <see cref="RunExclusive"/> take
/// it. Replies complete a blocked synchronous caller or queue an async continuation to the thread pool: no caller
/// continuation runs under the lock.</para>
/// <para>What is durable when: a reply means the frame is in the file (visible to every new read, safe from a
/// process crash). It is also on stable storage when the append was durable, or once <c>SyncEveryNEvents</c> events
/// have accumulated since the last fsync, and always when a segment is sealed.</para>
/// <para>Failure: an I/O error while writing or syncing fails the batch: its unanswered commands get
/// <see cref="WriterCrashedException"/>, and nothing of it reaches the index, so no reader ever sees an
/// unacknowledged event. The writer then restarts within <see cref="RestartPolicy"/>'s budget, or faults for good and
/// every later command gets <see cref="WriterCrashedException"/> too (StoreWriter.Failure.cs).</para>
/// </remarks>
internal sealed partial class StoreWriter : IDisposable
{
    private readonly Channel<WriteCommand> _channel; // bounded queue: any thread writes; the write-lock holder drains it, the writer thread also waits on it
    private readonly BatpakOptions _options; // batch size and sync policy (read-only here)
    private readonly StoreIndex _index; // where batches are published, under its own SyncRoot
    private readonly TimeProvider _time; // the restart window's clock
    private readonly Thread _thread; // the batpak-writer thread (Run); started by the constructor, joined by Complete
    private readonly ActiveSegment _segment; // the file being appended to; write lock (its id and counters are readable by any thread)
    private readonly BatchStager _stager; // validates, stamps and encodes a batch's appends; write lock
    private readonly RestartPolicy _restartPolicy; // how often a failed batch may be restarted from; write lock
    private readonly Action? _onCommitted; // called under the write lock after each published batch (wakes subscriptions)
    private readonly StoreTelemetry? _telemetry; // appended, fault and restart events
    private readonly Lock _writeLock = new(); // held by whoever writes a batch: the writer thread, or a synchronous caller in Execute
    private volatile Exception? _fault; // set under the write lock when the writer faults for good; read by any thread
    private volatile bool _abandonQueue; // set by Complete when the drain timed out: the writer thread fails what is still queued
    private volatile bool _closed; // set by Complete under the write lock: a caller that raced with Dispose fails instead of writing
    private long _batchCount; // batches written since open; Interlocked under the write lock, read by any thread

    public StoreWriter(BatpakOptions options, StoreIndex index, TimeProvider time, string directory, SafeFileHandle activeSegment, int activeSegmentId, long tail, int headerLength, long segmentFirst, Action<int>? onSealed, Action? onCommitted, StoreTelemetry? telemetry = null)
    {
        _options = options;
        _index = index;
        _time = time;
        _telemetry = telemetry;
        _onCommitted = onCommitted;
        _segment = new ActiveSegment(directory, options, time, activeSegment, activeSegmentId, tail, headerLength, segmentFirst, onSealed, telemetry);
        _stager = new BatchStager(options, index, time, _segment);
        _restartPolicy = new RestartPolicy(options);
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

    public int ActiveSegmentId => _segment.IdForReaders;

    public long SyncCount => _segment.SyncCount;

    /// <summary>Restarts after a failed batch since open.</summary>
    public long RestartCount => _restartPolicy.Count;

    /// <summary>Test seam: called with "stage", "write", "sync", "rotate" or "restart" before that step; throwing simulates the failure.</summary>
    internal Action<string>? FaultInjector
    {
        get => _segment.FaultInjector;
        set => _segment.FaultInjector = value;
    }

    /// <summary>
    /// Throws when the data directory path no longer names the locked directory; called before a segment is created
    /// or a restart deletes one. It must not throw a BatpakException or ArgumentException (staging takes those for
    /// one append's own failure), so the batch fails and the writer faults.
    /// </summary>
    internal Action? EnsureDirectoryHeld
    {
        get => _segment.EnsureDirectoryHeld;
        set => _segment.EnsureDirectoryHeld = value;
    }

    public long BatchCount => Interlocked.Read(ref _batchCount);

    public long BytesWritten => _segment.BytesWritten;

    public int QueueDepth => _channel.Reader.CanCount ? _channel.Reader.Count : 0;

    public Exception? Fault => _fault;

    public bool IsClosed => _channel.Reader.Completion.IsCompleted;

    /// <summary>Creates a segment file with its header (see <see cref="ActiveSegment.CreateFile"/>); used by recovery before the writer exists.</summary>
    internal static SafeFileHandle CreateSegment(string directory, int segmentId, TimeProvider time, ulong keyCheck, out int headerLength) =>
        ActiveSegment.CreateFile(directory, segmentId, time, keyCheck, out headerLength);

    /// <summary>An upper bound of an event's frame size (see <see cref="BatchStager.EstimateFrameBytes"/>).</summary>
    internal static long EstimateFrameBytes(in EventData e) => BatchStager.EstimateFrameBytes(e);

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
            SyncOnClose();
        }
    }

    public void Dispose()
    {
        _stager.Dispose();
        _segment.Dispose();
    }

    /// <summary>Write lock: fsyncs what is not on stable storage yet, unless the writer is faulted; a failure faults it (closing goes on: the unsynced tail is what a crash would leave).</summary>
    private void SyncOnClose()
    {
        if (_fault is null && _segment.Unsynced > 0)
        {
            try
            {
                _segment.Sync();
            }
            catch (IOException ex)
            {
                _fault = ex;
                _telemetry?.WriterFaulted(ex);
            }
        }
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

    private static WriterCrashedException Crashed(Exception cause) =>
        new("The store's writer failed; this append was not acknowledged and is not visible: " + cause.Message, cause);
}
