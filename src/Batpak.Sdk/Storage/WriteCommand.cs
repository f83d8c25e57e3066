using System.Buffers;
using System.Threading.Tasks.Sources;

namespace Batpak.Storage;

internal enum CommandKind
{
    Append,
    Sync,
    Snapshot,
    AppendBatch,
}

/// <summary>
/// One request to the writer thread and its reply slot. A synchronous caller reuses one instance per thread and
/// blocks on <see cref="_done"/> (spin, then sleep); an asynchronous caller awaits it as an
/// <see cref="IValueTaskSource{TResult}"/> whose continuations never run on the writer thread.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "ManualResetEventSlim allocates no kernel handle unless WaitHandle is read, which this type never does; commands live as long as their thread.")]
internal sealed class WriteCommand : IValueTaskSource<AppendReceipt>
{
    [ThreadStatic]
#pragma warning disable IDE1006 // t_ marks a [ThreadStatic] (runtime convention); .editorconfig cannot tell thread statics apart
    private static WriteCommand? t_cached;
#pragma warning restore IDE1006

    private readonly ManualResetEventSlim _done = new(false, spinCount: 200);
    private ManualResetValueTaskSourceCore<AppendReceipt> _core = new() { RunContinuationsAsynchronously = true };
    private AppendReceipt _result;
    private Exception? _error;

    public CommandKind Kind;
    public bool IsAsync;
    public Coordinate Coordinate;
    public EventKind EventKind;
    public ReadOnlyMemory<byte> Payload;
    public byte[]? RentedPayload;
    public AppendOptions Options = AppendOptions.Default;
    public bool Durable;
    public string? Destination;
    public IReadOnlyList<EventData>? Batch;
    public AppendReceipt[]? BatchReceipts;
    private bool _signaled;

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

    public short Version => _core.Version;

    /// <summary>True once a synchronous command has its reply.</summary>
    public bool IsCompleted => _done.IsSet;

    public void Succeed(in AppendReceipt receipt)
    {
        _result = receipt;
        Signal();
    }

    public void Fail(Exception error)
    {
        _error = error;
        Signal();
    }

    private void Signal()
    {
        if (_signaled)
        {
            // The writer answers each use of a command exactly once (StoreWriter completes a batch at its last
            // staged event and fails each unanswered command once). This guard is only a backstop within one use;
            // it cannot tell a stale reply from a new use once RentSync has reset it.
            return;
        }

        _signaled = true;
        if (IsAsync)
        {
            if (_error is null)
            {
                _core.SetResult(_result);
            }
            else
            {
                _core.SetException(_error);
            }
        }
        else
        {
            _done.Set();
        }
    }

    /// <summary>Blocks the calling (synchronous) thread until the writer replies, then recycles the command.</summary>
    public AppendReceipt WaitAndRecycle()
    {
        _done.Wait();
        Exception? error = _error;
        AppendReceipt result = _result;
        Abandon();
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        return result;
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

    /// <summary>Blocks until a batch command is answered; returns its receipts and recycles the command.</summary>
    public AppendReceipt[] WaitBatchAndRecycle()
    {
        _done.Wait();
        AppendReceipt[]? receipts = BatchReceipts;
        WaitAndRecycle(); // throws the batch's error, if any
        return receipts!;
    }

    public void ReleasePayload()
    {
        if (RentedPayload is not null)
        {
            ArrayPool<byte>.Shared.Return(RentedPayload);
            RentedPayload = null;
        }

        Payload = default;
    }

    AppendReceipt IValueTaskSource<AppendReceipt>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<AppendReceipt>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<AppendReceipt>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
