using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

/// <summary>Limits and bad input: oversized events, invalid coordinates, a full disk.</summary>
public sealed class LimitsTests(ITestOutputHelper output)
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");

    [Fact]
    public void Append_PayloadOverMaxEventBytes_CountsThePayloadExactly_AndAPayloadUnderTheLimitWhoseFrameIsOver_ThrowsEventTooLarge()
    {
        // Every append kind refusing an oversized payload is in the contract (EventStoreContract.Append.cs); this is
        // the embedded engine's own arithmetic: the payload alone, then the encoded frame, against MaxEventBytes.
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path, o => o.MaxEventBytes = 2048);
        store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0));

        var ex = Assert.Throws<EventTooLargeException>(() => store.Append(s_alice, TestEvents.Created, new byte[2049]));
        Assert.Equal((2049L, 2048L), (ex.ActualBytes, ex.MaxBytes));
        Assert.Contains("MaxEventBytes", ex.Message, StringComparison.Ordinal);

        // A payload under the limit whose frame (header fields + coordinate + payload) is over it is refused by the writer.
        byte[] frameTooBig = new byte[2000];
        var framed = Assert.Throws<EventTooLargeException>(() => store.Append(s_alice, TestEvents.Created, frameTooBig));
        Assert.True(framed.ActualBytes > 2048, framed.Message);
        Assert.Throws<EventTooLargeException>(() => store.AppendBatch([new(s_alice, TestEvents.Created, frameTooBig)]));

        Assert.Equal(1, store.GetStats().EventCount);
        Assert.Equal(1, store.Append(s_alice, TestEvents.Created, new byte[1500]).GlobalSequence);
        Assert.True(store.VerifyAll().IsValid);
    }

    [Fact]
    public void Options_MaxEventBytesOutOfRange_IsRejectedAtOpen()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => TestEvents.Open(dir.Path, o => o.MaxEventBytes = 100));
        Assert.Contains("MaxEventBytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Append_InvalidCoordinatesAndKeys_ThrowArgumentExceptionForEveryAppendKind()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        Assert.Throws<ArgumentException>(() => store.Append(default, TestEvents.Created, TestEvents.Payload(1)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync(default, TestEvents.Created, TestEvents.Payload(1)).AsTask());
        Assert.Throws<ArgumentException>(() => store.AppendBatch([new(s_alice, TestEvents.Created, TestEvents.Payload(1)), new(default, TestEvents.Created, TestEvents.Payload(2))]));
        Assert.Throws<ArgumentException>(() => store.AppendBatch([]));
        Assert.Throws<ArgumentException>(() => new Coordinate("a\nb", "s"));
        Assert.Throws<ArgumentException>(() => new Coordinate("a", new string('s', Coordinate.MaxLength + 1)));
        Assert.Throws<ArgumentException>(() => new Coordinate("\uD800", "s"));
        Assert.Throws<ArgumentException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1), new AppendOptions { IdempotencyKey = "bad\u0000key" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1), new AppendOptions { ExpectedSequence = -2 }));
        Assert.Throws<ArgumentException>(() => store.Append(s_alice, EventKind.FromValue(0x0001), TestEvents.Payload(1)));
        Assert.Throws<ArgumentException>(() => store.GetLastSequence(""));
        Assert.Throws<ArgumentException>(() => store.Stream("bad\tentity").ToList());
        Assert.Equal(0, store.GetStats().EventCount);
    }

    [SkippableFact]
    public async Task Append_DiskFull_ThrowsWriterCrashedWithTheIOError_KeepsAcknowledgedEvents_AndReopenRecovers()
    {
        using var dir = new TempDirectory();
        using Tmpfs? tmpfs = Tmpfs.TryMount(dir.Combine("tmpfs"), "256k", out string why);
        Skip.If(tmpfs is null, $"mounting a 256 KiB tmpfs failed ({why}); run as root on Linux to test a full disk.");

        string data = Path.Combine(tmpfs.Path, "store");
        var acked = new List<AppendReceipt>();
        WriterCrashedException? failure = null;
        byte[] payload = new byte[1000];
        using (EventStore store = TestEvents.Open(data, o => o.SegmentMaxBytes = 48 * 1024))
        {
            for (int i = 0; i < 2000 && failure is null; i++)
            {
                payload.AsSpan().Fill((byte)i);
                try
                {
                    acked.Add(i % 3 == 0
                        ? await store.AppendAsync(s_alice, TestEvents.Created, payload.ToArray())
                        : store.Append(s_alice, TestEvents.Created, payload, new AppendOptions { Durable = i % 3 == 1 }));
                }
                catch (WriterCrashedException ex)
                {
                    failure = ex;
                }
            }

            Assert.NotNull(failure);
            output.WriteLine($"after {acked.Count} appends: {failure.Message}");
            IOException io = Assert.IsAssignableFrom<IOException>(failure.InnerException);
            Assert.Contains("space", io.Message, StringComparison.OrdinalIgnoreCase);

            // Every later append fails fast with the same typed error; reads keep working.
            Assert.Throws<WriterCrashedException>(() => store.Append(s_alice, TestEvents.Created, payload));
            await Assert.ThrowsAsync<WriterCrashedException>(() => store.AppendAsync(s_alice, TestEvents.Created, payload).AsTask());
            Assert.Throws<WriterCrashedException>(() => store.AppendBatch([new(s_alice, TestEvents.Created, payload)]));
            AssertAcknowledged(store, acked, exact: true);
        }

        // Free space, reopen: recovery cuts whatever the failed write left, and appends go on.
        tmpfs.Resize("4m");
        using (EventStore store = TestEvents.Open(data, o => o.SegmentMaxBytes = 48 * 1024))
        {
            output.WriteLine($"reopened: {store.GetStats().Recovery}");
            AssertAcknowledged(store, acked, exact: true);
            AppendReceipt next = store.Append(s_alice, TestEvents.Created, payload, new AppendOptions { Durable = true });
            Assert.Equal(acked.Count, next.GlobalSequence);
            Assert.True(store.VerifyAll().IsValid);
        }
    }

    [SkippableFact]
    public async Task Append_DiskFullUnderConcurrentAppenders_NoFailedAppendReappearsAfterReopen()
    {
        using var dir = new TempDirectory();
        using Tmpfs? tmpfs = Tmpfs.TryMount(dir.Combine("tmpfs"), "256k", out string why);
        Skip.If(tmpfs is null, $"mounting a 256 KiB tmpfs failed ({why}); run as root on Linux to test a full disk.");

        string data = Path.Combine(tmpfs.Path, "store");
        var acked = new System.Collections.Concurrent.ConcurrentBag<AppendReceipt>();
        int failed = 0;
        using (EventStore store = TestEvents.Open(data, o => o.SegmentMaxBytes = 1024 * 1024))
        {
            // Eight appenders, so the writer combines several appends into one write when the disk fills up.
            Task[] appenders = Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
            {
                var coordinate = new Coordinate($"acct:{t}", "bank");
                for (int i = 0; ; i++)
                {
                    byte[] payload = new byte[700 + (t * 37)];
                    payload.AsSpan().Fill((byte)t);
                    try
                    {
                        acked.Add(i % 2 == 0
                            ? await store.AppendAsync(coordinate, TestEvents.Created, payload)
                            : store.Append(coordinate, TestEvents.Created, payload));
                    }
                    catch (WriterCrashedException)
                    {
                        Interlocked.Increment(ref failed);
                        return;
                    }
                }
            })).ToArray();
            await Task.WhenAll(appenders);
        }

        tmpfs.Resize("4m");
        using EventStore reopened = TestEvents.Open(data, o => o.SegmentMaxBytes = 1024 * 1024);
        output.WriteLine($"{acked.Count} acknowledged, {failed} failed; reopened: {reopened.GetStats().Recovery}");
        List<StoredEvent> all = reopened.ReadPage(0, 100_000).Events.ToList();
        Assert.Equal(acked.OrderBy(r => r.GlobalSequence).Select(r => r.EventId), all.Select(e => e.Id));
        Assert.All(all, e => Assert.True(e.Payload.Span.IndexOfAnyExcept((byte)(e.Coordinate.Entity[^1] - '0')) < 0));
        Assert.True(reopened.VerifyAll().IsValid);
        Assert.Equal(all.Count, reopened.Append(s_alice, TestEvents.Created, TestEvents.Payload(1)).GlobalSequence);
    }

    private static void AssertAcknowledged(EventStore store, List<AppendReceipt> acked, bool exact)
    {
        List<StoredEvent> all = store.ReadPage(0, 100_000).Events.ToList();
        if (exact)
        {
            Assert.Equal(acked.Select(r => r.EventId), all.Select(e => e.Id));
        }

        for (int i = 0; i < acked.Count; i++)
        {
            Assert.Equal(acked[i].EventId, all[i].Id);
            Assert.True(all[i].Payload.Span.IndexOfAnyExcept((byte)i) < 0, $"event {i}'s payload changed");
        }

        Assert.True(store.VerifyAll().IsValid);
    }
}
