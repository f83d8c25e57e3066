namespace Batpak.Tests.Store;

/// <summary>
/// Event ids keep the store's append order across restarts, also when the wall clock reads earlier than it did before
/// (a clock set back, a VM restored from a snapshot): the writer's id generator starts above the largest id the store
/// holds (kept, or dropped by compaction). docs/INDEX.md relies on it (a segment whose ids ascend needs no sorted id table).
/// </summary>
public sealed class EventIdOrderTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly DateTimeOffset s_start = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static List<EventId> IdsInGlobalOrder(EventStore store) => [.. store.Read(Region.All).Select(e => e.Header.EventId)];

    [Fact]
    public void Reopen_ClockSetBack_NewIdsAreStillAboveEveryStoredId_InGlobalOrder()
    {
        using var dir = new TempDirectory();
        var clock = new ManualTimeProvider(s_start);
        using (EventStore store = TestEvents.Open(dir.Path, time: clock))
        {
            for (int i = 0; i < 5; i++)
            {
                store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i)); // five in one millisecond: the counter orders them
            }
        }

        clock.Set(s_start - TimeSpan.FromHours(1));
        using (EventStore store = TestEvents.Open(dir.Path, time: clock))
        {
            for (int i = 5; i < 10; i++)
            {
                store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i));
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }

            List<EventId> ids = IdsInGlobalOrder(store);
            Assert.Equal(10, ids.Count);
            Assert.Equal(ids.Order(), ids);
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.Equal(s_start.ToUnixTimeMilliseconds(), ids[5].UnixMilliseconds); // carried the stored millisecond, not the earlier clock
        }

        // Once the clock passes the stored ids again, ids carry the clock's time.
        clock.Set(s_start + TimeSpan.FromSeconds(1));
        using EventStore later = TestEvents.Open(dir.Path, time: clock);
        AppendReceipt next = later.Append(s_alice, TestEvents.Created, TestEvents.Payload(10));
        Assert.Equal((s_start + TimeSpan.FromSeconds(1)).ToUnixTimeMilliseconds(), next.EventId.UnixMilliseconds);
        Assert.Equal(IdsInGlobalOrder(later).Order(), IdsInGlobalOrder(later));
    }
}
