using System.Collections.Concurrent;
using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of compaction as the API shows it: merging keeps every event; retention drops rejected events from
// every read or leaves tombstones (empty payload, flag, same hash); the head, the chains, entity sequences and
// idempotency keys survive it and a reopen; appends and reads go on while it runs.
public abstract partial class EventStoreContract
{
    /// <summary>40 events, alice and bob alternating (bob's carry keys "bob-0".."bob-19"), made compactable.</summary>
    private List<AppendReceipt> AppendCompactableFixture(IEventStore store)
    {
        var receipts = new List<AppendReceipt>();
        for (int i = 0; i < 40; i++)
        {
            bool bob = i % 2 == 1;
            receipts.Add(store.Append(
                bob ? Bob : Alice,
                i % 3 == 0 ? Updated : Created,
                Payload(i),
                bob ? new AppendOptions { IdempotencyKey = $"bob-{i / 2}" } : null));
        }

        MakeCompactable(store);
        return receipts;
    }

    private static bool NotBob(StoredEvent e) => e.Coordinate != Bob;

    /// <summary>Both chains verify against <paramref name="head"/>, taken before compaction, and the head is still it.</summary>
    private static void AssertVerifiesAgainst(IEventStore store, StoreHead head)
    {
        ChainVerification chain = store.VerifyAll(head);
        Assert.True(chain.IsValid, chain.Failure);
        Assert.Equal(head, store.GetHead());
    }

    /// <summary>A receipt without its <see cref="AppendReceipt.Position"/>, which names a place in one engine's storage.</summary>
    private static (EventId, long, long, EventHash) Engineless(AppendReceipt r) => (r.EventId, r.GlobalSequence, r.EntitySequence, r.Hash);

    [SkippableFact]
    public void Compact_WithoutRetention_KeepsEveryEventReadableInOrder_TheChainsValid_AndTheHeadUnchanged_AlsoAfterReopen()
    {
        RequireNotion(ContractNotion.Compaction);
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        AppendCompactableFixture(store);
        List<(EventId, string)> before = All(store).Select(e => (e.Id, Text(e))).ToList();
        StoreHead head = store.GetHead();

        CompactionResult result = store.Compact();

        Assert.Equal((0L, 0L), (result.EventsDropped, result.EventsTombstoned));
        for (int round = 0; round < 2; round++)
        {
            Assert.Equal(before, All(store).Select(e => (e.Id, Text(e))));
            AssertVerifiesAgainst(store, head);
            store = Reopen(store, setup);
        }
    }

    [SkippableFact]
    public void Compact_DropMode_RemovesRejectedEventsFromEveryRead_KeepsTheRest_ChainsAndHeadVerify_AlsoAfterReopen()
    {
        RequireNotion(ContractNotion.Compaction);
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        List<AppendReceipt> receipts = AppendCompactableFixture(store);
        List<AppendReceipt> bobs = receipts.Where((_, i) => i % 2 == 1).ToList();
        List<StoredEvent> alices = store.Stream(Alice.Entity).ToList();
        StoreHead head = store.GetHead();
        StoreStats statsBefore = store.GetStats();

        CompactionResult result = store.Compact(new CompactionOptions { Retain = NotBob, Mode = CompactionMode.Drop });

        Assert.Equal((20L, 0L), (result.EventsDropped, result.EventsTombstoned));
        Assert.Equal((statsBefore.EventCount - 20, statsBefore.NextGlobalSequence), (store.GetStats().EventCount, store.GetStats().NextGlobalSequence));
        for (int round = 0; round < 2; round++)
        {
            Assert.All(bobs, r => Assert.False(store.TryGet(r.EventId, out _)));
            Assert.Throws<EventNotFoundException>(() => store.Get(bobs[0].EventId));
            Assert.Empty(store.Stream(Bob.Entity));
            Assert.Empty(store.Read(Region.ForEntity(Bob.Entity)));
            Assert.DoesNotContain(All(store), e => e.Coordinate == Bob);
            Assert.Equal(alices.Select(e => (e.Id, Text(e), e.Header.Hash)), store.Stream(Alice.Entity).Select(e => (e.Id, Text(e), e.Header.Hash)));
            Assert.Equal(Ids(alices), Ids(store.Read(Region.ForScope("bank"))));
            Assert.True(store.Verify(Bob.Entity).IsValid, store.Verify(Bob.Entity).Failure);
            Assert.True(store.Verify(Alice.Entity).IsValid);
            AssertVerifiesAgainst(store, head);
            store = Reopen(store, setup);
        }
    }

