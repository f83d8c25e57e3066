// The public PostgreSQL store: opens a schema (PostgresEngine) and exposes it through the shared core (StoreCore),
// which every IEventStore member forwards to; and the schema's DDL for a DBA. Applications create it directly or
// through UsePostgreSql.
using System.Diagnostics.CodeAnalysis;
using Batpak.Engine;
using Batpak.PostgreSql.Engine;
using Batpak.PostgreSql.Schema;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Batpak.PostgreSql;

/// <summary>
/// An <see cref="IEventStore"/> kept in one PostgreSQL schema, with the semantics of the embedded
/// <see cref="EventStore"/> (CAS, idempotency, atomic batches, causation, regions, subscriptions, cursors, hash
/// chains). Any number of processes may open the same schema at once; appends from all of them are numbered by one
/// sequencer row, so every instance reads the same gap-free order. Thread-safe.
/// </summary>
public sealed class PostgresEventStore : IEventStore
{
    private readonly PostgresEngine _engine;
    private readonly StoreCore _core;

    private PostgresEventStore(PostgresEngine engine, BatpakOptions options, CommitNotifier notifier)
    {
        _engine = engine;
        _core = new StoreCore(engine, options, notifier, this);
    }

    /// <summary>
    /// Opens the store in <paramref name="options"/>' schema, creating or migrating its tables unless
    /// <see cref="PostgresStoreOptions.SchemaMode"/> is <see cref="PostgresSchemaMode.VerifyOnly"/>.
    /// </summary>
    /// <param name="options">Server, schema and engine settings.</param>
    /// <param name="batpakOptions">
    /// The engine-neutral settings (DefaultScope, MaxEventBytes, MaxBatchEvents, GatedKinds, ChainKey,
    /// ShutdownDrainTimeout); the file settings (DataDirectory, SegmentMaxBytes, SyncEveryNEvents, SyncMode,
    /// FileHandleBudget, WriteQueueCapacity, WriterRestartLimit/Window, SlowSyncThreshold) have no meaning here and are
    /// ignored. Default: <c>new BatpakOptions()</c>.
    /// </param>
    /// <param name="timeProvider">The clock for event timestamps; default <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">Where the engine logs (category <c>Batpak.PostgreSql</c>: open, writer and listener connection loss, commits in doubt); default none.</param>
    /// <exception cref="StoreConnectionException">The server cannot be reached (the message names host, port, database and schema).</exception>
    /// <exception cref="PostgresSchemaException">The schema is newer than this library, or incomplete under VerifyOnly.</exception>
    /// <exception cref="ChainKeyMismatchException">The store was created with another chain key (or without one).</exception>
    public static PostgresEventStore Open(PostgresStoreOptions options, BatpakOptions? batpakOptions = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null) =>
        OpenAsync(options, batpakOptions, timeProvider, loggerFactory, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Opens the store asynchronously; see <see cref="Open"/>.</summary>
    /// <param name="options">Server, schema and engine settings.</param>
    /// <param name="batpakOptions">The engine-neutral settings (see <see cref="Open"/>); null for the defaults.</param>
    /// <param name="timeProvider">The clock for event timestamps; null for <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels connecting and migrating.</param>
    public static Task<PostgresEventStore> OpenAsync(PostgresStoreOptions options, BatpakOptions? batpakOptions, TimeProvider? timeProvider, CancellationToken cancellationToken) =>
        OpenAsync(options, batpakOptions, timeProvider, null, cancellationToken);

    /// <summary>Opens the store asynchronously, logging to <paramref name="loggerFactory"/>; see <see cref="Open"/>.</summary>
    /// <param name="options">Server, schema and engine settings.</param>
    /// <param name="batpakOptions">The engine-neutral settings (see <see cref="Open"/>); null for the defaults.</param>
    /// <param name="timeProvider">The clock for event timestamps; null for <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">Where the engine logs (see <see cref="Open"/>); null for none.</param>
    /// <param name="cancellationToken">Cancels connecting and migrating.</param>
    public static async Task<PostgresEventStore> OpenAsync(PostgresStoreOptions options, BatpakOptions? batpakOptions, TimeProvider? timeProvider, ILoggerFactory? loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        PostgresStoreOptions settings = options.Clone();
        settings.Validate();
        BatpakOptions neutral = (batpakOptions ?? new BatpakOptions()).Clone();
        ThrowIfInvalid(neutral);
        var notifier = new CommitNotifier();
        PostgresEngine engine = await PostgresEngine.OpenAsync(settings, neutral, notifier, timeProvider ?? TimeProvider.System, loggerFactory ?? NullLoggerFactory.Instance, cancellationToken).ConfigureAwait(false);
        return new PostgresEventStore(engine, neutral, notifier);
    }

    /// <summary>
    /// The SQL that creates (or, from <paramref name="fromVersion"/>, migrates) the tables of a store in
    /// <paramref name="schema"/>, as one transaction, for databases whose DDL a DBA applies
    /// (<see cref="PostgresSchemaMode.VerifyOnly"/>).
    /// </summary>
    /// <param name="schema">The schema name (<see cref="PostgresStoreOptions.Schema"/>).</param>
    /// <param name="fromVersion">The schema version the database is at: 0 for none.</param>
    public static string MigrationScript(string schema, int fromVersion = 0) => Migrations.Script(schema, fromVersion);

    /// <summary>The newest schema version this library applies and accepts.</summary>
    public static int SchemaVersion => Migrations.LatestVersion;

    /// <summary>The PostgreSQL schema holding this store.</summary>
    public string Schema => _engine.StoreSchema;

    /// <inheritdoc />
    public string DefaultScope => _core.DefaultScope;

    /// <summary>The engine (tests reach its writer).</summary>
    internal PostgresEngine Engine => _engine;

    /// <inheritdoc />
    public AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null) => _core.Append(coordinate, kind, payload, options);

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

