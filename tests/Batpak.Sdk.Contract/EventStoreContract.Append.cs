using System.Collections.Concurrent;
using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of single appends and point reads: what an append stores and returns, sequences, optimistic
// concurrency, rejected input, the size limit, concurrent appenders, Get/TryGet and GetLastSequence.
public abstract partial class EventStoreContract
{
    [SkippableFact]
    public void Append_ThenGet_ReturnsTheCoordinateKindPayloadAndAHeaderMatchingTheReceipt()
    {
        IEventStore store = OpenNew();
        var coordinate = new Coordinate("order:1", "tenant:a");

        AppendReceipt receipt = store.Append(coordinate, Created, Payload(1));
        StoredEvent read = store.Get(receipt.EventId);

        Assert.Equal((0L, 0L), (receipt.GlobalSequence, receipt.EntitySequence));
        Assert.Equal(receipt.EventId, read.Id);
        Assert.Equal(coordinate, read.Coordinate);
        Assert.Equal(Created, read.Kind);
        Assert.Equal("payload-1", Text(read));
        Assert.Equal(0, read.Header.GlobalSequence);
        Assert.Equal(0, read.Header.Position.Sequence);
        Assert.Equal(0u, read.Header.Position.Depth);
        Assert.Equal(receipt.Hash, read.Header.Hash);
        Assert.False(read.Header.Hash.IsZero);
        Assert.True(read.Header.PrevHash.IsZero);
        Assert.Equal(read.Id, read.Header.CorrelationId);
        Assert.Null(read.Header.CausationId);
        Assert.Equal(EventFlags.None, read.Header.Flags);
        Assert.Null(read.IdempotencyKey);
        Assert.Null(read.BypassReason);
    }

    [SkippableFact]
    public void Append_CallersBufferChangedAfterTheCall_StoredPayloadStaysAsAppended()
    {
        IEventStore store = OpenNew();
        byte[] buffer = Payload(1);

        AppendReceipt receipt = store.Append(Alice, Created, buffer);
        buffer.AsSpan().Fill(0xFF);

        Assert.Equal("payload-1", Text(store.Get(receipt.EventId)));
    }

    [SkippableFact]
    public void Append_WithUserFlagsAndAKey_StoresThemAndReadsThemBack()
    {
        IEventStore store = OpenNew();
        AppendReceipt receipt = store.Append(Alice, Created, Payload(1), new AppendOptions { Flags = EventFlags.RequiresAck | EventFlags.Transactional, IdempotencyKey = "k-1" });

        StoredEvent read = store.Get(receipt.EventId);

        Assert.Equal(EventFlags.RequiresAck | EventFlags.Transactional, read.Header.Flags);
        Assert.Equal("k-1", read.IdempotencyKey);
    }

    [SkippableFact]
    public void Append_InterleavedEntities_GlobalSequencesRunFromZero_EachEntityFromZero_AndEachEventLinksToItsEntitysPreviousHash()
    {
        IEventStore store = OpenNew();
        Coordinate[] order = [Alice, Bob, Alice, Log, Bob, Alice];
        var receipts = order.Select((c, i) => store.Append(c, Created, Payload(i))).ToList();

        Assert.Equal([0L, 1, 2, 3, 4, 5], receipts.Select(r => r.GlobalSequence));
        Assert.Equal([0L, 0, 1, 0, 1, 2], receipts.Select(r => r.EntitySequence));
        var lastHash = new Dictionary<string, EventHash>(StringComparer.Ordinal);
        for (int i = 0; i < order.Length; i++)
        {
            EventHeader header = store.Get(receipts[i].EventId).Header;
            Assert.Equal(lastHash.GetValueOrDefault(order[i].Entity, EventHash.Zero), header.PrevHash);
            lastHash[order[i].Entity] = header.Hash;
        }

        Assert.Equal(6, receipts.Select(r => r.EventId).Distinct().Count());
    }

