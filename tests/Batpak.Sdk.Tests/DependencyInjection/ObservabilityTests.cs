using System.Diagnostics.Metrics;
using Batpak.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Batpak.Tests.DependencyInjection;

public class ObservabilityTests
{
    private static readonly Coordinate s_member = new("member:obs", "default");

    private static EventStore Open(string path, CollectingLoggerFactory? logs, TestMeterFactory? meters, Action<BatpakOptions>? configure = null)
    {
        var options = new BatpakOptions { DataDirectory = path };
        configure?.Invoke(options);
        return new EventStore(options, null, logs, meters);
    }

    [Fact]
    public void Appends_FireTheCounters_TheFsyncHistogram_AndTheObservableInstruments()
    {
        using var dir = new TempDirectory();
        using var meters = new TestMeterFactory();
        using var collector = new MeterCollector(meters);
        using (EventStore store = Open(dir.Path, null, meters))
        {
            for (int i = 0; i < 5; i++)
            {
                store.Append(s_member, TestEvents.Created, TestEvents.Payload(i));
            }

            store.Append(s_member, TestEvents.Created, TestEvents.Payload(5), new AppendOptions { Durable = true });
            store.Append(s_member, TestEvents.Created, TestEvents.Payload(6), new AppendOptions { IdempotencyKey = "k" });
            store.Append(s_member, TestEvents.Created, TestEvents.Payload(6), new AppendOptions { IdempotencyKey = "k" }); // a repeat: not counted
            collector.RecordObservables();
        }

        Assert.Equal(7, collector.Of(BatpakMetrics.Appends).Sum());
        Assert.True(collector.Of(BatpakMetrics.BytesWritten).Sum() > 7 * TestEvents.Payload(0).Length);
        Assert.True(collector.Of(BatpakMetrics.Fsyncs).Sum() >= 1);
        IReadOnlyList<double> durations = collector.Of(BatpakMetrics.FsyncDuration);
        Assert.NotEmpty(durations);
        Assert.All(durations, d => Assert.InRange(d, 0, 60));
        Assert.Equal([0.0], collector.Of(BatpakMetrics.WriteQueueDepth));
        Assert.Equal([0.0], collector.Of(BatpakMetrics.SubscriptionDrops));
        Assert.Contains(collector.Measurements, m => m.Instrument == BatpakMetrics.FsyncDuration && m.Unit == "s");
    }

