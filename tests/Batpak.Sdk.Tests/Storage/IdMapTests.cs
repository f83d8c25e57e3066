using Batpak.Storage;

namespace Batpak.Tests.Storage;

public class IdMapTests
{
    private static EventId Id(long ms, ulong counter) => EventIdGenerator.Pack(ms, counter);

    [Fact]
    public void SetAndTryGet_ThroughManyGrowths_FindEveryIdAndNoOther()
    {
        using var map = new IdMap();
        // Ids as the store makes them: runs counting up inside a millisecond, then a jump.
        var ids = new List<EventId>();
        for (int ms = 0; ms < 200; ms++)
        {
            for (ulong c = 0; c < 500; c++)
            {
                ids.Add(Id(1_700_000_000_000 + ms, (ulong)ms * 7919 + c));
            }
        }

        for (int i = 0; i < ids.Count; i++)
        {
            map.Set(ids[i], i);
        }

        Assert.Equal(ids.Count, map.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            Assert.True(map.TryGet(ids[i], out int position));
            Assert.Equal(i, position);
        }

        Assert.False(map.TryGet(Id(1_600_000_000_000, 1), out _));
        Assert.False(map.TryGet(EventId.Empty, out _));
    }

    [Fact]
    public void Set_AnExistingId_ReplacesItsPosition()
    {
        using var map = new IdMap();
        EventId id = Id(1, 1);
        map.Set(id, 3);
        map.Set(id, 9);
        Assert.Equal(1, map.Count);
        Assert.True(map.TryGet(id, out int position));
        Assert.Equal(9, position);
    }

    [Fact]
    public void Remove_LeavesOtherIdsOfTheSameProbeRunFindable()
    {
        using var map = new IdMap();
        var ids = Enumerable.Range(0, 3000).Select(i => Id(5, (ulong)i)).ToArray();
        for (int i = 0; i < ids.Length; i++)
        {
            map.Set(ids[i], i);
        }

        for (int i = 0; i < ids.Length; i += 2)
        {
            Assert.True(map.Remove(ids[i]));
        }

        Assert.False(map.Remove(ids[0]));
        Assert.Equal(1500, map.Count);
        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(i % 2 == 1, map.TryGet(ids[i], out int position));
            if (i % 2 == 1)
            {
                Assert.Equal(i, position);
            }
        }

        // Re-adding after removals (tombstones swept by growth) works and keeps the others.
        for (int i = 0; i < ids.Length; i += 2)
        {
            map.Set(ids[i], i + 100_000);
        }

        Assert.Equal(3000, map.Count);
        Assert.True(map.TryGet(ids[10], out int readded));
        Assert.Equal(100_010, readded);
    }

    [Fact]
    public void Set_AfterRemove_BringsTheIdBackInItsOwnSlot()
    {
        using var map = new IdMap();
        EventId id = Id(3, 3);
        map.Set(id, 1);
        Assert.True(map.Remove(id));
        Assert.False(map.TryGet(id, out _));
        map.Set(id, 2);
        Assert.True(map.TryGet(id, out int position));
        Assert.Equal(2, position);
        Assert.Equal(1, map.Count);
        Assert.True(map.Remove(id));
        Assert.Equal(0, map.Count);
    }

    [Fact]
    public void Churn_OfAddAndRemove_DoesNotGrowWithoutBound()
    {
        using var map = new IdMap();
        long bytes = map.Bytes;
        for (int i = 0; i < 50_000; i++)
        {
            EventId id = Id(9, (ulong)i);
            map.Set(id, i);
            map.Remove(id);
        }

        Assert.Equal(0, map.Count);
        Assert.Equal(bytes, map.Bytes); // same-size sweeps of tombstones, no doubling
    }

    [Fact]
    public void AfterDispose_LookUpsThrowObjectDisposed()
    {
        var map = new IdMap();
        map.Set(Id(1, 1), 0);
        map.Dispose();
        map.Dispose();
        Assert.Throws<ObjectDisposedException>(() => map.TryGet(Id(1, 1), out _));
        Assert.Throws<ObjectDisposedException>(() => map.Set(Id(1, 2), 1));
        Assert.Throws<ObjectDisposedException>(() => map.Remove(Id(1, 1)));
        Assert.Throws<ObjectDisposedException>(() => map.EnsureCapacity(10));
        Assert.Equal(0, map.Bytes);
    }

    [Fact]
    public void EnsureCapacity_PastTheCap_Throws_AndLeavesTheMapAsItWas()
    {
        Assert.Equal(805_306_368, IdMap.MaxCount); // 3/4 of 2^30 slots, as the native map allowed
        using var map = new IdMap();
        map.Set(Id(1, 1), 7);
        long bytes = map.Bytes;
        var error = Assert.Throws<InvalidOperationException>(() => map.EnsureCapacity(IdMap.MaxCount + 1));
        Assert.Contains("805306368", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => map.EnsureCapacity(int.MaxValue));
        Assert.True(map.TryGet(Id(1, 1), out int position)); // a refused growth leaves the map as it was
        Assert.Equal(7, position);
        Assert.Equal(bytes, map.Bytes);
    }

    [Fact]
    public void EnsureCapacity_SizesTheTableOnce_SoTheReservedIdsFitWithoutGrowing()
    {
        using var map = new IdMap();
        map.EnsureCapacity(100_000);
        long bytes = map.Bytes;
        Assert.Equal(262_144L * 20, bytes); // 100,000 * 4/3 rounded up to a power of two
        for (int i = 0; i < 100_000; i++)
        {
            map.Set(Id(2, (ulong)i), i);
        }

        Assert.Equal(bytes, map.Bytes);
        Assert.Equal(100_000, map.Count);
        map.EnsureCapacity(10); // never shrinks
        Assert.Equal(bytes, map.Bytes);
        Assert.True(map.TryGet(Id(2, 99_999), out int last));
        Assert.Equal(99_999, last);
    }
}
