using Batpak.Storage;

namespace Batpak.Tests.Storage;

public class FileHandleCacheTests
{
    [Fact]
    public void Rent_BeyondBudget_EvictsLeastRecentlyUsed()
    {
        using var dir = new TempDirectory();
        for (int i = 1; i <= 3; i++)
        {
            File.WriteAllBytes(dir.Combine($"{i}"), [(byte)i]);
        }

        using var cache = new FileHandleCache(2, id => dir.Combine($"{id}"));
        cache.Rent(1).Dispose();
        cache.Rent(2).Dispose();
        cache.Rent(1).Dispose(); // 1 is now most recent; 2 is the LRU
        cache.Rent(3).Dispose(); // evicts 2
        Assert.Equal(2, cache.Count);
        long opens = cache.Opens;
        cache.Rent(1).Dispose();
        Assert.Equal(opens, cache.Opens); // still cached
        cache.Rent(2).Dispose();
        Assert.Equal(opens + 1, cache.Opens); // was evicted, reopened
    }

    [Fact]
    public void Evict_WhileLeased_KeepsTheHandleUsableUntilReturned()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("1"), [42]);
        using var cache = new FileHandleCache(1, id => dir.Combine($"{id}"));
        FileHandleCache.Lease lease = cache.Rent(1);
        cache.Evict(1);
        Assert.Equal(0, cache.Count);
        byte[] one = new byte[1];
        Assert.Equal(1, RandomAccess.Read(lease.Handle, one, 0));
        Assert.Equal(42, one[0]);
        lease.Dispose();
        Assert.True(lease.Handle.IsClosed);
    }
}
