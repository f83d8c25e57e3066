#if BATPAK_ENGINE
using System.Security.Cryptography;
using Batpak.Storage;
using BenchmarkDotNet.Attributes;

namespace Batpak.Bench.Micro;

/// <summary>
/// Single append through the public API (one caller, no fsync per append: SyncEveryNEvents = 1,000), with the
/// allocation per append reported by <see cref="MemoryDiagnoserAttribute"/>. The payload is allocated once.
/// Run: <c>dotnet run -c Release --project bench/Batpak.Bench -- micro --filter *AppendBenchmarks* --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class AppendBenchmarks : StoreBenchmark
{
    private Coordinate _coordinate;
    private readonly EventKind _kind = EventKind.Create(0x1, 0x001);
    private byte[] _payload = [];

    [GlobalSetup]
    public void Setup()
    {
        OpenStore();
        _coordinate = new Coordinate("acct:1", "tenant:1");
        _payload = Dataset.Generate(1, 1, 1, 200, 42).Payloads[0];
    }

    [Benchmark(Description = "EventStore.Append (200 B payload)")]
    public long Append() => Store.Append(in _coordinate, _kind, _payload).GlobalSequence;
}

/// <summary>
/// One atomic batch of 100 events over 100 existing entities into a reused receipts array (the W1 path), with the
/// allocation per batch reported by <see cref="MemoryDiagnoserAttribute"/>: divide by 100 for the allocation per append.
/// </summary>
[MemoryDiagnoser]
public class AppendBatchBenchmarks : StoreBenchmark
{
    private const int BatchSize = 100;
    private readonly EventData[] _batch = new EventData[BatchSize];
    private readonly AppendReceipt[] _receipts = new AppendReceipt[BatchSize];

    [GlobalSetup]
    public void Setup()
    {
        OpenStore();
        byte[] payload = Dataset.Generate(1, 1, 1, 200, 42).Payloads[0];
        EventKind kind = EventKind.Create(0x1, 0x001);
        for (int i = 0; i < BatchSize; i++)
        {
            _batch[i] = new EventData(new Coordinate($"acct:{i}", $"tenant:{i % 10}"), kind, payload);
        }

        Store.AppendBatch(_batch, _receipts); // the entities exist before measuring
    }

    [Benchmark(Description = "EventStore.AppendBatch into a span (100 x 200 B)")]
    public long AppendBatch()
    {
        Store.AppendBatch(_batch, _receipts);
        return _receipts[BatchSize - 1].GlobalSequence;
    }
}

/// <summary>
/// A store in a fresh temporary directory (SyncEveryNEvents = 1,000), deleted after the run; <see cref="Keyed"/> opens
/// it with the bench's fixed 32-byte <see cref="BatpakOptions.ChainKey"/> (HMAC-SHA256 chains).
/// </summary>
public abstract class StoreBenchmark : IDisposable
{
    private string _directory = "";
    private EventStore? _store;

    /// <summary>Open the store with <see cref="Engines.BatpakEngine.BenchChainKey"/> as its chain key.</summary>
    [Params(false, true)]
    public bool Keyed { get; set; }

    protected EventStore Store => _store ?? throw new InvalidOperationException("The store is not open (GlobalSetup did not run).");

    protected void OpenStore()
    {
        _directory = MicroDirectory.NewPath();
        _store = new EventStore(new BatpakOptions { DataDirectory = _directory, SyncEveryNEvents = 1000, ChainKey = Keyed ? Engines.BatpakEngine.BenchChainKey.ToArray() : null });
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _store?.Dispose();
        _store = null;
        MicroDirectory.Delete(_directory);
        GC.SuppressFinalize(this);
    }
}

/// <summary>The temporary directories of the micro-benchmarks: a fresh path under the temp folder, deleted after the run.</summary>
internal static class MicroDirectory
{
    public static string NewPath() => Path.Combine(Path.GetTempPath(), "batpak-micro-" + Guid.NewGuid().ToString("N"));

    public static void Delete(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

/// <summary>Encoding one frame (MessagePack body + CRC-32) into a reused pooled buffer, and the chain link: SHA-256, or HMAC-SHA256 under a 32-byte key.</summary>
[MemoryDiagnoser]
public class FrameEncodeBenchmarks : IDisposable
{
    private readonly PooledBufferWriter _writer = new();
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Engines.BatpakEngine.BenchChainKey);
    private FrameFormat.FrameFields _fields;
    private byte[] _payload = [];

    [GlobalSetup]
    public void Setup()
    {
        _payload = Dataset.Generate(1, 1, 1, 200, 42).Payloads[0];
        var id = EventId.FromGuid(Guid.CreateVersion7());
        _fields = new FrameFormat.FrameFields
        {
            GlobalSequence = 123_456,
            EventId = id,
            CorrelationId = id,
            TimestampMicroseconds = 1_700_000_000_000_000,
            WallMilliseconds = 1_700_000_000_000,
            EntitySequence = 42,
            Kind = EventKind.Create(0x1, 0x001).Value,
            Entity = "acct:1",
            Scope = "tenant:1",
        };
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _writer.Dispose();
        _sha.Dispose();
        _hmac.Dispose();
    }

    [Benchmark(Description = "FrameFormat.WriteFrame (200 B payload)")]
    public int WriteFrame()
    {
        _writer.Reset();
        return FrameFormat.WriteFrame(_writer, in _fields, _payload);
    }

    [Benchmark(Description = "FrameFormat.ComputeHash (SHA-256 link)")]
    public EventHash ComputeHash() => FrameFormat.ComputeHash(_sha, in _fields, _payload);

    [Benchmark(Description = "FrameFormat.ComputeHash (HMAC-SHA256 link, 32-byte key)")]
    public EventHash ComputeHashKeyed() => FrameFormat.ComputeHash(_hmac, in _fields, _payload);
}

/// <summary>
/// The global chain's share of an append (format 2): one 32-byte copy per event and one block digest per
/// <see cref="GlobalChain.BlockSize"/> events, measured over whole blocks and reported per event.
/// </summary>
[MemoryDiagnoser]
public class GlobalChainBenchmarks : IDisposable
{
    private GlobalChain? _chain;
    private EventHash _hash;

    [Params(false, true)]
    public bool Keyed { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _chain = new GlobalChain(Keyed ? Engines.BatpakEngine.BenchChainKey.ToArray() : null);
        _hash = EventHash.FromBytes(SHA256.HashData("batpak bench"u8));
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _chain?.Dispose();
        _chain = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark(Description = "GlobalChain.Add (per event, one block digest per 1,024)", OperationsPerInvoke = GlobalChain.BlockSize)]
    public long Add()
    {
        GlobalChain chain = _chain!;
        for (int i = 0; i < GlobalChain.BlockSize; i++)
        {
            chain.Add(in _hash);
        }

        return chain.Next;
    }
}
#endif
