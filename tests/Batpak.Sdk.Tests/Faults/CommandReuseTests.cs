// Owns the regression tests for write-command completion: a synchronous caller's thread-static command is completed
// exactly once per use, so a caller that wakes and reuses it is never completed by a stale reply, and a batch is
// never half staged while its caller gets an error.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class CommandReuseTests(ITestOutputHelper output)
{
    [Fact]
    public void AppendAndAppendBatch_MaxBatchEventsOne_EightThreads_EveryReceiptIsTheCallersOwn() =>
        RunReuseRace(o => o.MaxBatchEvents = 1, "MaxBatchEvents = 1");

    [Fact]
    public void AppendAndAppendBatch_DefaultBatching_EightThreads_EveryReceiptIsTheCallersOwn() =>
        RunReuseRace(_ => { }, "default batching");

    [Fact]
    public void AppendBatch_StagingFailsMidBatch_NothingOfTheBatchIsWritten_AndTheWriterGoesOn()
    {
        using var dir = new TempDirectory();
        var alice = new Coordinate("acct:alice", "bank");
        AppendReceipt first;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            first = store.Append(alice, TestEvents.Created, TestEvents.Payload(0));
            int staged = 0;
            store.Writer.FaultInjector = op =>
            {
                // The third event of the batch fails after two were staged (a check the batch validation missed).
                if (op == "stage" && ++staged == 3)
                {
                    throw new SequenceMismatchException("acct:alice", 7, 8);
                }
            };

            EventData[] batch = Enumerable.Range(1, 4).Select(i => new EventData(alice, TestEvents.Created, TestEvents.Payload(i))).ToArray();
            Exception error = Assert.ThrowsAny<Exception>(() => store.AppendBatch(batch));
            output.WriteLine($"batch failed with {error.GetType().Name}: {error.Message}");
            Assert.IsType<WriterCrashedException>(error);
            store.Writer.FaultInjector = null;
            Assert.Equal([first.EventId], store.Stream(alice.Entity).Select(e => e.Id));

            AppendReceipt next = store.Append(alice, TestEvents.Updated, TestEvents.Payload(9));
            Assert.Equal(1, next.EntitySequence);
            Assert.Equal(1, next.GlobalSequence);
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        Assert.Equal(2, reopened.GetStats().EventCount);
        Assert.True(reopened.VerifyAll().IsValid);
    }

    /// <summary>
    /// Eight threads mix single appends and batches of 1-5 events with unique payloads. Every receipt must be the
    /// caller's own: non-default, a global sequence nobody else got, consecutive within a batch, and naming an event
    /// whose payload is the one that call wrote.
    /// </summary>
    private void RunReuseRace(Action<BatpakOptions> configure, string label)
    {
        const int Threads = 8;
        TimeSpan duration = TimeSpan.FromSeconds(2 * FaultSettings.Scale);
        int seed = FaultSettings.Seed();
        output.WriteLine($"seed {seed}, {label}");
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path, configure);
        var calls = new ConcurrentQueue<(Coordinate Coordinate, byte[][] Payloads, AppendReceipt[] Receipts)>();
        var errors = new ConcurrentQueue<string>();
        long tried = 0;
        long appends = 0;
        var clock = Stopwatch.StartNew();

        Thread[] workers = Enumerable.Range(0, Threads).Select(t => Background(() =>
        {
            var random = new Random(seed + t);
            try
            {
                for (int n = 0; clock.Elapsed < duration; n++)
                {
                    var coordinate = new Coordinate($"acct:{random.Next(4)}", "reuse");
                    int size = random.Next(2) == 0 ? 0 : random.Next(1, 6); // 0: a single Append
                    byte[][] payloads = Enumerable.Range(0, Math.Max(size, 1))
                        .Select(j => Encoding.UTF8.GetBytes($"t{t}-n{n}-e{j}")).ToArray();
                    Interlocked.Add(ref tried, payloads.Length);
                    AppendReceipt[] receipts = size == 0
                        ? [store.Append(coordinate, TestEvents.Created, payloads[0])]
                        : store.AppendBatch(payloads.Select(p => new EventData(coordinate, TestEvents.Created, p)).ToArray()).ToArray();
                    calls.Enqueue((coordinate, payloads, receipts));
                    Interlocked.Add(ref appends, payloads.Length);
                }
            }
            catch (Exception ex)
            {
                errors.Enqueue($"thread {t}: {ex}");
            }
        })).ToArray();

        foreach (Thread worker in workers)
        {
            worker.Start();
        }

        foreach (Thread worker in workers)
        {
            Assert.True(worker.Join(duration + TimeSpan.FromSeconds(60)), "an appender hung");
        }

        var seen = new HashSet<long>();
        int checkedEvents = 0;
        int lost = 0;
        int wrong = 0;
        foreach ((Coordinate coordinate, byte[][] payloads, AppendReceipt[] receipts) in calls)
        {
            if (receipts.Length != payloads.Length)
            {
                wrong++;
                errors.Enqueue($"a call of {payloads.Length} events got {receipts.Length} receipts");
                continue;
            }

            for (int i = 0; i < receipts.Length; i++)
            {
                AppendReceipt r = receipts[i];
                checkedEvents++;
                if (r.EventId.IsEmpty)
                {
                    wrong++;
                    errors.Enqueue($"default receipt for {Encoding.UTF8.GetString(payloads[i])}");
                    continue;
                }

                if (!seen.Add(r.GlobalSequence))
                {
                    wrong++;
                    errors.Enqueue($"global sequence {r.GlobalSequence} handed out twice (to {Encoding.UTF8.GetString(payloads[i])})");
                }

                if (i > 0 && r.GlobalSequence != receipts[i - 1].GlobalSequence + 1)
                {
                    wrong++;
                    errors.Enqueue($"batch receipts not consecutive: {receipts[i - 1].GlobalSequence} then {r.GlobalSequence}");
                }

                if (!store.TryGet(r.EventId, out StoredEvent? stored))
                {
                    lost++;
                    errors.Enqueue($"event {r.EventId} ({Encoding.UTF8.GetString(payloads[i])}) acknowledged but not stored");
                }
                else if (!stored.Payload.Span.SequenceEqual(payloads[i]) || stored.Coordinate != coordinate)
                {
                    wrong++;
                    errors.Enqueue($"event {r.EventId}: wrote {Encoding.UTF8.GetString(payloads[i])} to {coordinate}, stored {Encoding.UTF8.GetString(stored.Payload.Span)} in {stored.Coordinate}");
                }
            }
        }

        long storedCount = store.GetStats().EventCount;
        output.WriteLine($"reuse race: {tried} appends, {checkedEvents} acknowledged checked, {lost} lost, {wrong} wrong; {storedCount} stored");
        foreach (string error in errors.Take(10))
        {
            output.WriteLine(error);
        }

        Assert.True(errors.IsEmpty, errors.FirstOrDefault());
        Assert.Equal(tried, appends);
        Assert.Equal(appends, checkedEvents);
        Assert.Equal(appends, storedCount);
        Assert.True(store.VerifyAll().IsValid);
    }

    private static Thread Background(ThreadStart body) => new(body) { IsBackground = true };
}
