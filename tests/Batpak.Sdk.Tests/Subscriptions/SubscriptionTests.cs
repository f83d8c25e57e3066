namespace Batpak.Tests.Subscriptions;

public class SubscriptionTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_log = new("audit:log", "ops");

    [Fact]
    public async Task Subscribe_DeliversNewMatchingEventsInOrder_NotOlderOnes()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        store.Append(s_alice, TestEvents.Created, TestEvents.Payload(-1)); // before subscribing: not delivered
        using Subscription subscription = store.Subscribe(Region.ForScope("bank"));

        var expected = new List<EventId>();
        for (int i = 0; i < 20; i++)
        {
            expected.Add(store.Append(s_alice, TestEvents.Updated, TestEvents.Payload(i)).EventId);
            store.Append(s_log, TestEvents.Audit, TestEvents.Payload(i)); // other scope: not delivered
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = new List<EventId>();
        await foreach (StoredEvent e in subscription.ReadAllAsync(timeout.Token))
        {
            received.Add(e.Id);
            if (received.Count == expected.Count)
            {
                break;
            }
        }

        Assert.Equal(expected, received);
        Assert.Equal(0, subscription.DroppedCount);
    }

    [Fact]
    public async Task Subscribe_SlowConsumer_DropsAndCountsWithoutBlockingTheWriter()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        using Subscription subscription = store.Subscribe(Region.All, capacity: 4);
        for (int i = 0; i < 100; i++)
        {
            store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i)); // nobody reads meanwhile
        }

        // Wait until the dispatcher has offered all 100 events: 4 buffered, the rest dropped.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (subscription.DroppedCount + subscription.Reader.Count < 100)
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.Equal(4, subscription.Reader.Count);
        Assert.Equal(96, subscription.DroppedCount);
        Assert.True(subscription.Reader.TryRead(out StoredEvent? first));
        Assert.Equal(0, first.Header.GlobalSequence);
    }

    [Fact]
    public async Task Dispose_OfStore_CompletesSubscriptions()
    {
        using var dir = new TempDirectory();
        EventStore store = TestEvents.Open(dir.Path);
        Subscription subscription = store.Subscribe(Region.All);
        store.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await subscription.Reader.Completion.WaitAsync(timeout.Token);
        Assert.Throws<ObjectDisposedException>(() => store.Subscribe(Region.All));
    }
}

public class EventCursorTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_bob = new("acct:bob", "bank");

    [Fact]
    public void Poll_DeliversEveryMatchingEventOnceInOrder_InPages()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        for (int i = 0; i < 50; i++)
        {
            store.Append(i % 2 == 0 ? s_alice : s_bob, TestEvents.Created, TestEvents.Payload(i));
        }

        using EventCursor cursor = store.OpenCursor(Region.ForEntity(s_bob.Entity));
        var seen = new List<long>();
        IReadOnlyList<StoredEvent> page;
        while ((page = cursor.Poll(maxCount: 7)).Count > 0)
        {
            seen.AddRange(page.Select(e => e.Header.Position.Sequence));
        }

        Assert.Equal(Enumerable.Range(0, 25).Select(i => (long)i), seen);
        Assert.Equal(50, cursor.Position);
        store.Append(s_bob, TestEvents.Created, TestEvents.Payload(99));
        Assert.Equal(25, Assert.Single(cursor.Poll()).Header.Position.Sequence);
        Assert.Empty(cursor.Poll());
    }

    [Fact]
    public async Task PollAsync_WaitsForTheNextMatchingEvent()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        using EventCursor cursor = store.OpenCursor(Region.ForKind(TestEvents.Updated));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        ValueTask<IReadOnlyList<StoredEvent>> waiting = cursor.PollAsync(cancellationToken: timeout.Token);
        Assert.False(waiting.IsCompleted);
        store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0)); // not matching
        AppendReceipt match = store.Append(s_alice, TestEvents.Updated, TestEvents.Payload(1));
        IReadOnlyList<StoredEvent> events = await waiting;
        Assert.Equal(match.EventId, Assert.Single(events).Id);

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cursor.PollAsync(cancellationToken: cancel.Token));
    }

    [Fact]
    public void NamedCursor_ResumesFromCommittedPosition_AcrossRestart()
    {
        using var dir = new TempDirectory();
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            for (int i = 0; i < 10; i++)
            {
                store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i));
            }

            using EventCursor cursor = store.OpenCursor(Region.All, "billing");
            Assert.Equal(4, cursor.Poll(4).Count);
            cursor.Commit();
            Assert.Equal(3, cursor.Poll(3).Count); // read but not committed: delivered again after restart
        }

        using (EventStore reopened = TestEvents.Open(dir.Path))
        {
            using EventCursor resumed = reopened.OpenCursor(Region.All, "billing");
            Assert.Equal(4, resumed.Position);
            Assert.Equal(Enumerable.Range(4, 6).Select(i => (long)i), resumed.Poll().Select(e => e.Header.GlobalSequence));
            using EventCursor other = reopened.OpenCursor(Region.All, "reporting");
            Assert.Equal(0, other.Position);
            Assert.Throws<ArgumentException>(() => reopened.OpenCursor(Region.All, "../escape"));
            Assert.Throws<InvalidOperationException>(() => reopened.OpenCursor(Region.All).Commit());
        }
    }
}
