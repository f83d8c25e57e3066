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

    [Fact]
    public void TryGetMapped_SealedSegment_SpansTheFileAndRefusesEveryRangeOutsideIt()
    {
        using var dir = new TempDirectory();
        byte[] bytes = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        File.WriteAllBytes(dir.Combine("1"), bytes);
        using var cache = new FileHandleCache(2, id => dir.Combine($"{id}"), isSealed: _ => true);
        using FileHandleCache.Lease lease = cache.Rent(1);

        Assert.True(lease.TryGetMapped(10, 5, out ReadOnlySpan<byte> span));
        Assert.Equal(bytes.AsSpan(10, 5).ToArray(), span.ToArray());
        Assert.True(lease.TryGetMapped(0, 100, out span));
        Assert.Equal(bytes, span.ToArray());
        Assert.True(lease.TryGetMapped(100, 0, out span));
        Assert.Equal(0, span.Length);

        (long Offset, int Length)[] outside = [(1, 100), (99, 2), (101, 0), (-1, 1), (-1, 0), (5, -1), (long.MaxValue, 1), (long.MaxValue - 1, int.MaxValue), (50, int.MaxValue), (long.MinValue, 10)];
        foreach ((long offset, int length) in outside)
        {
            Assert.False(lease.TryGetMapped(offset, length, out span), $"({offset}, {length}) lies outside the 100-byte file");
            Assert.Equal(0, span.Length);
        }

        byte[] copy = new byte[7];
        lease.ReadExactly(copy, 93, 1); // ReadExactly reads through the mapping too
        Assert.Equal(bytes.AsSpan(93, 7).ToArray(), copy);
    }

    [Fact]
    public void TryGetMapped_UnsealedOrEmptySegment_IsFalse_AndReadExactlyStillReads()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("1"), [1, 2, 3, 4]);
        File.WriteAllBytes(dir.Combine("2"), []);
        using var cache = new FileHandleCache(4, id => dir.Combine($"{id}"), isSealed: id => id == 2);
        using (FileHandleCache.Lease active = cache.Rent(1))
        {
            Assert.False(active.TryGetMapped(0, 4, out _));
            byte[] read = new byte[3];
            active.ReadExactly(read, 1, 1);
            Assert.Equal(new byte[] { 2, 3, 4 }, read);
        }

        using FileHandleCache.Lease empty = cache.Rent(2);
        Assert.False(empty.TryGetMapped(0, 0, out _));
    }

    [Fact]
    public void TryGetMapped_SegmentEvictedWhileLeased_StaysReadableUntilTheLeaseReturns()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("1"), [7, 8, 9]);
        using var cache = new FileHandleCache(1, id => dir.Combine($"{id}"), isSealed: _ => true);
        FileHandleCache.Lease lease = cache.Rent(1);
        cache.Evict(1);
        File.WriteAllBytes(dir.Combine("2"), [1]);
        cache.Rent(2).Dispose(); // the budget of one is taken by another segment
        Assert.True(lease.TryGetMapped(0, 3, out ReadOnlySpan<byte> span));
        Assert.Equal(new byte[] { 7, 8, 9 }, span.ToArray());
        lease.Dispose();
        Assert.True(lease.Handle.IsClosed);
    }

    /// <summary>A cache with a budget of one over segment 1, a file of <paramref name="bytes"/>.</summary>
    private static FileHandleCache CacheOfOneFile(TempDirectory dir, byte[] bytes)
    {
        File.WriteAllBytes(dir.Combine("1"), bytes);
        return new FileHandleCache(1, id => dir.Combine($"{id}"));
    }

    [Fact]
    public void Dispose_OfALeaseAndThenOfItsCopy_ReturnsOnce_SoTheNodeStaysOpenForAnotherLease()
    {
        using var dir = new TempDirectory();
        using FileHandleCache cache = CacheOfOneFile(dir, [5, 6]);
        FileHandleCache.Lease first = cache.Rent(1);
        FileHandleCache.Lease other = cache.Rent(1);
        FileHandleCache.Lease copy = first;
        first.Dispose();
        copy.Dispose(); // a second return of the same lease: must not take the other lease's count
        first.Dispose();
        cache.Evict(1);
        Assert.False(other.Handle.IsClosed);
        byte[] read = new byte[2];
        Assert.Equal(2, RandomAccess.Read(other.Handle, read, 0));
        Assert.Equal(new byte[] { 5, 6 }, read);
        other.Dispose();
        Assert.True(other.Handle.IsClosed);
    }

    [Fact]
    public void Release_IsTrueOnceForALeaseAndAllItsCopies_AndFalseForDefault()
    {
        using var dir = new TempDirectory();
        using FileHandleCache cache = CacheOfOneFile(dir, [1]);
        FileHandleCache.Lease lease = cache.Rent(1);
        FileHandleCache.Lease copy = lease;
        Assert.True(copy.Release());
        Assert.False(lease.Release());
        Assert.False(copy.Release());
        Assert.False(default(FileHandleCache.Lease).Release());
        default(FileHandleCache.Lease).Dispose();
        cache.Evict(1); // the count is back at exactly 0, so eviction closes the handle
        Assert.True(lease.Handle.IsClosed);
    }

    [Fact]
    public void Dispose_OfAStaleCopy_AfterItsTicketServesANewLease_DoesNotReturnTheNewLease()
    {
        using var dir = new TempDirectory();
        using FileHandleCache cache = CacheOfOneFile(dir, [1]);
        FileHandleCache.Lease old = cache.Rent(1);
        FileHandleCache.Lease stale = old;
        old.Dispose();
        FileHandleCache.Lease current = cache.Rent(1); // same thread: reuses the ticket the old lease returned
        stale.Dispose();
        Assert.False(stale.Release());
        cache.Evict(1);
        Assert.False(current.Handle.IsClosed);
        Assert.True(current.Release());
        Assert.True(current.Handle.IsClosed);
    }

    [Fact]
    public void Release_OfOneLeaseFromManyThreadsAtOnce_ReturnsItExactlyOnce()
    {
        using var dir = new TempDirectory();
        using FileHandleCache cache = CacheOfOneFile(dir, [1]);
        for (int round = 0; round < 200; round++)
        {
            FileHandleCache.Lease lease = cache.Rent(1);
            FileHandleCache.Lease held = cache.Rent(1);
            using var start = new Barrier(4);
            int returned = 0;
            Thread[] threads = [.. Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                FileHandleCache.Lease copy = lease;
                start.SignalAndWait();
                if (copy.Release())
                {
                    Interlocked.Increment(ref returned);
                }
            }))];
            foreach (Thread thread in threads)
            {
                thread.Start();
            }

            foreach (Thread thread in threads)
            {
                thread.Join();
            }

            Assert.Equal(1, returned);
            held.Dispose(); // the count reaches exactly 0 again: the next round's rent is a hit
        }

        FileHandleCache.Lease last = cache.Rent(1);
        Assert.Equal(1, cache.Opens); // every rent was a hit: no extra return ever closed the node
        last.Dispose();
        cache.Evict(1);
        Assert.True(last.Handle.IsClosed); // and the count was back at exactly 0, so eviction closed it
    }

    [Fact]
    public void Rent_AHitGetsASecondChance_TheUnreferencedNodeIsEvictedInstead()
    {
        using var dir = new TempDirectory();
        for (int i = 1; i <= 4; i++)
        {
            File.WriteAllBytes(dir.Combine($"{i}"), [(byte)i]);
        }

        using var cache = new FileHandleCache(3, id => dir.Combine($"{id}"));
        cache.Rent(1).Dispose();
        cache.Rent(2).Dispose();
        cache.Rent(3).Dispose();
        cache.Rent(1).Dispose(); // a hit: 1 is the oldest but referenced
        cache.Rent(4).Dispose(); // evicts 2, the oldest without a second chance
        long opens = cache.Opens;
        cache.Rent(1).Dispose();
        cache.Rent(3).Dispose();
        Assert.Equal(opens, cache.Opens);
        cache.Rent(2).Dispose();
        Assert.Equal(opens + 1, cache.Opens);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Rent_ConcurrentReadersWithEvictionsAndCompactionEvicts_NeverUseAClosedHandle(bool mapped)
    {
        using var dir = new TempDirectory();
        const int Files = 6;
        for (int i = 1; i <= Files; i++)
        {
            File.WriteAllBytes(dir.Combine($"{i}"), Enumerable.Repeat((byte)i, 4096).ToArray());
        }

        var cache = new FileHandleCache(2, id => dir.Combine($"{id}"), isSealed: _ => mapped);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        long reads = 0;
        Task[] readers = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var random = new Random(t);
            byte[] one = new byte[16];
            while (!stop.IsCancellationRequested)
            {
                int id = 1 + random.Next(Files);
                using FileHandleCache.Lease lease = cache.Rent(id);
                if (mapped)
                {
                    Assert.True(lease.TryGetMapped(random.Next(4000), 16, out ReadOnlySpan<byte> span));
                    Assert.Equal((byte)id, span[15]);
                }
                else
                {
                    Assert.Equal(16, RandomAccess.Read(lease.Handle, one, random.Next(4000)));
                    Assert.Equal((byte)id, one[15]);
                }

                Interlocked.Increment(ref reads);
            }
        })).ToArray();
        Task evictor = Task.Run(() =>
        {
            var random = new Random(99);
            while (!stop.IsCancellationRequested)
            {
                cache.Evict(1 + random.Next(Files));
                Thread.Yield();
            }
        });

        await Task.WhenAll([.. readers, evictor]);
        Assert.True(reads > 1000, $"only {reads} reads ran");
        Assert.InRange(cache.Count, 0, 2);
        cache.Dispose();
        Assert.Equal(0, cache.Count);
        Assert.Throws<ObjectDisposedException>(() => cache.Rent(1));
    }
}