    [SkippableFact]
    public void Append_ExpectedSequenceMatchingTheEntitysLast_Appends_NoStreamOnlyForAnEntityWithoutEvents()
    {
        IEventStore store = OpenNew();
        Assert.Equal(0, store.Append(Alice, Created, Payload(0), new AppendOptions { ExpectedSequence = AppendOptions.NoStream }).EntitySequence);
        Assert.Equal(1, store.Append(Alice, Updated, Payload(1), new AppendOptions { ExpectedSequence = 0 }).EntitySequence);

        var ex = Assert.Throws<SequenceMismatchException>(() => store.Append(Alice, Updated, Payload(2), new AppendOptions { ExpectedSequence = AppendOptions.NoStream }));

        Assert.Equal((AppendOptions.NoStream, 1L), (ex.Expected, ex.Actual));
        Assert.Equal(2, All(store).Count);
    }

    [SkippableFact]
    public void Append_ExpectedSequenceMismatch_ThrowsNamingEntityExpectedAndActual_AndAppendsNothing()
    {
        IEventStore store = OpenNew();
        store.Append(Alice, Created, Payload(0));
        store.Append(Alice, Updated, Payload(1));

        var ex = Assert.Throws<SequenceMismatchException>(() => store.Append(Alice, Updated, Payload(2), new AppendOptions { ExpectedSequence = 0 }));
        var unknown = Assert.Throws<SequenceMismatchException>(() => store.Append(Bob, Created, Payload(3), new AppendOptions { ExpectedSequence = 5 }));

        Assert.Equal(("acct:alice", 0L, 1L), (ex.Entity, ex.Expected, ex.Actual));
        Assert.Equal(("acct:bob", 5L, -1L), (unknown.Entity, unknown.Expected, unknown.Actual));
        Assert.Equal(1, store.GetLastSequence(Alice.Entity));
        Assert.Equal(-1, store.GetLastSequence(Bob.Entity));
        Assert.Equal(2, All(store).Count);
    }

    [SkippableFact]
    public async Task AppendAsync_ReturnsTheReceiptOfAReadableEvent_AndAMismatchedExpectedSequenceAppendsNothing()
    {
        IEventStore store = OpenNew();
        AppendReceipt receipt = await store.AppendAsync(Alice, Created, Payload(1));
        Assert.Equal("payload-1", Text(store.Get(receipt.EventId)));

        var ex = await Assert.ThrowsAsync<SequenceMismatchException>(async () => await store.AppendAsync(Alice, Created, Payload(2), new AppendOptions { ExpectedSequence = 3 }));

        Assert.Equal((3L, 0L), (ex.Expected, ex.Actual));
        Assert.Single(All(store));
    }

