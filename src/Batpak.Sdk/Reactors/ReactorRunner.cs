namespace Batpak;

/// <summary>
/// Runs one <see cref="IReactor"/> in the background: reads its region through a named, durable cursor
/// (<c>reactor.{Name}</c>), offers each event to the reactor, appends the derived events as reactions and commits
/// the cursor, so a restart resumes after the last committed event.
/// </summary>
/// <remarks>
/// <para><b>Delivery.</b> Reaction attempts are at-least-once: an event is offered again after a failed attempt, and
/// after a crash between appending reactions and committing the cursor. Effects are exactly-once: the reactions of
/// one source event are appended in one atomic batch, each with the idempotency key
/// <c>reactor:{Name}/{sourceEventId}/{index}</c>, so a repeated offer of a deterministic reactor stores nothing
/// new. Every reaction has its causation set to the source event and inherits its correlation.</para>
/// <para><b>Durability.</b> Before the cursor is committed (once per batch of <see cref="ReactorOptions.BatchSize"/>
/// events, and when stopping) the store is synced, so a committed position never covers reactions a power loss could
/// take back.</para>
/// <para><b>Failures.</b> An exception from the reactor, or from appending its reactions, is reported to
/// <see cref="ReactorOptions.OnFailure"/> and the event retried after an exponential backoff
/// (<see cref="ReactorOptions.InitialBackoff"/> doubling to <see cref="ReactorOptions.MaxBackoff"/>). After
/// <see cref="ReactorOptions.MaxAttempts"/> attempts the <see cref="ReactorOptions.PoisonEventPolicy"/> applies: stop
/// the runner (default; <see cref="StoppedBy"/> tells why, and the next <see cref="Start"/> retries the same event) or
/// skip the event. A reactor can never harm the store: its exceptions end at the runner.</para>
/// <para><b>Threads.</b> The loop runs on the thread pool; the reactor is called there, one event at a time, never on
/// the store's writer thread (the cursor's wake-ups complete asynchronously). <see cref="Start"/> and
/// <see cref="StopAsync"/> may be called from any thread. The runner ends by itself, without error, when the store is
/// disposed.</para>
/// <para>The reactor never sees the events it derived itself (recognized by their idempotency-key prefix), so a
/// region that includes its own output cannot loop.</para>
/// </remarks>
public sealed class ReactorRunner : IAsyncDisposable
{
    private const string KeyPrefix = "reactor:";
    private readonly IEventStore _store;
    private readonly ReactorOptions _options;
    private readonly string _keyPrefix;
    private readonly Lock _lock = new();
    private CancellationTokenSource? _stopping;
    private Task _completion = Task.CompletedTask;
    private long _eventsProcessed;
    private long _reactionsAppended;
    private long _failureCount;
    private long _skippedCount;
    private volatile ReactorFailure? _stoppedBy;
    private int _holdsLease; // 1 while RunAsync holds the cursor's lease (IsLeading)

    /// <summary>Creates a runner; it does nothing until <see cref="Start"/>.</summary>
    /// <param name="store">The store read and appended to.</param>
    /// <param name="reactor">The reactor.</param>
    /// <param name="options">Retry, batching and reporting settings; the defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The reactor's name is invalid, or an option is out of range.</exception>
    public ReactorRunner(IEventStore store, IReactor reactor, ReactorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(reactor);
        ValidateName(reactor.Name);
        ArgumentNullException.ThrowIfNull(reactor.Region, "reactor.Region");
        _options = options ?? new ReactorOptions();
        _options.Validate();
        _store = store;
        Reactor = reactor;
        CursorName = "reactor." + reactor.Name;
        _keyPrefix = KeyPrefix + reactor.Name + "/";
    }

    /// <summary>The reactor run.</summary>
    public IReactor Reactor { get; }

    /// <summary>The name of the durable cursor: <c>reactor.{Name}</c>.</summary>
    public string CursorName { get; }

    /// <summary>
    /// <see langword="true"/> while this runner holds its cursor's lease: one runner of a reactor name at a time, on
    /// every instance of the store; a started runner without it waits, and takes over when the holder stops or dies.
    /// </summary>
    public bool IsLeading => Volatile.Read(ref _holdsLease) != 0;

    /// <summary><see langword="true"/> between <see cref="Start"/> and the end of the loop.</summary>
    public bool IsRunning => !Completion.IsCompleted;

