using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of idempotency keys: the same key with the same entity, kind and payload returns the first receipt
// and stores nothing new (also after a reopen, inside a batch, and from racing appenders); the key reused for
// anything else throws IdempotencyConflictException naming the key, the original event and what differs.
public abstract partial class EventStoreContract
{
    private static readonly AppendOptions s_key = new() { IdempotencyKey = "payment-42" };

    [SkippableFact]
    public void Append_SameKeySameEvent_ReturnsTheFirstReceipt_AndStoresOneEvent_AlsoAfterReopen()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        AppendReceipt first = store.Append(Alice, Created, Payload(1), s_key);

        Assert.Equal(first, store.Append(Alice, Created, Payload(1), s_key));
        Assert.Equal(first, store.Append(Alice, Created, Payload(1), s_key with { Durable = true }));
        Assert.Single(store.Stream(Alice.Entity));
        Assert.Equal("payment-42", store.Get(first.EventId).IdempotencyKey);

        store = Reopen(store, setup);
        Assert.Equal(first, store.Append(Alice, Created, Payload(1), s_key));
        Assert.Single(All(store));
        Assert.Equal(1, store.Append(Alice, Created, Payload(2)).GlobalSequence);
    }

    [SkippableFact]
    public void Append_KeyReusedWithAnotherPayloadKindOrEntity_ThrowsConflictNamingKeyOriginalAndDifference_AndAppendsNothing_AlsoAfterReopen()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        AppendReceipt first = store.Append(Alice, Created, Payload(1), s_key);

        for (int round = 0; round < 2; round++)
        {
            var payload = Assert.Throws<IdempotencyConflictException>(() => store.Append(Alice, Created, Payload(2), s_key));
            Assert.Equal(("payment-42", first.EventId, true), (payload.IdempotencyKey, payload.OriginalEventId, payload.PayloadDiffers));
            Assert.Equal((Alice.Entity, Alice.Entity), (payload.OriginalEntity, payload.Entity));
            Assert.Contains("payment-42", payload.Message, StringComparison.Ordinal);

            var kind = Assert.Throws<IdempotencyConflictException>(() => store.Append(Alice, Updated, Payload(1), s_key));
            Assert.Equal((Created, Updated, false), (kind.OriginalKind, kind.Kind, kind.PayloadDiffers));

            var entity = Assert.Throws<IdempotencyConflictException>(() => store.Append(Bob, Created, Payload(1), s_key));
            Assert.Equal((Alice.Entity, Bob.Entity, false), (entity.OriginalEntity, entity.Entity, entity.PayloadDiffers));

            Assert.Equal([first.EventId], Ids(All(store)));
            Assert.Equal(-1, store.GetLastSequence(Bob.Entity));
            store = Reopen(store, setup);
        }
    }

    [SkippableFact]
    public async Task AppendAsync_SameKeySameEvent_ReturnsTheFirstReceipt_AnotherPayloadThrowsConflict_AndOneEventIsStored()
    {
        IEventStore store = OpenNew();
        AppendReceipt first = await store.AppendAsync(Alice, Created, Payload(1), s_key);

        Assert.Equal(first, await store.AppendAsync(Alice, Created, Payload(1), s_key));
        Assert.Equal(first, store.Append(Alice, Created, Payload(1), s_key));
        var ex = await Assert.ThrowsAsync<IdempotencyConflictException>(async () => await store.AppendAsync(Alice, Created, Payload(2), s_key));

        Assert.True(ex.PayloadDiffers);
        Assert.Single(All(store));
    }

    [SkippableFact]
    public async Task AppendAsync_SixteenConcurrentAppendsOfOneKeyedEvent_StoreOneEvent_AndAllGetItsReceipt()
    {
        IEventStore store = OpenNew();
        AppendReceipt[] receipts = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ =>
            Task.Run(async () => await store.AppendAsync(Alice, Created, Payload(1), new AppendOptions { IdempotencyKey = "once" }))));

        Assert.Single(receipts.Distinct());
        Assert.Equal([receipts[0].EventId], Ids(All(store)));
    }

    [SkippableFact]
    public async Task AppendAsync_ConcurrentAppendsOfOneKeyWithDifferentPayloads_StoreOne_AndEveryOtherThrowsConflict()
    {
        IEventStore store = OpenNew();
        Task<AppendReceipt>[] racing = Enumerable.Range(0, 16)
            .Select(i => Task.Run(async () => await store.AppendAsync(Alice, Created, Payload(i), s_key))).ToArray();
        await Task.WhenAny(Task.WhenAll(racing), Task.Delay(Bound));

        Assert.All(racing, t => Assert.True(t.IsCompleted, "an append was never answered"));
        Task<AppendReceipt> winner = Assert.Single(racing, t => t.IsCompletedSuccessfully);
        Assert.All(racing.Where(t => t != winner), t => Assert.IsType<IdempotencyConflictException>(t.Exception!.InnerException));
        AppendReceipt stored = await winner;
        Assert.Equal([stored.EventId], Ids(All(store)));
        Assert.Equal(stored, store.Append(Alice, Created, store.Get(stored.EventId).Payload.Span, s_key));
    }

    [SkippableFact]
    public void AppendBatch_HoldingTheKeyOfAStoredEventWithAnotherPayload_ThrowsConflict_AndAppendsNoneOfTheBatch()
    {
        IEventStore store = OpenNew();
        AppendReceipt first = store.Append(Alice, Created, Payload(1), s_key);

        var ex = Assert.Throws<IdempotencyConflictException>(() => store.AppendBatch([Data(Bob, 7), Data(Alice, 2, s_key)]));
        Assert.Equal(("payment-42", first.EventId), (ex.IdempotencyKey, ex.OriginalEventId));
        Assert.Equal([first.EventId], Ids(All(store)));

        IReadOnlyList<AppendReceipt> repeated = store.AppendBatch([Data(Alice, 1, s_key), Data(Bob, 7)]);
        Assert.Equal(first, repeated[0]);
        Assert.Equal((1L, 0L), (repeated[1].GlobalSequence, repeated[1].EntitySequence));
        Assert.Equal(2, All(store).Count);
    }

    [SkippableFact]
    public void AppendBatch_TwoEventsWithOneKey_TheSameEventIsStoredOnce_DifferentEventsThrowConflict_AndAppendNothing()
    {
        IEventStore store = OpenNew();
        var key = new AppendOptions { IdempotencyKey = "in-batch" };
        IReadOnlyList<AppendReceipt> same = store.AppendBatch([Data(Alice, 1, key), Data(Alice, 1, key)]);
        Assert.Equal(same[0], same[1]);
        Assert.NotEqual(default, same[0]);
        Assert.Single(All(store));

        var other = new AppendOptions { IdempotencyKey = "in-batch-2" };
        var ex = Assert.Throws<IdempotencyConflictException>(() => store.AppendBatch([Data(Bob, 1, other), Data(Bob, 2, other)]));

        Assert.Equal(("in-batch-2", true), (ex.IdempotencyKey, ex.PayloadDiffers));
        Assert.Single(All(store));
        Assert.Equal(-1, store.GetLastSequence(Bob.Entity));
    }

    [SkippableFact]
    public void AppendBatch_RepeatedWithTheSameKeys_ReturnsTheOriginalReceipts_AndStoresNothingNew()
    {
        IEventStore store = OpenNew();
        EventData[] batch = [Data(Alice, 1, new AppendOptions { IdempotencyKey = "k1" }), Data(Bob, 2, new AppendOptions { IdempotencyKey = "k2" })];
        IReadOnlyList<AppendReceipt> first = store.AppendBatch(batch);

        Assert.Equal(first, store.AppendBatch(batch));
        Assert.Equal(first.Select(r => r.EventId), Ids(All(store)));
    }
}
