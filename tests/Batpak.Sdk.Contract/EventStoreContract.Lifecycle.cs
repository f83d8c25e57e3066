using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of a store's life: a reopen keeps everything and appends continue; Dispose and DisposeAsync drain
// pending appends, may be repeated, and every later call throws ObjectDisposedException; Snapshot, Sync, durable
// appends, DefaultScope and the engine-independent counters of GetStats.
public abstract partial class EventStoreContract
{
    [SkippableFact]
    public async Task Reopen_KeepsEveryEventWithItsHeaderPayloadAndKey_TheHead_AndAppendsContinueWhereTheyLeftOff()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        AppendReceipt root = store.Append(Alice, Created, Payload(0), new AppendOptions { Flags = EventFlags.RequiresAck, IdempotencyKey = "k0" });
        store.AppendReaction(root.EventId, Bob, Updated, Payload(1));
        store.AppendBatch([Data(Log, 2), Data(Alice, 3, new AppendOptions { CorrelationId = root.EventId })]);
        await store.AppendAsync(Carol, Audit, Payload(4));
        for (int i = 5; i < 60; i++)
        {
            store.Append(i % 2 == 0 ? Alice : Bob, Created, Payload(i));
        }

        List<StoredEvent> before = All(store);
        StoreHead head = store.GetHead();

        store = Reopen(store, setup);

