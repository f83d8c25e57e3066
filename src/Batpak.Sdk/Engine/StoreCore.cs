// IEventStore over any IStorageEngine: the argument rules, gates, disposal, causal walks, subscriptions and cursors
// that every engine shares. The public stores (EventStore, later PostgreSQL) hold one and forward to it.
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Batpak.Engine;

/// <summary>The engine-independent half of a store; thread-safe, like the engines it drives.</summary>
internal sealed class StoreCore : IEventStore
{
    private readonly IStorageEngine _engine;
    private readonly AppendRules _rules;
    private readonly CommitNotifier _notifier;
    private readonly CursorLeases _leases = new();
    private readonly SubscriptionDispatcher _dispatcher;
    private readonly TimeSpan _drainTimeout;
    private readonly object _owner; // the public store, named in ObjectDisposedException
    private int _disposed;

    /// <summary>Drives <paramref name="engine"/>, which signals <paramref name="notifier"/> after every commit it makes visible.</summary>
    public StoreCore(IStorageEngine engine, BatpakOptions options, CommitNotifier notifier, object owner)
    {
        _engine = engine;
        _rules = new AppendRules(options);
        _notifier = notifier;
        _dispatcher = new SubscriptionDispatcher(engine, notifier);
        _drainTimeout = options.ShutdownDrainTimeout;
        DefaultScope = options.DefaultScope;
        _owner = owner;
    }

    /// <inheritdoc />
    public string DefaultScope { get; }

    /// <summary>Wakes cursors waiting for new events.</summary>
    internal CommitNotifier Notifier => _notifier;

    /// <summary>Events dropped by slow subscribers (for telemetry).</summary>
    internal long SubscriptionDrops() => _dispatcher.Drops();

