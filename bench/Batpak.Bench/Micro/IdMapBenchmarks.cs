#if BATPAK_ENGINE
using Batpak.Storage;
using BenchmarkDotNet.Attributes;

namespace Batpak.Bench.Micro;

/// <summary>
/// The index's id map (event id -> entry position), <see cref="IdMap"/>: look-ups and inserts. The ids are made the
/// way the store makes them (runs counting up within a millisecond from a random start, <see cref="Count"/> in all);
/// look-ups go in a shuffled order, as W3's point reads do, and are reported per look-up; an insert run fills a new
/// map with all <see cref="Count"/> ids and is reported per run. Issue 12 measured this map against the native-memory
/// map it replaced: bench/RESULTS.md has the figures and the commit of that comparison.
/// Run: <c>dotnet run -c Release --project bench/Batpak.Bench -- micro --filter *IdMapBenchmarks* --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class IdMapBenchmarks : IDisposable
{
    private EventId[] _ids = [];
    private EventId[] _shuffled = [];
    private EventId[] _missing = [];
    private IdMap? _map;
    private const int Batch = 1_000;
    private int _cursor;

    /// <summary>Ids in the map: one that fits the caches, and one of W3's size that does not.</summary>
    [Params(10_000, 1_000_000)]
    public int Count { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _ids = new EventId[Count];
        long ms = 1_700_000_000_000;
        UInt128 counter = 0;
        for (int i = 0; i < Count; i++)
        {
            if (i % 100 == 0)
            {
                ms++;
                counter = (UInt128)(ulong)random.NextInt64() << 8;
            }

            _ids[i] = EventIdGenerator.Pack(ms, counter++);
        }

        _shuffled = [.. _ids];
        random.Shuffle(_shuffled);
        _missing = [.. _shuffled.Select(static id => new EventId(id.Value ^ 1))];
        _map = new IdMap();
        for (int i = 0; i < Count; i++)
        {
            _map.Set(_ids[i], i);
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _map?.Dispose();
        _map = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>The next <see cref="Batch"/> ids of <paramref name="ids"/>, wrapping: successive calls walk the whole array, so a large map is read from memory, not from the caches.</summary>
    private ReadOnlySpan<EventId> Next(EventId[] ids)
    {
        if (_cursor + Batch > ids.Length)
        {
            _cursor = 0;
        }

        _cursor += Batch;
        return ids.AsSpan(_cursor - Batch, Batch);
    }

    [BenchmarkCategory("hit"), Benchmark(Description = "IdMap.TryGet, present id", OperationsPerInvoke = Batch)]
    public long Hit()
    {
        IdMap map = _map!;
        long sum = 0;
        foreach (EventId id in Next(_shuffled))
        {
            map.TryGet(id, out int position);
            sum += position;
        }

        return sum;
    }

    [BenchmarkCategory("miss"), Benchmark(Description = "IdMap.TryGet, absent id", OperationsPerInvoke = Batch)]
    public int Miss()
    {
        IdMap map = _map!;
        int found = 0;
        foreach (EventId id in Next(_missing))
        {
            found += map.TryGet(id, out _) ? 1 : 0;
        }

        return found;
    }

    /// <summary>Fills a new map from its smallest table, growing as it goes (recovery without a reservation).</summary>
    [BenchmarkCategory("insert"), Benchmark(Description = "IdMap.Set into a new map, Count ids (growth included)")]
    public int InsertGrowing() => Insert(new IdMap());

    /// <summary>Fills a new map sized for <see cref="Count"/> ids first (recovery reserves from the segments' sizes).</summary>
    [BenchmarkCategory("insert"), Benchmark(Description = "IdMap.Set into a reserved map, Count ids")]
    public int InsertReserved() => Insert(new IdMap(Count));

    private int Insert(IdMap map)
    {
        using (map)
        {
            for (int i = 0; i < _ids.Length; i++)
            {
                map.Set(_ids[i], i);
            }

            return map.Count;
        }
    }
}
#endif
