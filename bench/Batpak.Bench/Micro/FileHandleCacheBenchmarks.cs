#if BATPAK_ENGINE
using Batpak.Storage;
using BenchmarkDotNet.Attributes;

namespace Batpak.Bench.Micro;

/// <summary>
/// A point read's handle work, without the index and the frame: rent the lease of a cached sealed (mapped) segment,
/// take a span of 200 bytes from the mapping, return the lease. Reported per rent and return.
/// Run: <c>dotnet run -c Release --project bench/Batpak.Bench -- micro --filter *FileHandleCacheBenchmarks* --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class FileHandleCacheBenchmarks : IDisposable
{
    private const int Reads = 1_000;
    private string _directory = "";
    private FileHandleCache? _cache;

    [GlobalSetup]
    public void Setup()
    {
        _directory = MicroDirectory.NewPath();
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(Path.Combine(_directory, "1"), new byte[64 * 1024]);
        _cache = new FileHandleCache(4, id => Path.Combine(_directory, id.ToString(System.Globalization.CultureInfo.InvariantCulture)), isSealed: static _ => true);
        _cache.Rent(1).Dispose(); // opened and mapped before measuring: every rent below is a hit
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _cache?.Dispose();
        _cache = null;
        MicroDirectory.Delete(_directory);
        GC.SuppressFinalize(this);
    }

    [Benchmark(Description = "FileHandleCache.Rent (hit) + TryGetMapped + Dispose", OperationsPerInvoke = Reads)]
    public int RentReadReturn()
    {
        FileHandleCache cache = _cache!;
        int sum = 0;
        for (int i = 0; i < Reads; i++)
        {
            using FileHandleCache.Lease lease = cache.Rent(1);
            if (lease.TryGetMapped((i * 256) & 0xFFFF, 200, out ReadOnlySpan<byte> span))
            {
                sum += span[199];
            }
        }

        return sum;
    }
}
#endif