    /// <inheritdoc />
    public AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null)
    {
        EnsureWritable();
        options ??= AppendOptions.Default;
        _rules.Check(coordinate, kind, payload.Length, options);
        return _engine.Append(coordinate, kind, payload, options);
    }

    /// <inheritdoc />
    public ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions? options = null, CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        options ??= AppendOptions.Default;
        _rules.Check(coordinate, kind, payload.Length, options);
        return _engine.AppendAsync(coordinate, kind, payload, options, cancellationToken);
    }

    /// <inheritdoc />
    public IReadOnlyList<AppendReceipt> AppendBatch(IReadOnlyList<EventData> events, bool durable = false) => SubmitBatch(events, durable, receipts: null);

    /// <inheritdoc />
    public void AppendBatch(IReadOnlyList<EventData> events, Span<AppendReceipt> receipts, bool durable = false)
    {
        IEventStore.CheckReceiptSpan(events, receipts);
        AppendReceipt[] pooled = System.Buffers.ArrayPool<AppendReceipt>.Shared.Rent(Math.Max(1, events.Count));
        try
        {
            SubmitBatch(events, durable, pooled).AsSpan(0, events.Count).CopyTo(receipts);
        }
        finally
        {
            System.Buffers.ArrayPool<AppendReceipt>.Shared.Return(pooled);
        }
    }

    private AppendReceipt[] SubmitBatch(IReadOnlyList<EventData> events, bool durable, AppendReceipt[]? receipts)
    {
        EnsureWritable();
        _rules.CheckBatch(events);
        return _engine.AppendBatch(events, durable, receipts);
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
    public StoredEvent Get(EventId id) => TryGet(id, out StoredEvent? found) ? found : throw new EventNotFoundException(id);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent)
    {
        ThrowIfDisposed();
        return _engine.TryGet(id, out storedEvent);
    }

    /// <summary>Where an event sits, without reading it (projection cache checks).</summary>
    public bool TryLocate(EventId id, out EventLocation location)
    {
        ThrowIfDisposed();
        return _engine.TryLocate(id, out location);
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Read(Region region)
    {
        ArgumentNullException.ThrowIfNull(region);
        ThrowIfDisposed();
        return _engine.Read(region);
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence = 0)
    {
        Coordinate.Validate(entity, nameof(entity));
        ArgumentOutOfRangeException.ThrowIfNegative(fromSequence);
        ThrowIfDisposed();
        return _engine.Stream(entity, fromSequence);
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence, int maxCount)
    {
        Coordinate.Validate(entity, nameof(entity));
        ArgumentOutOfRangeException.ThrowIfNegative(fromSequence);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        ThrowIfDisposed();
        return _engine.Stream(entity, fromSequence, maxCount);
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId)
    {
        ThrowIfDisposed();
        return _engine.ReadCorrelated(correlationId);
    }

    /// <inheritdoc />
    public EventPage ReadPage(long fromGlobalSequence, int maxCount = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromGlobalSequence);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        (List<StoredEvent> events, long next) = ReadRegionFrom(Region.All, fromGlobalSequence, maxCount);
        bool reachedEnd = events.Count < maxCount || next >= _engine.NextGlobalSequence;
        return new EventPage(events, next, reachedEnd);
    }

    /// <summary>Up to <paramref name="maxCount"/> events of <paramref name="region"/> from <paramref name="from"/> on, and where to continue (cursors).</summary>
    internal (List<StoredEvent> Events, long Next) ReadRegionFrom(Region region, long from, int maxCount)
    {
        ThrowIfDisposed();
        return _engine.ReadRegionFrom(region, from, maxCount);
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredEvent> ReadAncestors(EventId id, int limit = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ThrowIfDisposed();
        var result = new List<StoredEvent>();
        EventId current = id;
        while (result.Count < limit && !current.IsEmpty)
        {
            if (!_engine.TryGet(current, out StoredEvent? read))
            {
                if (result.Count == 0)
                {
                    throw new EventNotFoundException(id);
                }

                break; // the cause was removed by retention compaction
            }

            result.Add(read);
            current = read.Header.CausationId ?? EventId.Empty;
        }

        return result;
    }

    /// <inheritdoc />
    public long GetLastSequence(string entity)
    {
        Coordinate.Validate(entity, nameof(entity));
        ThrowIfDisposed();
        return _engine.GetLastSequence(entity);
    }

    /// <inheritdoc />
    public ChainVerification Verify(string entity)
    {
        Coordinate.Validate(entity, nameof(entity));
        ThrowIfDisposed();
        return _engine.Verify(entity);
    }

    /// <inheritdoc />
    public ChainVerification VerifyAll()
    {
        ThrowIfDisposed();
        return _engine.VerifyAll(anchor: null);
    }

    /// <inheritdoc />
    public ChainVerification VerifyAll(StoreHead anchor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(anchor.NextGlobalSequence, nameof(anchor));
        ThrowIfDisposed();
        return _engine.VerifyAll(anchor);
    }

    /// <inheritdoc />
    public StoreHead GetHead()
    {
        ThrowIfDisposed();
        return _engine.GetHead();
    }

    /// <inheritdoc />
    public Subscription Subscribe(Region region, int capacity = 1024)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ThrowIfDisposed();
        return _dispatcher.Subscribe(region, capacity);
    }

    /// <inheritdoc />
    public EventCursor OpenCursor(Region region, long fromGlobalSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentOutOfRangeException.ThrowIfNegative(fromGlobalSequence);
        ThrowIfDisposed();
        return new EventCursor(this, region, fromGlobalSequence, name: null);
    }

    /// <inheritdoc />
    public EventCursor OpenCursor(Region region, string name)
    {
        ArgumentNullException.ThrowIfNull(region);
        AppendRules.CheckCursorName(name);
        ThrowIfDisposed();
        return new EventCursor(this, region, _engine.ReadCheckpoint(name), name);
    }

    /// <inheritdoc cref="IEventStore.AcquireCursorLeaseAsync"/>
    public ValueTask<IAsyncDisposable> AcquireCursorLeaseAsync(string name, CancellationToken cancellationToken)
    {
        AppendRules.CheckCursorName(name);
        ThrowIfDisposed();
        return _leases.AcquireAsync(name, _engine, cancellationToken);
    }

    ValueTask<IAsyncDisposable> IEventStore.AcquireCursorLeaseAsync(string name, CancellationToken cancellationToken) =>
        AcquireCursorLeaseAsync(name, cancellationToken);

    /// <summary>Stores a named cursor's position (EventCursor.Commit).</summary>
    internal void CommitCursor(string name, long position)
    {
        ThrowIfDisposed();
        _engine.WriteCheckpoint(name, position);
    }

    /// <inheritdoc />
    public CompactionResult Compact(CompactionOptions? options = null)
    {
        EnsureWritable();
        return _engine.Compact(options ?? new CompactionOptions());
    }

    /// <inheritdoc />
    public void Sync()
    {
        EnsureWritable();
        _engine.Sync();
    }

    /// <inheritdoc />
    public void Snapshot(string destinationDirectory)
    {
        EnsureWritable();
        ArgumentException.ThrowIfNullOrWhiteSpace(destinationDirectory);
        _engine.Snapshot(destinationDirectory);
    }

    /// <inheritdoc />
    public StoreStats GetStats()
    {
        ThrowIfDisposed();
        return _engine.GetStats();
    }

    /// <summary><see langword="true"/> when an append of <paramref name="kind"/> needs a pipeline's permit.</summary>
    public bool RequiresGatePermit(EventKind kind) => _rules.IsGated(kind);

    /// <summary>Drains the engine, ends every subscription and cursor wait, then disposes the engine.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _engine.Drain(_drainTimeout);
        }
        finally
        {
            _notifier.Close();
            _dispatcher.Stop(TimeSpan.FromSeconds(5));
            _engine.Dispose();
        }
    }

    /// <summary>Disposes on a thread-pool thread (the drain and fsync block).</summary>
    public ValueTask DisposeAsync() => Volatile.Read(ref _disposed) != 0 ? ValueTask.CompletedTask : new ValueTask(Task.Run(Dispose));

    /// <summary><see langword="true"/> once <see cref="Dispose"/> started.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, _owner);

    private void EnsureWritable()
    {
        ThrowIfDisposed();
        if (_engine.ReadOnlyReason is { } reason)
        {
            throw new InvalidOperationException(reason);
        }
    }
}
