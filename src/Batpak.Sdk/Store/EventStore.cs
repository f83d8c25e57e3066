using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Batpak.Storage;
using Batpak.Subscriptions;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Batpak;

/// <summary>
/// The embedded event store over one data directory: segment files of CRC-checked MessagePack frames, an
/// in-memory index rebuilt on open, one writer thread with group commit, and positional reads through a bounded
/// cache of file handles.
/// </summary>
/// <remarks>
/// <para>Opening takes the directory's single-writer lock (a second store on the same directory, in this or another
/// process, gets <see cref="StoreLockedException"/>), scans every segment, cuts a torn tail off the last one (reported in
/// <see cref="StoreStats.Recovery"/>) and refuses, with <see cref="CorruptSegmentException"/>, damage anywhere else.</para>
/// <para>Thread-safety: every member may be called from any thread. Dispose drains queued appends (up to
/// <see cref="BatpakOptions.ShutdownDrainTimeout"/>), fsyncs and releases the lock.</para>
/// </remarks>
public sealed partial class EventStore : IEventStore
{
    private readonly BatpakOptions _options;
    private readonly string _directory;
    private readonly DirectoryLock? _lock; // null when read-only
    private readonly GatedKindSet? _gatedKinds; // BatpakOptions.GatedKinds; null when no kind is gated
    private readonly StoreIndex _index;
    private readonly FileHandleCache _handles;
    private readonly StoreWriter? _writer; // null when read-only
    private readonly RecoveryReport _recovery;
    private readonly CommitNotifier _notifier = new();
    private readonly Lock _compactionLock = new();
    private readonly TimeProvider _time;
    private readonly StoreTelemetry? _telemetry; // null when read-only
    private long _dropsOfClosedSubscriptions;
    private volatile bool _compacting;
    private readonly Lock _subscriptionLock = new();
    private Subscription[] _subscriptions = [];
    private Task? _dispatcher;
    private long _dispatchedUpTo;
    private int _disposed;

    /// <summary>Opens (or creates) the store in <see cref="BatpakOptions.DataDirectory"/>.</summary>
    /// <param name="options">The settings; copied, later changes have no effect.</param>
    /// <param name="timeProvider">The clock for timestamps and ids; <see cref="TimeProvider.System"/> by default.</param>
    /// <exception cref="ArgumentException">A setting is invalid (the message names it).</exception>
    /// <exception cref="StoreLockedException">Another store has the directory open.</exception>
    /// <exception cref="CorruptSegmentException">A segment is damaged where recovery may not repair it.</exception>
    public EventStore(BatpakOptions options, TimeProvider? timeProvider = null)
        : this(options, timeProvider, loggerFactory: null, meterFactory: null)
    {
    }

    /// <summary>Opens (or creates) the store in <see cref="BatpakOptions.DataDirectory"/>, with logging and metrics.</summary>
    /// <param name="options">The settings; copied, later changes have no effect.</param>
    /// <param name="timeProvider">The clock for timestamps and ids; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Where recovery repairs, writer failures, compactions and slow fsyncs are logged
    /// (category <see cref="BatpakMetrics.LoggerCategory"/>); nothing is logged when null.</param>
    /// <param name="meterFactory">Creates the <see cref="BatpakMetrics.MeterName"/> meter (the DI container's factory);
    /// when null the store creates its own meter and disposes it with itself.</param>
    /// <exception cref="ArgumentException">A setting is invalid (the message names it).</exception>
    /// <exception cref="StoreLockedException">Another store has the directory open.</exception>
    /// <exception cref="CorruptSegmentException">A segment is damaged where recovery may not repair it.</exception>
    public EventStore(BatpakOptions options, TimeProvider? timeProvider, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory = null)
        : this(options, timeProvider, readOnly: false, loggerFactory, meterFactory)
    {
    }