    [SkippableFact]
    public void Compact_DropMode_TheEntitysSequenceContinues_AndItsKeysStillReturnTheOriginalReceiptsOrConflict_AlsoAfterReopen()
    {
        RequireNotion(ContractNotion.Compaction);
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        List<AppendReceipt> receipts = AppendCompactableFixture(store);
        store.Compact(new CompactionOptions { Retain = NotBob });
        long count = All(store).Count;

        for (int round = 0; round < 2; round++)
        {
            Assert.Equal(19, store.GetLastSequence(Bob.Entity));
            for (int i = 1; i < 40; i += 2)
            {
                var key = new AppendOptions { IdempotencyKey = $"bob-{i / 2}" };
                AppendReceipt again = store.Append(Bob, i % 3 == 0 ? Updated : Created, Payload(i), key);
                Assert.Equal(Engineless(receipts[i]), Engineless(again)); // the dropped event has no place left to report
                Assert.Throws<IdempotencyConflictException>(() => store.Append(Bob, Created, Payload(i + 1000), key));
            }

            Assert.Equal(count, All(store).Count);
            store = Reopen(store, setup);
        }

        Assert.Throws<SequenceMismatchException>(() => store.Append(Bob, Created, Payload(100), new AppendOptions { ExpectedSequence = AppendOptions.NoStream }));
        Assert.Equal(20, store.Append(Bob, Created, Payload(100), new AppendOptions { ExpectedSequence = 19 }).EntitySequence);
    }

    [SkippableFact]
    public void Compact_TombstoneMode_LeavesEachRejectedEventAsAFlaggedMarkerWithNoPayloadAndItsHash_ForReadsAndCursors_AlsoAfterReopen()
    {
        RequireNotion(ContractNotion.Compaction);
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        List<AppendReceipt> receipts = AppendCompactableFixture(store);
        List<StoredEvent> alices = store.Stream(Alice.Entity).ToList();
        StoreHead head = store.GetHead();

        CompactionResult result = store.Compact(new CompactionOptions { Retain = NotBob, Mode = CompactionMode.Tombstone });

        Assert.Equal((0L, 20L), (result.EventsDropped, result.EventsTombstoned));
        for (int round = 0; round < 2; round++)
        {
            for (int i = 1; i < 40; i += 2)
            {
                StoredEvent tombstone = store.Get(receipts[i].EventId);
                Assert.Equal(EventFlags.Tombstone, tombstone.Header.Flags & EventFlags.Tombstone);
                Assert.True(tombstone.Payload.IsEmpty);
                Assert.Equal((Bob, receipts[i].Hash, receipts[i].GlobalSequence, (long)(i / 2)), (tombstone.Coordinate, tombstone.Header.Hash, tombstone.Header.GlobalSequence, tombstone.Header.Position.Sequence));
            }

            using (EventCursor cursor = store.OpenCursor(Region.ForEntity(Bob.Entity)))
            {
                IReadOnlyList<StoredEvent> seen = cursor.Poll(1000);
                Assert.Equal(20, seen.Count);
                Assert.All(seen, e => Assert.True(e.Header.Flags.HasFlag(EventFlags.Tombstone)));
            }

            Assert.Equal(20, store.Stream(Bob.Entity).Count());
            Assert.Equal(alices.Select(e => (e.Id, Text(e))), store.Stream(Alice.Entity).Select(e => (e.Id, Text(e))));
            AssertVerifiesAgainst(store, head);
            Assert.True(store.Verify(Bob.Entity).IsValid);
            store = Reopen(store, setup);
        }

        Assert.Equal(20, store.Append(Bob, Created, Payload(100)).EntitySequence);
    }

