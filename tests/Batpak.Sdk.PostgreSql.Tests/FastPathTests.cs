// The writer's last-writer fast path (one round trip from cached heads): it is taken once an instance knows the
// entities it appends to, it gives the same events, receipts and chain as the two-round-trip path, and it is left,
// with nothing of the attempt stored, whenever another instance committed in between; a fast group whose connection
// dies stores nothing, and one whose COMMIT reply is lost is confirmed by asking the server.
namespace Batpak.PostgreSql.Tests;

public sealed class FastPathTests : IDisposable
{
    private readonly string _schema = PgServer.NewSchema();
    private readonly List<PostgresEventStore> _stores = [];

    private PostgresEventStore Open()
    {
        PostgresEventStore store = PostgresEventStore.Open(TestStores.Options(_schema));
        _stores.Add(store);
        return store;
    }

    [SkippableFact]
    public void SteadyAppends_ToKnownEntities_TakeTheFastPath_AndKeepEveryChainAndTheLogValid()
    {
        PgServer.Require();
        PostgresEventStore store = Open();
        for (int round = 0; round < 30; round++)
        {
            store.AppendBatch(Enumerable.Range(0, 40).Select(i => new EventData(TestData.Entity($"f:{i % 7}"), TestData.Created, TestData.Payload((round * 40) + i))).ToArray());
        }

        Assert.True(store.Engine.Writer.FastGroupCount >= 25, $"fast groups: {store.Engine.Writer.FastGroupCount} of {store.Engine.Writer.GroupCount}");
        Assert.Equal(1_200, store.Read(Region.All).Count());
        Assert.Equal(Enumerable.Range(0, 1_200).Select(i => (long)i), store.Read(Region.All).Select(e => e.Header.GlobalSequence));
        for (int e = 0; e < 7; e++)
        {
            List<StoredEvent> stream = [.. store.Stream($"f:{e}")];
            Assert.Equal(Enumerable.Range(0, stream.Count).Select(i => (long)i), stream.Select(s => s.Header.Position.Sequence));
            Assert.True(store.Verify($"f:{e}").IsValid);
        }

        Assert.True(store.VerifyAll(store.GetHead()).IsValid);
        using PostgresEventStore other = PostgresEventStore.Open(TestStores.Options(_schema));
        Assert.True(other.VerifyAll().IsValid); // and as a fresh instance reads it
    }

