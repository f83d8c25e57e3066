using System.Text;

namespace Batpak.Tests;

/// <summary>
/// The pipeline against the real <see cref="EventStore"/> on disk: the commit-once and bypass-audit scenarios of
/// <see cref="PipelineTests"/> (which use an in-memory double), plus what only a real store shows: the bypass reason
/// survives a reopen, and the store accepts the SDK-owned Bypassed flag only with a reason.
/// </summary>
public class PipelineEventStoreTests
{
    private static readonly IPayloadEncoder<string> s_utf8 = PayloadEncoder.Create<string>(Encoding.UTF8.GetBytes);
    private static readonly Coordinate s_order = new("order:1", "tenant:acme");
    private static readonly EventKind s_kind = EventKind.Create(0x1, 0x001);

    private static readonly GateSet<OrderContext> s_gates = new(
        [Gate.Require<OrderContext>("max-total", c => c.Total <= c.Limit, "TOTAL_TOO_HIGH", "The order total exceeds the limit.")],
        GatePolicy.EvaluateAll,
        "orders");

    [Fact]
    public void CommitAndBypass_RealStore_ReasonSurvivesReopenAndAuditListsOnlyBypasses()
    {
        using var dir = new TempDirectory();
        EventId committedId;
        EventId bypassedId;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            var pipeline = new Pipeline<OrderContext>(store, s_gates);
            committedId = pipeline.Commit(pipeline.Evaluate(new OrderContext("ann", false, 10m), new Proposal<string>("gated", s_order, s_kind)), s_utf8).EventId;
            bypassedId = pipeline.Bypass(new Proposal<string>("forced", s_order, s_kind), "INC-7: restore lost order", s_utf8).EventId;
        }

        using (EventStore reopened = TestEvents.Open(dir.Path))
        {
            StoredEvent gated = reopened.Get(committedId);
            Assert.Null(gated.BypassReason);
            Assert.Equal(EventFlags.None, gated.Header.Flags & EventFlags.Bypassed);

            StoredEvent audited = Assert.Single(reopened.ListBypasses());
            Assert.Equal(bypassedId, audited.Id);
            Assert.Equal("INC-7: restore lost order", audited.BypassReason);
            Assert.Equal(EventFlags.Bypassed, audited.Header.Flags & EventFlags.Bypassed);
            Assert.Equal("forced", Encoding.UTF8.GetString(audited.Payload.Span));
            Assert.True(reopened.Verify(s_order.Entity).IsValid);
        }
    }

    [Fact]
    public void Commit_RealStoreConcurrentFromEightThreads_AppendsExactlyOnce()
    {
        const int Threads = 8;
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, s_gates);
        Receipt<string> receipt = pipeline.Evaluate(new OrderContext("ann", false, 10m), new Proposal<string>("once", s_order, s_kind));
        using var start = new Barrier(Threads);
        int won = 0;
        int refused = 0;

        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            threads[t] = new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    pipeline.Commit(receipt, s_utf8);
                    Interlocked.Increment(ref won);
                }
                catch (InvalidOperationException)
                {
                    Interlocked.Increment(ref refused);
                }
            })
            { Name = "commit-race-" + t, IsBackground = true };
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(1, won);
        Assert.Equal(Threads - 1, refused);
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public void Commit_TypedEventRealStore_ReadsBackAsTheSameEvent()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, s_gates);
        var placed = new OrderPlaced("507", "acme", 99.99m);

        Committed<OrderPlaced> committed = pipeline.Commit(pipeline.Evaluate(new OrderContext("ann", false, placed.Total), pipeline.Propose(placed)));

        StoredEvent stored = store.Get(committed.EventId);
        Assert.Equal(new Coordinate("order:507", "tenant:acme"), stored.Coordinate);
        Assert.Equal(placed, OrderPlaced.Read(stored.Payload));
        Assert.Equal(committed.Append.Hash, stored.Header.Hash);
    }

    [Fact]
    public void Commit_RealStoreSequenceMismatch_ReceiptSpentNothingAppended()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, s_gates);
        var proposal = new Proposal<string>("x", s_order, s_kind, new AppendOptions { ExpectedSequence = 3 });
        Receipt<string> receipt = pipeline.Evaluate(new OrderContext("ann", false, 1m), proposal);

        Assert.Throws<SequenceMismatchException>(() => pipeline.Commit(receipt, s_utf8));

        Assert.Equal(ReceiptState.Failed, receipt.State);
        Assert.Equal(0, store.GetStats().EventCount);
    }

    [Fact]
    public async Task CommitAsync_RealStore_DurableOnceAndSecondThrows()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, s_gates);
        Receipt<string> receipt = pipeline.Evaluate(new OrderContext("ann", false, 1m), new Proposal<string>("async", s_order, s_kind));

        Committed<string> committed = await pipeline.CommitAsync(receipt, s_utf8);

        Assert.Equal(ReceiptState.Committed, receipt.State);
        Assert.Equal("async", Encoding.UTF8.GetString(store.Get(committed.EventId).Payload.Span));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.CommitAsync(receipt, s_utf8));
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public async Task BypassAsync_RealStoreManyConcurrent_EachReasonRecorded()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, s_gates);

        await Task.WhenAll(Enumerable.Range(0, 32).Select(i =>
            pipeline.BypassAsync(new Proposal<string>("p" + i, new Coordinate("order:" + i, "tenant:acme"), s_kind), "reason " + i, s_utf8).AsTask()));

        IReadOnlyList<StoredEvent> audit = store.ListBypasses();
        Assert.Equal(32, audit.Count);
        Assert.All(audit, e => Assert.Equal("reason " + e.Coordinate.Entity["order:".Length..], e.BypassReason));
        Assert.All(audit, e => Assert.Equal("p" + e.Coordinate.Entity["order:".Length..], Encoding.UTF8.GetString(e.Payload.Span)));
    }
}