    [SkippableFact]
    public async Task Append_InvalidCoordinateKindFlagsOrKey_ThrowsArgumentExceptionForEveryAppendKind_AndAppendsNothing()
    {
        IEventStore store = OpenNew();
        AppendReceipt cause = store.Append(Alice, Created, Payload(0));
        EventKind reserved = EventKind.FromValue(0x0001);
        AppendOptions[] badOptions =
        [
            new() { Flags = EventFlags.Bypassed },
            new() { Flags = EventFlags.Tombstone },
            new() { IdempotencyKey = "" },
            new() { IdempotencyKey = new string('k', 257) },
        ];

        Assert.ThrowsAny<ArgumentException>(() => store.Append(default, Created, Payload(1)));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.AppendAsync(default, Created, Payload(1)));
        Assert.ThrowsAny<ArgumentException>(() => store.AppendBatch([Data(Alice, 1), new EventData(default, Created, Payload(2))]));
        Assert.ThrowsAny<ArgumentException>(() => store.AppendReaction(cause.EventId, default, Created, Payload(1)));
        Assert.ThrowsAny<ArgumentException>(() => store.Append(Alice, reserved, Payload(1)));
        Assert.ThrowsAny<ArgumentException>(() => store.AppendBatch([new EventData(Alice, reserved, Payload(1))]));
        Assert.ThrowsAny<ArgumentException>(() => store.Append(Alice, Created, Payload(1), new AppendOptions { ExpectedSequence = -2 }));
        foreach (AppendOptions options in badOptions)
        {
            Assert.ThrowsAny<ArgumentException>(() => store.Append(Alice, Created, Payload(1), options));
            await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.AppendAsync(Alice, Created, Payload(1), options));
            Assert.ThrowsAny<ArgumentException>(() => store.AppendBatch([Data(Bob, 1), Data(Alice, 2, options)]));
        }

        Assert.Equal([cause.EventId], Ids(All(store)));
        Assert.Equal(-1, store.GetLastSequence(Bob.Entity));
    }

    [SkippableFact]
    public async Task Append_PayloadOverMaxEventBytes_ThrowsEventTooLargeNamingTheLimitForEveryAppendKind_AndAppendsNothing()
    {
        IEventStore store = Open(NewSetup() with { MaxEventBytes = 2048 });
        AppendReceipt cause = store.Append(Alice, Created, Payload(0));
        byte[] tooBig = new byte[4096];

        var ex = Assert.Throws<EventTooLargeException>(() => store.Append(Alice, Created, tooBig));
        Assert.Throws<EventTooLargeException>(() => store.Append(Alice, Created, tooBig, new AppendOptions { Durable = true }));
        await Assert.ThrowsAsync<EventTooLargeException>(async () => await store.AppendAsync(Alice, Created, tooBig));
        Assert.Throws<EventTooLargeException>(() => store.AppendBatch([Data(Bob, 1), new EventData(Bob, Created, tooBig)]));
        Assert.Throws<EventTooLargeException>(() => store.AppendReaction(cause.EventId, Bob, Created, tooBig));

        Assert.Equal(2048, ex.MaxBytes);
        Assert.True(ex.ActualBytes >= tooBig.Length, $"ActualBytes {ex.ActualBytes}");
        Assert.Equal([cause.EventId], Ids(All(store)));
        Assert.Equal(1, store.Append(Alice, Created, new byte[1000]).GlobalSequence);
    }

    [SkippableFact]
    public void Append_EightThreadsConcurrently_StoresEveryEventOnce_WithGapFreeGlobalAndEntitySequences_AlsoAfterReopen()
    {
        const int PerThread = 300;
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        var receipts = new ConcurrentBag<AppendReceipt>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var mine = new Coordinate($"worker:{t}", "load");
            for (int i = 0; i < PerThread; i++)
            {
                receipts.Add(store.Append(i % 5 == 0 ? Alice : mine, Created, Payload((t * PerThread) + i)));
            }
        });

        Assert.Equal(Enumerable.Range(0, 8 * PerThread).Select(i => (long)i), receipts.Select(r => r.GlobalSequence).Order());
        store = Reopen(store, setup);
        List<StoredEvent> all = All(store);
        Assert.Equal(Enumerable.Range(0, 8 * PerThread).Select(i => (long)i), GlobalSequences(all));
        Assert.Equal(Enumerable.Range(0, 8 * PerThread).Select(i => $"payload-{i}").Order(StringComparer.Ordinal), all.Select(Text).Order(StringComparer.Ordinal));
        Assert.Equal(Enumerable.Range(0, 8 * PerThread / 5).Select(i => (long)i), store.Stream(Alice.Entity).Select(e => e.Header.Position.Sequence));
        for (int t = 0; t < 8; t++)
        {
            Assert.Equal(Enumerable.Range(0, PerThread * 4 / 5).Select(i => (long)i), store.Stream($"worker:{t}").Select(e => e.Header.Position.Sequence));
        }

        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, chain.Failure);
    }

    [SkippableFact]
    public void Get_UnknownId_ThrowsEventNotFoundNamingTheId_AndTryGetReturnsFalse()
    {
        IEventStore store = OpenNew();
        store.Append(Alice, Created, Payload(0));
        var missing = new EventId(UInt128.MaxValue);

        var ex = Assert.Throws<EventNotFoundException>(() => store.Get(missing));

        Assert.Equal(missing, ex.EventId);
        Assert.False(store.TryGet(missing, out StoredEvent? none));
        Assert.Null(none);
        Assert.False(store.TryGet(EventId.Empty, out _));
    }

    [SkippableFact]
    public void GetLastSequence_IsMinusOneForAnEntityWithoutEvents_ElseItsLastEventsSequence()
    {
        IEventStore store = OpenNew();
        Assert.Equal(-1, store.GetLastSequence(Alice.Entity));
        store.Append(Alice, Created, Payload(0));
        store.Append(Bob, Created, Payload(1));
        store.Append(Alice, Created, Payload(2));

        Assert.Equal(1, store.GetLastSequence(Alice.Entity));
        Assert.Equal(0, store.GetLastSequence(Bob.Entity));
        Assert.Equal(-1, store.GetLastSequence("acct:nobody"));
    }
}