    [SkippableFact]
    public void AnotherInstancesCommit_BetweenTwoGroups_SendsTheNextGroupDownTheReadingPath_WithTheStoredHeadsAndNothingOfTheAttemptStored()
    {
        PgServer.Require();
        PostgresEventStore a = Open();
        PostgresEventStore b = Open();
        Coordinate x = TestData.Entity("x:1");
        a.Append(x, TestData.Created, TestData.Payload(0)); // a creates x (reading path)
        a.Append(x, TestData.Created, TestData.Payload(1)); // a learns x's id (reading path)
        a.Append(x, TestData.Created, TestData.Payload(2)); // a knows x: fast
        long fastBefore = a.Engine.Writer.FastGroupCount;
        Assert.True(fastBefore >= 1, "a's third append took the fast path");

        AppendReceipt fromB = b.Append(x, TestData.Created, TestData.Payload(3));
        Assert.Equal(3, fromB.EntitySequence);

        // a's cache says x ends at 2: the attempt would be sequence 3 again; the guard sees b's commit.
        AppendReceipt next = a.Append(x, TestData.Created, TestData.Payload(4));
        Assert.Equal(4, next.EntitySequence);
        Assert.Equal(4, next.GlobalSequence);
        Assert.Equal(fastBefore, a.Engine.Writer.FastGroupCount);

        // a's stale cache would refuse this CAS (it thinks x ends at 2) and accept the next one: both are decided
        // on the stored state instead.
        b.Append(x, TestData.Created, TestData.Payload(5));
        AppendReceipt cas = a.Append(x, TestData.Created, TestData.Payload(6), new AppendOptions { ExpectedSequence = 5 });
        Assert.Equal(6, cas.EntitySequence);
        b.Append(x, TestData.Created, TestData.Payload(7));
        Assert.Throws<SequenceMismatchException>(() => a.Append(x, TestData.Created, TestData.Payload(8), new AppendOptions { ExpectedSequence = 6 }));

        List<StoredEvent> stream = [.. a.Stream(x.Entity)];
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), stream.Select(e => e.Header.Position.Sequence));
        Assert.Equal(Enumerable.Range(0, 8).Select(TestData.Payload), stream.Select(e => e.Payload.ToArray()));
        Assert.Equal(8, a.GetStats().EventCount);
        Assert.True(a.Verify(x.Entity).IsValid);
        Assert.True(b.VerifyAll(b.GetHead()).IsValid);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), b.Read(Region.All).Select(e => e.Header.GlobalSequence));
    }

    [SkippableFact]
    public void AGroupRefusedAfterAnotherInstancesCommit_ThenABlockCompletingFastGroup_FoldsTheGlobalChainFromTheStoredBlock()
    {
        PgServer.Require();
        PostgresEventStore a = Open();
        PostgresEventStore b = Open();
        Coordinate x = TestData.Entity("x:1");
        a.AppendBatch(Enumerable.Range(0, 1_030).Select(i => new EventData(x, TestData.Created, TestData.Payload(i))).ToArray()); // folds block 0
        a.Append(x, TestData.Created, TestData.Payload(1_030)); // a now holds the open block (1,024 to 1,030)
        for (int i = 0; i < 5; i++)
        {
            b.Append(TestData.Entity("y:1"), TestData.Created, TestData.Payload(i)); // the open block grows behind a's back
        }

        // Refused on the stored state, so nothing is written: a's view of the store is the stored one again, except
        // the open block it holds, which b's events made stale.
        Assert.Throws<SequenceMismatchException>(() => a.Append(x, TestData.Created, TestData.Payload(-1), new AppendOptions { ExpectedSequence = 0 }));
        a.AppendBatch(Enumerable.Range(0, 1_100).Select(i => new EventData(x, TestData.Created, TestData.Payload(2_000 + i))).ToArray()); // completes block 1

        Assert.Equal(1_036 + 1_100, a.GetStats().EventCount);
        Assert.True(a.VerifyAll(a.GetHead()).IsValid, a.VerifyAll(a.GetHead()).Failure);
        using PostgresEventStore fresh = PostgresEventStore.Open(TestStores.Options(_schema));
        Assert.True(fresh.VerifyAll(fresh.GetHead()).IsValid);
    }

    [SkippableFact]
    public void AFastGroupWhoseConnectionDies_BeforeTheBatch_StoresNothing_AndOneThatBreaksAfterCommit_IsConfirmedByTheServer()
    {
        PgServer.Require();
        PostgresEventStore store = Open();
        Coordinate x = TestData.Entity("x:1");
        store.Append(x, TestData.Created, TestData.Payload(0));
        store.Append(x, TestData.Created, TestData.Payload(1)); // x's id is known from here on: the next groups are fast
        string? fault = null;
        store.Engine.Writer.FaultHook = stage =>
        {
            if (stage == fault)
            {
                fault = null;
                if (stage == "before-write")
                {
                    PgServer.Terminate(store.Engine.Writer.BackendProcessId);
                }
                else
                {
                    throw new IOException("simulated: the connection broke before the COMMIT's reply arrived");
                }
            }
        };

        long fast = store.Engine.Writer.FastGroupCount;
        store.Append(x, TestData.Created, TestData.Payload(10));
        Assert.Equal(fast + 1, store.Engine.Writer.FastGroupCount); // the fast path is what the next append takes
        fault = "before-write";
        Assert.Throws<StoreConnectionException>(() => store.Append(x, TestData.Created, TestData.Payload(2)));
        Assert.Equal(2, store.GetLastSequence(x.Entity));

        AppendReceipt afterKill = store.Append(x, TestData.Created, TestData.Payload(3)); // a new connection, the reading path
        Assert.Equal((3L, 3L), (afterKill.EntitySequence, afterKill.GlobalSequence));
        fast = store.Engine.Writer.FastGroupCount;
        fault = "after-commit";
        AppendReceipt confirmed = store.Append(x, TestData.Created, TestData.Payload(4));
        Assert.Equal(fast + 1, store.Engine.Writer.FastGroupCount); // it was a fast group, committed
        Assert.Equal(4, confirmed.EntitySequence);
        Assert.Equal(confirmed.EventId, store.Stream(x.Entity, 4, 1).Single().Id);
        Assert.Equal(5, store.Append(x, TestData.Created, TestData.Payload(5)).EntitySequence);
        Assert.Equal([0, 1, 10, 3, 4, 5], store.Stream(x.Entity).Select(e => int.Parse(TestData.Text(e)["payload-".Length..], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(store.VerifyAll(store.GetHead()).IsValid);
    }

    public void Dispose()
    {
        foreach (PostgresEventStore store in _stores)
        {
            store.Dispose();
        }

        TestStores.DropSchema(_schema);
    }
}