    /// <summary>
    /// Completes when the loop ends: stopped, stopped by a poison event (<see cref="StoppedBy"/>), or the store
    /// disposed. Faults only when syncing the store or committing the cursor fails. Completed before the first start.
    /// </summary>
    public Task Completion
    {
        get
        {
            lock (_lock)
            {
                return _completion;
            }
        }
    }

    /// <summary>Source events the reactor handled successfully (including those it emitted nothing for) since this runner was created.</summary>
    public long EventsProcessed => Interlocked.Read(ref _eventsProcessed);

    /// <summary>Derived events appended (or found already appended by an earlier attempt) since this runner was created.</summary>
    public long ReactionsAppended => Interlocked.Read(ref _reactionsAppended);

    /// <summary>Failed attempts since this runner was created.</summary>
    public long FailureCount => Interlocked.Read(ref _failureCount);

    /// <summary>Events given up under <see cref="PoisonEventPolicy.SkipEvent"/>.</summary>
    public long SkippedCount => Interlocked.Read(ref _skippedCount);

    /// <summary>The failure that stopped the runner under <see cref="PoisonEventPolicy.StopReactor"/>, or <see langword="null"/>. Reset by <see cref="Start"/>.</summary>
    public ReactorFailure? StoppedBy => _stoppedBy;

    /// <summary>Starts the background loop from the cursor's committed position.</summary>
    /// <exception cref="InvalidOperationException">It is already running.</exception>
    public void Start()
    {
        lock (_lock)
        {
            if (!_completion.IsCompleted)
            {
                throw new InvalidOperationException($"Reactor \"{Reactor.Name}\" is already running.");
            }

            _stopping?.Dispose();
            _stopping = new CancellationTokenSource();
            _stoppedBy = null;
            CancellationToken token = _stopping.Token;
            _completion = Task.Run(() => RunAsync(token), CancellationToken.None);
        }
    }

    /// <summary>
    /// Stops the loop: the event in hand is finished (its reactions appended), the cursor committed, and the call
    /// completes when the loop has ended. Harmless when not running.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (the loop still stops).</param>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task completion;
        lock (_lock)
        {
            _stopping?.Cancel();
            completion = _completion;
        }

