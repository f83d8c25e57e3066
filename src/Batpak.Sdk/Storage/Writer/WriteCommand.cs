using System.Buffers;

namespace Batpak.Storage;

/// <summary>What a <see cref="WriteCommand"/> asks of the writer.</summary>
internal enum CommandKind
{
    /// <summary>One event (<see cref="WriteCommand.Coordinate"/>, <see cref="WriteCommand.EventKind"/>, <see cref="WriteCommand.Payload"/>).</summary>
    Append,

    /// <summary>Fsync the active segment.</summary>
    Sync,

    /// <summary>Fsync, then copy the acknowledged segments to <see cref="WriteCommand.Destination"/>.</summary>
    Snapshot,

    /// <summary>An atomic batch (<see cref="WriteCommand.Batch"/>): all its events or none.</summary>
    AppendBatch,
}

/// <summary>
/// One request to the writer and its reply slot; this file holds the request and its recycling, WriteCommand.Reply.cs
/// the reply. Filled in by <see cref="EventStore"/>'s append methods, read by whoever holds the writer's write lock
/// (<see cref="StoreWriter"/>, <see cref="BatchStager"/>), which answers it exactly once.
/// </summary>
/// <remarks>
/// A synchronous caller reuses one instance per thread (<see cref="RentSync"/>, <see cref="Abandon"/>) and blocks on
/// the reply; an asynchronous caller gets a fresh one (<see cref="CreateAsync"/>) and awaits it as an
/// <see cref="System.Threading.Tasks.Sources.IValueTaskSource{TResult}"/>. The request fields are written by the
/// caller before the command is queued or executed and read only by the write-lock holder until the reply.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "ManualResetEventSlim allocates no kernel handle unless WaitHandle is read, which this type never does; commands live as long as their thread.")]
internal sealed partial class WriteCommand
{
    [ThreadStatic]
#pragma warning disable IDE1006 // t_ marks a [ThreadStatic] (runtime convention); .editorconfig cannot tell thread statics apart
    private static WriteCommand? t_cached; // this thread's synchronous command while it is not in flight
#pragma warning restore IDE1006

    public CommandKind Kind; // what is asked
    public bool IsAsync; // answered through the IValueTaskSource (else by waking the blocked caller)
    public Coordinate Coordinate; // Append: the event's entity and scope
    public EventKind EventKind; // Append: the event's kind
    public ReadOnlyMemory<byte> Payload; // Append: the event's payload (the caller's memory, or RentedPayload)
    public byte[]? RentedPayload; // a pooled copy of the payload owned by the command (CopyPayload), returned on recycle
    public AppendOptions Options = AppendOptions.Default; // Append: expectation, cause, key, flags
    public bool Durable; // fsync before the reply
    public string? Destination; // Snapshot: the directory the segments are copied to
    public IReadOnlyList<EventData>? Batch; // AppendBatch: the events
    public AppendReceipt[]? BatchReceipts; // AppendBatch: one receipt per event, filled in by the writer (the caller's pooled array, or allocated by staging)

    /// <summary>A synchronous append command for this thread (reused; the thread is blocked while it is in flight).</summary>
    public static WriteCommand RentSync()
    {
        WriteCommand command = t_cached ?? new WriteCommand();
        t_cached = null;
        command.IsAsync = false;
        command._done.Reset();
        command._error = null;
        command._signaled = false;
        return command;
    }

    /// <summary>A new command for one asynchronous call (never reused).</summary>
    public static WriteCommand CreateAsync()
    {
        var command = new WriteCommand { IsAsync = true };
        return command;
    }

    /// <summary>Copies the payload into a pooled array owned by the command.</summary>
    public void CopyPayload(ReadOnlySpan<byte> payload)
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(Math.Max(payload.Length, 1));
        payload.CopyTo(rented);
        RentedPayload = rented;
        Payload = rented.AsMemory(0, payload.Length);
    }

    /// <summary>Fills in an append.</summary>
    public void SetAppend(in Coordinate coordinate, EventKind kind, AppendOptions options, bool durable)
    {
        Kind = CommandKind.Append;
        Coordinate = coordinate;
        EventKind = kind;
        Options = options;
        Durable = durable;
    }

    /// <summary>Recycles a synchronous command: after its reply was read, or when it was never queued.</summary>
    public void Abandon()
    {
        ReleasePayload();
        Options = AppendOptions.Default;
        Destination = null;
        Batch = null;
        BatchReceipts = null;
        _error = null;
        t_cached = this;
    }

    /// <summary>Returns the pooled payload copy, if any, and forgets the payload.</summary>
    public void ReleasePayload()
    {
        if (RentedPayload is not null)
        {
            ArrayPool<byte>.Shared.Return(RentedPayload);
            RentedPayload = null;
        }

        Payload = default;
    }
}
