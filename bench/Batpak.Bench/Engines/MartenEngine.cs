using JasperFx;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace Batpak.Bench.Engines;

/// <summary>The event every Marten append stores: the dataset's payload bytes (Marten serializes them into jsonb).</summary>
/// <param name="Payload">The payload, as the other engines store it.</param>
internal sealed record MartenDeposit(byte[] Payload);

/// <summary>
/// Marten 9.58's event store as a PostgreSQL peer (a bench peer only, never a runtime dependency): string stream ids,
/// Quick append mode, a unique index on the event id (without it <c>LoadAsync(id)</c> scans the events table). W1 is
/// one lightweight session per 1,000 events (<c>Events.Append</c>, then <c>SaveChangesAsync</c>); W2 is one session
/// per appender and one event per <c>SaveChangesAsync</c>; W3 is <c>Events.LoadAsync(id)</c> and, by stream,
/// <c>FetchStreamAsync(key, version, fromVersion)</c> of one version; W4 and W7 are <c>FetchStreamAsync(key)</c>.
/// In W2, two appenders that append to one stream at once can make Marten fail one of them with a concurrency error
/// (Quick mode); that append is retried on a fresh session and the retries are reported with the figure.
/// </summary>
/// <remarks>
/// Marten generates and compiles its storage code at run time, on first use of each store. Every create/open ends with
/// an untimed warm-up (one append to the stream <see cref="WarmupStream"/>, one fetch, one load) so that compile is not
/// charged to a timed workload, as it would not be in a deployed app that pre-builds its types. That one extra event is
/// in W8's bytes and in no count.
/// </remarks>
internal sealed class MartenEngine : BenchEngine
{
    /// <summary>The stream of the untimed warm-up event (not a dataset entity, so no workload reads it).</summary>
    public const string WarmupStream = "bench-warmup";

    private const int MaxAttempts = 50;
    private DocumentStore? _store;
    private Guid[] _ids = [];
    private long _streamCollisions;

    public override string Name => "Marten";

    public override string Key => "marten";

    public override bool RunsOnPostgres => true;

    public override string Settings => "Marten 9.58.0 event store (schema marten), StreamIdentity.AsString, EventAppendMode.Quick, EnableUniqueIndexOnEventId; events are a record holding the payload byte[] (jsonb, base64); "
        + "W1 one LightweightSession + SaveChangesAsync per 1,000 events; W2 one session per appender, one event per SaveChangesAsync (a concurrency failure on a shared stream is retried); W3 Events.LoadAsync(id), by stream FetchStreamAsync of one version; "
        + "W4/W7 FetchStreamAsync(key); runtime code generation warmed up before timing; no scope or kind (W5 n/a)";

    public override bool Supports(Workload workload) => workload is not (Workload.W6Reopen or Workload.W5Scope or Workload.W5Kind);

    public override string NotApplicableReason(Workload workload) => workload == Workload.W6Reopen
        ? "server-side store: no local open to time (a new process only connects)"
        : "Marten's events have no scope or kind column (a query needs a projection or one event type per kind)";

    private DocumentStore Store => _store ?? throw new InvalidOperationException("Store not open.");

    private static DocumentStore OpenStore(string connectionString) => DocumentStore.For(options =>
    {
        options.Connection(connectionString);
        options.DatabaseSchemaName = "marten";
        options.AutoCreateSchemaObjects = AutoCreate.All;
        options.Events.StreamIdentity = StreamIdentity.AsString;
        options.Events.AppendMode = EventAppendMode.Quick;
        options.Events.EnableUniqueIndexOnEventId = true;
        options.Events.AddEventType<MartenDeposit>();
    });

    private static T Wait<T>(Task<T> task) => task.WaitAsync(TimeSpan.FromHours(2)).GetAwaiter().GetResult();

    public override void CreateForAppend(string directory, int syncEvery)
    {
        OpenExisting(directory);
        Wait(WarmUpAsync(Store, append: true));
    }

    public override void CreateForDurable(string directory) => CreateForAppend(directory, 1);

    public override void OpenExisting(string directory)
    {
        Close();
        _store = OpenStore(directory);
        Wait(WarmUpAsync(_store, append: false));
    }

    private static async Task<int> WarmUpAsync(DocumentStore store, bool append)
    {
        if (append)
        {
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync().ConfigureAwait(false);
            await using var session = store.LightweightSession();
            session.Events.Append(WarmupStream, new MartenDeposit([0x84]));
            await session.SaveChangesAsync().ConfigureAwait(false);
        }

        await using var query = store.QuerySession();
        var events = await query.Events.FetchStreamAsync(WarmupStream).ConfigureAwait(false);
        _ = await query.Events.LoadAsync(events.Count > 0 ? events[0].Id : Guid.Empty).ConfigureAwait(false);
        _ = await query.Events.FetchStreamAsync(WarmupStream, version: 1, fromVersion: 1).ConfigureAwait(false);
        return events.Count;
    }

    public override void AppendAll(Dataset data, int syncEvery) => Wait(AppendAllAsync(data, syncEvery));

