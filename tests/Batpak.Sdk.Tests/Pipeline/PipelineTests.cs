using System.Runtime.CompilerServices;
using System.Text;

namespace Batpak.Tests;

/// <summary>
/// Pipeline behaviour over the real <see cref="EventStore"/> in a temporary directory: gates, commit once, failed
/// commits, bypasses and their audit, typed and async forms. A pipeline that did not reach the store shows as an
/// event count of 0 (every refused proposal here would be a valid append).
/// </summary>
public class PipelineTests
{
    private static readonly IPayloadEncoder<string> s_utf8 = PayloadEncoder.Create<string>(Encoding.UTF8.GetBytes);
    private static readonly Coordinate s_order = new("order:1", "tenant:acme");
    private static readonly EventKind s_kind = EventKind.Create(0x1, 0x001);

    private static readonly IGate<OrderContext> s_maxTotal = Gate.Require<OrderContext>(
        "max-total", c => c.Total <= c.Limit, "TOTAL_TOO_HIGH", "The order total exceeds the limit.");

    [Fact]
    public void Commit_IssuedReceipt_AppendsPayloadAndReturnsCommitted()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        Receipt<string> receipt = pipeline.Evaluate(new OrderContext("ann", false, 10m), new Proposal<string>("hello", s_order, s_kind));

        Committed<string> committed = pipeline.Commit(receipt, s_utf8);

