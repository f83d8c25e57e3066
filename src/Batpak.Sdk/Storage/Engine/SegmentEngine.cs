// The embedded engine: one data directory of segment files behind the engine seam. This file opens it (lock,
// upgrade, recovery, writer) and closes it; SegmentEngine.Writes.cs appends, SegmentReader reads, ChainVerifier
// verifies, CompactionRunner compacts. Created and driven only by EventStore (through StoreCore).
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Batpak.Engine;
using Microsoft.Extensions.Logging;

namespace Batpak.Storage;

/// <summary>
/// The segment-file engine. Every member is thread-safe: reads go lock-free through the index and the handle cache;
/// appends go through the <see cref="StoreWriter"/> (group commit under its write lock); compaction runs one at a time.
/// </summary>
internal sealed partial class SegmentEngine : IStorageEngine
{
    private readonly BatpakOptions _options; // a validated copy, never changed
    private readonly string _directory; // the full path of the data directory
    private readonly DirectoryLock? _lock; // null when read-only
    private readonly StoreIndex _index;
    private readonly FileHandleCache _handles;
    private readonly SegmentReader _reader;
    private readonly ChainVerifier _verifier;
    private readonly StoreWriter? _writer; // null when read-only
    private readonly CompactionRunner? _compaction; // null when read-only
    private readonly StoreTelemetry? _telemetry; // null when read-only
    private readonly RecoveryReport _recovery;

    /// <summary>
    /// Opens the directory in <paramref name="options"/> (a validated copy): for writing, takes the directory lock,
    /// upgrades a version-1 store, recovers and starts the writer, which signals <paramref name="notifier"/> after
    /// each commit; read-only, scans the segments and changes nothing.
    /// </summary>
    public SegmentEngine(BatpakOptions options, TimeProvider time, bool readOnly, CommitNotifier notifier, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        _options = options;
        _index = new StoreIndex(_options.ChainKey, _options.IndexCapacity);
        _directory = Path.GetFullPath(_options.DataDirectory);
        if (readOnly)
        {
            if (!Directory.Exists(_directory))
            {
                _index.Dispose();
                throw new DirectoryNotFoundException($"The data directory \"{_directory}\" does not exist; a read-only store does not create it.");
            }

            _handles = new FileHandleCache(_options.FileHandleBudget, SegmentPath);
            try
            {
                _recovery = new SegmentRecovery(_options, _directory, _index, directoryLock: null).ScanReadOnly();
            }
            catch
            {
                _handles.Dispose();
                _index.Dispose();
                throw;
            }

            _reader = new SegmentReader(_index, _handles);
            _verifier = new ChainVerifier(_options.ChainKey, _index, _reader);
            return;
        }

        Directory.CreateDirectory(_directory);
        _lock = DirectoryLock.Acquire(_directory);
        _handles = new FileHandleCache(_options.FileHandleBudget, SegmentPath, id => _writer is not null && id < _writer.ActiveSegmentId);
        _telemetry = new StoreTelemetry(_directory, _options.SlowSyncThreshold, loggerFactory, meterFactory);
        try
        {
            bool upgraded = FormatUpgrade.UpgradeIfNeeded(_directory, _options.ChainKey, time);
            (SegmentRecovery.ActiveSegment active, _recovery) = new SegmentRecovery(_options, _directory, _index, _lock).Recover(time);
            if (upgraded)
            {
                _recovery = _recovery with { UpgradedFromVersion1 = true };
            }

            _telemetry.Recovered(_recovery);
            _writer = new StoreWriter(_options, _index, time, _directory, active.Handle, active.Id, active.Tail, active.HeaderLength, active.SegmentFirst, onSealed: _handles.Evict, onCommitted: notifier.Signal, telemetry: _telemetry);
            _writer.EnsureDirectoryHeld = EnsureDirectoryHeldByWriter;
        }
        catch
        {
            _telemetry.Dispose();
            _handles.Dispose();
            _index.Dispose();
            _lock.Dispose();
            throw;
        }

        _reader = new SegmentReader(_index, _handles);
        _verifier = new ChainVerifier(_options.ChainKey, _index, _reader);
        _compaction = new CompactionRunner(_options, _directory, _lock, _writer, _index, _handles, _reader, time, _telemetry);
    }

    /// <summary>The full path of the data directory.</summary>
    public string DataDirectory => _directory;

    /// <inheritdoc />
    public string? ReadOnlyReason => _writer is null
        ? $"The store over \"{_directory}\" was opened read-only (EventStore.OpenReadOnly): appends, Sync, Snapshot and Compact need a store opened for writing."
        : null;

