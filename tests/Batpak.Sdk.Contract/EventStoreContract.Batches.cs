using System.Collections.Concurrent;
using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of AppendBatch: all or nothing, in order, over several entities, in both the list and the span form;
// every kind of bad event refuses the whole batch; a batch's events take consecutive global sequences.
public abstract partial class EventStoreContract
{
    [SkippableFact]
    public void AppendBatch_OverSeveralEntities_StoresEveryEventInOrder_WithConsecutiveSequences_AndAValidChain()
    {
        IEventStore store = OpenNew();
        store.Append(Alice, Created, Payload(0));

        IReadOnlyList<AppendReceipt> receipts = store.AppendBatch([Data(Alice, 1), Data(Bob, 2), Data(Alice, 3, new AppendOptions { ExpectedSequence = 1 })]);

        Assert.Equal([1L, 2, 3], receipts.Select(r => r.GlobalSequence));
        Assert.Equal([1L, 0, 2], receipts.Select(r => r.EntitySequence));
        Assert.Equal(receipts.Select(r => r.EventId), Ids(store.ReadPage(1).Events));
        Assert.Equal(["payload-1", "payload-2", "payload-3"], store.ReadPage(1).Events.Select(Text));
        Assert.Equal(receipts[0].Hash, store.Get(receipts[2].EventId).Header.PrevHash);
        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, chain.Failure);
    }

    [SkippableFact]
    public void AppendBatch_IntoASpan_FillsTheReceiptsTheListFormWouldReturn_LeavesTheRestUntouched_AndChainsAcrossBatches()
    {
        IEventStore store = OpenNew();
        var receipts = new AppendReceipt[4];
        store.AppendBatch([Data(Alice, 1), Data(Bob, 2), Data(Alice, 3)], receipts.AsSpan());
        IReadOnlyList<AppendReceipt> second = store.AppendBatch([Data(Alice, 4), Data(Bob, 5)]);

        Assert.Equal([0L, 1, 2], receipts.Take(3).Select(r => r.GlobalSequence));
        Assert.Equal([0L, 0, 1], receipts.Take(3).Select(r => r.EntitySequence));
        Assert.Equal(default, receipts[3]);
        Assert.Equal([2L, 1], second.Select(r => r.EntitySequence));
        Assert.Equal(receipts.Take(3).Concat(second).Select(r => r.EventId), Ids(All(store)));
        Assert.All(receipts.Take(3), r => Assert.Equal(r.Hash, store.Get(r.EventId).Header.Hash));
        Assert.Equal(receipts[2].Hash, store.Get(second[0].EventId).Header.PrevHash);
    }

    [SkippableFact]
    public void AppendBatch_IntoASpanShorterThanTheBatch_ThrowsArgumentExceptionForReceipts_AndAppendsNothing()
    {
        IEventStore store = OpenNew();

        var error = Assert.Throws<ArgumentException>(() => store.AppendBatch([Data(Alice, 1), Data(Bob, 2)], new AppendReceipt[1].AsSpan()));

        Assert.Equal("receipts", error.ParamName);
        Assert.Empty(All(store));
    }

    [SkippableFact]
    public void AppendBatch_Empty_ThrowsArgumentException()
    {
        IEventStore store = OpenNew();

        Assert.ThrowsAny<ArgumentException>(() => store.AppendBatch([]));
        Assert.ThrowsAny<ArgumentException>(() => store.AppendBatch([], Span<AppendReceipt>.Empty));
        Assert.Empty(All(store));
    }

    [SkippableFact]
    public void AppendBatch_OneBadEventAmongGoodOnes_AppendsNoneOfTheBatch_ForAWrongExpectedSequenceAnUnknownCauseAndAnOversizedEvent()
    {
        IEventStore store = Open(NewSetup() with { MaxEventBytes = 2048 });
        AppendReceipt existing = store.Append(Alice, Created, Payload(0));
        var unknownCause = new EventId(UInt128.MaxValue);

        var mismatch = Assert.Throws<SequenceMismatchException>(() =>
            store.AppendBatch([Data(Bob, 1), Data(Alice, 2), Data(Alice, 3, new AppendOptions { ExpectedSequence = 5 })]));
        Assert.Equal((Alice.Entity, 5L, 1L), (mismatch.Entity, mismatch.Expected, mismatch.Actual));
        Assert.Throws<EventNotFoundException>(() => store.AppendBatch([Data(Bob, 1), Data(Bob, 2, new AppendOptions { CausationId = unknownCause })]));
        Assert.Throws<EventTooLargeException>(() => store.AppendBatch([Data(Bob, 1), new EventData(Bob, Created, new byte[4096])]));

        Assert.Equal([existing.EventId], Ids(All(store)));
        Assert.Equal(-1, store.GetLastSequence(Bob.Entity));
        Assert.Equal(0, store.GetLastSequence(Alice.Entity));
        Assert.Equal(1, store.Append(Bob, Created, Payload(9)).GlobalSequence);
    }

    [SkippableFact]
    public void AppendBatch_WithACause_TakesTheCausesCorrelation_AndADepthOneBelowIt()
    {
        IEventStore store = OpenNew();
        AppendReceipt root = store.Append(Alice, Created, Payload(0));

        IReadOnlyList<AppendReceipt> child = store.AppendBatch([Data(Bob, 1, new AppendOptions { CausationId = root.EventId })]);
        AppendReceipt grandchild = store.AppendReaction(child[0].EventId, Alice, Updated, Payload(2));

        EventHeader childHeader = store.Get(child[0].EventId).Header;
        EventHeader grandchildHeader = store.Get(grandchild.EventId).Header;
        Assert.Equal((root.EventId, root.EventId, 1u), (childHeader.CausationId, childHeader.CorrelationId, childHeader.Position.Depth));
        Assert.Equal((child[0].EventId, root.EventId, 2u), (grandchildHeader.CausationId, grandchildHeader.CorrelationId, grandchildHeader.Position.Depth));
    }

    [SkippableFact]
    public void AppendBatch_RacingOtherBatchesAndAppends_EachBatchTakesConsecutiveGlobalSequences_AndNothingIsLost()
    {
        IEventStore store = OpenNew();
        var batches = new ConcurrentBag<IReadOnlyList<AppendReceipt>>();
        var singles = new ConcurrentBag<AppendReceipt>();
        Parallel.For(0, 6, new ParallelOptions { MaxDegreeOfParallelism = 6 }, t =>
        {
            var mine = new Coordinate($"batcher:{t}", "load");
            for (int i = 0; i < 60; i++)
            {
                if (t % 2 == 0)
                {
                    batches.Add(store.AppendBatch([Data(mine, i), Data(Alice, i), Data(mine, i + 1000)]));
                }
                else
                {
                    singles.Add(store.Append(mine, Created, Payload(i)));
                }
            }
        });

        Assert.All(batches, b => Assert.Equal(Enumerable.Range(0, 3).Select(i => b[0].GlobalSequence + i), b.Select(r => r.GlobalSequence)));
        long total = (batches.Count * 3) + singles.Count;
        Assert.Equal(Enumerable.Range(0, (int)total).Select(i => (long)i), GlobalSequences(All(store)));
        Assert.Equal(Enumerable.Range(0, batches.Count).Select(i => (long)i), store.Stream(Alice.Entity).Select(e => e.Header.Position.Sequence));
    }
}
