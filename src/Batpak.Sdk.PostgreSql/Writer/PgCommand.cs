// One caller's append waiting in the PostgreSQL writer's queue: a single event or an atomic batch, and the task its
// caller waits on. Created by PgWriter's entry points, staged by GroupStager, completed by PgWriter.
namespace Batpak.PostgreSql.Writer;

/// <summary>An append (one event or an atomic batch) queued for the writer.</summary>
internal sealed class PgCommand
{
    private readonly TaskCompletionSource<AppendReceipt> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PgCommand(EventData[] events, bool durable, bool isBatch, AppendReceipt[]? receipts)
    {
        Events = events;
        Durable = durable;
        IsBatch = isBatch;
        Receipts = receipts is not null && receipts.Length >= events.Length ? receipts : new AppendReceipt[events.Length];
        foreach (EventData e in events)
        {
            PayloadBytes += e.Payload.Length;
        }
    }

    /// <summary>The events, in order (one for a single append).</summary>
    public EventData[] Events { get; }

    /// <summary>Whether the caller asked for a durable commit (synchronous_commit on).</summary>
    public bool Durable { get; }

    /// <summary>An atomic batch (every event or none) rather than a single append.</summary>
    public bool IsBatch { get; }

    /// <summary>The receipts, one per event, filled by staging.</summary>
    public AppendReceipt[] Receipts { get; }

    /// <summary>The payload bytes of all events (for the group cap).</summary>
    public long PayloadBytes { get; }

    /// <summary>Set by staging when the command failed its checks; answered once the group's outcome is known.</summary>
    public Exception? Failure { get; set; }

    /// <summary>The failure depends on an event staged earlier in the same group: if that group fails, the group's failure wins.</summary>
    public bool FailureAwaitsGroup { get; set; }

    /// <summary>Completes when the command's outcome is known.</summary>
    public Task<AppendReceipt> Task => _completion.Task;

    /// <summary>A single append.</summary>
    public static PgCommand Single(in Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions options) =>
        new([new EventData(coordinate, kind, payload, options)], options.Durable, isBatch: false, receipts: null);

    /// <summary>An atomic batch, answered in <paramref name="receipts"/> when it is long enough.</summary>
    public static PgCommand Batch(IReadOnlyList<EventData> events, bool durable, AppendReceipt[]? receipts) =>
        new([.. events], durable, isBatch: true, receipts);

    /// <summary>Answers the caller with the first receipt.</summary>
    public void Succeed() => _completion.TrySetResult(Receipts[0]);

    /// <summary>Answers the caller with <paramref name="error"/>.</summary>
    public void Fail(Exception error) => _completion.TrySetException(error);
}