    [SkippableFact]
    public void Compact_RetainPredicate_IsAskedOnceAboutEachCompactableEvent()
    {
        RequireNotion(ContractNotion.Compaction);
        IEventStore store = OpenNew();
        List<AppendReceipt> receipts = AppendCompactableFixture(store);
        var asked = new List<EventId>();

        store.Compact(new CompactionOptions { Retain = e => { asked.Add(e.Id); return true; } });

        Assert.Equal(asked.Count, asked.Distinct().Count());
        Assert.All(receipts, r => Assert.Contains(r.EventId, asked));
    }

    [SkippableFact]
    public void Compact_RunAgainWithTheSameRetention_RemovesNothingMore_AndReadsAreUnchanged()
    {
        RequireNotion(ContractNotion.Compaction);
        IEventStore store = OpenNew();
        AppendCompactableFixture(store);
        var options = new CompactionOptions { Retain = NotBob };
        Assert.Equal(20, store.Compact(options).EventsDropped);
        List<EventId> after = Ids(All(store)).ToList();

        CompactionResult again = store.Compact(options);

        Assert.Equal((0L, 0L), (again.EventsDropped, again.EventsTombstoned));
        Assert.Equal(after, Ids(All(store)));
        Assert.True(store.VerifyAll().IsValid);
    }

    [SkippableFact]
    public void WalkAncestorsAndByCorrelation_AfterTheRootWasDropped_ReturnTheEventsStillStored()
    {
        RequireNotion(ContractNotion.Compaction);
        IEventStore store = OpenNew();
        AppendReceipt root = store.Append(Bob, Created, Payload(0));
        AppendReceipt child = store.AppendReaction(root.EventId, Alice, Updated, Payload(1));
        AppendReceipt grandchild = store.AppendReaction(child.EventId, Alice, Updated, Payload(2));
        MakeCompactable(store);

        Assert.Equal(1, store.Compact(new CompactionOptions { Retain = NotBob }).EventsDropped);

        Assert.Equal([grandchild.EventId, child.EventId], Ids(store.ReadAncestors(grandchild.EventId)));
        Assert.Equal([child.EventId, grandchild.EventId], Ids(store.ReadCorrelated(root.EventId)));
        Assert.Throws<EventNotFoundException>(() => store.ReadAncestors(root.EventId));
    }

    [SkippableFact]
    public async Task Compact_WhileAppendingAndReading_LosesNothing_AndNoReaderFails()
    {
        RequireNotion(ContractNotion.Compaction);
        IEventStore store = OpenNew();
        for (int i = 0; i < 200; i++)
        {
            store.Append(i % 2 == 0 ? Alice : Bob, Created, Payload(i));
        }

        MakeCompactable(store);
        var errors = new ConcurrentQueue<Exception>();
        var appended = new ConcurrentBag<EventId>();
        using var stop = new CancellationTokenSource();
        Task writer = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    appended.Add(store.Append(new Coordinate($"live:{i % 5}", "bank"), Created, new byte[120]).EventId);
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }
        });
        Task reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Assert.Equal(100, store.Stream(Alice.Entity).Count());
                    foreach (StoredEvent e in store.ReadPage(0, 500).Events)
                    {
                        Assert.True(store.TryGet(e.Id, out _));
                    }
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }
        });

        for (int round = 0; round < 3; round++)
        {
            store.Compact();
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await Task.WhenAll(writer, reader);
        Assert.Empty(errors);
        Assert.NotEmpty(appended);
        Assert.All(appended, id => Assert.True(store.TryGet(id, out _)));
        Assert.Equal(100, store.Stream(Alice.Entity).Count());
        Assert.True(store.VerifyAll().IsValid);
    }
}