        await completion.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the loop (see <see cref="StopAsync"/>) and releases the runner.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _stopping?.Dispose();
                _stopping = null;
            }
        }
    }

    /// <summary>Throws unless <paramref name="name"/> can name a reactor (it becomes part of a cursor name).</summary>
    internal static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 120 || name.StartsWith('.') || !name.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            throw new ArgumentException($"Reactor name \"{name}\" is not 1 to 120 letters, digits, '.', '-' or '_' (not starting with '.').", nameof(name));
        }
    }

    /// <summary>The idempotency key of the <paramref name="index"/>-th reaction of <paramref name="reactorName"/> to <paramref name="source"/>.</summary>
    internal static string IdempotencyKey(string reactorName, EventId source, int index) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{KeyPrefix}{reactorName}/{source}/{index}");

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        // One runner of a reactor name at a time, on every instance of the store: wait for the cursor's lease, and
        // only then read the committed position (the previous holder's last commit).
        IAsyncDisposable lease;
        try
        {
            lease = await _store.AcquireCursorLeaseAsync(CursorName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ObjectDisposedException || (ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return;
        }

        await using (lease.ConfigureAwait(false))
        {
            Interlocked.Exchange(ref _holdsLease, 1);
            try
            {
                await RunLeasedAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Exchange(ref _holdsLease, 0);
            }
        }
    }

    private async Task RunLeasedAsync(CancellationToken cancellationToken)
    {
        EventCursor cursor;
        try
        {
            cursor = _store.OpenCursor(Reactor.Region, CursorName);
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        using (cursor)
        {
            var output = new ReactionOutput(_store.DefaultScope);
            long committed = cursor.Position;
            bool unsynced = false;
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    IReadOnlyList<StoredEvent> batch;
                    try
                    {
                        batch = await cursor.PollAsync(_options.BatchSize, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }

                    long resume = cursor.Position;
                    bool stop = false;
                    foreach (StoredEvent e in batch)
                    {
                        if (cancellationToken.IsCancellationRequested)
                        {
                            resume = e.Header.GlobalSequence;
                            break;
                        }

                        if (e.IdempotencyKey is { } key && key.StartsWith(_keyPrefix, StringComparison.Ordinal))
                        {
                            continue; // its own reaction
                        }

                        Outcome outcome = await ProcessAsync(e, output, cancellationToken).ConfigureAwait(false);
                        unsynced |= outcome.Appended;
                        if (outcome.Kind is OutcomeKind.Stop or OutcomeKind.Cancelled)
                        {
                            resume = e.Header.GlobalSequence; // retried by the next start
                            stop = outcome.Kind == OutcomeKind.Stop;
                            break;
                        }
                    }

                    if (resume != committed)
                    {
                        if (unsynced)
                        {
                            _store.Sync(); // the reactions must be durable before the position that covers them
                            unsynced = false;
                        }

                        cursor.Seek(resume);
                        cursor.Commit();
                        committed = resume;
                    }

                    if (stop)
                    {
                        return;
                    }
                }
            }
            catch (ObjectDisposedException)
            {
                // The store closed under the loop: nothing more to do. Reactions not yet covered by a commit are
                // offered again after the next open and de-duplicated by their idempotency keys.
            }
        }
    }

    private async Task<Outcome> ProcessAsync(StoredEvent source, ReactionOutput output, CancellationToken cancellationToken)
    {
        bool appended = false;
        for (int attempt = 1; ; attempt++)
        {
            Exception? failure = null;
            try
            {
                output.Clear();
                Reactor.React(TypedEventDecoder.Decode(source), output);
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            if (failure is null)
            {
                try
                {
                    if (output.Count > 0)
                    {
                        AppendReactions(source, output);
                        appended = true;
                    }

                    Interlocked.Increment(ref _eventsProcessed);
                    return new Outcome(OutcomeKind.Reacted, appended);
                }
                catch (ObjectDisposedException)
                {
                    throw; // the store closed: the loop ends, this is not a reactor failure
                }
                catch (Exception ex)
                {
                    failure = ex; // a reaction the store refused (too large, reserved kind, ...): retried like a reactor failure
                }
            }

            Interlocked.Increment(ref _failureCount);
            ReactorFailureAction action = attempt < _options.MaxAttempts ? ReactorFailureAction.Retry
                : _options.PoisonEventPolicy == PoisonEventPolicy.SkipEvent ? ReactorFailureAction.Skip
                : ReactorFailureAction.Stop;
            var report = new ReactorFailure(Reactor.Name, source, attempt, failure, action);
            Report(report);
            switch (action)
            {
                case ReactorFailureAction.Skip:
                    Interlocked.Increment(ref _skippedCount);
                    return new Outcome(OutcomeKind.Skipped, appended);
                case ReactorFailureAction.Stop:
                    _stoppedBy = report;
                    return new Outcome(OutcomeKind.Stop, appended);
            }

            try
            {
                await Task.Delay(Backoff(attempt), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return new Outcome(OutcomeKind.Cancelled, appended);
            }
        }
    }

    private void AppendReactions(StoredEvent source, ReactionOutput output)
    {
        IReadOnlyList<(Coordinate Coordinate, EventKind Kind, byte[] Payload)> events = output.Events;
        var batch = new EventData[events.Count];
        for (int i = 0; i < batch.Length; i++)
        {
            var options = new AppendOptions { CausationId = source.Id, IdempotencyKey = IdempotencyKey(Reactor.Name, source.Id, i) };
            batch[i] = new EventData(events[i].Coordinate, events[i].Kind, events[i].Payload, options);
        }

        _store.AppendBatch(batch); // atomic: all reactions of one source or none; a repeat returns the originals
        Interlocked.Add(ref _reactionsAppended, batch.Length);
    }

    private TimeSpan Backoff(int attempt)
    {
        double ticks = _options.InitialBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30));
        return ticks >= _options.MaxBackoff.Ticks ? _options.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }

    private void Report(ReactorFailure failure)
    {
        if (_options.OnFailure is not { } onFailure)
        {
            return;
        }

        try
        {
            onFailure(failure);
        }
        catch (Exception)
        {
            // A throwing report callback must not end the loop.
        }
    }

    private enum OutcomeKind
    {
        Reacted,
        Skipped,
        Stop,
        Cancelled,
    }

    private readonly record struct Outcome(OutcomeKind Kind, bool Appended);
}
