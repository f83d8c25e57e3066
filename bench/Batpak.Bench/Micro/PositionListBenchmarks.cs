#if BATPAK_ENGINE
using Batpak.Storage;
using BenchmarkDotNet.Attributes;

namespace Batpak.Bench.Micro;

/// <summary>
/// The index's position lists (<see cref="PositionList"/>), shaped like the bench's data set: 10,000 entity lists of
/// 100 positions each, filled round-robin (as appends and recovery fill them) and read back list by list (as W4 reads
/// entity streams). Reported per position. Issue 12 measured this list against the native-memory list it replaced:
/// bench/RESULTS.md has the figures and the commit of that comparison.
/// Run: <c>dotnet run -c Release --project bench/Batpak.Bench -- micro --filter *PositionListBenchmarks* --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class PositionListBenchmarks
{
    private const int Lists = 10_000;
    private const int PerList = 100;
    private const int Positions = Lists * PerList;
    private PositionList[] _lists = [];

    [GlobalSetup]
    public void Setup() => _lists = Fill();

    [Benchmark(Description = "PositionList.Add, round-robin over 10,000 lists", OperationsPerInvoke = Positions)]
    public int Add() => Fill().Length;

    [Benchmark(Description = "PositionList indexer, list by list", OperationsPerInvoke = Positions)]
    public long Read()
    {
        long sum = 0;
        foreach (PositionList list in _lists)
        {
            for (int i = 0; i < list.Count; i++)
            {
                sum += list[i];
            }
        }

        return sum;
    }

    private static PositionList[] Fill()
    {
        PositionList[] lists = [.. Enumerable.Range(0, Lists).Select(static _ => new PositionList())];
        for (int position = 0; position < Positions; position++)
        {
            lists[position % Lists].Add(position);
        }

        return lists;
    }
}
#endif
