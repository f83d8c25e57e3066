using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

/// <summary>
/// Appenders of every kind and readers of every kind on one store for a bounded time (5 s, times
/// <c>BATPAK_FAULT_ITERATIONS</c>), with small segments and a tiny file-handle budget so rotation and handle
/// eviction happen under the readers. Invariants are checked while running and at the end, and again after a reopen.
/// </summary>
public sealed class StressTests(ITestOutputHelper output)
{
    private static readonly Coordinate s_shared = new("shared:counter", "stress");

    private static byte[] PayloadOf(string entity, long writerSequence) => Encoding.UTF8.GetBytes($"{entity}|{writerSequence}|{new string('x', (int)(writerSequence % 300))}");

    [Fact]
    public async Task AppendersAndReaders_RunConcurrently_KeepEveryInvariant()
    {
        TimeSpan duration = TimeSpan.FromSeconds(5 * FaultSettings.Scale);
        using var dir = new TempDirectory();
        void Configure(BatpakOptions o)
        {
            o.SegmentMaxBytes = 64 * 1024;
            o.FileHandleBudget = 3;
            o.SyncEveryNEvents = 200;
        }

        var acked = new ConcurrentDictionary<EventId, (string Entity, byte[] Payload, AppendReceipt Receipt)>();
        var ackedIds = new ConcurrentQueue<EventId>();
        var errors = new ConcurrentQueue<string>();
        long reads = 0;
        using var stop = new CancellationTokenSource(duration);
        using EventStore store = TestEvents.Open(dir.Path, Configure);

        void Record(string entity, byte[] payload, AppendReceipt receipt)
        {
            if (!acked.TryAdd(receipt.EventId, (entity, payload, receipt)))
            {
                errors.Enqueue($"event id {receipt.EventId} acknowledged twice");
            }

            ackedIds.Enqueue(receipt.EventId);
        }

        Task Appender(int id, Func<int, long, Task> step) => Task.Run(async () =>
        {
            try
            {
                for (long n = 0; !stop.IsCancellationRequested; n++)
                {
                    await step(id, n);
                }
            }
            catch (Exception ex)
            {
                errors.Enqueue($"appender {id}: {ex}");
            }
        });

        var tasks = new List<Task>
        {
            // Sync appends, half durable, each on its own entities with optimistic concurrency.
            Appender(0, (id, n) =>
            {
                string entity = $"sync:{n % 5}";
                var c = new Coordinate(entity, "stress");
                byte[] p = PayloadOf(entity, n);
                Record(entity, p, store.Append(c, TestEvents.Created, p, new AppendOptions { Durable = n % 2 == 0, ExpectedSequence = (n / 5) - 1 }));
                return Task.CompletedTask;
            }),
            // Async (durable, group-committed) appends.
            Appender(1, async (id, n) =>
            {
                string entity = $"async:{n % 4}";
                byte[] p = PayloadOf(entity, n);
                Record(entity, p, await store.AppendAsync(new Coordinate(entity, "stress"), TestEvents.Updated, p));
            }),
            Appender(2, async (id, n) =>
            {
                string entity = $"async2:{n % 3}";
                byte[] p = PayloadOf(entity, n);
                Record(entity, p, await store.AppendAsync(new Coordinate(entity, "other"), TestEvents.Audit, p, new AppendOptions { IdempotencyKey = $"k{n}" }));
            }),
            // Atomic batches, alternately durable.
            Appender(3, (id, n) =>
            {
                var batch = new EventData[1 + (int)(n % 4)];
                for (int k = 0; k < batch.Length; k++)
                {
                    string entity = $"batch:{k}";
                    batch[k] = new EventData(new Coordinate(entity, "stress"), TestEvents.Created, PayloadOf(entity, (n * 10) + k));
                }

                IReadOnlyList<AppendReceipt> receipts = store.AppendBatch(batch, durable: n % 2 == 0);
                for (int k = 0; k < batch.Length; k++)
                {
                    Record(batch[k].Coordinate.Entity, batch[k].Payload.ToArray(), receipts[k]);
                }

                return Task.CompletedTask;
            }),
        };

        // Two appenders race on one entity: its sequence must still be gap-free.
        for (int s = 4; s < 6; s++)
        {
            tasks.Add(Appender(s, (id, n) =>
            {
                byte[] p = PayloadOf(s_shared.Entity, (n * 10) + id);
                Record(s_shared.Entity, p, store.Append(s_shared, TestEvents.Created, p));
                return Task.CompletedTask;
            }));
        }

        Task Reader(int id, Action<Random> read) => Task.Run(() =>
        {
            var random = new Random(id);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    read(random);
                    Interlocked.Increment(ref reads);
                }
            }
            catch (Exception ex)
            {
                errors.Enqueue($"reader {id}: {ex}");
            }
        });

        tasks.Add(Reader(10, random =>
        {
            // Every acknowledged event is readable, byte for byte.
            EventId[] ids = ackedIds.ToArray();
            for (int i = 0; i < 20 && ids.Length > 0; i++)
            {
                EventId id = ids[random.Next(ids.Length)];
                StoredEvent e = store.Get(id);
                (string entity, byte[] payload, AppendReceipt receipt) = acked[id];
                if (e.Coordinate.Entity != entity || !e.Payload.Span.SequenceEqual(payload) || e.Header.GlobalSequence != receipt.GlobalSequence)
                {
                    errors.Enqueue($"Get({id}) returned a different event");
                }
            }
        }));
        tasks.Add(Reader(11, random =>
        {
            // A stream is a gap-free prefix 0..n of its entity.
            string entity = random.Next(3) switch { 0 => s_shared.Entity, 1 => $"sync:{random.Next(5)}", _ => $"batch:{random.Next(4)}" };
            long expected = 0;
            foreach (StoredEvent e in store.Stream(entity))
            {
                if (e.Header.Position.Sequence != expected++)
                {
                    errors.Enqueue($"Stream({entity}) has sequence {e.Header.Position.Sequence} where {expected - 1} belongs");
                    break;
                }
            }
        }));
        tasks.Add(Reader(12, random =>
        {
            // ReadPage pages and Read results are in strictly increasing global order; ReadPage has no gaps.
            long from = random.Next(2) == 0 ? 0 : Math.Max(0, store.GetStats().NextGlobalSequence - 500);
            long next = from;
            EventPage page = store.ReadPage(from, 250);
            foreach (StoredEvent e in page.Events)
            {
                if (e.Header.GlobalSequence != next++)
                {
                    errors.Enqueue($"ReadPage({from}) skipped to {e.Header.GlobalSequence} where {next - 1} belongs");
                    break;
                }
            }

            long last = -1;
            foreach (StoredEvent e in store.Read(Region.ForScope("stress").WithKinds(KindFilter.Category(0x1)).WithGlobalSequence(from)).Take(300))
            {
                if (e.Header.GlobalSequence <= last || e.Coordinate.Scope != "stress" || e.Kind.Category != 0x1)
                {
                    errors.Enqueue($"Read returned {e} after {last}");
                    break;
                }

                last = e.Header.GlobalSequence;
            }
        }));

        // A push subscriber: lossy, but what it gets is acknowledged and in strictly increasing global order.
        using Subscription subscription = store.Subscribe(Region.All, capacity: 256);
        long delivered = 0;
        tasks.Add(Task.Run(async () =>
        {
            long last = -1;
            try
            {
                await foreach (StoredEvent e in subscription.ReadAllAsync(stop.Token))
                {
                    if (e.Header.GlobalSequence <= last)
                    {
                        errors.Enqueue($"subscription delivered {e.Header.GlobalSequence} after {last}");
                    }

                    last = e.Header.GlobalSequence;
                    delivered++;
                }
            }
            catch (OperationCanceledException)
            {
            }
        }));

        // A pull cursor: guaranteed delivery, checked against the full log at the end.
        var cursorSeen = new List<long>();
        using EventCursor cursor = store.OpenCursor(Region.All, "stress");
        tasks.Add(Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    foreach (StoredEvent e in await cursor.PollAsync(500, stop.Token))
                    {
                        cursorSeen.Add(e.Header.GlobalSequence);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }));

        // Compaction rewrites sealed segments under the readers and appenders.
        int compactions = 0;
        tasks.Add(Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    store.Compact(new CompactionOptions { Retain = static _ => true });
                    compactions++;
                    await Task.Delay(200, stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex)
            {
                errors.Enqueue($"compaction: {ex}");
            }
        }));

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(tasks);
        Assert.True(errors.IsEmpty, string.Join(Environment.NewLine, errors.Take(10)));

        // At the end: counts, per-entity order, global order, chains; then the same after a reopen.
        List<StoredEvent> all = CheckFinal(store, acked);
        cursorSeen.AddRange(cursor.Poll(int.MaxValue).Select(e => e.Header.GlobalSequence));
        Assert.Equal(all.Select(e => e.Header.GlobalSequence), cursorSeen);
        Assert.True(delivered + subscription.DroppedCount > 0, "the subscription saw the appends");
        Assert.True(compactions > 0, "compaction ran during the stress");
        StoreStats stats = store.GetStats();
        output.WriteLine($"{duration.TotalSeconds:F0} s: {acked.Count} appends, {Interlocked.Read(ref reads)} read rounds, {stats.SegmentCount} segments, {stats.SyncCount} fsyncs, {stats.BatchCount} writer batches, {compactions} compactions, {delivered} pushed / {subscription.DroppedCount} dropped ({clock.Elapsed.TotalSeconds:F1} s)");
        store.Dispose();
        using EventStore reopened = TestEvents.Open(dir.Path, Configure);
        Assert.Equal(all.Select(e => e.Id), CheckFinal(reopened, acked).Select(e => e.Id));
        Assert.Null(reopened.GetStats().Recovery.TruncationReason);
    }

    private static List<StoredEvent> CheckFinal(EventStore store, ConcurrentDictionary<EventId, (string Entity, byte[] Payload, AppendReceipt Receipt)> acked)
    {
        var all = new List<StoredEvent>();
        for (long from = 0; ;)
        {
            EventPage page = store.ReadPage(from, 5000);
            all.AddRange(page.Events);
            from = page.NextGlobalSequence;
            if (page.IsEnd)
            {
                break;
            }
        }

        Assert.Equal(acked.Count, all.Count);
        Assert.Equal(Enumerable.Range(0, all.Count).Select(i => (long)i), all.Select(e => e.Header.GlobalSequence));
        var perEntity = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (StoredEvent e in all)
        {
            (string entity, byte[] payload, AppendReceipt receipt) = acked[e.Id];
            Assert.Equal(entity, e.Coordinate.Entity);
            Assert.True(e.Payload.Span.SequenceEqual(payload));
            Assert.Equal(receipt.GlobalSequence, e.Header.GlobalSequence);
            long expected = perEntity.TryGetValue(entity, out long last) ? last + 1 : 0;
            Assert.Equal(expected, e.Header.Position.Sequence);
            Assert.Equal(receipt.EntitySequence, e.Header.Position.Sequence);
            perEntity[entity] = expected;
        }

        foreach ((string entity, long last) in perEntity)
        {
            Assert.Equal(last, store.GetLastSequence(entity));
            Assert.Equal(last + 1, store.Stream(entity).Count());
        }

        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, chain.Failure);
        Assert.Equal(all.Count, chain.EventsChecked);
        return all;
    }

    [Fact]
    public void Dispose_WhileReadersRun_TheyGetObjectDisposedAndNothingElse()
    {
        // The index and the mappings live outside the GC heap: a read racing Dispose must end with
        // ObjectDisposedException, never with a read of freed memory or any other error.
        for (int round = 0; round < 5; round++)
        {
            using var dir = new TempDirectory();
            var store = TestEvents.Open(dir.Path, o =>
            {
                o.SegmentMaxBytes = 8 * 1024;
                o.FileHandleBudget = 3;
            });
            var ids = new List<EventId>();
            for (int i = 0; i < 600; i++)
            {
                ids.Add(store.Append(new Coordinate($"e{i % 20}", $"s{i % 3}"), TestEvents.Created, TestEvents.Payload(i)).EventId);
            }

            var unexpected = new ConcurrentQueue<Exception>();
            long reads = 0;
            using var started = new CountdownEvent(3);
            // Dedicated threads: three spinning readers would starve a two-core thread pool.
            Thread[] readers = Enumerable.Range(0, 3).Select(t => new Thread(() =>
            {
                var random = new Random(round * 10 + t);
                started.Signal();
                try
                {
                    while (true)
                    {
                        if (t == 0)
                        {
                            Assert.True(store.TryGet(ids[random.Next(ids.Count)], out StoredEvent? read));
                            Assert.NotNull(read);
                        }
                        else if (t == 1)
                        {
                            Assert.Equal(30, store.Stream($"e{random.Next(20)}").Count());
                        }
                        else
                        {
                            Assert.Equal(200, store.Read(Region.ForScope($"s{random.Next(3)}")).Count());
                        }

                        Interlocked.Increment(ref reads);
                    }
                }
                catch (ObjectDisposedException)
                {
                }
                catch (Exception ex)
                {
                    unexpected.Enqueue(ex);
                }
            })).ToArray();

            foreach (Thread reader in readers)
            {
                reader.Start();
            }

            started.Wait();
            Thread.Sleep(50 + (round * 20));
            store.Dispose();
            foreach (Thread reader in readers)
            {
                Assert.True(reader.Join(TimeSpan.FromSeconds(30)), "a reader did not stop after Dispose");
            }

            Assert.True(unexpected.IsEmpty, string.Join(Environment.NewLine, unexpected));
            output.WriteLine($"round {round}: {Interlocked.Read(ref reads)} reads before Dispose");
        }
    }
}
