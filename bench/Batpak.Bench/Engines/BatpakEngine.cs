namespace Batpak.Bench.Engines;

/// <summary>
/// Batpak through the public <see cref="IEventStore"/> contract. W1: one thread calling <see cref="IEventStore.AppendBatch(IReadOnlyList{EventData}, Span{AppendReceipt}, bool)"/>
/// with 1,000 events per atomic batch (the counterpart of SQLite's transaction per 1,000 rows), then <see cref="IEventStore.Sync"/>. W2: concurrent
/// <see cref="IEventStore.AppendAsync"/> loops (durable, group commit). Reads go through Get, Stream and Read(Region).
/// </summary>
/// <remarks>
/// Only <see cref="CreateStore"/> names the concrete <c>EventStore</c>; it lives in
/// BatpakEngine.Factory.cs, compiled only when src/Batpak.Sdk/Store/EventStore.cs exists (BATPAK_ENGINE).
/// </remarks>
internal sealed partial class BatpakEngine(bool chainKey = false) : BenchEngine
{
    /// <summary>The fixed 32-byte <see cref="BatpakOptions.ChainKey"/> of <c>--chain-key</c> runs (bytes 1..32; a bench needs no secret).</summary>
    public static ReadOnlySpan<byte> BenchChainKey =>
    [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    ];

    private readonly byte[]? _chainKey = chainKey ? BenchChainKey.ToArray() : null;
    private IEventStore? _store;
    private EventId[] _ids = [];

    public override string Name => "Batpak";

    public override string Key => "batpak";

    public override string Settings => "Batpak.Sdk EventStore, SyncMode=Data (fdatasync), W1 one AppendBatch of 1000 per commit (SyncEveryNEvents=1000), W2 AppendAsync (durable, group commit), "
        + (_chainKey is null ? "SHA-256 hash chain" : "keyed hash chain (HMAC-SHA256, 32-byte BatpakOptions.ChainKey)") + " + CRC-32 per frame";

    /// <summary><see langword="true"/> when this build contains the engine (EventStore.cs was in the tree).</summary>
    public static bool IsAvailable => CreateStoreImpl is not null;

    private static partial Func<BatpakOptions, IEventStore>? CreateStoreImpl { get; }

    private static IEventStore CreateStore(BatpakOptions options) =>
        (CreateStoreImpl ?? throw new InvalidOperationException("This build has no EventStore (src/Batpak.Sdk/Store/EventStore.cs was missing at build time)."))(options);

    /// <summary>Opens the existing store in <paramref name="directory"/> (what <c>EventStore.Open(directory)</c> does, plus the chain key).</summary>
    private IEventStore OpenStore(string directory) => CreateStore(new BatpakOptions { DataDirectory = directory, ChainKey = _chainKey });

    private IEventStore Store => _store ?? throw new InvalidOperationException("Store not open.");

    public override void CreateForAppend(string directory, int syncEvery) =>
        _store = CreateStore(new BatpakOptions { DataDirectory = directory, SyncEveryNEvents = syncEvery, ChainKey = _chainKey });

    public override void CreateForDurable(string directory) =>
        _store = CreateStore(new BatpakOptions { DataDirectory = directory, ChainKey = _chainKey });

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

    public override void OpenExisting(string directory) => _store = OpenStore(directory);

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

    public override long ReopenProbe(string directory, Dataset? data)
    {
        _store = OpenStore(directory);
        return _store.GetStats().EventCount;
    }

    public override string? DescribeOpen() => _store?.GetStats() is { } stats
        ? $"{stats.SegmentCount} segments; recovery decoded every frame of {stats.Recovery.SegmentsScanned} segments (no sidecar index)"
        : null;

    public override void Close()
    {
        _store?.Dispose();
        _store = null;
    }
}