        Assert.Same(receipt, committed.Receipt);
        Assert.Equal(ReceiptState.Committed, receipt.State);
        StoredEvent stored = store.Get(committed.EventId);
        Assert.Equal("hello", Encoding.UTF8.GetString(stored.Payload.Span));
        Assert.Equal(s_order, stored.Coordinate);
        Assert.Equal(s_kind, stored.Kind);
        Assert.Equal(EventFlags.None, stored.Header.Flags);
        Assert.Null(stored.BypassReason);
    }

    [Fact]
    public void Evaluate_Denied_AppendsNothing()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));

        Assert.Throws<GateDeniedException>(() => pipeline.Evaluate(new OrderContext("ann", false, 1000m), new Proposal<string>("x", s_order, s_kind)));

        Assert.Equal(0, store.GetStats().EventCount);
    }

    [Fact]
    public void Commit_SameReceiptTwice_SecondThrowsNamingTheProposal()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        Receipt<string> receipt = pipeline.Evaluate(new OrderContext("ann", false, 10m), new Proposal<string>("hello", s_order, s_kind));
        pipeline.Commit(receipt, s_utf8);

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => pipeline.Commit(receipt, s_utf8));

        Assert.Contains("kind 0x1001 at tenant:acme/order:1 (String)", error.Message, StringComparison.Ordinal);
        Assert.Contains("already committed", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public void Commit_ConcurrentFromEightThreads_CommitsExactlyOnce()
    {
        const int Threads = 8;
        const int Rounds = 50;
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        var context = new OrderContext("ann", false, 10m);

        for (int round = 0; round < Rounds; round++)
        {
            Receipt<string> receipt = pipeline.Evaluate(context, new Proposal<string>("r" + round, s_order, s_kind));
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
            Assert.Equal(round + 1, store.GetStats().EventCount);
        }
    }

    [Fact]
    public void Commit_ReceiptFromAnotherGateSet_Throws()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var mine = new Pipeline<OrderContext>(store, new GateSet<OrderContext>([s_maxTotal], name: "mine"));
        var other = new Pipeline<OrderContext>(store, new GateSet<OrderContext>([], name: "lenient"));
        Receipt<string> foreign = other.Evaluate(new OrderContext("ann", false, 1000m), new Proposal<string>("x", s_order, s_kind));

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => mine.Commit(foreign, s_utf8));

        Assert.Contains("issued by gate set \"lenient\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("not by this pipeline's gate set \"mine\"", error.Message, StringComparison.Ordinal);
        Assert.Equal(ReceiptState.Issued, foreign.State);
        Assert.Equal(0, store.GetStats().EventCount);
    }

    [Fact]
    public void Commit_ReceiptMadeWithoutConstructor_Throws()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        var forged = (Receipt<string>)RuntimeHelpers.GetUninitializedObject(typeof(Receipt<string>));

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => pipeline.Commit(forged, s_utf8));

        Assert.Contains("not issued by any gate set", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.GetStats().EventCount);
    }

    [Fact]
    public void Commit_StoreThrows_ReceiptIsSpentAndCannotBeRetried()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        Receipt<string> receipt = pipeline.Evaluate(new OrderContext("ann", false, 10m), new Proposal<string>("x", s_order, s_kind, new AppendOptions { ExpectedSequence = 5 }));

        Assert.Throws<SequenceMismatchException>(() => pipeline.Commit(receipt, s_utf8));
        Assert.Equal(ReceiptState.Failed, receipt.State);

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => pipeline.Commit(receipt, s_utf8));
        Assert.Contains("earlier commit of it failed", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.GetStats().EventCount);
    }

    [Fact]
    public void Commit_EncoderThrows_ReceiptStaysIssued()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        Receipt<string> receipt = pipeline.Evaluate(new OrderContext("ann", false, 10m), new Proposal<string>("x", s_order, s_kind));
        IPayloadEncoder<string> broken = PayloadEncoder.Create<string>((Func<string, byte[]>)(_ => throw new FormatException("bad")));

        Assert.Throws<FormatException>(() => pipeline.Commit(receipt, broken));

        Assert.Equal(ReceiptState.Issued, receipt.State);
        pipeline.Commit(receipt, s_utf8);
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public void Commit_TypedEvent_EncodesWithMessagePackAndBuildsCoordinate()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        var placed = new OrderPlaced("507", "acme", 42.5m);

        Proposal<OrderPlaced> proposal = pipeline.Propose(placed);
        Committed<OrderPlaced> committed = pipeline.Commit(pipeline.Evaluate(new OrderContext("ann", false, placed.Total), proposal));

        StoredEvent stored = store.Get(committed.EventId);
        Assert.Equal(new Coordinate("order:507", "tenant:acme"), stored.Coordinate);
        Assert.Equal(OrderPlaced.Kind, stored.Kind);
        Assert.Equal(placed, OrderPlaced.Read(stored.Payload));
        Assert.Equal(committed.Append.Hash, stored.Header.Hash);
    }

    [Fact]
    public void Propose_TypedEventWithoutScopeMember_UsesPipelineDefaultScope()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<int>(store, new GateSet<int>(), defaultScope: "tenant:default");

        Proposal<Pinged> proposal = pipeline.Propose(new Pinged(7));

        Assert.Equal(new Coordinate("ping:7", "tenant:default"), proposal.Coordinate);
        Assert.Equal(Pinged.Kind, proposal.Kind);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Bypass_MissingReason_ThrowsAndAppendsNothing(string? reason)
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));

        ArgumentException error = Assert.Throws<ArgumentException>(() => pipeline.Bypass(new Proposal<string>("x", s_order, s_kind), reason!, s_utf8));

        Assert.Contains("A bypass needs a reason", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.GetStats().EventCount);
    }

    [Fact]
    public void Bypass_ReasonTooLong_Throws()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));

        Assert.Throws<ArgumentException>(() => pipeline.Bypass(new Proposal<string>("x", s_order, s_kind), new string('r', Pipeline.MaxBypassReasonLength + 1), s_utf8));
    }

    [Fact]
    public void Bypass_WithReason_SkipsGatesAndRecordsReasonAndFlag()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        int gateCalls = 0;
        var counting = Gate.Create<OrderContext>("counting", _ =>
        {
            Interlocked.Increment(ref gateCalls);
            return new Denial("counting", "NO", "never");
        });
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(counting));
        var options = new AppendOptions { Flags = EventFlags.RequiresAck, IdempotencyKey = "ticket-42" };

        Committed<string> committed = pipeline.Bypass(new Proposal<string>("refund", s_order, s_kind, options), "INC-42: manual refund approved by finance", s_utf8);

        Assert.Equal(0, gateCalls);
        Assert.True(committed.Receipt.IsBypass);
        Assert.Equal("INC-42: manual refund approved by finance", committed.Receipt.BypassReason);
        Assert.Empty(committed.Receipt.GatesPassed);
        Assert.Equal(ReceiptState.Committed, committed.Receipt.State);
        StoredEvent stored = store.Get(committed.EventId);
        Assert.Equal("INC-42: manual refund approved by finance", stored.BypassReason);
        Assert.Equal(EventFlags.Bypassed | EventFlags.RequiresAck, stored.Header.Flags);
        Assert.Equal("ticket-42", stored.IdempotencyKey);
        Assert.Null(options.BypassReason); // the caller's options are not changed
    }

    [Fact]
    public void Bypass_TypedEvent_EncodesWithMessagePack()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        var placed = new OrderPlaced("9", "acme", 5000m);

        Committed<OrderPlaced> committed = pipeline.Bypass(pipeline.Propose(placed), "migration from the legacy system");

        StoredEvent stored = store.Get(committed.EventId);
        Assert.Equal(placed, OrderPlaced.Read(stored.Payload));
        Assert.Equal("migration from the legacy system", stored.BypassReason);
    }

    [Fact]
    public void ListBypasses_MixedLog_ReturnsOnlyBypassedEventsWithReasonsInOrder()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        var ok = new OrderContext("ann", false, 1m);
        var other = new Coordinate("order:2", "tenant:globex");
        pipeline.Commit(pipeline.Evaluate(ok, new Proposal<string>("a", s_order, s_kind)), s_utf8);
        pipeline.Bypass(new Proposal<string>("b", s_order, s_kind), "reason one", s_utf8);
        pipeline.Commit(pipeline.Evaluate(ok, new Proposal<string>("c", other, s_kind)), s_utf8);
        pipeline.Bypass(new Proposal<string>("d", other, s_kind), "reason two", s_utf8);

        IReadOnlyList<StoredEvent> all = store.ReadBypasses();
        IReadOnlyList<StoredEvent> globex = Pipeline.ReadBypasses(store, Region.ForScope("tenant:globex"));

        Assert.Equal(["reason one", "reason two"], all.Select(e => e.BypassReason));
        Assert.Equal(["b", "d"], all.Select(e => Encoding.UTF8.GetString(e.Payload.Span)));
        Assert.Equal(["reason two"], globex.Select(e => e.BypassReason));
        using var emptyDir = new TempDirectory();
        using EventStore empty = TestEvents.Open(emptyDir.Path);
        Assert.Empty(empty.ReadBypasses());
    }

    [Fact]
    public void Proposal_OptionsWithSdkOwnedFlag_Throws()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            new Proposal<string>("x", s_order, s_kind, new AppendOptions { Flags = EventFlags.Bypassed }));

        Assert.Contains("Pipeline.Bypass", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Proposal_DefaultCoordinateOrReservedKind_Throws()
    {
        Assert.Throws<ArgumentException>(() => new Proposal<string>("x", default, s_kind));
        Assert.Throws<ArgumentException>(() => new Proposal<string>("x", s_order, EventKind.FromValue(0x0001)));
        Assert.Throws<ArgumentNullException>(() => new Proposal<string>(null!, s_order, s_kind));
    }

    [Fact]
    public void Commit_HundredEventsOnOneThread_EachStoresItsOwnPayload_NoneLeaksIntoAnother()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        var ok = new OrderContext("ann", false, 1m);
        for (int i = 0; i < 100; i++)
        {
            pipeline.Commit(pipeline.Evaluate(ok, new Proposal<string>("event " + i, s_order, s_kind)), s_utf8);
        }

        // Each stored payload is its own copy: reusing the encode buffer never leaks one payload into another.
        Assert.Equal(Enumerable.Range(0, 100).Select(i => "event " + i), store.Stream("order:1").Select(e => Encoding.UTF8.GetString(e.Payload.Span)));
    }

    [Fact]
    public async Task CommitAsync_TypedEvent_CommitsOnceAndSecondThrows()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
        var placed = new OrderPlaced("1", "acme", 1m);
        Receipt<OrderPlaced> receipt = pipeline.Evaluate(new OrderContext("ann", false, 1m), pipeline.Propose(placed));

        Committed<OrderPlaced> committed = await pipeline.CommitAsync(receipt);

        Assert.Equal(placed, OrderPlaced.Read(store.Get(committed.EventId).Payload));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.CommitAsync(receipt));
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public async Task BypassAsync_BlankReason_ThrowsBeforeAppending()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));

        await Assert.ThrowsAsync<ArgumentException>(async () => await pipeline.BypassAsync(pipeline.Propose(new OrderPlaced("1", "acme", 1m)), " "));

        Assert.Equal(0, store.GetStats().EventCount);
    }

    [Fact]
    public void CommitAndBypass_BypassReasonSurvivesReopen_AndTheAuditListsOnlyTheBypass()
    {
        using var dir = new TempDirectory();
        EventId committedId;
        EventId bypassedId;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));
            committedId = pipeline.Commit(pipeline.Evaluate(new OrderContext("ann", false, 10m), new Proposal<string>("gated", s_order, s_kind)), s_utf8).EventId;
            bypassedId = pipeline.Bypass(new Proposal<string>("forced", s_order, s_kind), "INC-7: restore lost order", s_utf8).EventId;
        }

        using (EventStore reopened = TestEvents.Open(dir.Path))
        {
            StoredEvent gated = reopened.Get(committedId);
            Assert.Null(gated.BypassReason);
            Assert.Equal(EventFlags.None, gated.Header.Flags & EventFlags.Bypassed);

            StoredEvent audited = Assert.Single(reopened.ReadBypasses());
            Assert.Equal(bypassedId, audited.Id);
            Assert.Equal("INC-7: restore lost order", audited.BypassReason);
            Assert.Equal(EventFlags.Bypassed, audited.Header.Flags & EventFlags.Bypassed);
            Assert.Equal("forced", Encoding.UTF8.GetString(audited.Payload.Span));
            Assert.True(reopened.Verify(s_order.Entity).IsValid);
        }
    }

    [Fact]
    public async Task BypassAsync_ThirtyTwoConcurrent_EachEventStoredWithItsOwnReasonAndPayload()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        var pipeline = new Pipeline<OrderContext>(store, new GateSet<OrderContext>(s_maxTotal));

        await Task.WhenAll(Enumerable.Range(0, 32).Select(i =>
            pipeline.BypassAsync(new Proposal<string>("p" + i, new Coordinate("order:" + i, "tenant:acme"), s_kind), "reason " + i, s_utf8).AsTask()));

        IReadOnlyList<StoredEvent> audit = store.ReadBypasses();
        Assert.Equal(32, audit.Count);
        Assert.All(audit, e => Assert.Equal("reason " + e.Coordinate.Entity["order:".Length..], e.BypassReason));
        Assert.All(audit, e => Assert.Equal("p" + e.Coordinate.Entity["order:".Length..], Encoding.UTF8.GetString(e.Payload.Span)));
    }
}