    private async Task<int> AppendAllAsync(Dataset data, int syncEvery)
    {
        var store = Store;
        if (_ids.Length != data.Count)
        {
            _ids = new Guid[data.Count];
        }

        var appended = new IEvent[Math.Min(syncEvery, data.Count)];
        for (int start = 0; start < data.Count; start += appended.Length)
        {
            int count = Math.Min(appended.Length, data.Count - start);
            await using var session = store.LightweightSession();
            for (int j = 0; j < count; j++)
            {
                int i = start + j;
                var action = session.Events.Append(data.Entities[data.EntityOf[i]], new MartenDeposit(data.Payloads[i]));
                appended[j] = action.Events[^1];
            }

            await session.SaveChangesAsync().ConfigureAwait(false);
            for (int j = 0; j < count; j++)
            {
                _ids[start + j] = appended[j].Id;
            }
        }

        return data.Count;
    }

    public override long AppendDurable(Dataset data, int count, int concurrency)
    {
        var store = Store;
        int next = -1;
        long acknowledged = 0;
        _streamCollisions = 0;
        var tasks = new Task[concurrency];
        for (int t = 0; t < concurrency; t++)
        {
            tasks[t] = Task.Run(async () =>
            {
                var session = store.LightweightSession();
                try
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < count)
                    {
                        for (int attempt = 1; ; attempt++)
                        {
                            session.Events.Append(data.Entities[data.EntityOf[i]], new MartenDeposit(data.Payloads[i]));
                            try
                            {
                                await session.SaveChangesAsync().ConfigureAwait(false);
                                break;
                            }
                            catch (Exception ex) when (attempt < MaxAttempts && IsStreamCollision(ex))
                            {
                                // Two appends to one stream raced (Quick mode assigns versions in the server without a
                                // stream lock): retry on a fresh session, as an app would; only acknowledged appends count.
                                Interlocked.Increment(ref _streamCollisions);
                                await session.DisposeAsync().ConfigureAwait(false);
                                session = store.LightweightSession();
                            }
                        }

                        Interlocked.Increment(ref acknowledged);
                    }
                }
                finally
                {
                    await session.DisposeAsync().ConfigureAwait(false);
                }
            });
        }

        Task.WhenAll(tasks).WaitAsync(TimeSpan.FromHours(2)).GetAwaiter().GetResult();
        return acknowledged;
    }

    /// <summary>
    /// Marten's concurrency failures of concurrent appends to one stream: a version taken twice
    /// (<see cref="EventStreamUnexpectedMaxEventIdException"/>), or a unique violation on <c>mt_streams</c> when two
    /// first appends both create the stream.
    /// </summary>
    private static bool IsStreamCollision(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is EventStreamUnexpectedMaxEventIdException or PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return true;
            }
        }

        return false;
    }

    public override string? DescribeWorkload(Workload workload) =>
        workload == Workload.W2Durable && _streamCollisions > 0
            ? $"{_streamCollisions} appends collided with a concurrent append to the same stream (Marten concurrency failure) and were retried"
            : null;

    public override long PointReads(Dataset data, int[] indexes) => Wait(PointReadsAsync(data, indexes));

    private async Task<long> PointReadsAsync(Dataset data, int[] indexes)
    {
        await using var query = Store.QuerySession();
        long found = 0;
        foreach (int i in indexes)
        {
            var stored = await query.Events.LoadAsync(_ids[i]).ConfigureAwait(false);
            if (stored?.Data is MartenDeposit deposit && deposit.Payload.Length == data.PayloadLengths[i])
            {
                found++;
            }
        }

        return found;
    }

    public override long PointReadsByStream(Dataset data, int[] indexes) => Wait(PointReadsByStreamAsync(data, indexes));

    private async Task<long> PointReadsByStreamAsync(Dataset data, int[] indexes)
    {
        await using var query = Store.QuerySession();
        long found = 0;
        foreach (int i in indexes)
        {
            long version = data.SequenceOf[i] + 1; // Marten's stream versions start at 1
            var events = await query.Events.FetchStreamAsync(data.Entities[data.EntityOf[i]], version: version, fromVersion: version).ConfigureAwait(false);
            if (events.Count == 1 && events[0].Data is MartenDeposit deposit && deposit.Payload.Length == data.PayloadLengths[i])
            {
                found++;
            }
        }

        return found;
    }

    public override long ReadAllStreams(Dataset data) => Wait(FoldAsync(data, null));

    public override long FoldAll(Dataset data, long[] sums) => Wait(FoldAsync(data, sums));

    /// <summary>W4 (no <paramref name="sums"/>) and W7: one <c>FetchStreamAsync</c> per entity.</summary>
    private async Task<long> FoldAsync(Dataset data, long[]? sums)
    {
        await using var query = Store.QuerySession();
        long read = 0;
        for (int e = 0; e < data.EntityCount; e++)
        {
            var events = await query.Events.FetchStreamAsync(data.Entities[e]).ConfigureAwait(false);
            long sum = 0;
            foreach (var stored in events)
            {
                byte[] payload = ((MartenDeposit)stored.Data).Payload;
                if (sums is not null)
                {
                    sum += Dataset.ReadAmount(payload);
                }

                read++;
            }

            if (sums is not null)
            {
                sums[e] = sum;
            }
        }

        return read;
    }

    public override long QueryScope(string scope) => throw new NotSupportedException(NotApplicableReason(Workload.W5Scope));

    public override long QueryKind(ushort kind) => throw new NotSupportedException(NotApplicableReason(Workload.W5Kind));

    public override long ReopenProbe(string directory, Dataset? data) =>
        throw new NotSupportedException(NotApplicableReason(Workload.W6Reopen));

    public override void Close()
    {
        _store?.Dispose();
        _store = null;
    }
}
