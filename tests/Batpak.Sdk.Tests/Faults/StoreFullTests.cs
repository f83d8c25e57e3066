namespace Batpak.Tests.Faults;

/// <summary>
/// The index's capacity (issue 14: past the id map's limit the writer used to fail after the batch was written and
/// fsynced, leaving a half-published batch). A test lowers the capacity (BatpakOptions.IndexCapacity, internal) so
/// the limit is reached: every append kind is refused with <see cref="StoreFullException"/> before any byte is
/// written, the writer stays healthy, repeats of stored keys still answer, and the store reopens with exactly the
/// acknowledged events.
/// </summary>
public sealed class StoreFullTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");

    private static EventStore Open(TempDirectory dir, long capacity) => TestEvents.Open(dir.Path, o => o.IndexCapacity = capacity);

    private static long SegmentBytes(TempDirectory dir) => Directory.EnumerateFiles(dir.Path, "*" + Batpak.Storage.FrameFormat.SegmentExtension).Sum(f => new FileInfo(f).Length);

    [Fact]
    public async Task Append_AtCapacity_EveryKindRefusedBeforeWriting_WriterHealthy_KeyRepeatsAnswer_ReopenHoldsTheAcknowledged()
    {
        using var dir = new TempDirectory();
        AppendReceipt keyed;
        using (EventStore store = Open(dir, capacity: 10))
        {
            keyed = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0), new AppendOptions { IdempotencyKey = "k-0" });
            for (int i = 1; i < 9; i++)
            {
                store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i));
            }

            long before = SegmentBytes(dir);
            var batch = Assert.Throws<StoreFullException>(() => store.AppendBatch([new(s_alice, TestEvents.Created, TestEvents.Payload(9)), new(s_alice, TestEvents.Created, TestEvents.Payload(10))]));
            Assert.Equal((9L, 2L, 10L), (batch.Events, batch.Requested, batch.Capacity));
            Assert.Contains("refused before anything was written", batch.Message, StringComparison.Ordinal);
            Assert.Equal(before, SegmentBytes(dir));

            Assert.Equal(9, store.Append(s_alice, TestEvents.Created, TestEvents.Payload(9)).GlobalSequence); // the tenth fits
            before = SegmentBytes(dir);
            Assert.Throws<StoreFullException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(10)));
            await Assert.ThrowsAsync<StoreFullException>(() => store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(10)).AsTask());
            Assert.Throws<StoreFullException>(() => store.AppendBatch([new(s_alice, TestEvents.Created, TestEvents.Payload(10))]));
            Assert.Equal(before, SegmentBytes(dir));

            // A repeat needs no room: the stored key's receipt comes back, alone or in a batch.
            Assert.Equal(keyed, store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0), new AppendOptions { IdempotencyKey = "k-0" }));
            var receipts = store.AppendBatch([new(s_alice, TestEvents.Created, TestEvents.Payload(0), new AppendOptions { IdempotencyKey = "k-0" })]);
            Assert.Equal(keyed.EventId, Assert.Single(receipts).EventId);

            // The writer is not faulted: a sync goes through, reads and verification see the ten events.
            store.Sync();
            Assert.Equal(10, store.GetStats().EventCount);
            Assert.Equal(10, store.Stream(s_alice.Entity).Count());
            Assert.True(store.VerifyAll().IsValid);
        }

        using (EventStore reopened = Open(dir, capacity: 10))
        {
            Assert.Equal(10, reopened.GetStats().EventCount);
            Assert.Equal(9, reopened.GetLastSequence(s_alice.Entity));
            Assert.True(reopened.VerifyAll().IsValid);
            Assert.Throws<StoreFullException>(() => reopened.Append(s_alice, TestEvents.Created, TestEvents.Payload(10)));
        }

        using EventStore larger = Open(dir, capacity: 11);
        Assert.Equal(10, larger.Append(s_alice, TestEvents.Created, TestEvents.Payload(10)).GlobalSequence);
    }

    [Fact]
    public async Task Append_ConcurrentAppendsInOneWriterBatch_ExactlyTheRoomLeftSucceed_NoGapNoPartialBatch()
    {
        using var dir = new TempDirectory();
        const int Capacity = 20;
        using (EventStore store = Open(dir, Capacity))
        {
            // Singles and atomic batches race into the writer's batches: room is counted across what a batch staged.
            var appends = new List<Task<bool>>();
            for (int t = 0; t < 16; t++)
            {
                int n = t;
                appends.Add(Task.Run(() =>
                {
                    try
                    {
                        if (n % 2 == 0)
                        {
                            store.AppendBatch([new(new Coordinate("acct:" + n, "bank"), TestEvents.Created, TestEvents.Payload(n)), new(new Coordinate("acct:" + n, "bank"), TestEvents.Created, TestEvents.Payload(n + 100))]);
                        }
                        else
                        {
                            store.Append(new Coordinate("acct:" + n, "bank"), TestEvents.Created, TestEvents.Payload(n));
                        }

                        return true;
                    }
                    catch (StoreFullException)
                    {
                        return false;
                    }
                }));
            }

            bool[] done = await Task.WhenAll(appends);
            long stored = store.GetStats().EventCount;
            long acknowledged = done.Select((ok, n) => ok ? (n % 2 == 0 ? 2 : 1) : 0).Sum();
            Assert.Equal(acknowledged, stored);
            Assert.True(stored <= Capacity, $"{stored} events in an index of {Capacity}");
            Assert.True(stored >= Capacity - 1, $"only {stored} of {Capacity}: a refusal left room unused"); // a refused batch of 2 may leave 1
            for (int n = 0; n < 16; n++)
            {
                Assert.Equal(done[n] ? (n % 2 == 0 ? 2 : 1) : 0, store.Stream("acct:" + n).Count()); // all of a batch or none
            }

            Assert.True(store.VerifyAll().IsValid);
        }

        using EventStore reopened = Open(dir, Capacity);
        Assert.True(reopened.VerifyAll().IsValid);
        Assert.Equal(Enumerable.Range(0, (int)reopened.GetStats().EventCount).Select(i => (long)i), reopened.Read(Region.All).Select(e => e.Header.GlobalSequence));
    }
}
