using Batpak.Storage;

namespace Batpak.Tests.Storage;

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