        List<StoredEvent> after = All(store);
        Assert.Equal(before.Select(e => (e.Coordinate, e.Header, Text(e), e.IdempotencyKey)), after.Select(e => (e.Coordinate, e.Header, Text(e), e.IdempotencyKey)));
        Assert.Equal(head, store.GetHead());
        Assert.Equal(before.Count(e => e.Coordinate == Alice) - 1, store.GetLastSequence(Alice.Entity));
        AppendReceipt next = store.Append(Alice, Updated, Payload(60));
        Assert.Equal((60L, (long)before.Count(e => e.Coordinate == Alice)), (next.GlobalSequence, next.EntitySequence));
        Assert.Equal(store.Stream(Alice.Entity).SkipLast(1).Last().Header.Hash, store.Get(next.EventId).Header.PrevHash);
        ChainVerification chain = store.VerifyAll(head);
        Assert.True(chain.IsValid, chain.Failure);
    }

    [SkippableFact]
    public async Task Dispose_ThenEveryAppendReadQueryVerifyCursorAndMaintenanceCall_ThrowsObjectDisposed()
    {
        IEventStore store = OpenNew();
        AppendReceipt receipt = store.Append(Alice, Created, Payload(0));
        StoreHead head = store.GetHead();
        EventCursor cursor = store.OpenCursor(Region.All);
        string snapshotTarget = CreateLocation();
        store.Dispose();

        var calls = new (string Name, Action Call)[]
        {
            ("Append", () => store.Append(Alice, Created, Payload(1))),
            ("AppendBatch", () => store.AppendBatch([Data(Alice, 1)])),
            ("AppendBatch(span)", () => store.AppendBatch([Data(Alice, 1)], new AppendReceipt[1].AsSpan())),
            ("AppendReaction", () => store.AppendReaction(receipt.EventId, Alice, Created, Payload(1))),
            ("Get", () => store.Get(receipt.EventId)),
            ("TryGet", () => store.TryGet(receipt.EventId, out _)),
            ("Read", () => _ = store.Read(Region.All).ToList()),
            ("Stream", () => _ = store.Stream(Alice.Entity).ToList()),
            ("Read(scope)", () => _ = store.Read(Region.ForScope(Alice.Scope)).ToList()),
            ("Read(kind)", () => _ = store.Read(Region.ForKind(Created)).ToList()),
            ("ReadCorrelated", () => _ = store.ReadCorrelated(receipt.EventId).ToList()),
            ("ReadPage", () => store.ReadPage(0)),
            ("ReadAncestors", () => store.ReadAncestors(receipt.EventId)),
            ("Verify", () => store.Verify(Alice.Entity)),
            ("VerifyAll", () => store.VerifyAll()),
            ("VerifyAll(anchor)", () => store.VerifyAll(head)),
            ("GetHead", () => store.GetHead()),
            ("Subscribe", () => store.Subscribe(Region.All)),
            ("OpenCursor", () => store.OpenCursor(Region.All)),
            ("OpenCursor(name)", () => store.OpenCursor(Region.All, "named")),
            ("Compact", () => store.Compact()),
            ("Sync", store.Sync),
            ("Snapshot", () => store.Snapshot(snapshotTarget)),
            ("EventCursor.Poll", () => cursor.Poll()),
        };

        var wrong = new List<string>();
        foreach ((string name, Action call) in calls)
        {
            try
            {
                call();
                wrong.Add($"{name} returned");
            }
            catch (ObjectDisposedException)
            {
            }
            catch (Exception ex)
            {
                wrong.Add($"{name} threw {ex.GetType().Name}: {ex.Message}");
            }
        }

        Assert.Empty(wrong);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.AppendAsync(Alice, Created, Payload(1)));
    }

    [SkippableFact]
    public void Dispose_ThenGetLastSequenceAndGetStats_ThrowObjectDisposed()
    {
        SkipOnKnownBug();
        IEventStore store = OpenNew();
        store.Append(Alice, Created, Payload(0));
        store.Dispose();

        Assert.Throws<ObjectDisposedException>(() => store.GetLastSequence(Alice.Entity));
        Assert.Throws<ObjectDisposedException>(() => store.GetStats());
    }

    [SkippableFact]
    public async Task Dispose_Twice_AndDisposeAsyncAfterIt_DoNotThrow_AndTheStoreReopensWithItsEvents()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        store.Append(Alice, Created, Payload(0));

        store.Dispose();
        store.Dispose();
        await store.DisposeAsync();

        Assert.Single(All(Open(setup)));
    }

    [SkippableFact]
    public async Task DisposeAsync_KeepsEveryAcknowledgedEvent_MayBeRepeated_AndLaterCallsThrowObjectDisposed()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        for (int i = 0; i < 10; i++)
        {
            await store.AppendAsync(Alice, Created, Payload(i));
        }

        await store.DisposeAsync();
        await store.DisposeAsync();
        store.Dispose();

        Assert.Throws<ObjectDisposedException>(() => store.Append(Alice, Created, Payload(10)));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"payload-{i}"), All(Open(setup)).Select(Text));
    }

    [SkippableFact]
    public async Task Dispose_WithAppendAsyncCallsPending_CompletesEveryOneWithItsOwnReceipt_AndKeepsThemAll()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        List<Task<AppendReceipt>> pending = Enumerable.Range(0, 200).Select(i => store.AppendAsync(Alice, Created, Payload(i)).AsTask()).ToList();

        store.Dispose();

        AppendReceipt[] receipts = await Task.WhenAll(pending);
        Assert.Equal(200, receipts.Select(r => r.GlobalSequence).Distinct().Count());
        Assert.Equal(receipts.Select(r => r.EventId).Order(), Ids(All(Open(setup))).Order());
    }

    [SkippableFact]
    public async Task AppendDurable_AppendAsync_DurableBatch_AndSync_AreAcknowledged_AndReadableAfterReopen()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        store.Sync(); // on an empty store

        AppendReceipt durable = store.Append(Alice, Created, Payload(0), new AppendOptions { Durable = true });
        AppendReceipt async = await store.AppendAsync(Alice, Created, Payload(1));
        IReadOnlyList<AppendReceipt> batch = store.AppendBatch([Data(Bob, 2), Data(Bob, 3)], durable: true);
        AppendReceipt plain = store.Append(Alice, Created, Payload(4));
        store.Sync();

        store = Reopen(store, setup);
        Assert.Equal(new[] { durable, async, batch[0], batch[1], plain }.Select(r => r.EventId), Ids(All(store)));
    }

    [SkippableFact]
    public void Snapshot_IntoAnEmptyLocation_CopiesTheStoreAsOfTheCall_ThatOpensAsAStore_AndANonEmptyLocationIsRefused()
    {
        RequireNotion(ContractNotion.Snapshot);
        IEventStore store = OpenNew();
        for (int i = 0; i < 80; i++)
        {
            store.Append(i % 3 == 0 ? Bob : Alice, Created, Payload(i));
        }

        StoreSetup copySetup = NewSetup();
        store.Snapshot(copySetup.Location);
        store.Append(Alice, Updated, Payload(1000)); // after the snapshot: not in the copy

        IEventStore copy = Open(copySetup);
        Assert.Equal(store.ReadPage(0, 80).Events.Select(e => (e.Id, e.Header, Text(e))), All(copy).Select(e => (e.Id, e.Header, Text(e))));
        ChainVerification chain = copy.VerifyAll();
        Assert.True(chain.IsValid, chain.Failure);
        Assert.Throws<ArgumentException>(() => store.Snapshot(copySetup.Location));
    }

    [SkippableFact]
    public void DefaultScope_IsTheConfiguredScope_OrDefaultWhenNoneIsConfigured()
    {
        Assert.Equal("default", OpenNew().DefaultScope);
        Assert.Equal("tenant:x", Open(NewSetup() with { DefaultScope = "tenant:x" }).DefaultScope);
    }

    [SkippableFact]
    public void GetStats_CountsEventsEntitiesAndTheNextGlobalSequence_AlsoAfterReopen_AndTheWriterIsHealthy()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        Assert.Equal((0L, 0L, 0L), (store.GetStats().EventCount, store.GetStats().EntityCount, store.GetStats().NextGlobalSequence));
        store.Append(Alice, Created, Payload(0));
        store.AppendBatch([Data(Bob, 1), Data(Alice, 2), Data(Log, 3)]);
        store.Append(Alice, Created, Payload(0), new AppendOptions { IdempotencyKey = "k" });
        store.Append(Alice, Created, Payload(0), new AppendOptions { IdempotencyKey = "k" }); // a repeat: no new event

        for (int round = 0; round < 2; round++)
        {
            StoreStats stats = store.GetStats();
            Assert.Equal((5L, 3L, 5L), (stats.EventCount, stats.EntityCount, stats.NextGlobalSequence));
            Assert.False(stats.IsWriterFaulted);
            Assert.Equal(0, stats.WriterRestarts);
            store = Reopen(store, setup);
        }
    }
}
