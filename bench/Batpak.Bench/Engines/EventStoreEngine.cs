namespace Batpak.Bench.Engines;

/// <summary>
/// The workloads of an engine used through the public <see cref="IEventStore"/> contract, shared by every Batpak
/// engine of the bench (the embedded <see cref="BatpakEngine"/>, and a PostgreSQL-backed Batpak store once it exists):
/// a subclass only opens and closes <see cref="Store"/>. W1: one thread calling
/// <see cref="IEventStore.AppendBatch(IReadOnlyList{EventData}, Span{AppendReceipt}, bool)"/> with 1,000 events per
/// atomic batch, then <see cref="IEventStore.Sync"/>. W2: concurrent <see cref="IEventStore.AppendAsync"/> loops
/// (durable). Reads go through TryGet, Stream (W3 by stream: Stream(entity, seq, 1)) and Read(Region).
/// </summary>
internal abstract class EventStoreEngine : BenchEngine
{
    private IEventStore? _store;
    private EventId[] _ids = [];

    /// <summary>The open store; set by the subclass's create/open methods, disposed by <see cref="Close"/>.</summary>
    protected IEventStore Store
    {
        get => _store ?? throw new InvalidOperationException("Store not open.");
        set => _store = value;
    }

    /// <summary>The open store, or null when none is open.</summary>
    protected IEventStore? OpenStoreOrNull => _store;

    private static Coordinate[] Coordinates(Dataset data)
    {
        var coordinates = new Coordinate[data.EntityCount];
        for (int e = 0; e < data.EntityCount; e++)
        {
            coordinates[e] = new Coordinate(data.Entities[e], data.Scopes[data.ScopeOfEntity(e)]);
        }

        return coordinates;
    }

    private static EventKind[] Kinds() => Dataset.KindValues.Select(EventKind.FromValue).ToArray();

    /// <summary>Coordinates and kinds are built before timing starts (an app holds them, too).</summary>
    private Coordinate[] _coordinates = [];
    private EventKind[] _kinds = [];

    public override void Prepare(Dataset data)
    {
        _coordinates = Coordinates(data);
        _kinds = Kinds();
        if (_ids.Length != data.Count)
        {
            _ids = new EventId[data.Count];
        }
    }

    public override void AppendAll(Dataset data, int syncEvery)
    {
        var store = Store;
        if (_coordinates.Length != data.EntityCount || _ids.Length != data.Count)
        {
            Prepare(data);
        }

        var coordinates = _coordinates;
        var kinds = _kinds;
        var ids = _ids;

        // Like SQLite's transaction of syncEvery rows: one atomic AppendBatch per syncEvery events.
        var batch = new EventData[Math.Min(syncEvery, data.Count)];
        var receipts = new AppendReceipt[batch.Length]; // the allocation-free AppendBatch overload fills it

        for (int start = 0; start < data.Count; start += batch.Length)
        {
            int count = Math.Min(batch.Length, data.Count - start);
            EventData[] chunk = count == batch.Length ? batch : new EventData[count];
            for (int j = 0; j < count; j++)
            {
                int i = start + j;
                chunk[j] = new EventData(coordinates[data.EntityOf[i]], kinds[data.KindOf[i]], data.Payloads[i]);
            }

            store.AppendBatch(chunk, receipts);
            for (int j = 0; j < count; j++)
            {
                ids[start + j] = receipts[j].EventId;
            }
        }

        store.Sync();
    }

    public override long AppendDurable(Dataset data, int count, int concurrency)
    {
        var store = Store;
        if (_coordinates.Length != data.EntityCount || _ids.Length != data.Count)
        {
            Prepare(data);
        }

        var coordinates = _coordinates;
        var kinds = _kinds;
        int next = -1;
        long acknowledged = 0;
        var tasks = new Task[concurrency];
        for (int t = 0; t < concurrency; t++)
        {
            tasks[t] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    await store.AppendAsync(coordinates[data.EntityOf[i]], kinds[data.KindOf[i]], data.Payloads[i]).ConfigureAwait(false);
                    Interlocked.Increment(ref acknowledged);
                }
            });
        }

        Task.WaitAll(tasks);
        return acknowledged;
    }

    public override long PointReads(Dataset data, int[] indexes)
    {
        var store = Store;
        var ids = _ids;
        long found = 0;
        foreach (int i in indexes)
        {
            if (store.TryGet(ids[i], out var stored) && stored.Payload.Length == data.PayloadLengths[i])
            {
                found++;
            }
        }

        return found;
    }

    public override long PointReadsByStream(Dataset data, int[] indexes)
    {
        var store = Store;
        long found = 0;
        foreach (int i in indexes)
        {
            foreach (var stored in store.Stream(data.Entities[data.EntityOf[i]], data.SequenceOf[i], 1))
            {
                if (stored.Payload.Length == data.PayloadLengths[i])
                {
                    found++;
                }

                break;
            }
        }

        return found;
    }

    public override long ReadAllStreams(Dataset data)
    {
        var store = Store;
        long read = 0;
        foreach (string entity in data.Entities)
        {
            foreach (var stored in store.Stream(entity))
            {
                _ = stored.Payload.Length;
                read++;
            }
        }

        return read;
    }

    public override long QueryScope(string scope)
    {
        long read = 0;
        foreach (var stored in Store.Read(Region.ForScope(scope)))
        {
            _ = stored.Payload.Length;
            read++;
        }

        return read;
    }

    public override long QueryKind(ushort kind)
    {
        long read = 0;
        foreach (var stored in Store.Read(Region.ForKind(EventKind.FromValue(kind))))
        {
            _ = stored.Payload.Length;
            read++;
        }

        return read;
    }

    public override long FoldAll(Dataset data, long[] sums)
    {
        var store = Store;
        long read = 0;
        for (int e = 0; e < data.EntityCount; e++)
        {
            long sum = 0;
            foreach (var stored in store.Stream(data.Entities[e]))
            {
                sum += Dataset.ReadAmount(stored.Payload.Span);
                read++;
            }

            sums[e] = sum;
        }

        return read;
    }

    public override void Close()
    {
        _store?.Dispose();
        _store = null;
    }
}
