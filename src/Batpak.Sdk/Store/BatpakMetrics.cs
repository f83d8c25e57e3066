namespace Batpak;

/// <summary>
/// Names of the <see cref="System.Diagnostics.Metrics.Meter"/> and the instruments an <see cref="EventStore"/>
/// publishes, and the logger category it writes to. Listen with a <c>MeterListener</c>,
/// <c>dotnet-counters monitor --counters Batpak.Sdk</c> or OpenTelemetry's <c>AddMeter(BatpakMetrics.MeterName)</c>.
/// See docs/OBSERVABILITY.md.
/// </summary>
public static class BatpakMetrics
{
    /// <summary>The meter name: <c>Batpak.Sdk</c>.</summary>
    public const string MeterName = "Batpak.Sdk";

    /// <summary>The logger category the store logs under: <c>Batpak.EventStore</c>.</summary>
    public const string LoggerCategory = "Batpak.EventStore";

    /// <summary>Counter (<c>{event}</c>): events appended (written and acknowledged; idempotent repeats are not counted).</summary>
    public const string Appends = "batpak.appends";

    /// <summary>Counter (<c>By</c>): bytes written to segment files by appends (frames, not segment headers).</summary>
    public const string BytesWritten = "batpak.bytes_written";

    /// <summary>Counter (<c>{fsync}</c>): fsync (or fdatasync) calls on the active segment.</summary>
    public const string Fsyncs = "batpak.fsyncs";

    /// <summary>Histogram (<c>s</c>): how long each fsync of the active segment took, in seconds.</summary>
    public const string FsyncDuration = "batpak.fsync.duration";

    /// <summary>Observable gauge (<c>{command}</c>): commands waiting in the writer queue.</summary>
    public const string WriteQueueDepth = "batpak.write_queue.depth";

    /// <summary>Observable counter (<c>{event}</c>): events push subscriptions dropped because their consumer fell behind, since the store opened.</summary>
    public const string SubscriptionDrops = "batpak.subscription.dropped";
}
