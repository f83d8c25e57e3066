using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of push subscriptions: events appended after Subscribe, inside the region, in order; bounded by the
// capacity, with the newest events dropped and counted for a consumer that does not read, never blocking appends;
// completed by disposing the subscription or the store.
public abstract partial class EventStoreContract
{
    [SkippableFact]
    public async Task Subscribe_DeliversOnlyEventsAppendedAfterIt_InsideTheRegion_InGlobalOrder()
    {
        IEventStore store = OpenNew();
        store.Append(Alice, Created, Payload(-1)); // before subscribing: not delivered
        using Subscription subscription = store.Subscribe(Region.ForScope("bank"));
        var expected = new List<EventId>();
        for (int i = 0; i < 20; i++)
        {
            expected.Add(store.Append(i % 2 == 0 ? Alice : Bob, Updated, Payload(i)).EventId);
            store.Append(Log, Audit, Payload(i)); // another scope: not delivered
        }

        var received = new List<EventId>();
        using var timeout = new CancellationTokenSource(Bound);
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
        Assert.False(subscription.Reader.TryRead(out _));
    }

    [SkippableFact]
    public void Subscribe_ReportsItsRegionCapacityAndTheStoresEndAsItsStart()
    {
        IEventStore store = OpenNew();
        store.Append(Alice, Created, Payload(0));
        store.Append(Alice, Created, Payload(1));
        Region region = Region.ForEntity(Alice.Entity);

        using Subscription subscription = store.Subscribe(region, capacity: 7);

        Assert.Equal((region, 7, 2L), (subscription.Region, subscription.Capacity, subscription.StartGlobalSequence));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Subscribe(Region.All, capacity: 0));
    }

    [SkippableFact]
    public async Task Subscribe_ConsumerThatDoesNotRead_KeepsTheFirstCapacityEvents_CountsTheRestAsDropped_AndAppendsDoNotWait()
    {
        IEventStore store = OpenNew();
        using Subscription subscription = store.Subscribe(Region.All, capacity: 4);
        for (int i = 0; i < 100; i++)
        {
            store.Append(Alice, Created, Payload(i)); // nobody reads meanwhile
        }

        using var timeout = new CancellationTokenSource(Bound);
        while (subscription.DroppedCount + subscription.Reader.Count < 100)
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.Equal((4, 96L), (subscription.Reader.Count, subscription.DroppedCount));
        var buffered = new List<long>();
        while (subscription.Reader.TryRead(out StoredEvent? e))
        {
            buffered.Add(e.Header.GlobalSequence);
        }

        Assert.Equal([0L, 1, 2, 3], buffered);
        AppendReceipt later = store.Append(Alice, Created, Payload(100));
        StoredEvent delivered = await subscription.Reader.ReadAsync(timeout.Token);
        Assert.Equal(later.EventId, delivered.Id);
    }

    [SkippableFact]
    public async Task Subscription_Dispose_CompletesItsReader_AndLaterAppendsAreNotDelivered()
    {
        IEventStore store = OpenNew();
        Subscription subscription = store.Subscribe(Region.All);
        Subscription other = store.Subscribe(Region.All);

        subscription.Dispose();
        subscription.Dispose();
        AppendReceipt receipt = store.Append(Alice, Created, Payload(0));

        using var timeout = new CancellationTokenSource(Bound);
        await subscription.Reader.Completion.WaitAsync(timeout.Token);
        Assert.False(subscription.Reader.TryRead(out _));
        Assert.Equal(receipt.EventId, (await other.Reader.ReadAsync(timeout.Token)).Id);
        other.Dispose();
    }

    [SkippableFact]
    public async Task Dispose_OfTheStore_CompletesItsSubscriptions()
    {
        IEventStore store = OpenNew();
        Subscription subscription = store.Subscribe(Region.All);

        store.Dispose();

        using var timeout = new CancellationTokenSource(Bound);
        await subscription.Reader.Completion.WaitAsync(timeout.Token);
        subscription.Dispose();
    }
}
