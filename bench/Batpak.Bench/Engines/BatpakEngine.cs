namespace Batpak.Bench.Engines;

/// <summary>
/// The embedded Batpak store (a data directory) under the <see cref="EventStoreEngine"/> workloads: W1 is one
/// AppendBatch of 1,000 per commit (the counterpart of SQLite's transaction per 1,000 rows), W2 durable AppendAsync
/// with group commit. This class only creates, opens and reopens the store.
/// </summary>
/// <remarks>
/// Only <see cref="CreateStore"/> names the concrete <c>EventStore</c>; it lives in
/// BatpakEngine.Factory.cs, compiled only when src/Batpak.Sdk/Store/EventStore.cs exists (BATPAK_ENGINE).
/// </remarks>
internal sealed partial class BatpakEngine(bool chainKey = false) : EventStoreEngine
{
    /// <summary>The fixed 32-byte <see cref="BatpakOptions.ChainKey"/> of <c>--chain-key</c> runs (bytes 1..32; a bench needs no secret).</summary>
    public static ReadOnlySpan<byte> BenchChainKey =>
    [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    ];

    private readonly byte[]? _chainKey = chainKey ? BenchChainKey.ToArray() : null;
    public override string Name => "Batpak";

    public override string Key => "batpak";

    public override string Settings => "Batpak.Sdk EventStore, SyncMode=Data (fdatasync), W1 one AppendBatch of 1000 per commit (SyncEveryNEvents=1000), W2 AppendAsync (durable, group commit), "
        + (_chainKey is null ? "SHA-256 hash chain" : "keyed hash chain (HMAC-SHA256, 32-byte BatpakOptions.ChainKey)") + " + CRC-32 per frame";

    /// <summary><see langword="true"/> when this build contains the engine (EventStore.cs was in the tree).</summary>
    public static bool IsAvailable => CreateStoreImpl is not null;

    public override string? UnavailableReason => IsAvailable ? null : "EventStore is not in this build (src/Batpak.Sdk/Store/EventStore.cs missing at build time)";

    private static partial Func<BatpakOptions, IEventStore>? CreateStoreImpl { get; }

    private static IEventStore CreateStore(BatpakOptions options) =>
        (CreateStoreImpl ?? throw new InvalidOperationException("This build has no EventStore (src/Batpak.Sdk/Store/EventStore.cs was missing at build time)."))(options);

    /// <summary>Opens the existing store in <paramref name="directory"/> (what <c>EventStore.Open(directory)</c> does, plus the chain key).</summary>
    private IEventStore OpenStore(string directory) => CreateStore(new BatpakOptions { DataDirectory = directory, ChainKey = _chainKey });

    public override void CreateForAppend(string directory, int syncEvery) =>
        Store = CreateStore(new BatpakOptions { DataDirectory = directory, SyncEveryNEvents = syncEvery, ChainKey = _chainKey });

    public override void CreateForDurable(string directory) =>
        Store = CreateStore(new BatpakOptions { DataDirectory = directory, ChainKey = _chainKey });

    public override void OpenExisting(string directory) => Store = OpenStore(directory);

    public override long ReopenProbe(string directory, Dataset? data)
    {
        Store = OpenStore(directory);
        return Store.GetStats().EventCount;
    }

    /// <summary>The segment files against everything else in the store directory.</summary>
    public override (long Log, long Other)? SplitBytes(string directory)
    {
        long all = DirectoryBytes(directory);
        long segments = Directory.Exists(directory) ? new DirectoryInfo(directory).EnumerateFiles("*" + Batpak.Storage.FrameFormat.SegmentExtension).Sum(f => f.Length) : 0;
        return (segments, all - segments);
    }

    public override string? DescribeOpen() => OpenStoreOrNull?.GetStats() is { } stats
        ? $"{stats.SegmentCount} segments; recovery decoded every frame of {stats.Recovery.SegmentsScanned} segments (no sidecar index)"
        : null;
}