    private EventStore(BatpakOptions options, TimeProvider? timeProvider, bool readOnly, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        BatpakOptionRules.ThrowIfInvalid(_options);
        _gatedKinds = GatedKindSet.From(_options.GatedKinds);
        TimeProvider time = timeProvider ?? TimeProvider.System;
        _time = time;
        _index = new StoreIndex(_options.ChainKey);
        _directory = Path.GetFullPath(_options.DataDirectory);
        if (readOnly)
        {
            if (!Directory.Exists(_directory))
            {
                throw new DirectoryNotFoundException($"The data directory \"{_directory}\" does not exist; a read-only store does not create it.");
            }

            _handles = new FileHandleCache(_options.FileHandleBudget, SegmentPath);
            try
            {
                _recovery = ScanReadOnly();
            }
            catch
            {
                _handles.Dispose();
                _index.Dispose();
                throw;
            }

            return;
        }

        Directory.CreateDirectory(_directory);
        _lock = DirectoryLock.Acquire(_directory);
        _handles = new FileHandleCache(_options.FileHandleBudget, SegmentPath, id => _writer is not null && id < _writer.ActiveSegmentId);
        _telemetry = new StoreTelemetry(_directory, _options.SlowSyncThreshold, loggerFactory, meterFactory);
        try
        {
            bool upgraded = FormatUpgrade.UpgradeIfNeeded(_directory, _options.ChainKey, time);
            (SafeFileHandle active, int activeId, long tail, int headerLength, long segmentFirst, _recovery) = Recover(time);
            if (upgraded)
            {
                _recovery = _recovery with { UpgradedFromVersion1 = true };
            }

            _telemetry.Recovered(_recovery);
            _writer = new StoreWriter(_options, _index, time, _directory, active, activeId, tail, headerLength, segmentFirst, onSealed: _handles.Evict, onCommitted: _notifier.Signal, telemetry: _telemetry);
            _writer.EnsureDirectoryHeld = EnsureDirectoryHeldByWriter;
            _telemetry.Observe(() => _writer.QueueDepth, SubscriptionDrops);
        }
        catch
        {
            _telemetry.Dispose();
            _handles.Dispose();
            _index.Dispose();
            _lock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the store in <paramref name="dataDirectory"/> for reading only, also while another store (in this or
    /// another process) writes to it: no lock is taken, no file is created, cut or synced, and no writer thread runs.
    /// The store sees the events acknowledged when it opened (a torn tail is ignored, not cut); later appends of the
    /// writer are not seen. Appends, <c>Sync</c>, <c>Snapshot</c> and <c>Compact</c> throw <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <param name="dataDirectory">An existing data directory.</param>
    /// <param name="fileHandleBudget">The most segment read handles kept open.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CorruptSegmentException">A segment is damaged (other than a torn tail of the last one).</exception>
    public static EventStore OpenReadOnly(string dataDirectory, int fileHandleBudget = 64)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        return new EventStore(new BatpakOptions { DataDirectory = dataDirectory, FileHandleBudget = fileHandleBudget }, timeProvider: null, readOnly: true, loggerFactory: null, meterFactory: null);
    }

    /// <summary>
    /// Opens the store in <paramref name="options"/>' data directory for reading only (see
    /// <see cref="OpenReadOnly(string, int)"/>); the form for a keyed store (<see cref="BatpakOptions.ChainKey"/>) and
    /// for other read settings. Write settings are ignored.
    /// </summary>
    /// <exception cref="ChainKeyMismatchException">The store's chain key is not <see cref="BatpakOptions.ChainKey"/>.</exception>
    public static EventStore OpenReadOnly(BatpakOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DataDirectory, nameof(options));
        return new EventStore(options, timeProvider: null, readOnly: true, loggerFactory: null, meterFactory: null);
    }

    /// <summary><see langword="true"/> for a store opened with <see cref="OpenReadOnly(string, int)"/>.</summary>
    public bool IsReadOnly => _writer is null;

    /// <summary>Opens (or creates) a store in <paramref name="dataDirectory"/> with default settings.</summary>
    public static EventStore Open(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        return new EventStore(new BatpakOptions { DataDirectory = dataDirectory });
    }

    /// <inheritdoc />
    public string DefaultScope => _options.DefaultScope;

    /// <summary>The full path of the data directory.</summary>
    public string DataDirectory => _directory;

    /// <summary>The settings the store runs with (a copy).</summary>
    public BatpakOptions Options => _options.Clone();

    /// <inheritdoc />
    public AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null)
    {
        WriteCommand command = PrepareSync(coordinate, kind, payload, options);
        try
        {
            Writer.Execute(command);
        }
        catch
        {
            command.Abandon(); // never queued: recycle it and let the exception through
            throw;
        }

        return command.WaitAndRecycle();
    }

