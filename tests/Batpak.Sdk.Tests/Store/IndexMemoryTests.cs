namespace Batpak.Tests.Store;

/// <summary>
/// <see cref="StoreStats.IndexMemoryBytes"/> (issue 14: GetStats reports the index's memory): it counts at least the
/// entries the index holds, grows with history and with idempotency keys, and stays about the same when a reopen
/// rebuilds the index.
/// </summary>
public sealed class IndexMemoryTests
{
    private const int EntryBytes = 120; // IndexEntry today; the figure must cover at least one per event

    [Fact]
    public void GetStats_IndexMemory_CoversEveryEntry_GrowsWithEventsAndKeys_AndSurvivesReopen()
    {
        using var dir = new TempDirectory();
        long empty, plain, keyed;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            empty = store.GetStats().IndexMemoryBytes;
            Assert.True(empty > 0, "the id map and the first chunk are allocated at open");

            var batch = Enumerable.Range(0, 1000).Select(i => new EventData(new Coordinate("acct:" + (i % 100), "bank"), TestEvents.Created, TestEvents.Payload(i))).ToList();
            for (int b = 0; b < 20; b++)
            {
                store.AppendBatch(batch);
            }

            plain = store.GetStats().IndexMemoryBytes;
            Assert.True(plain >= 20_000L * EntryBytes, $"{plain} bytes for 20,000 events");
            Assert.True(plain < 20_000L * 1_000, $"{plain} bytes for 20,000 events: more than 1 KB each");

            for (int i = 0; i < 2_000; i++)
            {
                store.Append(new Coordinate("acct:k", "bank"), TestEvents.Created, TestEvents.Payload(i), new AppendOptions { IdempotencyKey = "order-" + i });
            }

            keyed = store.GetStats().IndexMemoryBytes; // the entries fit in chunks already allocated: what grows is the keys
            Assert.True(keyed - plain >= 2_000L * 100, $"2,000 keyed events added only {keyed - plain} bytes");
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        long rebuilt = reopened.GetStats().IndexMemoryBytes;
        Assert.InRange(rebuilt, keyed / 2, keyed * 2); // capacities may be sized differently by a rebuild, the contents are the same
    }
}
