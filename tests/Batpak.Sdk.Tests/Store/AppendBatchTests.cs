namespace Batpak.Tests.Store;

public class AppendBatchTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_bob = new("acct:bob", "bank");

    private static EventData Data(Coordinate c, int n, AppendOptions? options = null) => new(c, TestEvents.Created, TestEvents.Payload(n), options);

    [Fact]
    public void AppendBatch_WritesEveryEventInOrder_WithContiguousSequences()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0));

        IReadOnlyList<AppendReceipt> receipts = store.AppendBatch([Data(s_alice, 1), Data(s_bob, 2), Data(s_alice, 3, new AppendOptions { ExpectedSequence = 1 })]);

        Assert.Equal(new long[] { 1, 2, 3 }, receipts.Select(r => r.GlobalSequence));
        Assert.Equal(new long[] { 1, 0, 2 }, receipts.Select(r => r.EntitySequence));
        Assert.Equal(receipts.Select(r => r.EventId), store.ReadAll(1).Events.Select(e => e.Id));
        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, chain.Failure);
    }

    [Fact]
    public void AppendBatch_IntoASpan_FillsTheSameReceiptsAsTheListForm_AndChainsAcrossBatches()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var receipts = new AppendReceipt[4];
        EventData[] first = [Data(s_alice, 1), Data(s_bob, 2), Data(s_alice, 3)];
        store.AppendBatch(first, receipts);
        IReadOnlyList<AppendReceipt> second = store.AppendBatch([Data(s_alice, 4), Data(s_bob, 5)]);

        Assert.Equal(new long[] { 0, 1, 2 }, receipts.Take(3).Select(r => r.GlobalSequence));
        Assert.Equal(new long[] { 0, 0, 1 }, receipts.Take(3).Select(r => r.EntitySequence));
        Assert.Equal(default, receipts[3]); // past the batch: untouched
        Assert.Equal(new long[] { 2, 1 }, second.Select(r => r.EntitySequence));
        Assert.Equal(receipts.Take(3).Concat(second).Select(r => r.EventId), store.ReadAll(0).Events.Select(e => e.Id));
        Assert.Equal(receipts[2].Hash, store.Get(second[0].EventId).Header.PrevHash);
        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, chain.Failure);
    }

    [Fact]
    public void AppendBatch_IntoASpanTooShort_ThrowsNamingBothSizes_AndAppendsNothing()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var error = Assert.Throws<ArgumentException>(() => store.AppendBatch([Data(s_alice, 1), Data(s_bob, 2)], new AppendReceipt[1]));
        Assert.Equal("receipts", error.ParamName);
        Assert.Contains("1 receipts", error.Message);
        Assert.Contains("2 events", error.Message);
        Assert.Equal(0, store.GetStats().EventCount);
    }

    [Fact]
    public void AppendBatch_IntoASpan_ThroughTheInterfaceDefault_CopiesTheListReceipts()
    {
        IEventStore store = new InMemoryEventStore();
        var receipts = new AppendReceipt[2];
        store.AppendBatch([Data(s_alice, 1), Data(s_alice, 2)], receipts);
        Assert.Equal(new long[] { 0, 1 }, receipts.Select(r => r.EntitySequence));
        Assert.Throws<ArgumentException>(() => store.AppendBatch([Data(s_alice, 3)], Span<AppendReceipt>.Empty));
    }

    [Fact]
    public void AppendBatch_WithACause_GetsItsDepthAndCorrelation_AndAnUnknownCauseAppendsNothing()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt root = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0));
        IReadOnlyList<AppendReceipt> chain = store.AppendBatch([Data(s_bob, 1, new AppendOptions { CausationId = root.EventId })]);
        AppendReceipt grandchild = store.AppendReaction(chain[0].EventId, s_alice, TestEvents.Updated, TestEvents.Payload(2));
        EventHeader header = store.Get(grandchild.EventId).Header;
        Assert.Equal(2u, header.Position.Depth);
        Assert.Equal(root.EventId, header.CorrelationId);
        Assert.Throws<EventNotFoundException>(() => store.AppendBatch([Data(s_bob, 3), Data(s_bob, 4, new AppendOptions { CausationId = EventId.Parse("01900000-0000-7000-8000-000000000001") })]));
        Assert.Equal(3, store.GetStats().EventCount);
    }

    [Fact]
    public void AppendBatch_OneExpectedSequenceWrong_AppendsNothing()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var ex = Assert.Throws<SequenceMismatchException>(() =>
            store.AppendBatch([Data(s_alice, 1), Data(s_bob, 2), Data(s_alice, 3, new AppendOptions { ExpectedSequence = 5 })]));
        Assert.Equal(0, ex.Actual);
        Assert.Equal(0, store.GetStats().EventCount);
        Assert.Equal(0, store.Append(s_alice, TestEvents.Created, TestEvents.Payload(9)).GlobalSequence);
    }

    [Fact]
    public void AppendBatch_IdempotentRepeat_ReturnsTheOriginalReceipts()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        EventData[] batch = [Data(s_alice, 1, new AppendOptions { IdempotencyKey = "k1" }), Data(s_bob, 2, new AppendOptions { IdempotencyKey = "k2" })];
        IReadOnlyList<AppendReceipt> first = store.AppendBatch(batch);
        IReadOnlyList<AppendReceipt> again = store.AppendBatch(batch);
        Assert.Equal(first, again);
        Assert.Equal(2, store.GetStats().EventCount);

        IReadOnlyList<AppendReceipt> inner = store.AppendBatch([Data(s_alice, 3, new AppendOptions { IdempotencyKey = "k3" }), Data(s_alice, 3, new AppendOptions { IdempotencyKey = "k3" })]);
        Assert.Equal(inner[0], inner[1]);
        Assert.NotEqual(default, inner[0]);
        Assert.Equal(3, store.GetStats().EventCount);
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
        Assert.Equal(new[] { before.EventId }, reopened.ReadAll(0).Events.Select(e => e.Id));
        Assert.Equal(1, reopened.Append(s_bob, TestEvents.Created, TestEvents.Payload(5)).GlobalSequence);
    }

    [Fact]
    public void AppendBatch_NeverSpansSegments_AndRejectsBatchesLargerThanOne()
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
        Assert.Throws<ArgumentException>(() => store.AppendBatch([]));
    }

    [Fact]
    public void AppendBatch_Durable_Fsyncs()
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