    /// <inheritdoc />
    public IReadOnlyList<AppendReceipt> AppendBatch(IReadOnlyList<EventData> events, bool durable = false) =>
        SubmitBatch(events, durable, receipts: null);

    /// <inheritdoc />
    public void AppendBatch(IReadOnlyList<EventData> events, Span<AppendReceipt> receipts, bool durable = false)
    {
        IEventStore.CheckReceiptSpan(events, receipts);
        AppendReceipt[] pooled = ArrayPool<AppendReceipt>.Shared.Rent(Math.Max(1, events.Count));
        try
        {
            SubmitBatch(events, durable, pooled).AsSpan(0, events.Count).CopyTo(receipts);
        }
        finally
        {
            ArrayPool<AppendReceipt>.Shared.Return(pooled);
        }
    }

    /// <summary>Validates a batch, hands it to the writer and waits; the receipts land in <paramref name="receipts"/> when given (pooled), else in a new array.</summary>
    private AppendReceipt[] SubmitBatch(IReadOnlyList<EventData> events, bool durable, AppendReceipt[]? receipts)
    {
        ThrowIfDisposed();
        _ = Writer; // read-only: fail before validating
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            throw new ArgumentException("The batch is empty.", nameof(events));
        }

        long estimate = 0;
        for (int i = 0; i < events.Count; i++)
        {
            EventData e = events[i];
            if (!e.Coordinate.IsValid)
            {
                throw new ArgumentException($"Event {i} of the batch has default(Coordinate).", nameof(events));
            }

            Validate(e.Coordinate, e.Kind, e.Payload.Length, e.Options ?? AppendOptions.Default);
            estimate += StoreWriter.EstimateFrameBytes(e);
        }

        if (estimate > _options.SegmentMaxBytes)
        {
            throw new ArgumentException($"The batch needs up to {estimate} bytes; an atomic batch must fit in one segment (SegmentMaxBytes = {_options.SegmentMaxBytes}). Split it or raise SegmentMaxBytes.", nameof(events));
        }

        WriteCommand command = WriteCommand.RentSync();
        command.Kind = CommandKind.AppendBatch;
        command.Batch = events;
        command.Durable = durable;
        command.BatchReceipts = receipts;
        try
        {
            Writer.Execute(command);
        }
        catch
        {
            command.Abandon();
            throw;
        }

