namespace Batpak.Tests.Faults;

public class WriterRestartTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");

    private static Action<string> FailOnce(string operation)
    {
        int armed = 1;
        return op =>
        {
            if (op == operation && Interlocked.Exchange(ref armed, 0) == 1)
            {
                throw new IOException($"injected {op} failure (No space left on device)");
            }
        };
    }

    [Fact]
    public void Append_WriteFailsOnce_CallerGetsWriterCrashed_ThenTheWriterRestartsAndAppendsContinue()
    {
        using var dir = new TempDirectory();
        var acknowledged = new List<AppendReceipt>();
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            for (int i = 0; i < 5; i++)
            {
                acknowledged.Add(store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i)));
            }

            store.Writer.FaultInjector = FailOnce("write");
            var ex = Assert.Throws<WriterCrashedException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(99)));
            Assert.IsType<IOException>(ex.InnerException);
            Assert.Contains("not acknowledged", ex.Message, StringComparison.Ordinal);

            AppendReceipt after = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(5));
            acknowledged.Add(after);
            Assert.Equal(5, after.EntitySequence);
            Assert.Equal(5, after.GlobalSequence);
            StoreStats stats = store.GetStats();
            Assert.Equal(1, stats.WriterRestarts);
            Assert.False(stats.IsWriterFaulted);
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        Assert.Equal(acknowledged.Select(r => r.EventId), reopened.ReadPage(0).Events.Select(e => e.Id));
        Assert.Equal(0, reopened.GetStats().Recovery.TruncatedBytes);
        Assert.True(reopened.VerifyAll().IsValid);
    }

    [Fact]
    public void AppendBatch_FailsAfterRotatingMidBatch_RestartRemovesTheNewSegmentAndTheBatch()
    {
        using var dir = new TempDirectory();
        var acknowledged = new List<AppendReceipt>();
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096))
        {
            for (int i = 0; i < 20; i++)
            {
                acknowledged.Add(store.Append(s_alice, TestEvents.Created, new byte[100]));
            }

            int segmentsBefore = store.GetStats().SegmentCount;
            bool rotated = false;
            bool sawRotation = false;
            store.Writer.FaultInjector = op =>
            {
                if (op == "rotate")
                {
                    rotated = true;
                    sawRotation = true;
                }
                else if (op == "write" && rotated)
                {
                    rotated = false;
                    throw new IOException("injected write failure after rotation");
                }
            };

            EventData[] batch = Enumerable.Range(0, 10).Select(_ => new EventData(s_alice, TestEvents.Created, new byte[100])).ToArray();
            Assert.Throws<WriterCrashedException>(() => store.AppendBatch(batch));
            Assert.True(sawRotation, "the batch must have started a new segment before failing");
            Assert.Equal(segmentsBefore, store.GetStats().SegmentCount);
            store.Writer.FaultInjector = null;
            acknowledged.Add(store.Append(s_alice, TestEvents.Updated, new byte[10]));
        }

        using EventStore reopened = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096);
        Assert.Equal(acknowledged.Select(r => r.EventId), reopened.ReadPage(0).Events.Select(e => e.Id));
        Assert.True(reopened.VerifyAll().IsValid);
    }

    [Fact]
    public async Task AppendAsync_FsyncFails_IsReportedNotAcknowledged_AndTheWriterRestarts()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path, o => o.SyncEveryNEvents = 1_000_000);
        store.Writer.FaultInjector = FailOnce("sync");
        await Assert.ThrowsAsync<WriterCrashedException>(async () => await store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(0)));
        AppendReceipt ok = await store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(1));
        Assert.Equal(0, ok.GlobalSequence);
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public void Append_FailuresBeyondTheRestartLimit_FaultTheWriter_ReadsStillWork()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path, o => o.WriterRestartLimit = 1);
        AppendReceipt kept = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0));
        store.Writer.FaultInjector = op =>
        {
            if (op == "write")
            {
                throw new IOException("injected: disk is gone");
            }
        };

        Assert.Throws<WriterCrashedException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1))); // restart 1
        Assert.Throws<WriterCrashedException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(2))); // limit reached: faulted
        store.Writer.FaultInjector = null;
        var ex = Assert.Throws<WriterCrashedException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(3)));
        Assert.Contains("Reopen the store", ex.Message, StringComparison.Ordinal);
        Assert.True(store.GetStats().IsWriterFaulted);
        Assert.Equal(kept.EventId, store.Get(kept.EventId).Id);
        Assert.Single(store.Stream(s_alice.Entity));
    }

    [Fact]
    public void Append_RestartsDisabled_FirstFailureFaultsTheWriter_ReopenRecovers()
    {
        using var dir = new TempDirectory();
        using (EventStore store = TestEvents.Open(dir.Path, o => o.WriterRestartLimit = 0))
        {
            store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0));
            store.Writer.FaultInjector = FailOnce("write");
            Assert.Throws<WriterCrashedException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1)));
            Assert.Throws<WriterCrashedException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(2)));
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        Assert.Equal(1, reopened.GetStats().EventCount);
        Assert.Equal(1, reopened.Append(s_alice, TestEvents.Created, TestEvents.Payload(3)).EntitySequence);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Append_RotationFails_TheAppendThatRotatesGetsWriterCrashed_AndDoesNotWaitForever(bool batch)
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096);
        while (store.GetStats().SegmentCount == 1 && store.Writer.ActiveSegmentId == 1 && store.GetStats().BytesOnDisk < 3000)
        {
            store.Append(s_alice, TestEvents.Created, new byte[100]);
        }

        store.Writer.FaultInjector = FailOnce("rotate");
        Task<bool> attempt = Task.Run(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    if (batch)
                    {
                        store.AppendBatch([new EventData(s_alice, TestEvents.Created, new byte[100]), new EventData(s_alice, TestEvents.Created, new byte[100])]);
                    }
                    else
                    {
                        store.Append(s_alice, TestEvents.Created, new byte[100]);
                    }
                }
                catch (WriterCrashedException)
                {
                    return true;
                }
            }

            return false;
        });

        bool crashed = await attempt.WaitAsync(TimeSpan.FromSeconds(30)); // a TimeoutException: the append whose rotation failed never returned
        Assert.True(crashed, "no append reached the rotation");
        store.Writer.FaultInjector = null;
        long before = store.GetStats().EventCount;
        store.Append(s_alice, TestEvents.Created, new byte[100]); // the writer restarted
        Assert.Equal(before + 1, store.GetStats().EventCount);
        Assert.True(store.VerifyAll().IsValid);
    }
}
