using Batpak.Storage;

namespace Batpak.Tests.Storage;

public class NativeIdMapTests
{
    private static EventId Id(long ms, ulong counter) => EventIdGenerator.Pack(ms, counter);

    [Fact]
    public void SetAndTryGet_ThroughManyGrowths_FindEveryIdAndNoOther()
    {
        using var map = new NativeIdMap();
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
        using var map = new NativeIdMap();
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
        using var map = new NativeIdMap();
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
        using var map = new NativeIdMap();
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
        using var map = new NativeIdMap();
        long bytes = map.NativeBytes;
        for (int i = 0; i < 50_000; i++)
        {
            EventId id = Id(9, (ulong)i);
            map.Set(id, i);
            map.Remove(id);
        }

        Assert.Equal(0, map.Count);
        Assert.Equal(bytes, map.NativeBytes); // same-size sweeps of tombstones, no doubling
    }

    [Fact]
    public void AfterDispose_LookUpsThrowObjectDisposed()
    {
        var map = new NativeIdMap();
        map.Set(Id(1, 1), 0);
        map.Dispose();
        map.Dispose();
        Assert.Throws<ObjectDisposedException>(() => map.TryGet(Id(1, 1), out _));
    }
}

public class StoreIndexChainTests
{
    private static readonly Coordinate s_a = new("entity-a", "scope-1");
    private static readonly Coordinate s_b = new("entity-b", "scope-2");

    [Fact]
    public void Stream_FromEverySequence_OfALongInterleavedStream_StartsExactlyThere()
    {
        using var dir = new TempDirectory();
        using var store = TestEvents.Open(dir.Path);
        // 300 events of A (past several checkpoints) interleaved with B's.
        for (int i = 0; i < 300; i++)
        {
            store.Append(s_a, TestEvents.Created, TestEvents.Payload(i));
            store.Append(s_b, TestEvents.Updated, TestEvents.Payload(i));
        }

        foreach (long from in new long[] { 0, 1, 63, 64, 65, 127, 128, 200, 299, 300, 1000 })
        {
            long[] sequences = store.Stream(s_a.Entity, from).Select(e => e.Header.Position.Sequence).ToArray();
            Assert.Equal(Enumerable.Range((int)Math.Min(from, 300), (int)Math.Max(0, 300 - from)).Select(i => (long)i).ToArray(), sequences);
        }

        Assert.Equal(300, store.Read(Region.ForScope("scope-2")).Count());
        Assert.Equal(300, store.Read(Region.ForKind(TestEvents.Created)).Count());
        Assert.All(store.Read(Region.ForKind(TestEvents.Created)), e => Assert.Equal(s_a, e.Coordinate));
    }

    [Fact]
    public void Stream_AfterReopen_AndAfterRetentionDrop_SkipsDroppedAndKeepsOrder()
    {
        using var dir = new TempDirectory();
        using (var store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 16 * 1024))
        {
            for (int i = 0; i < 400; i++)
            {
                store.Append(s_a, i % 3 == 0 ? TestEvents.Audit : TestEvents.Created, TestEvents.Payload(i));
            }

            store.Sync();
            store.Compact(new CompactionOptions { Retain = e => e.Kind != TestEvents.Audit });
            long[] kept = store.Stream(s_a.Entity, 100).Select(e => e.Header.Position.Sequence).ToArray();
            Assert.NotEmpty(kept);
            Assert.All(kept, s => Assert.True(s >= 100));
            Assert.Equal(kept.OrderBy(s => s).ToArray(), kept);
        }

        using var reopened = TestEvents.Open(dir.Path);
        long[] all = reopened.Stream(s_a.Entity).Select(e => e.Header.Position.Sequence).ToArray();
        long[] from = reopened.Stream(s_a.Entity, 250).Select(e => e.Header.Position.Sequence).ToArray();
        Assert.Equal(all.Where(s => s >= 250).ToArray(), from);
        Assert.Equal(all.OrderBy(s => s).ToArray(), all);
    }

    [Fact]
    public void Read_AfterDispose_ThrowsObjectDisposed()
    {
        using var dir = new TempDirectory();
        var store = TestEvents.Open(dir.Path);
        AppendReceipt receipt = store.Append(s_a, TestEvents.Created, TestEvents.Payload(1));
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.Get(receipt.EventId));
        Assert.Throws<ObjectDisposedException>(() => store.Index.TryGet(receipt.EventId, out _, out _, out _));
    }
}