        return command.WaitBatchAndRecycle();
    }

    /// <inheritdoc />
    public AppendReceipt AppendReaction(EventId cause, in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null)
    {
        if (cause.IsEmpty)
        {
            throw new ArgumentException("The cause is EventId.Empty; pass the id of an event in the store.", nameof(cause));
        }

        options = (options ?? AppendOptions.Default) with { CausationId = cause };
        return Append(coordinate, kind, payload, options);
    }

    /// <inheritdoc />
    public async ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions? options = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        _ = Writer; // read-only: fail before validating
        options ??= AppendOptions.Default;
        Validate(coordinate, kind, payload.Length, options);
        WriteCommand command = WriteCommand.CreateAsync();
        command.SetAppend(coordinate, kind, options, durable: true);
        command.Payload = payload; // not copied: the caller keeps the memory alive until completion
        try
        {
            await Writer.EnqueueAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Threading.Channels.ChannelClosedException ex)
        {
            throw new ObjectDisposedException("The store is disposed (or disposing) and accepts no more appends.", ex);
        }

        return await new ValueTask<AppendReceipt>(command, command.Version).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public StoredEvent Get(EventId id) =>
        TryGet(id, out StoredEvent? found) ? found : throw new EventNotFoundException(id);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent)
    {
        ThrowIfDisposed();
        if (_index.TryGet(id, out IndexEntry entry, out string? entity, out string? scope))
        {
            storedEvent = ReadEventResilient(entry, entity, scope);
            return storedEvent is not null;
        }

        storedEvent = null;
        return false;
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Query(Region region)
    {
        ArgumentNullException.ThrowIfNull(region);
        ThrowIfDisposed();
        return Enumerate(_index.OpenCursor(region));
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence = 0)
    {
        Coordinate.Validate(entity, nameof(entity));
        ArgumentOutOfRangeException.ThrowIfNegative(fromSequence);
        ThrowIfDisposed();
        return Enumerate(_index.OpenEntityCursor(entity, fromSequence));
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> ByScope(string scope) => Query(Region.ForScope(scope));

    /// <inheritdoc />
    public IEnumerable<StoredEvent> ByKind(EventKind kind) => Query(Region.ForKind(kind));

    /// <inheritdoc />
    public IEnumerable<StoredEvent> ByCorrelation(EventId correlationId)
    {
        ThrowIfDisposed();
        List<IndexEntry> entries = _index.CollectCorrelation(correlationId);
        return ReadEntries(entries);
    }

    /// <inheritdoc />
    public EventPage ReadAll(long fromGlobalSequence, int maxCount = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromGlobalSequence);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        (List<StoredEvent> events, long next) = ReadRegionFrom(Region.All, fromGlobalSequence, maxCount);
        bool reachedEnd = events.Count < maxCount || next >= _index.NextGlobalSequence;
        return new EventPage(events, next, reachedEnd);
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredEvent> WalkAncestors(EventId id, int limit = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ThrowIfDisposed();
        var result = new List<StoredEvent>();
        EventId current = id;
        while (result.Count < limit && !current.IsEmpty)
        {
            if (!_index.TryGet(current, out IndexEntry entry, out string? entity, out string? scope))
            {
                if (result.Count == 0)
                {
                    throw new EventNotFoundException(id);
                }

                break; // the cause was removed by retention compaction
            }

            if (ReadEventResilient(entry, entity, scope) is not { } read)
            {
                break;
            }

            result.Add(read);
            current = entry.CausationId;
        }

        return result;
    }

    /// <inheritdoc />
    public long GetLastSequence(string entity)
    {
        Coordinate.Validate(entity, nameof(entity));
        return _index.GetLastSequence(entity);
    }

    /// <inheritdoc />
    public Subscription Subscribe(Region region, int capacity = 1024)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ThrowIfDisposed();
        var subscription = new Subscription(region, capacity, _index.NextGlobalSequence, RemoveSubscription);
        lock (_subscriptionLock)
        {
            if (_dispatcher is null)
            {
                _dispatchedUpTo = _index.NextGlobalSequence;
                _subscriptions = [subscription];
                _dispatcher = Task.Run(DispatchLoop);
            }
            else
            {
                _subscriptions = [.. _subscriptions, subscription];
            }
        }

        _notifier.Signal(); // let the dispatcher notice the newcomer
        return subscription;
    }

    /// <inheritdoc />
    public EventCursor OpenCursor(Region region, long fromGlobalSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentOutOfRangeException.ThrowIfNegative(fromGlobalSequence);
        ThrowIfDisposed();
        return new EventCursor(this, region, fromGlobalSequence, name: null, checkpointPath: null);
    }

    /// <inheritdoc />
    public EventCursor OpenCursor(Region region, string name)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 128 || !name.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') || name.StartsWith('.'))
        {
            throw new ArgumentException($"Cursor name \"{name}\" is not 1 to 128 letters, digits, '.', '-' or '_' (not starting with '.').", nameof(name));
        }

        ThrowIfDisposed();
        string folder = Path.Combine(_directory, "cursors");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name + ".cursor");
        return new EventCursor(this, region, CheckpointFile.Read(path), name, path);
    }

    /// <inheritdoc />
    public CompactionResult Compact(CompactionOptions? options = null)
    {
        options ??= new CompactionOptions();
        lock (_compactionLock)
        {
            ThrowIfDisposed();
            _ = Writer; // read-only stores never change files
            _lock!.EnsureHeld(); // compaction writes, renames and deletes files by path
            int activeId = Writer.ActiveSegmentId;
            var groups = new List<List<int>>();
            List<int>? current = null;
            long currentBytes = 0;
            int previous = -1;
            foreach ((int id, long bytes) in ListSegments().Where(s => s.Id < activeId))
            {
                bool adjacent = previous >= 0 && IsNextSegment(previous, id);
                if (current is null || !adjacent || currentBytes + bytes > _options.SegmentMaxBytes)
                {
                    current = [];
                    currentBytes = 0;
                    groups.Add(current);
                }

                current.Add(id);
                currentBytes += bytes;
                previous = id;
            }

            int before = 0;
            int after = 0;
            long kept = 0, dropped = 0, tombstoned = 0, bytesBefore = 0, bytesAfter = 0;
            foreach (List<int> group in groups)
            {
                if (group.Count == 1 && options.Retain is null)
                {
                    continue; // nothing to merge and nothing to drop
                }

                (string temporary, SegmentCompactor.GroupResult result) = SegmentCompactor.WriteGroup(
                    _directory, group, options, _time, _options.ChainKey, (fields, payload, position) => Materialize(fields, payload, position));
                Writer.RunExclusive(() => SwapIn(group, temporary, result));
                before += group.Count;
                after++;
                kept += result.Kept;
                dropped += result.Dropped;
                tombstoned += result.Tombstoned;
                bytesBefore += result.BytesBefore;
                bytesAfter += result.BytesAfter;
            }

            var compaction = new CompactionResult(before, after, kept, dropped, tombstoned, bytesBefore, bytesAfter);
            if (before > 0)
            {
                _telemetry?.Compacted(compaction);
            }

            return compaction;
        }
    }

    /// <inheritdoc />
    public void Sync() => RunControl(CommandKind.Sync, null);

    /// <inheritdoc />
    public void Snapshot(string destinationDirectory)
    {
        ThrowIfDisposed();
        _ = Writer; // read-only: fail before validating
        ArgumentException.ThrowIfNullOrWhiteSpace(destinationDirectory);
        string destination = Path.GetFullPath(destinationDirectory);
        if (string.Equals(destination.TrimEnd(Path.DirectorySeparatorChar), _directory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            throw new ArgumentException("The snapshot destination is the store's own data directory.", nameof(destinationDirectory));
        }

        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new ArgumentException($"The snapshot destination \"{destination}\" is not empty.", nameof(destinationDirectory));
        }

        Directory.CreateDirectory(destination);
        RunControl(CommandKind.Snapshot, destination);
    }

    /// <inheritdoc />
    public StoreStats GetStats()
    {
        long bytes = 0;
        int segments = 0;
        foreach (string file in Directory.EnumerateFiles(_directory, "*" + FrameFormat.SegmentExtension))
        {
            if (FrameFormat.TryParseSegmentFileName(Path.GetFileName(file), out _))
            {
                segments++;
                bytes += new FileInfo(file).Length;
            }
        }

        return new StoreStats
        {
            EventCount = _index.Count,
            EntityCount = _index.EntityCount,
            SegmentCount = segments,
            BytesOnDisk = bytes,
            NextGlobalSequence = _index.NextGlobalSequence,
            SyncCount = _writer?.SyncCount ?? 0,
            BatchCount = _writer?.BatchCount ?? 0,
            WriterRestarts = _writer?.RestartCount ?? 0,
            IsWriterFaulted = _writer?.Fault is not null,
            QueueDepth = _writer?.QueueDepth ?? 0,
            OpenReadHandles = _handles.Count,
            Recovery = _recovery,
        };
    }

    /// <summary>Drains queued appends, fsyncs, closes every file and releases the directory lock.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _writer?.Complete(_options.ShutdownDrainTimeout);
        }
        finally
        {
            _notifier.Close();
            try
            {
                _dispatcher?.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // The dispatcher ends with the store; a failure there was already delivered as completion.
            }

            foreach (Subscription subscription in _subscriptions)
            {
                subscription.Complete();
            }

            _writer?.Dispose();
            _index.Dispose(); // frees the index's native memory (later look-ups throw ObjectDisposedException)
            _handles.Dispose();
            _telemetry?.Dispose();
            _lock?.Dispose();
        }
    }

    /// <summary>Disposes the store on a thread-pool thread (the drain and fsync block).</summary>
    public ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return ValueTask.CompletedTask;
        }

        return new ValueTask(Task.Run(Dispose));
    }

    internal FileHandleCache Handles => _handles;

    /// <summary>The writer's check before it creates or deletes a segment: a lost directory faults the writer's batch.</summary>
    private void EnsureDirectoryHeldByWriter()
    {
        try
        {
            _lock!.EnsureHeld();
        }
        catch (StoreLockedException lost)
        {
            // Not a BatpakException: staging would take that for one append's own failure, not the batch's.
            throw new InvalidOperationException(lost.Message, lost);
        }
    }

    internal StoreWriter Writer => _writer ?? throw new InvalidOperationException(
        $"The store over \"{_directory}\" was opened read-only (EventStore.OpenReadOnly): appends, Sync, Snapshot and Compact need a store opened for writing.");

    internal CommitNotifier Notifier => _notifier;

    private void SwapIn(List<int> group, string temporary, SegmentCompactor.GroupResult result)
    {
        int hi = group[^1];
        _lock!.EnsureHeld();
        _compacting = true;
        try
        {
            foreach (int id in group)
            {
                _handles.Evict(id);
            }

            File.Move(temporary, SegmentPath(hi), overwrite: true);
            NativeFile.SyncDirectory(_directory);
            _handles.Evict(hi); // a reader may have reopened the old file between the first eviction and the rename
            lock (_index.SyncRoot)
            {
                _index.ApplyCompactionLocked(result.Moves);
                _index.RecordDroppedLocked(result.NewlyDropped);
            }

            for (int i = 0; i < group.Count - 1; i++)
            {
                File.Delete(SegmentPath(group[i]));
            }

            NativeFile.SyncDirectory(_directory);
        }
        finally
        {
            _compacting = false;
        }
    }

    private static StoredEvent Materialize(FrameFormat.FrameFields fields, ReadOnlyMemory<byte> payload, DiskPosition position) =>
        new(Coordinate.FromTrusted(fields.Entity, fields.Scope), FrameFormat.ToHeader(fields), payload.ToArray(), position, fields.IdempotencyKey, fields.BypassReason);

    private List<(int Id, long Bytes)> ListSegments()
    {
        var segments = new List<(int Id, long Bytes)>();
        foreach (string file in Directory.EnumerateFiles(_directory, "*" + FrameFormat.SegmentExtension))
        {
            if (FrameFormat.TryParseSegmentFileName(Path.GetFileName(file), out int id))
            {
                segments.Add((id, new FileInfo(file).Length));
            }
        }

        segments.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        return segments;
    }

    /// <summary>True when segment <paramref name="next"/> directly follows <paramref name="previous"/> (adjacent ids, or a compaction output that replaced the ids between).</summary>
    private bool IsNextSegment(int previous, int next)
    {
        if (next == previous + 1)
        {
            return true;
        }

        using SafeFileHandle handle = File.OpenHandle(SegmentPath(next), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return FrameFormat.TryReadSegmentHeader(handle, out _) is { } header
            && SegmentScanner.TryReadCompactionRecord(handle, header, _options.ChainKey)?.ReplacesFrom == previous + 1;
    }

    /// <summary>
    /// Reads an event found in the index; when compaction moved it between the look-up and the read, looks it up
    /// again. Returns <see langword="null"/> only when compaction dropped it meanwhile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    private StoredEvent? ReadEventResilient(in IndexEntry entry, string entity, string scope, ReadSession? session = null)
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
    internal (List<StoredEvent> Events, long Next) ReadRegionFrom(Region region, long from, int maxCount)
    {
        ThrowIfDisposed();
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

    private void RemoveSubscription(Subscription subscription)
    {
        lock (_subscriptionLock)
        {
            _subscriptions = [.. _subscriptions.Where(s => s != subscription)];
            _dropsOfClosedSubscriptions += subscription.DroppedCount;
        }
    }

    /// <summary>Events dropped by every push subscription since the store opened (the drops metric).</summary>
    private long SubscriptionDrops()
    {
        lock (_subscriptionLock)
        {
            long total = _dropsOfClosedSubscriptions;
            foreach (Subscription subscription in _subscriptions)
            {
                total += subscription.DroppedCount;
            }

            return total;
        }
    }

    /// <summary>
    /// Fans new events out to the push subscriptions, off the writer: woken by the commit notifier, it reads each
    /// new event once (only when some subscription's region matches) and offers it to every matching subscription.
    /// </summary>
    private async Task DispatchLoop()
    {
        try
        {
            await DispatchUntilClosed().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BatpakException or IOException)
        {
            // A read failed (for example a corrupt frame): end every subscription with the cause instead of going quiet.
            foreach (Subscription subscription in _subscriptions)
            {
                subscription.Complete(ex);
            }
        }
    }

    private async Task DispatchUntilClosed()
    {
        var chunk = new List<(IndexEntry Entry, string Entity, string Scope)>();
        while (true)
        {
            Task signal = _notifier.NextSignal();
            if (_notifier.IsClosed)
            {
                return;
            }

            Subscription[] subscriptions = _subscriptions;
            StoreIndex.RegionCursor cursor = _index.OpenCursor(Region.All.WithGlobalSequence(_dispatchedUpTo));
            while (cursor.NextChunk(chunk))
            {
                foreach ((IndexEntry entry, string entity, string scope) in chunk)
                {
                    StoredEvent? read = null;
                    foreach (Subscription subscription in subscriptions)
                    {
                        if (entry.GlobalSequence >= subscription.StartGlobalSequence
                            && subscription.Region.Matches(entity, scope, EventKind.FromValue(entry.Kind), entry.GlobalSequence, entry.TimestampMicroseconds))
                        {
                            try
                            {
                                read ??= ReadEventResilient(entry, entity, scope);
                            }
                            catch (ObjectDisposedException)
                            {
                                return;
                            }

                            if (read is null)
                            {
                                break; // dropped by compaction meanwhile
                            }

                            subscription.Deliver(read);
                        }
                    }
                }
            }

            _dispatchedUpTo = Math.Max(_dispatchedUpTo, cursor.EndGlobalSequence);
            await signal.ConfigureAwait(false);
        }
    }

    internal StoreIndex Index => _index;

    private string SegmentPath(int segmentId) => Path.Combine(_directory, FrameFormat.SegmentFileName(segmentId));

    private void RunControl(CommandKind kind, string? destination)
    {
        ThrowIfDisposed();
        WriteCommand command = WriteCommand.RentSync();
        command.Kind = kind;
        command.Destination = destination;
        try
        {
            Writer.Execute(command);
        }
        catch
        {
            command.Abandon(); // never queued: recycle it and let the exception through
            throw;
        }

        command.WaitAndRecycle();
    }

    private WriteCommand PrepareSync(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options)
    {
        ThrowIfDisposed();
        _ = Writer; // read-only: fail before validating
        options ??= AppendOptions.Default;
        Validate(coordinate, kind, payload.Length, options);
        WriteCommand command = WriteCommand.RentSync();
        command.SetAppend(coordinate, kind, options, options.Durable);
        command.CopyPayload(payload);
        return command;
    }

    private void Validate(in Coordinate coordinate, EventKind kind, int payloadLength, AppendOptions options)
    {
        coordinate.EnsureValid(nameof(coordinate));
        if (payloadLength > _options.MaxEventBytes)
        {
            throw new EventTooLargeException(payloadLength, _options.MaxEventBytes);
        }

        if (kind.IsReserved && options.BypassReason is null && (options.Flags & EventFlags.Tombstone) == 0)
        {
            throw new ArgumentException($"Event kind {kind} is in a reserved category (0x0 system, 0xD effect); user events use EventKind.Create with category 0x1..0xC or 0xE..0xF.", nameof(kind));
        }

        const EventFlags sdkOwned = EventFlags.Bypassed | EventFlags.Tombstone;
        if ((options.Flags & sdkOwned) != 0 && options.BypassReason is null)
        {
            throw new ArgumentException($"Flags {options.Flags & sdkOwned} are set by the SDK only (Bypass, compaction).", nameof(options));
        }

        if (options.IdempotencyKey is not null)
        {
            Coordinate.Validate(options.IdempotencyKey, "options.IdempotencyKey");
        }

        if (options.ExpectedSequence is < AppendOptions.NoStream)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ExpectedSequence, "ExpectedSequence is -1 (AppendOptions.NoStream) or an entity sequence (0 or more).");
        }

        // Last, so a permit is spent only by an append that passed every other check.
        if (IsGated(kind) && options.GatePermit?.TryUse(kind, coordinate) != true)
        {
            throw new GateRequiredException(kind, coordinate);
        }
    }

    /// <summary><see langword="true"/> when <paramref name="kind"/> is in <see cref="BatpakOptions.GatedKinds"/>: only a pipeline's permit appends it.</summary>
    internal bool IsGated(EventKind kind) => _gatedKinds?.Contains(kind) == true;

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

    /// <summary>Keeps the lease of the segment read last, so consecutive reads of one segment share it.</summary>
    internal sealed class ReadSession(FileHandleCache handles) : IDisposable
    {
        private int _segmentId = -1;
        private FileHandleCache.Lease _lease;

        public FileHandleCache.Lease For(int segmentId)
        {
            if (segmentId != _segmentId)
            {
                Reset();
                _lease = handles.Rent(segmentId);
                _segmentId = segmentId;
            }

            return _lease;
        }

        /// <summary>Returns the lease (after a compaction moved files under it, the next read rents afresh).</summary>
        public void Reset()
        {
            if (_segmentId >= 0)
            {
                _segmentId = -1;
                _lease.Dispose();
            }
        }

        /// <summary>
        /// Asks the CPU to start loading a frame this session will read soon, when it lies in the mapped segment the
        /// session holds now (a stream's frames are scattered: reading them one by one waits for memory each time).
        /// </summary>
        public void Prefetch(in IndexEntry entry)
        {
            if (entry.SegmentId == _segmentId)
            {
                _lease.Prefetch(entry.Offset, entry.Length);
            }
        }

        public void Dispose() => Reset();
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
    internal StoredEvent ReadEvent(in IndexEntry entry, string entity, string scope, ReadSession? session = null)
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
        new(Coordinate.FromTrusted(entity, scope), fields, payload.ToArray(), entry.Position);

    /// <summary>Reads one frame into <paramref name="buffer"/> and checks it (see <see cref="CheckFrame"/>); <paramref name="payload"/> is a slice of the buffer.</summary>
    private FrameFormat.FrameFields ReadFrame(in IndexEntry entry, byte[] buffer, out ReadOnlyMemory<byte> payload)
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

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
