using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Batpak.Storage;

/// <summary>
/// The store's logging and metrics: one instance per <see cref="EventStore"/>, created before the writer starts and
/// disposed after it stops. Instrument and category names are in <see cref="BatpakMetrics"/>.
/// </summary>
/// <remarks>
/// <para>Cost: the counters and the histogram are called by the writer (under its write lock) once per batch (not per
/// event), and an instrument nobody listens to costs one branch. Logging uses source-generated
/// <see cref="LoggerMessageAttribute"/> methods, which check <c>IsEnabled</c> before formatting.</para>
/// <para>Meter ownership: with an <see cref="IMeterFactory"/> (the DI container's), the factory owns and disposes the
/// meter; without one the store creates its own and disposes it with itself. Observable instruments read the store
/// through callbacks that report nothing once the store is disposed, so a factory-owned meter that outlives the
/// store never touches a closed store.</para>
/// </remarks>
internal sealed partial class StoreTelemetry : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _appends;
    private readonly Counter<long> _bytesWritten;
    private readonly Counter<long> _fsyncs;
    private readonly Histogram<double> _fsyncDuration;
    private readonly long _slowSyncTicks;
    private volatile bool _disposed;

    public StoreTelemetry(string directory, TimeSpan slowSyncThreshold, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        DataDirectory = directory;
        Logger = loggerFactory?.CreateLogger(BatpakMetrics.LoggerCategory) ?? NullLogger.Instance;
        _slowSyncTicks = (long)(slowSyncThreshold.TotalSeconds * Stopwatch.Frequency);
        var meterOptions = new MeterOptions(BatpakMetrics.MeterName) { Version = typeof(StoreTelemetry).Assembly.GetName().Version?.ToString() };
        if (meterFactory is not null)
        {
            _meter = meterFactory.Create(meterOptions);
        }
        else
        {
            _meter = new Meter(meterOptions);
            _ownsMeter = true;
        }

        _appends = _meter.CreateCounter<long>(BatpakMetrics.Appends, "{event}", "Events appended to the store.");
        _bytesWritten = _meter.CreateCounter<long>(BatpakMetrics.BytesWritten, "By", "Bytes of frames written to segment files.");
        _fsyncs = _meter.CreateCounter<long>(BatpakMetrics.Fsyncs, "{fsync}", "fsync calls on the active segment.");
        _fsyncDuration = _meter.CreateHistogram<double>(BatpakMetrics.FsyncDuration, "s", "Duration of each fsync of the active segment.");
    }

    public string DataDirectory { get; }

    public ILogger Logger { get; }

    /// <summary>Publishes the observable instruments; the callbacks run on the collecting thread.</summary>
    public void Observe(Func<int> queueDepth, Func<long> subscriptionDrops)
    {
        _meter.CreateObservableGauge(BatpakMetrics.WriteQueueDepth, () => _disposed ? [] : new[] { new Measurement<int>(queueDepth()) }, "{command}", "Commands waiting in the writer queue.");
        _meter.CreateObservableCounter(BatpakMetrics.SubscriptionDrops, () => _disposed ? [] : new[] { new Measurement<long>(subscriptionDrops()) }, "{event}", "Events dropped by push subscriptions whose consumer fell behind.");
    }

    /// <summary>Writer, under its write lock: a batch of <paramref name="count"/> events was written and acknowledged.</summary>
    public void Appended(int count)
    {
        if (count > 0)
        {
            _appends.Add(count);
        }
    }

    /// <summary>Writer, under its write lock: <paramref name="bytes"/> were written to the active segment.</summary>
    public void Written(int bytes) => _bytesWritten.Add(bytes);

    /// <summary>Writer, under its write lock: an fsync that started at <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>) finished.</summary>
    public void Synced(long startTimestamp, int segmentId)
    {
        long elapsed = Stopwatch.GetTimestamp() - startTimestamp;
        _fsyncs.Add(1);
        if (_fsyncDuration.Enabled)
        {
            _fsyncDuration.Record((double)elapsed / Stopwatch.Frequency);
        }

        if (elapsed > _slowSyncTicks)
        {
            LogSlowSync(Logger, segmentId, (double)elapsed * 1000 / Stopwatch.Frequency, DataDirectory);
        }
    }

    public void WriterFaulted(Exception error) => LogWriterFaulted(Logger, DataDirectory, error);

    public void WriterRestarted(Exception error, long restarts) => LogWriterRestarted(Logger, DataDirectory, restarts, error);

    public void Recovered(RecoveryReport report)
    {
        if (report.TruncatedBytes > 0)
        {
            LogTruncated(Logger, report.TruncatedBytes, report.TruncatedAtOffset, report.TruncationReason ?? "torn frame", DataDirectory);
        }

        LogOpened(Logger, DataDirectory, report.SegmentsScanned);
    }

    public void Compacted(CompactionResult result) =>
        LogCompacted(Logger, result.SegmentsBefore, result.SegmentsAfter, result.EventsKept, result.EventsDropped, result.EventsTombstoned, result.BytesBefore, result.BytesAfter, DataDirectory);

    public void Dispose()
    {
        _disposed = true;
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    [LoggerMessage(EventId = 1, EventName = "RecoveryTruncated", Level = LogLevel.Warning,
        Message = "Recovery cut {TruncatedBytes} bytes off the last segment at offset {Offset} ({Reason}) in {Directory}; those appends were never acknowledged")]
    private static partial void LogTruncated(ILogger logger, long truncatedBytes, long offset, string reason, string directory);

    [LoggerMessage(EventId = 2, EventName = "StoreOpened", Level = LogLevel.Debug,
        Message = "Opened the store in {Directory}: {SegmentsScanned} segment(s) scanned")]
    private static partial void LogOpened(ILogger logger, string directory, int segmentsScanned);

    [LoggerMessage(EventId = 3, EventName = "WriterFaulted", Level = LogLevel.Critical,
        Message = "The writer of the store in {Directory} failed; appends are rejected with WriterCrashedException until the store is reopened (reads still work)")]
    private static partial void LogWriterFaulted(ILogger logger, string directory, Exception error);

    [LoggerMessage(EventId = 6, EventName = "WriterRestarted", Level = LogLevel.Error,
        Message = "The writer of the store in {Directory} failed a batch and restarted (restart {Restarts}): the failed batch's appends got WriterCrashedException, acknowledged data was re-verified, appends continue")]
    private static partial void LogWriterRestarted(ILogger logger, string directory, long restarts, Exception error);

    [LoggerMessage(EventId = 4, EventName = "SlowFsync", Level = LogLevel.Warning,
        Message = "fsync of segment {SegmentId} took {ElapsedMilliseconds:F1} ms in {Directory}")]
    private static partial void LogSlowSync(ILogger logger, int segmentId, double elapsedMilliseconds, string directory);

    [LoggerMessage(EventId = 5, EventName = "Compacted", Level = LogLevel.Information,
        Message = "Compaction rewrote {SegmentsBefore} segment(s) into {SegmentsAfter}: {Kept} kept, {Dropped} dropped, {Tombstoned} tombstoned, {BytesBefore} -> {BytesAfter} bytes in {Directory}")]
    private static partial void LogCompacted(ILogger logger, int segmentsBefore, int segmentsAfter, long kept, long dropped, long tombstoned, long bytesBefore, long bytesAfter, string directory);
}
