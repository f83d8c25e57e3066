using Batpak.Storage;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Tests.Storage;

/// <summary>
/// The handle cache when the process runs out of file descriptors (simulated by the cache's opener: a budget of 1024
/// handles is the default now, and the application shares the descriptor limit): it closes the least recently used
/// half of the handles no read holds, lowers its budget, and the read goes on; a leased handle is never closed; a
/// missing file is not mistaken for exhaustion; a second refusal is thrown.
/// </summary>
public sealed class FileHandleCacheLimitTests
{
    /// <summary>An opener that refuses, as EMFILE would, whenever <paramref name="limit"/> handles it opened are still open.</summary>
    private static Func<string, SafeFileHandle> Limited(int limit, List<SafeFileHandle> opened) => path =>
    {
        lock (opened)
        {
            if (opened.Count(h => !h.IsClosed) >= limit)
            {
                throw new IOException("Too many open files");
            }

            SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            opened.Add(handle);
            return handle;
        }
    };

    private static TempDirectory Files(int count)
    {
        var dir = new TempDirectory();
        for (int i = 1; i <= count; i++)
        {
            File.WriteAllBytes(dir.Combine($"{i}"), [(byte)i]);
        }

        return dir;
    }

    private static byte ReadOne(FileHandleCache cache, int id)
    {
        using FileHandleCache.Lease lease = cache.Rent(id);
        byte[] one = new byte[1];
        Assert.Equal(1, RandomAccess.Read(lease.Handle, one, 0));
        return one[0];
    }

    [Fact]
    public void Rent_OutOfDescriptors_ClosesTheLruHalf_LowersTheBudget_AndEveryReadSucceeds()
    {
        using TempDirectory dir = Files(20);
        var opened = new List<SafeFileHandle>();
        using var cache = new FileHandleCache(1024, id => dir.Combine($"{id}"), open: Limited(8, opened));

        for (int round = 0; round < 3; round++)
        {
            for (int id = 1; id <= 20; id++)
            {
                Assert.Equal((byte)id, ReadOne(cache, id));
            }
        }

        Assert.True(cache.Budget < 8, $"budget {cache.Budget}");
        Assert.True(cache.Count <= cache.Budget, $"{cache.Count} cached, budget {cache.Budget}");
        Assert.True(opened.Count(h => !h.IsClosed) <= 8);
    }

    [Fact]
    public void Rent_OutOfDescriptors_NeverClosesALeasedHandle_AndThrowsWhenNothingCanBeClosed()
    {
        using TempDirectory dir = Files(4);
        var opened = new List<SafeFileHandle>();
        using var cache = new FileHandleCache(1024, id => dir.Combine($"{id}"), open: Limited(2, opened));
        using FileHandleCache.Lease first = cache.Rent(1);
        using FileHandleCache.Lease second = cache.Rent(2);

        var refused = Assert.Throws<IOException>(() => cache.Rent(3)); // both open handles are leased
        Assert.Equal("Too many open files", refused.Message);
        Assert.False(first.Handle.IsClosed);
        Assert.False(second.Handle.IsClosed);
        byte[] one = new byte[1];
        Assert.Equal(1, RandomAccess.Read(first.Handle, one, 0));
        Assert.Equal(1, one[0]);
    }

    [Fact]
    public void Rent_MissingFile_IsThrownAsIs_WithoutClosingCachedHandles()
    {
        using TempDirectory dir = Files(3);
        var opened = new List<SafeFileHandle>();
        using var cache = new FileHandleCache(1024, id => dir.Combine($"{id}"), open: Limited(100, opened));
        for (int id = 1; id <= 3; id++)
        {
            ReadOne(cache, id);
        }

        Assert.Throws<FileNotFoundException>(() => cache.Rent(9));
        Assert.Equal(3, cache.Count);
        Assert.Equal(1024, cache.Budget);
        Assert.All(opened, h => Assert.False(h.IsClosed));
    }
}
