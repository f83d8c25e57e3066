namespace Batpak.Tests.Store;

public class AppendBatchTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_bob = new("acct:bob", "bank");

    private static EventData Data(Coordinate c, int n, AppendOptions? options = null) => new(c, TestEvents.Created, TestEvents.Payload(n), options);

    [Fact]
    public void AppendBatch_IntoASpan_ThroughTheInterfaceDefault_CopiesTheListReceipts_AndATooShortSpanThrowsNamingBothSizes()
    {
        using var dir = new TempDirectory();
        using EventStore real = TestEvents.Open(dir.Path);
        IEventStore store = new ForwardingEventStore(real); // no span form of its own: the interface default runs
        var receipts = new AppendReceipt[3];

        store.AppendBatch([Data(s_alice, 1), Data(s_alice, 2)], receipts);

        Assert.Equal(real.ReadPage(0).Events.Select(e => (e.Id, e.Header.Hash)), receipts.Take(2).Select(r => (r.EventId, r.Hash)));
        Assert.Equal(new long[] { 0, 1 }, receipts.Take(2).Select(r => r.EntitySequence));
        Assert.Equal(default, receipts[2]);
        var error = Assert.Throws<ArgumentException>(() => store.AppendBatch([Data(s_alice, 3), Data(s_bob, 4)], receipts.AsSpan(0, 1)));
        Assert.Equal("receipts", error.ParamName);
        Assert.Contains("1 receipts", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 events", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, real.GetStats().EventCount);
    }

    [Fact]
    public void Open_BatchWithTornLastFrame_DropsTheWholeBatch()
    {
        using var dir = new TempDirectory();
        IReadOnlyList<AppendReceipt> batch;
        AppendReceipt before;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            before = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0));
            batch = store.AppendBatch([Data(s_alice, 1), Data(s_bob, 2), Data(s_alice, 3)]);
        }

        AppendReceipt last = batch[^1];
        using (var stream = new FileStream(dir.Combine("000001.fbat"), FileMode.Open))
        {
            stream.SetLength(last.Position.Offset + 10);
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        RecoveryReport report = reopened.GetStats().Recovery;
        Assert.Equal(batch[0].Position.Offset, report.TruncatedAtOffset);
        Assert.Contains("atomic batch", report.TruncationReason, StringComparison.Ordinal);
        Assert.Equal(new[] { before.EventId }, reopened.ReadPage(0).Events.Select(e => e.Id));
        Assert.Equal(1, reopened.Append(s_bob, TestEvents.Created, TestEvents.Payload(5)).GlobalSequence);
    }

    [Fact]
    public void AppendBatch_NeverSpansSegments_AndABatchLargerThanASegmentThrowsArgumentException()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096);
        for (int i = 0; i < 8; i++)
        {
            store.Append(s_alice, TestEvents.Created, new byte[300]);
        }

        IReadOnlyList<AppendReceipt> receipts = store.AppendBatch(Enumerable.Range(0, 6).Select(i => new EventData(s_bob, TestEvents.Created, new byte[300])).ToArray());
        Assert.Single(receipts.Select(r => r.Position.SegmentId).Distinct());

        var ex = Assert.Throws<ArgumentException>(() => store.AppendBatch(Enumerable.Range(0, 20).Select(i => new EventData(s_bob, TestEvents.Created, new byte[300])).ToArray()));
        Assert.Contains("fit in one segment", ex.Message, StringComparison.Ordinal);
        Assert.Equal(14, store.GetStats().EventCount);
    }

    [Fact]
    public void AppendBatch_NonDurable_IssuesNoFsync_Durable_IssuesOne()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path, o => o.SyncEveryNEvents = 1_000_000);
        long before = store.GetStats().SyncCount;
        store.AppendBatch([Data(s_alice, 1), Data(s_bob, 2)]);
        Assert.Equal(before, store.GetStats().SyncCount);
        store.AppendBatch([Data(s_alice, 3)], durable: true);
        Assert.Equal(before + 1, store.GetStats().SyncCount);
    }
}