    [Fact]
    public async Task SubscriptionDrops_AreObservable_AlsoAfterTheSubscriptionIsDisposed()
    {
        using var dir = new TempDirectory();
        using var meters = new TestMeterFactory();
        using var collector = new MeterCollector(meters);
        using EventStore store = Open(dir.Path, null, meters);
        Subscription slow = store.Subscribe(Region.All, capacity: 1);
        for (int i = 0; i < 20; i++)
        {
            store.Append(s_member, TestEvents.Created, TestEvents.Payload(i));
        }

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (slow.DroppedCount < 19 && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        Assert.Equal(19, slow.DroppedCount);
        slow.Dispose();
        collector.RecordObservables();

        Assert.Equal([19.0], collector.Of(BatpakMetrics.SubscriptionDrops));
    }

    [Fact]
    public void WithoutAMeterFactory_TheStoreOwnsAMeterNamedBatpakSdk()
    {
        using var dir = new TempDirectory();
        var published = new List<Instrument>();
        using var listener = new MeterListener();
        EventStore? store = null;
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name == BatpakMetrics.MeterName && instrument.Meter.Scope is null)
            {
                lock (published)
                {
                    published.Add(instrument);
                }
            }
        };
        listener.Start();
        using (store = EventStore.Open(dir.Path))
        {
            lock (published)
            {
                Assert.Contains(published, i => i.Name == BatpakMetrics.Appends);
                Assert.Contains(published, i => i.Name == BatpakMetrics.WriteQueueDepth);
            }
        }
    }

    [Fact]
    public void SlowFsync_AboveTheThreshold_IsLoggedAsAWarning()
    {
        using var dir = new TempDirectory();
        var logs = new CollectingLoggerFactory();
        using (EventStore store = Open(dir.Path, logs, null, o => o.SlowSyncThreshold = TimeSpan.Zero))
        {
            store.Append(s_member, TestEvents.Created, TestEvents.Payload(1), new AppendOptions { Durable = true });
        }

        LogEntry entry = logs.Named("SlowFsync")[0];
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal(BatpakMetrics.LoggerCategory, entry.Category);
        Assert.Contains("fsync of segment 1 took", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultThreshold_DoesNotLogOrdinaryFsyncs()
    {
        using var dir = new TempDirectory();
        var logs = new CollectingLoggerFactory();
        using (EventStore store = Open(dir.Path, logs, null, o => o.SlowSyncThreshold = TimeSpan.FromMinutes(1)))
        {
            store.Append(s_member, TestEvents.Created, TestEvents.Payload(1), new AppendOptions { Durable = true });
        }

        Assert.Empty(logs.Named("SlowFsync"));
        Assert.Single(logs.Named("StoreOpened"));
    }

    [Fact]
    public void RecoveryTruncation_IsLoggedAtOpen()
    {
        using var dir = new TempDirectory();
        AppendReceipt last;
        using (EventStore store = EventStore.Open(dir.Path))
        {
            store.Append(s_member, TestEvents.Created, TestEvents.Payload(1));
            last = store.Append(s_member, TestEvents.Created, TestEvents.Payload(2));
        }

        using (var stream = new FileStream(dir.Combine("000001.fbat"), FileMode.Open))
        {
            stream.SetLength(last.Position.Offset + last.Position.Length - 3);
        }

        var logs = new CollectingLoggerFactory();
        using (Open(dir.Path, logs, null))
        {
        }

        LogEntry entry = Assert.Single(logs.Named("RecoveryTruncated"));
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains($"cut {last.Position.Length - 3} bytes off the last segment at offset {last.Position.Offset}", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compaction_IsLoggedWithItsResult()
    {
        using var dir = new TempDirectory();
        var logs = new CollectingLoggerFactory();
        using EventStore store = Open(dir.Path, logs, null, o => o.SegmentMaxBytes = 4096);
        for (int i = 0; i < 200; i++)
        {
            store.Append(s_member, TestEvents.Created, TestEvents.Payload(i));
        }

        CompactionResult result = store.Compact(new CompactionOptions { Retain = e => e.Header.GlobalSequence % 2 == 0 });
        Assert.True(result.EventsDropped > 0);

        LogEntry entry = Assert.Single(logs.Named("Compacted"));
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Contains($"rewrote {result.SegmentsBefore} segment(s) into {result.SegmentsAfter}: {result.EventsKept} kept, {result.EventsDropped} dropped", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriterFault_WithoutRestart_IsLoggedAsCritical()
    {
        using var dir = new TempDirectory();
        var logs = new CollectingLoggerFactory();
        using EventStore store = Open(dir.Path, logs, null, o => o.WriterRestartLimit = 0);
        store.Append(s_member, TestEvents.Created, TestEvents.Payload(1));
        store.Writer.FaultInjector = op => throw new IOException($"injected {op} failure");

        Assert.Throws<WriterCrashedException>(() => store.Append(s_member, TestEvents.Created, TestEvents.Payload(2)));

        LogEntry entry = Assert.Single(logs.Named("WriterFaulted"));
        Assert.Equal(LogLevel.Critical, entry.Level);
        Assert.IsType<IOException>(entry.Exception);
        Assert.Empty(logs.Named("WriterRestarted"));
    }

    [Fact]
    public void WriterFailure_WithRestart_IsLoggedAsAnErrorAndAppendsContinue()
    {
        using var dir = new TempDirectory();
        var logs = new CollectingLoggerFactory();
        using EventStore store = Open(dir.Path, logs, null);
        int failures = 1;
        store.Writer.FaultInjector = op =>
        {
            if (op == "write" && Interlocked.Exchange(ref failures, 0) == 1)
            {
                throw new IOException("injected write failure");
            }
        };

        Assert.Throws<WriterCrashedException>(() => store.Append(s_member, TestEvents.Created, TestEvents.Payload(1)));
        store.Append(s_member, TestEvents.Created, TestEvents.Payload(2));

        LogEntry entry = Assert.Single(logs.Named("WriterRestarted"));
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Contains("restart 1", entry.Message, StringComparison.Ordinal);
        Assert.Empty(logs.Named("WriterFaulted"));
    }

    [Fact]
    public void AddBatpak_PassesTheContainersLoggerFactoryAndMeterFactoryToTheStore()
    {
        using var dir = new TempDirectory();
        var logs = new CollectingLoggerFactory();
        using var meters = new TestMeterFactory();
        using var collector = new MeterCollector(meters);
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddSingleton<IMeterFactory>(meters);
        services.AddBatpak(o =>
        {
            o.DataDirectory = dir.Path;
            o.SlowSyncThreshold = TimeSpan.Zero;
        });
        using (ServiceProvider provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IEventStore>().Append(new MemberJoined("obs", "Olive"), new AppendOptions { Durable = true });
        }

        Assert.NotEmpty(logs.Named("SlowFsync"));
        Assert.Equal(1, collector.Of(BatpakMetrics.Appends).Sum());
    }
}
