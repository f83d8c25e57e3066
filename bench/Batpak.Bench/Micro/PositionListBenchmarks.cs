#if BATPAK_ENGINE
using Batpak.Storage;
using BenchmarkDotNet.Attributes;

namespace Batpak.Bench.Micro;

/// <summary>
/// The index's position lists: <see cref="NativeIntList"/> (native memory) against <see cref="PositionList"/> (one
/// managed array), shaped like the bench's data set: 10,000 entity lists of 100 positions each, filled round-robin
/// (as appends and recovery fill them) and read back list by list (as W4 reads entity streams). Reported per position.
/// Run: <c>dotnet run -c Release --project bench/Batpak.Bench -- micro --filter *PositionListBenchmarks* --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class PositionListBenchmarks : IDisposable
{
    private const int Lists = 10_000;
    private const int PerList = 100;
    private const int Positions = Lists * PerList;
    private NativeIntList[] _native = [];
    private PositionList[] _managed = [];

    [GlobalSetup]
    public void Setup()
    {
        _native = FillNative();
        _managed = FillManaged();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        Free(_native);
        GC.SuppressFinalize(this);
    }

    [BenchmarkCategory("add"), Benchmark(Description = "NativeIntList.Add, round-robin over 10,000 lists", Baseline = true, OperationsPerInvoke = Positions)]
    public int NativeAdd() => Free(FillNative());

    [BenchmarkCategory("add"), Benchmark(Description = "PositionList.Add, round-robin over 10,000 lists", OperationsPerInvoke = Positions)]
    public int ManagedAdd() => FillManaged().Length;

    [BenchmarkCategory("read"), Benchmark(Description = "NativeIntList indexer, list by list", OperationsPerInvoke = Positions)]
    public long NativeRead()
    {
        long sum = 0;
        foreach (NativeIntList list in _native)
        {
            for (int i = 0; i < list.Count; i++)
            {
                sum += list[i];
            }
        }

        return sum;
    }

    [BenchmarkCategory("read"), Benchmark(Description = "PositionList indexer, list by list", OperationsPerInvoke = Positions)]
    public long ManagedRead()
    {
        long sum = 0;
        foreach (PositionList list in _managed)
        {
            for (int i = 0; i < list.Count; i++)
            {
                sum += list[i];
            }
        }

        return sum;
    }

    // Two copies of one loop, so that neither pays a delegate call per position.
    private static NativeIntList[] FillNative()
    {
        NativeIntList[] lists = [.. Enumerable.Range(0, Lists).Select(static _ => new NativeIntList())];
        for (int position = 0; position < Positions; position++)
        {
            lists[position % Lists].Add(position);
        }

        return lists;
    }

    private static PositionList[] FillManaged()
    {
        PositionList[] lists = [.. Enumerable.Range(0, Lists).Select(static _ => new PositionList())];
        for (int position = 0; position < Positions; position++)
        {
            lists[position % Lists].Add(position);
        }

        return lists;
    }

    private static int Free(NativeIntList[] lists)
    {
        foreach (NativeIntList list in lists)
        {
            list.Free();
        }

        return lists.Length;
    }
}
#endif