    /// <inheritdoc />
    public long NextGlobalSequence => _index.NextGlobalSequence;

    /// <summary>The index (tests and the bench look inside).</summary>
    internal StoreIndex Index => _index;

    /// <summary>The read handle cache (tests look inside).</summary>
    internal FileHandleCache Handles => _handles;

    /// <summary>The writer; only a writable engine has one.</summary>
    internal StoreWriter Writer => _writer ?? throw new InvalidOperationException(ReadOnlyReason);

    /// <summary>Starts reporting the writer's queue depth and the subscribers' drops as metrics.</summary>
    public void ObserveGauges(Func<long> subscriptionDrops)
    {
        if (_telemetry is not null && _writer is { } writer)
        {
            _telemetry.Observe(() => writer.QueueDepth, subscriptionDrops);
        }
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent) => _reader.TryGet(id, out storedEvent);

    /// <inheritdoc />
    /// <remarks>The directory lock lets one instance open the store, so the lease is granted at once.</remarks>
    public ValueTask<IAsyncDisposable> AcquireCursorLeaseAsync(string name, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IAsyncDisposable>(NoLease.Instance);

    /// <inheritdoc />
    public bool TryLocate(EventId id, out EventLocation location) => _reader.TryLocate(id, out location);

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Read(Region region) => _reader.Read(region);

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence) => _reader.Stream(entity, fromSequence);

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence, int maxCount) =>
        maxCount == 0 ? [] : _reader.Stream(entity, fromSequence).Take(maxCount);

    /// <inheritdoc />
    public IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId) => _reader.ReadCorrelated(correlationId);

    /// <inheritdoc />
    public (List<StoredEvent> Events, long Next) ReadRegionFrom(Region region, long from, int maxCount) => _reader.ReadRegionFrom(region, from, maxCount);

    /// <inheritdoc />
    public long DeliverCommitted(long from, Subscription[] subscriptions) => _reader.DeliverCommitted(from, subscriptions);

    /// <inheritdoc />
    public long GetLastSequence(string entity) => _index.GetLastSequence(entity);

    /// <inheritdoc />
    public ChainVerification Verify(string entity) => _verifier.Verify(entity);

    /// <inheritdoc />
    public ChainVerification VerifyAll(StoreHead? anchor) => _verifier.VerifyAll(anchor);

    /// <inheritdoc />
    public StoreHead GetHead() => _index.GetHead();

    /// <inheritdoc />
    public CompactionResult Compact(CompactionOptions options) => (_compaction ?? throw new InvalidOperationException(ReadOnlyReason)).Compact(options);

    /// <inheritdoc />
    public long ReadCheckpoint(string name) => CheckpointFile.Read(CheckpointPath(name, create: false));

    /// <inheritdoc />
    public void WriteCheckpoint(string name, long position) => CheckpointFile.Write(CheckpointPath(name, create: true), position);

    private string CheckpointPath(string name, bool create)
    {
        string folder = Path.Combine(_directory, "cursors");
        if (create)
        {
            Directory.CreateDirectory(folder);
        }

        return Path.Combine(folder, name + ".cursor");
    }

    /// <inheritdoc />
    public StoreStats GetStats()
    {
        List<(int Id, long Bytes)> segments = SegmentFiles.List(_directory);
        return new StoreStats
        {
            EventCount = _index.Count,
            EntityCount = _index.EntityCount,
            SegmentCount = segments.Count,
            BytesOnDisk = segments.Sum(static s => s.Bytes),
            NextGlobalSequence = _index.NextGlobalSequence,
            SyncCount = _writer?.SyncCount ?? 0,
            BatchCount = _writer?.BatchCount ?? 0,
            WriterRestarts = _writer?.RestartCount ?? 0,
            IsWriterFaulted = _writer?.Fault is not null,
            QueueDepth = _writer?.QueueDepth ?? 0,
            OpenReadHandles = _handles.Count,
            Recovery = _recovery,
            IndexMemoryBytes = _index.MemoryBytes(),
        };
    }

    /// <inheritdoc />
    public void Drain(TimeSpan timeout) => _writer?.Complete(timeout);

    /// <summary>Closes every file, frees the index and releases the directory lock (after <see cref="Drain"/>).</summary>
    public void Dispose()
    {
        _writer?.Dispose();
        _index.Dispose(); // frees the index's native memory (later look-ups throw ObjectDisposedException)
        _handles.Dispose();
        _telemetry?.Dispose();
        _lock?.Dispose();
    }

    private string SegmentPath(int segmentId) => SegmentFiles.PathOf(_directory, segmentId);

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
}