    /// <summary>Makes every acknowledged append durable: one commit at <c>synchronous_commit = on</c>, whose WAL flush covers every earlier commit.</summary>
    public void Sync() => _core.Sync();

    /// <inheritdoc />
    public void Snapshot(string destinationDirectory) => _core.Snapshot(destinationDirectory);

    /// <inheritdoc />
    public StoreStats GetStats() => _core.GetStats();

    /// <summary>Commits queued appends, stops the listener and closes every connection.</summary>
    public void Dispose() => _core.Dispose();

    /// <summary>Disposes the store on a thread-pool thread.</summary>
    public ValueTask DisposeAsync() => _core.DisposeAsync();

    bool IEventStore.TryLocate(EventId id, out EventLocation location) => _core.TryLocate(id, out location);

    bool IEventStore.RequiresGatePermit(EventKind kind) => _core.RequiresGatePermit(kind);

    ValueTask<IAsyncDisposable> IEventStore.AcquireCursorLeaseAsync(string name, CancellationToken cancellationToken) =>
        _core.AcquireCursorLeaseAsync(name, cancellationToken);

    /// <summary>The BatpakOptions rules that apply to a PostgreSQL store: every rule but the file ones' DataDirectory (which is not required here).</summary>
    internal static List<string> Failures(BatpakOptions options)
    {
        var failures = new List<string>();
        foreach (BatpakOptionRule rule in BatpakOptionRules.All)
        {
            if (rule.Name != nameof(BatpakOptions.DataDirectory) && rule.Check(options) is { } failure)
            {
                failures.Add(failure);
            }
        }

        return failures;
    }

    private static void ThrowIfInvalid(BatpakOptions options)
    {
        foreach (BatpakOptionRule rule in BatpakOptionRules.All)
        {
            if (rule.Name != nameof(BatpakOptions.DataDirectory) && rule.Check(options) is { } failure)
            {
                throw rule.ToException(failure);
            }
        }
    }
}
