// The public embedded store: opens a data directory (SegmentEngine) and exposes it through the shared core
// (StoreCore), which every IEventStore member forwards to. Users create it; nothing else in the SDK depends on it.
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Batpak.Engine;
using Batpak.Storage;
using Microsoft.Extensions.Logging;

namespace Batpak;

/// <summary>
/// The embedded event store over one data directory: segment files of CRC-checked MessagePack frames, an
/// in-memory index rebuilt on open, group commit, and positional reads through a bounded cache of file handles.
/// </summary>
/// <remarks>
/// <para>Opening takes the directory's single-writer lock (a second store on the same directory, in this or another
/// process, gets <see cref="StoreLockedException"/>), scans every segment, cuts a torn tail off the last one (reported in
/// <see cref="StoreStats.Recovery"/>) and refuses, with <see cref="CorruptSegmentException"/>, damage anywhere else.</para>
/// <para>Thread-safety: every member may be called from any thread. Dispose drains queued appends (up to
/// <see cref="BatpakOptions.ShutdownDrainTimeout"/>), fsyncs and releases the lock.</para>
/// </remarks>
public sealed class EventStore : IEventStore
{
    private readonly BatpakOptions _options; // a validated copy
    private readonly SegmentEngine _engine;
    private readonly StoreCore _core;

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
        var notifier = new CommitNotifier();
        _engine = new SegmentEngine(_options, timeProvider ?? TimeProvider.System, readOnly, notifier, loggerFactory, meterFactory);
        _core = new StoreCore(_engine, _options, notifier, this);
        _engine.ObserveGauges(_core.SubscriptionDrops);
    }

    /// <summary>
    /// Opens the store in <paramref name="dataDirectory"/> for reading only, also while another store (in this or
    /// another process) writes to it: no lock is taken, no file is created, cut or synced, and no writer thread runs.
    /// The store sees the events acknowledged when it opened (a torn tail is ignored, not cut); later appends of the
    /// writer are not seen. Appends, <c>Sync</c>, <c>Snapshot</c> and <c>Compact</c> throw <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <param name="dataDirectory">An existing data directory.</param>
    /// <param name="fileHandleBudget">The most segment read handles kept open (1 to 8192, as <see cref="BatpakOptions.FileHandleBudget"/>).</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CorruptSegmentException">A segment is damaged (other than a torn tail of the last one).</exception>
    public static EventStore OpenReadOnly(string dataDirectory, int fileHandleBudget = 1024)
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
    public bool IsReadOnly => _engine.ReadOnlyReason is not null;

    /// <summary>Opens (or creates) a store in <paramref name="dataDirectory"/> with default settings.</summary>
    public static EventStore Open(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        return new EventStore(new BatpakOptions { DataDirectory = dataDirectory });
    }

    /// <inheritdoc />
    public string DefaultScope => _core.DefaultScope;

    /// <summary>The full path of the data directory.</summary>
    public string DataDirectory => _engine.DataDirectory;

    /// <summary>The settings the store runs with (a copy).</summary>
    public BatpakOptions Options => _options.Clone();

    /// <inheritdoc />
    public AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null) =>
        _core.Append(coordinate, kind, payload, options);

    /// <inheritdoc />
    public ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions? options = null, CancellationToken cancellationToken = default) =>
        _core.AppendAsync(coordinate, kind, payload, options, cancellationToken);

    /// <inheritdoc />
    public IReadOnlyList<AppendReceipt> AppendBatch(IReadOnlyList<EventData> events, bool durable = false) => _core.AppendBatch(events, durable);

    /// <inheritdoc />
    public void AppendBatch(IReadOnlyList<EventData> events, Span<AppendReceipt> receipts, bool durable = false) => _core.AppendBatch(events, receipts, durable);

    /// <inheritdoc />
    public AppendReceipt AppendReaction(EventId cause, in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null) =>
        _core.AppendReaction(cause, coordinate, kind, payload, options);

    /// <inheritdoc />
    public StoredEvent Get(EventId id) => _core.Get(id);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent) => _core.TryGet(id, out storedEvent);

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Read(Region region) => _core.Read(region);

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence = 0) => _core.Stream(entity, fromSequence);

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence, int maxCount) => _core.Stream(entity, fromSequence, maxCount);

    /// <inheritdoc />
    public IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId) => _core.ReadCorrelated(correlationId);

    /// <inheritdoc />
    public EventPage ReadPage(long fromGlobalSequence, int maxCount = 1000) => _core.ReadPage(fromGlobalSequence, maxCount);

    /// <inheritdoc />
    public IReadOnlyList<StoredEvent> ReadAncestors(EventId id, int limit = 64) => _core.ReadAncestors(id, limit);

    /// <inheritdoc />
    public long GetLastSequence(string entity) => _core.GetLastSequence(entity);

    /// <inheritdoc />
    public ChainVerification Verify(string entity) => _core.Verify(entity);

    /// <inheritdoc />
    public ChainVerification VerifyAll() => _core.VerifyAll();

    /// <inheritdoc />
    public ChainVerification VerifyAll(StoreHead anchor) => _core.VerifyAll(anchor);

    /// <inheritdoc />
    public StoreHead GetHead() => _core.GetHead();

    /// <inheritdoc />
    public Subscription Subscribe(Region region, int capacity = 1024) => _core.Subscribe(region, capacity);

    /// <inheritdoc />
    public EventCursor OpenCursor(Region region, long fromGlobalSequence = 0) => _core.OpenCursor(region, fromGlobalSequence);

    /// <inheritdoc />
    public EventCursor OpenCursor(Region region, string name) => _core.OpenCursor(region, name);

    /// <inheritdoc />
    public CompactionResult Compact(CompactionOptions? options = null) => _core.Compact(options);

    /// <inheritdoc />
    public void Sync() => _core.Sync();

    /// <inheritdoc />
    public void Snapshot(string destinationDirectory) => _core.Snapshot(destinationDirectory);

    /// <inheritdoc />
    public StoreStats GetStats() => _core.GetStats();

    /// <summary>Drains queued appends, fsyncs, closes every file and releases the directory lock.</summary>
    public void Dispose() => _core.Dispose();

    /// <summary>Disposes the store on a thread-pool thread (the drain and fsync block).</summary>
    public ValueTask DisposeAsync() => _core.DisposeAsync();

    bool IEventStore.TryLocate(EventId id, out EventLocation location) => _core.TryLocate(id, out location);

    bool IEventStore.RequiresGatePermit(EventKind kind) => _core.RequiresGatePermit(kind);

    ValueTask<IAsyncDisposable> IEventStore.AcquireCursorLeaseAsync(string name, CancellationToken cancellationToken) =>
        _core.AcquireCursorLeaseAsync(name, cancellationToken);

    /// <summary><see langword="true"/> when <paramref name="kind"/> is in <see cref="BatpakOptions.GatedKinds"/>.</summary>
    internal bool IsGated(EventKind kind) => _core.RequiresGatePermit(kind);

    /// <summary>The index (tests look inside).</summary>
    internal StoreIndex Index => _engine.Index;

    /// <summary>The read handle cache (tests look inside).</summary>
    internal FileHandleCache Handles => _engine.Handles;

    /// <summary>The writer (fault tests inject failures through it); throws on a read-only store.</summary>
    internal StoreWriter Writer => _engine.Writer;
}
