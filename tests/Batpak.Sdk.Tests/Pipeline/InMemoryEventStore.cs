using System.Diagnostics.CodeAnalysis;

namespace Batpak.Tests;

/// <summary>
/// TEST DOUBLE, not the real store: an in-memory <see cref="IEventStore"/> for the gate and pipeline tests, written
/// while <c>EventStore</c> did not exist yet. It honours what the pipeline relies on: the payload is copied, the
/// expected sequence is checked, idempotency keys return the first receipt, and <c>AppendOptions.BypassReason</c>
/// and the flags are stored and read back. No hash chain, no disk.
/// The same scenarios run against the real store in <see cref="PipelineEventStoreTests"/>.
/// </summary>
internal sealed class InMemoryEventStore : IEventStore
{
    private readonly Lock _lock = new();
    private readonly List<StoredEvent> _events = [];
    private readonly Dictionary<string, AppendReceipt> _idempotency = new(StringComparer.Ordinal);
    private readonly EventIdGenerator _ids = new(TimeProvider.System);
    private long _offset;

    /// <summary>Calls to <see cref="Append"/> that reached the store (including failed ones).</summary>
    public int AppendCalls;

    /// <summary>When set, the next append throws it and stores nothing.</summary>
    public Exception? FailNextAppend { get; set; }

    /// <summary>Called inside <see cref="Append"/> before anything is stored (to widen race windows in tests).</summary>
    public Action? OnAppend { get; set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _events.Count;
            }
        }
    }

    public string DefaultScope => "default";

    // The pipeline never subscribes, opens cursors or compacts.
    public CompactionResult Compact(CompactionOptions? options = null) => throw new NotSupportedException("test double");

    public Subscription Subscribe(Region region, int capacity = 1024) => throw new NotSupportedException("test double");

    public EventCursor OpenCursor(Region region, long fromGlobalSequence = 0) => throw new NotSupportedException("test double");

    public EventCursor OpenCursor(Region region, string name) => throw new NotSupportedException("test double");

    // The pipeline never appends batches; the double appends them one by one (not atomically), which is enough here.
    public IReadOnlyList<AppendReceipt> AppendBatch(IReadOnlyList<EventData> events, bool durable = false) =>
        events.Select(e => Append(e.Coordinate, e.Kind, e.Payload.Span, e.Options)).ToArray();

    public AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null)
    {
        Interlocked.Increment(ref AppendCalls);
        OnAppend?.Invoke();
        coordinate.EnsureValid(nameof(coordinate));
        options ??= AppendOptions.Default;
        lock (_lock)
        {
            Exception? failure = FailNextAppend;
            if (failure is not null)
            {
                FailNextAppend = null;
                throw failure;
            }

            if (options.IdempotencyKey is not null && _idempotency.TryGetValue(options.IdempotencyKey, out AppendReceipt original))
            {
                return original;
            }

            long last = LastSequenceLocked(coordinate.Entity);
            if (options.ExpectedSequence is long expected && expected != last)
            {
                throw new SequenceMismatchException(coordinate.Entity, expected, last);
            }

            EventId id = _ids.Next();
            EventId correlation = options.CorrelationId ?? id;
            long global = _events.Count;
            var position = new DagPosition(id.UnixMilliseconds, 0, 0, last + 1);
            var header = new EventHeader(id, correlation, options.CausationId, id.UnixMilliseconds * 1000, position, kind, options.Flags, global, EventHash.Zero, EventHash.Zero);
            var disk = new DiskPosition(1, _offset, payload.Length + 8);
            _offset += disk.Length;
            _events.Add(new StoredEvent(coordinate, header, payload.ToArray(), disk, options.IdempotencyKey, options.BypassReason));
            var receipt = new AppendReceipt(id, global, last + 1, disk, EventHash.Zero);
            if (options.IdempotencyKey is not null)
            {
                _idempotency[options.IdempotencyKey] = receipt;
            }

            return receipt;
        }
    }

    public ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions? options = null, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Append(coordinate, kind, payload.Span, options));

    public AppendReceipt AppendReaction(EventId cause, in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null)
    {
        StoredEvent causeEvent = Get(cause);
        options = (options ?? AppendOptions.Default) with { CausationId = cause, CorrelationId = causeEvent.Header.CorrelationId };
        return Append(coordinate, kind, payload, options);
    }

    public StoredEvent Get(EventId id) => TryGet(id, out StoredEvent? found) ? found : throw new EventNotFoundException(id);

    public bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent)
    {
        lock (_lock)
        {
            storedEvent = _events.Find(e => e.Id == id);
            return storedEvent is not null;
        }
    }

    public IEnumerable<StoredEvent> Query(Region region) =>
        Snapshot(e => region.Matches(e.Coordinate, e.Kind, e.Header.GlobalSequence, e.Header.TimestampMicroseconds));

    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence = 0) =>
        Snapshot(e => e.Coordinate.Entity == entity && e.Header.Position.Sequence >= fromSequence);

    public IEnumerable<StoredEvent> ByScope(string scope) => Snapshot(e => e.Coordinate.Scope == scope);

    public IEnumerable<StoredEvent> ByKind(EventKind kind) => Snapshot(e => e.Kind == kind);

    public IEnumerable<StoredEvent> ByCorrelation(EventId correlationId) => Snapshot(e => e.Header.CorrelationId == correlationId);

    public EventPage ReadAll(long fromGlobalSequence, int maxCount = 1000)
    {
        lock (_lock)
        {
            List<StoredEvent> page = [.. _events.Skip((int)fromGlobalSequence).Take(maxCount)];
            long next = fromGlobalSequence + page.Count;
            return new EventPage(page, next, next >= _events.Count);
        }
    }

    public IReadOnlyList<StoredEvent> WalkAncestors(EventId id, int limit = 64)
    {
        var chain = new List<StoredEvent>();
        StoredEvent? current = Get(id);
        while (current is not null && chain.Count < limit)
        {
            chain.Add(current);
            current = current.Header.CausationId is EventId cause && TryGet(cause, out StoredEvent? parent) ? parent : null;
        }

        return chain;
    }

    public long GetLastSequence(string entity)
    {
        lock (_lock)
        {
            return LastSequenceLocked(entity);
        }
    }

    public ChainVerification Verify(string entity) => new(true, Stream(entity).Count(), null);

    public ChainVerification VerifyAll() => new(true, Count, null);

    public ChainVerification VerifyAll(StoreHead anchor) => throw new NotSupportedException("The in-memory test double keeps no hash chains.");

    public StoreHead GetHead() => throw new NotSupportedException("The in-memory test double keeps no hash chains.");

    public void Sync()
    {
    }

    public void Snapshot(string destinationDirectory) => throw new NotSupportedException("The in-memory test double has no disk form.");

    public StoreStats GetStats() => new() { EventCount = Count, NextGlobalSequence = Count };

    public void Dispose()
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private long LastSequenceLocked(string entity)
    {
        for (int i = _events.Count - 1; i >= 0; i--)
        {
            if (_events[i].Coordinate.Entity == entity)
            {
                return _events[i].Header.Position.Sequence;
            }
        }

        return -1;
    }

    private List<StoredEvent> Snapshot(Predicate<StoredEvent> match)
    {
        lock (_lock)
        {
            return _events.FindAll(match);
        }
    }
}
