using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of pull cursors: guaranteed, in-order delivery of a region from a global sequence on, in pages,
// waiting for new events, seeking, and named cursors that resume from their last commit after a reopen.
public abstract partial class EventStoreContract
{
    [SkippableFact]
    public void OpenCursor_PolledInPages_DeliversEveryMatchingEventOnceInOrder_ThenOnlyNewOnes()
    {
        IEventStore store = OpenNew();
        for (int i = 0; i < 50; i++)
        {
            store.Append(i % 2 == 0 ? Alice : Bob, Created, Payload(i));
        }

        using EventCursor cursor = store.OpenCursor(Region.ForEntity(Bob.Entity));
        var seen = new List<long>();
        IReadOnlyList<StoredEvent> page;
        while ((page = cursor.Poll(maxCount: 7)).Count > 0)
        {
            Assert.True(page.Count <= 7);
            seen.AddRange(page.Select(e => e.Header.Position.Sequence));
        }

        Assert.Equal(Enumerable.Range(0, 25).Select(i => (long)i), seen);
        Assert.Equal(50, cursor.Position);
        store.Append(Alice, Created, Payload(98));
        store.Append(Bob, Created, Payload(99));
        Assert.Equal(25, Assert.Single(cursor.Poll()).Header.Position.Sequence);
        Assert.Empty(cursor.Poll());
    }

    [SkippableFact]
    public void OpenCursor_FromAGlobalSequence_StartsThere_AndSeekMovesItToAnother()
    {
        IEventStore store = OpenNew();
        for (int i = 0; i < 10; i++)
        {
            store.Append(Alice, Created, Payload(i));
        }

        using EventCursor cursor = store.OpenCursor(Region.All, fromGlobalSequence: 6);
        Assert.Equal(6, cursor.Position);
        Assert.Equal([6L, 7, 8, 9], GlobalSequences(cursor.Poll()));

        cursor.Seek(2);
        Assert.Equal([2L, 3], GlobalSequences(cursor.Poll(maxCount: 2)));
        Assert.Equal(4, cursor.Position);
        Assert.Null(cursor.Name);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.OpenCursor(Region.All, fromGlobalSequence: -1));
    }

    [SkippableFact]
    public async Task PollAsync_WaitsForTheNextMatchingEvent_SkipsOthers_AndHonoursCancellation()
    {
        IEventStore store = OpenNew();
        using EventCursor cursor = store.OpenCursor(Region.ForKind(Updated));
        using var timeout = new CancellationTokenSource(Bound);
        ValueTask<IReadOnlyList<StoredEvent>> waiting = cursor.PollAsync(cancellationToken: timeout.Token);
        Assert.False(waiting.IsCompleted);

        store.Append(Alice, Created, Payload(0)); // not matching
        AppendReceipt match = store.Append(Alice, Updated, Payload(1));

        Assert.Equal(match.EventId, Assert.Single(await waiting).Id);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cursor.PollAsync(cancellationToken: cancel.Token));
    }

    [SkippableFact]
    public async Task Cursor_ReadAllAsync_YieldsStoredThenNewEvents_AndEndsWhenTheStoreIsDisposed()
    {
        IEventStore store = OpenNew();
        store.Append(Alice, Created, Payload(0));
        using EventCursor cursor = store.OpenCursor(Region.All);
        using var timeout = new CancellationTokenSource(Bound);
        var seen = new List<string>();

        await foreach (StoredEvent e in cursor.ReadAllAsync(timeout.Token))
        {
            seen.Add(Text(e));
            if (seen.Count == 1)
            {
                store.Append(Alice, Created, Payload(1));
            }
            else
            {
                _ = Task.Run(store.Dispose, timeout.Token);
            }
        }

        Assert.Equal(["payload-0", "payload-1"], seen);
        Assert.False(timeout.IsCancellationRequested, "the enumeration ended by the timeout, not by the store closing");
    }

    [SkippableFact]
    public void NamedCursor_ResumesAfterItsLastCommit_AfterAReopen_AndEventsPolledAfterTheCommitAreDeliveredAgain()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        for (int i = 0; i < 10; i++)
        {
            store.Append(Alice, Created, Payload(i));
        }

        using (EventCursor cursor = store.OpenCursor(Region.All, "billing"))
        {
            Assert.Equal("billing", cursor.Name);
            Assert.Equal(4, cursor.Poll(4).Count);
            cursor.Commit();
            Assert.Equal(3, cursor.Poll(3).Count); // polled, not committed
        }

        using (EventCursor again = store.OpenCursor(Region.All, "billing"))
        {
            Assert.Equal(4, again.Position);
        }

        store = Reopen(store, setup);
        using EventCursor resumed = store.OpenCursor(Region.All, "billing");
        Assert.Equal(4, resumed.Position);
        Assert.Equal(Enumerable.Range(4, 6).Select(i => (long)i), GlobalSequences(resumed.Poll()));
        using EventCursor other = store.OpenCursor(Region.All, "reporting");
        Assert.Equal(0, other.Position);
    }

    [SkippableFact]
    public void NamedCursor_InvalidName_ThrowsArgumentException_AndAnUnnamedCursorsCommitThrowsInvalidOperation()
    {
        IEventStore store = OpenNew();

        foreach (string name in new[] { "", "../escape", "a/b", ".hidden", "sp ace", new string('n', 129) })
        {
            Assert.ThrowsAny<ArgumentException>(() => store.OpenCursor(Region.All, name));
        }

        using EventCursor valid = store.OpenCursor(Region.All, "Aa0.-_" + new string('n', 122));
        using EventCursor unnamed = store.OpenCursor(Region.All);
        Assert.Throws<InvalidOperationException>(unnamed.Commit);
    }
}
